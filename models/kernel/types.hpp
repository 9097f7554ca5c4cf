// Identifiers, addresses and the user-level message structures of Appendix B.1.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <variant>

#include "models/support/overloaded.hpp"

namespace equus::kernel {

using GlobalId = uint64_t;  // globally unique bit string (channels, incarnations, loaders)

/// A kernel port identifier: decodes to a node and the port within it.
struct KernelPortAddr {
  int node = -1;
  uint32_t index = 0;
  bool valid() const { return node >= 0; }
  bool operator==(const KernelPortAddr& o) const { return node == o.node && index == o.index; }
};

/// Qualifies a global identifier in the per-node database (Section 8.4.2).
enum class DeliveryType : uint8_t { Channel, Ghost, NodeService };

/// A logical address: a node (or broadcast), a global identifier and its type.
struct LogicalAddr {
  static constexpr int broadcast = -1;
  int node = broadcast;
  GlobalId gid = 0;
  DeliveryType type = DeliveryType::Channel;
};

using Address = std::variant<KernelPortAddr, LogicalAddr>;

enum class ChanType : uint8_t { Unicast, Multicast };

/// Buffer handle target (Appendix B.1 Buf).
struct Buf {
  std::byte* bf_base = nullptr;
  uint32_t bf_cnt = 0;
};

/// Reference types carried in a reference descriptor.
enum class RefType : uint8_t {
  None,
  Incarnation,
  Stream,
  Port,
  StreamHandle,
  PortHandle,
  Buffer,
  AlienBuffer
};

/// Reference descriptor (Appendix B.1): the reference to propagate and how.
struct RefDescrip {
  RefType rd_type = RefType::None;
  int rd_obj = 0;         // local identifier of the reference
  bool rd_keep = true;    // keep the reference on propagation (false: destroy it)
  uint8_t rd_domain = 0;  // propagation restriction
  uint32_t rd_flags = 0;  // type-specific (e.g. RD_WRITABLE for a buffer)
  Buf rd_buf{};           // the local buffer when rd_type is Buffer (Objectid's oi_buf)
};

constexpr uint32_t RD_WRITABLE = 1;  // rd_flags: the propagated buffer handle may be written
/// rd_flags of a retained (rd_keep) unicast port: messages keep queuing at it until the propagated
/// copy is received, instead of being made pending meanwhile (Section 6.2.4).
constexpr uint32_t RD_KEEP_QUEUING = 2;
/// "No port" argument of inc_rebindStream and inc_attachPort.
constexpr int NO_PORT = 0;

/// Control rights of an incarnation handle (rd_flags when propagating one: the copy keeps only the
/// rights given, and never more than the original's).
constexpr uint32_t INC_RIGHT_STATUS = 1;
constexpr uint32_t INC_RIGHT_FREEZE = 2;  // inc_freeze / inc_unfreeze / inc_start
constexpr uint32_t INC_RIGHT_DESTROY = 4;
constexpr uint32_t INC_RIGHT_DEPEND = 8;  // inc_makeDependent / inc_setInterest
constexpr uint32_t INC_RIGHTS_ALL = 15;

/// User message (Appendix B.1): a 32-byte header, optional extra data and optional reference.
struct Msg {
  std::array<std::byte, 32> m_head{};
  RefDescrip m_ref;
  uint32_t m_cnt = 0;           // bytes of extra data sent
  uint32_t m_nreply = 0;        // bytes of extra data in a reply
  std::byte* m_base = nullptr;  // extra data buffer (m_cnt bytes to send, room for the reply)

  template <class T>
  void put(std::size_t offset, const T& v) {
    static_assert(sizeof(T) <= 32);
    std::memcpy(m_head.data() + offset, &v, sizeof(T));
  }
  template <class T>
  T get(std::size_t offset) const {
    T v;
    std::memcpy(&v, m_head.data() + offset, sizeof(T));
    return v;
  }
};

/// Return codes of the Equus calls (negative values are errors).
enum Status : int {
  E_OK = 0,
  E_BADREF = -1,   // no such reference, or the wrong type
  E_TIMEOUT = -2,  // no reply or acknowledgement despite retries
  E_TOOBIG = -3,   // extra data over the primitive's limit
  E_NOTUNICAST = -4,
  E_RANGE = -5,  // buffer-handle offset or count out of range, or read-only
  E_INVAL = -6,
  E_DENIED = -7,  // the RDC may not use that node, or the caller is not a system RDC
  E_NOMEM = -8,   // not enough memory at the node
  E_RIGHTS = -9,  // the reference lacks the right for this operation
};

/// Event types delivered by inc_eventWait (the subset needed by communications).
/// EV_INC_MIGRATEDONE and EV_INC_MADE carry the elapsed time in microseconds in ed_info2 (7.2.3).
enum class EvType : uint32_t { AsinvokeDone = 1, IncDead = 2, StreamClosed = 3, MigrateDone = 4, Made = 5 };
/// Every event type with its name in the op language (docs/scenarios.md): add a type to both.
struct EvTypeName {
  EvType type;
  const char* name;
};
inline constexpr EvTypeName ev_type_names[] = {{EvType::AsinvokeDone, "asinvoke_done"},
                                               {EvType::IncDead, "inc_dead"},
                                               {EvType::StreamClosed, "stream_closed"},
                                               {EvType::MigrateDone, "migrate_done"},
                                               {EvType::Made, "inc_made"}};

/// inc_makeDependent types (Section 7.3).
enum DepType : int { DEP_NONE = 0, DEP_ABSOLUTE = 1, DEP_GROUP = 2 };

/// inc_testReference result when there is no such reference.
constexpr int RT_NONE = 0;

/// Event descriptor (Appendix B.1 EvDesc).
struct EvDesc {
  uint32_t ed_reference = 0;
  EvType ed_evtype = EvType::AsinvokeDone;
  uint32_t ed_info1 = 0;
  uint32_t ed_info2 = 0;
};

/// Times returned by inc_time (Appendix B.1 TimeBuf), in milliseconds at the clock's resolution.
struct TimeBuf {
  uint32_t tb_sys = 0;
  uint32_t tb_user = 0;
  uint32_t tb_elapsed = 0;
};

}  // namespace equus::kernel
