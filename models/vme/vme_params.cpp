#include "models/vme/vme_params.hpp"

namespace equus::vme {

void VmeParams::bind(params::Binder& b) {
  using D = params::Dimension;
  b("bus_bandwidth", bus_bandwidth, D::Rate);
  b("arbitration_penalty", arbitration_penalty, D::Ratio);
  b("transaction_latency", transaction_latency, D::Time);
  b("read_copy_rate", read_copy_rate, D::Rate);
  b("write_copy_rate", write_copy_rate, D::Rate);
  b("packet_copy_rate", packet_copy_rate, D::Rate);
  b("packet_header_bytes", packet_header_bytes, D::Bytes);
  b("max_packet_data", max_packet_data, D::Bytes);
  b("max_copy_per_message", max_copy_per_message, D::Bytes);
  b("disc_traffic_rate", disc_traffic_rate, D::Rate);
}

}  // namespace equus::vme
