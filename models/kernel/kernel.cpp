#include "models/kernel/kernel.hpp"

#include <algorithm>

#include "models/kernel/comm_manager.hpp"
#include "models/kernel/ghost.hpp"
#include "models/kernel/loader.hpp"
#include "models/kernel/packet_interrupt.hpp"
#include "models/kernel/system_incarnation.hpp"
#include "models/kernel/time_daemon.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

bool Network::lose_packet() {
  double p = params_.kernel.packet_loss_probability;
  if (p <= 0) return false;
  return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
}

Kernel::Kernel(Network& net, int node, sg::Host* host, const params::ModelParams& params)
    : net_(net), node_(node), cpu_(host, params.cpu), params_(params) {}

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

// ---------------------------------------------------------------- hosting

Incarnation& Kernel::host(RdcPtr rdc, int module, const std::string& name, Program program) {
  Hosted h;
  h.inc = std::make_unique<Incarnation>(*this, net_.new_gid(), name);
  h.inc->rdc = std::move(rdc);
  h.inc->module = module;
  KernelPort& gp = create_kernel_port(h.inc.get(), true);
  h.inc->ghost_port = &gp;
  db_enter(h.inc->gid(), DeliveryType::Ghost, address_of(gp));
  h.ghost = std::make_unique<Ghost>(*this, *h.inc);
  h.system = std::make_unique<SystemIncarnation>(*this, *h.inc, std::move(program));
  h.inc->ghost = h.ghost.get();
  h.inc->system = h.system.get();
  hosted_.push_back(std::move(h));
  return *hosted_.back().inc;
}

void Kernel::start(Incarnation& inc) {
  if (auto* o = net_.observer())
    o->incarnation_created(inc.gid(), inc.name(), inc.rdc ? inc.rdc->name : "",
                           inc.rdc && inc.module >= 0 ? inc.rdc->modules[inc.module].name : "", node_,
                           sg::Engine::get_clock());
  inc.ghost->start();
  inc.system->start();
}

void Kernel::unhost(Incarnation& inc, const char* why) {
  for (auto& h : hosted_) {
    if (h.inc.get() != &inc || !h.alive) continue;
    h.alive = false;
    bool counts_text = inc.memory > 0;  // hosted by a loader (bootstrapped ones hold no text)
    inc.state = IncState::Dead;
    h.system->stop();
    for (auto& [id, r] : inc.refs())
      if (auto* pr = std::get_if<PortRef>(&r)) {
        db_remove(pr->channel, DeliveryType::Channel, address_of(*pr->kport));
        delete_kernel_port(pr->kport->index);
      }
    inc.refs().clear();
    db_remove(inc.gid(), DeliveryType::Ghost, address_of(*inc.ghost_port));
    // Its ghost port goes too: later operations on it find no port and fail after their retries.
    delete_kernel_port(inc.ghost_port->index);
    inc.ghost_port = nullptr;
    memory_used_ -= inc.memory;
    if (inc.rdc && inc.module >= 0 && counts_text) text_add(inc.rdc->id, inc.module, -1, 0);
    if (auto* o = net_.observer()) o->incarnation_ended(inc.gid(), sg::Engine::get_clock(), why);
    // Those that registered interest learn of the death (EV_INC_DEAD), and watchers of its streams of
    // their closure, sent by the communications manager like any response nobody here waits for.
    for (const auto& ghost : inc.interested) notify(ghost, inc.gid(), EvType::IncDead);
    for (const auto& [stream, ghost] : inc.stream_watchers) notify(ghost, stream, EvType::StreamClosed);
    inc.stream_watchers.clear();
    // Stopping the ghost last: it may be the caller. Data stays allocated until the run ends.
    h.ghost->stop();
    return;
  }
}

void Kernel::notify(KernelPortAddr ghost, GlobalId about, EvType type) {
  KernelMessage n;
  n.service = Service::Datagram;
  n.xid = new_xid();
  n.src_node = node_;
  n.dest = ghost;
  n.body = GhostControl{ControlOp::Notify, nullptr, {}, about, static_cast<int>(type)};
  hand_to_comm_manager(std::move(n));
}

