// A ghost process (Section 8.2.1): handles operations upon its incarnation (here: supplying
// inc_asinvoke extra data, inc_copyto/inc_copyfrom on its buffers) and event notifications.
#pragma once

#include "models/kernel/messages.hpp"
#include "models/kernel/process.hpp"
#include "models/kernel/types.hpp"

namespace equus::kernel {

class Incarnation;
struct PortRef;

class Ghost : public Process {
 public:
  Ghost(Kernel& kernel, Incarnation& inc);
  void start();
  void stop();
  /// Migration: the actor now runs on another card.
  void set_host(simgrid::s4u::Host* host) {
    if (actor_) actor_->set_host(host);
  }

 private:
  void run();
  void handle(KernelMessage& m);
  void control(KernelMessage& m, const GhostControl& c);
  /// An inc_asinvoke of this incarnation was received: unblock a sender held by its buffer limit.
  void complete(GlobalId stream, uint64_t asinvoke_id);
  void probe_parents();
  void answer(const KernelMessage& m, ControlReply r, double cpu);

  // Changing the receiver (ghost_reconfig.cpp, Section 8.5).
  void prop_activate(KernelMessage& m, const PropActivate& a);
  void attach_port(KernelMessage& m, const AttachPort& a);
  int detach_port(const DetachPort& d, const KernelMessage* request);
  void rebind_at_receiver(KernelMessage& m, const RebindAtReceiver& r);
  /// Asks the stream's holder (Figure 8.6 line 10); *binding gets the stream's new binding.
  int rebind_holder(const RebindAtReceiver& r, uint32_t* binding);
  /// At the stream's holder; *binding (if given) gets the stream's new binding.
  int rebind_stream(const RebindStream& r, uint32_t* binding = nullptr);
  /// Runs an operation on a ghost: this one directly, another by a request.
  template <class Op, class Local>
  int on_ghost(KernelPortAddr ghost, Op op, Local local, ControlReply* reply = nullptr);
  // Migration (migration.cpp, Section 7.4.4): the source's part.
  void migrate_request(KernelMessage& m, const MigrateRequest& r);

  Incarnation& inc_;
  simgrid::s4u::ActorPtr actor_;
};

}  // namespace equus::kernel
