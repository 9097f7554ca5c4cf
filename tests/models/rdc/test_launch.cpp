// Launching RDCs: authentication, node allocation, stream space, creation from a module and from an
// INCHOATE image, the name service, control operations.
#include "models/kernel/incarnation.hpp"
#include "models/kernel/kernel.hpp"
#include "models/rdc/launch.hpp"
#include "models/rdc/services.hpp"
#include "tests/support/sim_fixture.hpp"

using namespace equus::kernel;
using equus::rdc::Launched;
using equus::rdc::LaunchSpec;
using equus::rdc::Pool;

namespace equus::test {

namespace {
Module module(const std::string& name, double text_kb, Program p) {
  return Module{name, text_kb * 1024, 4 * 1024, 16 * 1024, 8 * 1024, std::move(p)};
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

}  // namespace equus::test
