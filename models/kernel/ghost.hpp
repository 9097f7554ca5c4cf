// A ghost process (Section 8.2.1): handles operations upon its incarnation (here: supplying
// inc_asinvoke extra data, inc_copyto/inc_copyfrom on its buffers) and event notifications.
#pragma once

#include "models/kernel/process.hpp"
#include "models/kernel/types.hpp"

namespace equus::kernel {

class Incarnation;
struct KernelMessage;
struct GhostControl;

class Ghost : public Process {
 public:
  Ghost(Kernel& kernel, Incarnation& inc);
  void start();
  void stop();

 private:
  void run();
  void handle(KernelMessage& m);
  void control(KernelMessage& m, const GhostControl& c);
  /// An inc_asinvoke of this incarnation was received: unblock a sender held by its buffer limit.
  void complete(GlobalId stream, uint64_t asinvoke_id);
  void probe_parents();
  Incarnation& inc_;
  simgrid::s4u::ActorPtr actor_;
};

}  // namespace equus::kernel
