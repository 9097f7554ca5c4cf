// The wire format between the Equus library calls (ss_*, ns_*, inc_rdcExit, the launch program) and the
// system RDC's servers (stream space, name service, pool manager). It lives in the kernel layer because
// the library calls of Appendix B are made here; the servers in models/services and models/pool are
// above it and include it. Word 0 of a request's header is the operation, labels travel as extra data,
// references in the reference descriptor; word 0 of a reply is its status.
#pragma once

#include <cstdint>

namespace equus::kernel {

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

}  // namespace equus::kernel
