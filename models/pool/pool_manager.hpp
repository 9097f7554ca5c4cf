// The pool manager (Sections 3.4, 7.2): an incarnation of the system RDC that allocates nodes to RDCs
// on request (PM_ALLOC, from the launch program) and withdraws them (PM_RELEASE, from inc_rdcExit or the
// launch program's terminate). Where it places is its Policy's decision: central policies decide in the
// pool manager, reading loads over the bus; distributed ones in the agent on the request's home node,
// which probes the other agents with messages. A request that cannot be satisfied now waits in a
// bounded queue (its reply deferred, so the launch waits) until nodes are released; one that never
// could be (more nodes than its groups hold), or one that finds the queue full, is refused at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "models/kernel/rdc.hpp"
#include "models/platform/pool_files.hpp"
#include "models/pool/policy.hpp"

namespace equus::pool {

/// What a policy did over a run (its cost and its effect), shared with whoever reports the run.
struct PolicyStats {
  long decisions = 0;     // placements decided
  long transfers = 0;     // placed away from the request's home node
  long load_reads = 0;    // loads read over the bus
  long probes = 0;        // probe messages between agents (each a request and its reply)
  long relays = 0;        // decisions the pool manager asked a node's agent for
  long queued = 0;        // requests that waited in the pool manager's queue
  long refused = 0;       // requests refused (never satisfiable, or the queue full)
  double decision_s = 0;  // simulated time spent deciding (reads, probes and the decider's CPU)
};

struct PoolManagerOptions {
  std::size_t queue_limit = 64;  // launches waiting for nodes; one more is refused
  /// Node groups have their Section 3.4 meanings (balanced, timeshared and systems nodes are shared by
  /// RDCs; the launch options' groups are tried in order). Off: the first system's rule, every node
  /// allocated to one RDC from the union of the groups.
  bool group_kinds = false;
  uint64_t seed = 1;  // the policy's random choices
  std::shared_ptr<PolicyStats> stats = std::make_shared<PolicyStats>();
};

/// The standard channels of the agents, one per pool node (empty when the policy is central); filled
/// at boot, before any program runs.
struct AgentDirectory {
  std::vector<kernel::GlobalId> channels;
};

/// The node list of a PM_ALLOC or AGENT_PLACE reply `m` (32-bit words in its extra data `buf`).
std::vector<int> nodes_of_reply(const kernel::Msg& m, const std::vector<std::byte>& buf);

/// Makes a policy: the pool manager and each agent have their own (a distributed policy's state is a
/// node's, not shared).
using PolicyFactory = std::function<std::unique_ptr<Policy>()>;

/// The pool manager's program over `nodes`, deciding with a policy from `policy`.
kernel::Program pool_manager_program(std::vector<platform::NodeDescriptor> nodes, PolicyFactory policy,
                                     PoolManagerOptions options,
                                     std::shared_ptr<const AgentDirectory> agents);

/// The agent of node `node` (distributed policies): decides placements the pool manager relays
/// (AGENT_PLACE) and answers other agents' probes (AGENT_PROBE) with its kernel's load.
kernel::Program agent_program(int node, std::vector<platform::NodeDescriptor> nodes, PolicyFactory policy,
                              PoolManagerOptions options, std::shared_ptr<const AgentDirectory> agents);

}  // namespace equus::pool
