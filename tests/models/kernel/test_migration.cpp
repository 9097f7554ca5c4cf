#include "tests/support/sim_fixture.hpp"
// inc_migrate (Section 7.4): transparency to communication, the completion event and its elapsed
// time, memory commitment, serialised migrations, destroy aborting a migration, redirection chains.

#include <vector>

#include "models/kernel/kernel.hpp"

using namespace equus::kernel;

namespace equus::test {

namespace {
/// An incarnation with a heap (set by inc_brk) that receives numbered messages until idle.
Program roamer(const int& port, std::vector<int>& got, std::vector<unsigned>& where, double heap) {
  return [&port, &got, &where, heap](Equus& eq) {
    eq.inc_brk(heap);
    Msg m;
    while (eq.inc_receive(port, &m, 0, 0, 3000) == 1) {
      got.push_back(m.get<int32_t>(0));
      where.push_back(eq.inc_where());
    }
  };
}
}  // namespace

TEST_F(SimTest, MigrationIsTransparentToSendersAndReportsItsElapsedTime) {
  int port = 0, stream = 0, child = 0, rc = -100;
  std::vector<int> got;
  std::vector<unsigned> where;
  EvDesc ev{};
  int waited = -1;
  auto& c = sys().create(1, "child", roamer(port, got, where, 100 * 1024));
  GlobalId chan = sys().bootstrap_channel(c, ChanType::Unicast, &port);
  auto& s = sys().create(0, "sender", [&](Equus& eq) {
    for (int i = 0; i < 200; ++i) {
      Msg m;
      m.put<int32_t>(0, i);
      EXPECT_EQ(eq.inc_send(stream, &m), E_OK);
      eq.compute(0.001);
    }
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  auto& mgr = sys().create(10, "manager", [&](Equus& eq) {
    eq.inc_sleep(100);
    rc = eq.inc_migrate(child, 5);
    waited = eq.inc_eventWait(&ev, 5000);
  });
  child = sys().bootstrap_inc_handle(mgr, c);
  for (auto* inc : {&c, &s, &mgr}) sys().start(*inc);
  run();
  EXPECT_EQ(rc, E_OK);
  ASSERT_EQ(waited, 1);
  EXPECT_EQ(ev.ed_evtype, EvType::MigrateDone);
  // About 19 + 1.2 p + 0.39 s ms for ~110 kB (Section 7.4.5): tens of milliseconds.
  double ms = ev.ed_info2 / 1000.0;
  EXPECT_GT(ms, 30);
  EXPECT_LT(ms, 120);
  ASSERT_EQ(got.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(got[i], i);
  EXPECT_EQ(where.front(), 1u);
  EXPECT_EQ(where.back(), 5u);
  EXPECT_EQ(&c.kernel(), &sys().kernel(5));
  EXPECT_TRUE(sys().kernel(1).hosted().empty());
}

TEST_F(SimTest, MigrationIsRefusedWhenTheDestinationLacksMemory) {
  int port = 0, child = 0, rc = -100, hog_rc = -100;
  std::vector<int> got;
  std::vector<unsigned> where;
  auto& c = sys().create(1, "child", roamer(port, got, where, 1024 * 1024));
  sys().bootstrap_channel(c, ChanType::Unicast, &port);
  auto& hog = sys().create(5, "hog", [&](Equus& eq) {
    hog_rc = eq.inc_brk(3.5 * 1024 * 1024);
    eq.inc_sleep(1000);
  });
  auto& mgr = sys().create(10, "manager", [&](Equus& eq) {
    eq.inc_sleep(100);
    rc = eq.inc_migrate(child, 5);
  });
  child = sys().bootstrap_inc_handle(mgr, c);
  for (auto* inc : {&c, &hog, &mgr}) sys().start(*inc);
  run();
  EXPECT_EQ(hog_rc, E_OK);
  EXPECT_EQ(rc, E_NOMEM);
  EXPECT_EQ(&c.kernel(), &sys().kernel(1));
}

TEST_F(SimTest, SecondMigrationWaitsAndRedirectionsChainToTheLastNode) {
  int port = 0, stream = 0, child = 0;
  int rc1 = -100, rc2 = -100;
  std::vector<int> got;
  std::vector<unsigned> where;
  std::vector<EvDesc> evs;
  auto& c = sys().create(1, "child", roamer(port, got, where, 64 * 1024));
  GlobalId chan = sys().bootstrap_channel(c, ChanType::Unicast, &port);
  auto& s = sys().create(0, "sender", [&](Equus& eq) {
    Msg first;
    first.put<int32_t>(0, 0);
    eq.inc_send(stream, &first);  // learns node 1's address
    eq.inc_sleep(1000);           // meanwhile the child moves twice: its stale address chains
    Msg m;
    m.put<int32_t>(0, 1);
    EXPECT_EQ(eq.inc_send(stream, &m), E_OK);
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  auto& mgr = sys().create(10, "manager", [&](Equus& eq) {
    eq.inc_sleep(100);
    rc1 = eq.inc_migrate(child, 4);
    rc2 = eq.inc_migrate(child, 7);  // waits for the first to finish
    EvDesc ev;
    while (evs.size() < 2 && eq.inc_eventWait(&ev, 3000) == 1) evs.push_back(ev);
  });
  child = sys().bootstrap_inc_handle(mgr, c);
  for (auto* inc : {&c, &s, &mgr}) sys().start(*inc);
  run();
  EXPECT_EQ(rc1, E_OK);
  EXPECT_EQ(rc2, E_OK);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(&c.kernel(), &sys().kernel(7));
  EXPECT_EQ(got, (std::vector<int>{0, 1}));
  EXPECT_EQ(where.back(), 7u);
  EXPECT_GE(sys().kernel(1).stats().redirected, 1);
  EXPECT_GE(sys().kernel(4).stats().redirected, 1);
}

TEST_F(SimTest, EvictedRedirectionFallsBackToLocatingTheChannel) {
  build({{"kernel.redirection_entries", "1"}});
  int port = 0, other = 0, stream = 0, child = 0, c2 = 0;
  std::vector<int> got, got2;
  std::vector<unsigned> where, where2;
  double second_sent = -1;
  auto& c = sys().create(1, "child", roamer(port, got, where, 16 * 1024));
  auto& d = sys().create(1, "other", roamer(other, got2, where2, 16 * 1024));
  GlobalId chan = sys().bootstrap_channel(c, ChanType::Unicast, &port);
  sys().bootstrap_channel(d, ChanType::Unicast, &other);
  auto& s = sys().create(0, "sender", [&](Equus& eq) {
    Msg m;
    m.put<int32_t>(0, 0);
    eq.inc_send(stream, &m);
    eq.inc_sleep(1000);
    double t0 = eq.now();
    m.put<int32_t>(0, 1);
    EXPECT_EQ(eq.inc_send(stream, &m), E_OK);
    second_sent = eq.now() - t0;
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  auto& mgr = sys().create(10, "manager", [&](Equus& eq) {
    eq.inc_sleep(100);
    eq.inc_migrate(child, 4);
    eq.inc_sleep(300);
    eq.inc_migrate(c2, 6);  // node 1's single redirection entry now names the other's ports
  });
  child = sys().bootstrap_inc_handle(mgr, c);
  c2 = sys().bootstrap_inc_handle(mgr, d);
  for (auto* inc : {&c, &d, &s, &mgr}) sys().start(*inc);
  run();
  EXPECT_EQ(got, (std::vector<int>{0, 1}));
  // The stale address found no port and no entry: the retry located the channel by broadcast.
  EXPECT_GT(second_sent, sys().params().kernel.retry_interval);
}

TEST_F(SimTest, DestroyAbortsAMigration) {
  int port = 0, child = 0, rc = -100, drc = -100;
  std::vector<int> got;
  std::vector<unsigned> where;
  double used_before = 0;
  auto& c = sys().create(1, "child", roamer(port, got, where, 1024 * 1024));
  sys().bootstrap_channel(c, ChanType::Unicast, &port);
  auto& mgr = sys().create(10, "manager", [&](Equus& eq) {
    eq.inc_sleep(100);
    used_before = sys().kernel(5).memory_used();
    rc = eq.inc_migrate(child, 5);
    eq.inc_sleep(20);  // copying a megabyte takes hundreds of milliseconds
    drc = eq.inc_destroy(child);
    eq.inc_sleep(1000);
  });
  child = sys().bootstrap_inc_handle(mgr, c);
  for (auto* inc : {&c, &mgr}) sys().start(*inc);
  run();
  EXPECT_EQ(rc, E_OK);
  EXPECT_EQ(drc, E_OK);
  EXPECT_EQ(c.state, IncState::Dead);
  EXPECT_DOUBLE_EQ(sys().kernel(5).memory_used(), used_before);  // the commitment was given back
  EXPECT_TRUE(sys().kernel(5).hosted().empty());
}

}  // namespace equus::test
