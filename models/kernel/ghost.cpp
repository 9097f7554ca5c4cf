#include "models/kernel/ghost.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

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
  KernelPort& kp = *inc_.ghost_port;
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
    probe.body = GhostControl{ControlOp::Status};
    auto ans = k.request(*this, std::move(probe), k.params().cpu.kmsg_prepare);
    bool alive = ans && std::get<ControlReply>(ans->body).state != IncState::Dead;
    if (parent.type == DEP_ABSOLUTE && !alive) absolute_gone = true;
    if (parent.type == DEP_GROUP) {
      any_group = true;
      group_alive = group_alive || alive;
    }
  }
  if (absolute_gone || (any_group && !group_alive))
    k.unhost(inc_, "dependency: parent terminated or unreachable");
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
  if (inc_.system) inc_.system->wake();
}

void Ghost::control(KernelMessage& m, const GhostControl& c) {
  Kernel& k = kernel();
  const auto& p = k.params();
  ControlReply r;
  r.node = k.node();
  switch (c.op) {
    case ControlOp::Freeze:
      if (inc_.state == IncState::Started) {
        inc_.system->suspend();
        inc_.state = IncState::Frozen;
      }
      break;
    case ControlOp::Unfreeze:
      if (inc_.state == IncState::Frozen) {
        inc_.state = IncState::Started;
        inc_.system->resume();
      }
      break;
    case ControlOp::Start:
      if (inc_.state != IncState::Inchoate) {
        r.status = E_INVAL;
      } else {
        if (c.params) inc_.params = c.params;
        inc_.state = IncState::Started;
        inc_.system->wake();
      }
      break;
    case ControlOp::Depend: {
      auto& ps = inc_.parents;
      ps.erase(std::remove_if(ps.begin(), ps.end(), [&](const auto& x) { return x.ghost == c.party; }),
               ps.end());
      if (c.type != DEP_NONE) ps.push_back(Incarnation::Parent{c.party, c.type});
      wake();  // start probing
      break;
    }
    case ControlOp::Interest: {
      auto& in = inc_.interested;
      in.erase(std::remove(in.begin(), in.end(), c.party), in.end());
      if (c.type) in.push_back(c.party);
      break;
    }
    case ControlOp::WatchStream:
      inc_.stream_watchers.emplace(c.party_inc, c.party);
      break;
    case ControlOp::Notify:
      inc_.events().push_back(
          EvDesc{0, static_cast<EvType>(c.type), static_cast<uint32_t>(c.party_inc), c.info});
      if (inc_.death_handlers.count(c.party_inc) || inc_.stream_handlers.count(c.party_inc))
        ++inc_.pending_interrupts;
      if (inc_.system) inc_.system->wake();
      break;
    case ControlOp::Status:
    case ControlOp::Destroy:
      break;
  }
  if (c.op == ControlOp::Notify) return;  // a notification: nobody waits for an answer
  r.state = inc_.state;
  r.memory = inc_.memory;
  for (auto& [id, ref] : inc_.refs())
    if (auto* pr = std::get_if<PortRef>(&ref)) r.queued += static_cast<int>(pr->kport->arrived.size());
  answer(m, r, p.kernel.control_op);
  if (c.op == ControlOp::Destroy) k.unhost(inc_, "destroyed");  // stops this ghost too
}

