// One MC68030 card's processor: a uniprocessor shared by the kernel's processes.
//
// Strict priorities: interrupt handlers above kernel processes and ghosts, above system incarnations.
// Within a level, processes timeslice; the scheduler uses the fluid limit of round robin (equal
// shares). A context switch is charged when a process runs after another one did; a process that
// blocked while nothing else was ready is not descheduled (Appendix A.1) and resumes without one.
//
// The schedule is computed here, not by SimGrid's CPU model: every burst of work is a timed wait for
// its completion under the current schedule, re-armed when higher-priority or competing work arrives.
// That is both exact for strict priorities and cheaper per burst than a SimGrid execution.
#pragma once

#include <simgrid/s4u.hpp>
#include <vector>

#include "models/m68030/cpu_params.hpp"

namespace equus::m68030 {

enum class Priority { Interrupt = 0, Kernel = 1, Ghost = 1, System = 2 };

/// The number of incarnations' processes running or ready to run (Section 3.4 item 2) and its time
/// average, weighted exponentially over `period` seconds as UNIX's load average is: what a kernel
/// publishes as its node's load.
class LoadMeter {
 public:
  void set_period(double seconds) { period_ = seconds; }
  /// `delta` processes became ready (> 0) or stopped running (< 0) at `now`.
  void change(double now, int delta);
  int current() const { return n_; }
  double average(double now) const;
  /// The integral of the count over time since 0 (utilisation and mean load over a window).
  double area(double now) const { return area_ + n_ * (now - at_); }

 private:
  int n_ = 0;
  double avg_ = 0, at_ = 0, area_ = 0, period_ = 1;
};

class Cpu {
 public:
  Cpu(simgrid::s4u::Host* host, const CpuParams& p);

  /// Runs `seconds` of work of `process` (an opaque identity; ignored at interrupt level) on this card,
  /// blocking the calling actor until the work is done under the schedule.
  void run(const void* process, Priority prio, double seconds);
  /// Interrupt-level work nobody waits for (a packet found to be for no port here): it takes the
  /// processor like any other burst, delaying what runs, but no actor sleeps on it.
  void run_detached(double seconds);
  /// How long `seconds` of reference-card work take on this card alone (speed, timer interrupts).
  double work_time(double seconds) const { return seconds * scale_; }
  /// Cost of copying `bytes` between buffers of this card.
  double local_copy_time(double bytes) const { return bytes / p_.local_copy_rate; }
  /// Cost of a bulk copy between two address spaces of this card.
  double local_bulk_copy_time(double bytes) const { return bytes / p_.local_bulk_copy_rate; }

  simgrid::s4u::Host* host() const { return host_; }
  const CpuParams& params() const { return p_; }
  long context_switches() const { return switches_; }
  LoadMeter& load() { return load_; }
  const LoadMeter& load() const { return load_; }
  double busy_time() const { return busy_; }

 private:
  struct Burst {
    double remaining;  // seconds of work left at `updated_`
    int level;
    double end;  // completion time under the current schedule
    bool detached = false;
  };
  void advance(double now);
  void reschedule(double now);
  void drop_finished_detached();

  simgrid::s4u::Host* host_;
  const CpuParams& p_;
  double scale_;  // wall seconds per second of reference-card work (speed, timer interrupts)
  const void* current_ = nullptr;
  long switches_ = 0;
  double busy_ = 0;
  double updated_ = 0;
  std::vector<Burst*> active_;
  LoadMeter load_;
};

}  // namespace equus::m68030
