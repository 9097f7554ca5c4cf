#include "models/kernel/migration_lock.hpp"

#include "models/kernel/process.hpp"

namespace equus::kernel {

void MigrationLock::leave_sync_call() {
  if (--sync_calls_ == 0 && migrator_) migrator_->wake();
}

void MigrationLock::wake_migrator() {
  if (migrator_) migrator_->wake();
}

void MigrationLock::leave_port_op() {
  if (--port_ops_ > 0) return;
  if (migrator_) migrator_->wake();
  if (port_op_waiter_) port_op_waiter_->wake();
}

}  // namespace equus::kernel
