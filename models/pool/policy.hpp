// Where the pool manager's decisions are made. A policy sees only what the pool manager itself knows
// (its node descriptors and its own allocation records), never the simulator's global state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "models/kernel/types.hpp"
#include "models/platform/pool_files.hpp"

namespace equus::pool {

/// The pool manager's own records, as a policy may read them.
struct PoolView {
  const std::vector<platform::NodeDescriptor>& nodes;
  const std::map<int, kernel::GlobalId>& owner;  // node -> RDC it is allocated to

  bool in_groups(int node, const std::set<std::string>& groups) const;
  bool free(int node) const { return owner.find(node) == owner.end(); }
  /// Nodes of `groups`, allocated or not: a request for more can never be satisfied.
  uint32_t capacity(const std::set<std::string>& groups) const;
};

/// A request for nodes (launch options: the groups to try, how many nodes).
struct AllocRequest {
  kernel::GlobalId rdc = 0;
  uint32_t nodes = 1;
  std::set<std::string> groups;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string name() const = 0;
  /// The nodes to allocate for `request` now; fewer than asked: not now (the request waits in the
  /// pool manager's queue, if it can ever be satisfied).
  virtual std::vector<uint32_t> place(const AllocRequest& request, const PoolView& view) = 0;
  /// Which waiting request (oldest first in `queue`) to try when nodes are freed; none: leave them all
  /// waiting. Default: the oldest only (first come, first served, no overtaking).
  virtual std::optional<std::size_t> admit(const std::vector<AllocRequest>& queue, const PoolView& view);
};

/// The first system's rule: the lowest-numbered free nodes of the requested groups.
class LowestFreePolicy : public Policy {
 public:
  std::string name() const override { return "lowest_free"; }
  std::vector<uint32_t> place(const AllocRequest& request, const PoolView& view) override;
};

/// The policy named `name` (today: "lowest_free"); throws std::invalid_argument naming the known ones.
std::unique_ptr<Policy> make_policy(const std::string& name);

}  // namespace equus::pool
