#include "tests/support/sim_fixture.hpp"
// inc_invoke, inc_reply and inc_forward (Appendix B.4.1): headers, reply data, reply routing, bulk
// extra data and the simulated cost of a round trip.

#include <vector>

using namespace equus::kernel;

namespace equus::test {

TEST_F(SimTest, InvokeWithoutReplyReturnsOkAndReceiverSeesHeader) {
  int port = 0, stream = 0;
  uint32_t seen = 0;
  int recv_rc = -100, inv_rc = -100;
  uint32_t nreply = 99, head_after = 0;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    Msg m;
    recv_rc = eq.inc_receive(port, &m, 0, 0, -1);
    seen = m.get<uint32_t>(0);
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().spawn(0, "invoker", [&](Equus& eq) {
    Msg m;
    m.put<uint32_t>(0, 0xC0FFEEu);
    m.m_nreply = 1234;
    inv_rc = eq.inc_invoke(stream, &m);
    nreply = m.m_nreply;
    head_after = m.get<uint32_t>(0);
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  run();
  EXPECT_EQ(recv_rc, 1);  // block_invoker = 0: the kernel unblocks the invoker itself
  EXPECT_EQ(seen, 0xC0FFEEu);
  EXPECT_EQ(inv_rc, E_OK);
  EXPECT_EQ(nreply, 0u);             // no explicit reply: no reply data
  EXPECT_EQ(head_after, 0xC0FFEEu);  // and the header is left as sent
}

TEST_F(SimTest, InvokeReplyCarriesHeaderAndExtraData) {
  int port = 0, stream = 0;
  std::vector<std::byte> ibuf(256, std::byte{0xAA}), rbuf(256), reply(100, std::byte{0xBB});
  int handle = -100, reply_rc = -100, inv_rc = -100;
  uint32_t got_cnt = 0, reply_head = 0, nreply = 0;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    Msg m;
    m.m_base = rbuf.data();
    m.m_cnt = static_cast<uint32_t>(rbuf.size());
    handle = eq.inc_receive(port, &m, 1, 0, -1);
    got_cnt = m.m_cnt;
    Msg rm;
    rm.put<uint32_t>(0, m.get<uint32_t>(0) + 1);
    rm.m_base = reply.data();
    rm.m_cnt = static_cast<uint32_t>(reply.size());
    reply_rc = eq.inc_reply(handle, &rm);
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().spawn(0, "invoker", [&](Equus& eq) {
    Msg m;
    m.put<uint32_t>(0, 7);
    m.m_base = ibuf.data();
    m.m_cnt = static_cast<uint32_t>(ibuf.size());
    inv_rc = eq.inc_invoke(stream, &m);
    reply_head = m.get<uint32_t>(0);
    nreply = m.m_nreply;
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  run();
  EXPECT_GT(handle, 1);  // a reply handle
  EXPECT_EQ(got_cnt, 256u);
  for (auto b : rbuf) ASSERT_EQ(b, std::byte{0xAA});
  EXPECT_EQ(reply_rc, E_OK);
  EXPECT_EQ(inv_rc, E_OK);
  EXPECT_EQ(reply_head, 8u);
  EXPECT_EQ(nreply, 100u);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(ibuf[i], std::byte{0xBB}) << "reply byte " << i;
  for (int i = 100; i < 256; ++i)
    ASSERT_EQ(ibuf[i], std::byte{0xAA}) << "byte " << i << " beyond the reply was overwritten";
}

TEST_F(SimTest, RepliesInReverseOrderReachTheirOwnInvokers) {
  int port = 0;
  int streams[2] = {0, 0};
  uint32_t got[2] = {0, 0};
  int rc[2] = {-100, -100};
  double done[2] = {0, 0};
  uint32_t received[2] = {0, 0};
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    int h[2];
    for (int i = 0; i < 2; ++i) {
      Msg m;
      h[i] = eq.inc_receive(port, &m, 1, 0, -1);
      ASSERT_GT(h[i], 1);
      received[i] = m.get<uint32_t>(0);
    }
    for (int i = 1; i >= 0; --i) {  // second first
      Msg rm;
      rm.put<uint32_t>(0, received[i] + 1000);
      ASSERT_EQ(eq.inc_reply(h[i], &rm), E_OK);
      eq.compute(0.005);  // separate the two replies in time
    }
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  const int nodes[2] = {0, 2};
  for (int i = 0; i < 2; ++i) {
    auto& s = sys().spawn(nodes[i], "invoker" + std::to_string(i), [&, i](Equus& eq) {
      eq.inc_sleep(i * 3);  // invoker 0 arrives first
      Msg m;
      m.put<uint32_t>(0, 10u * (i + 1));
      rc[i] = eq.inc_invoke(streams[i], &m);
      got[i] = m.get<uint32_t>(0);
      done[i] = eq.now();
    });
    streams[i] = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  }
  run();
  ASSERT_EQ(received[0], 10u);
  ASSERT_EQ(received[1], 20u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(rc[i], E_OK);
    EXPECT_EQ(got[i], 10u * (i + 1) + 1000) << "invoker " << i << " got another's reply";
  }
  EXPECT_LT(done[1], done[0]);  // the later invoker was replied to first
}

namespace {
void check_bulk_invoke(kernel::System& sys, std::size_t bytes) {
  int port = 0, stream = 0;
  std::vector<std::byte> sent(bytes), got(bytes);
  for (std::size_t i = 0; i < bytes; ++i) sent[i] = static_cast<std::byte>((i * 7 + 3) & 0xff);
  uint32_t got_cnt = 0;
  int inv_rc = -100;
  auto& r = sys.spawn(4, "receiver", [&](Equus& eq) {
    Msg m;
    m.m_base = got.data();
    m.m_cnt = static_cast<uint32_t>(got.size());
    ASSERT_EQ(eq.inc_receive(port, &m, 0, 0, -1), 1);
    got_cnt = m.m_cnt;
  });
  GlobalId chan = sys.bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys.spawn(5, "invoker", [&](Equus& eq) {
    Msg m;
    m.m_base = sent.data();
    m.m_cnt = static_cast<uint32_t>(sent.size());
    inv_rc = eq.inc_invoke(stream, &m);
  });
  stream = sys.bootstrap_stream(s, chan, ChanType::Unicast);
  simgrid::s4u::Engine::get_instance()->run();
  EXPECT_EQ(inv_rc, E_OK);
  EXPECT_EQ(got_cnt, bytes);
  EXPECT_TRUE(got == sent) << "extra data corrupted";
}
}  // namespace

TEST_F(SimTest, Invoke32kExtraDataArrivesIntact) { check_bulk_invoke(sys(), 32768); }

TEST_F(SimTest, Invoke100kExtraDataArrivesIntactAcrossCopyChunks) {
  check_bulk_invoke(sys(), 100000);  // over the 64 kB copied per kernel message
}

TEST_F(SimTest, ForwardedInvocationIsRepliedToByTheFinalReceiver) {
  int portA = 0, portB = 0, streamI = 0, streamAB = 0;
  std::vector<std::byte> ibuf(64, std::byte{0x11}), bbuf(64);
  int fwd_rc = -100, stale_rc = -100, inv_rc = -100;
  uint32_t a_head = 0, b_head = 0, b_cnt = 0, final_head = 0, nreply = 0;
  auto& b = sys().spawn(2, "B", [&](Equus& eq) {
    Msg m;
    m.m_base = bbuf.data();
    m.m_cnt = static_cast<uint32_t>(bbuf.size());
    int h = eq.inc_receive(portB, &m, 1, 0, -1);
    ASSERT_GT(h, 1);
    b_head = m.get<uint32_t>(0);
    b_cnt = m.m_cnt;
    std::vector<std::byte> rd(16, std::byte{0x22});
    Msg rm;
    rm.put<uint32_t>(0, 3);
    rm.m_base = rd.data();
    rm.m_cnt = 16;
    ASSERT_EQ(eq.inc_reply(h, &rm), E_OK);
  });
  GlobalId chanB = sys().bootstrap_channel(b, ChanType::Unicast, &portB);
  auto& a = sys().create(1, "A", [&](Equus& eq) {
    Msg m;
    int h = eq.inc_receive(portA, &m, 1, 0, -1);
    ASSERT_GT(h, 1);
    a_head = m.get<uint32_t>(0);
    Msg f;
    f.put<uint32_t>(0, 2);
    fwd_rc = eq.inc_forward(streamAB, h, &f);
    Msg again;
    stale_rc = eq.inc_reply(h, &again);  // the handle went with the forwarded message
  });
  GlobalId chanA = sys().bootstrap_channel(a, ChanType::Unicast, &portA);
  streamAB = sys().bootstrap_stream(a, chanB, ChanType::Unicast);
  sys().start(a);
  auto& inv = sys().create(0, "invoker", [&](Equus& eq) {
    Msg m;
    m.put<uint32_t>(0, 1);
    m.m_base = ibuf.data();
    m.m_cnt = static_cast<uint32_t>(ibuf.size());
    inv_rc = eq.inc_invoke(streamI, &m);
    final_head = m.get<uint32_t>(0);
    nreply = m.m_nreply;
  });
  streamI = sys().bootstrap_stream(inv, chanA, ChanType::Unicast);
  sys().start(inv);
  run();
  EXPECT_EQ(a_head, 1u);
  EXPECT_EQ(fwd_rc, E_OK);
  EXPECT_EQ(stale_rc, E_BADREF);
  EXPECT_EQ(b_head, 2u);  // the forwarder's header
  EXPECT_EQ(b_cnt, 64u);  // the invoker's extra data
  for (auto x : bbuf) ASSERT_EQ(x, std::byte{0x11});
  EXPECT_EQ(inv_rc, E_OK);
  EXPECT_EQ(final_head, 3u);  // B's reply
  EXPECT_EQ(nreply, 16u);
  for (int i = 0; i < 16; ++i) ASSERT_EQ(ibuf[i], std::byte{0x22});
  EXPECT_EQ(ibuf[16], std::byte{0x11});
}

TEST_F(SimTest, InvokeRoundTripTakesPlausibleSimulatedTime) {
  int port = 0, stream = 0;
  std::vector<double> took;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    for (int i = 0; i < 3; ++i) {
      Msg m;
      ASSERT_EQ(eq.inc_receive(port, &m, 0, 0, -1), 1);
    }
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().spawn(0, "invoker", [&](Equus& eq) {
    eq.inc_sleep(10);  // the receiver is waiting
    for (int i = 0; i < 3; ++i) {
      Msg m;
      double t0 = eq.now();
      ASSERT_EQ(eq.inc_invoke(stream, &m), E_OK);
      took.push_back(eq.now() - t0);
    }
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  run();
  ASSERT_EQ(took.size(), 3u);
  for (double t : took) {
    EXPECT_GE(t, 1e-3);
    EXPECT_LE(t, 5e-3);
  }
}

// At-most-once delivery: lost requests are re-sent, lost replies come from the reply cache, and the
// receiver sees every invocation exactly once.
TEST_F(SimTest, InvokeIsExecutedExactlyOnceDespitePacketLoss) {
  build({{"kernel.packet_loss_probability", "0.3"},
         {"kernel.retry_interval", "0.01"},
         {"kernel.max_retries", "40"}});
  const uint32_t n = 50;
  int port = 0, stream = 0;
  std::vector<uint32_t> seen;
  std::vector<int> rcs;
  std::vector<uint32_t> replies;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    for (;;) {
      Msg m;
      int h = eq.inc_receive(port, &m, 1, 0, 1000);
      if (h == 0) break;
      ASSERT_GT(h, 1);
      seen.push_back(m.get<uint32_t>(0));
      Msg rm;
      rm.put<uint32_t>(0, m.get<uint32_t>(0) + 500);
      ASSERT_EQ(eq.inc_reply(h, &rm), E_OK);
    }
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().spawn(0, "invoker", [&](Equus& eq) {
    for (uint32_t i = 0; i < n; ++i) {
      Msg m;
      m.put<uint32_t>(0, i);
      rcs.push_back(eq.inc_invoke(stream, &m));
      replies.push_back(m.get<uint32_t>(0));
    }
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  run();
  ASSERT_EQ(rcs.size(), n);
  ASSERT_EQ(seen.size(), n) << "an invocation was lost or executed twice";
  for (uint32_t i = 0; i < n; ++i) {
    EXPECT_EQ(rcs[i], E_OK);
    EXPECT_EQ(seen[i], i);
    EXPECT_EQ(replies[i], i + 500);
  }
  EXPECT_GT(sys().kernel(0).stats().retries, 0);
  EXPECT_GT(sys().kernel(1).stats().duplicates, 0);  // some replies were lost and re-sent from the cache
}

TEST_F(SimTest, ARetryOlderThanTheReplyCacheIsNeverExecutedAgain) {
  // Issue 14 (duplicates at 256 nodes on a saturated bus): a retry that reached the server after its
  // reply had been lost and its cache entry collected was executed a second time. Here the cache keeps
  // entries for less than the invoker's retry window and half the packets are lost: every call is
  // executed at most once (some fail instead), and late retries are dropped as stale.
  build({{"kernel.packet_loss_probability", "0.5"},
         {"kernel.retry_interval", "0.02"},
         {"kernel.max_retries", "40"},
         {"kernel.reply_cache_age", "0.03"},
         {"m68030.time_daemon_period", "0.01"}});
  const uint32_t n = 60;
  int port = 0, stream = 0;
  std::vector<uint32_t> seen;
  std::vector<int> rcs;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    for (;;) {
      Msg m;
      int h = eq.inc_receive(port, &m, 1, 0, 2000);
      if (h == 0) break;
      seen.push_back(m.get<uint32_t>(0));
      Msg rm;
      eq.inc_reply(h, &rm);
    }
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().spawn(0, "invoker", [&](Equus& eq) {
    for (uint32_t i = 0; i < n; ++i) {
      Msg m;
      m.put<uint32_t>(0, i);
      rcs.push_back(eq.inc_invoke(stream, &m));
    }
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  run();
  ASSERT_EQ(rcs.size(), n);
  std::vector<int> times(n, 0);
  for (uint32_t v : seen) ++times.at(v);
  for (uint32_t i = 0; i < n; ++i) {
    EXPECT_LE(times[i], 1) << "call " << i << " executed " << times[i] << " times";
    if (rcs[i] == E_OK) {
      EXPECT_EQ(times[i], 1) << "call " << i;
    }
  }
  EXPECT_GT(sys().kernel(1).stats().packets_dropped_stale, 0);
  EXPECT_TRUE(sys().network().checker()->violations().empty());
}

// Extra data is truncated to the room each side offers, never written past it.
TEST_F(SimTest, InvokeDataIsTruncatedToTheRoomOffered) {
  int port = 0, stream = 0;
  std::vector<std::byte> ibuf(256, std::byte{0xAA}), rbuf(256, std::byte{0}), reply(100, std::byte{0xBB});
  uint32_t got_cnt = 0, nreply = 0;
  auto& r = sys().spawn(1, "receiver", [&](Equus& eq) {
    Msg m;
    m.m_base = rbuf.data();
    m.m_cnt = 4;  // room for 4 of the 10 bytes sent
    int h = eq.inc_receive(port, &m, 1, 0, -1);
    ASSERT_GT(h, 1);
    got_cnt = m.m_cnt;
    Msg rm;
    rm.m_base = reply.data();
    rm.m_cnt = 100;  // more than the invoker's 10 bytes of room
    ASSERT_EQ(eq.inc_reply(h, &rm), E_OK);
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().spawn(0, "invoker", [&](Equus& eq) {
    Msg m;
    m.m_base = ibuf.data();
    m.m_cnt = 10;
    ASSERT_EQ(eq.inc_invoke(stream, &m), E_OK);
    nreply = m.m_nreply;
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  run();
  EXPECT_EQ(got_cnt, 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(rbuf[i], std::byte{0xAA});
  EXPECT_EQ(rbuf[4], std::byte{0});
  EXPECT_EQ(nreply, 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(ibuf[i], std::byte{0xBB});
  EXPECT_EQ(ibuf[10], std::byte{0xAA});
}

TEST_F(SimTest, SameNodeInvokeCarriesDataBothWays) {
  int port = 0, stream = 0;
  std::vector<std::byte> ibuf(5000), rbuf(5000), reply(3000, std::byte{0x5A});
  for (std::size_t i = 0; i < ibuf.size(); ++i) ibuf[i] = static_cast<std::byte>(i % 253);
  const auto sent = ibuf;
  uint32_t got_cnt = 0, nreply = 0, head = 0;
  auto& r = sys().spawn(6, "receiver", [&](Equus& eq) {
    Msg m;
    m.m_base = rbuf.data();
    m.m_cnt = 5000;
    int h = eq.inc_receive(port, &m, 1, 0, -1);
    ASSERT_GT(h, 1);
    got_cnt = m.m_cnt;
    Msg rm;
    rm.put<uint32_t>(0, 99);
    rm.m_base = reply.data();
    rm.m_cnt = 3000;
    ASSERT_EQ(eq.inc_reply(h, &rm), E_OK);
  });
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().spawn(6, "invoker", [&](Equus& eq) {
    Msg m;
    m.m_base = ibuf.data();
    m.m_cnt = 5000;
    ASSERT_EQ(eq.inc_invoke(stream, &m), E_OK);
    nreply = m.m_nreply;
    head = m.get<uint32_t>(0);
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  run();
  EXPECT_EQ(got_cnt, 5000u);
  EXPECT_TRUE(rbuf == sent);
  EXPECT_EQ(head, 99u);
  EXPECT_EQ(nreply, 3000u);
  EXPECT_TRUE(std::equal(reply.begin(), reply.end(), ibuf.begin()));
  EXPECT_TRUE(std::equal(sent.begin() + 3000, sent.end(), ibuf.begin() + 3000));
}

TEST_F(SimTest, InvokeOnBadReferencesFails) {
  int port = 0, stream = 0;
  int bad_stream = -100, bad_handle = -100, bad_fwd = -100;
  auto& r = sys().spawn(1, "receiver", [&](Equus&) {});
  GlobalId chan = sys().bootstrap_channel(r, ChanType::Unicast, &port);
  auto& s = sys().create(0, "invoker", [&](Equus& eq) {
    Msg m;
    bad_stream = eq.inc_invoke(stream + 1000, &m);
    bad_handle = eq.inc_reply(12345, &m);
    bad_fwd = eq.inc_forward(stream, 12345, &m);
  });
  stream = sys().bootstrap_stream(s, chan, ChanType::Unicast);
  sys().start(s);
  run();
  EXPECT_EQ(bad_stream, E_BADREF);
  EXPECT_EQ(bad_handle, E_BADREF);
  EXPECT_EQ(bad_fwd, E_BADREF);
}

// Forwarding is a one-off: the invoker's stream still names A's channel afterwards, whoever replied.
// B unblocks the invoker implicitly (block_invoker = 0); the kernel's implicit reply carries B's
// port as the "resolved" destination, which must not rebind the invoker's stream to B.
//
// A forwarded call's reply must not tell the invoker that its stream now leads to the forwardee:
// the invoker's second call on A's stream still reaches A (regression: it reached B).
TEST_F(SimTest, ForwardingDoesNotRebindTheInvokersStream) {
  int portA = 0, portB = 0, streamI = 0, streamAB = 0;
  std::vector<uint32_t> at_a, at_b;
  int rc[2] = {-100, -100};
  auto& b = sys().spawn(2, "B", [&](Equus& eq) {
    for (;;) {
      Msg m;
      if (eq.inc_receive(portB, &m, 0, 0, 300) != 1) break;
      at_b.push_back(m.get<uint32_t>(0));
    }
  });
  GlobalId chanB = sys().bootstrap_channel(b, ChanType::Unicast, &portB);
  auto& a = sys().create(1, "A", [&](Equus& eq) {
    for (;;) {
      Msg m;
      int h = eq.inc_receive(portA, &m, 1, 0, 300);
      if (h == 0) break;
      ASSERT_GT(h, 1);
      uint32_t v = m.get<uint32_t>(0);
      at_a.push_back(v);
      Msg f;
      f.put<uint32_t>(0, v + 100);
      if (v == 1)
        ASSERT_EQ(eq.inc_forward(streamAB, h, &f), E_OK);  // the first goes on to B
      else
        ASSERT_EQ(eq.inc_reply(h, &f), E_OK);  // the second A answers itself
    }
  });
  GlobalId chanA = sys().bootstrap_channel(a, ChanType::Unicast, &portA);
  streamAB = sys().bootstrap_stream(a, chanB, ChanType::Unicast);
  sys().start(a);
  auto& inv = sys().create(0, "invoker", [&](Equus& eq) {
    for (uint32_t i = 0; i < 2; ++i) {
      Msg m;
      m.put<uint32_t>(0, i + 1);
      rc[i] = eq.inc_invoke(streamI, &m);
    }
  });
  streamI = sys().bootstrap_stream(inv, chanA, ChanType::Unicast);
  sys().start(inv);
  run();
  EXPECT_EQ(rc[0], E_OK);
  EXPECT_EQ(rc[1], E_OK);
  EXPECT_EQ(at_a, (std::vector<uint32_t>{1, 2})) << "the second invocation on A's stream did not reach A";
  EXPECT_EQ(at_b, std::vector<uint32_t>{101});
}

}  // namespace equus::test
