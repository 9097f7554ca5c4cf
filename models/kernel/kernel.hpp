// One node's kernel nucleus (Chapter 8): kernel ports, the global-identifier database, the three
// delivery services of Section 8.4.1 and the delivery of arriving packets. Its processes (packet
// interrupt, communications manager, time daemon, loader, ghosts, system incarnations) are actors.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>
#include <vector>

#include "models/kernel/forwarding.hpp"
#include "models/kernel/hosting.hpp"
#include "models/kernel/incarnation.hpp"
#include "models/kernel/invariant_checker.hpp"
#include "models/kernel/kernel_port.hpp"
#include "models/kernel/messages.hpp"
#include "models/kernel/model_params.hpp"
#include "models/kernel/node_memory.hpp"
#include "models/kernel/observer.hpp"
#include "models/kernel/port_table.hpp"
#include "models/kernel/process.hpp"
#include "models/kernel/reply_cache.hpp"
#include "models/kernel/transport.hpp"
#include "models/m68030/cpu.hpp"
#include "models/platform/interconnect.hpp"

namespace equus::kernel {

class Network;
class CommManager;
class PacketInterrupt;
class TimeDaemon;
class Loader;
class FileService;
class Ghost;
class SystemIncarnation;
class Migrator;

/// Counters a run reports.
struct KernelStats {
  long packets_in = 0;
  long packets_dropped_no_port = 0;
  long packets_dropped_no_buffer = 0;
  long packets_lost = 0;
  long retries = 0;
  long duplicates = 0;
  long forwarded = 0;             // acknowledged messages forwarded by reconfigurations (Table A.5)
  long forwarded_pending = 0;     // pending (unacknowledged) messages forwarded
  long redirected = 0;            // arrivals re-routed by a redirection entry
  long packets_dropped_down = 0;  // packets posted to this node after it failed
  long packets_dropped_stale = 0;  // retries of transactions older than the reply cache remembers
  long calls = 0;                 // system calls incarnations completed here (progress: deadlock detection)
};

class Kernel {
 public:
  Kernel(Network& net, int node, simgrid::s4u::Host* host, const params::ModelParams& params);
  ~Kernel();

  int node() const { return node_; }
  simgrid::s4u::Host* host() const { return cpu_.host(); }
  m68030::Cpu& cpu() { return cpu_; }
  const params::ModelParams& params() const { return params_; }
  Network& network() { return net_; }
  KernelStats& stats() { return stats_; }

  /// The card fails: from now on its kernel takes no packet and sends none, so what it held (queues,
  /// database entries, redirection entries) is unreachable; senders find the channels elsewhere by
  /// locating them by broadcast (Sections 6.2.4 and 8.4.3: re-routing information held at an
  /// unreachable destination is lost with it).
  void fail() { down_ = true; }

  /// Starts the node's permanent processes (packet interrupt, comm manager, time daemon, loader; the
  /// file service on the UNIX host); `phase` in [0,1) offsets the time daemon within its period.
  void boot(double phase);

  // ---- incarnation ports (Section 8.5.1)
  /// A new port of `inc` attached to `chan` (0: unattached), with its database entry.
  PortRef open_port(Incarnation& inc, GlobalId chan, ChanType type);
  /// Attaches `port` to `chan` with a new proxy; enters the database entry when `enter`.
  KernelPort& attach(PortRef& port, GlobalId chan, ChanType type, bool enter = true);
  /// Unmakes an attachment: its database entry and proxy go; arrivals for the proxy then follow a
  /// redirection entry to `to` when valid.
  void detach(PortRef& port, KernelPort* proxy, KernelPortAddr to);
  /// Closes a port: its queue is discarded with its attachments.
  void close_port(Incarnation& inc, PortRef& port);
  /// The forwarding of queued messages by reconfigurations (Section 8.5.1).
  Forwarding& forwarding() { return forwarding_; }
  // ---- kernel ports
  /// The node's kernel ports, global-identifier database and redirection entries.
  PortTable& ports() { return ports_; }
  const PortTable& ports() const { return ports_; }
  KernelPortAddr address_of(const KernelPort& p) const { return {node_, p.index}; }

  /// The sending half: delivery services, transactions, replies and bulk copies (Section 8.4.1).
  Transport& transport() { return transport_; }
  /// The incarnations hosted here, their start, end and migration away.
  Hosting& hosting() { return hosting_; }
  const Hosting& hosting() const { return hosting_; }
  bool is_down() const { return down_; }

  // ---- arrival
  /// A packet posted by `src` for this node: queued for the interrupt handler.
  void post_packet(KernelMessage& m);
  /// True when `m` addresses a kernel port of this node (directly or through the database).
  bool has_target(const KernelMessage& m) const;
  /// True when `m` wakes a receiver waiting with a timeout, whose timer the handler cancels.
  bool cancels_timer(const KernelMessage& m) const;
  /// Interrupt-level handling of one pulled packet (called by PacketInterrupt).
  void deliver(KernelMessage& m);

