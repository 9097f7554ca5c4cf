// A kernel process: the identity the CPU schedules and the wait/wake point of a SimGrid actor.
#pragma once

#include "models/m68030/cpu.hpp"

#include <simgrid/s4u.hpp>
#include <string>

namespace equus::kernel {

class Kernel;

class Process {
public:
  Process(Kernel& kernel, std::string name, m68030::Priority prio);
  virtual ~Process() = default;
  Process(const Process&)            = delete;
  Process& operator=(const Process&) = delete;

  Kernel& kernel() const { return kernel_; }
  const std::string& name() const { return name_; }
  m68030::Priority priority() const { return prio_; }

  /// Runs `seconds` of this process's work on its card, after any work it owes.
  void compute(double seconds);
  /// Work done on the way back to user mode: charged lazily, at the next kernel entry or block, which
  /// is when anything else could observe it (one fewer simulated activity per call).
  void owe(double seconds) { owed_ += seconds; }
  void settle() { compute(0); }

  /// Waits until woken (the caller re-checks its condition: wakes may be spurious).
  void block();
  /// Waits until woken or `deadline` (absolute); returns false on timeout.
  bool block_until(double deadline);
  void wake() { sem_->release(); }

  /// What this process waits on, for deadlock reports ("" when running).
  std::string waiting_on;

private:
  Kernel& kernel_;
  std::string name_;
  m68030::Priority prio_;
  simgrid::s4u::SemaphorePtr sem_;
  double owed_ = 0;
};

}  // namespace equus::kernel
