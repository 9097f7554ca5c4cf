// inc_receive timeouts and selectors, and inc_testPort.
#include <vector>

#include "tests/support/sim_fixture.hpp"

using namespace equus::kernel;

namespace equus::test {

TEST_F(SimTest, ReceiveTimesOutAfterTheGivenMilliseconds) {
  int port = 0;
  int rc = -100;
  double t0 = 0, t1 = 0;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    eq.inc_sleep(3);
    Msg m;
    t0 = eq.now();
    rc = eq.inc_receive(port, &m, 0, 0, 50);
    t1 = eq.now();
  });
  sys().bootstrap_channel(r, ChanType::Unicast, &port);
  run();
  EXPECT_EQ(rc, 0);
  EXPECT_GE(t1 - t0, 0.050);
  EXPECT_LE(t1 - t0, 0.060);
}

TEST_F(SimTest, ReceiveWithZeroTimeoutPolls) {
  int port = 0;
  int rc = -100;
  double t0 = 0, t1 = 0;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    Msg m;
    t0 = eq.now();
    rc = eq.inc_receive(port, &m, 0, 0, 0);
    t1 = eq.now();
  });
  sys().bootstrap_channel(r, ChanType::Unicast, &port);
  run();
  EXPECT_EQ(rc, 0);
  EXPECT_LT(t1 - t0, 1e-3);
}

TEST_F(SimTest, ReceiveWithTimeoutReturnsAMessageArrivingInTime) {
  int port = 0, stream = 0;
  int rc = -100;
  double t1 = 0;
  uint32_t head = 0;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    Msg m;
    rc = eq.inc_receive(port, &m, 0, 0, 1000);
    t1 = eq.now();
    head = m.get<uint32_t>(0);
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().spawn(0, "sender", [&](Equus& eq) {
    eq.inc_sleep(10);
    Msg m;
    m.put<uint32_t>(0, 42);
    ASSERT_EQ(eq.inc_send(stream, &m), E_OK);
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  run();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(head, 42u);
  EXPECT_GT(t1, 0.010);
  EXPECT_LT(t1, 0.020);  // woken by the arrival, not by the timeout
}

TEST_F(SimTest, ReceiveRejectsBadReferences) {
  int port = 0;
  int bad_port = -100, bad_sel = -100;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    Msg m;
    bad_port = eq.inc_receive(port + 1000, &m, 0, 0, 0);
    bad_sel = eq.inc_receive(port, &m, 0, port + 1000, 0);
  });
  sys().bootstrap_channel(r, ChanType::Unicast, &port);
  run();
  EXPECT_EQ(bad_port, E_BADREF);
  EXPECT_EQ(bad_sel, E_BADREF);
}

