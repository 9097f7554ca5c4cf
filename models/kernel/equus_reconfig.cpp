// Equus calls that change the receiver of invocations (Chapter 6, Appendix B.6) and migrate
// incarnations (Section 7.4): the caller's side. The kernels' side is in ghost_reconfig.cpp and
// migration.cpp.
#include "models/kernel/equus.hpp"
#include "models/kernel/kernel.hpp"
#include "models/kernel/system_incarnation.hpp"

namespace equus::kernel {

template <class Op>
int Equus::ghost_request(KernelPortAddr ghost, Op op, KernelPortAddr* resolved) {
  KernelMessage km;
  km.dest = ghost;
  km.body = std::move(op);
  auto ans = k().transport().request(self_, std::move(km), k().params().cpu.kmsg_prepare);
  if (!ans) return E_TIMEOUT;
  if (resolved) *resolved = ans->resolved;
  const auto* r = std::get_if<ControlReply>(&ans->body);
  return r ? r->status : E_OK;
}

bool Equus::port_owner(int port, KernelPortAddr* ghost, int* id) const {
  if (inc_.ref<PortRef>(port)) {
    *ghost = k().address_of(*inc_.ghost_port());
    *id = port;
    return true;
  }
  if (auto* h = inc_.ref<PortHandleRef>(port)) {
    *ghost = h->owner_ghost;
    *id = h->port;
    return true;
  }
  return false;
}

int Equus::receive_port(const PackedRef& ref) {
  // Figure 8.4: a port with one proxy per channel; the propagator then forwards and detaches, and
  // only then do the database entries name the new proxies.
  const auto& p = k().params();
  // Its kernel ports exist before the port is among the references that a migration moves: like a
  // synchronous invocation, the taking over holds a migration back until it is complete (7.4.2).
  MigrationLock::SyncCall sync(inc_.migration);
  PortRef port = k().open_port(inc_, 0, ChanType::Unicast);
  PropActivate act{ref.port, {}};
  for (const auto& [chan, type] : ref.channels) {
    KernelPort& proxy = k().attach(port, chan, type, false);
    act.to.emplace_back(chan, k().address_of(proxy));
  }
  self_.compute(p.kernel.reconfig_op);
  self_.set_waiting("activation of a propagated port by its propagator");
  ghost_request(ref.owner_ghost, std::move(act));  // a failed propagator: the port is attached anyway
  self_.clear_waiting();
  // Lines 10-13: the attachments' database entries (port_setup is charged at the database operation).
  self_.compute(static_cast<double>(port.proxies.size()) * p.kernel.port_setup);
  for (KernelPort* proxy : port.proxies)
    k().ports().db_enter(proxy->channel, DeliveryType::Channel, k().address_of(*proxy));
  return inc_.add_ref(std::move(port));
}

int Equus::inc_attachPort(int newport, int oldport, int stream, int move_q) {
  auto call_trace = trace("inc_attachPort");
  auto call = enter();
  AttachPort a;
  KernelPortAddr owner;
  auto* s = inc_.ref<StreamRef>(stream);
  int rc = E_OK;
  if (!s || !port_owner(newport, &owner, &a.port) ||
      (oldport != NO_PORT && !port_owner(oldport, &a.detach_ghost, &a.detach_port))) {
    rc = E_BADREF;
  } else {
    a.channel = s->channel;
    a.type = s->type;
    a.move_q = move_q != 0;
    rc = ghost_request(owner, a);
  }
  return rc;
}

int Equus::inc_rebindStream(int stream_handle, int stream, int port) {
  auto call_trace = trace("inc_rebindStream");
  auto call = enter();
  auto* h = inc_.ref<StreamHandleRef>(stream_handle);
  auto* s = inc_.ref<StreamRef>(stream);
  int rc = E_OK;
  KernelPortAddr receiver;
  int port_id = 0;
  if (!h || !h->owner_ghost.valid() || !s || (port != NO_PORT && !port_owner(port, &receiver, &port_id))) {
    rc = E_BADREF;
  } else if (s->type != ChanType::Unicast || h->type != ChanType::Unicast) {
    rc = E_NOTUNICAST;  // refused before anything moves: a port's queue would be forwarded first
  } else if (port == NO_PORT) {
    // Without a port to forward from (e.g. its owner failed): only the stream changes (6.2.3), and
    // what was queued at the old port stays there, received there or not at all (footnote 3 of 8.5).
    if (auto* c = k().network().checker()) c->relax_order();
    rc = ghost_request(h->owner_ghost, RebindStream{h->stream, s->channel, s->dest});
  } else {
    rc = ghost_request(receiver, RebindAtReceiver{port_id, h->stream, h->owner_ghost, s->channel, s->dest});
  }
  return rc;
}

int Equus::inc_freezeStream(int stream_handle) {
  auto call_trace = trace("inc_freezeStream");
  auto call = enter();
  auto* h = inc_.ref<StreamHandleRef>(stream_handle);
  int rc =
      h && h->owner_ghost.valid() ? ghost_request(h->owner_ghost, FreezeStream{h->stream, true}) : E_BADREF;
  return rc;
}

int Equus::inc_unfreezeStream(int stream_handle) {
  auto call_trace = trace("inc_unfreezeStream");
  auto call = enter();
  auto* h = inc_.ref<StreamHandleRef>(stream_handle);
  int rc =
      h && h->owner_ghost.valid() ? ghost_request(h->owner_ghost, FreezeStream{h->stream, false}) : E_BADREF;
  return rc;
}

StreamRef* Equus::unfrozen_stream(int stream) {
  auto* s = inc_.ref<StreamRef>(stream);
  while (s && s->frozen) {
    self_.set_waiting("inc_unfreezeStream of a frozen stream", stream, Process::Wake::ByOthers);
    self_.block();
    self_.clear_waiting();
    s = inc_.ref<StreamRef>(stream);
  }
  return s;
}

int Equus::inc_migrate(int child, unsigned node) {
  auto call_trace = trace("inc_migrate");
  auto call = enter();
  auto* h = inc_.ref<IncRef>(child);
  int rc = E_OK;
  if (!h) {
    rc = E_BADREF;
  } else if (!k().network().is_pool_node(node)) {
    rc = E_INVAL;
  } else {
    KernelPortAddr ghost = h->ghost, now_at;
    MigrateRequest r{static_cast<int>(node), k().address_of(*inc_.ghost_port())};
    rc = ghost_request(ghost, r, &now_at);
    if (now_at.valid() && (h = inc_.ref<IncRef>(child))) h->ghost = now_at;  // it may have moved before
  }
  return rc;
}

}  // namespace equus::kernel
