#include "models/kernel/equus.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "models/kernel/ghost.hpp"
#include "models/kernel/kernel.hpp"
#include "models/kernel/system_incarnation.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

namespace {
/// A synchronous invocation or bulk transfer in progress: a migration waits for it (Section 7.4.2).
using SyncCall = MigrationLock::SyncCall;

Address stream_address(const StreamRef& s) {
  if (s.type == ChanType::Unicast && s.dest.valid()) return s.dest;
  return LogicalAddr{LogicalAddr::broadcast, s.channel, DeliveryType::Channel};
}
}  // namespace

Equus::Equus(Incarnation& inc, SystemIncarnation& self) : inc_(inc), self_(self) {}

Kernel& Equus::k() const { return inc_.kernel(); }

KernelMessage Equus::stream_message(const StreamRef& s) {
  KernelMessage km;
  km.dest = stream_address(s);
  km.locate = s.type == ChanType::Unicast ? s.channel : 0;
  km.stream_holder = &inc_;
  km.stream = s.gid;
  km.binding = s.binding;
  return km;
}

void Equus::follow_answer(int stream, GlobalId sent_on, const KernelMessage& ans) {
  auto* s = inc_.ref<StreamRef>(stream);
  if (s && ans.resolved.valid() && s->type == ChanType::Unicast && s->channel == sent_on)
    s->dest = ans.resolved;
}

double Equus::entry() const { return k().params().cpu.syscall_entry; }

void Equus::charge_entry() { self_.compute(entry()); }

void Equus::leave() {
  ++k().stats().calls;
  self_.owe(k().params().cpu.syscall_exit);
  if (inc_.interrupts.due()) deliver_interrupts();
}

bool Equus::deliver_interrupts() {
  auto& si = inc_.interrupts;
  if (!si.take()) return false;
  bool ran = false;
  auto run = [&](const SoftwareInterrupts::Handler& h) {
    ran = si.run(h, *this, [this] { self_.compute(k().params().cpu.software_interrupt); }) || ran;
  };
  for (const auto& [port, h] : si.port_handlers()) {
    auto* pr = inc_.ref<PortRef>(port);
    if (pr && !pr->kport->arrived.empty()) run(h);
  }
  for (const auto& [stream, h] : si.stream_handlers())
    for (const auto& ev : inc_.events())
      if (ev.ed_evtype == EvType::StreamClosed && ev.ed_info1 == static_cast<uint32_t>(stream)) {
        si.remove_stream_handler(stream);
        run(h);
        break;
      }
  for (const auto& [child, h] : si.death_handlers())
    for (const auto& ev : inc_.events())
      if (ev.ed_evtype == EvType::IncDead && ev.ed_info1 == static_cast<uint32_t>(child)) {
        si.remove_death_handler(child);
        run(h);
        break;
      }
  return ran;
}

int Equus::inc_setPortHandler(int port, Handler handler, int priority) {
  auto call = enter();
  auto* pr = inc_.ref<PortRef>(port);
  int rc = E_OK;
  if (!pr || priority <= 0) {
    rc = pr ? E_INVAL : E_BADREF;
  } else if (!handler) {
    inc_.interrupts.remove_port_handler(port);
    pr->kport->interrupts = false;
  } else {
    inc_.interrupts.set_port_handler(port, {std::move(handler), priority});
    pr->kport->interrupts = true;
    if (!pr->kport->arrived.empty()) inc_.interrupts.raise();  // the current messages too
  }
  return rc;
}

int Equus::inc_setInterestHandler(int child, Handler handler, int priority) {
  auto* h = inc_.ref<IncRef>(child);
  if (!h || priority <= 0) return h ? E_INVAL : E_BADREF;
  GlobalId gid = h->inc;
  int rc = inc_setInterest(child, EvType::IncDead, 1);
  if (rc == E_OK) inc_.interrupts.set_death_handler(gid, {std::move(handler), priority});
  return rc;
}

int Equus::inc_setStreamHandler(int stream_handle, Handler handler, int priority) {
  const auto& p = k().params();
  auto* h = inc_.ref<StreamHandleRef>(stream_handle);
  auto call = enter();
  if (!h || !h->owner_ghost.valid() || priority <= 0) return h ? E_INVAL : E_BADREF;
  GlobalId stream = h->stream;
  KernelMessage km;  // the stream's holder is asked to tell us when it closes the stream
  km.dest = h->owner_ghost;
  km.body = GhostControl{control::WatchStream{stream, k().address_of(*inc_.ghost_port())}};
  auto ans = k().transport().request(self_, std::move(km), p.cpu.kmsg_prepare);
  if (ans) inc_.interrupts.set_stream_handler(stream, {std::move(handler), priority});
  return ans ? E_OK : E_TIMEOUT;
}

