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
#include "models/programs/example_programs.hpp"
#include "models/pool/launch.hpp"
#include "models/programs/op_program.hpp"
#include "models/programs/registry.hpp"
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

/// Kernel counters of messages moved by reconfigurations.
ForwardingCounts forwarding_of(Kernel& k) {
  const auto& s = k.stats();
  return {s.forwarded, s.forwarded_pending, s.redirected};
}

/// One step of the timeline: an event, or the withdrawal ending a withdraw_node's notice.
struct Step {
  double at = 0;
  const EventSpec* event = nullptr;
  bool withdrawal = false;
};

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};

/// The launch program's part in a run: it launches the RDCs with their declared configuration and
/// performs the timed events, as the pool's administrator would. It holds an incarnation handle on
/// every declared incarnation and a stream to each RDC's stream space, where it finds channels,
/// stream handles and port handles by label as a manager does (Figure 6.4).
class Administrator {
 public:
  Administrator(const ScenarioSpec& spec, Recorder& rec, const std::vector<Module>& modules,
                const std::map<std::string, int>& module_index, std::function<void(double)> graph_now)
      : spec_(spec),
        rec_(rec),
        modules_(modules),
        module_index_(module_index),
        graph_now_(std::move(graph_now)) {
    for (const auto& e : spec.events) {
      steps_.push_back({e.at, &e, false});
      if (const auto* w = e.as<event::WithdrawNode>()) steps_.push_back({e.at + w->notice_s, &e, true});
    }
    // An RDC without a launch event is launched at time 0, after the events given for time 0.
    for (const auto& r : spec.rdcs)
      if (std::none_of(spec.events.begin(), spec.events.end(),
                       [&](const EventSpec& e) { return e.as<event::Launch>() && e.rdc == r.name; })) {
        EventSpec e;
        e.type = "launch";
        e.rdc = r.name;
        e.action = event::Launch{};
        implicit_.push_back(std::move(e));
      }
    for (const auto& e : implicit_) steps_.push_back({0, &e, false});
    std::stable_sort(steps_.begin(), steps_.end(), [](const Step& a, const Step& b) { return a.at < b.at; });
  }

  void set_pool(pool::Pool& pool) { pool_ = &pool; }

  /// The launcher program.
  void run(Equus& eq) {
    for (const auto& step : steps_) {
      if (step.at > sg::Engine::get_clock()) sg::this_actor::sleep_until(step.at);
      perform(eq, step);
    }
  }

 private:
  struct RdcState {
    const RdcSpec* spec = nullptr;
    pool::Launched launched;
    std::map<std::string, int> handles;   // declared name ("primary" included) -> incarnation handle
    std::map<std::string, int> ss_cache;  // the run-time's cache of this RDC's stream space
  };

