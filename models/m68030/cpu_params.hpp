// Costs of the MC68030 processor cards running the Equus kernel (models/m68030/m68030.json).
#pragma once

#include "models/params/params.hpp"

namespace equus::m68030 {

struct CpuParams {
  double speed_factor = 1;          // relative to the 20 MHz card; divides every CPU cost
  double syscall_entry = 0;         // trap into the kernel, argument validation, reference lookup
  double syscall_exit = 0;          // return to user mode
  double context_switch = 0;        // full process switch (MMU context, registers)
  double kmsg_prepare = 0;          // build a kernel message: buffer, delivery header, transaction state
  double packet_send = 0;           // driver: post the packet, interrupt the destination card
  double packet_accept = 0;         // interrupt handler: accept a packet, decode, queue or match
  double db_search_per_entry = 0;   // global-identifier database search, per entry
  double receive = 0;               // inc_receive with a message present: dequeue, copy header, handle
  double reply_handle = 0;          // inc_reply: look up the reply handle, reuse the reply kernel message
  double ack_generate = 0;          // interrupt handler builds an acknowledgement for the comm manager
  double completion_notice = 0;     // kernel bookkeeping of an asinvoke completion at the sender
  double software_interrupt = 0;  // deliver one software interrupt to a handler
  double ref_propagate = 0;         // propagate a reference in a message (pack or unpack)
  double local_copy_rate = 0;       // bytes/s, per-message copy between user and kernel buffers on one card
  double local_bulk_copy_rate = 0;  // bytes/s, bulk copy between two address spaces of one card
  double clock_hz = 0;              // timer interrupt rate: inc_time resolution
  double clock_tick_cost = 0;       // CPU time per timer interrupt (folded into a capacity derating)
  double time_daemon_period = 0;    // period of the time daemon's maintenance run
  double time_daemon_cost = 0;      // CPU time of one maintenance run (reply-buffer GC, integrity checks)
  double memory_bytes = 0;          // main memory per card (no virtual memory)
  double page_bytes = 0;

  void bind(params::Binder& b);
};

}  // namespace equus::m68030
