// The pool manager (Sections 3.4, 7.2): an incarnation of the system RDC that allocates nodes to RDCs
// on request (PM_ALLOC, from the launch program) and withdraws them (PM_RELEASE, from inc_rdcExit or the
// launch program's terminate). Where it places is its Policy's decision. A request that cannot be
// satisfied now waits in a bounded queue (its reply deferred, so the launch waits) until nodes are
// released; one that never could be (more nodes than its groups hold), or one that finds the queue
// full, is refused at once.
#pragma once

#include <memory>
#include <vector>

#include "models/kernel/rdc.hpp"
#include "models/platform/pool_files.hpp"
#include "models/pool/policy.hpp"

namespace equus::pool {

struct PoolManagerOptions {
  std::size_t queue_limit = 64;  // launches waiting for nodes; one more is refused
};

/// The pool manager's program over `nodes`, deciding with `policy` (lowest free nodes by default).
kernel::Program pool_manager_program(std::vector<platform::NodeDescriptor> nodes,
                                     std::shared_ptr<Policy> policy = std::make_shared<LowestFreePolicy>(),
                                     PoolManagerOptions options = {});

}  // namespace equus::pool
