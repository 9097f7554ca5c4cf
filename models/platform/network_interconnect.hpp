// An interconnect that SimGrid's own network model carries: transfers are SimGrid communications over
// the platform's links (a shared Ethernet, a switch), sharing their bandwidth as SimGrid computes.
#pragma once

#include <cstdint>
#include <string>

#include "models/platform/interconnect.hpp"

namespace equus::platform {

class NetworkInterconnect final : public Interconnect {
 public:
  explicit NetworkInterconnect(std::string name) : name_(std::move(name)) {}
  /// The network carries the bytes (a network interface has its own DMA: `rate`, a CPU copy loop's,
  /// does not bound it).
  void copy(simgrid::s4u::Host* from, simgrid::s4u::Host* to, double bytes, double /*rate*/) override {
    if (from == to || bytes <= 0) return;
    simgrid::s4u::Comm::sendto(from, to, static_cast<uint64_t>(bytes));
  }
  std::string name() const override { return name_; }

 private:
  std::string name_;
};

}  // namespace equus::platform
