#include "tests/support/sim_fixture.hpp"
// inc_asinvoke completion events (inc_eventWait) and inc_setBufferLimit's argument checks.

#include <set>
#include <vector>

using namespace equus::kernel;

namespace equus::test {

TEST_F(SimTest, AsinvokeCompletionEventFollowsTheReceive) {
  int port = 0, stream = 0;
  std::vector<std::byte> sbuf(100, std::byte{3}), rbuf(100);
  double receive_called = -1, received = -1, event_at = -1;
  int as_rc = -100, early = -100, waited = -100;
  EvDesc ev{};
  EvDesc none{};
  uint32_t got_cnt = 0;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    eq.compute(0.05);  // not receiving yet
    Msg m;
    m.m_base = rbuf.data();
    m.m_cnt = 100;
    receive_called = eq.now();
    ASSERT_EQ(eq.inc_receive(port, &m, 0, 0, -1), 1);
    got_cnt = m.m_cnt;
    received = eq.now();
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().create(0, "sender", [&](Equus& eq) {
    Msg m;
    m.m_base = sbuf.data();
    m.m_cnt = 100;
    as_rc = eq.inc_asinvoke(stream, &m);  // default: no buffer limit, returns at once
    early = eq.inc_eventWait(&none, 0);   // not received yet
    waited = eq.inc_eventWait(&ev, 2000);
    event_at = eq.now();
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  sys().start(s);
  run();
  EXPECT_EQ(as_rc, E_OK);
  EXPECT_EQ(early, 0);
  EXPECT_EQ(waited, 1);
  EXPECT_EQ(ev.ed_evtype, EvType::AsinvokeDone);
  EXPECT_EQ(ev.ed_reference, static_cast<uint32_t>(stream));
  EXPECT_EQ(got_cnt, 100u);
  EXPECT_EQ(rbuf[99], std::byte{3});
  EXPECT_GE(receive_called, 0.05);
  // The completion is reported once the receiver has taken the message (its inc_receive returns only
  // after the completion notice is acknowledged, so the event may precede that return).
  EXPECT_GT(event_at, receive_called);
  EXPECT_LT(event_at, received + 0.02);
}

TEST_F(SimTest, EachAsinvokeCompletesWithItsOwnEvent) {
  int port = 0, stream = 0;
  const int n = 3;
  std::vector<EvDesc> evs;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    for (int i = 0; i < n; ++i) {
      Msg m;
      ASSERT_EQ(eq.inc_receive(port, &m, 0, 0, -1), 1);
      EXPECT_EQ(m.get<int>(0), i);
    }
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().create(0, "sender", [&](Equus& eq) {
    for (int i = 0; i < n; ++i) {
      Msg m;
      m.put<int>(0, i);
      ASSERT_EQ(eq.inc_asinvoke(stream, &m), E_OK);
    }
    for (int i = 0; i < n; ++i) {
      EvDesc ev{};
      ASSERT_EQ(eq.inc_eventWait(&ev, 2000), 1);
      evs.push_back(ev);
    }
    EvDesc extra{};
    EXPECT_EQ(eq.inc_eventWait(&extra, 50), 0);  // no more
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  sys().start(s);
  run();
  ASSERT_EQ(evs.size(), static_cast<std::size_t>(n));
  std::set<uint32_t> ids;
  for (const auto& ev : evs) {
    EXPECT_EQ(ev.ed_evtype, EvType::AsinvokeDone);
    EXPECT_EQ(ev.ed_reference, static_cast<uint32_t>(stream));
    ids.insert(ev.ed_info1);
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(n));  // distinct calls
}

TEST_F(SimTest, AsinvokeIdsStayUniqueAcrossAMigration) {
  // Issue 14, K1: ids were the node's transaction numbers, so an incarnation migrated with calls
  // outstanding could list one id twice on its stream and a completion event could not say which call
  // it was. Three calls before a migration, three after, all outstanding until the receiver wakes.
  int port = 0, stream = 0, child = 0;
  const int n = 6;
  std::vector<EvDesc> evs;
  int migrated = -100;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    eq.inc_sleep(1000);
    for (int i = 0; i <= n; ++i) {
      Msg m;
      ASSERT_EQ(eq.inc_receive(port, &m, 0, 0, -1), 1);
    }
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().create(0, "sender", [&](Equus& eq) {
    Msg first;
    ASSERT_EQ(eq.inc_send(stream, &first), E_OK);  // a transaction number, so that node 0's and node 4's meet
    for (int i = 0; i < n; ++i) {
      if (i == n / 2) eq.inc_sleep(500);  // migrated meanwhile
      Msg m;
      m.put<int>(0, i);
      ASSERT_EQ(eq.inc_asinvoke(stream, &m), E_OK);
    }
    for (int i = 0; i < n; ++i) {
      EvDesc ev{};
      ASSERT_EQ(eq.inc_eventWait(&ev, 5000, {EvType::AsinvokeDone}), 1);
      evs.push_back(ev);
    }
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  auto& mgr = sys().create(10, "manager", [&](Equus& eq) {
    eq.inc_sleep(100);
    migrated = eq.inc_migrate(child, 4);
  });
  child = sys().bootstrap_inc_handle(mgr, s);
  for (auto* inc : {&s, &mgr}) sys().start(*inc);
  run();
  EXPECT_EQ(migrated, E_OK);
  EXPECT_EQ(s.kernel().node(), 4);
  ASSERT_EQ(evs.size(), static_cast<std::size_t>(n));
  std::set<uint32_t> ids;
  for (const auto& ev : evs) ids.insert(ev.ed_info1);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(n));
}

TEST_F(SimTest, SetBufferLimitChecksItsArguments) {
  int port = 0, stream = 0;
  int zero = -100, negative = -100, badref = -100, ok = -100;
  auto& r = sys().spawn(1, "receiver", [&](Equus&) {});
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().create(0, "sender", [&](Equus& eq) {
    zero = eq.inc_setBufferLimit(stream, 0);
    negative = eq.inc_setBufferLimit(stream, -1);
    badref = eq.inc_setBufferLimit(stream + 1000, 1);
    ok = eq.inc_setBufferLimit(stream, 2);
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  sys().start(s);
  run();
  EXPECT_EQ(zero, E_INVAL);
  EXPECT_EQ(negative, E_INVAL);
  EXPECT_EQ(badref, E_BADREF);
  EXPECT_EQ(ok, E_OK);
}

TEST_F(SimTest, AsinvokeIsReceivedAndCompletedExactlyOnceDespitePacketLoss) {
  build({{"kernel.packet_loss_probability", "0.3"},
         {"kernel.retry_interval", "0.01"},
         {"kernel.max_retries", "40"}});
  const int n = 20;
  int port = 0, stream = 0;
  std::vector<std::byte> sbuf(300);
  for (std::size_t i = 0; i < sbuf.size(); ++i) sbuf[i] = static_cast<std::byte>(i & 0xff);
  std::vector<int> seen;
  int bad_data = 0;
  std::vector<EvDesc> evs;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    for (;;) {
      std::vector<std::byte> rbuf(300);
      Msg m;
      m.m_base = rbuf.data();
      m.m_cnt = 300;
      if (eq.inc_receive(port, &m, 0, 0, 1000) != 1) break;
      seen.push_back(m.get<int>(0));
      if (m.m_cnt != 300 || rbuf != sbuf) ++bad_data;
    }
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().create(0, "sender", [&](Equus& eq) {
    for (int i = 0; i < n; ++i) {
      Msg m;
      m.put<int>(0, i);
      m.m_base = sbuf.data();
      m.m_cnt = 300;
      ASSERT_EQ(eq.inc_asinvoke(stream, &m), E_OK);
    }
    for (;;) {
      EvDesc ev{};
      if (eq.inc_eventWait(&ev, 1000) != 1) break;
      evs.push_back(ev);
    }
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  sys().start(s);
  run();
  std::vector<int> want(n);
  for (int i = 0; i < n; ++i) want[i] = i;
  EXPECT_EQ(seen, want);
  EXPECT_EQ(bad_data, 0);
  EXPECT_EQ(evs.size(), static_cast<std::size_t>(n)) << "completion events lost or duplicated";
  std::set<uint32_t> ids;
  for (const auto& ev : evs) ids.insert(ev.ed_info1);
  EXPECT_EQ(ids.size(), evs.size());
}

namespace {
/// Simulated duration of the receiver's inc_receive of `bytes` of extra data sent by `asinvoke` or
/// inc_invoke from the same card (the message is queued before the receive starts).
double same_node_receive_time(kernel::System& sys, bool asinvoke, uint32_t bytes) {
  int port = 0, stream = 0;
  std::vector<std::byte> sbuf(bytes, std::byte{5}), rbuf(bytes);
  double took = -1;
  auto& r = sys.spawn(3, "receiver", [&](Equus& eq) {
    eq.inc_sleep(100);
    Msg m;
    m.m_base = rbuf.data();
    m.m_cnt = bytes;
    double t0 = eq.now();
    ASSERT_EQ(eq.inc_receive(port, &m, 0, 0, -1), 1);
    took = eq.now() - t0;
    EXPECT_TRUE(rbuf == sbuf);
  });
  GlobalId chan = sys.bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys.create(3, "sender", [&](Equus& eq) {
    Msg m;
    m.m_base = sbuf.data();
    m.m_cnt = bytes;
    ASSERT_EQ(asinvoke ? eq.inc_asinvoke(stream, &m) : eq.inc_invoke(stream, &m), E_OK);
    eq.inc_sleep(1000);  // an asinvoke's data stays in the sender's space: stay alive until it is taken
  });
  stream = sys.bootstrap_stream(s, chan, ChanType::Unicast);
  sys.start(s);
  simgrid::s4u::Engine::get_instance()->run();
  return took;
}
}  // namespace

// On one card extra data moves by a bulk copy at local_bulk_copy_rate (no bus involved).
TEST_F(SimTest, SameNodeInvokeDataCostsALocalCopy) {
  double took = same_node_receive_time(sys(), false, 32768);
  EXPECT_GE(took, 32768 / sys().params().cpu.local_bulk_copy_rate);
}

// The sender's ghost must not "push" over the bus to its own card (which SimGrid's loopback would
// make nearly free): it copies locally, like every other same-card copy.
TEST_F(SimTest, SameNodeAsinvokeDataCostsALocalCopy) {
  double took = same_node_receive_time(sys(), true, 32768);
  EXPECT_GE(took, 32768 / sys().params().cpu.local_bulk_copy_rate);
}

}  // namespace equus::test
