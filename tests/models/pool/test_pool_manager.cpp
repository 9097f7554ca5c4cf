// The pool manager's node protocol: a launch that cannot be satisfied now waits in the queue until
// nodes are released; one that never could be, or that finds the queue full, is refused at once.
#include "models/kernel/incarnation.hpp"
#include "models/pool/launch.hpp"
#include "tests/support/sim_fixture.hpp"

using namespace equus::kernel;
using equus::pool::Launched;
using equus::pool::LaunchSpec;
using equus::pool::Pool;

namespace equus::test {

namespace {
/// User tim's RDC of `nodes` nodes whose primary computes for `seconds`, then exits (releasing them).
LaunchSpec busy_rdc(const std::string& name, int nodes, double seconds, double* exited) {
  LaunchSpec spec;
  spec.name = name;
  spec.user = "tim";  // groups systems and timeshared: kathleen1, 2, 6 and 7
  spec.nodes = nodes;
  spec.modules = {Module{"primary", 16 * 1024, 4 * 1024, 16 * 1024, 8 * 1024, [=](Equus& eq) {
                           eq.inc_sleep(static_cast<int>(seconds * 1000));
                           if (exited) *exited = eq.now();
                           eq.inc_rdcExit();
                         }}};
  return spec;
}
}  // namespace

TEST_F(SimTest, ALaunchOnAFullPoolWaitsUntilNodesAreReleased) {
  double a_exited = -1, b_launched = -1;
  int a_rc = -100, b_rc = -100;
  Launched a, b;
  Pool* pool = nullptr;
  Pool p(sys(), pool_users(), 0, [&](Equus& eq) {
    a_rc = pool->launch(eq, busy_rdc("a", 4, 2.0, &a_exited), &a);  // all of tim's nodes
    b_rc = pool->launch(eq, busy_rdc("b", 1, 0.1, nullptr), &b);    // waits for a's
    b_launched = eq.now();
  });
  pool = &p;
  run_until(30);
  ASSERT_EQ(a_rc, E_OK);
  ASSERT_EQ(b_rc, E_OK);
  EXPECT_GT(a_exited, 2.0);
  EXPECT_GT(b_launched, a_exited);  // it waited for the release, not failed
  EXPECT_EQ(b.nodes.size(), 1u);
}

TEST_F(SimTest, ALaunchThatCanNeverBeSatisfiedIsRefusedAtOnce) {
  int rc = -100;
  double at = -1;
  Launched l;
  Pool* pool = nullptr;
  Pool p(sys(), pool_users(), 0, [&](Equus& eq) {
    rc = pool->launch(eq, busy_rdc("big", 5, 1, nullptr), &l);  // tim's groups hold 4 nodes
    at = eq.now();
  });
  pool = &p;
  run_until(30);
  EXPECT_EQ(rc, E_NOMEM);
  EXPECT_LT(at, 1.0);
}

}  // namespace equus::test