void Ghost::handle(KernelMessage& m) {
  // Operations on the incarnation's ports exclude a migration and a propagation (see port_ops).
  struct PortOp {
    Incarnation& inc;
    explicit PortOp(Incarnation& i) : inc(i) { ++inc.port_ops; }
    PortOp(const PortOp&) = delete;
    ~PortOp() {
      if (--inc.port_ops > 0) return;
      if (inc.migrator) inc.migrator->wake();
      if (inc.port_op_waiter) inc.port_op_waiter->wake();
    }
  };
  std::optional<PortOp> port_op;
  if (std::holds_alternative<PropActivate>(m.body) || std::holds_alternative<AttachPort>(m.body) ||
      std::holds_alternative<DetachPort>(m.body) || std::holds_alternative<RebindAtReceiver>(m.body)) {
    if (inc_.ports_locked) {
      inc_.deferred.push_back(m);  // run when the migration is over
      return;
    }
    port_op.emplace(inc_);
  }
  Kernel& k = kernel();
  const auto& p = k.params();
  Network& net = k.network();
  auto chunked_copy = [&](sg::Host* from, sg::Host* to, double bytes, double rate) {
    // At most 64 kB move per kernel message; further chunks cost further message set-ups.
    double left = bytes;
    bool first = true;
    while (left > 0) {
      double chunk = std::min(left, p.vme.max_copy_per_message);
      if (!first) compute(p.kernel.bulk_push_setup);
      net.interconnect().copy(from, to, chunk, rate);
      left -= chunk;
      first = false;
    }
  };

  if (auto* f = std::get_if<GhostFetch>(&m.body)) {
    // Push the asinvoke's extra data, still in our incarnation's buffer, into the receiver's.
    compute(p.kernel.bulk_push_setup);
    if (f->to_node == k.node())
      compute(k.cpu().local_bulk_copy_time(f->bytes));
    else
      chunked_copy(k.host(), net.kernel(f->to_node).host(), f->bytes, p.vme.write_copy_rate);
    if (f->into && f->inv->sender_data) std::memcpy(f->into, f->inv->sender_data, f->bytes);
    // Once its data is taken the call is complete: the fetch doubles as the completion notice.
    complete(f->inv->stream, f->inv->asinvoke_id);
  } else if (auto* c = std::get_if<GhostCopy>(&m.body)) {
    compute(p.kernel.bulk_push_setup);
    if (c->caller_node == k.node()) {
      compute(k.cpu().local_bulk_copy_time(c->bytes));
    } else if (c->to_owner) {
      chunked_copy(net.kernel(c->caller_node).host(), k.host(), c->bytes, p.vme.read_copy_rate);
    } else {
      chunked_copy(k.host(), net.kernel(c->caller_node).host(), c->bytes, p.vme.write_copy_rate);
    }
    if (c->to_owner)
      std::memcpy(c->target.bf_base, c->local, c->bytes);
    else
      std::memcpy(c->local, c->target.bf_base, c->bytes);
  } else if (auto* img = std::get_if<GhostImage>(&m.body)) {
    // An INCHOATE incarnation's text and data, in memory here, copied to a new incarnation's node
    // once they have been assembled.
    while (inc_.state == IncState::Loading) {
      set_waiting("its incarnation's text and data");
      block();
    }
    clear_waiting();
    compute(p.kernel.bulk_push_setup);
    if (img->to_node == k.node())
      compute(k.cpu().local_bulk_copy_time(img->bytes));
    else
      chunked_copy(k.host(), net.kernel(img->to_node).host(), img->bytes, p.vme.write_copy_rate);
  } else if (auto* c = std::get_if<GhostControl>(&m.body)) {
    control(m, *c);
    return;
  } else if (auto* a = std::get_if<PropActivate>(&m.body)) {
    prop_activate(m, *a);
    return;
  } else if (auto* at = std::get_if<AttachPort>(&m.body)) {
    attach_port(m, *at);
    return;
  } else if (auto* d = std::get_if<DetachPort>(&m.body)) {
    detach_port(*d, &m);  // answers the attaching ghost itself
    return;
  } else if (auto* rr = std::get_if<RebindAtReceiver>(&m.body)) {
    rebind_at_receiver(m, *rr);
    return;
  } else if (auto* rs = std::get_if<RebindStream>(&m.body)) {
    ControlReply r;
    r.status = rebind_stream(*rs, &r.binding);
    answer(m, r, 0);
    return;
  } else if (auto* fs = std::get_if<FreezeStream>(&m.body)) {
    int status = E_BADREF;
    for (auto& [id, ref] : inc_.refs())
      if (auto* s = std::get_if<StreamRef>(&ref); s && s->gid == fs->stream) {
        s->frozen = fs->freeze;
        status = E_OK;
      }
    if (!fs->freeze && inc_.system) inc_.system->wake();
    answer(m, ControlReply{status}, p.kernel.control_op);
    return;
  } else if (auto* mr = std::get_if<MigrateRequest>(&m.body)) {
    migrate_request(m, *mr);
    return;
  } else if (auto* d = std::get_if<GhostCompletion>(&m.body)) {
    complete(d->stream, d->asinvoke_id);
    return;  // an asynchronous notification: already acknowledged at interrupt level
  }
  // Requests are answered with a reply.
  KernelMessage reply;
  reply.service = Service::Reply;
  reply.xid = m.xid;
  reply.dest = KernelPortAddr{m.origin(), 0};
  reply.body = ReplyBody{};
  k.cache_reply(m.origin(), m.xid, reply);
  k.transmit(*this, reply, p.cpu.kmsg_prepare);
}

}  // namespace equus::kernel
