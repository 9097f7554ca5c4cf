#include "tests/support/sim_fixture.hpp"

using namespace equus::kernel;

namespace equus::test {

TEST_F(SimTest, AsinvokeBufferLimitBlocksUntilCompletion) {
  int port = 0;
  std::vector<double> received;
  std::vector<double> returned;
  std::vector<std::byte> rbuf(32768), sbuf(32768, std::byte{5});
  auto& r = sys().spawn(3, "receiver", [&](Equus& eq) {
    for (int i = 0; i < 3; ++i) {
      Msg m;
      m.m_base = rbuf.data();
      m.m_cnt = 32768;
      ASSERT_EQ(eq.inc_receive(port, &m, 0, 0, -1), 1);
      EXPECT_EQ(m.m_cnt, 32768u);
      EXPECT_EQ(rbuf[100], std::byte{5});
      received.push_back(eq.now());
    }
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  int stream = 0;
  auto& s = sys().spawn(2, "sender", [&](Equus& eq) {
    ASSERT_EQ(eq.inc_setBufferLimit(stream, 1), E_OK);
    for (int i = 0; i < 3; ++i) {
      Msg m;
      m.m_base = sbuf.data();
      m.m_cnt = 32768;
      ASSERT_EQ(eq.inc_asinvoke(stream, &m), E_OK);
      returned.push_back(eq.now());
    }
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  run();
  ASSERT_EQ(received.size(), 3u);
  ASSERT_EQ(returned.size(), 3u);
  // With a limit of one, the second call returns only after the first was received (data copied).
  EXPECT_GT(returned[1], received[0]);
  EXPECT_GT(returned[2], received[1]);
}

}  // namespace equus::test
