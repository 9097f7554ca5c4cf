#include "tests/support/sim_fixture.hpp"
// Changing the receiver (Chapter 6, Section 8.5): port attachment, port propagation, stream
// rebinding (with and without a port to forward from), stream freezing, and the invariant checker.

#include <vector>

#include "models/kernel/kernel.hpp"

using namespace equus::kernel;

namespace equus::test {

namespace {

/// Sends `n` header-only messages numbered 0..n-1 on `stream`, pausing `gap` seconds between them.
Program sender(const int& stream, int n, double gap, std::vector<int>* rcs = nullptr) {
  return [&stream, n, gap, rcs](Equus& eq) {
    for (int i = 0; i < n; ++i) {
      Msg m;
      m.put<int32_t>(0, i);
      int rc = eq.inc_send(stream, &m);
      if (rcs) rcs->push_back(rc);
      if (gap > 0) eq.compute(gap);
    }
  };
}

/// Receives at `port` until `idle_ms` pass without a message (starting after `delay` seconds).
Program receiver(const int& port, std::vector<int>& got, double delay = 0, int idle_ms = 400) {
  return [&port, &got, delay, idle_ms](Equus& eq) {
    if (delay > 0) eq.inc_sleep(static_cast<int>(delay * 1000));
    Msg m;
    while (eq.inc_receive(port, &m, 0, 0, idle_ms) == 1) got.push_back(m.get<int32_t>(0));
  };
}

/// True when `a` followed by `b` is 0..n-1 in order... per receiver, each in increasing order.
bool increasing(const std::vector<int>& v) {
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i] <= v[i - 1]) return false;
  return true;
}

}  // namespace

TEST_F(SimTest, PortAttachmentForwardsQueuedMessagesAndReroutesLaterOnes) {
  int p1 = 0, p2 = 0, stream = 0, mstream = 0, h1 = 0, h2 = 0, rc = -100;
  std::vector<int> got1, got2;
  // R1 receives only after the reconfiguration: its whole queue must move to R2.
  auto& r1 = sys().create(1, "r1", receiver(p1, got1, 0.5));
  auto& r2 = sys().create(2, "r2", receiver(p2, got2, 0, 800));
  GlobalId c1 = sys().bootstrap_channel(r1, ChanType::Unicast, &p1);
  sys().bootstrap_channel(r2, ChanType::Unicast, &p2);
  auto& s = sys().create(0, "sender", sender(stream, 60, 0.002));
  stream = sys().bootstrap_stream(s, c1, ChanType::Unicast);
  auto& m = sys().create(3, "manager", [&](Equus& eq) {
    eq.inc_sleep(100);
    rc = eq.inc_attachPort(h2, h1, mstream, 1);
  });
  mstream = sys().bootstrap_stream(m, c1, ChanType::Unicast);
  h1 = sys().bootstrap_handle(m, r1, p1);
  h2 = sys().bootstrap_handle(m, r2, p2);
  for (auto* inc : {&r1, &r2, &s, &m}) sys().start(*inc);
  run();
  EXPECT_EQ(rc, E_OK);
  EXPECT_TRUE(got1.empty());  // R1's port was detached before it received
  ASSERT_EQ(got2.size(), 60u);
  EXPECT_TRUE(increasing(got2));
  long forwarded = sys().kernel(1).stats().forwarded;
  EXPECT_GT(forwarded, 10);  // what had queued at R1 in 100 ms
  EXPECT_GT(sys().kernel(1).stats().redirected + sys().kernel(1).stats().forwarded_pending, 0);
}

TEST_F(SimTest, PortPropagationWithoutRetentionMovesTheQueue) {
  int p1 = 0, swap1 = 0, p2 = 0, swap2 = 0, to_r2 = 0, stream = 0;
  std::vector<int> got1, got2;
  int propagated = -100;
  // R1 receives 20 messages, then gives its port (and queue) to R2, which receives the rest.
  auto& r1 = sys().create(1, "r1", [&](Equus& eq) {
    Msg m;
    while (got1.size() < 20 && eq.inc_receive(p1, &m, 0, 0, 2000) == 1) got1.push_back(m.get<int32_t>(0));
    eq.compute(0.02);  // messages accumulate meanwhile
    Msg prop;
    prop.m_ref.rd_type = RefType::Port;
    prop.m_ref.rd_obj = p1;
    prop.m_ref.rd_keep = false;
    propagated = eq.inc_send(to_r2, &prop);
    eq.inc_sleep(2000);  // the propagator hands the queue over when the recipient takes the port
  });
  auto& r2 = sys().create(2, "r2", [&](Equus& eq) {
    Msg m;
    ASSERT_EQ(eq.inc_receive(swap2, &m, 0, 0, -1), 1);
    ASSERT_EQ(m.m_ref.rd_type, RefType::Port);
    int port = m.m_ref.rd_obj;
    while (eq.inc_receive(port, &m, 0, 0, 500) == 1) got2.push_back(m.get<int32_t>(0));
  });
  GlobalId c1 = sys().bootstrap_channel(r1, ChanType::Unicast, &p1);
  sys().bootstrap_channel(r1, ChanType::Unicast, &swap1);
  GlobalId cs2 = sys().bootstrap_channel(r2, ChanType::Unicast, &swap2);
  (void)p2;
  to_r2 = sys().bootstrap_stream(r1, cs2, ChanType::Unicast);
  auto& s = sys().create(0, "sender", sender(stream, 100, 0.001));
  stream = sys().bootstrap_stream(s, c1, ChanType::Unicast);
  for (auto* inc : {&r1, &r2, &s}) sys().start(*inc);
  run();
  EXPECT_EQ(propagated, E_OK);
  ASSERT_EQ(got1.size(), 20u);
  ASSERT_EQ(got1.size() + got2.size(), 100u);
  EXPECT_TRUE(increasing(got2));
  EXPECT_EQ(got2.front(), 20);
  EXPECT_GT(sys().kernel(1).stats().forwarded, 0);
}

