#include "sim/output/results.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
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

using IncName = std::function<std::string(GlobalId)>;

/// Incarnations.
void incarnations_section(const Recorder& rec, const std::filesystem::path& base, json& doc) {
  const auto& spans = rec.spans();
  auto idx = order_by(spans, [](const IncarnationSpan& s) { return std::tuple(s.start, s.id); });
  std::string csv = "id,name,rdc,module,node,start_s,end_s,end_reason,made_s,creation_ms\n";
  json arr = json::array();
  for (size_t i : idx) {
    const auto& s = spans[i];
    std::string node = rec.node_name(s.node);
    double creation = (s.made - s.called) * 1e3;
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", s.id, csv_field(s.name), csv_field(s.rdc),
                       csv_field(s.module), csv_field(node), num(s.start), s.ended() ? num(s.end) : "",
                       csv_field(s.why), s.was_made() ? num(s.made) : "", s.was_made() ? num(creation) : "");
    arr.push_back({{"id", s.id},
                   {"name", s.name},
                   {"rdc", s.rdc},
                   {"module", s.module},
                   {"node", node},
                   {"start_s", s.start},
                   {"end_s", s.ended() ? json(s.end) : json(nullptr)},
                   {"end_reason", s.ended() ? json(s.why) : json(nullptr)},
                   {"made_s", s.was_made() ? json(s.made) : json(nullptr)},
                   {"creation_ms", s.was_made() ? json(creation) : json(nullptr)}});
  }
  write_file(base / "incarnations.csv", csv);
  doc["incarnations"] = std::move(arr);
}

/// Calls: summary per (incarnation, call name).
void calls_section(const Recorder& rec, const std::filesystem::path& base, json& doc,
                   const IncName& inc_name) {
  std::map<std::pair<GlobalId, std::string>, CallStats> stats;
  for (const auto& c : rec.calls()) {
    double ms = (c.t1 - c.t0) * 1e3;
    auto& s = stats[{c.inc, rec.call_names()[c.name]}];
    if (s.count == 0) {
      s.min = s.max = ms;
    } else {
      s.min = std::min(s.min, ms);
      s.max = std::max(s.max, ms);
    }
    s.sum += ms;
    ++s.count;
  }
  std::string csv = "incarnation,name,call,count,mean_ms,min_ms,max_ms\n";
  json arr = json::array();
  for (const auto& [key, s] : stats) {
    double mean = s.sum / static_cast<double>(s.count);
    std::string name = inc_name(key.first);
    csv += fmt::format("{},{},{},{},{},{},{}\n", key.first, csv_field(name), csv_field(key.second), s.count,
                       num(mean), num(s.min), num(s.max));
    arr.push_back({{"incarnation", key.first},
                   {"name", name},
                   {"call", key.second},
                   {"count", s.count},
                   {"mean_ms", mean},
                   {"min_ms", s.min},
                   {"max_ms", s.max}});
  }
  write_file(base / "calls.csv", csv);
  doc["calls"] = std::move(arr);
}

/// Records.
void records_section(const Recorder& rec, const std::filesystem::path& base, json& doc) {
  const auto& recs = rec.records();
  auto idx = order_by(recs, [](const RecordEvent& r) { return std::tuple(r.t, r.inc); });
  std::string csv = "time_s,incarnation,key,value\n";
  json arr = json::array();
  for (size_t i : idx) {
    const auto& r = recs[i];
    csv += fmt::format("{},{},{},{}\n", num(r.t), r.inc, csv_field(r.key), num(r.value));
    arr.push_back({{"time_s", r.t}, {"incarnation", r.inc}, {"key", r.key}, {"value", r.value}});
  }
  write_file(base / "records.csv", csv);
  doc["records"] = std::move(arr);
}

/// Node load.
void node_load_section(const Recorder& rec, const std::filesystem::path& base, json& doc) {
  const auto& loads = rec.loads();
  auto idx = order_by(loads, [](const LoadSample& l) { return std::tuple(l.t, l.node); });
  std::string csv = "time_s,node,load\n";
  json arr = json::array();
  for (size_t i : idx) {
    const auto& l = loads[i];
    std::string node = rec.node_name(l.node);
    csv += fmt::format("{},{},{}\n", num(l.t), csv_field(node), num(l.load));
    arr.push_back({{"time_s", l.t}, {"node", node}, {"load", l.load}});
  }
  write_file(base / "node_load.csv", csv);
  doc["node_load"] = std::move(arr);
}

/// Kernel messages: every packet in the CSV, a summary per kind in the JSON.
void messages_section(const Recorder& rec, const std::filesystem::path& base, json& doc, int max_node) {
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
  doc["messages"] = {{"count", msgs.size()}, {"by_kind", std::move(summary)}};
}

