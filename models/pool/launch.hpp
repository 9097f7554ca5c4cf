// Booting the pool's system RDC (name service, pool manager) and launching RDCs (Section 3.3).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "models/kernel/equus.hpp"
#include "models/kernel/system.hpp"
#include "models/platform/pool_files.hpp"
#include "models/pool/pool_manager.hpp"

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
  int home = -1;  // where the work arrives: the RDC's own mapping, and a distributed policy's decider
  kernel::IncParams primary_params;
};

/// How the pool manager decides (Section 3.4). With no policy, the first system's rule: every node is
/// allocated to one RDC, the lowest free ones of the user's groups.
struct PoolOptions {
  nlohmann::json policy;  // a policy name or object (models/pool/policy.hpp); null: the first rule
  std::size_t queue_limit = 64;
  uint64_t seed = 1;
};

struct Launched {
  kernel::RdcPtr rdc;
  std::vector<unsigned> nodes;  // allocated by the pool manager
  int primary = 0;              // incarnation handle held by the launch program
  int stream_space = 0;         // the launch program's stream to the RDC's stream space
  int stream_space_inc = 0;     // and its incarnation handle on it
  double admitted_at = -1;      // when the pool manager granted the nodes
};

/// The pool's system services, booted as the system RDC "equus" would be by an administrator.
class Pool {
 public:
  /// Hosts the name service and the pool manager at `service_node` and opens every node to the system
  /// RDC; the launch program runs `launcher` on the UNIX host's kernel. When `launcher` returns while
  /// RDCs it launched are not terminated, the launch program waits for them (see wait_for_rdcs).
  Pool(kernel::System& sys, std::vector<platform::PoolUser> users, int service_node, kernel::Program launcher,
       const PoolOptions& options = {});

  /// Starts another launch program on the UNIX host (a user's `launch` command): `program` may call
  /// launch() and terminate() like the first one.
  kernel::Incarnation& spawn_launch(const std::string& name, kernel::Program program);

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
  /// What the pool manager's policy did so far.
  const PolicyStats& policy_stats() const { return *stats_; }

 private:
  /// What the launch program does once `launcher` returns: if RDCs it launched remain, it stays
  /// alive, as their incarnations depend on it.
  void wait_for_rdcs(kernel::Equus& launcher);
  /// Hosts an incarnation of the system RDC at `k` with its standard port, as at boot.
  kernel::Incarnation& boot(kernel::Kernel& k, int module, const std::string& name, kernel::Program program);
  /// Its default streams to the name service and the pool manager.
  void connect(kernel::Incarnation& inc);

  kernel::System& sys_;
  std::vector<platform::PoolUser> users_;
  kernel::RdcPtr system_;
  kernel::Incarnation* launch_ = nullptr;
  std::set<kernel::GlobalId> live_;  // launched and not terminated
  bool waiting_ = false;
  std::shared_ptr<PolicyStats> stats_ = std::make_shared<PolicyStats>();
};

}  // namespace equus::pool