// Two senders on one channel each propagate a handle on their stream; the receiver uses them as
// selectors and counts per-stream arrivals with inc_testPort.
TEST_F(SimTest, SelectorReceivesOnlyTheNamedStreamAndTestPortCounts) {
  constexpr uint32_t kHandle = 0xFFFF;  // header tag of the handle-carrying message
  int port = 0;
  int streams[2] = {0, 0};
  const int per_sender = 5;
  int handle[2] = {0, 0};
  int total_before = -1, total_after = -1, poll_empty = -100;
  SelectMessages sel_before[2], sel_after[2];
  std::vector<std::byte> headers(32 * 16);
  std::vector<uint32_t> from_sel[2];
  std::vector<uint32_t> blocking_sel;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    // The two handle messages, in whichever order they come.
    for (int k = 0; k < 2; ++k) {
      Msg m;
      ASSERT_EQ(eq.inc_receive(port, &m, 0, 0, -1), 1);
      ASSERT_EQ(m.get<uint32_t>(4), kHandle);
      ASSERT_EQ(m.m_ref.rd_type, RefType::StreamHandle);
      handle[m.get<uint32_t>(0)] = m.m_ref.rd_obj;
    }
    eq.compute(0.2);  // everything else arrives meanwhile
    sel_before[0].sm_smhan = handle[0];
    sel_before[1].sm_smhan = handle[1];
    total_before = eq.inc_testPort(port, static_cast<int>(headers.size()), headers.data(), 2, sel_before);
    // Sender 1's messages only, although sender 0's are queued too.
    for (int i = 0; i < per_sender; ++i) {
      Msg m;
      ASSERT_EQ(eq.inc_receive(port, &m, 0, handle[1], 0), 1);
      from_sel[1].push_back(m.get<uint32_t>(0) * 100 + m.get<uint32_t>(4));
    }
    Msg none;
    poll_empty = eq.inc_receive(port, &none, 0, handle[1], 0);
    sel_after[0].sm_smhan = handle[0];
    sel_after[1].sm_smhan = handle[1];
    total_after = eq.inc_testPort(port, 0, nullptr, 2, sel_after);
    for (int i = 0; i < per_sender; ++i) {
      Msg m;
      ASSERT_EQ(eq.inc_receive(port, &m, 0, handle[0], 0), 1);
      from_sel[0].push_back(m.get<uint32_t>(0) * 100 + m.get<uint32_t>(4));
    }
    // A blocking selective receive ignores the other stream's later arrivals.
    Msg m;
    ASSERT_EQ(eq.inc_receive(port, &m, 0, handle[1], 1000), 1);
    blocking_sel.push_back(m.get<uint32_t>(0) * 100 + m.get<uint32_t>(4));
    Msg rest;
    ASSERT_EQ(eq.inc_receive(port, &rest, 0, 0, 0), 1);
    EXPECT_EQ(rest.get<uint32_t>(0), 0u);
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  const int nodes[2] = {0, 2};
  for (int k = 0; k < 2; ++k) {
    auto& s = sys().create(nodes[k], "sender" + std::to_string(k), [&, k](Equus& eq) {
      int h = eq.inc_hanCreate(streams[k]);
      ASSERT_GT(h, 0);
      Msg hm;
      hm.put<uint32_t>(0, k);
      hm.put<uint32_t>(4, kHandle);
      hm.m_ref = RefDescrip{RefType::StreamHandle, h};
      ASSERT_EQ(eq.inc_send(streams[k], &hm), E_OK);
      for (int i = 0; i < per_sender; ++i) {
        Msg m;
        m.put<uint32_t>(0, k);
        m.put<uint32_t>(4, i);
        ASSERT_EQ(eq.inc_send(streams[k], &m), E_OK);
      }
      // Late: sender 0 sends first, sender 1 a little later; the receiver waits for sender 1's.
      eq.inc_sleep(300 + 20 * k);
      Msg late;
      late.put<uint32_t>(0, k);
      late.put<uint32_t>(4, 99);
      ASSERT_EQ(eq.inc_send(streams[k], &late), E_OK);
    });
    streams[k] = sys().bootstrap_stream(s, chan, ChanType::Unicast);
    sys().start(s);
  }
  run();
  EXPECT_EQ(total_before, 2 * per_sender);
  EXPECT_EQ(sel_before[0].sm_nmsgs, per_sender);
  EXPECT_EQ(sel_before[1].sm_nmsgs, per_sender);
  // The header array holds the first arrived headers, 32 bytes each.
  for (int i = 0; i < total_before; ++i) {
    uint32_t who = 0;
    std::memcpy(&who, headers.data() + 32 * i, 4);
    EXPECT_LT(who, 2u);
  }
  std::vector<uint32_t> want1, want0;
  for (int i = 0; i < per_sender; ++i) {
    want0.push_back(i);
    want1.push_back(100 + i);
  }
  EXPECT_EQ(from_sel[1], want1);
  EXPECT_EQ(poll_empty, 0);
  EXPECT_EQ(total_after, per_sender);
  EXPECT_EQ(sel_after[0].sm_nmsgs, per_sender);
  EXPECT_EQ(sel_after[1].sm_nmsgs, 0);
  EXPECT_EQ(from_sel[0], want0);
  EXPECT_EQ(blocking_sel, std::vector<uint32_t>{199});
}

}  // namespace equus::test
