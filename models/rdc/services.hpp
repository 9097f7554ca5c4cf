// The Equus services that are incarnations like any other (Sections 3.3, 5.4, 5.5): the name service,
// the per-RDC stream space and a minimal pool manager. They speak a small invocation protocol: word 0
// of the header is the operation, labels travel as extra data, references in the reference descriptor.
#pragma once

#include <cstdint>
#include <vector>

#include "models/kernel/rdc.hpp"
#include "models/platform/pool_files.hpp"

namespace equus::rdc {

enum ServiceOp : uint32_t {
  SS_PUT = 1,
  SS_GET = 2,
  SS_RETURN = 3,
  SS_DELETE = 4,
  SS_PRINT = 5,
  NS_REGISTER = 11,
  NS_LOOKUP = 12,
  PM_ALLOC = 21,
  PM_RELEASE = 22,
};

/// ss_put copy limits (Appendix B.3).
constexpr int32_t SS_UNLIMITED = 0;
constexpr int32_t SS_DONTCACHE = -1;

/// Status words in service replies (header word 0).
enum ServiceStatus : uint32_t { SVC_OK = 0, SVC_UNKNOWN = 1, SVC_REFUSED = 2 };

kernel::Program stream_space_program();
kernel::Program name_service_program();
/// Allocates free nodes of the requested groups to RDCs (inc_nodeAlloc); `nodes` gives the groups.
kernel::Program pool_manager_program(std::vector<platform::NodeDescriptor> nodes);

}  // namespace equus::rdc
