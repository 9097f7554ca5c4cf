#include "sim/output/results.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace equus::sim {

namespace {

using json = nlohmann::ordered_json;  // keys in insertion order: scenario, seed, ... first

/// RFC 4180: quote a field only when it needs it.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

/// Shortest round-trip decimal: deterministic and lossless.
std::string num(double v) { return fmt::format("{}", v); }

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

/// Index order of `v` sorted by `key`, ties by index (stable): input order is deterministic too.
template <class T, class Key>
std::vector<size_t> order_by(const std::vector<T>& v, Key key) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return key(v[a]) < key(v[b]); });
  return idx;
}

struct CallStats {
  uint64_t count = 0;
  double sum = 0, min = 0, max = 0;  // ms
};

/// One output table, written as CSV and as an array of objects in results.json from the same rows, so
/// that the two never disagree. A null value is an empty CSV field.
class Table {
 public:
  explicit Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  void add(std::vector<json> row) { rows_.push_back(std::move(row)); }

  /// Writes `path` and returns the rows as objects keyed by column.
  json write(const std::filesystem::path& path) && {
    std::string csv;
    for (size_t c = 0; c < columns_.size(); ++c) csv += (c ? "," : "") + columns_[c];
    csv += "\n";
    json arr = json::array();
    for (auto& row : rows_) {
      json obj = json::object();
      for (size_t c = 0; c < columns_.size(); ++c) {
        if (c) csv += ',';
        csv += field(row[c]);
        obj[columns_[c]] = std::move(row[c]);
      }
      csv += '\n';
      arr.push_back(std::move(obj));
    }
    write_file(path, csv);
    return arr;
  }

 private:
  static std::string field(const json& v) {
    if (v.is_null()) return "";
    if (v.is_string()) return csv_field(v.get<std::string>());
    if (v.is_number_float()) return num(v.get<double>());
    return v.dump();  // integers
  }
  std::vector<std::string> columns_;
  std::vector<std::vector<json>> rows_;
};

/// `v` when `present`, null otherwise.
template <class T>
json maybe(bool present, const T& v) {
  return present ? json(v) : json(nullptr);
}

/// Every node named or referenced: the highest index.
int max_node_of(const Recorder& rec) {
  int max_node = static_cast<int>(rec.node_names().size()) - 1;
  for (const auto& s : rec.spans()) max_node = std::max(max_node, s.node);
  for (const auto& m : rec.messages()) max_node = std::max({max_node, m.src_node, m.dst_node});
  for (const auto& l : rec.loads()) max_node = std::max(max_node, l.node);
  return max_node;
}

/// First name seen for each incarnation id (a migrated incarnation keeps its name).
class IncNames {
 public:
  explicit IncNames(const Recorder& rec) {
    for (const auto& s : rec.spans()) names_.emplace(s.id, s.name);
  }
  std::string operator()(GlobalId id) const {
    auto it = names_.find(id);
    return it == names_.end() ? std::string() : it->second;
  }

 private:
  std::map<GlobalId, std::string> names_;
};

json incarnations(const Recorder& rec, const std::filesystem::path& base) {
  const auto& spans = rec.spans();
  Table t({"id", "name", "rdc", "module", "node", "start_s", "end_s", "end_reason", "made_s", "creation_ms"});
  for (size_t i : order_by(spans, [](const IncarnationSpan& s) { return std::tuple(s.start, s.id); })) {
    const auto& s = spans[i];
    t.add({s.id, s.name, s.rdc, s.module, rec.node_name(s.node), s.start, maybe(s.ended(), s.end),
           maybe(s.ended(), s.why), maybe(s.was_made(), s.made),
           maybe(s.was_made(), (s.made - s.called) * 1e3)});
  }
  return std::move(t).write(base / "incarnations.csv");
}

