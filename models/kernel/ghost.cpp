#include "models/kernel/ghost.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>

#include "models/kernel/kernel.hpp"
#include "models/kernel/system_incarnation.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

Ghost::Ghost(Kernel& kernel, Incarnation& inc)
    : Process(kernel, "ghost:" + inc.name(), m68030::Priority::Ghost), inc_(inc) {}

void Ghost::start() {
  actor_ = sg::Actor::create("ghost:" + inc_.name(), kernel().host(), [this] { run(); });
  actor_->daemonize();
}

void Ghost::stop() {
  if (actor_) actor_->kill();
  actor_ = nullptr;
}

void Ghost::run() {
  KernelPort& kp = *inc_.ghost_port();
  kp.waiter = this;
  double period = kernel().params().kernel.dependency_probe_period;
  double next_probe = sg::Engine::get_clock() + period;
  for (;;) {
    while (kp.requests.empty()) {
      if (inc_.parents.empty() || period <= 0) {
        block();
      } else if (!block_until(next_probe)) {
        probe_parents();  // periodic test of the parents this incarnation depends on (7.3)
        next_probe = sg::Engine::get_clock() + period;
      }
    }
    KernelMessage m = std::move(kp.requests.front());
    kp.requests.pop_front();
    handle(m);
  }
}

void Ghost::probe_parents() {
  Kernel& k = kernel();
  bool absolute_gone = false, group_alive = false, any_group = false;
  for (const auto& parent : inc_.parents) {
    KernelMessage probe;
    probe.dest = parent.ghost;
    probe.body = GhostControl{control::Status{}};
    auto ans = k.transport().request(*this, std::move(probe), k.params().cpu.kmsg_prepare);
    bool alive = ans && std::get<ControlReply>(ans->body).state != IncState::Dead;
    if (parent.type == DEP_ABSOLUTE && !alive) absolute_gone = true;
    if (parent.type == DEP_GROUP) {
      any_group = true;
      group_alive = group_alive || alive;
    }
  }
  if (absolute_gone || (any_group && !group_alive))
    k.hosting().unhost(inc_, "dependency: parent terminated or unreachable");
}

void Ghost::complete(GlobalId stream, uint64_t asinvoke_id) {
  compute(kernel().params().cpu.completion_notice);
  for (auto& [id, r] : inc_.refs())
    if (auto* s = std::get_if<StreamRef>(&r); s && s->gid == stream) {
      auto it = std::find(s->outstanding.begin(), s->outstanding.end(), asinvoke_id);
      if (it != s->outstanding.end()) s->outstanding.erase(it);
      inc_.events().push_back(
          EvDesc{static_cast<uint32_t>(id), EvType::AsinvokeDone, static_cast<uint32_t>(asinvoke_id), 0});
    }
  if (inc_.system()) inc_.system()->wake();
}

int Ghost::apply(const control::Freeze&) {
  if (inc_.state() == IncState::Started) {
    inc_.system()->suspend();
    inc_.set_state(IncState::Frozen);
  }
  return E_OK;
}

int Ghost::apply(const control::Unfreeze&) {
  if (inc_.state() == IncState::Frozen) {
    inc_.set_state(IncState::Started);
    inc_.system()->resume();
  }
  return E_OK;
}

int Ghost::apply(const control::Start& op) {
  if (inc_.state() != IncState::Inchoate) return E_INVAL;
  if (op.params) inc_.params = op.params;
  inc_.set_state(IncState::Started);
  inc_.system()->wake();
  return E_OK;
}

int Ghost::apply(const control::Depend& op) {
  auto& ps = inc_.parents;
  ps.erase(std::remove_if(ps.begin(), ps.end(), [&](const auto& x) { return x.ghost == op.parent; }),
           ps.end());
  if (op.type != DEP_NONE) ps.push_back(Incarnation::Parent{op.parent, op.type});
  wake();  // start probing
  return E_OK;
}

int Ghost::apply(const control::Interest& op) {
  auto& in = inc_.interested;
  in.erase(std::remove(in.begin(), in.end(), op.party), in.end());
  if (op.set) in.push_back(op.party);
  return E_OK;
}

int Ghost::apply(const control::WatchStream& op) {
  inc_.stream_watchers.emplace(op.stream, op.watcher);
  return E_OK;
}

int Ghost::apply(const control::Notify& op) {
  inc_.events().push_back(EvDesc{0, op.type, static_cast<uint32_t>(op.about), op.info});
  if (inc_.interrupts.watches(op.about)) inc_.interrupts.raise();
  if (inc_.system()) inc_.system()->wake();
  return E_OK;
}

void Ghost::control(const KernelMessage& m, const GhostControl& c) {
  Kernel& k = kernel();
  ControlReply r;
  r.status = std::visit([this](const auto& op) { return apply(op); }, c.op);
  if (std::holds_alternative<control::Notify>(c.op)) return;  // a notification: nobody waits for an answer
  r.state = inc_.state();
  r.memory = inc_.memory;
  for (auto& [id, ref] : inc_.refs())
    if (auto* pr = std::get_if<PortRef>(&ref)) r.queued += static_cast<int>(pr->kport->arrived.size());
  answer(m, r, k.params().kernel.control_op);
  if (std::holds_alternative<control::Destroy>(c.op))
    k.hosting().unhost(inc_, "destroyed");  // stops this ghost too
}