int Equus::inc_setInterruptPriority(int priority) {
  auto call = enter();
  int old = inc_.interrupts.set_priority(priority);
  return old;
}

int Equus::inc_pause() {
  auto call = enter();
  self_.set_waiting("inc_pause (a software interrupt)", -1, Process::Wake::ByOthers);
  while (!deliver_interrupts()) self_.block();
  self_.clear_waiting();
  return E_OK;
}

double Equus::now() const { return sg::Engine::get_clock(); }

Equus::CallTrace Equus::trace(const char* name) {
  return CallTrace{this, name, k().network().observer() ? now() : -1};
}

Equus::CallTrace::~CallTrace() {
  if (t0 < 0) return;
  if (auto* o = eq->k().network().observer()) o->call(eq->inc_.gid(), name, t0, eq->now());
}

void Equus::attached(int ref, const std::string& label) {
  auto* o = k().network().observer();
  if (!o) return;
  if (auto* s = inc_.ref<StreamRef>(ref)) o->stream_attached(inc_.gid(), s->channel, label);
  if (auto* p = inc_.ref<PortRef>(ref)) o->port_attached(inc_.gid(), p->channel(), label);
}

GlobalId Equus::inc_self() const { return inc_.gid(); }

unsigned Equus::inc_where() const { return static_cast<unsigned>(k().node()); }

void Equus::compute(double seconds) {
  auto call_trace = trace("compute");
  self_.compute(seconds);
}

// ---------------------------------------------------------------- references in messages

bool Equus::pack_ref(const Msg& msg, PackedRef& out, double& cost) {
  const RefDescrip& rd = msg.m_ref;
  if (rd.rd_type == RefType::None) return true;
  if (inc_.no_propagate.count(rd.rd_obj)) return false;  // rights removed
  if (rd.rd_type == RefType::Buffer) {  // a region of the caller's own space, not a reference
    out = PackedRef{};
    out.type = RefType::Buffer;
    out.owner = inc_.gid();
    out.owner_ghost = k().address_of(*inc_.ghost_port());
    out.buf = rd.rd_buf;
    out.writable = (rd.rd_flags & RD_WRITABLE) != 0;
  } else {
    // What is propagated of a port is its attachments once its ghost's operations on them are over
    // (an attachment answers before it has detached the old port).
    if (rd.rd_type == RefType::Port) wait_port_ops();
    auto it = inc_.refs().find(rd.rd_obj);
    if (it == inc_.refs().end()) return false;
    out = PackedRef{};
    out.type = rd.rd_type;
    bool packed =
        std::visit([&](auto& r) { return rd.rd_type == type_of(r) && pack(r, rd, out); }, it->second);
    if (!packed) return false;
    // Not kept: the sender's reference goes (a port's own pack hands its queue over first).
    if (!rd.rd_keep && rd.rd_type != RefType::Port) inc_.erase_ref(rd.rd_obj);
  }
  out.domain = rd.rd_domain;
  cost += k().params().cpu.ref_propagate;
  return true;
}

void Equus::wait_port_ops() {
  while (inc_.migration.port_ops_running()) {
    inc_.migration.set_port_op_waiter(&self_);
    self_.set_waiting("its ghost's operation on its ports");
    self_.block();
  }
  inc_.migration.set_port_op_waiter(nullptr);
  self_.clear_waiting();
}

bool Equus::pack(StreamRef& s, const RefDescrip& /*rd*/, PackedRef& out) {
  out.channel = s.channel;
  out.chan_type = s.type;
  out.dest = s.dest;
  return true;
}

bool Equus::pack(StreamHandleRef& h, const RefDescrip& /*rd*/, PackedRef& out) {
  out.channel = h.stream;
  out.chan_type = h.type;
  out.owner_ghost = h.owner_ghost;
  return true;
}

bool Equus::pack(AlienBufRef& b, const RefDescrip& rd, PackedRef& out) {
  out.owner = b.owner;
  out.owner_ghost = b.owner_ghost;
  out.buf = b.region;
  out.writable = b.writable && (rd.rd_flags & RD_WRITABLE) != 0;
  return true;
}