/// Migrations (Section 7.4.4): the phases' end times, elapsed and frozen time, bytes moved.
void migrations_section(const Recorder& rec, const std::filesystem::path& base, json& doc,
                        const IncName& inc_name) {
  const auto& migs = rec.migrations();
  auto idx = order_by(migs, [](const kernel::Observer::Migration& m) { return std::tuple(m.start, m.inc); });
  std::string csv =
      "incarnation,name,from,to,start_s,pincdata_s,text_s,frozen_s,restart_s,elapsed_ms,freeze_ms,bytes,"
      "ports,"
      "messages\n";
  json arr = json::array();
  for (size_t i : idx) {
    const auto& m = migs[i];
    double elapsed = (m.restart - m.start) * 1e3, freeze = (m.restart - m.frozen) * 1e3;
    std::string name = inc_name(m.inc), from = rec.node_name(m.from), to = rec.node_name(m.to);
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", m.inc, csv_field(name), csv_field(from),
                       csv_field(to), num(m.start), num(m.pincdata), num(m.text), num(m.frozen),
                       num(m.restart), num(elapsed), num(freeze), num(m.bytes), m.ports, m.messages);
    arr.push_back({{"incarnation", m.inc},
                   {"name", name},
                   {"from", from},
                   {"to", to},
                   {"start_s", m.start},
                   {"pincdata_s", m.pincdata},
                   {"text_s", m.text},
                   {"frozen_s", m.frozen},
                   {"restart_s", m.restart},
                   {"elapsed_ms", elapsed},
                   {"freeze_ms", freeze},
                   {"bytes", m.bytes},
                   {"ports", m.ports},
                   {"messages", m.messages}});
  }
  write_file(base / "migrations.csv", csv);
  doc["migrations"] = std::move(arr);
}

/// Reconfigurations (Chapter 6): each call, then the kernels' forwarding counts for the whole run.
void reconfigurations_section(const Recorder& rec, const std::filesystem::path& base, json& doc,
                              const IncName& inc_name) {
  const auto& recs = rec.reconfigurations();
  auto idx = order_by(recs, [](const ReconfigEvent& r) { return r.t0; });
  std::string csv =
      "time_s,end_s,kind,origin,incarnation,name,detail,status,forwarded,forwarded_pending,redirected\n";
  json arr = json::array();
  std::map<std::string, uint64_t> by_kind;
  for (size_t i : idx) {
    const auto& r = recs[i];
    bool ended = r.t1 != open_end;
    std::string name = inc_name(r.what.by);
    ++by_kind[r.what.kind];
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", num(r.t0), ended ? num(r.t1) : "",
                       csv_field(r.what.kind), csv_field(r.what.origin), r.what.by, csv_field(name),
                       csv_field(r.what.detail), r.status, r.during.forwarded, r.during.forwarded_pending,
                       r.during.redirected);
    arr.push_back({{"time_s", r.t0},
                   {"end_s", ended ? json(r.t1) : json(nullptr)},
                   {"kind", r.what.kind},
                   {"origin", r.what.origin},
                   {"incarnation", r.what.by},
                   {"name", name},
                   {"detail", r.what.detail},
                   {"status", r.status},
                   {"forwarded", r.during.forwarded},
                   {"forwarded_pending", r.during.forwarded_pending},
                   {"redirected", r.during.redirected}});
  }
  write_file(base / "reconfigurations.csv", csv);
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
  doc["reconfigurations"] = {{"count", recs.size()},           {"by_kind", by_kind},
                             {"forwarded", total.forwarded},   {"forwarded_pending", total.forwarded_pending},
                             {"redirected", total.redirected}, {"by_node", std::move(nodes)},
                             {"calls", std::move(arr)}};
}

}  // namespace

void write_results(const Recorder& rec, const std::string& dir, const std::string& scenario_name,
                   uint64_t seed, double end_time) {
  namespace fs = std::filesystem;
  fs::path base(dir);
  fs::create_directories(base);

  // First name seen for each incarnation id (a migrated incarnation keeps its name).
  std::map<GlobalId, std::string> inc_names;
  for (const auto& s : rec.spans()) inc_names.emplace(s.id, s.name);
  IncName inc_name = [&](GlobalId id) {
    auto it = inc_names.find(id);
    return it == inc_names.end() ? std::string() : it->second;
  };

  json doc;
  doc["scenario"] = scenario_name;
  doc["seed"] = seed;
  doc["end_time"] = end_time;

  // Nodes: every node named or referenced.
  int max_node = static_cast<int>(rec.node_names().size()) - 1;
  for (const auto& s : rec.spans()) max_node = std::max(max_node, s.node);
  for (const auto& m : rec.messages()) max_node = std::max({max_node, m.src_node, m.dst_node});
  for (const auto& l : rec.loads()) max_node = std::max(max_node, l.node);
  doc["nodes"] = json::array();
  for (int n = 0; n <= max_node; ++n) doc["nodes"].push_back({{"index", n}, {"name", rec.node_name(n)}});

  incarnations_section(rec, base, doc);
  calls_section(rec, base, doc, inc_name);
  records_section(rec, base, doc);
  node_load_section(rec, base, doc);
  messages_section(rec, base, doc, max_node);
  migrations_section(rec, base, doc, inc_name);
  reconfigurations_section(rec, base, doc, inc_name);

  doc["invariant_violations"] = rec.violations();

  write_file(base / "results.json", doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

}  // namespace equus::sim
