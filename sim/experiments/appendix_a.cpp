#include "sim/experiments/appendix_a.hpp"

#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include "models/kernel/equus.hpp"
#include "models/kernel/system.hpp"

namespace sg = simgrid::s4u;
using namespace equus::kernel;

namespace equus::sim::experiments {

std::vector<CellSpec> appendix_a_cells() {
  std::vector<CellSpec> cells;
  auto add = [&](const std::string& table, const std::string& row, Primitive p,
                 std::vector<std::pair<std::string, uint32_t>> cols, int calls = 1000, bool same = false) {
    for (auto& [c, b] : cols) cells.push_back(CellSpec{table, row, c, p, b, calls, same});
  };
  const std::vector<std::pair<std::string, uint32_t>> four = {
      {"0", 0}, {"1k", 1024}, {"32k", 32768}, {"64k", 65536}};
  add("A.1", "inc_invoke_noreply", Primitive::InvokeNoReply, four);
  add("A.1", "inc_invoke_reply", Primitive::InvokeReply, four);
  add("A.1", "inc_invoke_reply_stream_each_way", Primitive::InvokeReplyStreamEachWay, {{"0", 0}});
  add("A.1", "inc_asinvoke_bufferlimit1", Primitive::AsinvokeBufferLimit1, four);
  add("A.1", "inc_send", Primitive::Send, {{"0", 0}, {"1k", 1024}});
  // Table A.1: 500 and 250 inc_dgram calls "because of buffering restrictions", scaled to 1000.
  add("A.1", "inc_dgram", Primitive::Dgram, {{"0", 0}}, 500);
  add("A.1", "inc_dgram", Primitive::Dgram, {{"1k", 1024}}, 250);
  add("A.1", "inc_send_multicast_2_receivers", Primitive::SendMulticast2, {{"0", 0}, {"1k", 1024}});
  add("A.1", "inc_dgram_multicast_2_receivers", Primitive::DgramMulticast2, {{"0", 0}}, 250);
  add("A.2", "inc_invoke_noreply", Primitive::InvokeNoReply, four, 1000, true);
  add("A.2", "inc_invoke_reply", Primitive::InvokeReply, four, 1000, true);
  add("A.2", "inc_asinvoke_bufferlimit1", Primitive::AsinvokeBufferLimit1, four, 1000, true);
  add("A.3", "inc_copyto", Primitive::Copyto, {{"1k", 1024}, {"32k", 32768}});
  add("A.3", "inc_copyfrom", Primitive::Copyfrom, {{"1k", 1024}, {"32k", 32768}});
  return cells;
}

namespace {

bool multicast(Primitive p) { return p == Primitive::SendMulticast2 || p == Primitive::DgramMulticast2; }

/// The receiver of Appendix A.1: inc_receive in a simple loop (replying when the row says so).
Program receiver_program(const CellSpec& cell, const int* port) {
  return [cell, port](Equus& eq) {
    std::vector<std::byte> buf(std::max<uint32_t>(cell.extra_bytes, 1));
    Msg reply;
    for (;;) {
      Msg msg;
      msg.m_base = buf.data();
      msg.m_cnt = static_cast<uint32_t>(buf.size());
      bool block =
          cell.primitive == Primitive::InvokeReply || cell.primitive == Primitive::InvokeReplyStreamEachWay;
      int h = eq.inc_receive(*port, &msg, block ? 1 : 0, 0, -1);
      if (h > 1) {
        reply.m_ref = RefDescrip{};
        if (cell.primitive == Primitive::InvokeReplyStreamEachWay) {
          // Send the received stream back, destroying it (the system limits streams per incarnation).
          reply.m_ref.rd_type = RefType::Stream;
          reply.m_ref.rd_obj = msg.m_ref.rd_obj;
          reply.m_ref.rd_keep = false;
        }
        eq.inc_reply(h, &reply);
      }
    }
  };
}

/// An incarnation that owns a buffer and otherwise waits (the target of inc_copyto / inc_copyfrom).
Program idle_program(const int* port) {
  return [port](Equus& eq) {
    for (;;) {
      Msg msg;
      eq.inc_receive(*port, &msg, 0, 0, -1);
    }
  };
}

struct SenderState {
  int stream = 0;
  int spare_stream = 0;  // propagated each way in the stream row
  int buffer_handle = 0;
  double elapsed_ms = -1;
  int failures = 0;
};

Program sender_program(const CellSpec& cell, int calls, SenderState* st, sg::SemaphorePtr done) {
  return [cell, calls, st, done](Equus& eq) {
    std::vector<std::byte> data(std::max<uint32_t>(cell.extra_bytes, 1));
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7 + 3);
    if (cell.primitive == Primitive::AsinvokeBufferLimit1) eq.inc_setBufferLimit(st->stream, 1);
    TimeBuf t0;
    TimeBuf t1;
    eq.inc_time(&t0);
    for (int i = 0; i < calls; ++i) {
      Msg msg;
      msg.put<uint32_t>(0, static_cast<uint32_t>(i));
      msg.m_base = cell.extra_bytes ? data.data() : nullptr;
      msg.m_cnt = cell.extra_bytes;
      int rc = 0;
      switch (cell.primitive) {
        case Primitive::InvokeNoReply:
        case Primitive::InvokeReply:
          rc = eq.inc_invoke(st->stream, &msg);
          break;
        case Primitive::InvokeReplyStreamEachWay:
          msg.m_ref.rd_type = RefType::Stream;
          msg.m_ref.rd_obj = st->spare_stream;
          msg.m_ref.rd_keep = false;
          rc = eq.inc_invoke(st->stream, &msg);
          st->spare_stream = msg.m_ref.rd_obj;  // the stream came back in the reply
          break;
        case Primitive::AsinvokeBufferLimit1:
          rc = eq.inc_asinvoke(st->stream, &msg);
          break;
        case Primitive::Send:
        case Primitive::SendMulticast2:
          rc = eq.inc_send(st->stream, &msg);
          break;
        case Primitive::Dgram:
        case Primitive::DgramMulticast2:
          rc = eq.inc_dgram(st->stream, &msg);
          break;
        case Primitive::Copyto:
          rc = eq.inc_copyto(st->buffer_handle, 0, data.data(), cell.extra_bytes);
          break;
        case Primitive::Copyfrom:
          rc = eq.inc_copyfrom(st->buffer_handle, 0, data.data(), cell.extra_bytes);
          break;
      }
      if (rc < 0) ++st->failures;
    }
    eq.inc_time(&t1);
    st->elapsed_ms = static_cast<double>(t1.tb_elapsed) - static_cast<double>(t0.tb_elapsed);
    done->release();
  };
}

}  // namespace

