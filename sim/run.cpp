#include "sim/run.hpp"

#include <fmt/format.h>
#include <xbt/log.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "models/kernel/incarnation.hpp"
#include "models/kernel/kernel.hpp"
#include "models/kernel/system_incarnation.hpp"
#include "models/pool/administrator.hpp"
#include "models/pool/launch.hpp"
#include "models/pool/workload_driver.hpp"
#include "models/programs/example_programs.hpp"
#include "models/programs/op_program.hpp"
#include "models/programs/registry.hpp"
#include "sim/output/graph.hpp"
#include "sim/output/recorder.hpp"
#include "sim/output/results.hpp"
#include "sim/output/trace.hpp"
#include "sim/session.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus);
XBT_LOG_NEW_SUBCATEGORY(equus_sim, equus, "Simulations: sessions, scenario runs, experiments");
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(sim_run, equus_sim, "A scenario run: start, end, what was left waiting");

namespace sg = simgrid::s4u;
using namespace equus::kernel;

namespace equus::sim {

namespace {

/// Op programs and the administrator name nodes and report their reconfigurations to the recorder.
programs::OpHooks recorder_hooks(const ScenarioSpec& spec, Recorder& rec) {
  programs::OpHooks hooks;
  hooks.node_index = [&spec](const std::string& name) { return platform::find_node(spec.nodes, name); };
  hooks.reconfiguring = [&rec](const programs::Reconfiguration& r) { return rec.begin_reconfiguration(r); };
  hooks.reconfigured = [&rec](uint64_t token, int status) {
    rec.end_reconfiguration(static_cast<uint32_t>(token), status);
  };
  hooks.named = [&rec](GlobalId inc, const std::string& name) { rec.name_incarnation(inc, name); };
  return hooks;
}

/// The RDC binary: every module of the scenario, in name order. An op program stopped on a bad value
/// is reported in `summary` under its module's pointer.
void add_modules(const ScenarioSpec& spec, const programs::OpHooks& hooks, pool::AdministratorPlan& plan,
                 RunSummary& summary) {
  for (const auto& [name, m] : spec.modules) {
    plan.module_index[name] = static_cast<int>(plan.modules.size());
    auto module_hooks = hooks;
    module_hooks.error = [&spec, &summary, name = name](const std::string& ptr, const std::string& msg) {
      summary.errors.push_back(fmt::format("{}: /modules/{}/program/ops{}: {} (at {:.6f} s)", spec.file, name,
                                           ptr, msg, sg::Engine::get_clock()));
      XBT_VERB("%s", summary.errors.back().c_str());
    };
    plan.modules.push_back(
        Module{name, m.text_kb * 1024, m.data_kb * 1024, m.heap_kb * 1024, m.stack_kb * 1024,
               m.cpp.empty() ? programs::op_program(m.ops, module_hooks) : programs::find_program(m.cpp),
               m.service});
  }
}

/// The name of an Equus status (types.hpp).
std::string status_text(double value) {
  static const std::map<int, const char*> names = {
      {E_OK, "E_OK"},         {E_BADREF, "E_BADREF"},         {E_TIMEOUT, "E_TIMEOUT"},
      {E_TOOBIG, "E_TOOBIG"}, {E_NOTUNICAST, "E_NOTUNICAST"}, {E_RANGE, "E_RANGE"},
      {E_INVAL, "E_INVAL"},   {E_DENIED, "E_DENIED"},         {E_NOMEM, "E_NOMEM"},
      {E_RIGHTS, "E_RIGHTS"}};
  auto it = names.find(static_cast<int>(value));
  return it == names.end() ? fmt::format("status {}", value) : fmt::format("{} ({})", it->second, value);
}

/// What the administrator records when an operation the scenario asked for did not happen
/// (models/pool/administrator.cpp: launch_failed, create_failed, event_failed, event_skipped).
void collect_failures(const Recorder& rec, RunSummary& summary) {
  for (const auto& r : rec.records()) {
    bool skipped = r.key.rfind("event_skipped:", 0) == 0;
    if (!skipped && r.key.find("_failed:") == std::string::npos) continue;
    summary.failures.push_back(fmt::format("{:.6f} s: {}: {}", r.t, r.key,
                                           skipped ? "its rdc is not running" : status_text(r.value)));
  }
}

/// The incarnations blocked in a call, but for servers and the launch program (they wait by design).
std::vector<System::Waiter> left_waiting(const System& sys, const pool::Pool& pool) {
  auto waiters = sys.waiters(/*servers=*/false);
  std::erase_if(waiters,
                [&pool](const System::Waiter& w) { return w.inc == pool.launch_incarnation().gid(); });
  return waiters;
}

/// Ends the run when only servers are left ("finished"), when nothing can happen any more ("deadlock":
/// every incarnation has waited on another, with no call completed anywhere, for two retry intervals,
/// so that periodic kernel work such as probes and retries cannot hide it), or at the scenario's
/// duration ("duration"). Who was left waiting goes to `summary.waiters`.
void start_watchdog(System& sys, const pool::Pool& pool, double duration_s, RunSummary& summary) {
  sg::Actor::create("watchdog", sys.platform().unix_host(), [&sys, &pool, duration_s, &summary] {
    double period = std::min(0.1, duration_s / 100);
    double grace = 2 * sys.params().kernel.retry_interval;
    long calls = -1;
    double quiet_since = 0;
    for (;;) {
      sg::this_actor::sleep_for(period);
      double now = sg::Engine::get_clock();
      // Busy while a program runs or loads (servers, INCHOATE and frozen incarnations only wait).
      bool busy = false;
      for (int n = 0; n <= sys.node_count() && !busy; ++n)
        for (auto* inc : sys.kernel(n).hosting().hosted()) {
          // The launch program waiting for its RDCs, once its events are done, runs nothing either.
          bool server = (inc->rdc() && inc->module() >= 0 && inc->rdc()->modules[inc->module()].service) ||
                        (inc == &pool.launch_incarnation() && pool.waiting_for_rdcs());
          busy =
              busy || (!server && (inc->state() == IncState::Started || inc->state() == IncState::Loading));
        }
      if (!busy) {
        summary.end_reason = "finished";
        break;
      }
      long completed = sys.calls_completed();
      if (completed != calls || !sys.all_wait_on_others()) {
        calls = completed;
        quiet_since = now;
      } else if (now - quiet_since >= grace - 1e-9) {
        summary.end_reason = "deadlock";
        XBT_INFO("deadlock at %g s: no incarnation can act, none has completed a call since %g s", now,
                 quiet_since);
        break;
      }
      if (now + period > duration_s) {
        summary.end_reason = "duration";
        break;
      }
    }
    summary.end_time = sg::Engine::get_clock();
    summary.kernel_waiters = left_waiting(sys, pool);
    sg::Actor::kill_all();  // servers, daemons and waiting incarnations: the run is over
  });
}

/// The incarnations left waiting, under their scenario names, and the run's report of them: the
/// "blocked" lines, and for a deadlock one failure per waiter.
void name_waiters(const Recorder& rec, RunSummary& summary) {
  std::map<GlobalId, const IncarnationSpan*> alive;
  for (const auto& s : rec.spans())
    if (!s.ended()) alive[s.id] = &s;
  for (const auto& w : summary.kernel_waiters) {
    auto it = alive.find(w.inc);
    const IncarnationSpan* span = it == alive.end() ? nullptr : it->second;
    summary.waiters.push_back(WaitingIncarnation{span ? span->name : w.name, span ? span->rdc : "",
                                                 rec.node_name(w.node), w.waits_on, w.on_others});
  }
  for (const auto& w : summary.waiters) {
    auto who = w.rdc.empty() ? w.incarnation : fmt::format("{} (rdc {})", w.incarnation, w.rdc);
    summary.blocked += fmt::format("  {} at {} waits on {}\n", who, w.node, w.waits_on);
    if (summary.end_reason == "deadlock")
      summary.failures.push_back(fmt::format("{:.6f} s: deadlock: {} at {} waits for ever on {}",
                                             summary.end_time, who, w.node, w.waits_on));
  }
}

/// The workload's arrivals, run by a launch program of their own; each ended job goes to the recorder.
void start_workload(const ScenarioSpec& spec, std::vector<Module> modules, pool::Pool& pool, Recorder& rec) {
  const auto& w = *spec.workload;
  pool::WorkloadPlan plan{w, spec.seed, {}, std::move(modules), 0};
  for (int n = 0; n < static_cast<int>(spec.nodes.size()); ++n)
    for (const auto& g : spec.nodes[n].groups)
      if (std::find(w.groups.begin(), w.groups.end(), g) != w.groups.end()) {
        plan.homes.push_back(n);
        break;
      }
  for (int m = 0; m < static_cast<int>(plan.modules.size()); ++m)
    if (plan.modules[m].name == w.module) plan.job_module = m;
  // Left to the process's end with the session, as the administrator.
  auto* driver = new pool::WorkloadDriver(std::move(plan), [&rec](const pool::JobRecord& j) { rec.job(j); });
  driver->set_pool(pool);
  pool.spawn_launch("launch:workload", [driver](Equus& eq) { driver->run(eq); });
}

/// The pool's side of a run with a policy or a workload: the policy's cost, each node's use.
void report_pool(const ScenarioSpec& spec, System& sys, const pool::Pool& pool, double end, Recorder& rec) {
  PoolReport r;
  r.policy = spec.policy.is_null() ? "lowest_free" : spec.policy.value("name", "");
  r.stats = pool.policy_stats();
  r.warmup_s = spec.workload ? spec.workload->warmup_s : 0;
  for (int n = 0; n < static_cast<int>(spec.nodes.size()); ++n) {
    const auto& cpu = sys.kernel(n).cpu();
    r.nodes.push_back(NodeUsage{n, cpu.busy_time(), end > 0 ? cpu.load().area(end) / end : 0});
  }
  rec.set_pool_report(std::move(r));
}

/// The configuration graph at `t` into `out_dir`.
void write_graph_at(const Recorder& rec, const std::string& out_dir, double t, RunSummary& summary) {
  auto path = fmt::format("{}/graph-{:g}.dot", out_dir, t);
  write_graph(rec, t, path);
  summary.files.push_back(path);
}

/// results.json and CSVs, the trace and the graphs the scenario asks for, into `out_dir`.
void write_outputs(const ScenarioSpec& spec, const Recorder& rec, const std::string& out_dir,
                   std::vector<double> graph_times, RunSummary& summary) {
  std::filesystem::create_directories(out_dir);
  if (spec.outputs.results) {
    write_results(rec, out_dir, spec.name, spec.seed,
                  RunEnd{summary.end_time, summary.end_reason, summary.waiters});
    summary.files.push_back(out_dir + "/results.json");
  }
  if (spec.outputs.trace) {
    write_trace(rec, out_dir + "/trace.json");
    summary.files.push_back(out_dir + "/trace.json");
  }
  for (double t : spec.outputs.graph_at) graph_times.push_back(t);
  for (double t : graph_times)
    if (t <= summary.end_time) write_graph_at(rec, out_dir, t, summary);
  write_graph(rec, summary.end_time, out_dir + "/graph-end.dot");
  summary.files.push_back(out_dir + "/graph-end.dot");
}

}  // namespace

void register_builtin_programs() {
  programs::register_example_programs();
  programs::register_program("workload_job", [] { return pool::workload_job_program(); });
}

std::vector<std::string> clear_outputs(const std::string& out_dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  if (out_dir.empty() || !std::filesystem::is_directory(out_dir, ec)) return removed;
  const auto& tables = results_file_names();
  for (const auto& e : std::filesystem::directory_iterator(out_dir)) {
    auto name = e.path().filename().string();
    bool graph = name.rfind("graph-", 0) == 0 && e.path().extension() == ".dot";
    bool owned = graph || name == "trace.json" || name == "manifest.json" ||  // pyequus writes the manifest
                 std::find(tables.begin(), tables.end(), name) != tables.end();
    if (owned && e.is_regular_file()) removed.push_back(name);
  }
  std::sort(removed.begin(), removed.end());
  for (const auto& name : removed) std::filesystem::remove(std::filesystem::path(out_dir) / name);
  return removed;
}

RunSummary run_scenario(const ScenarioSpec& spec, const std::string& out_dir, std::vector<double> graph_times,
                        const std::function<void(kernel::System&)>& on_pool) {
  Session session({spec.nodes, params::ModelParams::load(spec.overrides), spec.seed, spec.users});
  Recorder& rec = session.record();
  if (on_pool) on_pool(session.system());
  auto hooks = recorder_hooks(spec, rec);
  RunSummary summary;
  pool::AdministratorPlan plan{spec.nodes, spec.rdcs, spec.events, {}, {}};
  add_modules(spec, hooks, plan, summary);

  if (!out_dir.empty()) std::filesystem::create_directories(out_dir);
  auto graph_now = [&](double t) {
    if (!out_dir.empty()) write_graph_at(rec, out_dir, t, summary);
  };
  // Left to the process's end with the session: the launch program may still run it when the run stops.
  auto modules = plan.modules;
  auto* admin = new pool::Administrator(std::move(plan), pool::AdministratorHooks{hooks, graph_now});
  pool::Pool& pool = session.boot_pool(
      0, [admin](Equus& eq) { admin->run(eq); }, pool::PoolOptions{spec.policy, spec.queue_limit, spec.seed});
  admin->set_pool(pool);
  if (spec.workload) start_workload(spec, std::move(modules), pool, rec);
  start_watchdog(session.system(), pool, spec.duration_s, summary);
  XBT_VERB("scenario '%s': %zu cards, seed %llu, until %g s", spec.name.c_str(), spec.nodes.size(),
           static_cast<unsigned long long>(spec.seed), spec.duration_s);
  session.engine().run_until(spec.duration_s);
  XBT_VERB("scenario '%s' stopped at %g s", spec.name.c_str(), sg::Engine::get_clock());
  if (summary.end_reason.empty()) {  // the engine ran out of events before the watchdog looked again
    summary.end_reason = "finished";
    summary.end_time = sg::Engine::get_clock();
    summary.kernel_waiters = left_waiting(session.system(), pool);
  }
  if (spec.workload || !spec.policy.is_null())
    report_pool(spec, session.system(), pool, summary.end_time, rec);
  summary.violations = session.finish_recording();
  if (spec.workload) summary.jobs = summarise_jobs(rec.jobs());
  summary.migrations = static_cast<int>(rec.migrations().size());
  summary.reconfigurations = static_cast<int>(rec.reconfigurations().size());
  for (const auto& r : rec.records()) summary.records[r.key]++;
  summary.incarnations_created = static_cast<int>(rec.spans().size());
  collect_failures(rec, summary);
  name_waiters(rec, summary);
  if (!out_dir.empty()) write_outputs(spec, rec, out_dir, std::move(graph_times), summary);
  return summary;
}

}  // namespace equus::sim
