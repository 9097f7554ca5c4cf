#include "models/vme/bus.hpp"

#include <xbt/log.h>

#include <algorithm>
#include <cmath>

XBT_LOG_EXTERNAL_CATEGORY(equus);
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(equus_vme, equus, "The VME bus: copies and their sharing");

namespace sg = simgrid::s4u;

namespace equus::vme {

double Bus::capacity(int n) const {
  return n <= 1 ? p_.bus_bandwidth : p_.bus_bandwidth / (1.0 + p_.arbitration_penalty * (n - 1));
}

void Bus::advance(double now) {
  double dt = now - updated_;
  updated_ = now;
  if (dt <= 0 || flows_.empty()) return;
  double share = capacity(static_cast<int>(flows_.size())) / static_cast<double>(flows_.size());
  for (auto* f : flows_) f->remaining = std::max(0.0, f->remaining - share * dt);
}

void Bus::reschedule(double now) {
  if (flows_.size() == 1) {  // the common case: one copy has the bus
    flows_.front()->end = now + flows_.front()->remaining / capacity(1);
    return;
  }
  // Completion times if nothing else starts: the shares grow as copies finish, smallest first.
  std::vector<Flow*> order(flows_);
  std::sort(order.begin(), order.end(),
            [](const Flow* a, const Flow* b) { return a->remaining < b->remaining; });
  double t = now;
  double done = 0;  // bytes each remaining copy has moved so far in this replay
  for (std::size_t i = 0; i < order.size(); ++i) {
    auto n = static_cast<int>(order.size() - i);
    double share = capacity(n) / n;
    t += (order[i]->remaining - done) / share;
    done = order[i]->remaining;
    order[i]->end = t;
  }
}

void Bus::copy(sg::Host* /*from*/, sg::Host* /*to*/, double bytes, double rate) {
  // Alone, a copy runs at the loop's rate: the bus is held for bytes / rate, which is expressed as
  // bus occupancy at full capacity (bytes scaled by capacity / rate).
  double occupancy = rate < p_.bus_bandwidth ? p_.bus_bandwidth / rate : 1.0;
  double amount = std::ceil(bytes * occupancy);
  if (p_.transaction_latency > 0) sg::this_actor::sleep_for(p_.transaction_latency);
  if (amount <= 0) return;
  XBT_DEBUG("copy of %g bytes at %g bytes/s (%zu under way)", bytes, rate, flows_.size());
  double now = sg::Engine::get_clock();
  advance(now);
  Flow flow{amount, 0};
  flows_.push_back(&flow);
  struct Guard {  // removes the copy even if the actor is killed while waiting
    std::vector<Flow*>& v;
    Flow* f;
    ~Guard() { v.erase(std::remove(v.begin(), v.end(), f), v.end()); }
  } guard{flows_, &flow};
  reschedule(now);
  for (;;) {
    sg::this_actor::sleep_until(flow.end);
    now = sg::Engine::get_clock();
    advance(now);
    if (flow.remaining <= 1e-6 || now >= flow.end - 1e-12) break;
    reschedule(now);  // another copy started meanwhile: wait for the new completion time
  }
  flows_.erase(std::remove(flows_.begin(), flows_.end(), &flow), flows_.end());
  reschedule(now);  // the others speed up
}

}  // namespace equus::vme
