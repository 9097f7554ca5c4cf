// Memory-to-memory copies over the VME bus. There is no DMA: a CPU loop on one card reads or writes
// another card's memory, so a copy is a bus transfer capped at that loop's rate.
#pragma once

#include <simgrid/s4u.hpp>

#include "models/vme/vme_params.hpp"

namespace equus::vme {

class Bus {
 public:
  explicit Bus(const VmeParams& p) : p_(p) {}

  /// Copies `bytes` from card `from` to card `to` by a CPU loop running at `rate` (bytes/s) when it
  /// has the bus to itself; blocks the calling actor.
  void copy(simgrid::s4u::Host* from, simgrid::s4u::Host* to, double bytes, double rate) const;
  /// Starts the copy and returns it, so a caller can overlap several.
  simgrid::s4u::CommPtr copy_async(simgrid::s4u::Host* from, simgrid::s4u::Host* to, double bytes,
                                   double rate) const;

  const VmeParams& params() const { return p_; }

 private:
  const VmeParams& p_;
};

}  // namespace equus::vme
