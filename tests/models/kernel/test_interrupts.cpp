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

}  // namespace equus::test