  /// The invocation queued at `kp` that a receive with `selector` may take; nullptr if none.
  static std::deque<QueuedMessage>::iterator find_message(KernelPort& kp, GlobalId selector);
  /// Releases the message buffer a dequeued message held.
  void release_buffer(Incarnation& inc, const QueuedMessage& q);

  /// The at-most-once record of what this node received, with the replies (Section 8.4.1).
  ReplyCache& replies() { return replies_; }

  /// Queues a response for the communications manager (interrupt handlers cannot send).
  void hand_to_comm_manager(KernelMessage m);

  /// The node's access list and memory.
  NodeMemory& memory() { return memory_; }
  const NodeMemory& memory() const { return memory_; }
  /// Every invocation queued, pending or being forwarded here (the invariant checker's end of run).
  void for_each_queued(const std::function<void(const Invocation&)>& f) const;

 private:
  /// Re-routes an arrival for a deleted kernel port along its redirection entry; false if none.
  bool follow_redirection(KernelMessage& m, uint32_t index);
  bool drop_duplicate(KernelMessage& m);
  /// A message sent before its stream was rebound away from its one target port, arriving after:
  /// follows the stream (true), or is delivered as over the new channel if that is of the same port.
  bool follow_rebinding(KernelMessage& m, std::vector<KernelPort*>& targets);
  /// Queues an invocation message at its target ports (pending at moving ones) and acknowledges it.
  /// `key` is the transmission it is known by: `m`, or `orig` for a forwarded message.
  void queue_invocation(KernelMessage& m, const std::vector<KernelPort*>& targets, const KernelMessage& key,
                        const KernelMessage& orig);
  static KernelMessage make_ack(const KernelMessage& m, KernelPortAddr resolved);
  /// Acknowledges an asynchronous message, carrying the final destination address.
  void acknowledge(const KernelMessage& m, KernelPortAddr resolved);

  Network& net_;
  int node_;
  bool down_ = false;
  m68030::Cpu cpu_;
  const params::ModelParams& params_;
  KernelStats stats_;
  PortTable ports_;
  ReplyCache replies_;
  Transport transport_{*this};
  Forwarding forwarding_{*this};
  std::unique_ptr<PacketInterrupt> interrupt_;
  std::unique_ptr<CommManager> comm_manager_;
  std::unique_ptr<TimeDaemon> time_daemon_;
  std::unique_ptr<Loader> loader_;
  std::unique_ptr<FileService> file_service_;  // the UNIX host only
  Hosting hosting_{*this};
  NodeMemory memory_;
  friend class PacketInterrupt;
  friend class CommManager;
};

/// The kernels of the pool, reachable from each other over the bus.
class InvariantChecker;

class Network {
 public:
  Network(const params::ModelParams& params, platform::Interconnect& interconnect, uint64_t seed)
      : params_(params), interconnect_(interconnect), rng_(seed) {}
  /// Pool kernels first, then the UNIX host's (which runs no incarnations of RDCs and gets no broadcasts).
  void add(Kernel* k) { kernels_.push_back(k); }
  void set_pool_size(int n) { pool_size_ = n; }
  Kernel& kernel(int node) { return *kernels_.at(node); }
  int size() const { return static_cast<int>(kernels_.size()); }
  int pool_size() const { return pool_size_ < 0 ? size() : pool_size_; }
  /// Whether a node number from a call names a pool node (a negative one, cast, never does: it would be
  /// the broadcast address).
  bool is_pool_node(unsigned node) const { return node < static_cast<unsigned>(pool_size()); }
  int host_node() const { return pool_size(); }
  Observer* observer() const { return observer_; }
  void set_observer(Observer* o) { observer_ = o; }
  /// What packets and bulk copies travel over (the VME bus on the calibrated platform).
  platform::Interconnect& interconnect() const { return interconnect_; }
  const params::ModelParams& params() const { return params_; }
  /// True when a packet should be lost (packet_loss_probability), from the run's seeded generator.
  bool lose_packet();
  GlobalId new_gid() { return next_gid_++; }
  InvariantChecker* checker() const { return checker_; }
  void set_checker(InvariantChecker* c) { checker_ = c; }
  /// Fault injection for the checker's own test: reconfigurations drop the messages they should
  /// forward.
  bool skip_forwarding = false;

 private:
  const params::ModelParams& params_;
  platform::Interconnect& interconnect_;
  std::vector<Kernel*> kernels_;
  std::mt19937_64 rng_;
  GlobalId next_gid_ = 0x1000;
  int pool_size_ = -1;
  Observer* observer_ = nullptr;
  InvariantChecker* checker_ = nullptr;
};

}  // namespace equus::kernel
