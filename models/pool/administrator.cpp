#include "models/pool/administrator.hpp"

#include <xbt/log.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "models/kernel/incarnation.hpp"
#include "models/kernel/system_incarnation.hpp"
#include "models/support/overloaded.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus_pool);
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(pool_admin, equus_pool,
                                "The scenario's administrator: launches and timed events");

namespace sg = simgrid::s4u;
using namespace equus::kernel;

namespace equus::pool {

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

Administrator::Administrator(AdministratorPlan plan, AdministratorHooks hooks)
    : plan_(std::move(plan)), hooks_(std::move(hooks)) {
  for (const auto& r : plan_.rdcs)
    if (std::none_of(plan_.events.begin(), plan_.events.end(),
                     [&](const EventSpec& e) { return e.as<event::Launch>() && e.rdc == r.name; })) {
      EventSpec e;
      e.type = "launch";
      e.rdc = r.name;
      e.action = event::Launch{};
      implicit_.push_back(std::move(e));
    }
  for (const auto& e : plan_.events) {
    steps_.push_back({e.at, &e, false});
    if (const auto* w = e.as<event::WithdrawNode>()) steps_.push_back({e.at + w->notice_s, &e, true});
  }
  for (const auto& e : implicit_) steps_.push_back({0, &e, false});
  std::stable_sort(steps_.begin(), steps_.end(), [](const Step& a, const Step& b) { return a.at < b.at; });
}

void Administrator::run(Equus& eq) {
  for (const auto& step : steps_) {
    if (step.at > sg::Engine::get_clock()) sg::this_actor::sleep_until(step.at);
    perform(eq, step);
  }
}

unsigned Administrator::node(const std::string& name) const {
  return static_cast<unsigned>(platform::find_node(plan_.nodes, name));
}

void Administrator::perform(Equus& eq, const Step& step) {
  const EventSpec& e = *step.event;
  if (e.as<event::Graph>()) {
    if (hooks_.graph) hooks_.graph(sg::Engine::get_clock());
    return;
  }
  auto spec =
      std::find_if(plan_.rdcs.begin(), plan_.rdcs.end(), [&](const auto& r) { return r.name == e.rdc; });
  if (spec == plan_.rdcs.end()) return;
  if (e.as<event::Launch>()) {
    launch(eq, *spec);
    return;
  }
  auto it = rdcs_.find(e.rdc);
  if (it == rdcs_.end()) {  // not (yet, or successfully) launched
    XBT_VERB("%s on rdc '%s' skipped: it is not running", e.type.c_str(), e.rdc.c_str());
    eq.record("event_skipped:" + e.type, 0);
    return;
  }
  XBT_VERB("%s on rdc '%s'", e.type.c_str(), e.rdc.c_str());
  perform_on(eq, step, it->second);
}

void Administrator::perform_on(Equus& eq, const Step& step, RdcState& r) {
  const EventSpec& e = *step.event;
  GlobalId rdc_id = r.launched.rdc->id;
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
          [&](const event::AttachPort& a) { failed(attach_port(eq, r, a)); },
          [&](const event::RebindStream& b) { failed(rebind_stream(eq, r, b)); },
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

int Administrator::attach_port(Equus& eq, RdcState& r, const event::AttachPort& a) {
  int port = ss_get(eq, r, a.port);
  int stream = ss_get(eq, r, a.channel);
  int detach = a.detach.empty() ? NO_PORT : ss_get(eq, r, a.detach);
  std::string detail = a.port + " to channel " + a.channel;
  if (!a.detach.empty()) detail += ", detaching " + a.detach;
  return reconfigure(eq, "attach_port", detail,
                     [&] { return eq.inc_attachPort(port, detach, stream, a.move_queue ? 1 : 0); });
}

int Administrator::rebind_stream(Equus& eq, RdcState& r, const event::RebindStream& b) {
  int h = ss_get(eq, r, b.stream);
  int stream = ss_get(eq, r, b.channel);
  int port = b.forward_from.empty() ? NO_PORT : ss_get(eq, r, b.forward_from);
  std::string detail = b.stream + " to channel " + b.channel;
  if (!b.forward_from.empty()) detail += ", forwarding from " + b.forward_from;
  return reconfigure(eq, "rebind_stream", detail, [&] { return eq.inc_rebindStream(h, stream, port); });
}

void Administrator::launch(Equus& eq, const RdcSpec& r) {
  LaunchSpec ls;
  ls.name = r.name;
  ls.user = r.user;
  ls.groups = r.groups;
  ls.nodes = r.nodes;
  ls.modules = plan_.modules;
  ls.primary_module = plan_.module_index.at(r.primary.module);
  ls.primary_node_hint = r.primary.node.empty() ? -1 : platform::find_node(plan_.nodes, r.primary.node);
  ls.primary_params = to_params(r.primary, r.channels);
  RdcState state;
  state.spec = &r;
  int rc = pool_->launch(eq, ls, &state.launched);
  if (rc != E_OK) {
    eq.record("launch_failed:" + r.name, rc);
    return;
  }
  declare(eq, state, "primary", state.launched.primary);
  declare(eq, state, "stream_space", state.launched.stream_space_inc);
  create_declared(eq, r, state);
  rdcs_[r.name] = std::move(state);
}

/// The declared configuration: each incarnation created with its parameters (Chapter 5), on its node or
/// else round the RDC's nodes.
void Administrator::create_declared(Equus& eq, const RdcSpec& r, RdcState& state) {
  const auto& l = state.launched;
  std::size_t next = 0;
  for (const auto& inc : r.incarnations) {
    unsigned at = inc.node.empty() ? l.nodes[next++ % l.nodes.size()] : node(inc.node);
    IncCreateParams cp;
    cp.inchoate = inc.inchoate;
    cp.params = to_params(inc);
    int h = 0, s = 0;
    int blueprint = inc.from.empty() ? -1 : state.handles[inc.from];
    int rc = blueprint > 0 ? eq.inc_create(blueprint, at, &h, &s, &cp)
                           : eq.launch_create(l.rdc, plan_.module_index.at(inc.module), at, &h, &s, &cp);
    if (rc == E_OK)
      declare(eq, state, inc.name, h);
    else
      eq.record("create_failed:" + inc.name, rc);
  }
}

/// Names the incarnation and registers interest in its death: asking a dead incarnation's ghost would
/// only time out.
void Administrator::declare(Equus& eq, RdcState& state, const std::string& name, int h) {
  if (auto* ref = eq.incarnation().ref<IncRef>(h); ref && hooks_.report.named)
    hooks_.report.named(ref->inc, name);
  if (name != "stream_space") state.handles[name] = h;
  eq.inc_setInterest(h, EvType::IncDead, 1);
}

/// The notice of a withdrawal: sent over the channel `notify` names, and the RDC's incarnations at the
/// node migrated away (Section 6.4, "Dealing with Node Withdrawal").
void Administrator::notice(Equus& eq, RdcState& r, const event::WithdrawNode& w) {
  int at = platform::find_node(plan_.nodes, w.node);
  if (!w.notify.empty()) {
    Msg m;
    m.put<uint32_t>(0, 1);  // a withdrawal notice
    m.put<uint32_t>(4, static_cast<uint32_t>(at));
    m.put<uint32_t>(8, static_cast<uint32_t>(std::lround(w.notice_s * 1000)));
    int rc = eq.inc_send(ss_get(eq, r, w.notify), &m);
    if (rc != E_OK) eq.record("event_failed:notice", rc);
  }
  if (w.migrate_to.empty()) return;
  unsigned to = node(w.migrate_to);
  std::vector<std::pair<std::string, int>> all(r.handles.begin(), r.handles.end());
  all.emplace_back("stream_space", r.launched.stream_space_inc);
  for (const auto& [name, h] : all) {
    IncStatus st;
    if (!alive(eq, h) || eq.inc_status(h, &st) != E_OK || st.is_node != at) continue;
    int rc =
        reconfigure(eq, "migrate", name + " to " + w.migrate_to + " (withdrawal notice for " + w.node + ")",
                    [&, h = h] { return eq.inc_migrate(h, to); });  // clang 14: no captured bindings
    if (rc != E_OK) eq.record("event_failed:migrate", rc);
  }
}

/// False once the incarnation a handle names has died (EV_INC_DEAD, reported since its creation).
bool Administrator::alive(Equus& eq, int handle) {
  EvDesc ev;
  while (eq.inc_eventWait(&ev, 0) == 1)
    if (ev.ed_evtype == EvType::IncDead) dead_.insert(ev.ed_info1);
  auto* ref = eq.incarnation().ref<IncRef>(handle);
  return ref && !dead_.count(static_cast<uint32_t>(ref->inc));
}

/// A reference from the RDC's stream space (blocks until deposited); -1 if the fetch failed. The
/// run-time's stream-space stream and cache belong to the program; the administrator serves several
/// RDCs, so it switches them around the call.
int Administrator::ss_get(Equus& eq, RdcState& r, const std::string& label) {
  Incarnation& self = eq.incarnation();
  int stream = r.launched.stream_space;
  self.swap_stream_space(stream, r.ss_cache);
  RefDescrip d;
  int rc = eq.ss_get(label, &d);
  self.swap_stream_space(stream, r.ss_cache);
  return rc == E_OK ? d.rd_obj : -1;
}

template <class Call>
int Administrator::reconfigure(Equus& eq, const std::string& kind, const std::string& detail, Call call) {
  uint64_t token = 0;
  if (hooks_.report.reconfiguring)
    token = hooks_.report.reconfiguring({kind, eq.incarnation().gid(), "event", detail});
  int rc = call();
  if (hooks_.report.reconfigured) hooks_.report.reconfigured(token, rc);
  return rc;
}

}  // namespace equus::pool
