// The stream whose invocation an incarnation is transmitting (destination chosen, packet not yet
// posted): a rebinding of it waits until the packet is on the bus, so that the message reaches the
// current receiver before the rebinding's answer does and is forwarded with the pending ones (Figure
// 8.6, line 11).
#pragma once

#include "models/kernel/types.hpp"

namespace equus::kernel {

class Process;

class TransmitGate {
 public:
  void begin(GlobalId stream) { stream_ = stream; }
  /// The packet of `stream` is posted (or dropped): a rebinding waiting for it goes on.
  void posted(GlobalId stream);
  bool transmitting(GlobalId stream) const { return stream_ == stream; }
  /// The ghost rebinding the stream, woken when its packet is posted.
  void set_waiter(Process* p) { waiter_ = p; }

 private:
  GlobalId stream_ = 0;
  Process* waiter_ = nullptr;
};

}  // namespace equus::kernel
