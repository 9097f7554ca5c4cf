// What joins the cards: the kernel moves every packet and every bulk copy through this interface, so
// that another interconnect than the calibrated VME bus (crates, a LAN, a switched cluster) can be
// modelled without touching the kernel.
#pragma once

#include <simgrid/s4u.hpp>
#include <string>

namespace equus::platform {

class Interconnect {
 public:
  virtual ~Interconnect() = default;
  /// Moves `bytes` from card `from` to card `to`, driven by a loop at `rate` bytes/s when it has the
  /// medium to itself (on the VME bus, a CPU copy loop: there is no DMA); blocks the calling actor.
  virtual void copy(simgrid::s4u::Host* from, simgrid::s4u::Host* to, double bytes, double rate) = 0;
  /// A short name for reports ("vme", ...).
  virtual std::string name() const = 0;
};

}  // namespace equus::platform