void Kernel::notify_stream_closed(Incarnation& inc, GlobalId stream) {
  auto [b, e] = inc.stream_watchers.equal_range(stream);
  for (auto it = b; it != e; ++it) notify(it->second, stream, EvType::StreamClosed);
  inc.stream_watchers.erase(stream);
}

void Kernel::set_access(GlobalId rdc, bool allow) {
  if (allow)
    acl_.insert(rdc);
  else
    acl_.erase(rdc);
}

double Kernel::memory_size() const { return params_.cpu.memory_bytes; }

bool Kernel::text_present(GlobalId rdc, int module) const {
  auto it = texts_.find({rdc, module});
  return it != texts_.end() && it->second.first > 0;
}

void Kernel::text_add(GlobalId rdc, int module, int delta, double text_bytes) {
  auto& [users, bytes] = texts_[{rdc, module}];
  if (users == 0 && delta > 0) {
    bytes = text_bytes;
    memory_used_ += bytes;
  }
  users += delta;
  if (users == 0 && delta < 0) memory_used_ -= bytes;
}

std::vector<Incarnation*> Kernel::hosted(GlobalId rdc) const {
  std::vector<Incarnation*> out;
  for (const auto& h : hosted_)
    if (h.alive && h.inc->rdc && h.inc->rdc->id == rdc) out.push_back(h.inc.get());
  return out;
}

std::vector<Incarnation*> Kernel::hosted() const {
  std::vector<Incarnation*> out;
  for (const auto& h : hosted_)
    if (h.alive) out.push_back(h.inc.get());
  return out;
}

Incarnation* Kernel::find_incarnation(GlobalId gid) const {
  for (const auto& h : hosted_)
    if (h.alive && h.inc->gid() == gid) return h.inc.get();
  return nullptr;
}

// ---------------------------------------------------------------- database

void Kernel::db_enter(GlobalId gid, DeliveryType type, KernelPortAddr port) {
  db_.emplace(gid, std::make_pair(type, port));
}

void Kernel::db_remove(GlobalId gid, DeliveryType type, KernelPortAddr port) {
  auto [b, e] = db_.equal_range(gid);
  for (auto it = b; it != e; ++it)
    if (it->second.first == type && it->second.second == port) {
      db_.erase(it);
      return;
    }
}

std::vector<KernelPortAddr> Kernel::db_lookup(GlobalId gid, DeliveryType type) const {
  std::vector<KernelPortAddr> out;
  auto [b, e] = db_.equal_range(gid);
  for (auto it = b; it != e; ++it)
    if (it->second.first == type) out.push_back(it->second.second);
  return out;
}

double Kernel::db_search_cost() const {
  return params_.cpu.db_search_per_entry * static_cast<double>(db_.size());
}

// ---------------------------------------------------------------- kernel ports

KernelPort& Kernel::create_kernel_port(Incarnation* owner, bool ghost) {
  auto kp = std::make_unique<KernelPort>();
  kp->index = next_kport_++;
  kp->owner = owner;
  kp->ghost = ghost;
  auto& ref = *kp;
  kports_.emplace(ref.index, std::move(kp));
  return ref;
}

void Kernel::delete_kernel_port(uint32_t index) { kports_.erase(index); }

KernelPort* Kernel::kernel_port(uint32_t index) {
  auto it = kports_.find(index);
  return it == kports_.end() ? nullptr : it->second.get();
}

// ---------------------------------------------------------------- sending

void Kernel::transmit(Process& from, KernelMessage& m, double cpu_before) {
  m.src_node = node_;
  int dest = LogicalAddr::broadcast;
  if (const auto* ka = std::get_if<KernelPortAddr>(&m.dest))
    dest = ka->node;
  else
    dest = std::get<LogicalAddr>(m.dest).node;

  const auto& cpu = params_.cpu;
  if (dest == node_) {
    // Same card: the kernel delivers directly, no bus and no interrupt.
    bool logical = std::holds_alternative<LogicalAddr>(m.dest);
    from.compute(cpu_before + cpu.packet_accept + (logical ? db_search_cost() : 0));
    deliver(m);
    return;
  }
  if (dest != LogicalAddr::broadcast) {
    from.compute(cpu_before + cpu.packet_send);
    net_.kernel(dest).post_packet(m);
    return;
  }
  // No hardware broadcast: a point-to-point packet to every other kernel, in turn, each destination
  // pulling its copy while the next is posted (Section 8.4.4); the local database is searched too.
  double first = cpu_before + db_search_cost();
  int pool = net_.pool_size();
  for (int i = 1; i <= pool; ++i) {
    int n = (node_ + i) % (pool + 1);  // the host slot (pool) is skipped: it runs no Equus RDC
    if (n == pool || n == node_) continue;
    from.compute(first + cpu.packet_send);
    first = 0;
    net_.kernel(n).post_packet(m);
  }
  if (!db_lookup(std::get<LogicalAddr>(m.dest).gid, std::get<LogicalAddr>(m.dest).type).empty()) deliver(m);
}

