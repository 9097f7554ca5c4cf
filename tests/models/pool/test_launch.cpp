// Launching RDCs: authentication, node allocation, stream space, creation from a module and from an
// INCHOATE image, the name service, control operations; the RDC's dependency on its launch program
// and its termination.
#include "models/kernel/incarnation.hpp"
#include "models/kernel/kernel.hpp"
#include "models/pool/launch.hpp"
#include "models/services/services.hpp"
#include "tests/support/sim_fixture.hpp"

using namespace equus::kernel;
using equus::pool::Launched;
using equus::pool::LaunchSpec;
using equus::pool::Pool;

namespace equus::test {

namespace {
Module module(const std::string& name, double text_kb, Program p) {
  return Module{name, text_kb * 1024, 4 * 1024, 16 * 1024, 8 * 1024, std::move(p)};
}

/// Runs for ever, recording the time of its last tick.
[[noreturn]] void tick(Equus& eq, double* last) {
  for (;;) {
    eq.inc_sleep(100);
    *last = eq.now();
  }
}

/// User tim's RDC on 2 nodes: a primary that creates a child and forks a copy on the other node, all
/// three ticking for ever.
LaunchSpec ticking_rdc(const std::string& name, const Launched* launched, double* primary, double* child,
                       double* copy) {
  LaunchSpec spec;
  spec.name = name;
  spec.user = "tim";
  spec.nodes = 2;
  spec.modules = {
      module("primary", 16,
             [=](Equus& eq) {
               unsigned other = launched->nodes.at(eq.inc_where() == launched->nodes[0] ? 1 : 0);
               int c = 0, s = 0, f = 0;
               ASSERT_EQ(eq.inc_create(eq.inc_moduleId("child"), other, &c, &s, nullptr), E_OK);
               ASSERT_EQ(eq.inc_fork(other, &f, 0, nullptr, nullptr, [=](Equus& c) { tick(c, copy); }), 1);
               tick(eq, primary);
             }),
      module("child", 16, [=](Equus& eq) { tick(eq, child); })};
  return spec;
}

/// Incarnations of `rdc` still hosted anywhere in the pool.
std::vector<std::string> survivors(System& sys, GlobalId rdc) {
  std::vector<std::string> names;
  for (int n = 0; n < sys.node_count(); ++n)
    for (auto* inc : sys.kernel(n).hosting().hosted(rdc)) names.push_back(inc->name());
  return names;
}
}  // namespace

TEST_F(SimTest, LaunchCreatesPrimaryWhichUsesStreamSpaceAndCreatesWorkers) {
  std::vector<double> worker_started;
  int got = -100, from_inchoate = -100, registered = -100, looked_up = -100, unknown = -100;
  IncStatus status;
  LaunchSpec spec;
  spec.name = "demo";
  spec.user = "tim";
  spec.nodes = 2;
  spec.modules = {module("manager", 40,
                         [&](Equus& eq) {
                           int s = 0, p = 0;
                           ASSERT_EQ(eq.ss_createChan("work", &s, &p, ChanType::Unicast), E_OK);
                           RefDescrip r;
                           got = eq.ss_get("work", &r);  // comes back from stream space (then cached)
                           int worker = eq.inc_moduleId("worker");
                           IncCreateParams inchoate;
                           inchoate.inchoate = true;
                           int proto = 0, w1 = 0, w2 = 0, st = 0;
                           unsigned node = eq.inc_where();
                           ASSERT_EQ(eq.inc_create(worker, node, &proto, &st, &inchoate), E_OK);
                           ASSERT_EQ(eq.inc_create(worker, node, &w1, &st, nullptr), E_OK);
                           from_inchoate = eq.inc_create(proto, node, &w2, &st, nullptr);
                           registered = eq.ns_register("demo-service", s);
                           int found = 0;
                           looked_up = eq.ns_lookup("demo-service", &found);
                           unknown = eq.ns_lookup("no-such-service", &found);
                           for (int i = 0; i < 2; ++i) {
                             Msg m;
                             eq.inc_receive(p, &m, 0, 0, -1);
                           }
                           eq.inc_status(w1, &status);
                         }),
                  module("worker", 200, [&](Equus& eq) {
                    worker_started.push_back(eq.now());
                    RefDescrip r;
                    eq.ss_get("work", &r);
                    Msg m;
                    eq.inc_send(r.rd_obj, &m);
                  })};
  Pool* pool = nullptr;
  Launched launched;
  int rc = -100;
  Pool p(sys(), pool_users(), 0, [&](Equus& eq) { rc = pool->launch(eq, spec, &launched); });
  pool = &p;
  run_until(60);
  ASSERT_EQ(rc, E_OK);
  EXPECT_EQ(launched.nodes.size(), 2u);
  EXPECT_EQ(got, E_OK);
  EXPECT_EQ(from_inchoate, E_OK);
  EXPECT_EQ(registered, E_OK);
  EXPECT_EQ(looked_up, E_OK);
  EXPECT_EQ(unknown, E_BADREF);          // the name service fails at once for unknown names
  EXPECT_EQ(worker_started.size(), 2u);  // the INCHOATE prototype never ran its program
  EXPECT_EQ(status.is_state, IncState::Dead == status.is_state ? IncState::Dead : status.is_state);
}

TEST_F(SimTest, UnknownUserIsRefused) {
  LaunchSpec spec;
  spec.name = "x";
  spec.user = "mallory";
  spec.modules = {module("m", 4, [](Equus&) {})};
  Pool* pool = nullptr;
  Launched launched;
  int rc = 0;
  Pool p(sys(), pool_users(), 0, [&](Equus& eq) { rc = pool->launch(eq, spec, &launched); });
  pool = &p;
  run_until(60);
  EXPECT_EQ(rc, E_DENIED);
}

TEST_F(SimTest, CreationOnANodeNotAllocatedIsDenied) {
  int rc = 0;
  LaunchSpec spec;
  spec.name = "x";
  spec.user = "tim";
  spec.modules = {module("m", 4, [&](Equus& eq) {
    int h = 0, s = 0;
    rc = eq.inc_create(eq.inc_moduleId("m"), 10, &h, &s, nullptr);  // kathleen11: exclusive, not ours
  })};
  Pool* pool = nullptr;
  Launched launched;
  Pool p(sys(), pool_users(), 0, [&](Equus& eq) { pool->launch(eq, spec, &launched); });
  pool = &p;
  run_until(60);
  EXPECT_EQ(rc, E_DENIED);
}

// Section 7.3: the RDC's incarnations depend absolutely upon the launch program, so destroying it
// terminates them all, those created or forked by the RDC and its stream space included.
TEST_F(SimTest, DestroyingTheLaunchProgramTerminatesEveryIncarnationOfItsRdc) {
  const double destroy_at = 4.0;
  double primary = -1, child = -1, copy = -1;
  Launched launched;
  LaunchSpec spec = ticking_rdc("orphan", &launched, &primary, &child, &copy);
  Pool* pool = nullptr;
  int rc = -100, destroyed = -100;
  Pool p(sys(), pool_users(), 0, [&](Equus& eq) { rc = pool->launch(eq, spec, &launched); });
  pool = &p;
  Incarnation& launch = p.launch_incarnation();
  IncRef launch_ref{launch.gid(), sys().host_kernel().address_of(*launch.ghost_port()),
                    sys().network().host_node()};
  sys().spawn(10, "killer", [&](Equus& eq) {
    eq.inc_sleep(static_cast<int>(destroy_at * 1000));
    destroyed = eq.inc_destroy(eq.incarnation().add_ref(launch_ref));
  });
  run_until(destroy_at + 20);
  ASSERT_EQ(rc, E_OK);
  EXPECT_EQ(destroyed, E_OK);
  EXPECT_EQ(launch.state(), IncState::Dead);
  // Still running when the launch program died (its launcher code had long returned), then found out
  // by a probe: within a probe period plus the retries that find the launch program gone.
  const auto& kp = sys().params().kernel;
  for (double last : {primary, child, copy}) {
    EXPECT_GT(last, destroy_at - 0.2);
    EXPECT_LT(last, destroy_at + kp.dependency_probe_period + (kp.max_retries + 2) * kp.retry_interval);
  }
  EXPECT_TRUE(survivors(sys(), launched.rdc->id).empty());
}

// The launcher's code returning does not end the launch program while its RDC runs, nor does the
// waiting launch program keep the run going once the RDC's programs have ended.
TEST_F(SimTest, RdcRunsToItsEndAfterTheLauncherReturns) {
  const double run_for = 15.0;  // well beyond a probe period plus the retries
  double finished = -1;
  IncState launch_meanwhile = IncState::Dead;
  Pool* pool = nullptr;
  LaunchSpec spec;
  spec.name = "long";
  spec.user = "tim";
  spec.modules = {module("primary", 16, [&](Equus& eq) {
    eq.inc_sleep(static_cast<int>(run_for * 1000 / 2));
    launch_meanwhile = pool->launch_incarnation().state();
    eq.inc_sleep(static_cast<int>(run_for * 1000 / 2));
    finished = eq.now();
  })};
  Launched launched;
  int rc = -100;
  double returned = -1;
  Pool p(sys(), pool_users(), 0, [&](Equus& eq) {
    rc = pool->launch(eq, spec, &launched);
    returned = eq.now();
  });
  pool = &p;
  run();  // ends when only daemons (services, the waiting launch program) are left
  ASSERT_EQ(rc, E_OK);
  EXPECT_LT(returned, 1.0);
  EXPECT_EQ(launch_meanwhile, IncState::Started);
  EXPECT_TRUE(p.waiting_for_rdcs());
  EXPECT_GE(finished, run_for);
  EXPECT_LT(now(), run_for + 1.0);
}

// The launch program's normal termination of an RDC: its incarnations are killed and its nodes are
// free for the next RDC; with nothing left to wait for, the launch program then exits.
TEST_F(SimTest, TerminateKillsTheRdcsIncarnationsAndFreesItsNodes) {
  double primary = -1, child = -1, copy = -1, terminated_at = -1;
  Launched first, second;
  LaunchSpec spec = ticking_rdc("first", &first, &primary, &child, &copy);
  std::vector<double> memory_before;
  for (int n = 0; n < sys().node_count(); ++n) memory_before.push_back(sys().kernel(n).memory().used());
  std::vector<std::string> left;
  std::vector<unsigned> still_allowed;
  std::vector<double> memory_after;
  int rc1 = -100, rc2 = -100, term1 = -100, term2 = -100;
  Pool* pool = nullptr;
  Pool p(sys(), pool_users(), 0, [&](Equus& eq) {
    rc1 = pool->launch(eq, spec, &first);
    if (rc1 != E_OK) return;
    eq.inc_sleep(1000);
    term1 = pool->terminate(eq, first);
    terminated_at = eq.now();
    left = survivors(sys(), first.rdc->id);
    for (unsigned n : first.nodes) {
      if (sys().kernel(static_cast<int>(n)).memory().allows(first.rdc->id)) still_allowed.push_back(n);
      memory_after.push_back(sys().kernel(static_cast<int>(n)).memory().used());
    }
    LaunchSpec again = spec;
    again.name = "second";
    again.modules = {module("primary", 16, [](Equus& eq) { eq.inc_sleep(100); })};
    rc2 = pool->launch(eq, again, &second);
    if (rc2 == E_OK) term2 = pool->terminate(eq, second);
  });
  pool = &p;
  run_until(20);
  ASSERT_EQ(rc1, E_OK);
  ASSERT_EQ(first.nodes.size(), 2u);
  EXPECT_EQ(term1, E_OK);
  for (double last : {primary, child, copy}) {
    EXPECT_GT(last, 0.5);
    EXPECT_LE(last, terminated_at);
  }
  EXPECT_TRUE(left.empty()) << left.front() << " survived the termination";
  EXPECT_TRUE(still_allowed.empty());
  ASSERT_EQ(memory_after.size(), first.nodes.size());
  for (std::size_t i = 0; i < first.nodes.size(); ++i)
    EXPECT_DOUBLE_EQ(memory_after[i], memory_before[first.nodes[i]]) << "node " << first.nodes[i];
  ASSERT_EQ(rc2, E_OK);
  EXPECT_EQ(second.nodes, first.nodes);  // the lowest free nodes of tim's groups again
  EXPECT_EQ(term2, E_OK);
  EXPECT_FALSE(p.waiting_for_rdcs());
  EXPECT_EQ(p.launch_incarnation().state(), IncState::Dead);
}

}  // namespace equus::test