  void perform(Equus& eq, const Step& step) {
    const EventSpec& e = *step.event;
    if (e.as<event::Graph>()) {
      graph_now_(sg::Engine::get_clock());
      return;
    }
    auto spec =
        std::find_if(spec_.rdcs.begin(), spec_.rdcs.end(), [&](const auto& r) { return r.name == e.rdc; });
    if (spec == spec_.rdcs.end()) return;
    if (e.as<event::Launch>()) {
      launch(eq, *spec);
      return;
    }
    auto it = rdcs_.find(e.rdc);
    if (it == rdcs_.end()) {  // not (yet, or successfully) launched
      eq.record("event_skipped:" + e.type, 0);
      return;
    }
    RdcState& r = it->second;
    GlobalId rdc_id = r.launched.rdc->id;
    auto node = [&](const std::string& name) {
      return static_cast<unsigned>(platform::find_node(spec_.nodes, name));
    };
    auto failed = [&](int rc) {
      if (rc != E_OK) eq.record("event_failed:" + e.type, rc);
    };
    auto handle = [&](const std::string& name) {
      auto h = r.handles.find(name);
      return h == r.handles.end() ? -1 : h->second;
    };
    std::visit(
        Overloaded{
            [&](const event::Launch&) {},
            [&](const event::Graph&) {},
            [&](const event::AllocateNode& a) { failed(eq.inc_nodeAlloc(node(a.node), rdc_id)); },
            [&](const event::WithdrawNode& w) {
              if (step.withdrawal)
                failed(eq.inc_nodeWithdraw(node(w.node), rdc_id, w.kill ? 1 : 0));
              else
                notice(eq, r, w);
            },
            [&](const event::Destroy& d) { failed(eq.inc_destroy(handle(d.incarnation))); },
            [&](const event::Freeze& f) { failed(eq.inc_freeze(handle(f.incarnation))); },
            [&](const event::Unfreeze& u) { failed(eq.inc_unfreeze(handle(u.incarnation), 0)); },
            [&](const event::Migrate& m) {
              int h = handle(m.incarnation);
              failed(reconfigure(eq, "migrate", m.incarnation + " to " + m.node,
                                 [&] { return alive(eq, h) ? eq.inc_migrate(h, node(m.node)) : E_BADREF; }));
            },
            [&](const event::AttachPort& a) {
              int port = ss_get(eq, r, a.port), stream = ss_get(eq, r, a.channel);
              int detach = a.detach.empty() ? NO_PORT : ss_get(eq, r, a.detach);
              std::string detail = a.port + " to channel " + a.channel;
              if (!a.detach.empty()) detail += ", detaching " + a.detach;
              failed(reconfigure(eq, "attach_port", detail, [&] {
                return eq.inc_attachPort(port, detach, stream, a.move_queue ? 1 : 0);
              }));
            },
            [&](const event::RebindStream& b) {
              int h = ss_get(eq, r, b.stream), stream = ss_get(eq, r, b.channel);
              int port = b.forward_from.empty() ? NO_PORT : ss_get(eq, r, b.forward_from);
              std::string detail = b.stream + " to channel " + b.channel;
              if (!b.forward_from.empty()) detail += ", forwarding from " + b.forward_from;
              failed(reconfigure(eq, "rebind_stream", detail,
                                 [&] { return eq.inc_rebindStream(h, stream, port); }));
            },
            [&](const event::FreezeStream& f) {
              int h = ss_get(eq, r, f.stream);
              failed(reconfigure(eq, "freeze_stream", f.stream, [&] { return eq.inc_freezeStream(h); }));
            },
            [&](const event::UnfreezeStream& u) {
              int h = ss_get(eq, r, u.stream);
              failed(reconfigure(eq, "unfreeze_stream", u.stream, [&] { return eq.inc_unfreezeStream(h); }));
            },
        },
        e.action);
  }

  void launch(Equus& eq, const RdcSpec& r) {
    pool::LaunchSpec ls;
    ls.name = r.name;
    ls.user = r.user;
    ls.groups = r.groups;
    ls.nodes = r.nodes;
    ls.modules = modules_;
    ls.primary_module = module_index_.at(r.primary.module);
    ls.primary_node_hint = r.primary.node.empty() ? -1 : platform::find_node(spec_.nodes, r.primary.node);
    ls.primary_params = to_params(r.primary, r.channels);
    RdcState state;
    state.spec = &r;
    int rc = pool_->launch(eq, ls, &state.launched);
    if (rc != E_OK) {
      eq.record("launch_failed:" + r.name, rc);
      return;
    }
    auto& l = state.launched;
    // Interest in each one's death: asking a dead incarnation's ghost would only time out.
    auto declare = [&](const std::string& name, int h) {
      if (auto* ref = eq.incarnation().ref<IncRef>(h)) rec_.name_incarnation(ref->inc, name);
      if (name != "stream_space") state.handles[name] = h;
      eq.inc_setInterest(h, EvType::IncDead, 1);
    };
    declare("primary", l.primary);
    declare("stream_space", l.stream_space_inc);
    // The declared configuration: each incarnation created with its parameters (Chapter 5).
    std::size_t next = 0;
    for (const auto& inc : r.incarnations) {
      unsigned node = inc.node.empty() ? l.nodes[next++ % l.nodes.size()]
                                       : static_cast<unsigned>(platform::find_node(spec_.nodes, inc.node));
      IncCreateParams cp;
      cp.inchoate = inc.inchoate;
      cp.params = to_params(inc);
      int h = 0, s = 0;
      int blueprint = inc.from.empty() ? -1 : state.handles[inc.from];
      rc = blueprint > 0 ? eq.inc_create(blueprint, node, &h, &s, &cp)
                         : eq.launch_create(l.rdc, module_index_.at(inc.module), node, &h, &s, &cp);
      if (rc == E_OK)
        declare(inc.name, h);
      else
        eq.record("create_failed:" + inc.name, rc);
    }
    rdcs_[r.name] = std::move(state);
  }