std::optional<KernelMessage> Kernel::reliable(Process& from, KernelMessage m, double cpu_before) {
  m.xid = new_xid();
  m.src_node = node_;
  uint64_t xid = m.xid;
  auto& tx = transactions_[xid];
  tx.waiter = &from;
  const auto& kp = params_.kernel;
  tx.request = m.service == Service::Request;
  for (int attempt = 0; attempt <= kp.max_retries; ++attempt) {
    if (attempt > 0) ++stats_.retries;
    transmit(from, m, attempt == 0 ? cpu_before : 0);
    double deadline = sg::Engine::get_clock() + kp.retry_interval;
    from.set_waiting("reply or acknowledgement of kernel transaction", static_cast<long>(xid));
    while (!tx.done && from.block_until(deadline)) {
    }
    if (tx.attached) {  // alive at the receiver: the next retry is a probe, not a failure
      tx.attached = false;
      attempt = 0;
    }
    if (tx.done) {
      from.clear_waiting();
      KernelMessage answer = std::move(tx.answer);
      transactions_.erase(xid);
      return answer;
    }
  }
  from.clear_waiting();
  transactions_.erase(xid);
  return std::nullopt;
}

std::optional<KernelMessage> Kernel::request(Process& from, KernelMessage m, double cpu_before) {
  m.service = Service::Request;
  return reliable(from, std::move(m), cpu_before);
}

std::optional<KernelMessage> Kernel::send_acked(Process& from, KernelMessage m, double cpu_before) {
  m.service = Service::Async;
  return reliable(from, std::move(m), cpu_before);
}

void Kernel::hand_to_comm_manager(KernelMessage m) { comm_manager_->post(std::move(m)); }

// ---------------------------------------------------------------- arrival

void Kernel::post_packet(KernelMessage& m) {
  m.sent_at = sg::Engine::get_clock();
  interrupt_->post(m);
}

void Kernel::answer_transaction(KernelMessage& m) {
  auto it = transactions_.find(m.xid);
  if (it == transactions_.end() || it->second.done)
    return;  // late: another destination answered first, or a retry's duplicate
  if (it->second.request && m.service == Service::Ack) {
    it->second.attached = true;  // the request was received; its reply is still to come
    return;
  }
  it->second.done = true;
  it->second.answer = std::move(m);
  it->second.waiter->wake();
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
  cache_reply(m.origin(), m.xid, ack);  // a retry gets the same answer
  if (m.origin() == node_)
    deliver(ack);
  else
    hand_to_comm_manager(std::move(ack));  // interrupt handlers cannot send
}

bool Kernel::drop_duplicate(KernelMessage& m) {
  if (m.service != Service::Request && m.service != Service::Async) return false;
  SeenKey key{m.origin(), m.xid};
  auto it = seen_.find(key);
  if (it == seen_.end()) {
    seen_.emplace(key, Seen{false, {}, sg::Engine::get_clock()});
    seen_order_.push_back(key);
    return false;
  }
  ++stats_.duplicates;
  if (m.service == Service::Async) {
    hand_to_comm_manager(make_ack(m, it->second.reply.resolved));
  } else if (it->second.replied) {
    hand_to_comm_manager(it->second.reply);
  } else {
    // Received but not replied to (attached, or still arrived): tell the invoker to keep waiting, so
    // that a server may defer its reply indefinitely (a blocked ss_get, a scheduler's idle workers).
    hand_to_comm_manager(make_ack(m, {}));
  }
  return true;
}

