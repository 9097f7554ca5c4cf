// The UNIX host card and its disc, which serve module text and data to the pool (models/host/host.json).
#pragma once

#include "models/params/params.hpp"

namespace equus::host {

struct HostParams {
  double disc_access = 0;     // average seek plus rotation per file read
  double disc_read_rate = 0;  // bytes/s once positioned
  double request_cpu = 0;     // host CPU per file-service request (UNIX process, system calls)

  void bind(params::Binder& b);
};

}  // namespace equus::host
