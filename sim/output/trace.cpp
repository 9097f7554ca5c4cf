#include "sim/output/trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace equus::sim {

namespace {

using nlohmann::json;

constexpr int kernel_tid = 0;
constexpr int64_t anchor_max_ns = 1000;  // kernel anchor slices last 1 us at most
constexpr int64_t anchor_min_ns = 4;     // flow points sit >= 2 ns inside, robust to ns rounding

int pid_of(int node) { return node >= -1 ? node + 1 : 0; }  // pid 0: unknown node

double to_us(double t) { return std::isfinite(t) && t > 0 ? t * 1e6 : 0.0; }

int64_t to_ns(double t) { return std::isfinite(t) && t > 0 ? std::llround(t * 1e9) : 0; }

std::string quote(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Events are formatted straight into a buffer: traces can hold millions of kernel messages.
class EventWriter {
 public:
  explicit EventWriter(std::ostream& out) : out_(out) {}
  template <class... Args>
  void event(fmt::format_string<Args...> f, Args&&... args) {
    buf_.append(std::string_view(first_ ? "\n" : ",\n"));
    first_ = false;
    fmt::format_to(std::back_inserter(buf_), f, std::forward<Args>(args)...);
    if (buf_.size() > (1 << 20)) flush();
  }
  void raw(std::string_view s) { buf_.append(s); }
  void flush() {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }

 private:
  std::ostream& out_;
  fmt::memory_buffer buf_;
  bool first_ = true;
};

std::string ns_as_us(int64_t ns) { return fmt::format("{}.{:03}", ns / 1000, ns % 1000); }

/// The track(s) of one incarnation hosting (or of an incarnation never reported as created).
struct Group {
  int pid = 0;
  std::string label;
  int span = -1;                // index into spans(), -1 if unknown
  std::vector<uint32_t> calls;  // indices into calls()
  std::vector<int> tids;        // one per lane
};

struct Item {
  double ts, end;
  int call;  // -1: the lifetime
};

/// Where every event of a trace goes (processes, threads, lanes, kernel anchors), then the events in
/// a fixed order: metadata, lifetimes and calls, records, reconfigurations, migrations, load, kernel.
class TraceLayout {
 public:
  explicit TraceLayout(const Recorder& rec) : rec_(rec) {
    place_groups();
    place_lanes();
    place_kernel_messages();
    for (const auto& l : rec_.loads()) pids_.insert(pid_of(l.node));
    place_migrations();
  }

  void write(EventWriter& w) const {
    write_metadata(w);
    write_slices(w);
    write_instants(w);
    write_migrations(w);
    write_loads(w);
    write_kernel(w);
  }

 private:
  struct Point {
    int pid;
    int64_t ns;
    size_t flow;  // rank in `order_`: unique flow id even if kernel ids repeat
    bool send;
  };
  struct Anchor {
    int pid;
    int64_t start, dur;
    size_t first, count;  // range in `points_`
  };

  /// The group of incarnation `inc` at time `t`, made for an incarnation never reported as created.
  size_t group_of(GlobalId inc, double t) {
    int s = rec_.span_at(inc, t);
    if (s >= 0) return static_cast<size_t>(s);
    auto [it, fresh] = unknown_.emplace(inc, groups_.size());
    if (fresh) groups_.push_back({0, fmt::format("inc #{}", inc), -1, {}, {}});
    return it->second;
  }

  void place_groups() {
    const auto& spans = rec_.spans();
    const auto& calls = rec_.calls();
    // Groups: one per span, then one per unknown incarnation that still has calls or records.
    groups_.resize(spans.size());
    for (size_t i = 0; i < spans.size(); ++i) {
      groups_[i].pid = pid_of(spans[i].node);
      groups_[i].label = fmt::format("{} #{}", spans[i].name, spans[i].id);
      groups_[i].span = static_cast<int>(i);
    }
    for (size_t i = 0; i < calls.size(); ++i)
      groups_[group_of(calls[i].inc, calls[i].t0)].calls.push_back(static_cast<uint32_t>(i));
    record_group_.resize(rec_.records().size());
    for (size_t i = 0; i < rec_.records().size(); ++i)
      record_group_[i] = group_of(rec_.records()[i].inc, rec_.records()[i].t);
    const auto& reconfigs = rec_.reconfigurations();
    reconfig_group_.resize(reconfigs.size());
    for (size_t i = 0; i < reconfigs.size(); ++i)
      reconfig_group_[i] = group_of(reconfigs[i].what.by, reconfigs[i].t0);
    has_record_.assign(groups_.size(), false);
    for (size_t g : record_group_) has_record_[g] = true;
    for (size_t g : reconfig_group_) has_record_[g] = true;
  }

  void place_lanes() {
    const auto& spans = rec_.spans();
    const auto& calls = rec_.calls();
    const double horizon_us = to_us(rec_.horizon());
    // Lanes: X events on one thread must nest, but an incarnation's processes may overlap calls.
    placed_.resize(groups_.size());
    for (size_t g = 0; g < groups_.size(); ++g) {
      auto& grp = groups_[g];
      std::vector<Item> items;
      if (grp.span >= 0) {
        const auto& s = spans[grp.span];
        double ts = to_us(s.start);
        items.push_back({ts, std::max(ts, s.ended() ? to_us(s.end) : horizon_us), -1});
      }
      for (uint32_t c : grp.calls) {
        double ts = to_us(calls[c].t0);
        items.push_back({ts, std::max(ts, to_us(calls[c].t1)), static_cast<int>(c)});
      }
      std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
        return std::tie(a.ts, b.end) < std::tie(b.ts, a.end);  // outer slices first
      });
      // The lifetime goes first onto lane 0 so calls nest inside it.
      std::stable_partition(items.begin(), items.end(), [](const Item& i) { return i.call < 0; });
      std::vector<std::vector<std::pair<double, double>>> lanes;  // stacks of open (ts, end)
      for (const auto& it : items) {
        size_t lane = 0;
        for (; lane < lanes.size(); ++lane) {
          auto& st = lanes[lane];
          while (!st.empty() && st.back().second <= it.ts) st.pop_back();
          if (st.empty() || (st.back().first <= it.ts && it.end <= st.back().second)) break;
        }
        if (lane == lanes.size()) lanes.emplace_back();
        lanes[lane].emplace_back(it.ts, it.end);
        placed_[g].emplace_back(it, static_cast<int>(lane));
      }
      size_t nlanes = std::max<size_t>(lanes.size(), 1);  // records need a thread even without slices
      if (items.empty() && !has_record_[g]) continue;
      for (size_t l = 0; l < nlanes; ++l) grp.tids.push_back(++next_tid_[grp.pid]);
      pids_.insert(grp.pid);
    }
  }

