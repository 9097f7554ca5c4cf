#include "models/kernel/packet_interrupt.hpp"

#include "models/kernel/kernel.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

namespace {
/// What the observer is told a message is.
MessageKind kind_of(const KernelMessage& m) {
  if (std::holds_alternative<InvocationBody>(m.body)) return MessageKind::Invocation;
  if (m.service == Service::Reply) return MessageKind::Reply;
  if (m.service == Service::Ack) return MessageKind::Ack;
  return std::visit(Overloaded{
                        [](const HostRequest&) { return MessageKind::Loader; },
                        [](const LoaderAccess&) { return MessageKind::Loader; },
                        [](const FileFetch&) { return MessageKind::Loader; },
                        [](const auto&) { return MessageKind::GhostRequest; },
                    },
                    m.body);
}
}  // namespace

PacketInterrupt::PacketInterrupt(Kernel& kernel)
    : Process(kernel, "interrupt", m68030::Priority::Interrupt) {}

void PacketInterrupt::start() {
  sg::Actor::create("interrupt", kernel().host(), [this] { run(); })->daemonize();
}

void PacketInterrupt::post(const KernelMessage& m) {
  queue_.push_back(m);
  wake();
}

void PacketInterrupt::run() {
  Kernel& k = kernel();
  const auto& p = k.params();
  Network& net = k.network();
  for (;;) {
    while (queue_.empty()) block();
    KernelMessage m = std::move(queue_.front());
    queue_.pop_front();
    // The handler copies the packet out of the sender's card: bus read cycles.
    net.interconnect().copy(net.kernel(m.src_node).host(), k.host(),
                            p.vme.packet_header_bytes + m.inline_bytes, p.vme.packet_copy_rate);
    if (net.lose_packet()) {
      ++k.stats().packets_lost;
      continue;
    }
    double cost = p.cpu.packet_accept;
    if (std::holds_alternative<LogicalAddr>(m.dest)) cost += k.ports().db_search_cost();
    if (m.service == Service::Async) cost += p.cpu.ack_generate;
    // Inline data moves from the landing area into a kernel message buffer of its size class
    // (Section 4.4.2) when the packet is for a port here; other nodes drop it after the header.
    bool target = k.has_target(m);
    if (m.inline_bytes > 0 && target) cost += k.cpu().local_copy_time(m.inline_bytes);
    if (target && k.cancels_timer(m)) cost += p.kernel.receive_timer;  // before the acknowledgement goes
    bool answer = m.service == Service::Reply || m.service == Service::Ack;
    if (!answer && !target) {
      // Not for this node (a multicast or a locate elsewhere): dropped once examined. The handler's
      // time is still taken from the card, but nothing here waits for it.
      k.cpu().run_detached(cost);
      ++k.stats().packets_dropped_no_port;
      continue;
    }
    k.cpu().run(nullptr, m68030::Priority::Interrupt, cost);
    if (auto* o = net.observer())
      o->kernel_message(m.xid, kind_of(m), m.src_node, k.node(), m.sent_at, sg::Engine::get_clock());
    k.deliver(m);
  }
}

}  // namespace equus::kernel
