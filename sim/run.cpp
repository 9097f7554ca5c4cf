#include "sim/run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <utility>
#include <variant>

#include "models/kernel/incarnation.hpp"
#include "models/kernel/kernel.hpp"
#include "models/kernel/system_incarnation.hpp"
#include "models/pool/administrator.hpp"
#include "models/pool/launch.hpp"
#include "models/programs/example_programs.hpp"
#include "models/programs/op_program.hpp"
#include "sim/output/graph.hpp"
#include "sim/output/recorder.hpp"
#include "sim/output/results.hpp"
#include "sim/output/trace.hpp"

namespace sg = simgrid::s4u;
using namespace equus::kernel;

namespace equus::sim {

namespace {

/// Kernel counters of messages moved by reconfigurations.
ForwardingCounts forwarding_of(Kernel& k) {
  const auto& s = k.stats();
  return {s.forwarded, s.forwarded_pending, s.redirected};
}

}  // namespace

void register_builtin_programs() {
  programs::register_example_programs();
  for (const auto& name : programs::program_names()) register_cpp_program_name(name);
}

RunSummary run_scenario(const ScenarioSpec& spec, const std::string& out_dir, std::vector<double> graph_times,
                        const std::function<void(kernel::System&)>& on_pool) {
  auto params = params::ModelParams::load(spec.overrides);
  int argc = 2;
  const char* argv[] = {"equus", "--log=root.thres:critical", nullptr};
  auto* engine = new sg::Engine(&argc, const_cast<char**>(argv));
  auto* sys = new System(*engine, spec.nodes, params, spec.seed);
  auto* rec = new Recorder();
  std::vector<std::string> names;
  for (const auto& n : spec.nodes) names.push_back(n.name);
  names.push_back("unix");
  rec->set_node_names(names);
  sys->network().set_observer(rec);
  if (on_pool) on_pool(*sys);
  rec->set_forwarding_counter([sys] {
    ForwardingCounts total;
    for (int n = 0; n <= sys->node_count(); ++n) {
      auto c = forwarding_of(n < sys->node_count() ? sys->kernel(n) : sys->host_kernel());
      total.forwarded += c.forwarded;
      total.forwarded_pending += c.forwarded_pending;
      total.redirected += c.redirected;
    }
    return total;
  });

  // Op programs name nodes and report their reconfigurations to the recorder.
  programs::OpHooks hooks;
  hooks.node_index = [&spec](const std::string& name) { return platform::find_node(spec.nodes, name); };
  hooks.reconfiguring = [rec](const programs::Reconfiguration& r) { return rec->begin_reconfiguration(r); };
  hooks.reconfigured = [rec](uint64_t token, int status) {
    rec->end_reconfiguration(static_cast<uint32_t>(token), status);
  };
  hooks.named = [rec](GlobalId inc, const std::string& name) { rec->name_incarnation(inc, name); };

  // The RDC binary: every module of the scenario, in name order.
  std::vector<Module> modules;
  std::map<std::string, int> module_index;
  for (const auto& [name, m] : spec.modules) {
    module_index[name] = static_cast<int>(modules.size());
    modules.push_back(Module{
        name, m.text_kb * 1024, m.data_kb * 1024, m.heap_kb * 1024, m.stack_kb * 1024,
        m.cpp.empty() ? programs::op_program(m.ops, hooks) : programs::find_program(m.cpp), m.service});
  }

  RunSummary summary;
  if (!out_dir.empty()) std::filesystem::create_directories(out_dir);
  auto graph_now = [&](double t) {
    if (out_dir.empty()) return;
    auto path = fmt::format("{}/graph-{:g}.dot", out_dir, t);
    write_graph(*rec, t, path);
    summary.files.push_back(path);
  };

  pool::AdministratorPlan plan{spec.nodes, spec.rdcs, spec.events, modules, module_index};
  auto* admin = new pool::Administrator(std::move(plan), pool::AdministratorHooks{hooks, graph_now});
  auto* pool = new pool::Pool(*sys, spec.users, 0, [admin](Equus& eq) { admin->run(eq); });
  admin->set_pool(*pool);

  // The run ends when only servers are left, or at the scenario's duration.
  sg::Actor::create("watchdog", sys->platform().unix_host(), [&] {
    double period = std::min(0.1, spec.duration_s / 100);
    for (;;) {
      sg::this_actor::sleep_for(period);
      // Busy while a program runs or loads (servers, INCHOATE and frozen incarnations only wait).
      bool busy = false;
      for (int n = 0; n <= sys->node_count() && !busy; ++n)
        for (auto* inc : sys->kernel(n).hosted()) {
          // The launch program waiting for its RDCs, once its events are done, runs nothing either.
          bool server = (inc->rdc && inc->module >= 0 && inc->rdc->modules[inc->module].service) ||
                        (inc == &pool->launch_incarnation() && pool->waiting_for_rdcs());
          busy = busy || (!server && (inc->state == IncState::Started || inc->state == IncState::Loading));
        }
      if (!busy || sg::Engine::get_clock() + period > spec.duration_s) break;
    }
    summary.end_time = sg::Engine::get_clock();
    summary.blocked = sys->blocked_report(/*servers=*/false);
    sg::Actor::kill_all();  // servers, daemons and waiting incarnations: the run is over
  });
  engine->run_until(spec.duration_s);
  if (summary.end_time == 0) {
    summary.end_time = sg::Engine::get_clock();
    summary.blocked = sys->blocked_report(false);
  }
  // The communications invariant (Section 8.5) over the whole run, and the forwarding counters.
  summary.violations = sys->finish_checks();
  rec->set_violations(summary.violations);
  std::vector<ForwardingCounts> forwarding;
  for (int n = 0; n <= sys->node_count(); ++n)
    forwarding.push_back(forwarding_of(n < sys->node_count() ? sys->kernel(n) : sys->host_kernel()));
  rec->set_forwarding_totals(std::move(forwarding));
  summary.migrations = static_cast<int>(rec->migrations().size());
  summary.reconfigurations = static_cast<int>(rec->reconfigurations().size());

  for (const auto& r : rec->records()) summary.records[r.key]++;
  summary.incarnations_created = static_cast<int>(rec->spans().size());
  if (!out_dir.empty()) {
    std::filesystem::create_directories(out_dir);
    if (spec.outputs.results) {
      write_results(*rec, out_dir, spec.name, spec.seed, summary.end_time);
      summary.files.push_back(out_dir + "/results.json");
    }
    if (spec.outputs.trace) {
      write_trace(*rec, out_dir + "/trace.json");
      summary.files.push_back(out_dir + "/trace.json");
    }
    for (double t : spec.outputs.graph_at) graph_times.push_back(t);
    for (double t : graph_times)
      if (t <= summary.end_time) graph_now(t);
    write_graph(*rec, summary.end_time, out_dir + "/graph-end.dot");
    summary.files.push_back(out_dir + "/graph-end.dot");
  }
  // Servers still wait on the pool's semaphores, which SimGrid will not destroy: the engine, pool,
  // administrator and recorder live until the process exits (one run per process).
  return summary;
}

}  // namespace equus::sim
