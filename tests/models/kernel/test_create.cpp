// Creation (Section 3.2.1, Appendix B.2): inc_create returns once creation is initiated, and
// EV_INC_MADE tells the creator when the incarnation is made, with the elapsed time since the call.
#include "models/kernel/incarnation.hpp"
#include "models/kernel/kernel.hpp"
#include "tests/support/sim_fixture.hpp"

using namespace equus::kernel;

namespace equus::test {

namespace {

/// Microseconds of ed_info2 as seconds.
double seconds(const EvDesc& ev) { return ev.ed_info2 / 1e6; }

/// Allowance for the notice itself: made, then EV_INC_MADE is sent before the child's program runs.
constexpr double notice_s = 2e-3;

/// A bootstrapped creator at node 0 holding an RDC of one module, "child" (text and data fetched
/// from the host's disc), which every pool node admits: inc_create without a pool manager.
struct Creator {
  Creator(System& sys, Program creator, Program child) {
    auto r = std::make_shared<Rdc>();
    r->id = sys.network().new_gid();
    r->name = "creation";
    r->modules = {Module{"child", 64 * 1024, 16 * 1024, 16 * 1024, 8 * 1024, std::move(child)}};
    for (int n = 0; n < sys.node_count(); ++n) sys.kernel(n).memory().set_access(r->id, true);
    inc = &sys.create(0, "creator", std::move(creator));
    inc->join(r, inc->module());
    sys.start(*inc);
  }
  Incarnation* inc = nullptr;
};

/// The low 32 bits of a handle's incarnation, as events carry it in ed_info1.
uint32_t gid_of(Equus& eq, int handle) {
  auto* h = eq.incarnation().ref<IncRef>(handle);
  return h ? static_cast<uint32_t>(h->inc) : 0;
}

}  // namespace

TEST_F(SimTest, MadeTellsTheCreatorTheElapsedTimeUntilTheChildRuns) {
  double called = -1, returned = -1, child_ran = -1;
  int handle = 0, got = -100;
  uint32_t child = 0;
  EvDesc ev;
  Creator c(
      sys(),
      [&](Equus& eq) {
        int s = 0;
        called = eq.now();
        ASSERT_EQ(eq.inc_create(eq.inc_moduleId("child"), 1, &handle, &s, nullptr), E_OK);
        returned = eq.now();
        child = gid_of(eq, handle);
        got = eq.inc_eventWait(&ev, 5000);
      },
      [&](Equus& eq) { child_ran = eq.now(); });
  run();
  ASSERT_EQ(got, 1);
  EXPECT_EQ(ev.ed_evtype, EvType::Made);
  EXPECT_EQ(ev.ed_info1, child);
  EXPECT_EQ(ev.ed_reference, static_cast<uint32_t>(handle));  // the creator's handle on the child
  ASSERT_GT(ev.ed_info2, 0u);
  // inc_create returned before the text and data were fetched; the child ran once made.
  double made = called + seconds(ev);
  EXPECT_LT(returned, made);
  EXPECT_GE(child_ran, made - 1e-6);  // ed_info2 is rounded to the microsecond
  EXPECT_LT(child_ran, made + notice_s);
}

TEST_F(SimTest, InchoateCreationIsMadeOnceAssembledAndBeforeItStarts) {
  double called = -1, event_at = -1, child_ran = -1;
  int got = -100;
  IncStatus at_made;
  EvDesc ev;
  Creator c(
      sys(),
      [&](Equus& eq) {
        IncCreateParams cp;
        cp.inchoate = true;
        int h = 0, s = 0;
        called = eq.now();
        ASSERT_EQ(eq.inc_create(eq.inc_moduleId("child"), 2, &h, &s, &cp), E_OK);
        got = eq.inc_eventWait(&ev, 5000);
        event_at = eq.now();
        eq.inc_status(h, &at_made);
        eq.inc_sleep(100);
        ASSERT_EQ(eq.inc_start(h, nullptr), E_OK);
      },
      [&](Equus& eq) { child_ran = eq.now(); });
  run();
  ASSERT_EQ(got, 1);
  EXPECT_EQ(ev.ed_evtype, EvType::Made);
  ASSERT_GT(ev.ed_info2, 0u);
  EXPECT_GE(event_at, called + seconds(ev));
  EXPECT_EQ(at_made.is_state, IncState::Inchoate);  // made, but its program waits for inc_start
  EXPECT_GT(child_ran, event_at + 0.1);
}

TEST_F(SimTest, CreationFromAnInchoateImageIsMadeWhenCopiedAndSoonerThanFromDisc) {
  double called = -1, child_ran = -1;
  int proto = 0, copy = 0, got_proto = -100, got_copy = -100;
  uint32_t copy_gid = 0;
  EvDesc from_disc, from_image;
  Creator c(
      sys(),
      [&](Equus& eq) {
        IncCreateParams cp;
        cp.inchoate = true;
        int s = 0;
        ASSERT_EQ(eq.inc_create(eq.inc_moduleId("child"), 1, &proto, &s, &cp), E_OK);
        got_proto = eq.inc_eventWait(&from_disc, 5000);
        called = eq.now();
        ASSERT_EQ(eq.inc_create(proto, 2, &copy, &s, nullptr), E_OK);
        copy_gid = gid_of(eq, copy);
        got_copy = eq.inc_eventWait(&from_image, 5000);
      },
      [&](Equus& eq) { child_ran = eq.now(); });  // only the copy runs
  run_until(30);
  ASSERT_EQ(got_proto, 1);
  ASSERT_EQ(got_copy, 1);
  EXPECT_EQ(from_disc.ed_reference, static_cast<uint32_t>(proto));
  EXPECT_EQ(from_image.ed_evtype, EvType::Made);
  EXPECT_EQ(from_image.ed_info1, copy_gid);
  EXPECT_EQ(from_image.ed_reference, static_cast<uint32_t>(copy));
  ASSERT_GT(from_image.ed_info2, 0u);
  EXPECT_LT(from_image.ed_info2, from_disc.ed_info2);  // memory to memory, not from the host's disc
  double made = called + seconds(from_image);
  EXPECT_GE(child_ran, made - 1e-6);
  EXPECT_LT(child_ran, made + notice_s);
}

TEST_F(SimTest, ForkedCopyIsReportedMadeToo) {
  int copy = 0, forked = -100, got = -100;
  double called = -1, returned = -1;
  EvDesc ev;
  Creator c(
      sys(),
      [&](Equus& eq) {
        called = eq.now();
        forked = eq.inc_fork(1, &copy, 0, nullptr, nullptr, [](Equus&) {});
        returned = eq.now();
        got = eq.inc_eventWait(&ev, 5000);
      },
      [](Equus&) {});
  c.inc->join(c.inc->rdc(), 0);  // it forks as an incarnation of "child" would
  run();
  ASSERT_EQ(forked, 1);
  ASSERT_EQ(got, 1);
  EXPECT_EQ(ev.ed_evtype, EvType::Made);
  EXPECT_EQ(ev.ed_reference, static_cast<uint32_t>(copy));
  // The forker waits for its copy's image: made before inc_fork returned.
  EXPECT_GT(ev.ed_info2, 0u);
  EXPECT_LE(called + seconds(ev), returned + 1e-6);
}

TEST_F(SimTest, EventWaitForOtherTypesLeavesMadeQueued) {
  int first = -100, second = -100;
  EvDesc dead, made;
  Creator c(
      sys(),
      [&](Equus& eq) {
        int h = 0, s = 0;
        ASSERT_EQ(eq.inc_create(eq.inc_moduleId("child"), 1, &h, &s, nullptr), E_OK);
        first = eq.inc_eventWait(&dead, 1000, {EvType::IncDead});  // nobody dies
        second = eq.inc_eventWait(&made, 0);
      },
      [](Equus&) {});
  run();
  EXPECT_EQ(first, 0);
  ASSERT_EQ(second, 1);
  EXPECT_EQ(made.ed_evtype, EvType::Made);
}

TEST_F(SimTest, BootstrapIncarnationsAreNotReportedMade) {
  int got = -100, handle = 0;
  EvDesc ev;
  auto& child = sys().create(1, "child", [](Equus& eq) { eq.inc_sleep(500); });
  auto& holder = sys().create(0, "holder", [&](Equus& eq) { got = eq.inc_eventWait(&ev, 2000); });
  handle = sys().bootstrap_inc_handle(holder, child);
  ASSERT_GT(handle, 0);
  sys().start(child);
  sys().start(holder);
  run();
  EXPECT_EQ(got, 0);  // no loader made it, no creator is told
}

}  // namespace equus::test
