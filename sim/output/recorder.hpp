// Stores everything a run reports through kernel::Observer, for results, traces and graphs.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "models/kernel/observer.hpp"
#include "models/pool/pool_manager.hpp"
#include "models/pool/workload_driver.hpp"
#include "models/programs/op_program.hpp"

namespace equus::sim {

using kernel::GlobalId;

/// End time of what has not ended (alive incarnation, open reference).
constexpr double open_end = std::numeric_limits<double>::infinity();

/// One hosting of an incarnation at a node: created..ended. A migrated incarnation has one span
/// per node (same id).
struct IncarnationSpan {
  GlobalId id = 0;
  std::string name, rdc, module;
  int node = -1;
  double start = 0;
  double end = open_end;  // `open_end` while alive
  std::string why;        // end reason
  // Its first hosting, by a loader: when the creating call was made and when it was made (text and
  // data in memory, EV_INC_MADE); `made` is `open_end` otherwise.
  double called = 0;
  double made = open_end;
  bool ended() const { return end != open_end; }
  bool was_made() const { return made != open_end; }
};

struct MessageEvent {
  uint64_t id = 0;
  kernel::MessageKind kind = kernel::MessageKind::Other;
  int src_node = -1, dst_node = -1;
  double sent = 0, accepted = 0;
};

struct CallEvent {
  GlobalId inc = 0;
  uint32_t name = 0;  // index into Recorder::call_names()
  double t0 = 0, t1 = 0;
};

/// A stream (inc -> channel) or port (channel -> inc) reference, from `attached` until closed.
struct Attachment {
  GlobalId inc = 0, channel = 0;
  bool port = false;
  std::string label;
  double attached = 0;
  double closed = open_end;
};

struct RecordEvent {
  GlobalId inc = 0;
  std::string key;
  double value = 0;
  double t = 0;
};

struct LoadSample {
  int node = -1;
  double load = 0;
  double t = 0;
};

/// Messages moved by reconfigurations, summed over the kernels (Kernel::stats()).
struct ForwardingCounts {
  long forwarded = 0;          // acknowledged messages forwarded from a queue
  long forwarded_pending = 0;  // pending (unacknowledged) messages forwarded
  long redirected = 0;         // arrivals re-routed by a redirection entry
};

/// A reconfiguring call (attach, rebind, freeze, unfreeze, migrate, port propagation) from a
/// program or an event: its interval, status and the forwarding counted meanwhile (every kernel's,
/// so reconfigurations running concurrently share their counts).
struct ReconfigEvent {
  programs::Reconfiguration what;
  double t0 = 0, t1 = open_end;
  int status = 0;
  ForwardingCounts during;
};

const char* message_kind_name(kernel::MessageKind kind);

/// One node over a run with arriving work: how busy its processor was and its mean run queue.
struct NodeUsage {
  int node = 0;
  double busy_s = 0;          // processor time used (kernel and incarnations)
  double mean_run_queue = 0;  // incarnations' processes running or ready, time-averaged over the run
};

/// What the pool did over a run with a workload or a policy.
struct PoolReport {
  std::string policy;  // its name ("lowest_free" for the first system's rule)
  pool::PolicyStats stats;
  std::vector<NodeUsage> nodes;
  double warmup_s = 0;
};

class Recorder : public kernel::Observer {
 public:
  Recorder();

  // kernel::Observer
  void incarnation_created(GlobalId inc, const std::string& name, const std::string& rdc,
                           const std::string& module, int node, double t) override;
  void incarnation_ended(GlobalId inc, double t, const std::string& why) override;
  void incarnation_made(GlobalId inc, double called, double t) override;
  void kernel_message(uint64_t id, kernel::MessageKind kind, int src_node, int dst_node, double t_sent,
                      double t_accepted) override;
  void call(GlobalId inc, const char* name, double t0, double t1) override;
  void stream_attached(GlobalId inc, GlobalId channel, const std::string& label) override;
  void port_attached(GlobalId inc, GlobalId channel, const std::string& label) override;
  void reference_closed(GlobalId inc, GlobalId channel) override;
  void record(GlobalId inc, const std::string& key, double value, double t) override;
  void node_load(int node, double load, double t) override;
  void migration(const Migration& m) override;

