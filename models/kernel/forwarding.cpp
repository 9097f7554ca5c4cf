#include "models/kernel/forwarding.hpp"

#include <algorithm>

#include "models/kernel/invariant_checker.hpp"
#include "models/kernel/kernel.hpp"

namespace equus::kernel {

void Forwarding::wake_receiver(KernelPort& main) {
  if (main.waiter) main.waiter->wake();
}

int Forwarding::forward_arrived(Process& by, KernelPort& main,
                                const std::function<bool(const QueuedMessage&)>& pick,
                                const std::function<Destination(const QueuedMessage&)>& to,
                                uint64_t reconfig) {
  int n = 0;
  for (;; ++n) {
    auto it = std::find_if(main.arrived.begin(), main.arrived.end(), pick);
    if (it == main.arrived.end()) return n;
    QueuedMessage q = std::move(*it);
    main.arrived.erase(it);
    kernel_.release_buffer(*main.owner, q);
    KernelMessage f;
    f.inline_bytes = static_cast<uint32_t>(q.inv->inline_data.size());
    f.orig_node = q.src_node;
    f.orig_xid = q.xid;
    f.orig_service = q.service;
    f.body = InvocationBody{q.inv};
    ++kernel_.stats().forwarded;
    // Already acknowledged: the fault injection's loss applies here.
    forward(by, std::move(f), to(q), reconfig, kernel_.network().skip_forwarding);
  }
}

int Forwarding::forward_pending(Process& by, KernelPort& main,
                                const std::function<bool(const PendingMessage&)>& pick, Destination to,
                                uint64_t reconfig) {
  int n = 0;
  for (;; ++n) {
    auto it = std::find_if(main.pending.begin(), main.pending.end(), pick);
    if (it == main.pending.end()) return n;
    PendingMessage pm = std::move(*it);
    main.pending.erase(it);
    KernelMessage& o = pm.msg;
    bool relay = o.orig_node >= 0;  // itself a forwarded copy
    KernelMessage f;
    f.orig_node = relay ? o.orig_node : o.origin();
    f.orig_xid = relay ? o.orig_xid : o.xid;
    f.orig_service = relay ? o.orig_service : o.service;
    f.ack_origin = relay ? o.ack_origin : true;  // never acknowledged: the new destination tells the sender
    kernel_.replies().erase(f.orig_node, f.orig_xid);  // its retries now belong to the new destination
    f.inline_bytes = o.inline_bytes;
    f.body = std::move(o.body);
    ++kernel_.stats().forwarded_pending;
    forward(by, std::move(f), to, reconfig, false);
  }
}

void Forwarding::forward(Process& by, KernelMessage f, Destination to, uint64_t reconfig, bool lose) {
  auto inv = std::get<InvocationBody>(f.body).inv;
  inv->reconfig = reconfig;
  if (auto* c = kernel_.network().checker()) c->forwarded(*inv);
  if (lose) return;
  f.dest = address(to);
  f.locate = to.channel;
  // Reliably, one at a time so that the order is kept.
  in_flight_.push_back(inv);
  kernel_.transport().send_acked(by, std::move(f),
                                 kernel_.params().kernel.forward_message + kernel_.params().cpu.kmsg_prepare);
  in_flight_.erase(std::find(in_flight_.begin(), in_flight_.end(), inv));
}

void Forwarding::for_each_in_flight(const std::function<void(const Invocation&)>& f) const {
  for (const auto& inv : in_flight_) f(*inv);
}

}  // namespace equus::kernel
