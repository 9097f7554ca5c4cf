#include "models/kernel/transmit_gate.hpp"

#include "models/kernel/process.hpp"

namespace equus::kernel {

void TransmitGate::posted(GlobalId stream) {
  if (stream_ != stream) return;
  stream_ = 0;
  if (waiter_) waiter_->wake();
}

}  // namespace equus::kernel
