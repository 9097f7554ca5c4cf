// inc_time's 60 Hz resolution and the CPU's context switching (Appendix A.1).
#include <cmath>
#include <vector>

#include "tests/support/sim_fixture.hpp"

using namespace equus::kernel;

namespace equus::test {

TEST_F(SimTest, IncTimeHasTheResolutionOfA60HzClock) {
  struct Sample {
    uint32_t elapsed;
    double at;
  };
  std::vector<Sample> samples;
  auto& r = sys().spawn(1, "timer", [&](Equus& eq) {
    for (int i = 0; i < 60; ++i) {
      TimeBuf tb;
      ASSERT_EQ(eq.inc_time(&tb), E_OK);
      samples.push_back({tb.tb_elapsed, eq.now()});
      eq.inc_sleep(5);
    }
  });
  (void)r;
  run();
  ASSERT_EQ(samples.size(), 60u);
  int equal_pairs = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    // A whole number of ticks, expressed in milliseconds.
    double ticks = std::round(s.elapsed * 60.0 / 1000.0);
    EXPECT_EQ(s.elapsed, static_cast<uint32_t>(std::llround(ticks * 1000.0 / 60.0))) << s.elapsed;
    // The clock lags real (simulated) time by less than one tick.
    EXPECT_LE(s.elapsed / 1000.0, s.at + 1e-3);
    EXPECT_GT(s.elapsed / 1000.0, s.at - 1.0 / 60 - 1e-3);
    if (i > 0) {
      uint32_t d = s.elapsed - samples[i - 1].elapsed;
      if (d == 0)
        ++equal_pairs;
      else
        EXPECT_TRUE(d == 16 || d == 17) << "step " << d << " ms";
    }
  }
  EXPECT_GT(equal_pairs, 0);  // calls ~5 ms apart often read the same tick
}

// Same-node invocations switch between the invoker and the receiver every call; between nodes the
// invoker blocks with nothing else ready on its card, is not descheduled and resumes without a switch.
TEST_F(SimTest, SameNodeInvokeSwitchesContextsInterNodeDoesNot) {
  static constexpr int n = 50;
  int port_local = 0, port_remote = 0, s_local = 0, s_remote = 0;
  auto receiver = [](int& port) {
    return [p = &port](Equus& eq) {
      for (int i = 0; i < n; ++i) {
        Msg m;
        ASSERT_EQ(eq.inc_receive(*p, &m, 0, 0, -1), 1);
      }
    };
  };
  auto invoker = [](int& stream) {
    return [s = &stream](Equus& eq) {
      for (int i = 0; i < n; ++i) {
        Msg m;
        ASSERT_EQ(eq.inc_invoke(*s, &m), E_OK);
      }
    };
  };
  auto& rl = sys().spawn(2, "receiver-local", receiver(port_local));
  GlobalId chanl = sys().bootstrap_channel(rl, ChanType::Unicast, &port_local);
  auto& il = sys().create(2, "invoker-local", invoker(s_local));
  s_local = sys().bootstrap_stream(il, chanl, ChanType::Unicast);
  sys().start(il);
  auto& rr = sys().spawn(4, "receiver-remote", receiver(port_remote));
  GlobalId chanr = sys().bootstrap_channel(rr, ChanType::Unicast, &port_remote);
  auto& ir = sys().create(3, "invoker-remote", invoker(s_remote));
  s_remote = sys().bootstrap_stream(ir, chanr, ChanType::Unicast);
  sys().start(ir);
  run();
  double local_per_call = static_cast<double>(sys().kernel(2).cpu().context_switches()) / n;
  double remote_per_call = static_cast<double>(sys().kernel(3).cpu().context_switches()) / n;
  double remote_recv = static_cast<double>(sys().kernel(4).cpu().context_switches()) / n;
  EXPECT_GT(sys().kernel(2).cpu().context_switches(), 0);
  EXPECT_GE(local_per_call, 1.5);  // to the receiver and back
  EXPECT_LT(remote_per_call, 0.25);
  EXPECT_LT(remote_recv, 0.25);
  EXPECT_GT(local_per_call, 4 * remote_per_call);
}

}  // namespace equus::test
