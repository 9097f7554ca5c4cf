// The time daemon (Section 8.3): periodic maintenance, e.g. collecting aged reply buffers.
#pragma once

#include "models/kernel/process.hpp"

namespace equus::kernel {

class TimeDaemon : public Process {
 public:
  explicit TimeDaemon(Kernel& kernel);
  void start(double phase);

 private:
  void run(double phase);
};

}  // namespace equus::kernel
