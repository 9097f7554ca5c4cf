// One MC68030 card's processor: a uniprocessor shared by the kernel's processes.
//
// Processes of equal priority timeslice; SimGrid's processor sharing is the fluid limit of that
// round robin. Ghosts and kernel processes run above system incarnations and interrupt handlers
// above everything, as weights large enough to act as strict priorities. A context switch is charged
// when a process runs after another one did; a process that blocked while nothing else was ready is
// not descheduled (Appendix A.1) and so resumes without one.
#pragma once

#include "models/m68030/cpu_params.hpp"

#include <simgrid/s4u.hpp>

namespace equus::m68030 {

enum class Priority { Interrupt, Kernel, Ghost, System };

class Cpu {
public:
  Cpu(simgrid::s4u::Host* host, const CpuParams& p) : host_(host), p_(p) {}

  /// Runs `seconds` of work of `process` (an opaque identity; nullptr for interrupt level) on this CPU.
  /// Must be called from an actor on this card's host.
  void run(const void* process, Priority prio, double seconds);
  /// Cost of copying `bytes` between buffers of this card.
  double local_copy_time(double bytes) const { return bytes / p_.local_copy_rate; }

  simgrid::s4u::Host* host() const { return host_; }
  const CpuParams& params() const { return p_; }
  long context_switches() const { return switches_; }
  double busy_time() const { return busy_; }

private:
  simgrid::s4u::Host* host_;
  const CpuParams& p_;
  const void* current_ = nullptr;
  long switches_       = 0;
  double busy_         = 0;
};

}  // namespace equus::m68030