/// A summary per (incarnation, call name).
json calls(const Recorder& rec, const IncNames& inc_name, const std::filesystem::path& base) {
  std::map<std::pair<GlobalId, std::string>, CallStats> stats;
  for (const auto& c : rec.calls()) {
    double ms = (c.t1 - c.t0) * 1e3;
    auto& s = stats[{c.inc, rec.call_names()[c.name]}];
    s.min = s.count == 0 ? ms : std::min(s.min, ms);
    s.max = s.count == 0 ? ms : std::max(s.max, ms);
    s.sum += ms;
    ++s.count;
  }
  Table t({"incarnation", "name", "call", "count", "mean_ms", "min_ms", "max_ms"});
  for (const auto& [key, s] : stats)
    t.add({key.first, inc_name(key.first), key.second, s.count, s.sum / static_cast<double>(s.count), s.min,
           s.max});
  return std::move(t).write(base / "calls.csv");
}

json records(const Recorder& rec, const std::filesystem::path& base) {
  const auto& recs = rec.records();
  Table t({"time_s", "incarnation", "key", "value"});
  for (size_t i : order_by(recs, [](const RecordEvent& r) { return std::tuple(r.t, r.inc); }))
    t.add({recs[i].t, recs[i].inc, recs[i].key, recs[i].value});
  return std::move(t).write(base / "records.csv");
}

json node_load(const Recorder& rec, const std::filesystem::path& base) {
  const auto& loads = rec.loads();
  Table t({"time_s", "node", "load"});
  for (size_t i : order_by(loads, [](const LoadSample& l) { return std::tuple(l.t, l.node); }))
    t.add({loads[i].t, rec.node_name(loads[i].node), loads[i].load});
  return std::move(t).write(base / "node_load.csv");
}

/// Every packet in the CSV (streamed: there can be millions), a summary per kind in the JSON.
json messages(const Recorder& rec, int max_node, const std::filesystem::path& base) {
  const auto& msgs = rec.messages();
  auto idx = order_by(msgs, [](const MessageEvent& m) { return std::tuple(m.sent, m.id); });
  std::ofstream out(base / "messages.csv", std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + (base / "messages.csv").string());
  // Node names once, not per row.
  std::vector<std::string> names(static_cast<size_t>(max_node + 2));
  for (int n = -1; n <= max_node; ++n) names[n + 1] = csv_field(rec.node_name(n));
  auto node_col = [&](int n) { return n >= -1 ? std::string_view(names[n + 1]) : std::string_view(); };
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), "id,kind,src_node,dst_node,sent_s,accepted_s\n");
  std::map<std::string, std::pair<uint64_t, double>> by_kind;  // count, latency sum (ms)
  for (size_t i : idx) {
    const auto& m = msgs[i];
    fmt::format_to(std::back_inserter(buf), "{},{},{},{},{},{}\n", m.id, message_kind_name(m.kind),
                   node_col(m.src_node), node_col(m.dst_node), m.sent, m.accepted);
    auto& k = by_kind[message_kind_name(m.kind)];
    ++k.first;
    k.second += (m.accepted - m.sent) * 1e3;
    if (buf.size() > (1 << 20)) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  if (!out.flush()) throw std::runtime_error("cannot write " + (base / "messages.csv").string());
  json summary = json::object();
  for (const auto& [kind, k] : by_kind)
    summary[kind] = {{"count", k.first}, {"mean_latency_ms", k.second / static_cast<double>(k.first)}};
  return {{"count", msgs.size()}, {"by_kind", std::move(summary)}};
}

/// Section 7.4.4: the phases' end times, elapsed and frozen time, bytes moved.
json migrations(const Recorder& rec, const IncNames& inc_name, const std::filesystem::path& base) {
  const auto& migs = rec.migrations();
  Table t({"incarnation", "name", "from", "to", "start_s", "pincdata_s", "text_s", "frozen_s", "restart_s",
           "elapsed_ms", "freeze_ms", "bytes", "ports", "messages"});
  for (size_t i :
       order_by(migs, [](const kernel::Observer::Migration& m) { return std::tuple(m.start, m.inc); })) {
    const auto& m = migs[i];
    t.add({m.inc, inc_name(m.inc), rec.node_name(m.from), rec.node_name(m.to), m.start, m.pincdata, m.text,
           m.frozen, m.restart, (m.restart - m.start) * 1e3, (m.restart - m.frozen) * 1e3, m.bytes, m.ports,
           m.messages});
  }
  return std::move(t).write(base / "migrations.csv");
}