void Kernel::cache_reply(int src_node, uint64_t xid, const KernelMessage& reply) {
  auto it = seen_.find(SeenKey{src_node, xid});
  if (it != seen_.end()) {
    it->second.replied = true;
    it->second.reply = reply;
  }
}

void Kernel::expire_reply_cache(double older_than) {
  // Replies are kept long enough to answer retries; a request not yet replied to stays known for as
  // long as it is attached, or its retries would be delivered again (at most once).
  std::size_t n = seen_order_.size();
  for (std::size_t i = 0; i < n && !seen_order_.empty(); ++i) {
    SeenKey key = seen_order_.front();
    auto it = seen_.find(key);
    if (it != seen_.end() && it->second.time >= older_than) break;
    seen_order_.pop_front();
    if (it == seen_.end()) continue;
    if (it->second.replied) {
      seen_.erase(it);
    } else {
      it->second.time = sg::Engine::get_clock();
      seen_order_.push_back(key);
    }
  }
}

bool Kernel::has_target(const KernelMessage& m) const {
  if (const auto* ka = std::get_if<KernelPortAddr>(&m.dest)) return kports_.count(ka->index) != 0;
  const auto& la = std::get<LogicalAddr>(m.dest);
  return !db_lookup(la.gid, la.type).empty();
}

void Kernel::deliver(KernelMessage& m) {
  ++stats_.packets_in;
  if (m.service == Service::Reply || m.service == Service::Ack) {
    answer_transaction(m);
    return;
  }
  std::vector<KernelPort*> targets;
  if (const auto* ka = std::get_if<KernelPortAddr>(&m.dest)) {
    if (auto* kp = kernel_port(ka->index)) targets.push_back(kp);
  } else {
    const auto& la = std::get<LogicalAddr>(m.dest);
    for (const auto& a : db_lookup(la.gid, la.type))
      if (auto* kp = kernel_port(a.index)) targets.push_back(kp);
  }
  if (targets.empty()) {
    ++stats_.packets_dropped_no_port;  // not for this node (or the port is gone): the sender retries
    return;
  }
  if (drop_duplicate(m)) return;

  if (std::holds_alternative<InvocationBody>(m.body)) {
    bool any = false;
    for (auto* kp : targets) {
      Incarnation& inc = *kp->owner;
      bool large = m.inline_bytes > 0;
      int& in_use = large ? inc.large_in_use : inc.small_in_use;
      int limit = large ? params_.kernel.large_buffers : params_.kernel.small_buffers;
      if (in_use >= limit) {
        ++stats_.packets_dropped_no_buffer;
        continue;
      }
      ++in_use;
      any = true;
      kp->arrived.push_back(
          QueuedMessage{std::get<InvocationBody>(m.body).inv, m.service, m.origin(), m.xid, large});
      if (kp->waiter && (kp->selector == 0 || kp->selector == std::get<InvocationBody>(m.body).inv->stream))
        kp->waiter->wake();
      if (kp->interrupts && kp->owner && kp->owner->system) {
        ++kp->owner->pending_interrupts;  // delivered at the owner's next kernel exit or while it waits
        kp->owner->system->wake();
      }
      if (m.service == Service::Async) acknowledge(m, address_of(*kp));
    }
    if (!any)  // no buffer anywhere: forget it so that a retry is accepted
      seen_.erase(SeenKey{m.origin(), m.xid});
    return;
  }

  // Operations and notifications for a ghost.
  KernelPort* kp = targets.front();
  kp->requests.push_back(m);
  if (m.service == Service::Async) acknowledge(m, {});
  if (kp->waiter) kp->waiter->wake();
}

std::deque<QueuedMessage>::iterator Kernel::find_message(KernelPort& kp, GlobalId selector) {
  if (selector == 0) return kp.arrived.begin();
  return std::find_if(kp.arrived.begin(), kp.arrived.end(),
                      [selector](const QueuedMessage& q) { return q.inv->stream == selector; });
}

void Kernel::release_buffer(Incarnation& inc, const QueuedMessage& q) {
  (q.large ? inc.large_in_use : inc.small_in_use)--;
}

}  // namespace equus::kernel