TEST_F(SimTest, StreamRebindingMovesOnlyThatStreamsMessages) {
  int p1 = 0, p2 = 0, sa = 0, sb = 0, new_stream = 0, ha = 0, hp1 = 0, rc = -100;
  std::vector<int> got1, got2;
  auto& r1 = sys().create(1, "r1", receiver(p1, got1, 0.3));
  auto& r2 = sys().create(2, "r2", receiver(p2, got2, 0, 800));
  GlobalId c1 = sys().bootstrap_channel(r1, ChanType::Unicast, &p1);
  GlobalId c2 = sys().bootstrap_channel(r2, ChanType::Unicast, &p2);
  auto& a = sys().create(0, "client-a", sender(sa, 30, 0.004));
  auto& b = sys().create(3, "client-b", [&](Equus& eq) {
    for (int i = 0; i < 30; ++i) {
      Msg m;
      m.put<int32_t>(0, 1000 + i);
      eq.inc_send(sb, &m);
      eq.compute(0.004);
    }
  });
  sa = sys().bootstrap_stream(a, c1, ChanType::Unicast);
  sb = sys().bootstrap_stream(b, c1, ChanType::Unicast);
  auto& m = sys().create(4, "manager", [&](Equus& eq) {
    eq.inc_sleep(60);
    rc = eq.inc_rebindStream(ha, new_stream, hp1);
  });
  new_stream = sys().bootstrap_stream(m, c2, ChanType::Unicast);
  ha = sys().bootstrap_handle(m, a, sa);
  hp1 = sys().bootstrap_handle(m, r1, p1);
  for (auto* inc : {&r1, &r2, &a, &b, &m}) sys().start(*inc);
  run();
  EXPECT_EQ(rc, E_OK);
  // Client A's messages all end at R2 (queued ones forwarded), client B's all at R1.
  std::vector<int> a_at_1, b_at_2;
  for (int v : got1)
    if (v < 1000) a_at_1.push_back(v);
  for (int v : got2)
    if (v >= 1000) b_at_2.push_back(v);
  EXPECT_TRUE(a_at_1.empty());
  EXPECT_TRUE(b_at_2.empty());
  EXPECT_EQ(got2.size(), 30u);
  EXPECT_EQ(got1.size(), 30u);
  EXPECT_TRUE(increasing(got2));
  EXPECT_TRUE(increasing(got1));
}

TEST_F(SimTest, RebindingWithoutAPortRedirectsAfterTheReceiverDied) {
  int p1 = 0, p2 = 0, stream = 0, new_stream = 0, hs = 0, rc = -100;
  std::vector<int> got2;
  std::vector<int> rcs;
  auto& r1 = sys().create(1, "r1", [&](Equus& eq) {
    Msg m;
    eq.inc_receive(p1, &m, 0, 0, -1);  // takes one, then dies with the rest unreceived
  });
  auto& r2 = sys().create(2, "r2", receiver(p2, got2, 0, 3000));
  GlobalId c1 = sys().bootstrap_channel(r1, ChanType::Unicast, &p1);
  GlobalId c2 = sys().bootstrap_channel(r2, ChanType::Unicast, &p2);
  auto& s = sys().create(0, "sender", [&](Equus& eq) {
    for (int i = 0; i < 2; ++i) {
      Msg m;
      m.put<int32_t>(0, i);
      rcs.push_back(eq.inc_send(stream, &m));
    }
    for (int i = 2; i < 5; ++i) {
      Msg m;
      m.put<int32_t>(0, i);
      rcs.push_back(eq.inc_send(stream, &m));
    }
  });
  stream = sys().bootstrap_stream(s, c1, ChanType::Unicast);
  auto& m = sys().create(3, "manager", [&](Equus& eq) {
    eq.inc_sleep(100);
    rc = eq.inc_rebindStream(hs, new_stream, NO_PORT);
  });
  new_stream = sys().bootstrap_stream(m, c2, ChanType::Unicast);
  hs = sys().bootstrap_handle(m, s, stream);
  for (auto* inc : {&r1, &r2, &s, &m}) sys().start(*inc);
  run();
  EXPECT_EQ(rc, E_OK);
  // Message 1 reached node 1 after R1 had gone: its retries follow the rebinding made within the
  // 5 s of retries, so the sender never sees the failure (Section 6.2.4, "Reconfiguring Under Failure").
  EXPECT_EQ(got2, (std::vector<int>{1, 2, 3, 4}));
  for (int r : rcs) EXPECT_EQ(r, E_OK);
}