bool Equus::pack(IncRef& h, const RefDescrip& rd, PackedRef& out) {
  out.owner = h.inc;
  out.owner_ghost = h.ghost;
  out.node = h.node;
  out.rights = h.rights & (rd.rd_flags ? rd.rd_flags : INC_RIGHTS_ALL);  // rights only reduce
  return true;
}

bool Equus::pack(PortRef& pr, const RefDescrip& rd, PackedRef& out) {
  out.port = rd.rd_obj;
  out.owner_ghost = k().address_of(*inc_.ghost_port());
  out.retained = rd.rd_keep;
  // Only ports attached exclusively to unicast or to multicast channels propagate (6.2.1).
  for (const auto* proxy : pr.proxies) {
    if (proxy->chan_type != pr.type()) return false;
    out.channels.emplace_back(proxy->channel, proxy->chan_type);
  }
  if (!rd.rd_keep) {  // its queue goes with it when the recipient takes it over
    inc_.interrupts.remove_port_handler(rd.rd_obj);
    inc_.propagating[rd.rd_obj] = std::move(pr);
    inc_.erase_ref(rd.rd_obj);
  } else if (pr.type() == ChanType::Unicast && !(rd.rd_flags & RD_KEEP_QUEUING)) {
    // Until then arrivals are pending: senders wait (6.2.4). Only "in the unicast case": a
    // multicast port kept stays a member of its group, its messages queuing as before.
    pr.kport->moving = true;
  }
  return true;
}

bool Equus::pack(PortHandleRef& h, const RefDescrip& /*rd*/, PackedRef& out) {
  out.port = h.port;
  out.owner_ghost = h.owner_ghost;
  return true;
}

void Equus::unpack_ref(const PackedRef& ref, Msg* msg) {
  msg->m_ref = RefDescrip{};
  switch (ref.type) {
    case RefType::Stream:
      msg->m_ref.rd_type = RefType::Stream;
      msg->m_ref.rd_obj =
          inc_.add_ref(StreamRef{k().network().new_gid(), ref.channel, ref.chan_type, ref.dest});
      break;
    case RefType::StreamHandle:
      msg->m_ref.rd_type = RefType::StreamHandle;
      msg->m_ref.rd_obj = inc_.add_ref(StreamHandleRef{ref.channel, ref.owner_ghost, ref.chan_type});
      break;
    case RefType::Incarnation:
      msg->m_ref.rd_type = RefType::Incarnation;
      msg->m_ref.rd_obj = inc_.add_ref(IncRef{ref.owner, ref.owner_ghost, ref.node, ref.rights});
      break;
    case RefType::Port:
      msg->m_ref.rd_type = RefType::Port;
      msg->m_ref.rd_obj = receive_port(ref);
      break;
    case RefType::PortHandle:
      msg->m_ref.rd_type = RefType::PortHandle;
      msg->m_ref.rd_obj = inc_.add_ref(PortHandleRef{ref.port, ref.owner_ghost});
      break;
    case RefType::Buffer:
    case RefType::AlienBuffer:
      msg->m_ref.rd_type = RefType::AlienBuffer;
      msg->m_ref.rd_obj = inc_.add_ref(AlienBufRef{ref.owner, ref.owner_ghost, ref.buf, ref.writable});
      break;
    default:
      break;
  }
  if (ref.domain != 0 && msg->m_ref.rd_type != RefType::None) inc_.no_propagate.insert(msg->m_ref.rd_obj);
}

// ---------------------------------------------------------------- B.4.1

std::shared_ptr<Invocation> Equus::new_invocation(InvokeKind kind, StreamRef& s, const Msg& msg,
                                                  double& cost) {
  // The reference first: a call that fails with E_BADREF takes no sequence number of the stream.
  PackedRef ref;
  if (!pack_ref(msg, ref, cost)) return nullptr;
  auto inv = std::make_shared<Invocation>();
  inv->ref = std::move(ref);
  inv->kind = kind;
  inv->head = msg.m_head;
  inv->extra_bytes = msg.m_cnt;
  inv->sender_data = msg.m_base;
  inv->stream = s.gid;
  inv->stream_seq = s.next_seq++;
  inv->sender_node = k().node();
  inv->multicast = s.type == ChanType::Multicast;
  return inv;
}

