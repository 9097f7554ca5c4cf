// Protocol constants and costs of the Equus kernel's delivery services (models/kernel/kernel.json).
#pragma once

#include "models/params/params.hpp"

namespace equus::kernel {

struct KernelParams {
  double retry_interval = 0;           // request / asynchronous send re-sent after this long without answer
  int max_retries = 0;                 // then the call fails (5 s in the dissertation)
  double bulk_pull_setup = 0;          // start a bulk pull of extra data from another card's memory
  double bulk_push_setup = 0;          // start a bulk push by a ghost into another card's memory
  int small_buffers = 0;               // header-only kernel message buffers per incarnation
  int large_buffers = 0;               // packet-sized (1.5 kB) kernel message buffers per incarnation
  double reply_cache_age = 0;          // time daemon drops cached replies older than this
  double packet_loss_probability = 0;  // random packet corruption (0 on the VME pool)
  double host_request = 0;             // loader CPU to host an incarnation
  double pincdata_bytes = 0;           // initial pincdata per incarnation
  double control_op = 0;               // ghost CPU per control operation
  double dependency_probe_period = 0;  // a dependent incarnation's ghost probes its parents
  int redirection_entries = 0;         // redirection table size per kernel (Section 8.5.1)
  double forward_message = 0;          // kernel CPU to dequeue and re-address one forwarded message
  double reconfig_op = 0;              // ghost CPU per step of a receiver change (attach, detach, rebind)
  double migrate_setup = 0;            // destination kernel CPU per migration, besides its messages
  double port_setup = 0;        // kernel CPU to make or unmake one attachment (kernel port, database entry)
  double migrate_per_page = 0;  // destination kernel CPU per page moved, besides the copy
  double receive_timer = 0;     // arm and cancel the timer of a timed inc_receive
  double migration_poll_period = 0;  // inc_brk growing the heap re-checks a migration's end this often
  double load_average_period = 0;    // time constant of a node's published load (Section 3.4 item 2)
  double load_read = 0;              // caller CPU per node whose load it reads over the bus

  void bind(params::Binder& b);
};

}  // namespace equus::kernel
