#include "models/kernel/transport.hpp"

#include <algorithm>

#include "models/kernel/kernel.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus_kernel);
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kernel_transport, equus_kernel,
                                "The delivery services: transmissions, retries, transactions");

namespace sg = simgrid::s4u;

namespace equus::kernel {

void Transport::reply(Process& from, int to_node, uint64_t xid, Body body, double cpu_before,
                      KernelPortAddr resolved) {
  KernelMessage r;
  r.service = Service::Reply;
  r.xid = xid;
  r.dest = KernelPortAddr{to_node, 0};
  r.resolved = resolved;
  r.body = std::move(body);
  kernel_.replies().store(to_node, xid, r);
  transmit(from, r, cpu_before);
}

void Transport::bulk_copy(simgrid::s4u::Host* from, simgrid::s4u::Host* to, double bytes, double rate,
                          const std::function<void(double chunk, bool first)>& before_chunk) {
  double left = bytes;
  bool first = true;
  while (left > 0) {
    double chunk = std::min(left, kernel_.params().vme.max_copy_per_message);
    if (before_chunk) before_chunk(chunk, first);
    kernel_.network().interconnect().copy(from, to, chunk, rate);
    left -= chunk;
    first = false;
  }
}

void Transport::transmit(Process& from, KernelMessage& m, double cpu_before) {
  const int node = kernel_.node();
  m.src_node = node;
  if (kernel_.is_down()) return;  // a failed card sends nothing
  struct Posted {                 // on every way out: the packet is posted (or delivered here)
    KernelMessage& m;
    ~Posted() {
      if (m.stream_holder) m.stream_holder->transmit.posted(m.stream);
    }
  } posted{m};
  int dest = LogicalAddr::broadcast;
  if (const auto* ka = std::get_if<KernelPortAddr>(&m.dest))
    dest = ka->node;
  else
    dest = std::get<LogicalAddr>(m.dest).node;

  const auto& cpu = kernel_.params().cpu;
  const PortTable& ports = kernel_.ports();
  Network& net = kernel_.network();
  if (dest == node) {
    // Same card: the kernel delivers directly, no bus and no interrupt.
    bool logical = std::holds_alternative<LogicalAddr>(m.dest);
    from.compute(cpu_before + cpu.packet_accept + (logical ? ports.db_search_cost() : 0));
    kernel_.deliver(m);
    return;
  }
  if (dest != LogicalAddr::broadcast) {
    from.compute(cpu_before + cpu.packet_send);
    net.kernel(dest).post_packet(m);
    return;
  }
  // No hardware broadcast: a point-to-point packet to every other kernel, in turn, each destination
  // pulling its copy while the next is posted (Section 8.4.4); the local database is searched too.
  double first = cpu_before + ports.db_search_cost();
  int pool = net.pool_size();
  for (int i = 1; i <= pool; ++i) {
    int n = (node + i) % (pool + 1);  // the host slot (pool) is skipped: it runs no Equus RDC
    if (n == pool || n == node) continue;
    from.compute(first + cpu.packet_send);
    first = 0;
    net.kernel(n).post_packet(m);
  }
  if (!ports.db_lookup(std::get<LogicalAddr>(m.dest).gid, std::get<LogicalAddr>(m.dest).type).empty())
    kernel_.deliver(m);
}

void Transport::follow_stream(KernelMessage& m) {
  if (!m.stream_holder || m.stream_holder->state() == IncState::Dead) return;
  for (const auto& [id, r] : m.stream_holder->refs())
    if (const auto* s = std::get_if<StreamRef>(&r); s && s->gid == m.stream && s->channel != m.locate) {
      m.locate = s->channel;  // rebound while retrying: the retry goes to the new channel
      m.binding = s->binding;
      m.dest = s->dest.valid()
                   ? Address{s->dest}
                   : Address{LogicalAddr{LogicalAddr::broadcast, s->channel, DeliveryType::Channel}};
    }
}

std::optional<KernelMessage> Transport::reliable(Process& from, KernelMessage m, double cpu_before) {
  m.xid = new_xid();
  m.src_node = kernel_.node();
  m.began = sg::Engine::get_clock();
  uint64_t xid = m.xid;
  auto& tx = transactions_[xid];
  tx.waiter = &from;
  const auto& kp = kernel_.params().kernel;
  tx.request = m.service == Service::Request;
  // Once the receiver has it and answers later, retries only probe that it lives: only it can end the
  // wait (an invocation its server never replies to waits for ever, as Equus's did).
  auto wake = Process::Wake::ByKernel;
  bool invocation = std::holds_alternative<InvocationBody>(m.body);  // for who-waits-on-what reports
  for (int attempt = 0; attempt <= kp.max_retries; ++attempt) {
    if (attempt > 0) {
      XBT_DEBUG("node %d retries transaction %llu (attempt %d)", kernel_.node(),
                static_cast<unsigned long long>(xid), attempt);
      ++kernel_.stats().retries;
      follow_stream(m);
    }
    if (attempt > 0 && m.locate && std::holds_alternative<KernelPortAddr>(m.dest))
      m.dest = LogicalAddr{LogicalAddr::broadcast, m.locate, DeliveryType::Channel};  // fall back: locate
    transmit(from, m, attempt == 0 ? cpu_before : 0);
    double deadline = sg::Engine::get_clock() + kp.retry_interval;
    from.set_waiting(invocation ? "the answer to an invocation over its stream: kernel transaction"
                                : "reply or acknowledgement of kernel transaction",
                     static_cast<long>(xid), wake);
    while (!tx.done && from.block_until(deadline)) {
    }
    if (tx.attached) {  // alive at the receiver: the next retry is a probe, not a failure
      tx.attached = false;
      attempt = 0;
      wake = Process::Wake::ByOthers;
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
  XBT_VERB("node %d: transaction %llu unanswered after %d retries", kernel_.node(),
           static_cast<unsigned long long>(xid), kp.max_retries);
  return std::nullopt;
}

std::optional<KernelMessage> Transport::request(Process& from, KernelMessage m, double cpu_before) {
  m.service = Service::Request;
  return reliable(from, std::move(m), cpu_before);
}

std::optional<KernelMessage> Transport::send_acked(Process& from, KernelMessage m, double cpu_before) {
  m.service = Service::Async;
  return reliable(from, std::move(m), cpu_before);
}

void Transport::answer(KernelMessage& m) {
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

}  // namespace equus::kernel
