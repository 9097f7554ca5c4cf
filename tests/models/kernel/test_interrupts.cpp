// Software interrupts (Section 4.4, Appendix B.9): port handlers run while the incarnation waits
// elsewhere, at its kernel exits, or in inc_pause; the interrupt priority holds them back.
#include "tests/support/sim_fixture.hpp"

using namespace equus::kernel;

namespace equus::test {

namespace {
/// A management port with a handler, and a main port the incarnation waits on.
struct TwoPorts {
  int main_port = 0, mgmt_port = 0, main_stream = 0, mgmt_stream = 0;
};
}  // namespace

TEST_F(SimTest, PortHandlerRunsWhileTheIncarnationWaitsOnAnotherPort) {
  TwoPorts t;
  std::vector<double> handled;
  double main_received = -1;
  auto& server = sys().create(3, "server", [&](Equus& eq) {
    ASSERT_EQ(eq.inc_setPortHandler(
                  t.mgmt_port,
                  [&](Equus& e) {
                    Msg m;
                    while (e.inc_receive(t.mgmt_port, &m, 0, 0, 0) == 1) handled.push_back(e.now());
                  },
                  1),
              E_OK);
    Msg m;
    ASSERT_EQ(eq.inc_receive(t.main_port, &m, 0, 0, -1), 1);  // long wait, interrupted twice
    main_received = eq.now();
  });
  GlobalId main = sys().bootstrap_channel(server, ChanType::Unicast, &t.main_port);
  GlobalId mgmt = sys().bootstrap_channel(server, ChanType::Unicast, &t.mgmt_port);
  auto& client = sys().create(2, "client", [&](Equus& eq) {
    Msg m;
    eq.inc_sleep(100);
    eq.inc_send(t.mgmt_stream, &m);
    eq.inc_sleep(100);
    eq.inc_send(t.mgmt_stream, &m);
    eq.inc_sleep(100);
    eq.inc_send(t.main_stream, &m);
  });
  t.main_stream = sys().bootstrap_stream(client, main, ChanType::Unicast);
  t.mgmt_stream = sys().bootstrap_stream(client, mgmt, ChanType::Unicast);
  sys().start(server);
  sys().start(client);
  run_until(10);
  ASSERT_EQ(handled.size(), 2u);
  EXPECT_LT(handled[0], 0.15);  // handled while still waiting for the main message
  EXPECT_LT(handled[1], 0.25);
  EXPECT_GT(main_received, 0.3);
}

TEST_F(SimTest, InterruptPriorityHoldsHandlersUntilLowered) {
  TwoPorts t;
  double handled_at = -1, lowered_at = -1;
  int paused = -100;
  auto& server = sys().create(3, "server", [&](Equus& eq) {
    eq.inc_setPortHandler(
        t.mgmt_port,
        [&](Equus& e) {
          Msg m;
          e.inc_receive(t.mgmt_port, &m, 0, 0, 0);
          handled_at = e.now();
        },
        2);
    EXPECT_EQ(eq.inc_setInterruptPriority(5), 0);  // a critical section: priority 2 is held
    eq.inc_sleep(300);
    Msg m;
    eq.inc_receive(t.main_port, &m, 0, 0, 50);  // a kernel exit: still masked
    lowered_at = eq.now();
    eq.inc_setInterruptPriority(0);  // the held interrupt is delivered now
    paused = eq.inc_pause();         // and nothing else comes: would wait; so check before
  });
  GlobalId mgmt = sys().bootstrap_channel(server, ChanType::Unicast, &t.mgmt_port);
  sys().bootstrap_channel(server, ChanType::Unicast, &t.main_port);
  auto& client = sys().create(2, "client", [&](Equus& eq) {
    Msg m;
    eq.inc_sleep(100);
    eq.inc_send(t.mgmt_stream, &m);
    eq.inc_sleep(800);
    eq.inc_send(t.mgmt_stream, &m);  // ends the pause
  });
  t.mgmt_stream = sys().bootstrap_stream(client, mgmt, ChanType::Unicast);
  sys().start(server);
  sys().start(client);
  run_until(10);
  EXPECT_GE(handled_at, lowered_at);  // not before the priority was lowered
  EXPECT_EQ(paused, E_OK);            // the second message's handler ended the pause
}

TEST_F(SimTest, StreamHandlerRunsWhenTheStreamIsClosed) {
  int port = 0, to_watcher = 0, watched = 0, other_port = 0;
  double handled_at = -1, closed_at = -1;
  int pause_rc = -100;
  auto& watcher = sys().create(4, "watcher", [&](Equus& eq) {
    Msg m;
    ASSERT_EQ(eq.inc_receive(port, &m, 0, 0, -1), 1);
    ASSERT_EQ(m.m_ref.rd_type, RefType::StreamHandle);
    ASSERT_EQ(eq.inc_setStreamHandler(
                  m.m_ref.rd_obj, [&](Equus& e) { handled_at = e.now(); }, 1),
              E_OK);
    pause_rc = eq.inc_pause();
  });
  GlobalId chan = sys().bootstrap_channel(watcher, ChanType::Unicast, &port);
  auto& holder = sys().create(2, "holder", [&](Equus& eq) {
    ASSERT_EQ(eq.inc_chanCreate(ChanType::Unicast, &watched, &other_port), E_OK);
    Msg m;
    m.m_ref.rd_type = RefType::StreamHandle;
    m.m_ref.rd_obj = eq.inc_hanCreate(watched);
    ASSERT_EQ(eq.inc_send(to_watcher, &m), E_OK);
    eq.inc_sleep(200);
    closed_at = eq.now();
    ASSERT_EQ(eq.inc_close(watched), E_OK);
    eq.inc_sleep(200);
  });
  to_watcher = sys().bootstrap_stream(holder, chan, ChanType::Unicast);
  sys().start(watcher);
  sys().start(holder);
  run_until(10);
  EXPECT_EQ(pause_rc, E_OK);
  EXPECT_GE(handled_at, closed_at);
  EXPECT_LT(handled_at, closed_at + 0.05);
}

}  // namespace equus::test
