// Where the pool manager's decisions are made (Section 3.4; Section 4.3 of the processor-allocation
// chapter). A policy sees only what its position could know: the pool manager's own records, and load
// information it pays for (a bus read per node, or a probe message), with its age; never the
// simulator's global state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/kernel/types.hpp"
#include "models/platform/pool_files.hpp"

namespace equus::pool {

/// What a node group means (Section 3.4): the first of these a node belongs to is its kind.
enum class GroupKind { Exclusive, Balanced, Timeshared, Systems };
/// `balanced`, `timeshared` or `systems` if the node is in one (in that order), else exclusive.
GroupKind kind_of(const platform::NodeDescriptor& node);
/// Nodes of a shared kind are used by several RDCs at once; an exclusive node by one.
inline bool shared(GroupKind k) { return k != GroupKind::Exclusive; }

/// One node's load as a kernel publishes it: processes running or ready now, and their time average.
struct LoadInfo {
  int run_queue = 0;
  double load = 0;   // time average (kernel.load_average_period)
  double age_s = 0;  // how old the reading is when the policy sees it
};

/// A request for nodes: a launch (PM_ALLOC) or one incarnation of a balanced RDC (PM_PLACE).
struct PlaceRequest {
  kernel::GlobalId rdc = 0;
  uint32_t nodes = 1;
  std::set<std::string> groups;  // the launch options' groups (already resolved to one kind)
  int home = -1;                 // where the work arrived (the RDC's own choice), -1 if none
};

/// What a policy may look at, from where it runs (the pool manager, or an agent on a node).
class PolicyContext {
 public:
  virtual ~PolicyContext() = default;
  virtual const std::vector<platform::NodeDescriptor>& nodes() const = 0;
  /// The candidate nodes for `request` (its groups), in node order.
  virtual const std::vector<int>& candidates(const PlaceRequest& request) = 0;
  /// Whether `node` is shared by RDCs (its group's kind); else it is allocated to one at a time.
  virtual bool shares(int node) const = 0;
  /// The pool manager's records: RDCs placed at `node` and not released (for exclusive nodes, 0 or 1).
  virtual int placed_at(int node) const = 0;
  /// `node`'s load, paid for: a bus read or a probe message, charged to the caller. The node where the
  /// policy runs reads its own for free.
  virtual LoadInfo probe(int node) = 0;
  /// Where the policy runs (-1: the pool manager's decision for the whole pool).
  virtual int here() const = 0;
  virtual std::mt19937_64& rng() = 0;
};

class Policy {
 public:
  enum class Shape { Central, Distributed };
  virtual ~Policy() = default;
  virtual std::string name() const = 0;
  /// Central: decided in the pool manager. Distributed: decided by the agent on the request's home
  /// node, which probes the others with messages.
  virtual Shape shape() const { return Shape::Central; }
  /// The nodes to give `request` now; fewer than asked: not now (the request waits in the pool
  /// manager's queue, if it can ever be satisfied).
  virtual std::vector<int> place(const PlaceRequest& request, PolicyContext& ctx) = 0;
  /// Which waiting request (oldest first in `queue`) to try when nodes are freed; none: leave them all
  /// waiting. Default: the oldest only (first come, first served, no overtaking).
  virtual std::optional<std::size_t> admit(const std::vector<PlaceRequest>& queue, PolicyContext& ctx);
};

/// The first system's rule, and the RDC's own mapping on shared nodes (`static`): exclusive requests
/// get the lowest-numbered free nodes; shared ones their home node if it is a candidate, else the
/// lowest-numbered candidates.
class StaticPolicy : public Policy {
 public:
  std::string name() const override { return "static"; }
  std::vector<int> place(const PlaceRequest& request, PolicyContext& ctx) override;
};

/// A policy's scenario description: {"name": "threshold", "threshold": 2, ...}; `pointer` names it in
/// errors (PolicyError, whose what() starts with the JSON pointer).
class PolicyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
std::unique_ptr<Policy> make_policy(const nlohmann::json& spec, const std::string& pointer = "/policy");
/// The names make_policy knows.
std::vector<std::string> policy_names();

}  // namespace equus::pool