/// Chapter 6: each call, then the kernels' forwarding counts for the whole run.
json reconfigurations(const Recorder& rec, const IncNames& inc_name, const std::filesystem::path& base) {
  const auto& recs = rec.reconfigurations();
  Table t({"time_s", "end_s", "kind", "origin", "incarnation", "name", "detail", "status", "forwarded",
           "forwarded_pending", "redirected"});
  std::map<std::string, uint64_t> by_kind;
  for (size_t i : order_by(recs, [](const ReconfigEvent& r) { return r.t0; })) {
    const auto& r = recs[i];
    ++by_kind[r.what.kind];
    t.add({r.t0, maybe(r.t1 != open_end, r.t1), r.what.kind, r.what.origin, r.what.by, inc_name(r.what.by),
           r.what.detail, r.status, r.during.forwarded, r.during.forwarded_pending, r.during.redirected});
  }
  json calls = std::move(t).write(base / "reconfigurations.csv");
  ForwardingCounts total;
  json nodes = json::array();
  for (size_t n = 0; n < rec.forwarding().size(); ++n) {
    const auto& f = rec.forwarding()[n];
    total.forwarded += f.forwarded;
    total.forwarded_pending += f.forwarded_pending;
    total.redirected += f.redirected;
    if (f.forwarded || f.forwarded_pending || f.redirected)
      nodes.push_back({{"node", rec.node_name(static_cast<int>(n))},
                       {"forwarded", f.forwarded},
                       {"forwarded_pending", f.forwarded_pending},
                       {"redirected", f.redirected}});
  }
  return {{"count", recs.size()},           {"by_kind", by_kind},
          {"forwarded", total.forwarded},   {"forwarded_pending", total.forwarded_pending},
          {"redirected", total.redirected}, {"by_node", std::move(nodes)},
          {"calls", std::move(calls)}};
}

json estimate(const Summary& s) {
  auto finite = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return {{"n", s.n},
          {"mean", finite(s.mean)},
          {"ci95", {finite(s.ci.lo), finite(s.ci.hi)}},
          {"half_width", finite(s.ci.half_width)},
          {"batches", s.ci.batches},
          {"sd", finite(s.sd)},
          {"p50", finite(s.p50)},
          {"p90", finite(s.p90)},
          {"p95", finite(s.p95)},
          {"p99", finite(s.p99)},
          {"max", finite(s.max)}};
}

/// jobs.csv (every job) and the summary: jobs, their metrics, the policy's cost, the nodes' use.
json jobs(const Recorder& rec, const PoolReport& pool, double end_time, const std::filesystem::path& base) {
  Table t({"id", "arrival_s", "admitted_s", "started_s", "end_s", "response_s", "slowdown", "wait_s", "home",
           "node", "incarnations", "demand_s", "idle_s", "counted", "status"});
  const auto& jobs = rec.jobs();
  for (size_t i : order_by(jobs, [](const pool::JobRecord& j) { return j.id; })) {
    const auto& j = jobs[i];
    bool admitted = j.admitted >= 0;
    t.add({j.id, j.arrival, maybe(admitted, j.admitted), maybe(j.started >= 0, j.started),
           maybe(j.done(), j.ended), maybe(j.done(), j.response()),
           maybe(j.done() && j.idle_s > 0, j.response() / j.idle_s), maybe(admitted, j.admitted - j.arrival),
           j.home, maybe(j.node >= 0, rec.node_name(j.node)), j.incarnations, j.demand_s, j.idle_s, j.counted,
           j.status});
  }
  std::move(t).write(base / "jobs.csv");  // its rows stay out of results.json: a long run has many
  auto s = summarise_jobs(jobs);
  const auto& st = pool.stats;
  json nodes = json::array();
  for (const auto& n : pool.nodes)
    nodes.push_back({{"node", rec.node_name(n.node)},
                     {"utilisation", end_time > 0 ? n.busy_s / end_time : 0},
                     {"mean_run_queue", n.mean_run_queue}});
  return {{"arrived", s.arrived},
          {"completed", s.completed},
          {"failed", s.failed},
          {"unfinished", s.unfinished},
          {"counted", s.counted},
          {"warmup_s", pool.warmup_s},
          {"response_s", estimate(s.response)},
          {"slowdown", estimate(s.slowdown)},
          {"wait_s", estimate(s.wait)},
          {"policy",
           {{"name", pool.policy},
            {"decisions", st.decisions},
            {"transfers", st.transfers},
            {"transfer_fraction", st.decisions ? static_cast<double>(st.transfers) / st.decisions : 0.0},
            {"load_reads", st.load_reads},
            {"probes", st.probes},
            {"relays", st.relays},
            {"messages", 2 * (st.probes + st.relays)},
            {"queued", st.queued},
            {"refused", st.refused},
            {"decision_s", st.decision_s}}},
          {"nodes", std::move(nodes)}};
}

}  // namespace

