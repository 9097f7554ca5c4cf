// The communications manager (Section 8.3): transmits the responses, such as acknowledgements, that
// interrupt handlers generate but must not send themselves.
#pragma once

#include <deque>

#include "models/kernel/messages.hpp"
#include "models/kernel/process.hpp"

namespace equus::kernel {

class CommManager : public Process {
 public:
  explicit CommManager(Kernel& kernel);
  void start();
  void post(KernelMessage m);

 private:
  void run();
  std::deque<KernelMessage> queue_;
};

}  // namespace equus::kernel