TEST_F(SimTest, RebindingWhileASendIsPreparedKeepsTheOrder) {
  // Found by the property test: a send that read its stream's destination before the holder's ghost
  // rebound the stream, and left after the ghost had answered, reached the old receiver after the
  // rebinding had ended, behind the messages sent after it to the new receiver. The sender and the
  // old receiver share a card, so the sender spends most of its time preparing sends; the old
  // receiver pauses while the rebinding is made, so a message left behind would wait there.
  int p1 = 0, p2 = 0, stream = 0, to2 = 0, hs = 0, hp1 = 0, rc = -100;
  std::vector<int> got1, got2, rcs;
  auto& r1 = sys().create(0, "r1", [&](Equus& eq) {
    Msg m;
    while (eq.now() < 0.0415) {  // polls until the rebinding begins, then pauses
      while (eq.inc_receive(p1, &m, 0, 0, 0) == 1) got1.push_back(m.get<int32_t>(0));
      eq.inc_sleep(1);
    }
    eq.inc_sleep(60);
    while (eq.inc_receive(p1, &m, 0, 0, 300) == 1) got1.push_back(m.get<int32_t>(0));
  });
  auto& r2 = sys().create(2, "r2", receiver(p2, got2, 0, 600));
  GlobalId c1 = sys().bootstrap_channel(r1, ChanType::Unicast, &p1);
  GlobalId c2 = sys().bootstrap_channel(r2, ChanType::Unicast, &p2);
  auto& s = sys().create(0, "sender", sender(stream, 100, 0, &rcs));
  stream = sys().bootstrap_stream(s, c1, ChanType::Unicast);
  auto& m = sys().create(3, "manager", [&](Equus& eq) {
    eq.compute(0.0405);
    rc = eq.inc_rebindStream(hs, to2, hp1);
  });
  to2 = sys().bootstrap_stream(m, c2, ChanType::Unicast);
  hs = sys().bootstrap_handle(m, s, stream);
  hp1 = sys().bootstrap_handle(m, r1, p1);
  for (auto* inc : {&r1, &r2, &s, &m}) sys().start(*inc);
  run();
  EXPECT_EQ(rc, E_OK);
  for (int r : rcs) EXPECT_EQ(r, E_OK);
  ASSERT_FALSE(got1.empty());
  ASSERT_FALSE(got2.empty());
  EXPECT_EQ(got1.size() + got2.size(), 100u);
  EXPECT_EQ(got1.back() + 1, got2.front());  // the checker (TearDown) verifies the order of receipt
}