int Equus::inc_invoke(int stream, Msg* msg) {
  auto call_trace = trace("inc_invoke");
  auto call = enter_later();  // its entry work is folded into its first CPU burst
  const auto& p = k().params();
  auto* s = unfrozen_stream(stream);  // inc_freezeStream: block before sending
  double cost = entry() + p.cpu.kmsg_prepare;
  if (!s || s->type != ChanType::Unicast || (msg->m_cnt > 0 && !msg->m_base)) {
    self_.compute(entry());
    return !s ? E_BADREF : s->type != ChanType::Unicast ? E_NOTUNICAST : E_INVAL;
  }
  auto inv = new_invocation(InvokeKind::Invoke, *s, *msg, cost);
  if (!inv) {
    self_.compute(entry());
    return E_BADREF;
  }
  inv->reply_buffer = msg->m_base;
  inv->reply_room = msg->m_cnt;
  KernelMessage km = stream_message(*s);
  inc_.transmit.begin(s->gid);
  const GlobalId sent_on = s->channel;
  km.body = InvocationBody{inv};
  auto* checker = k().network().checker();
  std::optional<KernelMessage> ans;
  {
    SyncCall sync(inc_.migration);
    ans = k().transport().request(self_, std::move(km), cost);
  }
  if (!ans) {
    if (checker) checker->failed(*inv);
    return E_TIMEOUT;
  }
  if (checker) checker->sent(*inv);
  follow_answer(stream, sent_on, *ans);
  const auto& rb = std::get<ReplyBody>(ans->body);
  if (rb.explicit_reply) {
    msg->m_head = rb.head;
    msg->m_nreply = rb.extra_bytes;
    unpack_ref(rb.ref, msg);
  } else {
    msg->m_nreply = 0;
  }
  return E_OK;
}

int Equus::send_async(int stream, Msg* msg, bool reliable) {
  auto call_trace = trace(reliable ? "inc_send" : "inc_dgram");
  auto call = enter_later();  // its entry work is folded into its first CPU burst
  const auto& p = k().params();
  auto* s = unfrozen_stream(stream);  // inc_freezeStream: block before sending
  if (!s || msg->m_cnt > p.vme.max_packet_data || (msg->m_cnt > 0 && !msg->m_base)) {
    self_.compute(entry());
    return !s ? E_BADREF : msg->m_cnt > p.vme.max_packet_data ? E_TOOBIG : E_INVAL;
  }
  // The extra data is copied out of the caller's space now (Section 4.3.1).
  double cost = entry() + p.cpu.kmsg_prepare + k().cpu().local_copy_time(msg->m_cnt);
  auto inv = new_invocation(reliable ? InvokeKind::Send : InvokeKind::Dgram, *s, *msg, cost);
  if (!inv) {
    self_.compute(entry());
    return E_BADREF;
  }
  inv->sender_data = nullptr;  // copied out now instead
  if (msg->m_cnt > 0) inv->inline_data.assign(msg->m_base, msg->m_base + msg->m_cnt);
  KernelMessage km = stream_message(*s);
  inc_.transmit.begin(s->gid);
  const GlobalId sent_on = s->channel;
  km.inline_bytes = msg->m_cnt;
  km.body = InvocationBody{inv};
  if (!reliable) {
    km.service = Service::Datagram;
    km.xid = k().transport().new_xid();
    k().transport().transmit(self_, km, cost);
    return E_OK;
  }
  auto* checker = k().network().checker();
  auto ans = k().transport().send_acked(self_, std::move(km), cost);
  if (!ans) {
    if (checker) checker->failed(*inv);
    return E_TIMEOUT;
  }
  if (checker) checker->sent(*inv);
  follow_answer(stream, sent_on, *ans);
  return E_OK;
}

int Equus::inc_send(int stream, Msg* msg) { return send_async(stream, msg, true); }

int Equus::inc_dgram(int stream, Msg* msg) { return send_async(stream, msg, false); }

