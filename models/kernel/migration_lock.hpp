// What a migration of an incarnation (Section 7.4) waits for and holds back: its synchronous calls and
// bulk transfers in progress (7.4.2), and its ghost's operations on its ports, which work on its kernel
// ports across waits; once those are over, new port operations are deferred until the ports have
// moved, and a propagation of one of its ports waits for them too.
#pragma once

#include <utility>
#include <vector>

#include "models/kernel/messages.hpp"

namespace equus::kernel {

class Process;

class MigrationLock {
 public:
  // ---- the migration itself
  bool in_progress() const { return migrating_; }
  /// Requested (M1): further migrations are deferred, and the segments locked against growth (M2).
  void begin() { migrating_ = true; }
  /// The destination refused it.
  void refused() { migrating_ = false; }
  /// Over (done or aborted): the ports are free again.
  void finish() {
    migrating_ = false;
    ports_locked_ = false;
  }
  /// The migrator, woken when no synchronous call nor port operation is left.
  void set_migrator(Process* p) { migrator_ = p; }
  /// The incarnation ended: its migrator (if waiting) finds it dead and aborts.
  void wake_migrator();
  bool busy() const { return sync_calls_ > 0 || port_ops_ > 0; }
  /// From now on, new port operations are deferred until the ports have moved.
  void lock_ports() { ports_locked_ = true; }
  bool ports_locked() const { return ports_locked_; }
  void defer(const KernelMessage& m) { deferred_.push_back(m); }
  std::vector<KernelMessage> take_deferred() { return std::exchange(deferred_, {}); }

  // ---- what it waits for
  void enter_sync_call() { ++sync_calls_; }
  void leave_sync_call();
  void enter_port_op() { ++port_ops_; }
  void leave_port_op();
  bool port_ops_running() const { return port_ops_ > 0; }
  /// The system incarnation propagating a port, woken when no port operation is left.
  void set_port_op_waiter(Process* p) { port_op_waiter_ = p; }

  /// A synchronous call or bulk transfer in progress, for its duration.
  class SyncCall {
   public:
    explicit SyncCall(MigrationLock& lock) : lock_(lock) { lock_.enter_sync_call(); }
    ~SyncCall() { lock_.leave_sync_call(); }
    SyncCall(const SyncCall&) = delete;
    SyncCall& operator=(const SyncCall&) = delete;

   private:
    MigrationLock& lock_;
  };
  /// A port operation of the ghost in progress, for its duration.
  class PortOp {
   public:
    explicit PortOp(MigrationLock& lock) : lock_(lock) { lock_.enter_port_op(); }
    ~PortOp() { lock_.leave_port_op(); }
    PortOp(const PortOp&) = delete;
    PortOp& operator=(const PortOp&) = delete;

   private:
    MigrationLock& lock_;
  };

 private:
  bool migrating_ = false;
  int sync_calls_ = 0;
  int port_ops_ = 0;
  bool ports_locked_ = false;
  Process* port_op_waiter_ = nullptr;
  Process* migrator_ = nullptr;
  std::vector<KernelMessage> deferred_;
};

}  // namespace equus::kernel
