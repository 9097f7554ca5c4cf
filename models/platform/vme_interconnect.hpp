// The calibrated interconnect: one VME bus shared by every card (models/vme/bus.hpp).
#pragma once

#include "models/platform/interconnect.hpp"
#include "models/vme/bus.hpp"

namespace equus::platform {

class VmeInterconnect final : public Interconnect {
 public:
  explicit VmeInterconnect(const vme::VmeParams& p) : bus_(p) {}
  void copy(simgrid::s4u::Host* from, simgrid::s4u::Host* to, double bytes, double rate) override {
    bus_.copy(from, to, bytes, rate);
  }
  std::string name() const override { return "vme"; }
  const vme::Bus& bus() const { return bus_; }

 private:
  vme::Bus bus_;
};

}  // namespace equus::platform