TEST_F(SimTest, RebindingToAnotherChannelOfTheSamePortKeepsTheStreamTogether) {
  // Found by the property test. R1's port has both channels: rebinding the stream from C1 to C2 with
  // forwarding from that port once forwarded its queue to itself for ever; then its queued messages
  // still counted as arrived over C1, so attaching C1 elsewhere (queue moved) split the stream.
  int p1 = 0, p2 = 0, p3 = 0, stream = 0, to1 = 0, to2 = 0, hs = 0, hp1 = 0, hp2 = 0, hp3 = 0;
  int rc1 = -100, rc2 = -100, rc3 = -100;
  std::vector<int> got1, got2, rcs;
  auto& r1 = sys().create(1, "r1", receiver(p1, got1, 0.5));
  auto& r2 = sys().create(2, "r2", receiver(p2, got2, 0, 800));
  auto& r3 = sys().create(3, "r3", [](Equus& eq) { eq.inc_sleep(300); });
  GlobalId c1 = sys().bootstrap_channel(r1, ChanType::Unicast, &p1);
  GlobalId c2 = sys().bootstrap_channel(r3, ChanType::Unicast, &p3);
  sys().bootstrap_channel(r2, ChanType::Unicast, &p2);
  auto& s = sys().create(0, "sender", sender(stream, 30, 0.002, &rcs));
  stream = sys().bootstrap_stream(s, c1, ChanType::Unicast);
  auto& m = sys().create(4, "manager", [&](Equus& eq) {
    eq.inc_sleep(10);
    rc1 = eq.inc_attachPort(hp1, hp3, to2, 1);  // R1's port now has C1 and C2
    eq.inc_sleep(30);
    rc2 = eq.inc_rebindStream(hs, to2, hp1);
    eq.inc_sleep(20);
    rc3 = eq.inc_attachPort(hp2, hp1, to1, 1);  // C1 to R2: the stream's messages are C2's now
  });
  to1 = sys().bootstrap_stream(m, c1, ChanType::Unicast);
  to2 = sys().bootstrap_stream(m, c2, ChanType::Unicast);
  hs = sys().bootstrap_handle(m, s, stream);
  hp1 = sys().bootstrap_handle(m, r1, p1);
  hp2 = sys().bootstrap_handle(m, r2, p2);
  hp3 = sys().bootstrap_handle(m, r3, p3);
  for (auto* inc : {&r1, &r2, &r3, &s, &m}) sys().start(*inc);
  run();
  EXPECT_EQ(rc1, E_OK);
  EXPECT_EQ(rc2, E_OK);
  EXPECT_EQ(rc3, E_OK);
  for (int r : rcs) EXPECT_EQ(r, E_OK);
  EXPECT_TRUE(got2.empty());
  ASSERT_EQ(got1.size(), 30u);
  EXPECT_TRUE(increasing(got1));
}

TEST_F(SimTest, FrozenStreamBlocksItsSenderUntilUnfrozen) {
  int p = 0, stream = 0, h = 0;
  std::vector<double> sent_at;
  double unfrozen_at = -1;
  std::vector<int> got;
  auto& r = sys().create(1, "r", receiver(p, got, 0, 1000));
  GlobalId c = sys().bootstrap_channel(r, ChanType::Unicast, &p);
  auto& s = sys().create(0, "sender", [&](Equus& eq) {
    for (int i = 0; i < 3; ++i) {
      Msg m;
      m.put<int32_t>(0, i);
      eq.inc_send(stream, &m);
      sent_at.push_back(eq.now());
      eq.inc_sleep(100);
    }
  });
  stream = sys().bootstrap_stream(s, c, ChanType::Unicast);
  auto& m = sys().create(2, "manager", [&](Equus& eq) {
    eq.inc_sleep(50);
    EXPECT_EQ(eq.inc_freezeStream(h), E_OK);
    eq.inc_sleep(500);
    unfrozen_at = eq.now();
    EXPECT_EQ(eq.inc_unfreezeStream(h), E_OK);
  });
  h = sys().bootstrap_handle(m, s, stream);
  for (auto* inc : {&r, &s, &m}) sys().start(*inc);
  run();
  ASSERT_EQ(sent_at.size(), 3u);
  EXPECT_LT(sent_at[0], 0.05);
  EXPECT_GT(sent_at[1], unfrozen_at);  // held from about 0.1 s until unfrozen
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
}

TEST_F(SimTest, InvariantCheckerFailsWhenForwardingIsSkipped) {
  // The same reconfiguration as above with forwarding deliberately broken: the checker must notice.
  check_invariant_ = false;
  sys().network().skip_forwarding = true;
  int p1 = 0, p2 = 0, stream = 0, mstream = 0, h1 = 0, h2 = 0;
  std::vector<int> got1, got2;
  auto& r1 = sys().create(1, "r1", receiver(p1, got1, 0.5));
  auto& r2 = sys().create(2, "r2", receiver(p2, got2, 0, 800));
  GlobalId c1 = sys().bootstrap_channel(r1, ChanType::Unicast, &p1);
  sys().bootstrap_channel(r2, ChanType::Unicast, &p2);
  auto& s = sys().create(0, "sender", sender(stream, 60, 0.002));
  stream = sys().bootstrap_stream(s, c1, ChanType::Unicast);
  auto& m = sys().create(3, "manager", [&](Equus& eq) {
    eq.inc_sleep(100);
    eq.inc_attachPort(h2, h1, mstream, 1);
  });
  mstream = sys().bootstrap_stream(m, c1, ChanType::Unicast);
  h1 = sys().bootstrap_handle(m, r1, p1);
  h2 = sys().bootstrap_handle(m, r2, p2);
  for (auto* inc : {&r1, &r2, &s, &m}) sys().start(*inc);
  run();
  const auto& v = sys().finish_checks();
  ASSERT_FALSE(v.empty());
  EXPECT_NE(v.front().find("port attachment"), std::string::npos) << v.front();
  EXPECT_NE(v.front().find("stream"), std::string::npos) << v.front();
}

}  // namespace equus::test
