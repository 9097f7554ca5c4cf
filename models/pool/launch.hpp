// Booting the pool's system RDC (name service, pool manager) and launching RDCs (Section 3.3).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "models/kernel/equus.hpp"
#include "models/kernel/system.hpp"
#include "models/platform/pool_files.hpp"

namespace equus::pool {

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
  int stream_space = 0;         // the launch program's stream to the RDC's stream space
  int stream_space_inc = 0;     // and its incarnation handle on it
};

/// The pool's system services, booted as the system RDC "equus" would be by an administrator.
class Pool {
 public:
  /// Hosts the name service and the pool manager at `service_node` and opens every node to the system
  /// RDC; the launch program runs `launcher` on the UNIX host's kernel. When `launcher` returns while
  /// RDCs it launched are not terminated, the launch program waits for them (see wait_for_rdcs).
  Pool(kernel::System& sys, std::vector<platform::PoolUser> users, int service_node,
       kernel::Program launcher);

  /// Launch as the launch program does (call from the launcher program): authenticate, get nodes from
  /// the pool manager, create the RDC's stream space and primary. Every incarnation of the RDC depends
  /// absolutely upon the launch program (Section 7.3). Returns E_OK or an error status.
  int launch(kernel::Equus& launcher, const LaunchSpec& spec, Launched* out);
  /// Terminates an RDC as the launch program normally does: the pool manager withdraws its nodes with
  /// kill, so its incarnations there are destroyed and the nodes are free again when this returns.
  int terminate(kernel::Equus& launcher, const Launched& rdc);

  const std::vector<platform::PoolUser>& users() const { return users_; }
  /// The launch program's incarnation (on the UNIX host's kernel).
  kernel::Incarnation& launch_incarnation() const { return *launch_; }
  /// True once the launcher has returned and the launch program only waits for its RDCs: it runs
  /// nothing, so a run should not wait for it.
  bool waiting_for_rdcs() const { return waiting_; }

 private:
  /// What the launch program does once `launcher` returns: if RDCs it launched remain, it stays
  /// alive, as their incarnations depend on it.
  void wait_for_rdcs(kernel::Equus& launcher);

  kernel::System& sys_;
  std::vector<platform::PoolUser> users_;
  kernel::RdcPtr system_;
  kernel::Incarnation* launch_ = nullptr;
  std::set<kernel::GlobalId> live_;  // launched and not terminated
  bool waiting_ = false;
};

}  // namespace equus::pool
