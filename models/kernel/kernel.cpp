#include "models/kernel/kernel.hpp"

#include <algorithm>
#include <cmath>

#include "models/kernel/comm_manager.hpp"
#include "models/kernel/ghost.hpp"
#include "models/kernel/loader.hpp"
#include "models/kernel/migrator.hpp"
#include "models/kernel/packet_interrupt.hpp"
#include "models/kernel/system_incarnation.hpp"
#include "models/kernel/time_daemon.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus);
XBT_LOG_NEW_SUBCATEGORY(equus_kernel, equus, "The kernel: ports, delivery, hosting, migration");
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kernel_delivery, equus_kernel, "Arrival and delivery of kernel packets");

namespace sg = simgrid::s4u;

namespace equus::kernel {

bool Network::lose_packet() {
  double p = params_.kernel.packet_loss_probability;
  if (p <= 0) return false;
  return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
}

Kernel::Kernel(Network& net, int node, sg::Host* host, const params::ModelParams& params)
    : net_(net), node_(node), cpu_(host, params.cpu), params_(params), ports_(params), memory_(params) {
  cpu_.load().set_period(params.kernel.load_average_period);
}

Kernel::~Kernel() = default;

void Kernel::boot(double phase) {
  interrupt_ = std::make_unique<PacketInterrupt>(*this);
  comm_manager_ = std::make_unique<CommManager>(*this);
  time_daemon_ = std::make_unique<TimeDaemon>(*this);
  loader_ = std::make_unique<Loader>(*this);
  interrupt_->start();
  comm_manager_->start();
  time_daemon_->start(phase);
  loader_->start();
  if (node_ == net_.host_node()) {
    file_service_ = std::make_unique<FileService>(*this);
    file_service_->start();
  }
}

void Kernel::for_each_queued(const std::function<void(const Invocation&)>& f) const {
  ports_.for_each([&f](const KernelPort& kp) {
    for (const auto& q : kp.arrived) f(*q.inv);
    for (const auto& pm : kp.pending) f(*std::get<InvocationBody>(pm.msg.body).inv);
  });
  forwarding_.for_each_in_flight(f);
}

// ---------------------------------------------------------------- database

// ---------------------------------------------------------------- incarnation ports

GlobalId PortRef::channel() const { return proxies.empty() ? 0 : proxies.front()->channel; }
ChanType PortRef::type() const { return proxies.empty() ? ChanType::Unicast : proxies.front()->chan_type; }
KernelPort* PortRef::proxy(GlobalId chan) const {
  for (auto* p : proxies)
    if (p->channel == chan) return p;
  return nullptr;
}

PortRef Kernel::open_port(Incarnation& inc, GlobalId chan, ChanType type) {
  PortRef p;
  p.kport = &ports_.create(&inc, false);
  if (chan) attach(p, chan, type);
  return p;
}

KernelPort& Kernel::attach(PortRef& port, GlobalId chan, ChanType type, bool enter) {
  KernelPort& proxy = ports_.create(port.kport->owner, false);
  proxy.main = port.kport;
  proxy.channel = chan;
  proxy.chan_type = type;
  port.proxies.push_back(&proxy);
  if (enter) ports_.db_enter(chan, DeliveryType::Channel, address_of(proxy));
  return proxy;
}

void Kernel::detach(PortRef& port, KernelPort* proxy, KernelPortAddr to) {
  auto& ps = port.proxies;
  ps.erase(std::remove(ps.begin(), ps.end(), proxy), ps.end());
  ports_.db_remove(proxy->channel, DeliveryType::Channel, address_of(*proxy));
  if (to.valid()) ports_.redirect(proxy->index, to);
  ports_.erase(proxy->index);
}

void Kernel::close_port(Incarnation& inc, PortRef& port) {
  for (auto* proxy : std::vector<KernelPort*>(port.proxies)) detach(port, proxy, {});
  if (!port.kport) return;
  for (auto& q : port.kport->arrived) {
    release_buffer(inc, q);
    if (auto* c = net_.checker()) c->discarded(*q.inv);
  }
  for (auto& pm : port.kport->pending) {
    if (auto* c = net_.checker()) c->discarded(*std::get<InvocationBody>(pm.msg.body).inv);
  }
  ports_.erase(port.kport->index);
  port.kport = nullptr;
}

bool Kernel::follow_redirection(KernelMessage& m, uint32_t index) {
  auto to = ports_.redirection(index);
  if (!to) return false;
  ++stats_.redirected;
  KernelMessage f = m;
  f.reply_node = m.origin();  // the sender is still the one answered
  f.dest = *to;
  hand_to_comm_manager(std::move(f));  // interrupt handlers cannot send
  return true;
}

// ---------------------------------------------------------------- kernel ports

// ---------------------------------------------------------------- sending

void Kernel::hand_to_comm_manager(KernelMessage m) { comm_manager_->post(std::move(m)); }

// ---------------------------------------------------------------- arrival

void Kernel::post_packet(KernelMessage& m) {
  if (down_) {
    ++stats_.packets_dropped_down;
    return;
  }
  m.sent_at = sg::Engine::get_clock();
  interrupt_->post(m);
}

KernelMessage Kernel::make_ack(const KernelMessage& m, KernelPortAddr resolved) {
  KernelMessage ack;
  ack.service = Service::Ack;
  ack.xid = m.xid;
  ack.dest = KernelPortAddr{m.origin(), 0};
  ack.resolved = resolved;
  ack.body = AckBody{};
  return ack;
}

void Kernel::acknowledge(const KernelMessage& m, KernelPortAddr resolved) {
  KernelMessage ack = make_ack(m, resolved);
  replies_.store(m.origin(), m.xid, ack);  // a retry gets the same answer
  if (m.origin() == node_)
    deliver(ack);
  else
    hand_to_comm_manager(std::move(ack));  // interrupt handlers cannot send
}

bool Kernel::drop_duplicate(KernelMessage& m) {
  if (m.service != Service::Request && m.service != Service::Async) return false;
  if (replies_.insert(m.origin(), m.xid)) {
    // Unknown, and begun longer ago than an entry is kept unused: a retry of one seen and forgotten
    // (it stalled on a congested bus while the reply was lost), or of one whose sender has given up.
    // Either way delivering it would break at-most-once (Section 8.4.1): dropped unanswered.
    if (sg::Engine::get_clock() - m.began <= params_.kernel.reply_cache_age) return false;
    replies_.erase(m.origin(), m.xid);
    ++stats_.packets_dropped_stale;
    XBT_VERB("node %d drops transaction %llu from node %d: begun %.3f s ago, not remembered", node_,
             static_cast<unsigned long long>(m.xid), m.origin(), sg::Engine::get_clock() - m.began);
    return true;
  }
  ReplyCache::Entry& seen = *replies_.find(m.origin(), m.xid);
  replies_.touch(seen);  // in use: kept for another reply_cache_age
  ++stats_.duplicates;
  if (seen.pending) return true;  // still pending: its forwarding will answer
  if (m.service == Service::Async) {
    hand_to_comm_manager(make_ack(m, seen.reply.resolved));
  } else if (seen.replied) {
    hand_to_comm_manager(seen.reply);
  } else {
    // Received but not replied to (attached, or still arrived): tell the invoker to keep waiting, so
    // that a server may defer its reply indefinitely (a blocked ss_get, a scheduler's idle workers).
    hand_to_comm_manager(make_ack(m, {}));
  }
  return true;
}

bool Kernel::has_target(const KernelMessage& m) const {
  if (const auto* ka = std::get_if<KernelPortAddr>(&m.dest))
    return ports_.contains(ka->index) || ports_.redirection(ka->index).has_value();
  const auto& la = std::get<LogicalAddr>(m.dest);
  return !ports_.db_lookup(la.gid, la.type).empty();
}

bool Kernel::cancels_timer(const KernelMessage& m) const {
  if (!std::holds_alternative<InvocationBody>(m.body)) return false;
  auto timed = [this](uint32_t index) {
    const KernelPort* kp = ports_.find(index);
    if (!kp) return false;
    if (kp->main) kp = kp->main;
    return kp->waiter != nullptr && kp->timed_wait;
  };
  if (const auto* ka = std::get_if<KernelPortAddr>(&m.dest)) return timed(ka->index);
  const auto& la = std::get<LogicalAddr>(m.dest);
  for (const auto& a : ports_.db_lookup(la.gid, la.type))
    if (timed(a.index)) return true;
  return false;
}

void Kernel::deliver(KernelMessage& m) {
  ++stats_.packets_in;
  if (m.service == Service::Reply || m.service == Service::Ack) {
    transport_.answer(m);
    return;
  }
  std::vector<KernelPort*> targets;
  if (const auto* ka = std::get_if<KernelPortAddr>(&m.dest)) {
    if (auto* kp = ports_.find(ka->index))
      targets.push_back(kp);
    else if (follow_redirection(m, ka->index))
      return;
  } else {
    const auto& la = std::get<LogicalAddr>(m.dest);
    for (const auto& a : ports_.db_lookup(la.gid, la.type))
      if (auto* kp = ports_.find(a.index)) targets.push_back(kp);
  }
  if (targets.empty()) {
    XBT_DEBUG("node %d drops packet %llu from node %d: no port", node_,
              static_cast<unsigned long long>(m.xid), m.src_node);
    ++stats_.packets_dropped_no_port;  // not for this node (or the port is gone): the sender retries
    return;
  }
  if (follow_rebinding(m, targets)) return;
  // A forwarded message is known by its original transmission (at most once across the move).
  KernelMessage* key = &m;
  KernelMessage orig;
  if (m.orig_node >= 0) {
    orig.service = m.orig_service;
    orig.src_node = m.orig_node;
    orig.xid = m.orig_xid;
    if (drop_duplicate(m)) return;  // a retry of the forwarder
    // The sender's retries, redirected here, must find it (it may have been here before: bounced).
    replies_.renew(orig.src_node, orig.xid);
    key = &orig;
  } else if (drop_duplicate(m)) {
    return;
  }

  if (std::holds_alternative<InvocationBody>(m.body)) {
    queue_invocation(m, targets, *key, orig);
    return;
  }

  // Operations and notifications for a ghost; those addressed to a channel go to the ghost of the
  // incarnation whose port is attached to it.
  KernelPort* kp = targets.front();
  if (!kp->ghost && kp->owner && kp->owner->ghost_port()) kp = kp->owner->ghost_port();
  kp->requests.push_back(m);
  if (m.service == Service::Async) acknowledge(m, {});
  if (kp->waiter) kp->waiter->wake();
}

bool Kernel::follow_rebinding(KernelMessage& m, std::vector<KernelPort*>& targets) {
  const auto* ib = std::get_if<InvocationBody>(&m.body);
  if (!ib || m.orig_node >= 0 || targets.size() != 1) return false;
  KernelPort* main = targets.front()->main ? targets.front()->main : targets.front();
  auto it = main->rebound.find(ib->inv->stream);
  if (it == main->rebound.end() || m.binding >= it->second.first) return false;
  // Sent before its stream was rebound away from this port, it arrives after.
  const auto& [binding, to] = it->second;
  KernelPort* here = to.port.node == node_ ? ports_.find(to.port.index) : nullptr;
  if (here && here->main == main) {
    targets.front() = here;  // to another channel of this same port: as over the new one
    return false;
  }
  // It follows the stream, as an arrival for a deleted kernel port follows its redirection entry (at
  // most once per rebinding).
  ++stats_.redirected;
  KernelMessage f = m;
  f.reply_node = m.origin();
  f.binding = binding;
  f.dest = address(to);
  f.locate = to.channel;
  hand_to_comm_manager(std::move(f));  // interrupt handlers cannot send
  return true;
}

void Kernel::queue_invocation(KernelMessage& m, const std::vector<KernelPort*>& targets,
                              const KernelMessage& key, const KernelMessage& orig) {
  const auto& inv = std::get<InvocationBody>(m.body).inv;
  bool any = false;
  for (auto* target : targets) {
    KernelPort* proxy = target->main ? target : nullptr;
    KernelPort* kp = proxy ? proxy->main : target;
    bool multicast = proxy && proxy->chan_type == ChanType::Multicast;
    if (kp->moving || (proxy && proxy->moving) || (kp->moving_stream && kp->moving_stream == inv->stream)) {
      if (multicast) continue;  // dropped while the port moves (Section 8.5.1)
      // Pending: queued unacknowledged, forwarded with the queue (Figure 8.5).
      kp->pending.push_back(PendingMessage{m, proxy ? proxy->channel : 0});
      if (m.orig_node >= 0) acknowledge(m, {});  // the forwarder's copy is safe here
      if (auto* seen = replies_.find(key.origin(), key.xid)) seen->pending = true;
      any = true;
      continue;
    }
    Incarnation& inc = *kp->owner;
    bool large = m.inline_bytes > 0;
    int limit = large ? params_.kernel.large_buffers : params_.kernel.small_buffers;
    if (m.orig_node >= 0) {
      inc.force_buffer(large);  // forwarded: never dropped
    } else if (!inc.take_buffer(large, limit)) {
      ++stats_.packets_dropped_no_buffer;
      continue;
    }
    any = true;
    Service service = m.orig_node >= 0 ? m.orig_service : m.service;
    kp->arrived.push_back(
        QueuedMessage{inv, service, key.origin(), key.xid, large, proxy ? proxy->channel : 0});
    if (kp->waiter && (kp->selector == 0 || kp->selector == inv->stream)) kp->waiter->wake();
    if (kp->interrupts && kp->owner && kp->owner->system()) {
      kp->owner->interrupts.raise();  // delivered at the owner's next kernel exit or while it waits
      kp->owner->system()->wake();
    }
    KernelPortAddr resolved = address_of(proxy ? *proxy : *kp);
    if (m.orig_node >= 0) {
      acknowledge(m, resolved);                                                           // the forwarder
      if (m.ack_origin && m.orig_service == Service::Async) acknowledge(orig, resolved);  // the sender
    } else if (m.service == Service::Async) {
      acknowledge(m, resolved);
    }
  }
  if (!any) {  // no buffer anywhere: forget it so that a retry is accepted
    replies_.erase(m.origin(), m.xid);
    if (&key != &m) replies_.erase(key.origin(), key.xid);
  }
}

std::deque<QueuedMessage>::iterator Kernel::find_message(KernelPort& kp, GlobalId selector) {
  if (kp.receive_locked) return kp.arrived.end();  // forwarding: receives wait (Section 8.5.2)
  if (selector == 0) return kp.arrived.begin();
  return std::find_if(kp.arrived.begin(), kp.arrived.end(),
                      [selector](const QueuedMessage& q) { return q.inv->stream == selector; });
}

void Kernel::release_buffer(Incarnation& inc, const QueuedMessage& q) { inc.release_buffer(q.large); }

}  // namespace equus::kernel