int Equus::inc_asinvoke(int stream, Msg* msg) {
  auto call_trace = trace("inc_asinvoke");
  const auto& p = k().params();
  auto* s = unfrozen_stream(stream);  // inc_freezeStream: block before sending
  auto call = enter();
  if (!s || s->type != ChanType::Unicast || (msg->m_cnt > 0 && !msg->m_base)) {
    return !s ? E_BADREF : s->type != ChanType::Unicast ? E_NOTUNICAST : E_INVAL;
  }
  // Blocked while `buffer_limit` calls are uncompleted (Section 4.4.2).
  while (s->buffer_limit > 0 && static_cast<int>(s->outstanding.size()) >= s->buffer_limit) {
    self_.set_waiting("completion of an inc_asinvoke: buffer limit", s->buffer_limit, Process::Wake::ByOthers);
    self_.block();
    self_.clear_waiting();
    if (!(s = inc_.ref<StreamRef>(stream))) {
      return E_BADREF;
    }
  }
  double cost = p.cpu.kmsg_prepare;
  auto inv = new_invocation(InvokeKind::Asinvoke, *s, *msg, cost);
  if (!inv) return E_BADREF;
  inv->sender_ghost = k().address_of(*inc_.ghost_port());
  inv->asinvoke_id = inc_.new_asinvoke_id();
  s->outstanding.push_back(inv->asinvoke_id);
  KernelMessage km = stream_message(*s);
  inc_.transmit.begin(s->gid);
  const GlobalId sent_on = s->channel;
  km.body = InvocationBody{inv};
  auto* checker = k().network().checker();
  auto ans = k().transport().send_acked(self_, std::move(km), cost);
  if (checker) ans ? checker->sent(*inv) : checker->failed(*inv);
  s = inc_.ref<StreamRef>(stream);
  if (!ans) {
    if (s)
      s->outstanding.erase(std::remove(s->outstanding.begin(), s->outstanding.end(), inv->asinvoke_id),
                           s->outstanding.end());
    return E_TIMEOUT;
  }
  follow_answer(stream, sent_on, *ans);
  return E_OK;
}

int Equus::wait_message(int port, GlobalId sel, int timeout, PortRef*& pr,
                        std::deque<QueuedMessage>::iterator& it) {
  KernelPort* kpp = pr->kport;
  if ((it = Kernel::find_message(*kpp, sel)) != kpp->arrived.end()) return 1;
  if (timeout == 0) return 0;
  double deadline = timeout > 0 ? sg::Engine::get_clock() + timeout / 1000.0 : 0;
  self_.set_waiting("inc_receive on port", port, timeout > 0 ? Process::Wake::ByKernel : Process::Wake::ByOthers);
  for (;;) {
    // Looked up again after every wait: the port may have moved (migration) or gone.
    if (!(pr = inc_.ref<PortRef>(port))) break;
    kpp = pr->kport;
    if ((it = Kernel::find_message(*kpp, sel)) != kpp->arrived.end()) break;
    kpp->waiter = &self_;
    kpp->selector = sel;
    kpp->timed_wait = timeout > 0;
    if (timeout > 0) {
      if (!self_.block_until(deadline)) break;
    } else {
      self_.block();
    }
    if (inc_.interrupts.due()) {
      kpp->waiter = nullptr;  // the handler may receive here too
      deliver_interrupts();
    }
  }
  if (pr) pr->kport->waiter = nullptr;
  self_.clear_waiting();
  if (!pr) return E_BADREF;
  kpp = pr->kport;
  return (it = Kernel::find_message(*kpp, sel)) == kpp->arrived.end() ? 0 : 1;
}

double Equus::copy_extra(const QueuedMessage& q, Msg* msg, uint32_t n, double cost) {
  const auto& p = k().params();
  const Invocation& inv = *q.inv;
  bool remote = inv.sender_node != k().node();
  switch (inv.kind) {
    case InvokeKind::Send:
    case InvokeKind::Dgram:
      cost += k().cpu().local_copy_time(n);
      std::memcpy(msg->m_base, inv.inline_data.data(), n);
      break;
    case InvokeKind::Invoke: {
      // The invoker is blocked: copy straight out of its buffer, 64 kB per kernel message.
      if (!remote) {
        cost += k().cpu().local_bulk_copy_time(n);
      } else {
        k().transport().bulk_copy(k().network().kernel(inv.sender_node).host(), k().host(), n,
                                  p.vme.read_copy_rate, [&](double, bool) {
                                    self_.compute(cost + p.kernel.bulk_pull_setup);
                                    cost = 0;
                                  });
      }
      std::memcpy(msg->m_base, inv.sender_data, n);
      break;
    }
    case InvokeKind::Asinvoke: {
      // The data is still in the sender's space: its ghost supplies it by bulk transfer.
      KernelMessage f;
      f.dest = inv.sender_ghost;
      f.body = GhostFetch{q.inv, msg->m_base, n, k().node()};
      k().transport().request(self_, std::move(f), cost + p.cpu.kmsg_prepare);
      cost = 0;
      break;
    }
  }
  return cost;
}

