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
  /// Dispatches a request to the handler of its type.
  void handle(KernelMessage& m);
  // One handler per request type.
  void fetch(const KernelMessage& m, const GhostFetch& f);
  void copy(const KernelMessage& m, const GhostCopy& c);
  void image(const KernelMessage& m, const GhostImage& img);
  void control(const KernelMessage& m, const GhostControl& c);
  void freeze_stream(const KernelMessage& m, const FreezeStream& fs);
  /// Anything else: answered with an empty reply.
  void done(const KernelMessage& m);
  // One handler per control operation; each returns the answer's status.
  int apply(const control::Status&) { return E_OK; }
  int apply(const control::Destroy&) { return E_OK; }  // after the answer (see control)
  int apply(const control::Freeze&);
  int apply(const control::Unfreeze&);
  int apply(const control::Start& op);
  int apply(const control::Depend& op);
  int apply(const control::Interest& op);
  int apply(const control::WatchStream& op);
  int apply(const control::Notify& op);
  /// An inc_asinvoke of this incarnation was received: unblock a sender held by its buffer limit.
  void complete(GlobalId stream, uint64_t asinvoke_id);
  void probe_parents();
  /// Copies `bytes` of this incarnation's to `to_node` (after the bulk transfer's set-up).
  void push(int to_node, double bytes);
  /// A bulk copy over the interconnect, one kernel message per chunk.
  void bulk(simgrid::s4u::Host* from, simgrid::s4u::Host* to, double bytes, double rate);
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
