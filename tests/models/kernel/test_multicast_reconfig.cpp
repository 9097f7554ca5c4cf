#include "tests/support/sim_fixture.hpp"
// Multicast channels under reconfiguration, as the dissertation states them: attaching a port makes it
// a member of the group (6.2.2), propagating a port adds the new port to the group (6.2.1), streams
// over multicast channels cannot be rebound (6.2.3), and a multicast arriving at a moving port is
// dropped, inc_send guaranteeing delivery to at least one attached port (4.3.2, 6.2.4, 8.5.1).

#include <iostream>
#include <set>
#include <vector>

#include "models/kernel/kernel.hpp"

using namespace equus::kernel;

namespace equus::test {

namespace {

/// Sends the header-only messages numbered from..to-1 on `stream`, back to back.
void send_range(Equus& eq, int stream, int from, int to, std::vector<int>* rcs) {
  for (int i = from; i < to; ++i) {
    Msg m;
    m.put<int32_t>(0, i);
    rcs->push_back(eq.inc_send(stream, &m));
  }
}

/// Receives at `port` until `idle_ms` pass without a message (starting after `delay_ms`).
Program receiver(const int& port, std::vector<int>& got, int delay_ms = 0, int idle_ms = 800) {
  return [&port, &got, delay_ms, idle_ms](Equus& eq) {
    if (delay_ms > 0) eq.inc_sleep(delay_ms);
    Msg m;
    while (eq.inc_receive(port, &m, 0, 0, idle_ms) == 1) got.push_back(m.get<int32_t>(0));
  };
}

std::vector<int> range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

void wait_for(Equus& eq, const bool& flag) {
  while (!flag) eq.inc_sleep(5);
}

/// Sends a port in a message on `stream`, kept by the sender or not.
int propagate_port(Equus& eq, int stream, int port, bool keep) {
  Msg prop;
  prop.m_ref.rd_type = RefType::Port;
  prop.m_ref.rd_obj = port;
  prop.m_ref.rd_keep = keep;
  return eq.inc_send(stream, &prop);
}

/// Takes a propagated port from the message at `swap`; 0 if none came.
int take_port(Equus& eq, int swap) {
  Msg m;
  if (eq.inc_receive(swap, &m, 0, 0, -1) != 1 || m.m_ref.rd_type != RefType::Port) return 0;
  return m.m_ref.rd_obj;
}

bool no_duplicates(const std::vector<int>& v) { return std::set<int>(v.begin(), v.end()).size() == v.size(); }

}  // namespace

TEST_F(SimTest, MulticastAttachingAPortMakesItAMember) {
  // 6.2.2: "If it is a multicast channel, the newly attached port becomes a member of the
  // corresponding multicast group." The sender attaches the port itself, between its two batches.
  int p1 = 0, p2 = 0, stream = 0, h2 = 0, rc = -100;
  std::vector<int> got1, got2, rcs;
  auto& r1 = sys().create(1, "r1", receiver(p1, got1));
  auto& r2 = sys().create(2, "r2", receiver(p2, got2));
  GlobalId c = sys().bootstrap_channel(r1, ChanType::Multicast, &p1);
  sys().bootstrap_channel(r2, ChanType::Unicast, &p2);  // a port on another channel only
  auto& s = sys().create(0, "sender", [&](Equus& eq) {
    send_range(eq, stream, 0, 10, &rcs);
    rc = eq.inc_attachPort(h2, NO_PORT, stream, 0);
    send_range(eq, stream, 10, 20, &rcs);
  });
  stream = sys().bootstrap_stream(s, c, ChanType::Multicast);
  h2 = sys().bootstrap_handle(s, r2, p2);
  for (auto* inc : {&r1, &r2, &s}) sys().start(*inc);
  run();
  EXPECT_EQ(rc, E_OK);
  for (int r : rcs) EXPECT_EQ(r, E_OK);
  EXPECT_EQ(got1, range(0, 20));   // the old member stays one
  EXPECT_EQ(got2, range(10, 20));  // a member from the attachment on
}

// inc_attachPort with an oldport on a multicast channel. 6.2.2 says only that for a unicast channel
// the other port is "normally automatically detached" and that on a multicast one the new port becomes
// a member; Appendix B defines the call: it "attaches the port referred to by newport ... and
// optionally detaches the port oldport from the same channel", moving oldport's queued messages from
// that channel if move_q. So naming an oldport detaches it whatever the channel's type: it leaves the
// group, and only NO_PORT leaves it a member (test above).
/// r1 (node 1) is the multicast group's member, receiving only after 500 ms; a sender multicasts 0-9,
/// attaches r3's port (node 3) in r1's place, then multicasts 10-19.
class MulticastAttachingWithAnOldPort : public SimTest {
 protected:
  void run_with(int move_q) {
    int p1 = 0, p3 = 0, stream = 0, h1 = 0, h3 = 0;
    auto& r1 = sys().create(1, "r1", receiver(p1, got1_, 500));
    auto& r3 = sys().create(3, "r3", receiver(p3, got3_));
    GlobalId c = sys().bootstrap_channel(r1, ChanType::Multicast, &p1);
    sys().bootstrap_channel(r3, ChanType::Unicast, &p3);
    auto& s = sys().create(0, "sender", [&](Equus& eq) {
      send_range(eq, stream, 0, 10, &rcs_);
      rc_ = eq.inc_attachPort(h3, h1, stream, move_q);
      send_range(eq, stream, 10, 20, &rcs_);
    });
    stream = sys().bootstrap_stream(s, c, ChanType::Multicast);
    h1 = sys().bootstrap_handle(s, r1, p1);
    h3 = sys().bootstrap_handle(s, r3, p3);
    for (auto* inc : {&r1, &r3, &s}) sys().start(*inc);
    run();
    EXPECT_EQ(rc_, E_OK);
    for (int r : rcs_) EXPECT_EQ(r, E_OK);
  }
  int rc_ = -100;
  std::vector<int> got1_, got3_, rcs_;
};

TEST_F(MulticastAttachingWithAnOldPort, DetachesItAndMovesItsQueue) {
  run_with(1);
  EXPECT_TRUE(got1_.empty());      // its queue moved and it left the group
  EXPECT_EQ(got3_, range(0, 20));  // the queue forwarded first, then the later multicasts
  EXPECT_GT(sys().kernel(1).stats().forwarded, 0);
}

TEST_F(MulticastAttachingWithAnOldPort, WithoutMovingTheQueueLeavesItThere) {
  run_with(0);
  EXPECT_EQ(got1_, range(0, 10));  // what had queued, and nothing later: detached
  EXPECT_EQ(got3_, range(10, 20));
  EXPECT_EQ(sys().kernel(1).stats().forwarded, 0);
}

/// r1 (node 1) owns a multicast port and propagates it to r3 (node 3), which takes it 200 ms later; a
/// sender multicasts 0-9, then 10-14 once r1 has propagated, then 15-19 once r3 has taken the port.
class MulticastPropagation : public SimTest {
 protected:
  /// Runs the three with r1's `program`, which must set `propagated_`; every inc_send must succeed.
  void run_with(Program r1_program) {
    auto& r1 = sys().create(1, "r1", std::move(r1_program));
    auto& r3 = sys().create(3, "r3", [this](Equus& eq) {
      eq.inc_sleep(200);
      int port = take_port(eq, swap3_);
      ASSERT_NE(port, 0);
      taken_ = true;
      Msg m;
      while (eq.inc_receive(port, &m, 0, 0, 800) == 1) got3_.push_back(m.get<int32_t>(0));
    });
    GlobalId c = sys().bootstrap_channel(r1, ChanType::Multicast, &p1_);
    GlobalId cs3 = sys().bootstrap_channel(r3, ChanType::Unicast, &swap3_);
    to_r3_ = sys().bootstrap_stream(r1, cs3, ChanType::Unicast);
    auto& s = sys().create(0, "sender", [this](Equus& eq) {
      send_range(eq, stream_, 0, 10, &rcs_);
      wait_for(eq, propagated_);
      send_range(eq, stream_, 10, 15, &rcs_);
      wait_for(eq, taken_);
      send_range(eq, stream_, 15, 20, &rcs_);
    });
    stream_ = sys().bootstrap_stream(s, c, ChanType::Multicast);
    for (auto* inc : {&r1, &r3, &s}) sys().start(*inc);
    run();
    for (int r : rcs_) EXPECT_EQ(r, E_OK);
  }
  int p1_ = 0, to_r3_ = 0, swap3_ = 0, stream_ = 0;
  bool propagated_ = false, taken_ = false;
  std::vector<int> got1_, got3_, rcs_;
};

// 6.2.1: "If the original port is attached to a multicast channel, the new port becomes added to
// those to which invocations are multicast." Not retained, the original port is deleted (Figure 8.5,
// lines 18-20), so the propagator leaves the group, and what had queued at it goes with the port.
// The recipient takes the port only 200 ms after it was sent: messages 10-14 are sent meanwhile.
TEST_F(MulticastPropagation, NotRetainedThePortMovesItsMembership) {
  int later_rc = -100, prop_rc = -100;
  run_with([&](Equus& eq) {
    Msg m;
    while (got1_.size() < 10 && eq.inc_receive(p1_, &m, 0, 0, 2000) == 1) got1_.push_back(m.get<int32_t>(0));
    prop_rc = propagate_port(eq, to_r3_, p1_, false);
    propagated_ = true;
    later_rc = eq.inc_receive(p1_, &m, 0, 0, 0);  // no longer its port
    eq.inc_sleep(1000);  // the propagator hands the queue over when the recipient takes the port
  });
  EXPECT_EQ(prop_rc, E_OK);
  EXPECT_EQ(later_rc, E_BADREF);
  EXPECT_EQ(got1_, range(0, 10));
  EXPECT_EQ(got3_, range(10, 20));  // 10-14 queued at the propagated port and forwarded with it
  EXPECT_EQ(sys().kernel(1).stats().forwarded, 5);
}

// Retained (rd_keep), the original port stays, with its queue "received as normal" (6.2.4), and stays
// a member: only a unicast channel forces the original's detachment (6.2.1: "as it has to be"), and
// the option of making arrivals pending until the copy is taken is for "the unicast case" only
// (6.2.4; ss_return's keepqueue "is examined only in the case of propagating a unicast port"). So
// the multicasts sent before the recipient takes the port (10-14) still queue at the original.
TEST_F(MulticastPropagation, RetainedThePortAddsAMember) {
  int prop_rc = -100;
  run_with([&](Equus& eq) {
    Msg m;
    while (got1_.size() < 10 && eq.inc_receive(p1_, &m, 0, 0, 2000) == 1) got1_.push_back(m.get<int32_t>(0));
    prop_rc = propagate_port(eq, to_r3_, p1_, true);
    propagated_ = true;
    while (eq.inc_receive(p1_, &m, 0, 0, 800) == 1) got1_.push_back(m.get<int32_t>(0));
  });
  EXPECT_EQ(prop_rc, E_OK);
  EXPECT_EQ(got1_, range(0, 20));   // still a member throughout
  EXPECT_EQ(got3_, range(15, 20));  // a member once it has taken the port
  EXPECT_EQ(sys().kernel(1).stats().retries, 0);
}

// 6.2.3: "Rebinding is only provided for streams attached to unicast channels". Refused, whether the
// new stream or the stream rebound is a multicast one, and with or without a port to forward from;
// nothing changes: the multicasts queued at and sent after go to the group's member only.
TEST_F(SimTest, MulticastStreamRebindingIsRefusedAndChangesNothing) {
  int p1 = 0, p2 = 0, p4 = 0, stream = 0, to_m2 = 0, to_u4 = 0, hs = 0, hp1 = 0;
  std::vector<int> rebind_rcs, got1, got2, got4, rcs;
  auto& r1 = sys().create(1, "r1", receiver(p1, got1, 500));  // its queue is there to be forwarded
  auto& r2 = sys().create(2, "r2", receiver(p2, got2));
  auto& r4 = sys().create(4, "r4", receiver(p4, got4));
  GlobalId c1 = sys().bootstrap_channel(r1, ChanType::Multicast, &p1);
  GlobalId c2 = sys().bootstrap_channel(r2, ChanType::Multicast, &p2);
  GlobalId c4 = sys().bootstrap_channel(r4, ChanType::Unicast, &p4);
  auto& s = sys().create(0, "sender", [&](Equus& eq) {
    send_range(eq, stream, 0, 10, &rcs);
    for (int port : {NO_PORT, hp1}) {
      rebind_rcs.push_back(eq.inc_rebindStream(hs, to_m2, port));  // to another multicast channel
      rebind_rcs.push_back(eq.inc_rebindStream(hs, to_u4, port));  // to a unicast one
    }
    send_range(eq, stream, 10, 20, &rcs);
  });
  stream = sys().bootstrap_stream(s, c1, ChanType::Multicast);
  to_m2 = sys().bootstrap_stream(s, c2, ChanType::Multicast);
  to_u4 = sys().bootstrap_stream(s, c4, ChanType::Unicast);
  hs = sys().bootstrap_handle(s, s, stream);
  hp1 = sys().bootstrap_handle(s, r1, p1);
  for (auto* inc : {&r1, &r2, &r4, &s}) sys().start(*inc);
  run();
  EXPECT_EQ(rebind_rcs, std::vector<int>(4, E_NOTUNICAST));
  for (int r : rcs) EXPECT_EQ(r, E_OK);
  EXPECT_EQ(got1, range(0, 20));
  EXPECT_TRUE(got2.empty());
  EXPECT_TRUE(got4.empty());
  EXPECT_EQ(sys().kernel(1).stats().forwarded, 0);
}

// Sends back to back while a member's port is propagated (not retained). What the dissertation
// guarantees: inc_send succeeds once one attached port has taken the message (4.3.2), a multicast
// arriving at the moving port is dropped and its retries find the recipient's entry (8.5.1), and a
// new port may or may not get a message sent meanwhile (6.2.4). So: every send succeeds, every
// message is received by some member, and no incarnation receives one twice. The invariant checker
// (TearDown) checks only reliable unicast streams, so it has nothing to say about these.
class MulticastDuringPropagation : public SimTest {
 protected:
  struct Outcome {
    std::vector<int> rcs, got_a, got_b, got_c;
  };
  /// A (node 1) gives its port to C (node 3) after receiving 30 messages; B (node 2), if `with_b`,
  /// is a member throughout.
  Outcome run_case(bool with_b, int n) {
    Outcome o;
    int pa = 0, pb = 0, to_c = 0, swap_c = 0, stream = 0;
    auto& a = sys().create(1, "a", [&](Equus& eq) {
      Msg m;
      while (o.got_a.size() < 30 && eq.inc_receive(pa, &m, 0, 0, 3000) == 1)
        o.got_a.push_back(m.get<int32_t>(0));
      EXPECT_EQ(propagate_port(eq, to_c, pa, false), E_OK);
      eq.inc_sleep(2000);
    });
    auto& c = sys().create(3, "c", [&](Equus& eq) {
      int port = take_port(eq, swap_c);
      ASSERT_NE(port, 0);
      Msg m;
      while (eq.inc_receive(port, &m, 0, 0, 1500) == 1) o.got_c.push_back(m.get<int32_t>(0));
    });
    GlobalId chan = sys().bootstrap_channel(a, ChanType::Multicast, &pa);
    GlobalId cs = sys().bootstrap_channel(c, ChanType::Unicast, &swap_c);
    to_c = sys().bootstrap_stream(a, cs, ChanType::Unicast);
    std::vector<Incarnation*> incs{&a, &c};
    if (with_b) {
      auto& b = sys().create(2, "b", receiver(pb, o.got_b, 0, 1500));
      pb = sys().bootstrap_port(b, chan);
      incs.push_back(&b);
    }
    auto& s = sys().create(0, "sender", [&](Equus& eq) { send_range(eq, stream, 0, n, &o.rcs); });
    stream = sys().bootstrap_stream(s, chan, ChanType::Multicast);
    incs.push_back(&s);
    for (auto* inc : incs) sys().start(*inc);
    run();
    return o;
  }