int Equus::inc_receive(int port, Msg* msg, int block_invoker, int selector, int timeout) {
  auto call_trace = trace("inc_receive");
  const auto& p = k().params();
  auto* pr = inc_.ref<PortRef>(port);
  auto call = enter();
  GlobalId sel = 0;
  if (selector > 0) {
    auto* h = inc_.ref<StreamHandleRef>(selector);
    if (!h) return E_BADREF;
    sel = h->stream;
  }
  if (!pr) return E_BADREF;
  std::deque<QueuedMessage>::iterator it;
  if (int found = wait_message(port, sel, timeout, pr, it); found != 1) return found;
  QueuedMessage q = std::move(*it);
  pr->kport->arrived.erase(it);
  k().release_buffer(inc_, q);
  Invocation& inv = *q.inv;
  if (auto* c = k().network().checker()) c->received(inv, inc_.name());
  // Where the sender's stream should now lead: the proxy of the attachment it arrived by.
  KernelPort* via = pr->proxy(q.channel);
  KernelPortAddr resolved = via && !inv.forwarded ? k().address_of(*via) : KernelPortAddr{};

  uint32_t room = msg->m_base ? msg->m_cnt : 0;
  uint32_t n = std::min(inv.extra_bytes, room);
  msg->m_head = inv.head;
  msg->m_cnt = n;
  double cost = n > 0 ? copy_extra(q, msg, n, p.cpu.receive) : p.cpu.receive;
  unpack_ref(inv.ref, msg);

  int result = 1;
  bool fetched = inv.kind == InvokeKind::Asinvoke && n > 0;
  if (inv.kind == InvokeKind::Asinvoke && !fetched) {
    // Tell the sender's kernel that this call has completed; it acknowledges.
    KernelMessage c;
    c.dest = inv.sender_ghost;
    c.body = GhostCompletion{inv.stream, inv.asinvoke_id};
    k().transport().send_acked(self_, std::move(c), cost + p.cpu.kmsg_prepare);
    cost = 0;
  } else if (inv.kind == InvokeKind::Invoke) {
    if (block_invoker) {
      result = inc_.add_reply_handle(ReplyHandle{q.src_node, q.xid, q.inv, resolved});
    } else {
      // The kernel unblocks the invoker itself: cheaper than a user-level inc_reply.
      // The final address tells the invoker where its stream now leads; not so for a forwarded call.
      k().transport().reply(self_, q.src_node, q.xid, ReplyBody{}, cost + p.cpu.kmsg_prepare, resolved);
      cost = 0;
    }
  }
  // What is left is work on the way back to user mode: charged with the next kernel entry.
  self_.owe(cost);
  return result;
}

int Equus::inc_reply(int reply_handle, Msg* msg) {
  auto call_trace = trace("inc_reply");
  auto call = enter_later();  // its entry work is folded into its first CPU burst
  const auto& p = k().params();
  auto& handles = inc_.reply_handles();
  auto it = handles.find(reply_handle);
  if (it == handles.end()) {
    self_.compute(entry());
    return E_BADREF;
  }
  ReplyHandle h = std::move(it->second);
  handles.erase(it);
  double cost = entry() + p.cpu.reply_handle + p.cpu.kmsg_prepare;
  ReplyBody rb;
  rb.explicit_reply = true;
  rb.head = msg->m_head;
  if (!pack_ref(*msg, rb.ref, cost)) {
    self_.compute(entry());
    return E_BADREF;
  }
  uint32_t n = std::min(msg->m_cnt, h.inv->reply_room);
  if (n > 0 && msg->m_base && h.inv->reply_buffer) {
    if (h.src_node == k().node()) {
      cost += k().cpu().local_bulk_copy_time(n);
    } else {
      self_.compute(cost + p.kernel.bulk_push_setup);
      cost = 0;
      k().network().interconnect().copy(k().host(), k().network().kernel(h.src_node).host(), n,
                                        p.vme.write_copy_rate);
    }
    std::memcpy(h.inv->reply_buffer, msg->m_base, n);
  }
  rb.extra_bytes = n;
  k().transport().reply(self_, h.src_node, h.xid, rb, cost,
                        h.port);  // any reply carries the final address (8.4.3)
  return E_OK;
}

int Equus::inc_forward(int stream, int reply_handle, Msg* msg) {
  auto call_trace = trace("inc_forward");
  auto call = enter_later();  // its entry work is folded into its first CPU burst
  const auto& p = k().params();
  auto& handles = inc_.reply_handles();
  auto it = handles.find(reply_handle);
  auto* s = inc_.ref<StreamRef>(stream);
  if (it == handles.end() || !s || s->type != ChanType::Unicast) {
    self_.compute(entry());
    return it == handles.end() || !s ? E_BADREF : E_NOTUNICAST;
  }
  ReplyHandle h = std::move(it->second);
  handles.erase(it);
  // An identical copy but for the header; the original invoker stays blocked and gets the reply.
  auto inv = std::make_shared<Invocation>(*h.inv);
  inv->head = msg->m_head;
  inv->stream = s->gid;
  inv->forwarded = true;
  KernelMessage km = stream_message(*s);
  km.service = Service::Request;
  km.xid = h.xid;
  km.reply_node = h.src_node;
  km.body = InvocationBody{inv};
  k().transport().transmit(self_, km, entry() + p.cpu.kmsg_prepare);
  return E_OK;
}

