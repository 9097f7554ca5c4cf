#include "sim/experiments/reconfig_experiments.hpp"

#include <cmath>
#include <memory>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

#include "models/kernel/equus.hpp"
#include "models/kernel/kernel.hpp"
#include "models/kernel/system.hpp"

namespace sg = simgrid::s4u;
using namespace equus::kernel;

namespace equus::sim::experiments {

namespace {

// Harness constants (not model costs). Appendix A.3: the manager's pause "was determined
// heuristically so that 100 reconfigurations were performed altogether whilst sending continued":
// the expected time per inc_send (the published 21.9 s / 10,000) spreads them over the run.
constexpr double send_period_guess_s = 2.19e-3;
constexpr int messages_per_turn = 100;  // A.3: "approximately 100 invocation messages" per receiver
constexpr int receive_timeout_ms = 1000;
// Table A.4's incarnations run on ten nodes, the manager on an eleventh.
constexpr int migration_nodes = 10;
constexpr int manager_node = 10;
// Table A.5: sender, receivers and manager on balanced nodes, as Table A.1's experiments.
constexpr int sender_node = 2, r1_node = 3, r2_node = 4, reconf_manager_node = 5;

int scaled(int count, double scale) { return std::max(1, static_cast<int>(std::lround(count * scale))); }

void summarise(CellResult& r) {
  const auto& v = r.per_experiment;
  if (v.empty()) throw std::runtime_error(r.spec.table + " " + r.spec.row + ": no measurement completed");
  r.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  r.sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0;
}

}  // namespace

std::vector<CellSpec> reconfig_experiment_cells() {
  std::vector<CellSpec> cells;
  // Table A.4: 100 migrations per cell (the primitive field is unused).
  for (const char* kb : {"70", "134", "196", "390", "518", "1030"})
    for (const char* ports : {"1_port", "9_ports"})
      cells.push_back(CellSpec{"A.4", kb, ports, Primitive::InvokeReply, 0, 100, false});
  // Table A.5: 10,000 inc_send calls per experiment.
  for (const char* row : {"no_reconfigurations", "port_propagation", "port_attachment", "stream_rebinding"})
    cells.push_back(CellSpec{"A.5", row, "elapsed", Primitive::Send, 0, 10000, false});
  return cells;
}

// ---------------------------------------------------------------- Table A.4

CellResult run_migration(const CellSpec& cell, Testbed& testbed, const RunOptions& options) {
  auto* engine = &testbed.engine;
  auto* sys = &testbed.sys;
  const params::ModelParams& params = sys->params();
  if (sys->node_count() < manager_node + 1) throw std::runtime_error("Table A.4 needs 11 pool nodes");
  CellResult result;
  result.spec = cell;
  int migrations = scaled(cell.calls, options.calls_scale);
  int nports = cell.column == "9_ports" ? 9 : 1;
  // The size counts text, heap, stack and pincdata in pages; without a module, all but the pincdata
  // is the heap (every segment is copied alike; only the text is copied before the freeze).
  double kb = std::stod(cell.row);
  double heap =
      kb * 1024 - std::ceil(params.kernel.pincdata_bytes / params.cpu.page_bytes) * params.cpu.page_bytes;
  std::string error;
  int port0 = 0, handle = 0;
  auto& child = sys->create(0, "migrant", [&](Equus& eq) {
    eq.inc_brk(heap);
    Msg m;
    eq.inc_receive(port0, &m, 0, 0, -1);  // no message is ever sent: blocked throughout (A.2)
  });
  sys->bootstrap_channel(child, ChanType::Unicast, &port0);
  for (int i = 1; i < nports; ++i) {
    int extra = 0;
    sys->bootstrap_channel(child, ChanType::Unicast, &extra);
  }
  auto& manager = sys->create(manager_node, "manager", [&](Equus& eq) {
    eq.inc_sleep(100);  // the child has set its heap
    for (int i = 0; i < migrations; ++i) {
      unsigned to = static_cast<unsigned>((i + 1) % migration_nodes);
      int rc = eq.inc_migrate(handle, to);
      EvDesc ev{};
      if (rc != E_OK || eq.inc_eventWait(&ev, 10000) != 1 || ev.ed_evtype != EvType::MigrateDone) {
        error = "migration " + std::to_string(i) + " to node " + std::to_string(to) + " failed (" +
                std::to_string(rc) + ")";
        return;
      }
      result.per_experiment.push_back(ev.ed_info2 / 1000.0);
    }
    sys->destroy(child);
  });
  handle = sys->bootstrap_inc_handle(manager, child);
  sys->start(child);
  sys->start(manager);
  engine->run();
  if (!error.empty()) throw std::runtime_error("A.4 " + cell.row + " " + cell.column + ": " + error);
  if (static_cast<int>(result.per_experiment.size()) < migrations)
    throw std::runtime_error("A.4 " + cell.row + " " + cell.column + ": deadlocked; blocked:\n" +
                             sys->blocked_report());
  summarise(result);
  return result;
}

// ---------------------------------------------------------------- Table A.5

namespace {

/// One experiment's shared state: references the programs use and what they report.
struct Rig {
  int stream = 0;              // sender: to channel 1
  int p1 = 0, p2 = 0;          // receivers' request ports
  int swap1 = 0, swap2 = 0;    // receivers' swap ports (port propagation)
  int to_r1 = 0, to_r2 = 0;    // receivers' streams to each other's swap port
  int h1 = 0, h2 = 0, hs = 0;  // manager: port handles, the sender's stream handle
  int ms1 = 0, ms2 = 0;        // manager: streams to channels 1 and 2
  bool sending = true;
  double elapsed_ms = -1;
  int failures = 0;
  std::string first_failure;
  int gaps = 0;  // sequence discontinuities seen by the receivers: the reconfigurations
  sg::SemaphorePtr done = sg::Semaphore::create(0);
  int finished = 0;  // programs that have ended
  void fail(const std::string& what, int rc, Equus& eq) {
    if (failures++ == 0)
      first_failure = what + " returned " + std::to_string(rc) + " at " + std::to_string(eq.now()) + " s";
  }
};

/// Records a received sequence number: a gap is a reconfiguration (or a loss, which the checker finds).
void note(Rig& rig, int& last, int seq) {
  if (seq != last + 1) ++rig.gaps;
  last = seq;
}

Program sender_program(Rig* rig, int calls) {
  return [rig, calls](Equus& eq) {
    TimeBuf t0, t1;
    eq.inc_time(&t0);
    for (int i = 0; i < calls; ++i) {
      Msg m;
      m.put<int32_t>(0, i);  // the sequence number the receivers check
      if (int rc = eq.inc_send(rig->stream, &m); rc != E_OK)
        rig->fail("inc_send #" + std::to_string(i), rc, eq);
    }
    eq.inc_time(&t1);
    rig->elapsed_ms = static_cast<double>(t1.tb_elapsed) - static_cast<double>(t0.tb_elapsed);
    rig->sending = false;
    ++rig->finished;
    rig->done->release();
  };
}

/// Receives until a timeout: port attachment, stream rebinding and no reconfiguration.
Program plain_receiver(Rig* rig, const int* port) {
  return [rig, port](Equus& eq) {
    int last = -1;
    Msg m;
    while (eq.inc_receive(*port, &m, 0, 0, receive_timeout_ms) == 1) note(*rig, last, m.get<int32_t>(0));
    ++rig->finished;
    rig->done->release();
  };
}

/// Port propagation (A.3): receive 100, propagate the port (destroyed on propagation, so its queue is
/// forwarded) to the other receiver's swap port, wait for it to come back.
Program propagating_receiver(Rig* rig, bool first, const int* own_port, const int* swap,
                             const int* to_other) {
  return [rig, first, own_port, swap, to_other](Equus& eq) {
    int last = -1;
    int port = first ? *own_port : 0;
    Msg m;
    for (;;) {
      if (!port) {
        if (eq.inc_receive(*swap, &m, 0, 0, receive_timeout_ms) != 1) break;
        port = m.m_ref.rd_obj;
      }
      int n = 0;
      bool idle = false;
      while (n < messages_per_turn) {
        if (eq.inc_receive(port, &m, 0, 0, receive_timeout_ms) != 1) {
          idle = true;
          break;
        }
        note(*rig, last, m.get<int32_t>(0));
        ++n;
      }
      if (idle) break;
      Msg prop;
      prop.m_ref.rd_type = RefType::Port;
      prop.m_ref.rd_obj = port;
      prop.m_ref.rd_keep = false;
      if (int rc = eq.inc_send(*to_other, &prop); rc != E_OK) rig->fail("port propagation", rc, eq);
      port = 0;
    }
    ++rig->finished;
    rig->done->release();
  };
}

/// A separate manager alternating the receivers every pause while the sender sends.
Program manager_program(Rig* rig, bool attach, double pause_s, int reconfigs) {
  return [rig, attach, pause_s, reconfigs](Equus& eq) {
    bool at_r1 = true;
    for (int i = 0; i < reconfigs && rig->sending; ++i) {
      eq.inc_sleep(static_cast<int>(std::lround(pause_s * 1000)));
      if (!rig->sending) break;
      int rc = attach ? eq.inc_attachPort(at_r1 ? rig->h2 : rig->h1, at_r1 ? rig->h1 : rig->h2, rig->ms1, 1)
                      : eq.inc_rebindStream(rig->hs, at_r1 ? rig->ms2 : rig->ms1, at_r1 ? rig->h1 : rig->h2);
      if (rc != E_OK) rig->fail(attach ? "inc_attachPort" : "inc_rebindStream", rc, eq);
      at_r1 = !at_r1;
    }
    ++rig->finished;
    rig->done->release();
  };
}

/// Which mechanism changes the sender's receiver (none for the no-reconfiguration row).
struct Mechanism {
  bool propagation = false, attachment = false, rebinding = false;
};

/// One experiment's configuration: the receivers, the sender and (attachment, rebinding) the manager,
/// with the references their programs use in `rig`. Returns them unstarted.
std::vector<Incarnation*> set_up(System& sys, Rig& rig, Mechanism m, int calls, double pause_s,
                                 int reconfigs) {
  auto& r1 = m.propagation ? sys.create(r1_node, "receiver1",
                                        propagating_receiver(&rig, true, &rig.p1, &rig.swap1, &rig.to_r2))
                           : sys.create(r1_node, "receiver1", plain_receiver(&rig, &rig.p1));
  auto& r2 = m.propagation ? sys.create(r2_node, "receiver2",
                                        propagating_receiver(&rig, false, &rig.p2, &rig.swap2, &rig.to_r1))
                           : sys.create(r2_node, "receiver2", plain_receiver(&rig, &rig.p2));
  GlobalId c1 = sys.bootstrap_channel(r1, ChanType::Unicast, &rig.p1);
  GlobalId c2 = sys.bootstrap_channel(r2, ChanType::Unicast, &rig.p2);
  std::vector<Incarnation*> incs = {&r1, &r2};
  if (m.propagation) {
    GlobalId cs1 = sys.bootstrap_channel(r1, ChanType::Unicast, &rig.swap1);
    GlobalId cs2 = sys.bootstrap_channel(r2, ChanType::Unicast, &rig.swap2);
    rig.to_r2 = sys.bootstrap_stream(r1, cs2, ChanType::Unicast);
    rig.to_r1 = sys.bootstrap_stream(r2, cs1, ChanType::Unicast);
  }
  auto& sender = sys.create(sender_node, "sender", sender_program(&rig, calls));
  rig.stream = sys.bootstrap_stream(sender, c1, ChanType::Unicast);
  incs.push_back(&sender);
  if (m.attachment || m.rebinding) {
    auto& mgr =
        sys.create(reconf_manager_node, "manager", manager_program(&rig, m.attachment, pause_s, reconfigs));
    rig.h1 = sys.bootstrap_handle(mgr, r1, rig.p1);
    rig.h2 = sys.bootstrap_handle(mgr, r2, rig.p2);
    rig.hs = sys.bootstrap_handle(mgr, sender, rig.stream);
    rig.ms1 = sys.bootstrap_stream(mgr, c1, ChanType::Unicast);
    rig.ms2 = sys.bootstrap_stream(mgr, c2, ChanType::Unicast);
    incs.push_back(&mgr);
  }
  return incs;
}

}  // namespace

ReconfigResult run_reconfiguration(const CellSpec& cell, Testbed& testbed, const RunOptions& options) {
  auto* engine = &testbed.engine;
  auto* sys = &testbed.sys;
  const params::ModelParams& params = sys->params();
  ReconfigResult out;
  out.elapsed.spec = cell;
  int calls = scaled(cell.calls, options.calls_scale);
  int reconfigs = std::max(1, calls / messages_per_turn);
  double pause_s = calls * send_period_guess_s / (reconfigs + 1);
  const std::string& row = cell.row;
  bool propagation = row == "port_propagation", attachment = row == "port_attachment",
       rebinding = row == "stream_rebinding";
  if (!propagation && !attachment && !rebinding && row != "no_reconfigurations")
    throw std::runtime_error("A.5: unknown row '" + row + "'");
  std::string error;
  double total_gaps = 0;

  sg::Actor::create("experimenter", sys->platform().unix_host(), [&] {
    std::mt19937_64 rng(options.seed * 7919 + 29);
    for (int e = 0; e < options.experiments; ++e) {
      // Experiments start out of step with the clock and the time daemons (Appendix A's variance).
      sg::this_actor::sleep_for(std::uniform_real_distribution<double>(0, 1)(rng) *
                                params.cpu.time_daemon_period);
      long fwd0 = 0, pend0 = 0;
      for (int n : {r1_node, r2_node}) {
        fwd0 += sys->kernel(n).stats().forwarded;
        pend0 += sys->kernel(n).stats().forwarded_pending;
      }
      Rig rig;
      auto incs = set_up(*sys, rig, {propagation, attachment, rebinding}, calls, pause_s, reconfigs);
      for (auto* inc : incs) sys->start(*inc);
      while (rig.finished < static_cast<int>(incs.size())) rig.done->acquire();
      if (rig.failures > 0) {
        error = std::to_string(rig.failures) + " calls failed, first: " + rig.first_failure;
        return;
      }
      out.elapsed.per_experiment.push_back(rig.elapsed_ms);
      total_gaps += rig.gaps;
      long fwd = -fwd0, pend = -pend0;
      for (int n : {r1_node, r2_node}) {
        fwd += sys->kernel(n).stats().forwarded;
        pend += sys->kernel(n).stats().forwarded_pending;
      }
      out.forwarded += static_cast<double>(fwd);
      out.forwarded_pending += static_cast<double>(pend);
    }
  });
  engine->run();
  if (!error.empty()) throw std::runtime_error("A.5 " + row + ": " + error);
  int done = static_cast<int>(out.elapsed.per_experiment.size());
  if (done < options.experiments)
    throw std::runtime_error("A.5 " + row + ": deadlocked; blocked:\n" + sys->blocked_report());
  summarise(out.elapsed);
  out.reconfigurations = total_gaps / done;
  out.forwarded /= done;
  out.forwarded_pending /= done;
  out.violations = sys->finish_checks();
  return out;
}

}  // namespace equus::sim::experiments