  static void check(const Outcome& o, int n) {
    ASSERT_EQ(o.rcs.size(), static_cast<std::size_t>(n));
    for (int r : o.rcs) EXPECT_EQ(r, E_OK);
    EXPECT_TRUE(no_duplicates(o.got_a));
    EXPECT_TRUE(no_duplicates(o.got_b));
    EXPECT_TRUE(no_duplicates(o.got_c));
    std::set<int> all(o.got_a.begin(), o.got_a.end());
    all.insert(o.got_b.begin(), o.got_b.end());
    all.insert(o.got_c.begin(), o.got_c.end());
    EXPECT_EQ(all.size(), static_cast<std::size_t>(n));
    EXPECT_TRUE(all.empty() || (*all.begin() == 0 && *all.rbegin() == n - 1));
    EXPECT_FALSE(o.got_c.empty());  // the port did move
    ::testing::Test::RecordProperty("received_by_a", static_cast<int>(o.got_a.size()));
    ::testing::Test::RecordProperty("received_by_b", static_cast<int>(o.got_b.size()));
    ::testing::Test::RecordProperty("received_by_c", static_cast<int>(o.got_c.size()));
  }
};

TEST_F(MulticastDuringPropagation, EverySendReachesSomeMemberOnceEach) {
  const int n = 150;
  Outcome o = run_case(true, n);
  check(o, n);
  // B never moves, so nothing excuses it missing one (its buffers suffice for this rate).
  EXPECT_EQ(o.got_b, range(0, n));
  // The run does exercise the drop: some multicasts reached node 1 while its port was moving.
  EXPECT_GT(n - static_cast<int>(o.got_a.size() + o.got_c.size()), 0);
  std::cout << "A " << o.got_a.size() << ", B " << o.got_b.size() << ", C " << o.got_c.size() << " of " << n
            << "; dropped at the moving port on node 1: "
            << n - static_cast<int>(o.got_a.size() + o.got_c.size()) << "\n";
}

TEST_F(MulticastDuringPropagation, WhenTheOnlyMemberMovesRetriesFindTheNewPort) {
  const int n = 150;
  Outcome o = run_case(false, n);
  check(o, n);
  EXPECT_GT(sys().kernel(0).stats().retries, 0);  // one was dropped at the moving port, then retried
  std::cout << "A " << o.got_a.size() << ", C " << o.got_c.size() << " of " << n
            << "; sender retries: " << sys().kernel(0).stats().retries << "\n";
}

}  // namespace equus::test
