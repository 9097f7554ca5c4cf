#include "models/host/host_params.hpp"

namespace equus::host {

void HostParams::bind(params::Binder& b) {
  using D = params::Dimension;
  b("disc_access", disc_access, D::Time);
  b("disc_read_rate", disc_read_rate, D::Rate);
  b("request_cpu", request_cpu, D::Time);
}

}  // namespace equus::host
