#include "sim/run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "models/kernel/incarnation.hpp"
#include "models/kernel/kernel.hpp"
#include "models/kernel/system_incarnation.hpp"
#include "models/rdc/example_programs.hpp"
#include "models/rdc/launch.hpp"
#include "models/rdc/op_program.hpp"
#include "sim/output/graph.hpp"
#include "sim/output/recorder.hpp"
#include "sim/output/results.hpp"
#include "sim/output/trace.hpp"

namespace sg = simgrid::s4u;
using namespace equus::kernel;

namespace equus::sim {

namespace {

IncParams to_params(const IncarnationSpec& inc, const std::vector<ChannelSpec>& channels = {}) {
  IncParams p;
  p.args = inc.args;
  for (const auto& c : channels) {
    IncInterface f;
    f.name = c.as.empty() ? c.label : c.as;
    f.kind = IncInterface::Kind::Port;
    f.chan_new = true;
    f.type = c.multicast ? ChanType::Multicast : ChanType::Unicast;
    f.chan_label = c.label;
    p.ifaces.push_back(f);
  }
  for (const auto& s : inc.interfaces) {
    IncInterface f;
    f.name = s.name;
    f.kind = s.kind == InterfaceSpec::Port ? IncInterface::Kind::Port : IncInterface::Kind::Stream;
    f.chan_new = s.chan_new;
    f.type = s.multicast ? ChanType::Multicast : ChanType::Unicast;
    f.chan_label = s.label;
    f.handle_label = s.handle;
    p.ifaces.push_back(f);
  }
  return p;
}

}  // namespace

void register_builtin_programs() {
  rdc::register_example_programs();
  for (const auto& name : rdc::program_names()) register_cpp_program_name(name);
}

RunSummary run_scenario(const ScenarioSpec& spec, const std::string& out_dir,
                        std::vector<double> graph_times) {
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

  // The RDC binary: every module of the scenario, in name order.
  std::vector<Module> modules;
  std::map<std::string, int> module_index;
  for (const auto& [name, m] : spec.modules) {
    module_index[name] = static_cast<int>(modules.size());
    modules.push_back(Module{name, m.text_kb * 1024, m.data_kb * 1024, m.heap_kb * 1024, m.stack_kb * 1024,
                             m.cpp.empty() ? rdc::op_program(m.ops) : rdc::find_program(m.cpp)});
  }

  // Events in time order; an RDC without a launch event is launched at time 0.
  std::vector<EventSpec> events = spec.events;
  for (const auto& r : spec.rdcs)
    if (std::none_of(events.begin(), events.end(),
                     [&](const EventSpec& e) { return e.type == "launch" && e.rdc == r.name; })) {
      EventSpec e;
      e.type = "launch";
      e.rdc = r.name;
      events.push_back(e);
    }
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.at < b.at; });

  RunSummary summary;
  if (!out_dir.empty()) std::filesystem::create_directories(out_dir);
  auto graph_now = [&](double t) {
    if (out_dir.empty()) return;
    auto path = fmt::format("{}/graph-{:g}.dot", out_dir, t);
    write_graph(*rec, t, path);
    summary.files.push_back(path);
  };

  rdc::Pool* pool = nullptr;
  std::map<std::string, rdc::Launched> launched;
  std::map<std::string, std::map<std::string, int>> handles;  // rdc -> incarnation name -> handle
  // The launch program: it launches the RDCs and carries out the scenario's timed events.
  auto launcher = [&](Equus& eq) {
    for (const auto& e : events) {
      if (e.at > sg::Engine::get_clock()) sg::this_actor::sleep_until(e.at);
      const RdcSpec* r = nullptr;
      for (const auto& x : spec.rdcs)
        if (x.name == e.rdc) r = &x;
      if (e.type == "graph") {
        graph_now(sg::Engine::get_clock());
      } else if (e.type == "launch" && r) {
        rdc::LaunchSpec ls;
        ls.name = r->name;
        ls.user = r->user;
        ls.groups = r->groups;
        ls.nodes = r->nodes;
        ls.modules = modules;
        ls.primary_module = module_index.at(r->primary.module);
        ls.primary_node_hint =
            r->primary.node.empty() ? -1 : platform::find_node(spec.nodes, r->primary.node);
        ls.primary_params = to_params(r->primary, r->channels);
        rdc::Launched l;
        int rc = pool->launch(eq, ls, &l);
        if (rc != E_OK) {
          eq.record("launch_failed:" + r->name, rc);
          continue;
        }
        handles[r->name]["primary"] = l.primary;
        // The declared configuration: each incarnation created with its parameters (Chapter 5).
        std::size_t next = 0;
        for (const auto& inc : r->incarnations) {
          unsigned node = inc.node.empty() ? l.nodes[next++ % l.nodes.size()]
                                           : static_cast<unsigned>(platform::find_node(spec.nodes, inc.node));
          IncCreateParams cp;
          cp.inchoate = inc.inchoate;
          cp.params = to_params(inc);
          int h = 0, s = 0;
          int blueprint = inc.from.empty() ? -1 : handles[r->name][inc.from];
          rc = blueprint > 0 ? eq.inc_create(blueprint, node, &h, &s, &cp)
                             : eq.launch_create(l.rdc, module_index.at(inc.module), node, &h, &s, &cp);
          if (rc == E_OK) handles[r->name][inc.name] = h;
        }
        launched[r->name] = l;
      } else if (r && launched.count(r->name)) {
        GlobalId rdc_id = launched[r->name].rdc->id;
        int node = e.node.empty() ? -1 : platform::find_node(spec.nodes, e.node);
        int handle = e.incarnation.empty() ? 0 : handles[r->name][e.incarnation];
        if (e.type == "allocate_node") {
          eq.inc_nodeAlloc(static_cast<unsigned>(node), rdc_id);
        } else if (e.type == "withdraw_node") {
          sg::this_actor::sleep_for(e.notice_s);
          eq.inc_nodeWithdraw(static_cast<unsigned>(node), rdc_id, e.kill ? 1 : 0);
        } else if (e.type == "destroy") {
          eq.inc_destroy(handle);
        } else if (e.type == "freeze") {
          eq.inc_freeze(handle);
        } else if (e.type == "unfreeze") {
          eq.inc_unfreeze(handle, 0);
        }
      }
    }
  };
  pool = new rdc::Pool(*sys, spec.users, 0, launcher);

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
  // Servers still wait on the pool's semaphores, which SimGrid will not destroy: the engine, pool and
  // recorder live until the process exits (one run per process).
  return summary;
}

}  // namespace equus::sim