CellResult run_cell(const CellSpec& cell, Testbed& testbed, const RunOptions& options) {
  System& sys = testbed.sys;
  const params::ModelParams& params = sys.params();
  if (sys.node_count() < 5) throw std::runtime_error("the Appendix A experiments need at least 5 pool nodes");

  CellResult result;
  result.spec = cell;
  int calls = std::max(1, static_cast<int>(std::lround(cell.calls * options.calls_scale)));
  // Sender and receivers on balanced nodes of the pool, as in Figure 3.3 (kathleen3, 4, 5).
  const int sender_node = 2;
  const int recv_node = cell.same_node ? sender_node : 3;
  const int recv2_node = 4;

  std::string error;
  sg::Actor::create("experimenter", sys.platform().unix_host(), [&] {
    std::mt19937_64 rng(options.seed * 7919 + 17);
    for (int e = 0; e < options.experiments; ++e) {
      // Experiments start out of step with the clock and the time daemons (Appendix A's variance).
      sg::this_actor::sleep_for(std::uniform_real_distribution<double>(0, 1)(rng) *
                                params.cpu.time_daemon_period);
      auto done = sg::Semaphore::create(0);
      SenderState st;
      std::vector<Incarnation*> incs;
      int port_a = 0;
      int port_b = 0;
      Incarnation* target = nullptr;
      bool copy = cell.primitive == Primitive::Copyto || cell.primitive == Primitive::Copyfrom;
      std::vector<std::byte> target_buffer(copy ? cell.extra_bytes : 0);
      if (copy)
        target = &sys.create(recv_node, "owner", idle_program(&port_a));
      else
        target = &sys.create(recv_node, "receiver", receiver_program(cell, &port_a));
      incs.push_back(target);
      ChanType type = multicast(cell.primitive) ? ChanType::Multicast : ChanType::Unicast;
      GlobalId chan = sys.bootstrap_channel(*target, type, &port_a);
      if (multicast(cell.primitive)) {
        auto& r2 = sys.create(recv2_node, "receiver2", receiver_program(cell, &port_b));
        port_b = sys.bootstrap_port(r2, chan);
        incs.push_back(&r2);
      }
      auto& sender = sys.create(sender_node, "sender", sender_program(cell, calls, &st, done));
      incs.push_back(&sender);
      st.stream = sys.bootstrap_stream(sender, chan, type);
      if (cell.primitive == Primitive::InvokeReplyStreamEachWay) {
        int scratch_port = 0;
        GlobalId spare = sys.bootstrap_channel(sender, ChanType::Unicast, &scratch_port);
        st.spare_stream = sys.bootstrap_stream(sender, spare, ChanType::Unicast);
      }
      if (copy)
        st.buffer_handle = sys.bootstrap_buffer_handle(
            sender, *target, Buf{target_buffer.data(), static_cast<uint32_t>(target_buffer.size())}, true);
      for (auto* inc : incs) sys.start(*inc);
      done->acquire();
      for (auto* inc : incs) sys.destroy(*inc);
      if (st.failures > 0) {
        error = cell.row + " " + cell.column + ": " + std::to_string(st.failures) + " calls failed";
        return;
      }
      result.per_experiment.push_back(st.elapsed_ms * 1000.0 / calls);
    }
  });
  testbed.engine.run();
  if (!error.empty()) throw std::runtime_error(error);
  if (static_cast<int>(result.per_experiment.size()) < options.experiments)
    throw std::runtime_error(cell.row + " " + cell.column + ": the simulation deadlocked; blocked:\n" +
                             sys.blocked_report());
  for (int n = 0; n < sys.node_count(); ++n) {
    result.retries += sys.kernel(n).stats().retries;
    result.dropped += sys.kernel(n).stats().packets_dropped_no_buffer + sys.kernel(n).stats().packets_lost;
  }
  const auto& v = result.per_experiment;
  if (v.empty()) throw std::runtime_error(cell.row + " " + cell.column + ": no experiment completed");
  result.mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  double ss = 0;
  for (double x : v) ss += (x - result.mean) * (x - result.mean);
  result.sd = v.size() > 1 ? std::sqrt(ss / (v.size() - 1)) : 0;
  return result;
}

}  // namespace equus::sim::experiments
