#include "sim/experiments/rdc_experiments.hpp"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

#include "models/kernel/equus.hpp"
#include "models/kernel/system.hpp"
#include "models/pool/launch.hpp"
#include "models/services/services.hpp"

namespace sg = simgrid::s4u;
using namespace equus::kernel;
using equus::pool::Launched;
using equus::pool::LaunchSpec;
using equus::pool::Pool;

namespace equus::sim::experiments {

std::vector<CellSpec> rdc_experiment_cells() {
  // Primitive is unused by these experiments. Counts: Appendix A.1's 1000 calls per experiment; the
  // 100 workers of the creation experiment are the issue's illustration of "large numbers" (3.2.1).
  return {
      CellSpec{"5.5.2", "ss_get_uncached", "ms", Primitive::InvokeReply, 0, 1000, false},
      CellSpec{"3.2.1", "create_100_from_module", "s", Primitive::InvokeReply, 0, 100, false},
      CellSpec{"3.2.1", "create_100_from_inchoate", "s", Primitive::InvokeReply, 0, 100, false},
  };
}

namespace {

// Harness granularity and deadlock watchdog in simulated seconds (not model costs): the engine is
// advanced in steps, and the run is abandoned when no experiment completes for `watchdog_s`.
constexpr double step_s = 1.0;
constexpr double watchdog_s = 600.0;

const std::string probe_label = "probe";        // the reference ss_get fetches (5.5.2)
const std::string announce_label = "announce";  // the primary's port, fetched by each worker (3.2.1)

/// What one experiment's measuring program hands back to the launcher.
struct Outcome {
  double value = -1;
  std::string error;
  sg::SemaphorePtr done = sg::Semaphore::create(0);
};

using OutcomePtr = std::shared_ptr<Outcome>;
using LaunchedPtr = std::shared_ptr<Launched>;
/// Builds the RDC of one experiment: its programs report through the outcome and may read the nodes
/// the launch allocated (filled before the primary is created).
using SpecFactory = std::function<LaunchSpec(OutcomePtr, LaunchedPtr)>;

struct Harness {
  std::vector<double> values;
  std::string error;
  bool finished = false;
};

int scaled(int count, double scale) { return std::max(1, static_cast<int>(std::lround(count * scale))); }

double elapsed_ms(const TimeBuf& t0, const TimeBuf& t1) {
  return static_cast<double>(t1.tb_elapsed) - static_cast<double>(t0.tb_elapsed);
}

/// Boots the pool and runs `options.experiments` experiments, each launching a fresh RDC (so that no
/// module text is left at a node by an earlier one) and terminating it once its outcome is in.
CellResult run_launches(const CellSpec& cell, Testbed& testbed, const RunOptions& options,
                        const SpecFactory& make_spec) {
  System* sys = &testbed.sys;
  const params::ModelParams& params = sys->params();
  auto* engine = &testbed.engine;
  // Deliberately leaked: after run_until actors may still wait on it; the caller is a process of its own.
  auto* h = new Harness;
  Pool* pool = nullptr;
  // The system services on the last node, out of the way of the RDCs' nodes (lowest-numbered first).
  pool = &testbed.boot_pool(sys->node_count() - 1, [&, h](Equus& eq) {
    std::mt19937_64 rng(options.seed * 7919 + 17);
    for (int e = 0; e < options.experiments && h->error.empty(); ++e) {
      // Experiments start out of step with the clock and the time daemons (Appendix A's variance).
      sg::this_actor::sleep_for(std::uniform_real_distribution<double>(0, 1)(rng) *
                                params.cpu.time_daemon_period);
      auto out = std::make_shared<Outcome>();
      auto launched = std::make_shared<Launched>();
      LaunchSpec spec = make_spec(out, launched);
      spec.name +=
          fmt::format("#{}", e);  // not "#" + to_string: GCC 12 warns falsely (-Wrestrict, PR 105329)
      int rc = pool->launch(eq, spec, launched.get());
      if (rc != E_OK) {
        h->error = cell.row + ": launch failed (" + std::to_string(rc) + ")";
        break;
      }
      out->done->acquire();
      pool->terminate(eq, *launched);
      if (!out->error.empty())
        h->error = cell.row + ": " + out->error;
      else
        h->values.push_back(out->value);
    }
    h->finished = true;
  });

  std::size_t seen = 0;
  double last_progress = sg::Engine::get_clock();
  while (!h->finished) {
    double before = sg::Engine::get_clock();
    engine->run_until(before + step_s);
    if (h->finished) break;
    double now = sg::Engine::get_clock();
    if (h->values.size() != seen) {
      seen = h->values.size();
      last_progress = now;
    }
    if (now == before || now - last_progress > watchdog_s)
      throw std::runtime_error(cell.row + ": the simulation deadlocked; blocked:\n" + sys->blocked_report());
  }
  if (!h->error.empty()) throw std::runtime_error(h->error);

  CellResult result;
  result.spec = cell;
  result.per_experiment = h->values;
  for (int n = 0; n < sys->node_count(); ++n) {
    result.retries += sys->kernel(n).stats().retries;
    result.dropped += sys->kernel(n).stats().packets_dropped_no_buffer + sys->kernel(n).stats().packets_lost;
  }
  const auto& v = result.per_experiment;
  if (v.empty()) throw std::runtime_error(cell.row + ": no experiment completed");
  result.mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  double ss = 0;
  for (double x : v) ss += (x - result.mean) * (x - result.mean);
  result.sd = v.size() > 1 ? std::sqrt(ss / (v.size() - 1)) : 0;
  return result;
}

/// Appendix A.1's method applied to ss_get: `calls` gets of the uncached probe in a simple loop.
void time_gets(Equus& eq, int calls, Outcome& out) {
  RefDescrip r;
  // Untimed first call: the caller's kernel also learns where stream space's port is.
  if (eq.ss_get(probe_label, &r) != E_OK) {
    out.error = "ss_get failed";
    return;
  }
  int failures = 0;
  TimeBuf t0;
  TimeBuf t1;
  eq.inc_time(&t0);
  for (int i = 0; i < calls; ++i)
    if (eq.ss_get(probe_label, &r) != E_OK) ++failures;
  eq.inc_time(&t1);
  if (failures > 0) {
    out.error = std::to_string(failures) + " ss_get calls failed";
    return;
  }
  out.value = elapsed_ms(t0, t1) / calls;
  // Tell the primary the fetched stream works (and that the measurement is over).
  Msg m;
  eq.inc_send(r.rd_obj, &m);
}

}  // namespace

CellResult run_ss_get_uncached(const CellSpec& cell, Testbed& testbed, const RunOptions& options) {
  const int calls = scaled(cell.calls, options.calls_scale);
  return run_launches(cell, testbed, options, [calls](OutcomePtr out, LaunchedPtr launched) {
    LaunchSpec spec;
    spec.name = "ss_get";
    spec.user = "tim";
    spec.nodes = 2;  // stream space on the first, the measuring incarnation on the second
    // Segment sizes are illustrative; they only affect loading, which is not timed.
    spec.modules = {
        Module{"primary", 16 * 1024, 4 * 1024, 16 * 1024, 8 * 1024,
               [out, launched, calls](Equus& eq) {
                 int stream = 0;
                 int port = 0;
                 RefDescrip r;
                 r.rd_type = RefType::Stream;
                 if (eq.inc_chanCreate(ChanType::Unicast, &stream, &port) == E_OK) r.rd_obj = stream;
                 // SS_DONTCACHE: every ss_get goes to stream space (Section 5.5.3).
                 if (!r.rd_obj || eq.ss_put(probe_label, &r, SS_DONTCACHE) != E_OK) {
                   out->error = "ss_put failed";
                 } else if (launched->nodes.size() > 1 && eq.inc_where() == launched->nodes.front()) {
                   // Launch puts stream space on the first node: measure from another, so that each get
                   // crosses the bus as the estimate reasons.
                   int h = 0;
                   int s = 0;
                   if (eq.inc_create(eq.inc_moduleId("getter"), launched->nodes[1], &h, &s, nullptr) !=
                       E_OK) {
                     out->error = "creating the measuring incarnation failed";
                   } else {
                     Msg m;
                     eq.inc_receive(port, &m, 0, 0, -1);
                   }
                 } else {
                   time_gets(eq, calls, *out);
                 }
                 out->done->release();
               }},
        Module{"getter", 16 * 1024, 4 * 1024, 16 * 1024, 8 * 1024,
               [out, calls](Equus& eq) {
                 time_gets(eq, calls, *out);
                 if (!out->error.empty()) out->done->release();  // the primary waits for a message otherwise
               }},
    };
    return spec;
  });
}

CellResult run_creation(const CellSpec& cell, Testbed& testbed, const RunOptions& options) {
  const int workers = scaled(cell.calls, options.calls_scale);
  const bool from_inchoate = cell.row.find("from_inchoate") != std::string::npos;
  if (!from_inchoate && cell.row.find("from_module") == std::string::npos)
    throw std::runtime_error(cell.row + ": neither from_module nor from_inchoate");
  return run_launches(cell, testbed, options, [workers, from_inchoate](OutcomePtr out, LaunchedPtr launched) {
    LaunchSpec spec;
    spec.name = "workers";
    spec.user = "equus";
    spec.groups = {"all"};
    // Enough nodes for the workers' memory; a launch reports at most six (the pool manager's reply
    // lists them in its 32-byte header).
    spec.nodes = 6;
    // Illustrative segment sizes of a realistic worker: text 64 kB, data 16 kB, heap 32 kB, stack 8 kB.
    spec.modules = {
        Module{"primary", 16 * 1024, 4 * 1024, 16 * 1024, 8 * 1024,
               [out, launched, workers, from_inchoate](Equus& eq) {
                 auto fail = [&](const std::string& why) {
                   out->error = why;
                   out->done->release();
                 };
                 int stream = 0;
                 int port = 0;
                 if (eq.ss_createChan(announce_label, &stream, &port, ChanType::Unicast) != E_OK)
                   return fail("ss_createChan failed");
                 const auto& where = launched->nodes;
                 const int module = eq.inc_moduleId("worker");
                 std::vector<int> blueprint(where.size(), module);
                 TimeBuf t0;
                 TimeBuf t1;
                 eq.inc_time(&t0);
                 if (from_inchoate) {
                   // One INCHOATE copy per node from the disc; the workers' text and data then come
                   // from memory. Its set-up is part of the measurement.
                   IncCreateParams cp;
                   cp.inchoate = true;
                   for (std::size_t n = 0; n < where.size(); ++n) {
                     int s = 0;
                     if (eq.inc_create(module, where[n], &blueprint[n], &s, &cp) != E_OK)
                       return fail("creating an INCHOATE copy failed");
                   }
                 }
                 // inc_create returns once creation is initiated: the loads overlap, limited by
                 // whatever serves the text and data.
                 for (int i = 0; i < workers; ++i) {
                   std::size_t n = static_cast<std::size_t>(i) % where.size();
                   int h = 0;
                   int s = 0;
                   int rc = eq.inc_create(blueprint[n], where[n], &h, &s, nullptr);
                   if (rc != E_OK)
                     return fail("creating worker " + std::to_string(i) + " failed (" + std::to_string(rc) +
                                 ")");
                 }
                 for (int i = 0; i < workers; ++i) {
                   Msg m;
                   eq.inc_receive(port, &m, 0, 0, -1);
                 }
                 eq.inc_time(&t1);
                 out->value = elapsed_ms(t0, t1) / 1000.0;
                 out->done->release();
               }},
        Module{"worker", 64 * 1024, 16 * 1024, 32 * 1024, 8 * 1024,
               [](Equus& eq) {
                 // Started: fetch the primary's port from stream space and announce.
                 RefDescrip r;
                 if (eq.ss_get(announce_label, &r) != E_OK) return;
                 Msg m;
                 eq.inc_send(r.rd_obj, &m);
               }},
    };
    return spec;
  });
}

}  // namespace equus::sim::experiments
