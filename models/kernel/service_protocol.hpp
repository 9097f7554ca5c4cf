// The wire format between the Equus library calls (ss_*, ns_*, inc_rdcExit, the launch program) and the
// system RDC's servers (stream space, name service, pool manager). It lives in the kernel layer because
// the library calls of Appendix B are made here; the servers in models/services and models/pool are
// above it and include it. Word 0 of a request's header is the operation, labels travel as extra data,
// references in the reference descriptor; word 0 of a reply is its status.
#pragma once

#include <cstdint>

#include "models/kernel/types.hpp"

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
  AGENT_PLACE = 31,  // the pool manager asks a node's agent to decide a placement (distributed policies)
  AGENT_PROBE = 32,  // an agent asks another for its load
};

/// ss_put copy limits (Appendix B.3).
constexpr int32_t SS_UNLIMITED = 0;
constexpr int32_t SS_DONTCACHE = -1;

/// Status words in service replies (header word 0).
enum ServiceStatus : uint32_t { SVC_OK = 0, SVC_UNKNOWN = 1, SVC_REFUSED = 2 };

/// A request's header: the operation (word 0), its count (word 1: ss_put's copy limit, the nodes
/// PM_ALLOC asks for) and the RDC it concerns (words 2-3, pool manager operations). The label travels
/// as extra data and a reference in the reference descriptor; neither is part of the header.
struct ServiceRequest {
  ServiceOp op = SS_PRINT;
  int32_t count = 0;
  GlobalId rdc = 0;
  int32_t arg = -1;  // word 4: the home node of a placement (PM_ALLOC, AGENT_PLACE), -1 if none

  void encode(Msg& m) const {
    m.put<uint32_t>(op_offset, op);
    m.put<int32_t>(count_offset, count);
    m.put<uint64_t>(rdc_offset, rdc);
    m.put<int32_t>(arg_offset, arg);
  }
  static ServiceRequest decode(const Msg& m) {
    return {static_cast<ServiceOp>(m.get<uint32_t>(op_offset)), m.get<int32_t>(count_offset),
            m.get<uint64_t>(rdc_offset), m.get<int32_t>(arg_offset)};
  }

  static constexpr std::size_t op_offset = 0, count_offset = 4, rdc_offset = 8, arg_offset = 16;
};

/// A reply's header: the status (word 0) and its count (word 1: the copy limit ss_get found, the nodes
/// PM_ALLOC allocated, whose numbers follow as 32-bit words of extra data).
struct ServiceReply {
  ServiceStatus status = SVC_OK;
  int32_t count = 0;

  void encode(Msg& m) const {
    m.put<uint32_t>(status_offset, status);
    m.put<int32_t>(count_offset, count);
  }
  static ServiceReply decode(const Msg& m) {
    return {static_cast<ServiceStatus>(m.get<uint32_t>(status_offset)), m.get<int32_t>(count_offset)};
  }

  static constexpr std::size_t status_offset = 0, count_offset = 4;
};

}  // namespace equus::kernel