  void place_kernel_messages() {
    // Kernel messages: anchor slices on each node's kernel thread, flows between them.
    const auto& msgs = rec_.messages();
    order_.resize(msgs.size());
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    std::stable_sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
      return std::tie(msgs[a].sent, msgs[a].id) < std::tie(msgs[b].sent, msgs[b].id);
    });
    points_.reserve(2 * msgs.size());
    for (size_t r = 0; r < order_.size(); ++r) {
      const auto& m = msgs[order_[r]];
      int64_t sent = to_ns(m.sent);
      points_.push_back({pid_of(m.src_node), sent, r, true});
      points_.push_back({pid_of(m.dst_node), std::max(sent, to_ns(m.accepted)), r, false});
    }
    std::stable_sort(points_.begin(), points_.end(), [](const Point& a, const Point& b) {
      return std::tie(a.pid, a.ns) < std::tie(b.pid, b.ns);
    });
    send_mid_.resize(msgs.size());
    recv_mid_.resize(msgs.size());
    for (size_t i = 0; i < points_.size();) {
      size_t j = i + 1;
      while (j < points_.size() && points_[j].pid == points_[i].pid &&
             points_[j].ns < points_[i].ns + anchor_min_ns)
        ++j;
      anchors_.push_back({points_[i].pid, points_[i].ns, anchor_max_ns, i, j - i});
      if (j < points_.size() && points_[j].pid == points_[i].pid)
        anchors_.back().dur = std::min(anchor_max_ns, points_[j].ns - points_[i].ns);
      int64_t mid = anchors_.back().start + anchors_.back().dur / 2;
      for (size_t k = i; k < j; ++k) (points_[k].send ? send_mid_ : recv_mid_)[points_[k].flow] = mid;
      kernel_pids_.insert(points_[i].pid);
      pids_.insert(points_[i].pid);
      i = j;
    }
  }

  void place_migrations() {
    // Migrations: on a "migrations" thread of the destination node, one lane per overlap.
    const auto& migs = rec_.migrations();
    migration_tid_.resize(migs.size());
    for (size_t i = 0; i < migs.size(); ++i) {
      int pid = pid_of(migs[i].to);
      auto& lanes = migration_lanes_[pid];
      auto lane =
          std::find_if(lanes.begin(), lanes.end(), [&](const auto& l) { return l.first <= migs[i].start; });
      if (lane == lanes.end()) lane = lanes.insert(lanes.end(), {0.0, ++next_tid_[pid]});
      lane->first = migs[i].restart;
      migration_tid_[i] = lane->second;
      pids_.insert(pid);
    }
  }

  void write_metadata(EventWriter& w) const {
    // Metadata: names and order of processes and threads.
    for (int pid : pids_) {
      std::string name = pid == 0 ? "unknown_ node" : rec_.node_name(pid - 1);
      w.event(R"({{"ph":"M","name":"process_name","pid":{},"tid":0,"ts":0,"args":{{"name":{}}}}})", pid,
              quote(name));
      w.event(
          R"({{"ph":"M","name":"process_sort_index","pid":{},"tid":0,"ts":0,"args":{{"sort_index":{}}}}})",
          pid, pid);
    }
    for (int pid : kernel_pids_) {
      w.event(R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"ts":0,"args":{{"name":"kernel"}}}})", pid,
              kernel_tid);
      w.event(
          R"({{"ph":"M","name":"thread_sort_index","pid":{},"tid":{},"ts":0,"args":{{"sort_index":-1}}}})",
          pid, kernel_tid);
    }
    for (const auto& [pid, lanes] : migration_lanes_)
      for (size_t l = 0; l < lanes.size(); ++l) {
        std::string name = l == 0 ? "migrations" : fmt::format("migrations ({})", l + 1);
        w.event(R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"ts":0,"args":{{"name":{}}}}})", pid,
                lanes[l].second, quote(name));
      }
    for (const auto& grp : groups_) {
      for (size_t l = 0; l < grp.tids.size(); ++l) {
        std::string name = l == 0 ? grp.label : fmt::format("{} ({})", grp.label, l + 1);
        w.event(R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"ts":0,"args":{{"name":{}}}}})", grp.pid,
                grp.tids[l], quote(name));
        w.event(
            R"({{"ph":"M","name":"thread_sort_index","pid":{},"tid":{},"ts":0,"args":{{"sort_index":{}}}}})",
            grp.pid, grp.tids[l], grp.tids[l]);
      }
    }
  }

  void write_slices(EventWriter& w) const {
    const auto& spans = rec_.spans();
    const auto& calls = rec_.calls();
    // Lifetimes and calls.
    for (size_t g = 0; g < groups_.size(); ++g) {
      const auto& grp = groups_[g];
      for (const auto& [it, lane] : placed_[g]) {
        int tid = grp.tids[lane];
        if (it.call < 0) {
          const auto& s = spans[grp.span];
          w.event(
              R"({{"ph":"X","cat":"incarnation","name":{},"pid":{},"tid":{},"ts":{},"dur":{},"args":{{"id":"{}","rdc":{},"module":{},"end":{}}}}})",
              quote(s.name), grp.pid, tid, it.ts, it.end - it.ts, s.id, quote(s.rdc), quote(s.module),
              quote(s.ended() ? s.why : "alive"));
        } else {
          w.event(R"({{"ph":"X","cat":"call","name":{},"pid":{},"tid":{},"ts":{},"dur":{}}})",
                  quote(rec_.call_names()[calls[it.call].name]), grp.pid, tid, it.ts, it.end - it.ts);
        }
      }
    }
  }

  void write_instants(EventWriter& w) const {
    const auto& reconfigs = rec_.reconfigurations();
    // Records: instants on the incarnation's thread.
    for (size_t i = 0; i < rec_.records().size(); ++i) {
      const auto& r = rec_.records()[i];
      const auto& grp = groups_[record_group_[i]];
      w.event(
          R"({{"ph":"i","s":"t","cat":"record","name":{},"pid":{},"tid":{},"ts":{},"args":{{"value":{}}}}})",
          quote(r.key), grp.pid, grp.tids.front(), to_us(r.t), std::isfinite(r.value) ? r.value : 0.0);
    }

    // Reconfigurations: instants on the calling incarnation's thread.
    for (size_t i = 0; i < reconfigs.size(); ++i) {
      const auto& r = reconfigs[i];
      const auto& grp = groups_[reconfig_group_[i]];
      w.event(
          R"({{"ph":"i","s":"t","cat":"reconfiguration","name":{},"pid":{},"tid":{},"ts":{},"args":{{"detail":{},"origin":{},"status":{},"forwarded":{}}}}})",
          quote(r.what.kind), grp.pid, grp.tids.front(), to_us(r.t0), quote(r.what.detail),
          quote(r.what.origin), r.status, r.during.forwarded + r.during.forwarded_pending);
    }
  }

  void write_migrations(EventWriter& w) const {
    const auto& spans = rec_.spans();
    const auto& migs = rec_.migrations();
    // Migrations: the whole, then its phases (M3, M4 text pre-copy, waiting for synchronous calls, frozen).
    for (size_t i = 0; i < migs.size(); ++i) {
      const auto& m = migs[i];
      int pid = pid_of(m.to), tid = migration_tid_[i];
      std::string name = "inc #" + std::to_string(m.inc);
      if (int sp = rec_.span_at(m.inc, m.start); sp >= 0) name = spans[sp].name;
      w.event(
          R"({{"ph":"X","cat":"migration","name":{},"pid":{},"tid":{},"ts":{},"dur":{},"args":{{"id":"{}","from":{},"bytes":{},"ports":{},"messages":{},"freeze_ms":{}}}}})",
          quote("migrate " + name + " from " + rec_.node_name(m.from)), pid, tid, to_us(m.start),
          to_us(m.restart) - to_us(m.start), m.inc, quote(rec_.node_name(m.from)), m.bytes, m.ports,
          m.messages, (m.restart - m.frozen) * 1e3);
      const std::pair<const char*, std::pair<double, double>> phases[] = {
          {"M3 pincdata and ports", {m.start, m.pincdata}},
          {"M4 text pre-copy", {m.pincdata, m.text}},
          {"waits for synchronous calls", {m.text, m.frozen}},
          {"frozen: heap, stack, data; queues forwarded", {m.frozen, m.restart}},
      };
      for (const auto& [phase, span] : phases)
        if (span.second > span.first)
          w.event(R"({{"ph":"X","cat":"migration","name":"{}","pid":{},"tid":{},"ts":{},"dur":{}}})", phase,
                  pid, tid, to_us(span.first), to_us(span.second) - to_us(span.first));
    }
  }

  void write_loads(EventWriter& w) const {
    // Node load counters.
    for (const auto& l : rec_.loads())
      w.event(R"({{"ph":"C","name":"load","pid":{},"tid":0,"ts":{},"args":{{"load":{}}}}})", pid_of(l.node),
              to_us(l.t), std::isfinite(l.load) ? l.load : 0.0);
  }

  void write_kernel(EventWriter& w) const {
    const auto& msgs = rec_.messages();
    // Kernel anchors_, then flows (both ends share "cat", "name" and "id").
    for (const auto& a : anchors_) {
      const auto& p = points_[a.first];
      const auto& m = msgs[order_[p.flow]];
      std::string name = a.count == 1
                             ? fmt::format("{} {}", p.send ? "send" : "accept", message_kind_name(m.kind))
                             : fmt::format("kernel x{}", a.count);
      w.event(
          R"({{"ph":"X","cat":"kernel","name":"{}","pid":{},"tid":{},"ts":{},"dur":{},"args":{{"kid":{}}}}})",
          name, a.pid, kernel_tid, ns_as_us(a.start), ns_as_us(a.dur), m.id);
    }
    for (size_t r = 0; r < order_.size(); ++r) {
      const auto& m = msgs[order_[r]];
      const char* kind = message_kind_name(m.kind);
      w.event(R"({{"ph":"s","cat":"kmsg","name":"{}","id":{},"pid":{},"tid":{},"ts":{}}})", kind, r,
              pid_of(m.src_node), kernel_tid, ns_as_us(send_mid_[r]));
      w.event(R"({{"ph":"f","bp":"e","cat":"kmsg","name":"{}","id":{},"pid":{},"tid":{},"ts":{}}})", kind, r,
              pid_of(m.dst_node), kernel_tid, ns_as_us(recv_mid_[r]));
    }
  }

  const Recorder& rec_;
  std::map<int, int> next_tid_;  // per pid
  std::set<int> pids_;
  std::set<int> kernel_pids_;
  std::vector<Group> groups_;  // one per span, then one per unknown incarnation with calls or records
  std::map<GlobalId, size_t> unknown_;
  std::vector<size_t> record_group_, reconfig_group_;
  std::vector<bool> has_record_;
  std::vector<std::vector<std::pair<Item, int>>> placed_;  // per group: item, lane
  std::vector<size_t> order_;                              // messages by (sent, id)
  std::vector<Point> points_;
  std::vector<Anchor> anchors_;
  std::vector<int64_t> send_mid_, recv_mid_;
  std::map<int, std::vector<std::pair<double, int>>> migration_lanes_;  // pid -> (lane end, tid)
  std::vector<int> migration_tid_;
};

}  // namespace

void write_trace(const Recorder& rec, std::ostream& out) {
  TraceLayout layout(rec);
  EventWriter w(out);
  w.raw("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
  layout.write(w);
  w.raw("\n]}\n");
  w.flush();
}

void write_trace(const Recorder& rec, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path);
  write_trace(rec, out);
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

}  // namespace equus::sim
