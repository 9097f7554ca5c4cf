// Kernel messages (Section 8.4.1): a delivery header, a fixed header whose function the body gives,
// and optional extra data carried in the packet.
#pragma once

#include <map>
#include <memory>
#include <variant>
#include <vector>

#include "models/kernel/rdc.hpp"
#include "models/kernel/types.hpp"

namespace equus::kernel {

class Incarnation;

enum class Service : uint8_t { Request, Reply, Async, Ack, Datagram };

enum class InvokeKind : uint8_t { Invoke, Asinvoke, Send, Dgram };

/// A reference travelling in an invocation message, packed by the sender's kernel.
struct PackedRef {
  RefType type = RefType::None;
  GlobalId channel = 0;  // streams and ports: the channel
  ChanType chan_type = ChanType::Unicast;
  KernelPortAddr dest{};         // streams: the cached destination kernel port
  GlobalId owner = 0;            // buffers: the owning incarnation
  KernelPortAddr owner_ghost{};  // buffers: its ghost port
  Buf buf{};                     // buffers: the region in the owner's address space
  bool writable = false;
  uint8_t domain = 0;   // propagation restriction: non-zero, the recipient may not propagate it further
  int node = -1;        // incarnation handles: where the incarnation is
  uint32_t rights = 0;  // incarnation handles: control rights
  // Ports (propagated: owner_ghost is the propagator's ghost) and port handles (the owner's): the
  // port's identifier at its owner and its attachments.
  int port = 0;
  std::vector<std::pair<GlobalId, ChanType>> channels{};
  bool retained = true;  // the propagator keeps its port and queue (rd_keep)
};

/// An invocation message in flight or queued at a port.
struct Invocation {
  InvokeKind kind = InvokeKind::Invoke;
  std::array<std::byte, 32> head{};
  uint32_t extra_bytes = 0;
  std::vector<std::byte> inline_data;      // inc_send / inc_dgram: copied out at call time
  const std::byte* sender_data = nullptr;  // inc_invoke / inc_asinvoke: stays in the sender's space
  GlobalId stream = 0;                     // the source stream (for selectors)
  uint64_t stream_seq = 0;                 // per-stream send order (checked by receivers)
  int sender_node = -1;
  KernelPortAddr sender_ghost;  // where to fetch asinvoke data and send its completion
  uint64_t asinvoke_id = 0;
  PackedRef ref;
  bool forwarded = false;             // inc_forward: the replier is not the stream's receiver
  std::byte* reply_buffer = nullptr;  // inc_invoke: the invoker's buffer, overwritten by a reply
  uint32_t reply_room = 0;
  uint64_t reconfig = 0;   // the last reconfiguration that forwarded it (invariant reports)
  bool multicast = false;  // sent over a multicast channel: delivery is not guaranteed
};

struct InvocationBody {
  std::shared_ptr<Invocation> inv;
};

/// Reply to an inc_invoke (or the kernel's implicit unblocking reply).
struct ReplyBody {
  bool explicit_reply = false;
  std::array<std::byte, 32> head{};
  uint32_t extra_bytes = 0;
  PackedRef ref;
};

/// Acknowledgement of an asynchronous kernel message; carries the final destination address.
struct AckBody {};

/// Requests handled by a ghost (Section 8.2.1).
struct GhostFetch {  // receiver's kernel asks the sender's ghost for asinvoke extra data
  std::shared_ptr<Invocation> inv;
  std::byte* into = nullptr;
  uint32_t bytes = 0;
  int to_node = -1;
};
struct GhostCopy {        // inc_copyto / inc_copyfrom on a buffer this ghost's incarnation owns
  bool to_owner = false;  // copyto: data flows into the owner's buffer
  Buf target;             // the owner's region (already offset)
  std::byte* local = nullptr;
  uint32_t bytes = 0;
  int caller_node = -1;
};
/// Changing the receiver (Chapter 6, Section 8.5), operations on a ghost.
struct PropActivate {  // the recipient of a propagated port asks the propagator to hand it over
  int port = 0;
  std::vector<std::pair<GlobalId, KernelPortAddr>> to;  // channel -> the recipient's proxy kernel port
};
struct AttachPort {  // inc_attachPort at the new port's owner
  int port = 0;
  GlobalId channel = 0;
  ChanType type = ChanType::Unicast;
  KernelPortAddr detach_ghost;  // the old port's owner (invalid: no port to detach)
  int detach_port = 0;
  bool move_q = true;
};
struct DetachPort {  // at the old port's owner: forward what arrived over `channel`, then detach
  int port = 0;
  GlobalId channel = 0;
  KernelPortAddr to;
  bool move_q = true;
};
struct RebindAtReceiver {  // Figure 8.6, at the current receiver
  int port = 0;
  GlobalId stream = 0;
  KernelPortAddr stream_ghost;
  GlobalId channel = 0;
  KernelPortAddr to;
};
struct RebindStream {  // at the stream's holder: its new channel and destination
  GlobalId stream = 0;
  GlobalId channel = 0;
  KernelPortAddr to;
};
struct FreezeStream {
  GlobalId stream = 0;
  bool freeze = true;
};
struct GhostCompletion {  // an asinvoke of the ghost's incarnation has been received
  GlobalId stream = 0;
  uint64_t asinvoke_id = 0;
};

/// A request to a loader to host an incarnation (Section 8.3).
struct HostRequest {
  RdcPtr rdc;
  int module = 0;
  std::string name;
  bool inchoate = false;
  std::shared_ptr<IncParams> params;
  KernelPortAddr image_ghost;  // valid: copy text and data from this INCHOATE incarnation's node
  // The creator's ghost, told of EV_INC_MADE with the time since its call (simulated seconds then).
  KernelPortAddr creator_ghost;
  double called_at = 0;
  // inc_fork: the forker (its pincdata, i.e. its references, is copied with its heap and stack), the
  // program the child continues with, and the forker's ports to attach in the child.
  Incarnation* fork_of = nullptr;
  Program program;
  std::vector<int> fork_ports;
};
struct LoaderAccess {  // inc_nodeAlloc / inc_nodeWithdraw
  GlobalId rdc = 0;
  bool allow = true;
  bool kill = false;
};
struct LoaderStatus {};
struct FileFetch {  // to the file service of the launch program on the UNIX host
  double bytes = 0;
  int to_node = -1;
};
struct GhostImage {  // copy an INCHOATE incarnation's text and data to a new incarnation's node
  double bytes = 0;
  int to_node = -1;
};
/// Control operations on an incarnation, at its ghost (Section 7.2): one type per operation.
namespace control {
struct Status {};
struct Destroy {};
struct Freeze {};
struct Unfreeze {};
struct Start {
  std::shared_ptr<IncParams> params;
};
struct Depend {           // inc_makeDependent
  KernelPortAddr parent;  // the parent's ghost
  int type = DEP_NONE;    // DepType
};
struct Interest {        // inc_setInterest
  KernelPortAddr party;  // the interested ghost
  bool set = true;
};
struct WatchStream {  // tell `watcher` when the stream closes
  GlobalId stream = 0;
  KernelPortAddr watcher;
};
struct Notify {  // an event about another incarnation; nobody waits for an answer
  GlobalId about = 0;
  EvType type = EvType::IncDead;
  uint32_t info = 0;  // ed_info2 (microseconds a migration or creation took)
};
}  // namespace control
using ControlOp =
    std::variant<control::Status, control::Destroy, control::Freeze, control::Unfreeze, control::Start,
                 control::Depend, control::Interest, control::WatchStream, control::Notify>;
struct GhostControl {
  ControlOp op;
};
/// Answer of a loader, file service or control operation.
struct ControlReply {
  int status = E_OK;
  GlobalId inc = 0;
  KernelPortAddr ghost{};
  GlobalId std_channel = 0;  // the new incarnation's standard port
  KernelPortAddr std_port{};
  IncState state = IncState::Started;
  int node = -1;
  double memory = 0;
  int queued = 0;
  int incarnations = 0;
  std::map<int, std::pair<GlobalId, KernelPortAddr>> fork_channels{};  // listed unicast port -> new channel
  uint32_t binding = 0;  // RebindStream: the stream's new StreamRef::binding
};

/// inc_migrate (Section 7.4.4): the manager's request to the source ghost, and the source's nested
/// request to the destination's loader, which commits memory (M1) and then migrates the incarnation.
struct MigrateRequest {
  int node = -1;
  KernelPortAddr manager_ghost;  // told of EV_INC_MIGRATEDONE
};
struct MigrateHost {
  Incarnation* inc = nullptr;  // the incarnation's kernel data, taken over at the destination
  RdcPtr rdc;
  double memory = 0;             // bytes to commit
  double text = 0;               // bytes of text (0 when already present at the destination)
  KernelPortAddr manager_ghost;  // told of EV_INC_MIGRATEDONE
};

using Body = std::variant<InvocationBody, ReplyBody, AckBody, GhostFetch, GhostCopy, GhostCompletion,
                          HostRequest, LoaderAccess, LoaderStatus, FileFetch, GhostImage, GhostControl,
                          ControlReply, PropActivate, AttachPort, DetachPort, RebindAtReceiver, RebindStream,
                          FreezeStream, MigrateRequest, MigrateHost>;

struct KernelMessage {
  Service service = Service::Datagram;
  uint64_t xid = 0;     // transaction id, unique per sending node
  int src_node = -1;    // the card that transmitted this copy (packets are pulled from it)
  int reply_node = -1;  // where replies go when not src_node (a forwarded invocation)
  Address dest;
  KernelPortAddr resolved;  // in replies and acks: the final destination the sender should now use
  uint32_t inline_bytes = 0;
  double sent_at = 0;  // when this copy was posted (traces)
  double began = 0;    // when its transaction was first transmitted (retries keep it): staleness
  // A stream's channel: when the cached kernel port address gets no answer, the retries locate the
  // channel by broadcast (Section 8.4.3).
  GlobalId locate = 0;
  // The sending stream: its retries follow a rebinding made meanwhile (Section 6.2.3, failure case).
  Incarnation* stream_holder = nullptr;
  GlobalId stream = 0;
  uint32_t binding = 0;  // the stream's StreamRef::binding when sent (or re-routed)
  // A forwarded invocation (Section 8.5): the original transmission, whose sender is acknowledged by
  // the new destination when the message was pending (never acknowledged) at the old one.
  int orig_node = -1;
  uint64_t orig_xid = 0;
  Service orig_service = Service::Datagram;
  bool ack_origin = false;
  Body body;

  int origin() const { return reply_node >= 0 ? reply_node : src_node; }
};

}  // namespace equus::kernel