// ---------------------------------------------------------------- B.4.2

int Equus::inc_copyto(int buffer_handle, unsigned offset, const std::byte* data, unsigned nbytes) {
  auto call_trace = trace("inc_copyto");
  auto call = enter_later();  // its entry work is folded into its first CPU burst
  const auto& p = k().params();
  auto* b = inc_.ref<AlienBufRef>(buffer_handle);
  if (!b || !b->writable || offset + static_cast<uint64_t>(nbytes) > b->region.bf_cnt) {
    self_.compute(entry());
    return b ? E_RANGE : E_BADREF;
  }
  KernelMessage km;
  km.dest = b->owner_ghost;
  km.body = GhostCopy{true, Buf{b->region.bf_base + offset, nbytes}, const_cast<std::byte*>(data), nbytes,
                      k().node()};
  SyncCall sync(inc_.migration);
  auto ans = k().transport().request(self_, std::move(km), entry() + p.cpu.kmsg_prepare);
  return ans ? E_OK : E_TIMEOUT;
}

int Equus::inc_copyfrom(int buffer_handle, unsigned offset, std::byte* data, unsigned nbytes) {
  auto call_trace = trace("inc_copyfrom");
  auto call = enter_later();  // its entry work is folded into its first CPU burst
  const auto& p = k().params();
  auto* b = inc_.ref<AlienBufRef>(buffer_handle);
  if (!b || offset + static_cast<uint64_t>(nbytes) > b->region.bf_cnt) {
    self_.compute(entry());
    return b ? E_RANGE : E_BADREF;
  }
  KernelMessage km;
  km.dest = b->owner_ghost;
  km.body = GhostCopy{false, Buf{b->region.bf_base + offset, nbytes}, data, nbytes, k().node()};
  SyncCall sync(inc_.migration);
  auto ans = k().transport().request(self_, std::move(km), entry() + p.cpu.kmsg_prepare);
  return ans ? E_OK : E_TIMEOUT;
}

// ---------------------------------------------------------------- B.4.3

int Equus::inc_testPort(int port, int nheader, std::byte* header_array, int nselect,
                        SelectMessages* select_array) {
  auto call = enter();
  auto* pr = inc_.ref<PortRef>(port);
  if (!pr) return E_BADREF;
  const auto& arrived = pr->kport->arrived;
  int copied = 0;
  for (const auto& q : arrived) {
    if (copied + 32 > nheader || !header_array) break;
    std::memcpy(header_array + copied, q.inv->head.data(), 32);
    copied += 32;
  }
  for (int i = 0; i < nselect && select_array; ++i) {
    auto* h = inc_.ref<StreamHandleRef>(select_array[i].sm_smhan);
    select_array[i].sm_nmsgs = h ? static_cast<int>(std::count_if(
                                       arrived.begin(), arrived.end(),
                                       [h](const QueuedMessage& q) { return q.inv->stream == h->stream; }))
                                 : 0;
  }
  call.leave();  // software interrupts may take messages: counted after them
  return static_cast<int>(arrived.size());
}

int Equus::inc_setBufferLimit(int stream, int limit) {
  auto call = enter();
  auto* s = inc_.ref<StreamRef>(stream);
  int rc = E_OK;
  if (!s)
    rc = E_BADREF;
  else if (limit <= 0)
    rc = E_INVAL;
  else
    s->buffer_limit = limit;
  return rc;
}

// ---------------------------------------------------------------- B.5

int Equus::inc_chanCreate(ChanType chantype, int* stream_p, int* port_p) {
  auto call = enter();
  GlobalId chan = k().network().new_gid();
  PortRef port = k().open_port(inc_, chan, chantype);
  KernelPortAddr dest =
      chantype == ChanType::Unicast ? k().address_of(*port.proxies.front()) : KernelPortAddr{};
  *port_p = inc_.add_ref(std::move(port));
  *stream_p = inc_.add_ref(StreamRef{k().network().new_gid(), chan, chantype, dest});
  attached(*port_p, "");
  attached(*stream_p, "");
  return E_OK;
}

