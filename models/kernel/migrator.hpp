// The destination kernel's process performing one migration (Section 7.4.4, M3 and M4): it fetches
// the pincdata and sets up the ports, pre-copies the text while the incarnation runs, freezes it when
// heap copying starts, takes over its kernel data, ports and queues, and restarts it.
#pragma once

#include "models/kernel/process.hpp"
#include "models/kernel/types.hpp"

namespace equus::kernel {

class Incarnation;

class Migrator : public Process {
 public:
  Migrator(Kernel& destination, Incarnation& inc, double committed, double text,
           KernelPortAddr manager_ghost);
  void start();

 private:
  void run();
  /// Copies `bytes` from the source card, 64 kB per kernel message, with the per-page work.
  void fetch(double bytes);
  /// The destroy that aborts a migration (7.4.1): gives back the memory committed here.
  bool aborted();
  Incarnation& inc_;
  double committed_;  // bytes of memory committed here
  double text_;       // text bytes committed here (0: already present)
  KernelPortAddr manager_ghost_;
  double moved_ = 0;
};

}  // namespace equus::kernel
