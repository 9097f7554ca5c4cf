#include "models/m68030/cpu.hpp"

#include <xbt/log.h>

#include <algorithm>
#include <cmath>
#include <limits>

XBT_LOG_EXTERNAL_CATEGORY(equus);
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(equus_m68030, equus, "The processor cards: bursts of work, context switches");

namespace sg = simgrid::s4u;

namespace equus::m68030 {

namespace {
constexpr double epsilon = 1e-12;
}

void LoadMeter::change(double now, int delta) {
  avg_ = average(now);
  area_ = area(now);
  at_ = now;
  n_ += delta;
}

double LoadMeter::average(double now) const {
  double dt = now - at_;
  if (dt <= 0 || period_ <= 0) return period_ <= 0 ? n_ : avg_;
  return n_ + (avg_ - n_) * std::exp(-dt / period_);
}

Cpu::Cpu(sg::Host* host, const CpuParams& p) : host_(host), p_(p) {
  // The periodic timer interrupt steals a fixed fraction of the card: fold it into the speed.
  double usable = std::max(0.01, 1.0 - p.clock_hz * p.clock_tick_cost);
  scale_ = 1.0 / (p.speed_factor * usable);
}

void Cpu::advance(double now) {
  double dt = now - updated_;
  updated_ = now;
  if (dt <= 0 || active_.empty()) return;
  if (active_.size() == 1) {  // the common case: one burst has the processor
    active_.front()->remaining = std::max(0.0, active_.front()->remaining - dt);
    drop_finished_detached();
    return;
  }
  // Work-conserving: the highest busy level runs, its bursts sharing equally; serve in that order.
  std::vector<Burst*> order(active_);
  std::stable_sort(order.begin(), order.end(),
                   [](const Burst* a, const Burst* b) { return a->level < b->level; });
  std::size_t i = 0;
  while (dt > epsilon && i < order.size()) {
    std::size_t j = i;
    while (j < order.size() && order[j]->level == order[i]->level) ++j;
    // Processor sharing within [i, j) until dt runs out or the level drains.
    while (dt > epsilon) {
      double k = 0;
      double min = std::numeric_limits<double>::infinity();
      for (std::size_t x = i; x < j; ++x)
        if (order[x]->remaining > epsilon) {
          ++k;
          min = std::min(min, order[x]->remaining);
        }
      if (k == 0) break;
      double step = std::min(dt, min * k);
      for (std::size_t x = i; x < j; ++x)
        if (order[x]->remaining > epsilon) order[x]->remaining -= step / k;
      dt -= step;
    }
    i = j;
  }
  drop_finished_detached();
}

void Cpu::drop_finished_detached() {
  for (auto it = active_.begin(); it != active_.end();) {
    if ((*it)->detached && (*it)->remaining <= epsilon) {
      delete *it;
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
}

void Cpu::run_detached(double seconds) {
  if (seconds <= 0) return;
  seconds *= scale_;
  busy_ += seconds;
  XBT_DEBUG("interrupt work of %g s (%zu under way)", seconds, active_.size());
  double now = sg::Engine::get_clock();
  advance(now);
  active_.push_back(new Burst{seconds, static_cast<int>(Priority::Interrupt), 0, true});
  reschedule(now);
}

void Cpu::reschedule(double now) {
  if (active_.size() == 1) {
    active_.front()->end = now + active_.front()->remaining;
    return;
  }
  // Completion times if nothing else arrives: replay the fluid schedule forward.
  std::vector<Burst*> order(active_);
  std::stable_sort(order.begin(), order.end(),
                   [](const Burst* a, const Burst* b) { return a->level < b->level; });
  double t = now;
  std::size_t i = 0;
  while (i < order.size()) {
    std::size_t j = i;
    while (j < order.size() && order[j]->level == order[i]->level) ++j;
    std::vector<Burst*> level(order.begin() + i, order.begin() + j);
    std::sort(level.begin(), level.end(),
              [](const Burst* a, const Burst* b) { return a->remaining < b->remaining; });
    double done = 0;  // work each remaining burst has received so far in this level
    for (std::size_t x = 0; x < level.size(); ++x) {
      double k = static_cast<double>(level.size() - x);
      t += (level[x]->remaining - done) * k;
      done = level[x]->remaining;
      level[x]->end = t;
    }
    i = j;
  }
}

void Cpu::run(const void* process, Priority prio, double seconds) {
  if (prio != Priority::Interrupt && process != current_) {
    if (current_ != nullptr) {
      seconds += p_.context_switch;
      ++switches_;
    }
    current_ = process;
  }
  if (seconds <= 0) return;
  seconds *= scale_;
  busy_ += seconds;
  XBT_DEBUG("burst of %g s at priority %d (%zu under way)", seconds, static_cast<int>(prio), active_.size());
  double now = sg::Engine::get_clock();
  advance(now);
  Burst burst{seconds, static_cast<int>(prio), 0, false};
  active_.push_back(&burst);
  // An incarnation's process is ready or running while its burst lasts (kernel work is not load).
  LoadMeter* meter = prio == Priority::System ? &load_ : nullptr;
  if (meter) meter->change(now, +1);
  // Remove the burst even if the actor is killed while waiting.
  struct Guard {
    std::vector<Burst*>& v;
    Burst* b;
    LoadMeter* meter;
    ~Guard() {
      v.erase(std::remove(v.begin(), v.end(), b), v.end());
      if (meter) meter->change(sg::Engine::get_clock(), -1);
    }
  } guard{active_, &burst, meter};
  reschedule(now);
  for (;;) {
    sg::this_actor::sleep_until(burst.end);
    now = sg::Engine::get_clock();
    advance(now);
    if (burst.remaining <= epsilon * 1e3 || now >= burst.end - epsilon) break;
    reschedule(now);  // pre-empted or shared meanwhile: wait for the new completion time
  }
  burst.remaining = 0;
  // Removing this burst moves nobody's completion earlier than its pending wake-up would notice,
  // except bursts of the same or lower levels: give them their new times.
  active_.erase(std::remove(active_.begin(), active_.end(), &burst), active_.end());
  reschedule(now);
}

}  // namespace equus::m68030
