// A kernel process: the identity the CPU schedules and the wait/wake point of a SimGrid actor.
#pragma once

#include <simgrid/s4u.hpp>
#include <exception>
#include <string>

#include "models/m68030/cpu.hpp"

namespace equus::kernel {

class Kernel;

class Process {
 public:
  Process(Kernel& kernel, std::string name, m68030::Priority prio);
  virtual ~Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  Kernel& kernel() const { return *kernel_; }
  /// Migration: the process now runs on another card.
  void move_to(Kernel& k) { kernel_ = &k; }
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
  /// Wakes it (a semaphore release, a simcall), unless the calling actor is unwinding from being
  /// killed: SimGrid forbids simcalls then (on thread contexts the run hangs). Hosting::unhost wakes
  /// what the destructors of a killed incarnation's calls would have woken.
  void wake() {
    if (std::uncaught_exceptions() == 0) sem_->release();
  }

  /// Who can end a wait: the kernel itself (a deadline, a retry, work in progress on this card) or
  /// only another incarnation (a message, an event, an unfreeze, the reply to a request its receiver
  /// holds). When every incarnation waits on others and none acts, nothing can happen any more.
  enum class Wake : uint8_t { ByKernel, ByOthers };
  /// Records what this process is about to wait on, for deadlock detection and reports (kept cheap:
  /// no strings are built on the hot path).
  void set_waiting(const char* what, long detail = -1, Wake wake = Wake::ByKernel) {
    waiting_what_ = what;
    waiting_detail_ = detail;
    wake_ = wake;
  }
  void clear_waiting() { waiting_what_ = nullptr; }
  bool is_waiting() const { return waiting_what_ != nullptr; }
  /// Waiting for something only another incarnation can do.
  bool waits_on_others() const { return waiting_what_ != nullptr && wake_ == Wake::ByOthers; }
  std::string waiting_description() const {
    if (!waiting_what_) return "";
    return waiting_detail_ >= 0 ? std::string(waiting_what_) + " " + std::to_string(waiting_detail_)
                                : waiting_what_;
  }

 private:
  Kernel* kernel_;
  std::string name_;
  m68030::Priority prio_;
  simgrid::s4u::SemaphorePtr sem_;
  double owed_ = 0;
  const char* waiting_what_ = nullptr;
  long waiting_detail_ = -1;
  Wake wake_ = Wake::ByKernel;
};

}  // namespace equus::kernel
