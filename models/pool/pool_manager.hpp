// The pool manager (Sections 3.4, 7.2): an incarnation of the system RDC that allocates nodes to RDCs
// on request (PM_ALLOC, from the launch program) and withdraws them (PM_RELEASE, from inc_rdcExit or the
// launch program's terminate). Where it places is its Policy's decision.
#pragma once

#include <memory>
#include <vector>

#include "models/kernel/rdc.hpp"
#include "models/platform/pool_files.hpp"
#include "models/pool/policy.hpp"

namespace equus::pool {

/// The pool manager's program over `nodes`, deciding with `policy` (lowest free nodes by default).
kernel::Program pool_manager_program(std::vector<platform::NodeDescriptor> nodes,
                                     std::shared_ptr<Policy> policy = std::make_shared<LowestFreePolicy>());

}  // namespace equus::pool