void Ghost::bulk(sg::Host* from, sg::Host* to, double bytes, double rate) {
  // The first chunk's set-up is the caller's; further chunks cost further message set-ups.
  kernel().transport().bulk_copy(from, to, bytes, rate, [this](double, bool first) {
    if (!first) compute(kernel().params().kernel.bulk_push_setup);
  });
}

void Ghost::push(int to_node, double bytes) {
  Kernel& k = kernel();
  const auto& p = k.params();
  if (to_node == k.node())
    compute(k.cpu().local_bulk_copy_time(bytes));
  else
    bulk(k.host(), k.network().kernel(to_node).host(), bytes, p.vme.write_copy_rate);
}

void Ghost::fetch(const KernelMessage& m, const GhostFetch& f) {
  // Push the asinvoke's extra data, still in our incarnation's buffer, into the receiver's.
  compute(kernel().params().kernel.bulk_push_setup);
  push(f.to_node, f.bytes);
  if (f.into && f.inv->sender_data) std::memcpy(f.into, f.inv->sender_data, f.bytes);
  // Once its data is taken the call is complete: the fetch doubles as the completion notice.
  complete(f.inv->stream, f.inv->asinvoke_id);
  done(m);
}

void Ghost::copy(const KernelMessage& m, const GhostCopy& c) {
  Kernel& k = kernel();
  const auto& p = k.params();
  compute(p.kernel.bulk_push_setup);
  if (c.caller_node != k.node() && c.to_owner)
    bulk(k.network().kernel(c.caller_node).host(), k.host(), c.bytes, p.vme.read_copy_rate);
  else
    push(c.caller_node, c.bytes);
  if (c.to_owner)
    std::memcpy(c.target.bf_base, c.local, c.bytes);
  else
    std::memcpy(c.local, c.target.bf_base, c.bytes);
  done(m);
}

void Ghost::image(const KernelMessage& m, const GhostImage& img) {
  // An INCHOATE incarnation's text and data, in memory here, copied to a new incarnation's node
  // once they have been assembled.
  while (inc_.state() == IncState::Loading) {
    set_waiting("its incarnation's text and data");
    block();
  }
  clear_waiting();
  compute(kernel().params().kernel.bulk_push_setup);
  push(img.to_node, img.bytes);
  done(m);
}

void Ghost::freeze_stream(const KernelMessage& m, const FreezeStream& fs) {
  int status = E_BADREF;
  for (auto& [id, ref] : inc_.refs())
    if (auto* s = std::get_if<StreamRef>(&ref); s && s->gid == fs.stream) {
      s->frozen = fs.freeze;
      status = E_OK;
    }
  if (!fs.freeze && inc_.system()) inc_.system()->wake();
  answer(m, ControlReply{.status = status}, kernel().params().kernel.control_op);
}

void Ghost::done(const KernelMessage& m) {
  kernel().transport().reply(*this, m.origin(), m.xid, ReplyBody{}, kernel().params().cpu.kmsg_prepare);
}

namespace {
/// Operations on the incarnation's ports: they exclude a migration and a propagation (MigrationLock).
template <class T>
constexpr bool is_port_op = std::is_same_v<T, PropActivate> || std::is_same_v<T, AttachPort> ||
                            std::is_same_v<T, DetachPort> || std::is_same_v<T, RebindAtReceiver>;

}  // namespace

void Ghost::handle(KernelMessage& m) {
  std::optional<MigrationLock::PortOp> port_op;
  if (std::visit([](const auto& b) { return is_port_op<std::decay_t<decltype(b)>>; }, m.body)) {
    if (inc_.migration.ports_locked()) {
      inc_.migration.defer(m);  // run when the migration is over
      return;
    }
    port_op.emplace(inc_.migration);
  }
  std::visit(Overloaded{
                 [&](const GhostFetch& f) { fetch(m, f); },
                 [&](const GhostCopy& c) { copy(m, c); },
                 [&](const GhostImage& img) { image(m, img); },
                 [&](const GhostControl& c) { control(m, c); },
                 [&](const PropActivate& a) { prop_activate(m, a); },
                 [&](const AttachPort& a) { attach_port(m, a); },
                 [&](const DetachPort& d) { detach_port(d, &m); },  // answers the attaching ghost itself
                 [&](const RebindAtReceiver& r) { rebind_at_receiver(m, r); },
                 [&](const RebindStream& r) {
                   ControlReply reply;
                   reply.status = rebind_stream(r, &reply.binding);
                   answer(m, reply, 0);
                 },
                 [&](const FreezeStream& fs) { freeze_stream(m, fs); },
                 [&](const MigrateRequest& r) { migrate_request(m, r); },
                 // An asynchronous notification: already acknowledged at interrupt level.
                 [&](const GhostCompletion& c) { complete(c.stream, c.asinvoke_id); },
                 [&](const auto&) { done(m); },
             },
             m.body);
}

}  // namespace equus::kernel
