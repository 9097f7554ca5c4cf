// All the models' parameters, loaded from their data files and overridden by name.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "models/host/host_params.hpp"
#include "models/kernel/kernel_params.hpp"
#include "models/m68030/cpu_params.hpp"
#include "models/vme/vme_params.hpp"

namespace equus::params {

struct ModelParams {
  m68030::CpuParams cpu;
  vme::VmeParams vme;
  kernel::KernelParams kernel;
  host::HostParams host;
  std::vector<ParamInfo> infos;  // every parameter as loaded (for reports)

  /// Loads models/{m68030,vme,kernel,host}/*.json under `dir` and applies `overrides`
  /// ("m68030.syscall_entry" -> "120"); throws ParamError on any bad name or value.
  static ModelParams load(const std::map<std::string, std::string>& overrides = {},
                          const std::string& dir = data_dir());
};

}  // namespace equus::params
