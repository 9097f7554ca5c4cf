// Control and monitoring without migration: destroy, freeze/unfreeze, status, interest in a child's
// death, dependency with probes, RDC exit, node withdrawal with kill, propagation rights.
#include "models/kernel/incarnation.hpp"
#include "models/kernel/kernel.hpp"
#include "models/pool/launch.hpp"
#include "tests/support/sim_fixture.hpp"

using namespace equus::kernel;
using equus::pool::Launched;
using equus::pool::LaunchSpec;
using equus::pool::Pool;

namespace equus::test {

namespace {

/// Launches one RDC of user tim on 2 nodes whose primary runs `primary` and may create `child`s.
struct OneRdc {
  OneRdc(System& sys, Program primary, Program child) {
    spec.name = "ctl";
    spec.user = "tim";
    spec.nodes = 2;
    spec.modules = {Module{"primary", 16 * 1024, 0, 8 * 1024, 4 * 1024, std::move(primary)},
                    Module{"child", 16 * 1024, 0, 8 * 1024, 4 * 1024, std::move(child)}};
    pool = std::make_unique<Pool>(sys, pool_users(), 0,
                                  [this](Equus& eq) { rc = pool->launch(eq, spec, &launched); });
  }
  LaunchSpec spec;
  Launched launched;
  std::unique_ptr<Pool> pool;
  int rc = -100;
};

}  // namespace

TEST_F(SimTest, FreezeStopsAChildUntilUnfrozenAndStatusReportsIt) {
  std::vector<double> ticks;
  IncStatus frozen, running;
  OneRdc r(
      sys(),
      [&](Equus& eq) {
        int c = 0, s = 0;
        ASSERT_EQ(eq.inc_create(eq.inc_moduleId("child"), eq.inc_where(), &c, &s, nullptr), E_OK);
        eq.inc_sleep(500);
        ASSERT_EQ(eq.inc_freeze(c), E_OK);
        eq.inc_status(c, &frozen);
        eq.inc_sleep(1000);
        ASSERT_EQ(eq.inc_unfreeze(c, 0), E_OK);
        eq.inc_status(c, &running);
        eq.inc_sleep(500);
        ASSERT_EQ(eq.inc_destroy(c), E_OK);
      },
      [&](Equus& eq) {
        for (;;) {
          eq.inc_sleep(100);
          ticks.push_back(eq.now());
        }
      });
  run_until(30);
  ASSERT_EQ(r.rc, E_OK);
  EXPECT_EQ(frozen.is_state, IncState::Frozen);
  EXPECT_EQ(running.is_state, IncState::Started);
  // No tick while frozen (about 1 s), and none after the destroy.
  double longest = 0;
  for (std::size_t i = 1; i < ticks.size(); ++i) longest = std::max(longest, ticks[i] - ticks[i - 1]);
  EXPECT_GT(longest, 0.9);
  ASSERT_FALSE(ticks.empty());
  EXPECT_LT(ticks.back(), 3.0);
}

TEST_F(SimTest, InterestedParentLearnsOfItsChildsDeath) {
  EvDesc ev;
  int got = -100, c = 0;
  unsigned child_gid = 0;
  OneRdc r(
      sys(),
      [&](Equus& eq) {
        int s = 0;
        ASSERT_EQ(eq.inc_create(eq.inc_moduleId("child"), eq.inc_where(), &c, &s, nullptr), E_OK);
        ASSERT_EQ(eq.inc_setInterest(c, EvType::IncDead, 1), E_OK);
        got = eq.inc_eventWait(&ev, 5000, {EvType::IncDead});  // not the EV_INC_MADE before it
      },
      [&](Equus& eq) {
        child_gid = static_cast<unsigned>(eq.inc_self());
        eq.inc_sleep(300);  // then ends
      });
  run_until(30);
  ASSERT_EQ(got, 1);
  EXPECT_EQ(ev.ed_evtype, EvType::IncDead);
  EXPECT_EQ(ev.ed_info1, child_gid);
  EXPECT_EQ(ev.ed_reference, static_cast<uint32_t>(c));  // the parent's handle on it
}

TEST_F(SimTest, DependentChildIsTerminatedWhenItsParentEnds) {
  double child_last = -1;
  OneRdc r(
      sys(),
      [&](Equus& eq) {
        int c = 0, s = 0;
        ASSERT_EQ(
            eq.inc_create(eq.inc_moduleId("child"),
                          eq.inc_where() == r.launched.nodes[0] ? r.launched.nodes[1] : r.launched.nodes[0],
                          &c, &s, nullptr),
            E_OK);
        ASSERT_EQ(eq.inc_makeDependent(c, DEP_ABSOLUTE), E_OK);
        eq.inc_sleep(1000);  // then the parent ends
      },
      [&](Equus& eq) {
        for (;;) {
          eq.inc_sleep(100);
          child_last = eq.now();
        }
      });
  run_until(60);
  // Found out by a probe: within a probe period plus the retries that find the parent gone.
  const auto& kp = sys().params().kernel;
  EXPECT_GT(child_last, 1.0);
  EXPECT_LT(child_last, 1.0 + kp.dependency_probe_period + (kp.max_retries + 2) * kp.retry_interval);
}

TEST_F(SimTest, RdcExitKillsEveryIncarnationOfTheRdc) {
  double child_last = -1;
  int after = -100;
  OneRdc r(
      sys(),
      [&](Equus& eq) {
        int c = 0, s = 0;
        ASSERT_EQ(eq.inc_create(eq.inc_moduleId("child"), eq.inc_where(), &c, &s, nullptr), E_OK);
        eq.inc_sleep(500);
        eq.inc_rdcExit();
        after = 1;  // never reached: the caller dies with its RDC
      },
      [&](Equus& eq) {
        for (;;) {
          eq.inc_sleep(100);
          child_last = eq.now();
        }
      });
  run_until(30);
  EXPECT_EQ(after, -100);
  EXPECT_GT(child_last, 0.3);
  EXPECT_LT(child_last, 1.0);
  for (int n = 0; n < sys().node_count(); ++n)
    for (auto* inc : sys().kernel(n).hosting().hosted())
      EXPECT_FALSE(inc->rdc() && inc->rdc()->name == "ctl") << inc->name() << " survived";
}

TEST_F(SimTest, ReferenceWithNoPropagationDomainCannotBePropagatedFurther) {
  int port = 0, stream = 0, again = -100, type = -100, none = -100;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    Msg m;
    ASSERT_EQ(eq.inc_receive(port, &m, 0, 0, -1), 1);
    type = eq.inc_testReference(m.m_ref.rd_obj);
    none = eq.inc_testReference(9999);
    Msg fwd;
    fwd.m_ref = RefDescrip{RefType::Stream, m.m_ref.rd_obj, true, 0, 0, {}};
    int s2 = 0, p2 = 0;
    eq.inc_chanCreate(ChanType::Unicast, &s2, &p2);
    again = eq.inc_send(s2, &fwd);
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().create(2, "sender", [&](Equus& eq) {
    Msg m;
    m.m_ref = RefDescrip{RefType::Stream, stream, true, 1 /* no further propagation */, 0, {}};
    ASSERT_EQ(eq.inc_send(stream, &m), E_OK);
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  sys().start(s);
  run_until(10);
  EXPECT_EQ(type, static_cast<int>(RefType::Stream));
  EXPECT_EQ(none, RT_NONE);
  EXPECT_EQ(again, E_BADREF);
}

TEST_F(SimTest, BrkGrowsTheHeapWithinTheNodesMemory) {
  int grow = -100, too_much = -100, shrink = -100;
  double used_before = 0, used_after = 0;
  OneRdc r(
      sys(),
      [&](Equus& eq) {
        Kernel& k = eq.incarnation().kernel();
        used_before = k.memory().used();
        grow = eq.inc_brk(1024 * 1024);
        used_after = k.memory().used();
        too_much = eq.inc_brk(k.memory().size());
        shrink = eq.inc_brk(8 * 1024);
      },
      [](Equus&) {});
  run_until(10);
  EXPECT_EQ(grow, E_OK);
  EXPECT_NEAR(used_after - used_before, 1024 * 1024 - 8 * 1024, 1);  // the module's heap was 8 kB
  EXPECT_EQ(too_much, E_NOMEM);
  EXPECT_EQ(shrink, E_OK);
}

// Figure 5.3: each side ends up with a stream connected to the other's port.
TEST_F(SimTest, ForkGivesEachSideAStreamToTheOthersPort) {
  uint32_t child_got = 0, parent_got = 0;
  int fork_rc = -100, copied_stream_type = -100;
  double forked_at = -1, returned_at = -1;
  OneRdc r(
      sys(),
      [&](Equus& eq) {
        int my_port = 0, stream_to_parent = 0, stream_to_child = 0, child = 0;
        ASSERT_EQ(eq.inc_chanCreate(ChanType::Unicast, &stream_to_parent, &my_port), E_OK);
        int forkports[1] = {my_port};
        int forkstreams[1] = {0};
        forked_at = eq.now();
        unsigned other = eq.inc_where() == r.launched.nodes[0] ? r.launched.nodes[1] : r.launched.nodes[0];
        fork_rc =
            eq.inc_fork(other, &child, 1, forkports, forkstreams, [&, stream_to_parent, my_port](Equus& c) {
              // The copy: stream_to_parent leads to the original's port; my_port is on a new channel.
              copied_stream_type = c.inc_testReference(stream_to_parent);
              Msg hello;
              hello.put<uint32_t>(0, 7);
              c.inc_send(stream_to_parent, &hello);
              Msg m;
              c.inc_receive(my_port, &m, 0, 0, -1);
              child_got = m.get<uint32_t>(0);
            });
        returned_at = eq.now();
        stream_to_child = forkstreams[0];
        Msg m;
        eq.inc_receive(my_port, &m, 0, 0, -1);
        parent_got = m.get<uint32_t>(0);
        Msg back;
        back.put<uint32_t>(0, 9);
        eq.inc_send(stream_to_child, &back);
        eq.inc_sleep(100);
      },
      [](Equus&) {});
  run_until(30);
  EXPECT_EQ(fork_rc, 1);
  EXPECT_EQ(copied_stream_type, static_cast<int>(RefType::Stream));
  EXPECT_EQ(parent_got, 7u);
  EXPECT_EQ(child_got, 9u);
  // The forker waited while its heap and stack were copied over the bus.
  EXPECT_GT(returned_at - forked_at, 2e-3);
}

TEST_F(SimTest, IncarnationHandlePropagatedWithReducedRightsCannotDestroy) {
  int status_rc = -100, destroy_rc = -100, got_type = -100;
  OneRdc r(
      sys(),
      [&](Equus& eq) {
        int target = 0, s1 = 0, watcher = 0, s2 = 0;
        unsigned here = eq.inc_where();
        ASSERT_EQ(eq.inc_create(eq.inc_moduleId("child"), here, &target, &s1, nullptr), E_OK);
        ASSERT_EQ(eq.inc_create(eq.inc_moduleId("child"), here, &watcher, &s2, nullptr), E_OK);
        Msg m;
        m.m_ref = RefDescrip{RefType::Incarnation, target, true, 0, INC_RIGHT_STATUS, {}};
        ASSERT_EQ(eq.inc_send(s2, &m), E_OK);  // the target's handle, status rights only
      },
      [&](Equus& eq) {
        Msg m;
        if (eq.inc_receive(eq.incarnation().defaults().std_port, &m, 0, 0, 2000) != 1) return;
        got_type = static_cast<int>(m.m_ref.rd_type);
        IncStatus st;
        status_rc = eq.inc_status(m.m_ref.rd_obj, &st);
        destroy_rc = eq.inc_destroy(m.m_ref.rd_obj);
      });
  run_until(30);
  EXPECT_EQ(got_type, static_cast<int>(RefType::Incarnation));
  EXPECT_EQ(status_rc, E_OK);
  EXPECT_EQ(destroy_rc, E_RIGHTS);
}

}  // namespace equus::test
