#include "models/kernel/kernel_params.hpp"

namespace equus::kernel {

void KernelParams::bind(params::Binder& b) {
  using D = params::Dimension;
  b("retry_interval", retry_interval, D::Time);
  b("max_retries", max_retries);
  b("bulk_pull_setup", bulk_pull_setup, D::Time);
  b("bulk_push_setup", bulk_push_setup, D::Time);
  b("small_buffers", small_buffers);
  b("large_buffers", large_buffers);
  b("reply_cache_age", reply_cache_age, D::Time);
  b("packet_loss_probability", packet_loss_probability, D::Ratio);
  b("host_request", host_request, D::Time);
  b("pincdata_bytes", pincdata_bytes, D::Bytes);
  b("control_op", control_op, D::Time);
  b("dependency_probe_period", dependency_probe_period, D::Time);
  b("redirection_entries", redirection_entries);
  b("forward_message", forward_message, D::Time);
  b("reconfig_op", reconfig_op, D::Time);
  b("migrate_setup", migrate_setup, D::Time);
  b("port_setup", port_setup, D::Time);
  b("migrate_per_page", migrate_per_page, D::Time);
  b("receive_timer", receive_timer, D::Time);
  b("migration_poll_period", migration_poll_period, D::Time);
  b("load_average_period", load_average_period, D::Time);
  b("load_read", load_read, D::Time);
}

}  // namespace equus::kernel
