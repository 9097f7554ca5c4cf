#include "models/vme/bus.hpp"

#include <cmath>

namespace sg = simgrid::s4u;

namespace equus::vme {

sg::CommPtr Bus::copy_async(sg::Host* from, sg::Host* to, double bytes, double rate) const {
  // A CPU loop moving words over the bus holds it for every transfer: alone, the copy runs at the
  // loop's rate; several copies share the bus capacity. SimGrid 3.32 ignores Comm::set_rate() on
  // host-to-host comms, so the rate is expressed as bus occupancy: the simulated payload is scaled by
  // capacity / rate.
  double occupancy = rate < p_.bus_bandwidth ? p_.bus_bandwidth / rate : 1.0;
  auto comm = sg::Comm::sendto_init(from, to);
  comm->set_payload_size(static_cast<uint64_t>(std::ceil(bytes * occupancy)));
  comm->start();
  return comm;
}

void Bus::copy(sg::Host* from, sg::Host* to, double bytes, double rate) const {
  copy_async(from, to, bytes, rate)->wait();
}

}  // namespace equus::vme
