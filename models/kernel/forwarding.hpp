// The forwarding of queued messages when a reconfiguration moves a port or rebinds a stream (Section
// 8.5.1): arrived messages (already acknowledged) and pending ones (acknowledged by their new
// destination), each sent reliably and in order, and the invocations in flight meanwhile.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "models/kernel/kernel_port.hpp"
#include "models/kernel/messages.hpp"
#include "models/kernel/process.hpp"

namespace equus::kernel {

class Kernel;

class Forwarding {
 public:
  explicit Forwarding(Kernel& kernel) : kernel_(kernel) {}

  /// Forwards, in order, the messages queued at `main` that `pick` selects to `to` (each reliably,
  /// Section 8.5.1), marking `proxies` moving first; returns the number forwarded.
  int forward_arrived(Process& by, KernelPort& main, const std::function<bool(const QueuedMessage&)>& pick,
                      const std::function<Destination(const QueuedMessage&)>& to, uint64_t reconfig);
  /// Forwards the pending messages `pick` selects to `to` (they are acknowledged by their new
  /// destination).
  int forward_pending(Process& by, KernelPort& main, const std::function<bool(const PendingMessage&)>& pick,
                      Destination to, uint64_t reconfig);
  /// Wakes a receiver waiting at `main` (after a receive lock is lifted).
  static void wake_receiver(KernelPort& main);
  /// Every invocation being forwarded (the invariant checker's end of run).
  void for_each_in_flight(const std::function<void(const Invocation&)>& f) const;

 private:
  /// Sends one forwarded invocation message to `to` (unless the fault injection would `lose` it).
  void forward(Process& by, KernelMessage f, Destination to, uint64_t reconfig, bool lose);

  Kernel& kernel_;
  std::vector<std::shared_ptr<Invocation>> in_flight_;  // being forwarded
};

}  // namespace equus::kernel
