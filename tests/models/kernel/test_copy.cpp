// inc_copyto / inc_copyfrom through buffer handles (Appendix B.4.2).
#include <vector>

#include "tests/support/sim_fixture.hpp"

using namespace equus::kernel;

namespace equus::test {

namespace {
std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 13 + seed) & 0xff);
  return v;
}
}  // namespace

TEST_F(SimTest, CopyToAndFromLandInTheOwnersBuffer) {
  std::vector<std::byte> owned(4096, std::byte{0});
  auto data_in = pattern(1000, 1);
  std::vector<std::byte> fetched(500);
  int to_rc = -100, from_rc = -100, handle = 0;
  auto& owner = sys().spawn(2, "owner", [&](Equus& eq) { eq.inc_sleep(1000); });  // alive while copied to
  auto& holder = sys().create(1, "holder", [&](Equus& eq) {
    to_rc = eq.inc_copyto(handle, 100, data_in.data(), 1000);
    // The owner's buffer now holds data_in at 100..1099: read some of it back, across its edge.
    from_rc = eq.inc_copyfrom(handle, 1000, fetched.data(), 500);
  });
  handle = sys().bootstrap_buffer_handle(holder, owner, Buf{owned.data(), 4096}, true);
  sys().start(holder);
  run();
  EXPECT_EQ(to_rc, E_OK);
  EXPECT_EQ(from_rc, E_OK);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(owned[i], std::byte{0});
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(owned[100 + i], data_in[i]) << i;
  for (int i = 1100; i < 4096; ++i) ASSERT_EQ(owned[i], std::byte{0});
  for (int i = 0; i < 500; ++i) ASSERT_EQ(fetched[i], owned[1000 + i]) << i;
}

TEST_F(SimTest, CopyFromLargeBufferIsIntact) {
  auto owned = pattern(150000, 5);  // over the 64 kB copied per kernel message
  std::vector<std::byte> fetched(150000);
  int rc = -100, handle = 0;
  auto& owner = sys().spawn(3, "owner", [&](Equus& eq) { eq.inc_sleep(1000); });  // alive while copied to
  auto& holder =
      sys().create(6, "holder", [&](Equus& eq) { rc = eq.inc_copyfrom(handle, 0, fetched.data(), 150000); });
  handle = sys().bootstrap_buffer_handle(holder, owner, Buf{owned.data(), 150000}, false);
  sys().start(holder);
  run();
  EXPECT_EQ(rc, E_OK);
  EXPECT_TRUE(fetched == owned);
}

TEST_F(SimTest, CopyOnTheSameNodeWorks) {
  std::vector<std::byte> owned(256, std::byte{0});
  auto data_in = pattern(64, 3);
  int rc = -100, handle = 0;
  auto& owner = sys().spawn(4, "owner", [&](Equus& eq) { eq.inc_sleep(1000); });  // alive while copied to
  auto& holder =
      sys().create(4, "holder", [&](Equus& eq) { rc = eq.inc_copyto(handle, 192, data_in.data(), 64); });
  handle = sys().bootstrap_buffer_handle(holder, owner, Buf{owned.data(), 256}, true);
  sys().start(holder);
  run();
  EXPECT_EQ(rc, E_OK);
  EXPECT_TRUE(std::equal(data_in.begin(), data_in.end(), owned.begin() + 192));
}