JobsSummary summarise_jobs(const std::vector<pool::JobRecord>& all) {
  JobsSummary s;
  std::vector<const pool::JobRecord*> order;
  for (const auto& j : all) order.push_back(&j);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->id < b->id; });
  std::vector<double> response, slowdown, wait;
  for (const auto* j : order) {
    ++s.arrived;
    if (j->status != 0)
      ++s.failed;
    else if (!j->done())
      ++s.unfinished;
    else
      ++s.completed;
    if (!j->counted || !j->done()) continue;
    ++s.counted;
    response.push_back(j->response());
    if (j->idle_s > 0) slowdown.push_back(j->response() / j->idle_s);
    wait.push_back(j->admitted - j->arrival);
  }
  s.response = summarise(response);
  s.slowdown = summarise(slowdown);
  s.wait = summarise(wait);
  return s;
}

void write_results(const Recorder& rec, const std::string& dir, const std::string& scenario_name,
                   uint64_t seed, const RunEnd& end) {
  std::filesystem::path base(dir);
  std::filesystem::create_directories(base);
  IncNames inc_name(rec);
  int max_node = max_node_of(rec);

  json doc;
  doc["scenario"] = scenario_name;
  doc["seed"] = seed;
  doc["end_time"] = end.time;
  doc["end_reason"] = end.reason;
  doc["waiting"] = json::array();
  for (const auto& w : end.waiting)
    doc["waiting"].push_back({{"incarnation", w.incarnation},
                              {"rdc", w.rdc},
                              {"node", w.node},
                              {"waits_on", w.waits_on},
                              {"on_others", w.on_others}});
  doc["nodes"] = json::array();
  for (int n = 0; n <= max_node; ++n) doc["nodes"].push_back({{"index", n}, {"name", rec.node_name(n)}});
  doc["incarnations"] = incarnations(rec, base);
  doc["calls"] = calls(rec, inc_name, base);
  doc["records"] = records(rec, base);
  doc["node_load"] = node_load(rec, base);
  doc["messages"] = messages(rec, max_node, base);
  doc["migrations"] = migrations(rec, inc_name, base);
  doc["reconfigurations"] = reconfigurations(rec, inc_name, base);
  doc["invariant_violations"] = rec.violations();
  if (rec.pool_report()) doc["jobs"] = jobs(rec, *rec.pool_report(), end.time, base);
  write_file(base / "results.json", doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

const std::vector<std::string>& results_file_names() {
  static const std::vector<std::string> names = {"results.json",   "incarnations.csv",     "calls.csv",
                                                 "records.csv",    "node_load.csv",        "messages.csv",
                                                 "migrations.csv", "reconfigurations.csv", "jobs.csv"};
  return names;
}

}  // namespace equus::sim