int Equus::inc_portCreate(int stream) {
  auto call = enter();
  auto* s = inc_.ref<StreamRef>(stream);
  int rc = E_BADREF;
  if (s && s->type != ChanType::Multicast) {
    rc = E_INVAL;  // a unicast channel has exactly one port
  } else if (s) {
    rc = inc_.add_ref(k().open_port(inc_, s->channel, s->type));
    attached(rc, "");
  }
  return rc;
}

int Equus::inc_hanCreate(int stream_or_port) {
  auto call = enter();
  int rc = E_BADREF;
  if (auto* s = inc_.ref<StreamRef>(stream_or_port))
    rc = inc_.add_ref(StreamHandleRef{s->gid, k().address_of(*inc_.ghost_port()), s->type});
  else if (inc_.ref<PortRef>(stream_or_port))
    rc = inc_.add_ref(PortHandleRef{stream_or_port, k().address_of(*inc_.ghost_port())});
  return rc;
}

int Equus::inc_close(int reference) {
  auto call = enter();
  int rc = E_OK;
  if (auto* sr = inc_.ref<StreamRef>(reference)) k().hosting().notify_stream_closed(inc_, sr->gid);
  if (auto* o = k().network().observer()) {
    if (auto* sr = inc_.ref<StreamRef>(reference)) o->reference_closed(inc_.gid(), sr->channel);
    if (auto* pr = inc_.ref<PortRef>(reference)) o->reference_closed(inc_.gid(), pr->channel());
  }
  if (auto* pr = inc_.ref<PortRef>(reference)) {
    k().close_port(inc_, *pr);
    inc_.interrupts.remove_port_handler(reference);
    inc_.erase_ref(reference);
  } else if (inc_.has_ref(reference)) {
    inc_.erase_ref(reference);
  } else {
    rc = E_BADREF;
  }
  return rc;
}

// ---------------------------------------------------------------- events

int Equus::inc_eventWait(EvDesc* ev, int timeout, const std::vector<EvType>& types) {
  auto call_trace = trace("inc_eventWait");
  auto call = enter();
  auto wanted = [&](const EvDesc& e) {
    return types.empty() || std::find(types.begin(), types.end(), e.ed_evtype) != types.end();
  };
  auto& events = inc_.events();
  double deadline = sg::Engine::get_clock() + timeout / 1000.0;
  self_.set_waiting("inc_eventWait", -1, timeout > 0 ? Process::Wake::ByKernel : Process::Wake::ByOthers);
  while (std::none_of(events.begin(), events.end(), wanted)) {
    if (timeout == 0) break;
    if (timeout > 0) {
      if (!self_.block_until(deadline)) break;
    } else {
      self_.block();
    }
    deliver_interrupts();
  }
  self_.clear_waiting();
  int rc = 0;
  if (auto it = std::find_if(events.begin(), events.end(), wanted); it != events.end()) {
    *ev = *it;
    events.erase(it);
    rc = 1;
    // The kernel's notice names the incarnation an event is about; the library names the caller's
    // handle on it (a creation's EV_INC_MADE may even arrive before inc_create made the handle).
    bool about_inc = ev->ed_evtype == EvType::IncDead || ev->ed_evtype == EvType::MigrateDone ||
                     ev->ed_evtype == EvType::Made;
    if (about_inc && ev->ed_reference == 0)
      for (const auto& [id, r] : inc_.refs())
        if (const auto* h = std::get_if<IncRef>(&r); h && static_cast<uint32_t>(h->inc) == ev->ed_info1) {
          ev->ed_reference = static_cast<uint32_t>(id);
          break;
        }
  }
  return rc;
}

// ---------------------------------------------------------------- B.10

int Equus::inc_time(TimeBuf* time_buf) {
  auto call = enter();
  // The kernel's clock advances only at timer interrupts.
  double hz = k().params().cpu.clock_hz;
  double ticks = std::floor(sg::Engine::get_clock() * hz + 1e-9);
  time_buf->tb_elapsed = static_cast<uint32_t>(std::llround(ticks * 1000.0 / hz));
  time_buf->tb_sys = 0;
  time_buf->tb_user = 0;
  return E_OK;
}

int Equus::inc_sleep(int nmillisecs) {
  auto call_trace = trace("inc_sleep");
  auto call = enter();
  self_.set_waiting("inc_sleep");
  sg::this_actor::sleep_for(std::max(0, nmillisecs) / 1000.0);
  self_.clear_waiting();
  return E_OK;
}

}  // namespace equus::kernel
