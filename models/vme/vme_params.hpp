// The VME bus shared by the pool cards and the UNIX host (models/vme/vme.json).
#pragma once

#include "models/params/params.hpp"

namespace equus::vme {

struct VmeParams {
  double bus_bandwidth = 0;         // bytes/s the bus carries when one master copies
  double arbitration_penalty = 0;   // capacity lost per extra concurrent master: C / (1 + a (n-1))
  double transaction_latency = 0;   // bus acquisition per transfer
  double read_copy_rate = 0;        // bytes/s of a CPU loop reading another card's memory (bulk pull)
  double write_copy_rate = 0;       // bytes/s of a CPU loop writing another card's memory (bulk push)
  double packet_copy_rate = 0;      // bytes/s at which an interrupt handler pulls a packet
  double packet_header_bytes = 0;   // delivery header + 32-byte message header
  double max_packet_data = 0;       // extra data carried inside one packet (inc_send limit)
  double max_copy_per_message = 0;  // bytes copied over the bus per kernel message (64 kB)
  double disc_traffic_rate = 0;     // bytes/s of background UNIX disc traffic (0 = quiet)

  void bind(params::Binder& b);
};

}  // namespace equus::vme
