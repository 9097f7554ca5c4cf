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

/// A JSON pointer token: "~" and "/" escaped (RFC 6901).
std::string pointer_token(const std::string& key) {
  std::string out;
  for (char ch : key)
    out += ch == '~' ? std::string("~0") : ch == '/' ? std::string("~1") : std::string(1, ch);
  return out;
}

/// The RDC binary: every module of the scenario, in name order.
void add_modules(const ScenarioSpec& spec, const programs::OpHooks& hooks, pool::AdministratorPlan& plan) {
  for (const auto& [name, m] : spec.modules) {
    plan.module_index[name] = static_cast<int>(plan.modules.size());
    plan.modules.push_back(Module{
        name, m.text_kb * 1024, m.data_kb * 1024, m.heap_kb * 1024, m.stack_kb * 1024,
        m.cpp.empty() ? programs::op_program(m.ops, hooks, "/modules/" + pointer_token(name) + "/program/ops")
                      : programs::find_program(m.cpp),
        m.service});
  }
}

/// Ends the run when only servers are left, or at the scenario's duration.
void start_watchdog(System& sys, const pool::Pool& pool, double duration_s, RunSummary& summary) {
  sg::Actor::create("watchdog", sys.platform().unix_host(), [&sys, &pool, duration_s, &summary] {
    double period = std::min(0.1, duration_s / 100);
    for (;;) {
      sg::this_actor::sleep_for(period);
      // Busy while a program runs or loads (servers, INCHOATE and frozen incarnations only wait).
      bool busy = false;
      for (int n = 0; n <= sys.node_count() && !busy; ++n)
        for (auto* inc : sys.kernel(n).hosted()) {
          // The launch program waiting for its RDCs, once its events are done, runs nothing either.
          bool server = (inc->rdc && inc->module >= 0 && inc->rdc->modules[inc->module].service) ||
                        (inc == &pool.launch_incarnation() && pool.waiting_for_rdcs());
          busy = busy || (!server && (inc->state == IncState::Started || inc->state == IncState::Loading));
        }
      if (!busy || sg::Engine::get_clock() + period > duration_s) break;
    }
    summary.end_time = sg::Engine::get_clock();
    summary.blocked = sys.blocked_report(/*servers=*/false);
    sg::Actor::kill_all();  // servers, daemons and waiting incarnations: the run is over
  });
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
    write_results(rec, out_dir, spec.name, spec.seed, summary.end_time);
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

void register_builtin_programs() { programs::register_example_programs(); }

RunSummary run_scenario(const ScenarioSpec& spec, const std::string& out_dir, std::vector<double> graph_times,
                        const std::function<void(kernel::System&)>& on_pool) {
  Session session({spec.nodes, params::ModelParams::load(spec.overrides), spec.seed, spec.users});
  Recorder& rec = session.record();
  if (on_pool) on_pool(session.system());
  auto hooks = recorder_hooks(spec, rec);
  // A program stopped on an error ends the run, which then reports it instead of results.
  std::string program_error;
  hooks.failed = [&program_error](const std::string& error) {
    if (program_error.empty()) program_error = error;
    sg::Actor::kill_all();
  };
  pool::AdministratorPlan plan{spec.nodes, spec.rdcs, spec.events, {}, {}};
  add_modules(spec, hooks, plan);

  RunSummary summary;
  if (!out_dir.empty()) std::filesystem::create_directories(out_dir);
  auto graph_now = [&](double t) {
    if (!out_dir.empty()) write_graph_at(rec, out_dir, t, summary);
  };
  // Left to the process's end with the session: the launch program may still run it when the run stops.
  auto* admin = new pool::Administrator(std::move(plan), pool::AdministratorHooks{hooks, graph_now});
  pool::Pool& pool = session.boot_pool(0, [admin](Equus& eq) { admin->run(eq); });
  admin->set_pool(pool);
  start_watchdog(session.system(), pool, spec.duration_s, summary);
  XBT_VERB("scenario '%s': %zu cards, seed %llu, until %g s", spec.name.c_str(), spec.nodes.size(),
           static_cast<unsigned long long>(spec.seed), spec.duration_s);
  session.engine().run_until(spec.duration_s);
  XBT_VERB("scenario '%s' stopped at %g s", spec.name.c_str(), sg::Engine::get_clock());
  if (!program_error.empty()) throw std::runtime_error(spec.file + ": " + program_error);
  if (summary.end_time == 0) {
    summary.end_time = sg::Engine::get_clock();
    summary.blocked = session.system().blocked_report(false);
  }
  summary.violations = session.finish_recording();
  summary.migrations = static_cast<int>(rec.migrations().size());
  summary.reconfigurations = static_cast<int>(rec.reconfigurations().size());
  for (const auto& r : rec.records()) summary.records[r.key]++;
  summary.incarnations_created = static_cast<int>(rec.spans().size());
  if (!out_dir.empty()) write_outputs(spec, rec, out_dir, std::move(graph_times), summary);
  return summary;
}

}  // namespace equus::sim