  /// The notice of a withdrawal: sent over the channel `notify` names, and the RDC's incarnations at
  /// the node migrated away (Section 6.4, "Dealing with Node Withdrawal").
  void notice(Equus& eq, RdcState& r, const event::WithdrawNode& w) {
    int node = platform::find_node(spec_.nodes, w.node);
    if (!w.notify.empty()) {
      Msg m;
      m.put<uint32_t>(0, 1);  // a withdrawal notice
      m.put<uint32_t>(4, static_cast<uint32_t>(node));
      m.put<uint32_t>(8, static_cast<uint32_t>(std::lround(w.notice_s * 1000)));
      int rc = eq.inc_send(ss_get(eq, r, w.notify), &m);
      if (rc != E_OK) eq.record("event_failed:notice", rc);
    }
    if (w.migrate_to.empty()) return;
    auto to = static_cast<unsigned>(platform::find_node(spec_.nodes, w.migrate_to));
    std::vector<std::pair<std::string, int>> all(r.handles.begin(), r.handles.end());
    all.emplace_back("stream_space", r.launched.stream_space_inc);
    for (const auto& [name, h] : all) {
      IncStatus st;
      if (!alive(eq, h) || eq.inc_status(h, &st) != E_OK || st.is_node != node) continue;
      int rc =
          reconfigure(eq, "migrate", name + " to " + w.migrate_to + " (withdrawal notice for " + w.node + ")",
                      [&] { return eq.inc_migrate(h, to); });
      if (rc != E_OK) eq.record("event_failed:migrate", rc);
    }
  }

  /// False once the incarnation a handle names has died (EV_INC_DEAD, reported since its creation).
  bool alive(Equus& eq, int handle) {
    EvDesc ev;
    while (eq.inc_eventWait(&ev, 0) == 1)
      if (ev.ed_evtype == EvType::IncDead) dead_.insert(ev.ed_info1);
    auto* ref = eq.incarnation().ref<IncRef>(handle);
    return ref && !dead_.count(static_cast<uint32_t>(ref->inc));
  }

  /// A reference from the RDC's stream space (blocks until deposited); -1 if the fetch failed. The
  /// run-time's stream-space stream and cache belong to the program; the administrator serves several
  /// RDCs, so it switches them around the call.
  int ss_get(Equus& eq, RdcState& r, const std::string& label) {
    Incarnation& self = eq.incarnation();
    std::swap(self.ss_cache, r.ss_cache);
    int saved = std::exchange(self.stream_space_stream, r.launched.stream_space);
    RefDescrip d;
    int rc = eq.ss_get(label, &d);
    self.stream_space_stream = saved;
    std::swap(self.ss_cache, r.ss_cache);
    return rc == E_OK ? d.rd_obj : -1;
  }

  template <class Call>
  int reconfigure(Equus& eq, const std::string& kind, const std::string& detail, Call call) {
    uint32_t token = rec_.begin_reconfiguration({kind, eq.incarnation().gid(), "event", detail});
    int rc = call();
    rec_.end_reconfiguration(token, rc);
    return rc;
  }

  const ScenarioSpec& spec_;
  Recorder& rec_;
  const std::vector<Module>& modules_;
  const std::map<std::string, int>& module_index_;
  std::function<void(double)> graph_now_;
  pool::Pool* pool_ = nullptr;
  std::vector<EventSpec> implicit_;  // launch events for RDCs without one
  std::vector<Step> steps_;
  std::map<std::string, RdcState> rdcs_;
  std::set<uint32_t> dead_;  // incarnations reported dead (ed_info1: the low bits of their identifier)
};

}  // namespace

void register_builtin_programs() {
  programs::register_example_programs();
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
    modules.push_back(Module{name, m.text_kb * 1024, m.data_kb * 1024, m.heap_kb * 1024, m.stack_kb * 1024,
                             m.cpp.empty() ? programs::op_program(m.ops, hooks) : programs::find_program(m.cpp),
                             m.service});
  }

  RunSummary summary;
  if (!out_dir.empty()) std::filesystem::create_directories(out_dir);
  auto graph_now = [&](double t) {
    if (out_dir.empty()) return;
    auto path = fmt::format("{}/graph-{:g}.dot", out_dir, t);
    write_graph(*rec, t, path);
    summary.files.push_back(path);
  };

  auto* admin = new Administrator(spec, *rec, modules, module_index, graph_now);
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
