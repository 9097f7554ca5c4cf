// The ghost's part in changing the receiver of invocation messages: the algorithms of Figures 8.4-8.6.
#include <fmt/format.h>

#include "models/kernel/ghost.hpp"
#include "models/kernel/kernel.hpp"
#include "models/kernel/system_incarnation.hpp"

namespace equus::kernel {

void Ghost::answer(const KernelMessage& m, ControlReply r, double cpu) {
  Kernel& k = kernel();
  r.node = k.node();
  // The ghost's address: incarnation handles follow migrations.
  k.transport().reply(*this, m.origin(), m.xid, std::move(r), cpu + k.params().cpu.kmsg_prepare,
                      inc_.ghost_port() ? k.address_of(*inc_.ghost_port()) : KernelPortAddr{});
}

template <class Op, class Local>
int Ghost::on_ghost(KernelPortAddr ghost, Op op, Local local, ControlReply* reply) {
  Kernel& k = kernel();
  if (ghost == k.address_of(*inc_.ghost_port())) return local(op);  // ourselves: no message
  KernelMessage km;
  km.dest = ghost;
  km.body = std::move(op);
  auto ans = k.transport().request(*this, std::move(km), k.params().cpu.kmsg_prepare);
  if (!ans) return E_TIMEOUT;
  const auto* r = std::get_if<ControlReply>(&ans->body);
  if (r && reply) *reply = *r;
  return r ? r->status : E_OK;
}

namespace {
uint64_t reconfiguration(Kernel& k, const std::string& what) {
  auto* c = k.network().checker();
  return c ? c->reconfiguration(fmt::format("{} at {:.6f} s", what, simgrid::s4u::Engine::get_clock())) : 0;
}
}  // namespace

// Figure 8.5: the propagator hands its port over to the recipient's proxies.
void Ghost::prop_activate(KernelMessage& m, const PropActivate& a) {
  Kernel& k = kernel();
  const auto& p = k.params();
  bool retained = true;
  PortRef* pr = inc_.ref<PortRef>(a.port);
  if (!pr) {
    auto it = inc_.propagating.find(a.port);
    if (it == inc_.propagating.end()) {
      answer(m, ControlReply{.status = E_BADREF}, p.kernel.reconfig_op);
      return;
    }
    pr = &it->second;
    retained = false;
  }
  uint64_t rc = reconfiguration(k, fmt::format("port propagation from {}", inc_.name()));
  auto dest_for = [&a](GlobalId chan) {
    for (const auto& [c, addr] : a.to)
      if (c == chan) return Destination{addr, c};
    return a.to.empty() ? Destination{} : Destination{a.to.front().second, a.to.front().first};
  };
  KernelPort& main = *pr->kport;
  compute(p.kernel.reconfig_op);      // lines 3-5; what arrives meanwhile is acknowledged and queued
  if (!retained) main.moving = true;  // forwardMsgs: arrivals are pending while the queue is forwarded
  if (!retained) {
    k.forwarding().forward_arrived(
        *this, main, [](const QueuedMessage&) { return true; },
        [&](const QueuedMessage& q) { return dest_for(q.channel); }, rc);
  }
  answer(m, ControlReply{}, 0);  // the recipient enters its database entries meanwhile
  for (KernelPort* proxy : std::vector<KernelPort*>(pr->proxies)) {
    if (proxy->chan_type == ChanType::Multicast) {
      if (!retained) k.detach(*pr, proxy, {});  // the new port is added to the group
      continue;
    }
    proxy->moving = true;
    GlobalId chan = proxy->channel;
    Destination to = dest_for(chan);
    compute(p.kernel.port_setup);  // lines 12-16: the attachment's database entry, kernel port go
    k.forwarding().forward_pending(
        *this, main, [chan](const PendingMessage& pm) { return pm.channel == chan; }, to, rc);
    k.detach(*pr, proxy, to.port);
  }
  main.moving = false;
  if (!retained) {
    k.close_port(inc_, *pr);
    inc_.propagating.erase(a.port);
  } else {
    if (auto* c = k.network().checker()) c->relax_order();  // two queues now: footnote 3 of 8.5
    Forwarding::wake_receiver(main);
  }
}

// Section 8.5.2, at the owner of the port being attached.
void Ghost::attach_port(KernelMessage& m, const AttachPort& a) {
  Kernel& k = kernel();
  const auto& p = k.params();
  auto* pr = inc_.ref<PortRef>(a.port);
  if (!pr) {
    answer(m, ControlReply{.status = E_BADREF}, p.kernel.reconfig_op);
    return;
  }
  compute(p.kernel.reconfig_op);
  KernelPort& proxy = k.attach(*pr, a.channel, a.type, false);
  int status = E_OK;
  if (a.detach_ghost.valid()) {
    DetachPort d{a.detach_port, a.channel, k.address_of(proxy), a.move_q};
    status = on_ghost(a.detach_ghost, d, [this](const DetachPort& op) { return detach_port(op, nullptr); });
  }
  compute(p.kernel.port_setup);  // as Figure 8.4 lines 10-13: the database entry
  k.ports().db_enter(a.channel, DeliveryType::Channel, k.address_of(proxy));
  answer(m, ControlReply{.status = status}, 0);
}

// At the owner of the port being detached: what arrived over the channel goes to the new port first.
// As the propagator of Figure 8.5 (Section 8.5.2 says attachment follows it): the attaching side is
// answered once the arrived messages are forwarded (`answer`, if any), then the pending ones follow.
int Ghost::detach_port(const DetachPort& d, const KernelMessage* request) {
  Kernel& k = kernel();
  auto* pr = inc_.ref<PortRef>(d.port);
  KernelPort* proxy = pr ? pr->proxy(d.channel) : nullptr;
  if (!proxy) {
    int status = pr ? E_INVAL : E_BADREF;
    if (request) answer(*request, ControlReply{.status = status}, 0);
    return status;
  }
  uint64_t rc = reconfiguration(k, fmt::format("port attachment: {} detached", inc_.name()));
  KernelPort& main = *pr->kport;
  main.receive_locked = true;              // no reception interleaved with forwarding: no gaps (8.5.2)
  compute(k.params().kernel.reconfig_op);  // what arrives meanwhile is acknowledged, then forwarded
  proxy->moving = true;                    // the forwarding routine's first step: arrivals are pending
  Destination to{d.to, d.channel};
  GlobalId chan = d.channel;
  if (d.move_q)
    k.forwarding().forward_arrived(
        *this, main, [chan](const QueuedMessage& q) { return q.channel == chan; },
        [&](const QueuedMessage&) { return to; }, rc);
  else if (auto* c = k.network().checker())
    c->relax_order();  // the old queue stays: footnote 3 of 8.5
  if (request) answer(*request, ControlReply{}, 0);
  compute(k.params().kernel.port_setup);  // as Figure 8.5 lines 12-16: database entry, kernel port go
  k.forwarding().forward_pending(
      *this, main, [chan](const PendingMessage& pm) { return pm.channel == chan; }, to, rc);
  k.detach(*pr, proxy, d.to);
  main.receive_locked = false;
  Forwarding::wake_receiver(main);
  return E_OK;
}

// Figure 8.6 line 10: the stream's holder rebinds it; `binding` is its new binding number.
int Ghost::rebind_holder(const RebindAtReceiver& r, uint32_t* binding) {
  ControlReply reply;
  int status = on_ghost(
      r.stream_ghost, RebindStream{r.stream, r.channel, r.to},
      [this, &reply](const RebindStream& op) { return rebind_stream(op, &reply.binding); }, &reply);
  *binding = reply.binding;
  return status;
}

// Figure 8.6, at the current receiver.
void Ghost::rebind_at_receiver(KernelMessage& m, const RebindAtReceiver& r) {
  Kernel& k = kernel();
  const auto& p = k.params();
  auto* pr = inc_.ref<PortRef>(r.port);
  if (!pr) {
    answer(m, ControlReply{.status = E_BADREF}, p.kernel.reconfig_op);
    return;
  }
  uint64_t rc = reconfiguration(k, fmt::format("stream rebinding away from {}", inc_.name()));
  if (pr->proxy(r.channel)) {
    compute(p.kernel.reconfig_op);
    // The new channel is attached to this same port: its queued messages already are where the stream
    // now leads. Forwarding them to ourselves would make them pending again, for ever; they count as
    // arrived over the new channel instead, as if forwarded, so that attaching the old channel
    // elsewhere later leaves them here with the stream's later messages.
    // So do those sent before the rebinding that arrive after it (the stream's binding number).
    auto relabel = [&] {
      for (auto& q : pr->kport->arrived)
        if (q.inv->stream == r.stream) q.channel = r.channel;
    };
    relabel();
    uint32_t binding = 0;
    int status = rebind_holder(r, &binding);
    if ((pr = inc_.ref<PortRef>(r.port))) {
      relabel();  // arrived meanwhile
      if (KernelPort* proxy = pr->proxy(r.channel); proxy && status == E_OK)
        pr->kport->rebound[r.stream] = {binding, Destination{k.address_of(*proxy), r.channel}};
    }
    answer(m, ControlReply{.status = status}, 0);
    return;
  }
  KernelPort& main = *pr->kport;
  GlobalId stream = r.stream;
  Destination to{r.to, r.channel};
  main.receive_locked = true;     // line 8
  compute(p.kernel.reconfig_op);  // lines 3-7; what arrives meanwhile is acknowledged, then forwarded
  main.moving_stream = stream;    // the forwarding routine's: the stream's arrivals are pending
  k.forwarding().forward_arrived(
      *this, main, [stream](const QueuedMessage& q) { return q.inv->stream == stream; },
      [&](const QueuedMessage&) { return to; }, rc);
  uint32_t binding = 0;
  int status = rebind_holder(r, &binding);
  if (status == E_OK) main.rebound[stream] = {binding, to};  // for its messages still on their way
  k.forwarding().forward_pending(
      *this, main,
      [stream](const PendingMessage& pm) {
        return std::get<InvocationBody>(pm.msg.body).inv->stream == stream;
      },
      to, rc);
  main.moving_stream = 0;
  main.receive_locked = false;
  Forwarding::wake_receiver(main);
  answer(m, ControlReply{.status = status}, 0);
}

// At the stream's holder: only the channel and the cached destination change.
int Ghost::rebind_stream(const RebindStream& r, uint32_t* binding) {
  // No reconfiguration step's CPU here: the holder's ghost "only has to set the new channel and
  // destination kernel port values" (8.5.3); its kernel message handling is charged as for any other.
  while (inc_.transmit.transmitting(r.stream)) {  // an invocation on its way out goes first
    inc_.transmit.set_waiter(this);
    set_waiting("an invocation of the stream being rebound to leave");
    block();
  }
  inc_.transmit.set_waiter(nullptr);
  clear_waiting();
  for (auto& [id, ref] : inc_.refs())
    if (auto* s = std::get_if<StreamRef>(&ref); s && s->gid == r.stream) {
      if (s->type != ChanType::Unicast) return E_NOTUNICAST;
      s->channel = r.channel;
      s->dest = r.to;
      ++s->binding;
      if (binding) *binding = s->binding;
      return E_OK;
    }
  return E_BADREF;
}

}  // namespace equus::kernel
