// Booting the pool's system RDC (name service, pool manager) and launching RDCs (Section 3.3).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "models/kernel/equus.hpp"
#include "models/kernel/system.hpp"
#include "models/platform/pool_files.hpp"

namespace equus::rdc {

/// What the launch program is asked to run (launch options and the RDC binary).
struct LaunchSpec {
  std::string name;
  std::string user;
  std::vector<std::string> groups;  // empty: all the user's groups
  int nodes = 1;
  std::vector<kernel::Module> modules;
  int primary_module = 0;
  int primary_node_hint = -1;
  kernel::IncParams primary_params;
};

struct Launched {
  kernel::RdcPtr rdc;
  std::vector<unsigned> nodes;  // allocated by the pool manager
  int primary = 0;              // incarnation handle held by the launch program
};

/// The pool's system services, booted as the system RDC "equus" would be by an administrator.
class Pool {
 public:
  /// Hosts the name service and the pool manager at `service_node` and opens every node to the system
  /// RDC; the launch program runs `launcher` on the UNIX host's kernel.
  Pool(kernel::System& sys, std::vector<platform::PoolUser> users, int service_node,
       kernel::Program launcher);

  /// Launch as the launch program does (call from the launcher program): authenticate, get nodes from
  /// the pool manager, create the RDC's stream space and primary. Returns E_OK or an error status.
  int launch(kernel::Equus& launcher, const LaunchSpec& spec, Launched* out);
  /// Terminates an RDC: destroys its incarnations and gives its nodes back.
  int terminate(kernel::Equus& launcher, const Launched& rdc);

  kernel::RdcPtr system_rdc() const { return system_; }
  const std::vector<platform::PoolUser>& users() const { return users_; }

 private:
  kernel::System& sys_;
  std::vector<platform::PoolUser> users_;
  kernel::RdcPtr system_;
};

}  // namespace equus::rdc
