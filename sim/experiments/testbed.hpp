// What an experiment runs in: a fresh simulation built by its caller (sim/session), one per process
// (SimGrid allows one engine per process).
#pragma once

#include <functional>
#include <simgrid/s4u/Engine.hpp>

#include "models/kernel/system.hpp"
#include "models/pool/launch.hpp"

namespace equus::sim::experiments {

struct Testbed {
  simgrid::s4u::Engine& engine;
  kernel::System& sys;
  /// Boots the pool's system services (name service, pool manager) at `service_node`, with the pool's
  /// users; the launch program runs `launcher`. At most once.
  std::function<pool::Pool&(int service_node, kernel::Program launcher)> boot_pool;
};

}  // namespace equus::sim::experiments
