#include "models/vme/bus.hpp"

namespace sg = simgrid::s4u;

namespace equus::vme {

sg::CommPtr Bus::copy_async(sg::Host* from, sg::Host* to, double bytes, double rate) const
{
  auto comm = sg::Comm::sendto_init();
  comm->set_rate(rate);  // only allowed before the hosts are set
  comm->set_source(from);
  comm->set_destination(to);
  comm->set_payload_size(static_cast<uint64_t>(bytes));
  comm->start();
  return comm;
}

void Bus::copy(sg::Host* from, sg::Host* to, double bytes, double rate) const
{
  copy_async(from, to, bytes, rate)->wait();
}

}  // namespace equus::vme
