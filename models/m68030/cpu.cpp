#include "models/m68030/cpu.hpp"

namespace sg = simgrid::s4u;

namespace equus::m68030 {

namespace {
double weight(Priority prio)
{
  switch (prio) {
    case Priority::Interrupt:
      return 1e6;
    case Priority::Kernel:
      return 1e3;
    case Priority::Ghost:
      return 1e3;
    case Priority::System:
    default:
      return 1.0;
  }
}
}  // namespace

void Cpu::run(const void* process, Priority prio, double seconds)
{
  if (prio != Priority::Interrupt && process != current_) {
    if (current_ != nullptr) {
      seconds += p_.context_switch;
      ++switches_;
    }
    current_ = process;
  }
  if (seconds <= 0)
    return;
  busy_ += seconds;
  // Host speed is 1e9 flop/s for the reference card (scaled by speed_factor at platform build).
  sg::this_actor::execute(seconds * 1e9, weight(prio));
}

}  // namespace equus::m68030
