// The sending half of a kernel (Section 8.4.1): the three delivery services (datagram, request-reply,
// asynchronous send with acknowledgement), the transactions waiting for their answers, replies kept for
// at-most-once, and bulk copies over the interconnect. Arrival is the kernel's own (Kernel::deliver).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>

#include "models/kernel/messages.hpp"
#include "models/kernel/process.hpp"

namespace simgrid::s4u {
class Host;
}

namespace equus::kernel {

class Kernel;

class Transport {
 public:
  explicit Transport(Kernel& kernel) : kernel_(kernel) {}

  /// A new transmission identifier of this node.
  uint64_t new_xid() { return next_xid_++; }
  // `cpu_before` is the caller's own work up to the transmission, folded into the same CPU burst.
  /// Transmits once, without waiting (datagrams, replies, acknowledgements, forwarded messages).
  void transmit(Process& from, KernelMessage& m, double cpu_before);
  /// Request-reply: re-sends every retry interval until a reply; nullopt after max_retries.
  std::optional<KernelMessage> request(Process& from, KernelMessage m, double cpu_before);
  /// Asynchronous send with acknowledgement and retry; nullopt when no acknowledgement came.
  std::optional<KernelMessage> send_acked(Process& from, KernelMessage m, double cpu_before);
  /// Replies to request `xid` from `to_node` with `body` (and the final address `resolved`, if any):
  /// cached first, so that a retry of the request gets the same reply (at-most-once, 8.4.1).
  void reply(Process& from, int to_node, uint64_t xid, Body body, double cpu_before,
             KernelPortAddr resolved = {});
  /// Copies `bytes` from `from` to `to` over the interconnect, at most max_copy_per_message per kernel
  /// message; `before_chunk(chunk, first)` runs before each chunk's copy (its message's work).
  void bulk_copy(simgrid::s4u::Host* from, simgrid::s4u::Host* to, double bytes, double rate,
                 const std::function<void(double chunk, bool first)>& before_chunk = {});
  /// A reply or acknowledgement arrived (interrupt level): completes the transaction waiting for it.
  void answer(KernelMessage& m);

 private:
  struct Transaction {
    Process* waiter = nullptr;
    bool done = false;
    bool request = false;   // request-reply (not an asynchronous send)
    bool attached = false;  // the receiver has it and has not replied yet: keep waiting
    KernelMessage answer;
  };
  std::optional<KernelMessage> reliable(Process& from, KernelMessage m, double cpu_before);
  /// Before a retry: a stream rebound meanwhile sends the retry to its new channel.
  static void follow_stream(KernelMessage& m);

  Kernel& kernel_;
  uint64_t next_xid_ = 1;
  std::unordered_map<uint64_t, Transaction> transactions_;
};

}  // namespace equus::kernel
