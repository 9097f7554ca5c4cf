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

}  // namespace

void write_trace(const Recorder& rec, std::ostream& out) {
  const double horizon_us = to_us(rec.horizon());
  const auto& spans = rec.spans();
  const auto& calls = rec.calls();

  std::map<int, int> next_tid;  // per pid
  std::set<int> pids;
  std::set<int> kernel_pids;

  // Groups: one per span, then one per unknown incarnation that still has calls or records.
  std::vector<Group> groups(spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    groups[i].pid = pid_of(spans[i].node);
    groups[i].label = fmt::format("{} #{}", spans[i].name, spans[i].id);
    groups[i].span = static_cast<int>(i);
  }
  std::map<GlobalId, size_t> unknown;
  auto group_of = [&](GlobalId inc, double t) -> size_t {
    int s = rec.span_at(inc, t);
    if (s >= 0) return static_cast<size_t>(s);
    auto [it, fresh] = unknown.emplace(inc, groups.size());
    if (fresh) groups.push_back({0, fmt::format("inc #{}", inc), -1, {}, {}});
    return it->second;
  };
  for (size_t i = 0; i < calls.size(); ++i)
    groups[group_of(calls[i].inc, calls[i].t0)].calls.push_back(static_cast<uint32_t>(i));
  std::vector<size_t> record_group(rec.records().size());
  for (size_t i = 0; i < rec.records().size(); ++i)
    record_group[i] = group_of(rec.records()[i].inc, rec.records()[i].t);
  const auto& reconfigs = rec.reconfigurations();
  std::vector<size_t> reconfig_group(reconfigs.size());
  for (size_t i = 0; i < reconfigs.size(); ++i)
    reconfig_group[i] = group_of(reconfigs[i].what.by, reconfigs[i].t0);
  std::vector<bool> has_record(groups.size());
  for (size_t g : record_group) has_record[g] = true;
  for (size_t g : reconfig_group) has_record[g] = true;

  // Lanes: X events on one thread must nest, but an incarnation's processes may overlap calls.
  std::vector<std::vector<std::pair<Item, int>>> placed(groups.size());  // item, lane
  for (size_t g = 0; g < groups.size(); ++g) {
    auto& grp = groups[g];
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
      placed[g].emplace_back(it, static_cast<int>(lane));
    }
    size_t nlanes = std::max<size_t>(lanes.size(), 1);  // records need a thread even without slices
    if (items.empty() && !has_record[g]) continue;
    for (size_t l = 0; l < nlanes; ++l) grp.tids.push_back(++next_tid[grp.pid]);
    pids.insert(grp.pid);
  }

  // Kernel messages: anchor slices on each node's kernel thread, flows between them.
  const auto& msgs = rec.messages();
  std::vector<size_t> order(msgs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(msgs[a].sent, msgs[a].id) < std::tie(msgs[b].sent, msgs[b].id);
  });
  struct Point {
    int pid;
    int64_t ns;
    size_t flow;  // rank in `order`: unique flow id even if kernel ids repeat
    bool send;
  };
  std::vector<Point> points;
  points.reserve(2 * msgs.size());
  for (size_t r = 0; r < order.size(); ++r) {
    const auto& m = msgs[order[r]];
    int64_t sent = to_ns(m.sent);
    points.push_back({pid_of(m.src_node), sent, r, true});
    points.push_back({pid_of(m.dst_node), std::max(sent, to_ns(m.accepted)), r, false});
  }
  std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return std::tie(a.pid, a.ns) < std::tie(b.pid, b.ns);
  });
  std::vector<int64_t> send_mid(msgs.size()), recv_mid(msgs.size());
  struct Anchor {
    int pid;
    int64_t start, dur;
    size_t first, count;  // range in `points`
  };
  std::vector<Anchor> anchors;
  for (size_t i = 0; i < points.size();) {
    size_t j = i + 1;
    while (j < points.size() && points[j].pid == points[i].pid && points[j].ns < points[i].ns + anchor_min_ns)
      ++j;
    anchors.push_back({points[i].pid, points[i].ns, anchor_max_ns, i, j - i});
    if (j < points.size() && points[j].pid == points[i].pid)
      anchors.back().dur = std::min(anchor_max_ns, points[j].ns - points[i].ns);
    int64_t mid = anchors.back().start + anchors.back().dur / 2;
    for (size_t k = i; k < j; ++k) (points[k].send ? send_mid : recv_mid)[points[k].flow] = mid;
    kernel_pids.insert(points[i].pid);
    pids.insert(points[i].pid);
    i = j;
  }

  for (const auto& l : rec.loads()) pids.insert(pid_of(l.node));

  // Migrations: on a "migrations" thread of the destination node, one lane per overlap.
  const auto& migs = rec.migrations();
  std::map<int, std::vector<std::pair<double, int>>> migration_lanes;  // pid -> (lane end, tid)
  std::vector<int> migration_tid(migs.size());
  for (size_t i = 0; i < migs.size(); ++i) {
    int pid = pid_of(migs[i].to);
    auto& lanes = migration_lanes[pid];
    auto lane =
        std::find_if(lanes.begin(), lanes.end(), [&](const auto& l) { return l.first <= migs[i].start; });
    if (lane == lanes.end()) lane = lanes.insert(lanes.end(), {0.0, ++next_tid[pid]});
    lane->first = migs[i].restart;
    migration_tid[i] = lane->second;
    pids.insert(pid);
  }

  EventWriter w(out);
  w.raw("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");

  // Metadata: names and order of processes and threads.
  for (int pid : pids) {
    std::string name = pid == 0 ? "unknown node" : rec.node_name(pid - 1);
    w.event(R"({{"ph":"M","name":"process_name","pid":{},"tid":0,"ts":0,"args":{{"name":{}}}}})", pid,
            quote(name));
    w.event(R"({{"ph":"M","name":"process_sort_index","pid":{},"tid":0,"ts":0,"args":{{"sort_index":{}}}}})",
            pid, pid);
  }
  for (int pid : kernel_pids) {
    w.event(R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"ts":0,"args":{{"name":"kernel"}}}})", pid,
            kernel_tid);
    w.event(R"({{"ph":"M","name":"thread_sort_index","pid":{},"tid":{},"ts":0,"args":{{"sort_index":-1}}}})",
            pid, kernel_tid);
  }
  for (const auto& [pid, lanes] : migration_lanes)
    for (size_t l = 0; l < lanes.size(); ++l) {
      std::string name = l == 0 ? "migrations" : fmt::format("migrations ({})", l + 1);
      w.event(R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"ts":0,"args":{{"name":{}}}}})", pid,
              lanes[l].second, quote(name));
    }
  for (const auto& grp : groups) {
    for (size_t l = 0; l < grp.tids.size(); ++l) {
      std::string name = l == 0 ? grp.label : fmt::format("{} ({})", grp.label, l + 1);
      w.event(R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"ts":0,"args":{{"name":{}}}}})", grp.pid,
              grp.tids[l], quote(name));
      w.event(
          R"({{"ph":"M","name":"thread_sort_index","pid":{},"tid":{},"ts":0,"args":{{"sort_index":{}}}}})",
          grp.pid, grp.tids[l], grp.tids[l]);
    }
  }

  // Lifetimes and calls.
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& grp = groups[g];
    for (const auto& [it, lane] : placed[g]) {
      int tid = grp.tids[lane];
      if (it.call < 0) {
        const auto& s = spans[grp.span];
        w.event(
            R"({{"ph":"X","cat":"incarnation","name":{},"pid":{},"tid":{},"ts":{},"dur":{},"args":{{"id":"{}","rdc":{},"module":{},"end":{}}}}})",
            quote(s.name), grp.pid, tid, it.ts, it.end - it.ts, s.id, quote(s.rdc), quote(s.module),
            quote(s.ended() ? s.why : "alive"));
      } else {
        w.event(R"({{"ph":"X","cat":"call","name":{},"pid":{},"tid":{},"ts":{},"dur":{}}})",
                quote(rec.call_names()[calls[it.call].name]), grp.pid, tid, it.ts, it.end - it.ts);
      }
    }
  }

  // Records: instants on the incarnation's thread.
  for (size_t i = 0; i < rec.records().size(); ++i) {
    const auto& r = rec.records()[i];
    const auto& grp = groups[record_group[i]];
    w.event(
        R"({{"ph":"i","s":"t","cat":"record","name":{},"pid":{},"tid":{},"ts":{},"args":{{"value":{}}}}})",
        quote(r.key), grp.pid, grp.tids.front(), to_us(r.t), std::isfinite(r.value) ? r.value : 0.0);
  }

  // Reconfigurations: instants on the calling incarnation's thread.
  for (size_t i = 0; i < reconfigs.size(); ++i) {
    const auto& r = reconfigs[i];
    const auto& grp = groups[reconfig_group[i]];
    w.event(
        R"({{"ph":"i","s":"t","cat":"reconfiguration","name":{},"pid":{},"tid":{},"ts":{},"args":{{"detail":{},"origin":{},"status":{},"forwarded":{}}}}})",
        quote(r.what.kind), grp.pid, grp.tids.front(), to_us(r.t0), quote(r.what.detail),
        quote(r.what.origin), r.status, r.during.forwarded + r.during.forwarded_pending);
  }

  // Migrations: the whole, then its phases (M3, M4 text pre-copy, waiting for synchronous calls, frozen).
  for (size_t i = 0; i < migs.size(); ++i) {
    const auto& m = migs[i];
    int pid = pid_of(m.to), tid = migration_tid[i];
    std::string name = "inc #" + std::to_string(m.inc);
    if (int sp = rec.span_at(m.inc, m.start); sp >= 0) name = spans[sp].name;
    w.event(
        R"({{"ph":"X","cat":"migration","name":{},"pid":{},"tid":{},"ts":{},"dur":{},"args":{{"id":"{}","from":{},"bytes":{},"ports":{},"messages":{},"freeze_ms":{}}}}})",
        quote("migrate " + name + " from " + rec.node_name(m.from)), pid, tid, to_us(m.start),
        to_us(m.restart) - to_us(m.start), m.inc, quote(rec.node_name(m.from)), m.bytes, m.ports, m.messages,
        (m.restart - m.frozen) * 1e3);
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

  // Node load counters.
  for (const auto& l : rec.loads())
    w.event(R"({{"ph":"C","name":"load","pid":{},"tid":0,"ts":{},"args":{{"load":{}}}}})", pid_of(l.node),
            to_us(l.t), std::isfinite(l.load) ? l.load : 0.0);

  // Kernel anchors, then flows (both ends share "cat", "name" and "id").
  for (const auto& a : anchors) {
    const auto& p = points[a.first];
    const auto& m = msgs[order[p.flow]];
    std::string name = a.count == 1
                           ? fmt::format("{} {}", p.send ? "send" : "accept", message_kind_name(m.kind))
                           : fmt::format("kernel x{}", a.count);
    w.event(
        R"({{"ph":"X","cat":"kernel","name":"{}","pid":{},"tid":{},"ts":{},"dur":{},"args":{{"kid":{}}}}})",
        name, a.pid, kernel_tid, ns_as_us(a.start), ns_as_us(a.dur), m.id);
  }
  for (size_t r = 0; r < order.size(); ++r) {
    const auto& m = msgs[order[r]];
    const char* kind = message_kind_name(m.kind);
    w.event(R"({{"ph":"s","cat":"kmsg","name":"{}","id":{},"pid":{},"tid":{},"ts":{}}})", kind, r,
            pid_of(m.src_node), kernel_tid, ns_as_us(send_mid[r]));
    w.event(R"({{"ph":"f","bp":"e","cat":"kmsg","name":"{}","id":{},"pid":{},"tid":{},"ts":{}}})", kind, r,
            pid_of(m.dst_node), kernel_tid, ns_as_us(recv_mid[r]));
  }

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
