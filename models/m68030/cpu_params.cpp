#include "models/m68030/cpu_params.hpp"

namespace equus::m68030 {

void CpuParams::bind(params::Binder& b) {
  using D = params::Dimension;
  b("speed_factor", speed_factor, D::Ratio);
  b("syscall_entry", syscall_entry, D::Time);
  b("syscall_exit", syscall_exit, D::Time);
  b("context_switch", context_switch, D::Time);
  b("kmsg_prepare", kmsg_prepare, D::Time);
  b("packet_send", packet_send, D::Time);
  b("packet_accept", packet_accept, D::Time);
  b("db_search_per_entry", db_search_per_entry, D::Time);
  b("receive", receive, D::Time);
  b("reply_handle", reply_handle, D::Time);
  b("ack_generate", ack_generate, D::Time);
  b("completion_notice", completion_notice, D::Time);
  b("software_interrupt", software_interrupt, D::Time);
  b("ref_propagate", ref_propagate, D::Time);
  b("local_copy_rate", local_copy_rate, D::Rate);
  b("local_bulk_copy_rate", local_bulk_copy_rate, D::Rate);
  b("clock_hz", clock_hz, D::Frequency);
  b("clock_tick_cost", clock_tick_cost, D::Time);
  b("time_daemon_period", time_daemon_period, D::Time);
  b("time_daemon_cost", time_daemon_cost, D::Time);
  b("memory_bytes", memory_bytes, D::Bytes);
  b("page_bytes", page_bytes, D::Bytes);
}

}  // namespace equus::m68030
