#include "models/kernel/time_daemon.hpp"

#include "models/kernel/kernel.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

TimeDaemon::TimeDaemon(Kernel& kernel) : Process(kernel, "time-daemon", m68030::Priority::Kernel) {}

void TimeDaemon::start(double phase) {
  sg::Actor::create("time-daemon", kernel().host(), [this, phase] { run(phase); })->daemonize();
}

void TimeDaemon::run(double phase) {
  const auto& p = kernel().params();
  if (p.cpu.time_daemon_period <= 0) return;
  sg::this_actor::sleep_for(phase * p.cpu.time_daemon_period);
  double busy = kernel().cpu().busy_time();
  for (;;) {
    compute(p.cpu.time_daemon_cost);
    if (auto* o = kernel().network().observer()) {  // processor load over the last period
      double now_busy = kernel().cpu().busy_time();
      o->node_load(kernel().node(), (now_busy - busy) / p.cpu.time_daemon_period, sg::Engine::get_clock());
      busy = now_busy;
    }
    kernel().replies().expire(sg::Engine::get_clock() - p.kernel.reply_cache_age);
    sg::this_actor::sleep_for(p.cpu.time_daemon_period);
  }
}

}  // namespace equus::kernel
