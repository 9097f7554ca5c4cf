// Per-incarnation kernel data (the pincdata of Section 8.2.2): references, ports, reply handles, events.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "models/kernel/messages.hpp"
#include "models/kernel/migration_lock.hpp"
#include "models/kernel/rdc.hpp"
#include "models/kernel/software_interrupts.hpp"
#include "models/kernel/transmit_gate.hpp"

namespace equus::kernel {

class Kernel;
struct KernelPort;
class SystemIncarnation;
class Ghost;
class Equus;
class Process;

struct StreamRef {
  GlobalId gid = 0;  // the stream itself (selectors name it)
  GlobalId channel = 0;
  ChanType type = ChanType::Unicast;
  KernelPortAddr dest{};  // cached destination kernel port (unicast), learnt from acks and replies
  int buffer_limit = 0;   // inc_asinvoke blocks when this many are outstanding (0 = no limit)
  std::deque<uint64_t> outstanding{};  // asinvoke ids not yet completed, oldest first
  uint64_t next_seq = 0;
  bool frozen = false;   // inc_freezeStream: senders block before sending
  uint32_t binding = 0;  // rebindings so far: messages carry it (see KernelPort::rebound)
};

/// An incarnation port (Section 8.5.1): a main kernel port holding the message queue, and one proxy
/// kernel port per attached channel, which is what senders address and the database names.
struct PortRef {
  KernelPort* kport = nullptr;
  std::vector<KernelPort*> proxies;
  /// The first attached channel (0 when unattached) and its type.
  GlobalId channel() const;
  ChanType type() const;
  KernelPort* proxy(GlobalId chan) const;
};

struct PortHandleRef {           // names another incarnation's port (inc_attachPort, inc_rebindStream)
  int port = 0;                  // its identifier at the owner
  KernelPortAddr owner_ghost{};  // the owner's ghost
};

struct AlienBufRef {  // buffer handle on another incarnation's buffer
  GlobalId owner = 0;
  KernelPortAddr owner_ghost{};
  Buf region{};
  bool writable = false;
};

struct IncRef {  // incarnation handle
  GlobalId inc = 0;
  KernelPortAddr ghost{};
  int node = -1;
  uint32_t rights = INC_RIGHTS_ALL;
};

struct StreamHandleRef {  // names a stream, e.g. as an inc_receive selector
  GlobalId stream = 0;
  KernelPortAddr owner_ghost{};       // the ghost of the incarnation holding the stream
  ChanType type = ChanType::Unicast;  // its channel's: only unicast streams can be rebound (6.2.3)
};

using Reference = std::variant<StreamRef, PortRef, AlienBufRef, IncRef, StreamHandleRef, PortHandleRef>;

/// The reference type a reference is named by in reference descriptors.
constexpr RefType type_of(const StreamRef&) { return RefType::Stream; }
constexpr RefType type_of(const PortRef&) { return RefType::Port; }
constexpr RefType type_of(const AlienBufRef&) { return RefType::AlienBuffer; }
constexpr RefType type_of(const IncRef&) { return RefType::Incarnation; }
constexpr RefType type_of(const StreamHandleRef&) { return RefType::StreamHandle; }
constexpr RefType type_of(const PortHandleRef&) { return RefType::PortHandle; }
inline RefType type_of(const Reference& r) {
  return std::visit([](const auto& x) { return type_of(x); }, r);
}

struct ReplyHandle {
  int src_node = -1;
  uint64_t xid = 0;
  std::shared_ptr<Invocation> inv;
  KernelPortAddr port;  // where the invocation was received: the reply tells the invoker (8.4.3)
};

/// The default streams of an incarnation (Section 3.3): reference identifiers, 0 when absent.
struct DefaultStreams {
  int name_service = 0;
  int pool_manager = 0;
  int stream_space = 0;
  int std_port = 0;  // the port a creator's stream leads to
};

class Incarnation {
 public:
  Incarnation(Kernel& kernel, GlobalId gid, std::string name)
      : kernel_(&kernel), gid_(gid), name_(std::move(name)) {}

  Kernel& kernel() const { return *kernel_; }
  void set_kernel(Kernel& k) { kernel_ = &k; }  // migration
  GlobalId gid() const { return gid_; }
  const std::string& name() const { return name_; }

  int add_ref(Reference r) {
    int id = next_ref_++;
    refs_.emplace(id, std::move(r));
    return id;
  }
  /// A reference at a given identifier (forking keeps the forker's identifiers).
  void set_ref(int id, Reference r) {
    refs_[id] = std::move(r);
    next_ref_ = std::max(next_ref_, id + 1);
  }
  template <class T>
  T* ref(int id) {
    auto it = refs_.find(id);
    return it == refs_.end() ? nullptr : std::get_if<T>(&it->second);
  }
  bool has_ref(int id) const { return refs_.count(id) != 0; }
  void erase_ref(int id) { refs_.erase(id); }
  std::map<int, Reference>& refs() { return refs_; }
  const std::map<int, Reference>& refs() const { return refs_; }

