// Memory-to-memory copies over the VME bus. There is no DMA: a CPU loop on one card reads or writes
// another card's memory, so a copy is a bus transfer capped at that loop's rate.
//
// The bus is scheduled here, as the cards' processors are (models/m68030/cpu.hpp): after the
// transaction latency, the copies under way share the bus equally, and its capacity shrinks with the
// number of masters contending (arbitration). Every copy is a timed wait for its completion under the
// current shares, re-armed when another copy starts or ends. This is the fluid max-min sharing a
// SimGrid link would compute for one bus, at the cost of a sleep instead of a network activity.
#pragma once

#include <simgrid/s4u.hpp>
#include <vector>

#include "models/vme/vme_params.hpp"

namespace equus::vme {

class Bus {
 public:
  explicit Bus(const VmeParams& p) : p_(p) {}

  /// Copies `bytes` from card `from` to card `to` by a CPU loop running at `rate` (bytes/s) when it
  /// has the bus to itself; blocks the calling actor.
  void copy(simgrid::s4u::Host* from, simgrid::s4u::Host* to, double bytes, double rate);

  /// Bus capacity (bytes/s) with `n` masters contending.
  double capacity(int n) const;
  const VmeParams& params() const { return p_; }

 private:
  struct Flow {
    double remaining;  // bytes of bus occupancy left at `updated_`
    double end;        // completion time under the current shares
  };
  void advance(double now);
  void reschedule(double now);

  const VmeParams& p_;
  std::vector<Flow*> flows_;
  double updated_ = 0;
};

}  // namespace equus::vme
