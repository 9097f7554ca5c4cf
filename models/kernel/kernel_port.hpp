// Kernel ports (Section 8.5.1) and the messages queued, pending or forwarded at them.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <utility>

#include "models/kernel/messages.hpp"

namespace equus::kernel {

class Incarnation;
class Process;

struct QueuedMessage {
  std::shared_ptr<Invocation> inv;
  Service service = Service::Datagram;
  int src_node = -1;
  uint64_t xid = 0;
  bool large = false;    // holds a packet-sized buffer
  GlobalId channel = 0;  // the attachment it arrived over
};

/// A message made pending at a moving kernel port: not acknowledged, forwarded later (Figure 8.5).
struct PendingMessage {
  KernelMessage msg;
  GlobalId channel = 0;
};

/// Where forwarded messages go: a kernel port address (perhaps out of date: redirections and, failing
/// those, a locate of the channel by broadcast find the port).
struct Destination {
  KernelPortAddr port;
  GlobalId channel = 0;
};

/// Where a message for `d` is sent: its kernel port if known, else located by broadcast.
inline Address address(const Destination& d) {
  if (d.port.valid()) return d.port;
  return LogicalAddr{LogicalAddr::broadcast, d.channel, DeliveryType::Channel};
}

/// A kernel port: the arrived queue of invocation messages, or a ghost's request queue.
struct KernelPort {
  uint32_t index = 0;
  Incarnation* owner = nullptr;
  bool ghost = false;
  std::deque<QueuedMessage> arrived;
  std::deque<KernelMessage> requests;  // ghost ports
  Process* waiter = nullptr;
  GlobalId selector = 0;    // the waiter only wants messages from this stream (0: any)
  bool interrupts = false;  // arrivals raise a software interrupt in the owner (inc_setPortHandler)
  // Proxies (Section 8.5.1): one per attachment of an incarnation port to a channel; what arrives at
  // a proxy is queued at its main kernel port.
  KernelPort* main = nullptr;
  GlobalId channel = 0;
  ChanType chan_type = ChanType::Unicast;
  // Forwarding in progress (Figures 8.5, 8.6): arriving unicast messages are made pending (all of
  // them, or only one stream's), multicast ones dropped; receives wait while locked.
  bool moving = false;
  GlobalId moving_stream = 0;
  bool receive_locked = false;
  bool timed_wait = false;             // the waiter's inc_receive has a timeout: an arrival cancels its timer
  std::deque<PendingMessage> pending;  // main ports
  // Streams rebound away from this (main) port with forwarding (Figure 8.6): the binding they got and
  // where they lead. A message sent before that rebinding that arrives only after it (it was still on
  // its way, e.g. through redirections after a migration) follows the stream instead of being queued
  // here behind the stream's later messages at the new receiver.
  std::map<GlobalId, std::pair<uint32_t, Destination>> rebound;
};

}  // namespace equus::kernel
