// Interrupt-level packet handling at one card (Section 8.3): the handler pulls each posted packet from
// the sending card over the bus, accepts it and delivers it. Its cost is charged to this card's CPU.
#pragma once

#include <deque>

#include "models/kernel/process.hpp"

namespace equus::kernel {

struct KernelMessage;

class PacketInterrupt : public Process {
 public:
  explicit PacketInterrupt(Kernel& kernel);
  void start();
  void post(const KernelMessage& m);

 private:
  void run();
  std::deque<KernelMessage> queue_;
};

}  // namespace equus::kernel