  /// Reconfigurations: begin returns the index that end takes. Forwarding counts are sampled from
  /// the function given to set_forwarding_counter (none: zeros).
  uint32_t begin_reconfiguration(programs::Reconfiguration what);
  void end_reconfiguration(uint32_t index, int status);
  void set_forwarding_counter(std::function<ForwardingCounts()> counter) { counter_ = std::move(counter); }
  /// End of run: the kernels' counts per node, and the invariant checker's violations.
  void set_forwarding_totals(std::vector<ForwardingCounts> per_node) { forwarding_ = std::move(per_node); }
  void set_violations(std::vector<std::string> v) { violations_ = std::move(v); }
  /// A job of the workload ended (or failed to launch).
  void job(const pool::JobRecord& j) { jobs_.push_back(j); }
  void set_pool_report(PoolReport r) { pool_ = std::move(r); }
  /// Names an incarnation after its declaration (else its spans carry the kernel's name).
  void name_incarnation(GlobalId inc, const std::string& name);

  /// Node names by node index (pool order); unnamed nodes print as "node<i>".
  void set_node_names(std::vector<std::string> names) { node_names_ = std::move(names); }
  void set_channel_type(GlobalId channel, bool multicast) { multicast_[channel] = multicast; }
  /// The attachment calls carry no time: they are stamped with this clock. Default: SimGrid's clock
  /// when an engine exists, else the latest time seen in any event.
  void set_clock(std::function<double()> clock) { clock_ = std::move(clock); }

  const std::vector<IncarnationSpan>& spans() const { return spans_; }
  const std::vector<MessageEvent>& messages() const { return messages_; }
  const std::vector<CallEvent>& calls() const { return calls_; }
  const std::vector<std::string>& call_names() const { return call_names_; }
  const std::vector<Attachment>& attachments() const { return attachments_; }
  const std::vector<RecordEvent>& records() const { return records_; }
  const std::vector<LoadSample>& loads() const { return loads_; }
  const std::vector<std::string>& node_names() const { return node_names_; }
  const std::vector<Migration>& migrations() const { return migrations_; }
  const std::vector<ReconfigEvent>& reconfigurations() const { return reconfigs_; }
  const std::vector<ForwardingCounts>& forwarding() const { return forwarding_; }
  const std::vector<std::string>& violations() const { return violations_; }
  const std::vector<pool::JobRecord>& jobs() const { return jobs_; }
  const std::optional<PoolReport>& pool_report() const { return pool_; }

  std::string node_name(int node) const;
  bool is_multicast(GlobalId channel) const;
  /// The distinct port labels joined by '/', else stream labels, else "ch<id>".
  std::string channel_label(GlobalId channel) const;
  /// Index into spans() of `inc`'s span alive at `t` (the latest one started at or before `t` if
  /// none is alive, the first if all start later); -1 if `inc` was never created.
  int span_at(GlobalId inc, double t) const;
  /// True if some span of `inc` covers `t` (start <= t < end).
  bool alive_at(GlobalId inc, double t) const;
  /// The latest time seen in any event (and the clock's current value).
  double horizon() const;

 private:
  double now() const;
  void attach(GlobalId inc, GlobalId channel, bool port, const std::string& label);
  void see(double t) {
    if (t > latest_) latest_ = t;
  }

  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::vector<pool::JobRecord> jobs_;
  std::optional<PoolReport> pool_;
  std::vector<IncarnationSpan> spans_;
  std::unordered_map<GlobalId, std::vector<uint32_t>> spans_of_;  // in creation order
  std::vector<MessageEvent> messages_;
  std::vector<CallEvent> calls_;
  std::vector<std::string> call_names_;
  std::unordered_map<std::string, uint32_t, NameHash, std::equal_to<>> call_index_;
  std::vector<Attachment> attachments_;
  std::unordered_map<GlobalId, std::vector<uint32_t>> attachments_of_;  // by incarnation
  std::vector<RecordEvent> records_;
  std::vector<LoadSample> loads_;
  std::vector<Migration> migrations_;
  std::vector<ReconfigEvent> reconfigs_;
  std::vector<ForwardingCounts> forwarding_;
  std::vector<std::string> violations_;
  std::function<ForwardingCounts()> counter_;
  std::unordered_map<GlobalId, std::string> names_;
  std::vector<std::string> node_names_;
  std::unordered_map<GlobalId, bool> multicast_;
  struct ChannelNames {
    std::vector<std::string> ports, streams;  // distinct, in first-seen order
  };
  std::unordered_map<GlobalId, ChannelNames> channel_names_;
  std::function<double()> clock_;
  double latest_ = 0;
};

}  // namespace equus::sim