TEST_F(SimTest, CopyRangeAndPermissionErrors) {
  std::vector<std::byte> owned(1024, std::byte{7});
  std::vector<std::byte> local(2048, std::byte{1}), sink(2048);
  int ro = 0, rw = 0;
  int ro_to = -100, ro_from = -100, off_to = -100, off_from = -100, end_to = -100, exact = -100, bad = -100,
      huge = -100;
  auto& owner = sys().spawn(2, "owner", [&](Equus& eq) { eq.inc_sleep(1000); });  // alive while copied to
  auto& holder = sys().create(1, "holder", [&](Equus& eq) {
    ro_to = eq.inc_copyto(ro, 0, local.data(), 16);              // read-only handle
    ro_from = eq.inc_copyfrom(ro, 0, sink.data(), 16);           // reading is allowed
    off_to = eq.inc_copyto(rw, 1024, local.data(), 1);           // offset at the end
    off_from = eq.inc_copyfrom(rw, 2000, sink.data(), 1);        // offset beyond the end
    end_to = eq.inc_copyto(rw, 1000, local.data(), 25);          // runs past the end
    exact = eq.inc_copyto(rw, 1000, local.data(), 24);           // ends exactly at the end
    huge = eq.inc_copyfrom(rw, 0xFFFFFFF0u, sink.data(), 0x20);  // would wrap in 32 bits
    bad = eq.inc_copyto(rw + ro + 1000, 0, local.data(), 1);
  });
  ro = sys().bootstrap_buffer_handle(holder, owner, Buf{owned.data(), 1024}, false);
  rw = sys().bootstrap_buffer_handle(holder, owner, Buf{owned.data(), 1024}, true);
  sys().start(holder);
  run();
  EXPECT_EQ(ro_to, E_RANGE);
  EXPECT_EQ(ro_from, E_OK);
  EXPECT_EQ(off_to, E_RANGE);
  EXPECT_EQ(off_from, E_RANGE);
  EXPECT_EQ(end_to, E_RANGE);
  EXPECT_EQ(exact, E_OK);
  EXPECT_EQ(huge, E_RANGE);
  EXPECT_EQ(bad, E_BADREF);
  EXPECT_EQ(owned[999], std::byte{7});
  EXPECT_EQ(owned[1000], std::byte{1});
  EXPECT_EQ(owned[1023], std::byte{1});
  EXPECT_EQ(sink[0], std::byte{7});
}

// The owner propagates handles on its buffer in messages; the receiver gets AlienBuffer references.
TEST_F(SimTest, PropagatedBufferHandleIsUsableAtTheReceiver) {
  std::vector<std::byte> owned(512, std::byte{0});
  auto data_in = pattern(128, 11);
  int port = 0, stream = 0;
  RefType got_type[2] = {RefType::None, RefType::None};
  int to_rc[2] = {-100, -100}, from_rc = -100;
  std::vector<std::byte> fetched(32);
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    int h[2];
    for (int i = 0; i < 2; ++i) {
      Msg m;
      ASSERT_EQ(eq.inc_receive(port, &m, 0, 0, -1), 1);
      int k = static_cast<int>(m.get<uint32_t>(0));
      got_type[k] = m.m_ref.rd_type;
      h[k] = m.m_ref.rd_obj;
    }
    to_rc[0] = eq.inc_copyto(h[0], 64, data_in.data(), 128);  // writable
    to_rc[1] = eq.inc_copyto(h[1], 0, data_in.data(), 128);   // read-only
    from_rc = eq.inc_copyfrom(h[1], 64, fetched.data(), 32);
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& owner = sys().create(3, "owner", [&](Equus& eq) {
    for (uint32_t k = 0; k < 2; ++k) {
      Msg m;
      m.put<uint32_t>(0, k);
      m.m_ref.rd_type = RefType::Buffer;
      m.m_ref.rd_buf = Buf{owned.data(), 512};
      m.m_ref.rd_flags = k == 0 ? RD_WRITABLE : 0;
      ASSERT_EQ(eq.inc_send(stream, &m), E_OK);
    }
    eq.inc_sleep(1000);  // its buffer exists as long as it does
  });
  stream = sys().bootstrap_stream(owner, chan, ChanType::Unicast);
  sys().start(owner);
  run();
  EXPECT_EQ(got_type[0], RefType::AlienBuffer);
  EXPECT_EQ(got_type[1], RefType::AlienBuffer);
  EXPECT_EQ(to_rc[0], E_OK);
  EXPECT_EQ(to_rc[1], E_RANGE);
  EXPECT_EQ(from_rc, E_OK);
  EXPECT_TRUE(std::equal(data_in.begin(), data_in.end(), owned.begin() + 64));
  EXPECT_EQ(owned[0], std::byte{0});
  EXPECT_EQ(owned[192], std::byte{0});
  EXPECT_TRUE(std::equal(fetched.begin(), fetched.end(), data_in.begin()));
}

}  // namespace equus::test