  int add_reply_handle(ReplyHandle h) {
    int id = next_handle_++;
    handles_.emplace(id, std::move(h));
    return id;
  }
  std::map<int, ReplyHandle>& reply_handles() { return handles_; }

  std::deque<EvDesc>& events() { return events_; }

  // Its processes and ghost port (Section 8.2.2), set by the kernel that hosts it.
  SystemIncarnation* system() const { return system_; }
  Ghost* ghost() const { return ghost_; }
  KernelPort* ghost_port() const { return ghost_port_; }

  // Hosting (Chapter 3): the RDC and module it belongs to (none for incarnations set up directly by a
  // test or experiment), and its state.
  const RdcPtr& rdc() const { return rdc_; }
  int module() const { return module_; }
  /// Makes it an incarnation of module `module` of `rdc`.
  void join(RdcPtr rdc, int module) {
    rdc_ = std::move(rdc);
    module_ = module;
  }
  IncState state() const { return state_; }
  void set_state(IncState s) { state_ = s; }

  /// Kernel message buffers in use by messages queued at its ports (small or large): takes one if fewer
  /// than `limit` are in use.
  bool take_buffer(bool large, int limit) {
    int& in_use = large ? large_in_use_ : small_in_use_;
    if (in_use >= limit) return false;
    ++in_use;
    return true;
  }
  /// Takes one whatever the limit (a forwarded message must not be lost).
  void force_buffer(bool large) { ++(large ? large_in_use_ : small_in_use_); }
  void release_buffer(bool large) { --(large ? large_in_use_ : small_in_use_); }

  /// A number for its next inc_asinvoke, unique for the incarnation wherever it runs (a node's
  /// transaction numbers are not: a migrated incarnation would list one id twice on a stream).
  uint64_t new_asinvoke_id() { return ++asinvoke_ids_; }

  /// Default streams every incarnation gets (Section 3.3); 0 when absent.
  const DefaultStreams& defaults() const { return defaults_; }
  void set_defaults(DefaultStreams d) { defaults_ = std::move(d); }
  /// The run-time's cache of references got from stream space (5.5.3).
  std::map<std::string, int>& ss_cache() { return ss_cache_; }
  const std::map<std::string, int>& ss_cache() const { return ss_cache_; }
  /// Exchanges the stream-space stream and its cache with `stream` and `cache` (a program serving
  /// several RDCs uses each one's stream space in turn).
  void swap_stream_space(int& stream, std::map<std::string, int>& cache) {
    std::swap(defaults_.stream_space, stream);
    std::swap(ss_cache_, cache);
  }

  double memory = 0;  // bytes charged at its node
  double heap = 0;    // current heap segment (inc_brk)
  std::shared_ptr<IncParams> params;
  struct Parent {
    KernelPortAddr ghost;
    int type = DEP_ABSOLUTE;
  };
  std::vector<Parent> parents;             // dependency (Section 7.3): probed by the ghost
  std::vector<KernelPortAddr> interested;  // ghosts to notify of this incarnation's death
  std::set<int> no_propagate;              // references received with a no-propagation domain
  SoftwareInterrupts interrupts;
  std::multimap<GlobalId, KernelPortAddr> stream_watchers;  // our stream -> ghosts to tell of its closure
  // Ports given away in a message but not yet taken over by their recipient (port propagation
  // without retention): their queue is forwarded when the recipient activates the propagation.
  std::map<int, PortRef> propagating;
  // Migration (Section 7.4): in progress, what it waits for, operations deferred until it is over.
  MigrationLock migration;
  TransmitGate transmit;  // a rebinding of the stream being transmitted waits for its packet

 private:
  friend class Hosting;  // sets the processes and the ghost port
  Kernel* kernel_;
  GlobalId gid_;
  std::string name_;
  std::map<int, Reference> refs_;
  int next_ref_ = 1;
  int next_handle_ = 2;  // inc_receive returns 0, 1 or a handle > 1
  std::map<int, ReplyHandle> handles_;
  std::deque<EvDesc> events_;
  SystemIncarnation* system_ = nullptr;
  Ghost* ghost_ = nullptr;
  KernelPort* ghost_port_ = nullptr;
  RdcPtr rdc_;
  int module_ = -1;
  IncState state_ = IncState::Started;
  int small_in_use_ = 0;
  int large_in_use_ = 0;
  DefaultStreams defaults_;
  std::map<std::string, int> ss_cache_;
  uint64_t asinvoke_ids_ = 0;
};

}  // namespace equus::kernel
