#include "sim/scenario/scenario.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "models/kernel/model_params.hpp"
#include "models/params/params.hpp"
#include "models/pool/policy.hpp"
#include "models/pool/workload_driver.hpp"
#include "models/programs/registry.hpp"
#include "models/support/json_number.hpp"
#include "models/support/overloaded.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace equus::sim {

const ScenarioLimits& scenario_limits() {
  static const ScenarioLimits limits = [] {
    ScenarioLimits l;
    l.file = "sim/scenario/limits.json";
    auto path = params::data_dir() + "/" + l.file;
    std::ifstream in(path);
    auto doc = json::parse(in, nullptr, false);
    if (!doc.is_object() || !doc.contains("limits") || !doc["limits"].is_object())
      throw ScenarioError(path + ": cannot read the limits (/limits must be an object)");
    std::map<std::string, std::pair<std::size_t*, params::Dimension>> counts = {
        {"max_json_depth", {&l.max_json_depth, params::Dimension::Count}},
        {"max_op_depth", {&l.max_op_depth, params::Dimension::Count}},
        {"max_ops", {&l.max_ops, params::Dimension::Count}},
        {"max_events", {&l.max_events, params::Dimension::Count}},
        {"max_rdcs", {&l.max_rdcs, params::Dimension::Count}},
        {"max_incarnations", {&l.max_incarnations, params::Dimension::Count}},
        {"max_nodes", {&l.max_nodes, params::Dimension::Count}},
        {"max_echo_chars", {&l.max_echo_chars, params::Dimension::Count}},
        {"max_message_bytes", {&l.max_message_bytes, params::Dimension::Bytes}},
    };
    for (const auto& [name, slot] : counts) {
      auto where = path + ": /limits/" + name;
      const auto& e = doc["limits"].value(name, json());
      if (!e.is_object() || !e.contains("value") || !e["value"].is_number() || !e.contains("unit") ||
          !e["unit"].is_string() || !e.contains("provenance"))
        throw ScenarioError(where + ": needs a numeric 'value', a 'unit' and a 'provenance'");
      try {
        *slot.first = static_cast<std::size_t>(
            params::to_si(e["value"].get<double>(), e["unit"].get<std::string>(), slot.second, where));
      } catch (const params::ParamError& err) {
        throw ScenarioError(err.what());
      }
    }
    if (doc["limits"].size() != counts.size()) throw ScenarioError(path + ": /limits has unknown entries");
    return l;
  }();
  return limits;
}

namespace {

// ---- JSON pointers (RFC 6901) and message text -------------------------------------------------

std::string escape(const std::string& key) {
  std::string out;
  for (char ch : key) {
    if (ch == '~')
      out += "~0";
    else if (ch == '/')
      out += "~1";
    else
      out += ch;
  }
  return out;
}

std::string at(const std::string& ptr, const std::string& key) { return ptr + "/" + escape(key); }

/// `s` as one line of at most about `max` characters: control characters escaped (a user string with
/// newlines must not split an error), and the middle of a longer text cut out.
std::string one_line(const std::string& s, std::size_t max) {
  std::string out;
  for (unsigned char ch : s) {
    if (ch == '\n')
      out += "\\n";
    else if (ch == '\t')
      out += "\\t";
    else if (ch == '\r')
      out += "\\r";
    else if (ch < 0x20 || ch == 0x7f)
      out += fmt::format("\\x{:02x}", ch);
    else
      out += static_cast<char>(ch);
  }
  if (out.size() <= max || max < 16) return out;
  auto continuation = [&](std::size_t i) { return (static_cast<unsigned char>(out[i]) & 0xC0) == 0x80; };
  std::size_t head = max / 2, tail = out.size() - max / 2;
  while (head > 0 && continuation(head)) --head;  // cut between UTF-8 characters, not inside one
  while (tail < out.size() && continuation(tail)) ++tail;
  return out.substr(0, head) + fmt::format(" [... {} characters ...] ", tail - head) + out.substr(tail);
}
std::string at(const std::string& ptr, std::size_t index) { return ptr + "/" + std::to_string(index); }

std::string num_text(double v) { return fmt::format("{}", v); }

std::string join(const std::vector<std::string>& items, const std::string& sep, const std::string& quote) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + quote + items[i] + quote;
  return out;
}

/// A node named by name or hexadecimal kernel id, resolved as the run resolves it.
bool node_exists(const std::vector<platform::NodeDescriptor>& nodes, const std::string& ref) {
  return platform::find_node(nodes, ref) >= 0;
}

using Keys = std::vector<std::string>;

const Keys event_types = {"launch",      "allocate_node", "withdraw_node", "destroy",
                          "freeze",      "unfreeze",      "graph",         "migrate",
                          "attach_port", "rebind_stream", "freeze_stream", "unfreeze_stream"};

// ---- The checker: one method per construct; every failure throws a one-line ScenarioError ----

class Checker {
 public:
  Checker(std::string file, std::string base_dir) : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  ScenarioSpec run(const json& doc);

 private:
  [[noreturn]] void fail(const std::string& ptr, const std::string& msg) const {
    // User strings (keys, names, values) are echoed in both: keep the error one readable line.
    auto max = scenario_limits().max_echo_chars;
    auto m = one_line(msg, 4 * max);
    throw ScenarioError(ptr.empty() ? file_ + ": " + m : file_ + ": " + one_line(ptr, 2 * max) + ": " + m);
  }

  /// An object holding only `allowed` keys (first unknown key reported) and every `required` one.
  void object(const json& j, const std::string& ptr, const Keys& allowed, const Keys& required = {}) const {
    if (!j.is_object()) fail(ptr, "must be an object");
    for (const auto& [key, value] : j.items())
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) fail(at(ptr, key), "unknown key");
    for (const auto& key : required)
      if (!j.contains(key)) fail(ptr, "missing required key '" + key + "'");
  }

  static const json* find(const json& o, const std::string& key) {
    auto it = o.find(key);
    return it == o.end() ? nullptr : &*it;
  }

  std::string str(const json& j, const std::string& ptr) const {
    if (!j.is_string()) fail(ptr, "must be a string");
    return j.get<std::string>();
  }

  std::string name(const json& j, const std::string& ptr) const {
    if (!j.is_string() || j.get<std::string>().empty()) fail(ptr, "must be a non-empty string");
    return j.get<std::string>();
  }

  enum class Min { Any, NonNegative, Positive };

  double number(const json& j, const std::string& ptr, Min min) const {
    static const char* const text[] = {"must be a number", "must be a number >= 0", "must be a number > 0"};
    const char* msg = text[static_cast<int>(min)];
    if (!j.is_number()) fail(ptr, msg);
    double v = j.get<double>();
    if ((min == Min::NonNegative && !(v >= 0)) || (min == Min::Positive && !(v > 0))) fail(ptr, msg);
    return v;
  }

  int64_t integer(const json& j, const std::string& ptr, std::optional<int64_t> min = {}) const {
    auto v = as_int64(j);
    if (!v || (min && *v < *min))
      fail(ptr, min ? "must be an integer >= " + std::to_string(*min) : "must be an integer");
    return *v;
  }

  /// `n` things at `ptr` within the limit `name` of sim/scenario/limits.json.
  void within(std::size_t n, std::size_t limit, const std::string& ptr, const std::string& what,
              const std::string& name) const {
    if (n > limit)
      fail(ptr, fmt::format("more than {} {} (limit {} in {})", limit, what, name, scenario_limits().file));
  }

  bool boolean(const json& j, const std::string& ptr) const {
    if (!j.is_boolean()) fail(ptr, "must be a boolean");
    return j.get<bool>();
  }

  std::string choice(const json& j, const std::string& ptr, const Keys& options) const {
    if (j.is_string() && std::find(options.begin(), options.end(), j.get<std::string>()) != options.end())
      return j.get<std::string>();
    fail(ptr, "must be one of " + join(options, ", ", "'") +
                  (j.is_string() ? " (got '" + j.get<std::string>() + "')" : ""));
  }

  const json& array(const json& j, const std::string& ptr, bool non_empty = false) const {
    if (!j.is_array() || (non_empty && j.empty()))
      fail(ptr, non_empty ? "must be a non-empty array" : "must be an array");
    return j;
  }

  std::vector<std::string> names(const json& j, const std::string& ptr, bool non_empty = false) const {
    std::vector<std::string> out;
    std::size_t i = 0;
    for (const auto& item : array(j, ptr, non_empty)) out.push_back(name(item, at(ptr, i++)));
    return out;
  }

  std::vector<int64_t> integers(const json& j, const std::string& ptr) const {
    std::vector<int64_t> out;
    std::size_t i = 0;
    for (const auto& item : array(j, ptr)) out.push_back(integer(item, at(ptr, i++)));
    return out;
  }

  // Structure (what the schema expresses).
  void platform(const json& j, const std::string& ptr, ScenarioSpec& s);
  ModuleSpec module(const std::string& name, const json& j, const std::string& ptr) const;
  RdcSpec rdc(const json& j, const std::string& ptr) const;
  IncarnationSpec incarnation(const json& j, const std::string& ptr, bool primary) const;
  InterfaceSpec interface(const json& j, const std::string& ptr) const;
  EventSpec event(const json& j, const std::string& ptr) const;
  OutputSpec outputs(const json& j, const std::string& ptr) const;

  // Cross-references (what the schema cannot express).
  void load_pool(ScenarioSpec& s) const;
  void check_modules(const ScenarioSpec& s) const;
  void check_rdc(const ScenarioSpec& s, std::size_t index) const;
  void check_labels(const RdcSpec& r, const std::string& ptr) const;
  void check_ops(const ScenarioSpec& s) const;
  void check_events(const ScenarioSpec& s) const;
  void check_workload(ScenarioSpec& s) const;
  void policy(const json& j, ScenarioSpec& s) const;
  struct Labels;
  /// One event's cross-references within its RDC `r`; `launched` and `labels` carry across events.
  void check_event(const ScenarioSpec& s, const EventSpec& e, const std::string& p, const RdcSpec& r,
                   std::map<std::string, std::string>& launched, std::map<std::string, Labels>& labels) const;
  Labels labels_of(const ScenarioSpec& s, const RdcSpec& r) const;
  std::string resolve(const std::string& path) const;

  std::string file_, base_dir_;
  std::string nodes_file_, users_file_;  // empty when inline
};

// ---- Structure ----

void Checker::platform(const json& j, const std::string& ptr, ScenarioSpec& s) {
  object(j, ptr, {"nodes", "users", "overrides"});
  if (auto* n = find(j, "nodes")) {
    auto p = at(ptr, "nodes");
    if (n->is_string() && !n->get<std::string>().empty()) {
      nodes_file_ = n->get<std::string>();
    } else if (n->is_array() && !n->empty()) {
      nodes_file_.clear();
      std::size_t i = 0;
      for (const auto& item : *n) {
        auto np = at(p, i++);
        object(item, np, {"id", "name", "groups", "type", "memory_mb"}, {"id", "name"});
        platform::NodeDescriptor d;
        auto id = str(item["id"], at(np, "id"));
        auto kernel_id = platform::parse_kernel_id(id);
        if (!kernel_id) fail(at(np, "id"), "must be a hexadecimal kernel id (got '" + id + "')");
        d.kernel_id = *kernel_id;
        d.name = name(item["name"], at(np, "name"));
        if (auto* g = find(item, "groups")) d.groups = names(*g, at(np, "groups"));
        d.type = "jt68030";
        if (auto* t = find(item, "type")) d.type = name(*t, at(np, "type"));
        double mb = 4;  // the pool's JT68030 cards
        if (auto* m = find(item, "memory_mb")) mb = number(*m, at(np, "memory_mb"), Min::Positive);
        d.characteristics = {num_text(mb) + "mb"};
        d.memory_bytes = mb * 1024 * 1024;
        s.nodes.push_back(std::move(d));
      }
    } else {
      fail(p, "must be a file name or a non-empty array of nodes");
    }
  }
  if (auto* u = find(j, "users")) {
    auto p = at(ptr, "users");
    if (u->is_string() && !u->get<std::string>().empty()) {
      users_file_ = u->get<std::string>();
    } else if (u->is_array()) {
      users_file_.clear();
      std::size_t i = 0;
      for (const auto& item : *u) {
        auto up = at(p, i++);
        object(item, up, {"user", "groups"}, {"user", "groups"});
        s.users.push_back({name(item["user"], at(up, "user")), names(item["groups"], at(up, "groups"))});
      }
    } else {
      fail(p, "must be a file name or an array of users");
    }
  }
  if (auto* o = find(j, "overrides")) {
    // Any name here; ModelParams::load judges the names later.
    auto p = at(ptr, "overrides");
    if (!o->is_object()) fail(p, "must be an object");
    for (const auto& [key, value] : o->items()) {
      if (!value.is_number()) fail(at(p, key), "must be a number");
      s.overrides[key] = value.dump();
    }
  }
}

ModuleSpec Checker::module(const std::string& module_name, const json& j, const std::string& ptr) const {
  object(j, ptr, {"text_kb", "data_kb", "heap_kb", "stack_kb", "service", "program"}, {"text_kb", "program"});
  ModuleSpec m;
  m.name = module_name;
  m.text_kb = number(j["text_kb"], at(ptr, "text_kb"), Min::NonNegative);
  if (auto* v = find(j, "data_kb")) m.data_kb = number(*v, at(ptr, "data_kb"), Min::NonNegative);
  if (auto* v = find(j, "heap_kb")) m.heap_kb = number(*v, at(ptr, "heap_kb"), Min::NonNegative);
  if (auto* v = find(j, "stack_kb")) m.stack_kb = number(*v, at(ptr, "stack_kb"), Min::NonNegative);
  if (auto* v = find(j, "service")) m.service = boolean(*v, at(ptr, "service"));
  auto pp = at(ptr, "program");
  const auto& p = j["program"];
  object(p, pp, {"cpp", "ops"});
  if (p.contains("cpp") == p.contains("ops")) fail(pp, "must have exactly one of 'cpp' or 'ops'");
  if (auto* c = find(p, "cpp")) {
    m.cpp = name(*c, at(pp, "cpp"));
  } else {
    try {  // the op language's own parser: the same definitions run the program
      const auto& l = scenario_limits();
      programs::ops::Limits limits{l.max_op_depth, l.max_ops, static_cast<int64_t>(l.max_message_bytes),
                                   l.file};
      m.ops = std::make_shared<const programs::ops::Block>(programs::ops::parse_ops(p["ops"], limits));
    } catch (const programs::ops::OpError& e) {
      fail(at(pp, "ops") + e.pointer(), e.message());
    }
  }
  return m;
}

RdcSpec Checker::rdc(const json& j, const std::string& ptr) const {
  object(j, ptr, {"name", "user", "groups", "nodes", "primary", "incarnations", "channels"},
         {"name", "user", "primary"});
  RdcSpec r;
  r.name = name(j["name"], at(ptr, "name"));
  r.user = name(j["user"], at(ptr, "user"));
  if (auto* g = find(j, "groups")) r.groups = names(*g, at(ptr, "groups"), true);
  if (auto* n = find(j, "nodes")) {
    auto v = integer(*n, at(ptr, "nodes"), 1);
    if (v > std::numeric_limits<int>::max()) fail(at(ptr, "nodes"), "too many nodes");
    r.nodes = static_cast<int>(v);
  }
  r.primary = incarnation(j["primary"], at(ptr, "primary"), true);
  if (auto* list = find(j, "incarnations")) {
    auto p = at(ptr, "incarnations");
    std::size_t i = 0;
    for (const auto& item : array(*list, p)) r.incarnations.push_back(incarnation(item, at(p, i++), false));
  }
  if (auto* list = find(j, "channels")) {
    auto p = at(ptr, "channels");
    std::size_t i = 0;
    for (const auto& item : array(*list, p)) {
      auto cp = at(p, i++);
      object(item, cp, {"label", "type", "as"}, {"label"});
      ChannelSpec c;
      c.label = name(item["label"], at(cp, "label"));
      if (auto* t = find(item, "type"))
        c.multicast = choice(*t, at(cp, "type"), {"unicast", "multicast"}) == "multicast";
      c.as = c.label;
      if (auto* a = find(item, "as")) c.as = name(*a, at(cp, "as"));
      r.channels.push_back(std::move(c));
    }
  }
  return r;
}

IncarnationSpec Checker::incarnation(const json& j, const std::string& ptr, bool primary) const {
  if (primary)
    object(j, ptr, {"module", "node", "args"}, {"module"});
  else
    object(j, ptr, {"name", "module", "node", "state", "from", "args", "interfaces"}, {"name", "module"});
  IncarnationSpec inc;
  if (primary) {
    inc.name = "primary";
  } else {
    inc.name = name(j["name"], at(ptr, "name"));
    if (inc.name == "primary") fail(at(ptr, "name"), "'primary' is reserved for the primary incarnation");
  }
  inc.module = name(j["module"], at(ptr, "module"));
  if (auto* n = find(j, "node")) inc.node = name(*n, at(ptr, "node"));
  if (auto* s = find(j, "state"))
    inc.inchoate = choice(*s, at(ptr, "state"), {"STARTED", "INCHOATE"}) == "INCHOATE";
  if (auto* f = find(j, "from")) inc.from = name(*f, at(ptr, "from"));
  if (auto* a = find(j, "args")) inc.args = integers(*a, at(ptr, "args"));
  if (auto* list = find(j, "interfaces")) {
    auto p = at(ptr, "interfaces");
    std::size_t i = 0;
    for (const auto& item : array(*list, p)) inc.interfaces.push_back(interface(item, at(p, i++)));
  }
  return inc;
}

InterfaceSpec Checker::interface(const json& j, const std::string& ptr) const {
  object(j, ptr, {"name", "kind", "label", "chan", "type", "handle"}, {"name", "kind", "label"});
  InterfaceSpec f;
  f.name = name(j["name"], at(ptr, "name"));
  f.kind = choice(j["kind"], at(ptr, "kind"), {"stream", "port"}) == "port" ? InterfaceSpec::Port
                                                                            : InterfaceSpec::Stream;
  f.label = name(j["label"], at(ptr, "label"));
  if (f.kind == InterfaceSpec::Stream) {
    if (j.contains("chan")) fail(at(ptr, "chan"), "only ports have 'chan'");
    if (j.contains("type")) fail(at(ptr, "type"), "only ports have a 'type'");
  } else {
    f.chan_new = true;  // "other" joins a channel created elsewhere; anything else creates one
    if (auto* c = find(j, "chan")) f.chan_new = choice(*c, at(ptr, "chan"), {"new", "other"}) == "new";
    if (auto* t = find(j, "type")) {
      if (!f.chan_new) fail(at(ptr, "type"), "only ports with chan 'new' have a 'type'");
      f.multicast = choice(*t, at(ptr, "type"), {"unicast", "multicast"}) == "multicast";
    }
  }
  if (auto* h = find(j, "handle")) f.handle = name(*h, at(ptr, "handle"));
  return f;
}

EventSpec Checker::event(const json& j, const std::string& ptr) const {
  if (!j.is_object()) fail(ptr, "must be an object");
  auto* t = find(j, "type");
  if (!t) fail(ptr, "missing required key 'type'");
  EventSpec e;
  e.type = str(*t, at(ptr, "type"));
  if (e.type == "propagate_port")
    fail(at(ptr, "type"),
         "a port is propagated by its owner, not by an event: send it in a message (op \"ref\") in its "
         "program");
  if (std::find(event_types.begin(), event_types.end(), e.type) == event_types.end())
    fail(at(ptr, "type"), "unknown event type '" + e.type + "'");
  // Required and optional keys besides at, type and rdc.
  static const std::map<std::string, std::pair<Keys, Keys>> keys = {
      {"launch", {{}, {}}},
      {"allocate_node", {{"node"}, {}}},
      {"withdraw_node", {{"node"}, {"notice_s", "kill", "migrate_to", "notify"}}},
      {"destroy", {{"incarnation"}, {}}},
      {"freeze", {{"incarnation"}, {}}},
      {"unfreeze", {{"incarnation"}, {}}},
      {"graph", {{}, {}}},
      {"migrate", {{"incarnation", "node"}, {}}},
      {"attach_port", {{"port", "channel"}, {"detach", "move_queue"}}},
      {"rebind_stream", {{"stream", "channel"}, {"forward_from"}}},
      {"freeze_stream", {{"stream"}, {}}},
      {"unfreeze_stream", {{"stream"}, {}}},
  };
  const auto& [more, optional] = keys.at(e.type);
  Keys required = {"at", "type"};
  if (e.type != "graph") required.push_back("rdc");
  required.insert(required.end(), more.begin(), more.end());
  Keys allowed = required;
  allowed.insert(allowed.end(), optional.begin(), optional.end());
  object(j, ptr, allowed, required);
  e.at = number(j["at"], at(ptr, "at"), Min::NonNegative);
  if (auto* v = find(j, "rdc")) e.rdc = name(*v, at(ptr, "rdc"));
  auto text = [&](const char* key) {
    auto* v = find(j, key);
    return v ? name(*v, at(ptr, key)) : std::string();
  };
  auto flag = [&](const char* key, bool dflt) {
    auto* v = find(j, key);
    return v ? boolean(*v, at(ptr, key)) : dflt;
  };
  if (e.type == "launch") {
    e.action = event::Launch{};
  } else if (e.type == "allocate_node") {
    e.action = event::AllocateNode{text("node")};
  } else if (e.type == "withdraw_node") {
    event::WithdrawNode w;
    w.node = text("node");
    if (auto* v = find(j, "notice_s")) w.notice_s = number(*v, at(ptr, "notice_s"), Min::NonNegative);
    w.kill = flag("kill", true);
    w.migrate_to = text("migrate_to");
    w.notify = text("notify");
    e.action = w;
  } else if (e.type == "destroy") {
    e.action = event::Destroy{text("incarnation")};
  } else if (e.type == "freeze") {
    e.action = event::Freeze{text("incarnation")};
  } else if (e.type == "unfreeze") {
    e.action = event::Unfreeze{text("incarnation")};
  } else if (e.type == "graph") {
    e.action = event::Graph{};
  } else if (e.type == "migrate") {
    e.action = event::Migrate{text("incarnation"), text("node")};
  } else if (e.type == "attach_port") {
    e.action = event::AttachPort{text("port"), text("channel"), text("detach"), flag("move_queue", true)};
  } else if (e.type == "rebind_stream") {
    e.action = event::RebindStream{text("stream"), text("channel"), text("forward_from")};
  } else if (e.type == "freeze_stream") {
    e.action = event::FreezeStream{text("stream")};
  } else {
    e.action = event::UnfreezeStream{text("stream")};
  }
  return e;
}

OutputSpec Checker::outputs(const json& j, const std::string& ptr) const {
  object(j, ptr, {"results", "trace", "graph_at"});
  OutputSpec o;
  if (auto* v = find(j, "results")) o.results = boolean(*v, at(ptr, "results"));
  if (auto* v = find(j, "trace")) o.trace = boolean(*v, at(ptr, "trace"));
  if (auto* v = find(j, "graph_at")) {
    auto p = at(ptr, "graph_at");
    std::size_t i = 0;
    for (const auto& item : array(*v, p)) o.graph_at.push_back(number(item, at(p, i++), Min::NonNegative));
  }
  return o;
}

// ---- Cross-references ----

std::string Checker::resolve(const std::string& path) const {
  if (fs::path(path).is_absolute()) return path;
  auto here = fs::path(base_dir_) / path;
  if (fs::exists(here)) return here.string();
  auto shared = fs::path(params::data_dir()) / "scenarios" / path;
  return fs::exists(shared) ? shared.string() : here.string();
}

void Checker::load_pool(ScenarioSpec& s) const {
  // Pool-file errors start with the resolved path; name the file as the scenario wrote it instead.
  auto load = [&](const std::string& written, const std::string& ptr, auto loader) {
    auto path = resolve(written);
    try {
      return loader(path);
    } catch (const platform::PoolFileError& e) {
      std::string msg = e.what();
      if (msg.rfind(path, 0) == 0) msg = written + msg.substr(path.size());
      fail(ptr, msg);
    }
  };
  if (!nodes_file_.empty()) {
    s.nodes = load(nodes_file_, "/platform/nodes", platform::load_node_descriptors);
  } else {
    std::set<unsigned> ids;
    std::set<std::string> node_names;
    for (std::size_t i = 0; i < s.nodes.size(); ++i) {
      auto p = at("/platform/nodes", i);
      if (!ids.insert(s.nodes[i].kernel_id).second)
        fail(at(p, "id"), fmt::format("duplicate node id '{:x}'", s.nodes[i].kernel_id));
      if (!node_names.insert(s.nodes[i].name).second)
        fail(at(p, "name"), "duplicate node name '" + s.nodes[i].name + "'");
    }
  }
  if (!users_file_.empty()) {
    s.users = load(users_file_, "/platform/users", platform::load_pool_users);
  } else {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < s.users.size(); ++i)
      if (!seen.insert(s.users[i].user).second)
        fail(at(at("/platform/users", i), "user"), "duplicate user '" + s.users[i].user + "'");
  }
  if (!s.overrides.empty()) {
    try {
      params::ModelParams::load(s.overrides);
    } catch (const params::ParamError& e) {
      fail("/platform/overrides", e.what());
    }
  }
}

void Checker::check_modules(const ScenarioSpec& s) const {
  double memory_kb = 0;  // the largest node: a module must fit somewhere
  for (const auto& n : s.nodes) memory_kb = std::max(memory_kb, n.memory_bytes / 1024);
  for (const auto& [module_name, m] : s.modules) {
    auto p = at("/modules", module_name);
    if (!m.cpp.empty() && !programs::has_program(m.cpp))
      fail(at(at(p, "program"), "cpp"), "unknown cpp program '" + m.cpp + "' (not registered)");
    double size = m.text_kb + m.data_kb + m.heap_kb + m.stack_kb;
    if (memory_kb > 0 && size > memory_kb)
      fail(p,
           "impossible size: " + num_text(size) + " kB exceeds node memory " + num_text(memory_kb) + " kB");
  }
}

void Checker::check_rdc(const ScenarioSpec& s, std::size_t index) const {
  const auto& r = s.rdcs[index];
  auto ptr = at("/rdcs", index);
  for (std::size_t i = 0; i < index; ++i)
    if (s.rdcs[i].name == r.name) fail(at(ptr, "name"), "duplicate rdc name '" + r.name + "'");
  auto user = std::find_if(s.users.begin(), s.users.end(), [&](const auto& u) { return u.user == r.user; });
  if (user == s.users.end())
    fail(at(ptr, "user"), "unknown user '" + r.user + "' (not in " +
                              (users_file_.empty() ? std::string("/platform/users") : "the pool users file") +
                              ")");
  for (std::size_t i = 0; i < r.groups.size(); ++i)
    if (std::find(user->groups.begin(), user->groups.end(), r.groups[i]) == user->groups.end())
      fail(at(at(ptr, "groups"), i), "user '" + r.user + "' may not use group '" + r.groups[i] +
                                         "' (groups: " + join(user->groups, ", ", "") + ")");
  if (static_cast<std::size_t>(r.nodes) > s.nodes.size())
    fail(at(ptr, "nodes"),
         std::to_string(r.nodes) + " nodes requested but the pool has " + std::to_string(s.nodes.size()));

  auto check_inc = [&](const IncarnationSpec& inc, const std::string& p) {
    if (!s.modules.count(inc.module)) fail(at(p, "module"), "unknown module '" + inc.module + "'");
    if (!inc.node.empty() && !node_exists(s.nodes, inc.node))
      fail(at(p, "node"), "unknown node '" + inc.node + "'");
  };
  check_inc(r.primary, at(ptr, "primary"));
  for (std::size_t i = 0; i < r.incarnations.size(); ++i) {
    const auto& inc = r.incarnations[i];
    auto p = at(at(ptr, "incarnations"), i);
    for (std::size_t k = 0; k < i; ++k)
      if (r.incarnations[k].name == inc.name)
        fail(at(p, "name"), "duplicate incarnation name '" + inc.name + "'");
    check_inc(inc, p);
    if (!inc.from.empty()) {
      auto fp = at(p, "from");
      auto earlier = r.incarnations.begin() + static_cast<std::ptrdiff_t>(i);
      auto src =
          std::find_if(r.incarnations.begin(), earlier, [&](const auto& x) { return x.name == inc.from; });
      if (src == earlier) {
        bool later =
            std::any_of(earlier, r.incarnations.end(), [&](const auto& x) { return x.name == inc.from; });
        if (inc.from == "primary") fail(fp, "'primary' is not INCHOATE");
        fail(fp, later ? "'" + inc.from + "' is not declared before this incarnation"
                       : "unknown incarnation '" + inc.from + "'");
      }
      if (!src->inchoate) fail(fp, "'" + inc.from + "' is not INCHOATE");
      if (src->module != inc.module)
        fail(fp, "'" + inc.from + "' is an incarnation of module '" + src->module + "', not '" + inc.module +
                     "'");
    }
    std::set<std::string> iface_names;
    for (std::size_t k = 0; k < inc.interfaces.size(); ++k)
      if (!iface_names.insert(inc.interfaces[k].name).second)
        fail(at(at(at(p, "interfaces"), k), "name"),
             "duplicate interface name '" + inc.interfaces[k].name + "'");
  }
  std::set<std::string> as_names;
  for (std::size_t k = 0; k < r.channels.size(); ++k)
    if (!as_names.insert(r.channels[k].as).second)
      fail(at(at(ptr, "channels"), k), "duplicate interface name '" + r.channels[k].as + "' in the primary");
  check_labels(r, ptr);
}

void Checker::check_labels(const RdcSpec& r, const std::string& ptr) const {
  struct Creator {
    std::string where;
    bool multicast;
  };
  std::map<std::string, Creator> creators;
  // The primary's own channels exist before the configurer creates incarnations.
  for (std::size_t k = 0; k < r.channels.size(); ++k) {
    auto p = at(at(ptr, "channels"), k);
    const auto& c = r.channels[k];
    auto [it, fresh] = creators.emplace(c.label, Creator{p, c.multicast});
    if (!fresh) fail(p, "label '" + c.label + "' is already created by " + it->second.where);
  }
  auto each_interface = [&](auto fn) {
    for (std::size_t i = 0; i < r.incarnations.size(); ++i)
      for (std::size_t k = 0; k < r.incarnations[i].interfaces.size(); ++k)
        fn(r.incarnations[i].interfaces[k], at(at(at(at(ptr, "incarnations"), i), "interfaces"), k));
  };
  each_interface([&](const InterfaceSpec& f, const std::string& p) {
    if (f.kind != InterfaceSpec::Port || !f.chan_new) return;
    auto [it, fresh] = creators.emplace(f.label, Creator{p, f.multicast});
    if (!fresh) fail(p, "label '" + f.label + "' is already created by " + it->second.where);
  });
  std::map<std::string, std::string> first_port;
  each_interface([&](const InterfaceSpec& f, const std::string& p) {
    auto creator = creators.find(f.label);
    if (creator == creators.end()) fail(p, "dangling label '" + f.label + "': no port or channel creates it");
    if (f.kind != InterfaceSpec::Port) return;
    auto [it, fresh] = first_port.emplace(f.label, p);
    if (!fresh && !creator->second.multicast)
      fail(p, "unicast label '" + f.label + "' already has a port (" + it->second + ")");
  });
}

/// Labels an RDC's incarnations deposit in its stream space: channels (streams), handles, and what
/// programs put there by ss_put (of any kind).
struct Checker::Labels {
  std::set<std::string> channels, port_handles, stream_handles, put;
};

Checker::Labels Checker::labels_of(const ScenarioSpec& s, const RdcSpec& r) const {
  Labels out;
  auto add = [&](const std::string& label, bool port, bool chan_new, const std::string& handle) {
    if (port && chan_new) out.channels.insert(label);
    if (!handle.empty()) (port ? out.port_handles : out.stream_handles).insert(handle);
  };
  for (const auto& c : r.channels) out.channels.insert(c.label);
  for (const auto& inc : r.incarnations)
    for (const auto& f : inc.interfaces) add(f.label, f.kind == InterfaceSpec::Port, f.chan_new, f.handle);
  // The modules the RDC runs, and those its programs create, transitively.
  std::set<std::string> modules = {r.primary.module};
  for (const auto& inc : r.incarnations) modules.insert(inc.module);
  std::vector<std::string> todo(modules.begin(), modules.end());
  while (!todo.empty()) {
    auto it = s.modules.find(todo.back());
    todo.pop_back();
    if (it == s.modules.end() || !it->second.ops) continue;
    programs::ops::for_each_op(*it->second.ops, [&](const programs::ops::Op& op, const std::string&) {
      if (const auto* put = std::get_if<programs::ops::SsPut>(&op.v)) out.put.insert(put->label);
      const auto* create = std::get_if<programs::ops::Create>(&op.v);
      if (!create) return;
      if (modules.insert(create->module).second) todo.push_back(create->module);
      for (const auto& f : create->interfaces.list) {
        bool port = f.kind == kernel::IncInterface::Kind::Port;
        add(f.chan_label, port, f.chan_new, f.handle_label);
      }
    });
  }
  return out;
}

void Checker::check_ops(const ScenarioSpec& s) const {
  namespace ops = programs::ops;
  const auto vme = params::ModelParams::load(s.overrides).vme;
  // A message's data: what one packet carries for send and dgram (Section 4.3.1), one kernel copy for
  // the others (the receive buffer a program offers is that size: longer data would be cut).
  auto bytes = [&](const ops::Bytes& b, bool packet, const std::string& p) {
    const auto* v = std::get_if<int64_t>(&b.v);
    double max = packet ? vme.max_packet_data : vme.max_copy_per_message;
    if (v && static_cast<double>(*v) > max)
      fail(at(p, "bytes"), fmt::format("{} bytes exceed the {} of {} bytes (vme.{})", *v,
                                       packet ? "data one packet carries" : "most one kernel copy moves", max,
                                       packet ? "max_packet_data" : "max_copy_per_message"));
  };
  for (const auto& [module_name, m] : s.modules) {
    if (!m.ops) continue;
    auto check = [&](const ops::Op& op, const std::string& p) {
      const ops::NodeRef* node = nullptr;
      if (const auto* migrate = std::get_if<ops::Migrate>(&op.v)) node = &migrate->node;
      const auto* create = std::get_if<ops::Create>(&op.v);
      if (create) node = &create->node;
      const auto* name = node ? std::get_if<std::string>(&node->v) : nullptr;
      if (name && !node_exists(s.nodes, *name)) fail(at(p, "node"), "unknown node '" + *name + "'");
      const auto* index = node ? std::get_if<ops::Expr>(&node->v) : nullptr;
      const auto* literal = index ? std::get_if<int64_t>(&index->v) : nullptr;
      if (literal && (*literal < 0 || static_cast<std::size_t>(*literal) >= s.nodes.size()))
        fail(at(p, "node"), fmt::format("node index {} is not in the pool (0 to {})", *literal,
                                        static_cast<int64_t>(s.nodes.size()) - 1));
      if (create && !s.modules.count(create->module))
        fail(at(p, "module"), "unknown module '" + create->module + "'");
      std::visit(Overloaded{[&](const ops::Send& o) { bytes(o.bytes, true, p); },
                            [&](const ops::Dgram& o) { bytes(o.bytes, true, p); },
                            [&](const ops::Invoke& o) { bytes(o.bytes, false, p); },
                            [&](const ops::Asinvoke& o) { bytes(o.bytes, false, p); },
                            [&](const ops::Reply& o) { bytes(o.bytes, false, p); }, [](const auto&) {}},
                 op.v);
    };
    ops::for_each_op(*m.ops, check, at(at(at("/modules", module_name), "program"), "ops"));
  }
}

void Checker::check_events(const ScenarioSpec& s) const {
  std::map<std::string, std::string> launched;
  std::map<std::string, Labels> labels;  // per RDC, computed when an event needs them
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    const auto& e = s.events[i];
    auto p = at("/events", i);
    if (e.at > s.duration_s)
      fail(at(p, "at"),
           num_text(e.at) + " is after the end of the run (duration_s " + num_text(s.duration_s) + ")");
    if (e.as<event::Graph>()) continue;
    auto r = std::find_if(s.rdcs.begin(), s.rdcs.end(), [&](const auto& x) { return x.name == e.rdc; });
    if (r == s.rdcs.end()) fail(at(p, "rdc"), "unknown rdc '" + e.rdc + "'");
    check_event(s, e, p, *r, launched, labels);
  }
  for (std::size_t i = 0; i < s.outputs.graph_at.size(); ++i)
    if (s.outputs.graph_at[i] > s.duration_s)
      fail(at("/outputs/graph_at", i), num_text(s.outputs.graph_at[i]) +
                                           " is after the end of the run (duration_s " +
                                           num_text(s.duration_s) + ")");
}

void Checker::check_event(const ScenarioSpec& s, const EventSpec& e, const std::string& p, const RdcSpec& r,
                          std::map<std::string, std::string>& launched,
                          std::map<std::string, Labels>& labels) const {
  auto node = [&](const std::string& key, const std::string& ref) {
    if (!ref.empty() && !node_exists(s.nodes, ref)) fail(at(p, key), "unknown node '" + ref + "'");
  };
  auto incarnation = [&](const std::string& name) {
    if (name != "primary" && std::none_of(r.incarnations.begin(), r.incarnations.end(),
                                          [&](const auto& x) { return x.name == name; }))
      fail(at(p, "incarnation"), "unknown incarnation '" + name + "' in rdc '" + e.rdc + "'");
  };
  // A label of the given kind: declared by an interface of the RDC (or of an incarnation its
  // programs create), or deposited by one of its programs' ss_put.
  enum Kind { Channel, PortHandle, StreamHandle };
  auto label = [&](const std::string& key, const std::string& value, Kind kind) {
    if (value.empty()) return;
    auto [it, fresh] = labels.try_emplace(r.name);
    if (fresh) it->second = labels_of(s, r);
    const auto& l = it->second;
    static const char* const what[] = {"channel", "port handle", "stream handle"};
    static const char* const who[] = {"port or channel creates it",
                                      "port interface declares it as its handle",
                                      "stream interface declares it as its handle"};
    const auto& set = kind == Channel ? l.channels : kind == PortHandle ? l.port_handles : l.stream_handles;
    if (!set.count(value) && !l.put.count(value))
      fail(at(p, key),
           fmt::format("unknown {} label '{}' in rdc '{}': no {}", what[kind], value, e.rdc, who[kind]));
  };
  std::visit(Overloaded{
                 [&](const event::Launch&) {
                   auto [it, fresh] = launched.emplace(e.rdc, p);
                   if (!fresh) fail(p, "rdc '" + e.rdc + "' is already launched by " + it->second);
                 },
                 [&](const event::AllocateNode& a) { node("node", a.node); },
                 [&](const event::WithdrawNode& w) {
                   node("node", w.node);
                   node("migrate_to", w.migrate_to);
                   if (!w.migrate_to.empty() &&
                       platform::find_node(s.nodes, w.migrate_to) == platform::find_node(s.nodes, w.node))
                     fail(at(p, "migrate_to"), "'" + w.migrate_to + "' is the node being withdrawn");
                   label("notify", w.notify, Channel);
                 },
                 [&](const event::Destroy& d) { incarnation(d.incarnation); },
                 [&](const event::Freeze& f) { incarnation(f.incarnation); },
                 [&](const event::Unfreeze& u) { incarnation(u.incarnation); },
                 [&](const event::Graph&) {},
                 [&](const event::Migrate& m) {
                   incarnation(m.incarnation);
                   node("node", m.node);
                 },
                 [&](const event::AttachPort& a) {
                   label("port", a.port, PortHandle);
                   label("channel", a.channel, Channel);
                   label("detach", a.detach, PortHandle);
                   if (a.port == a.detach) fail(at(p, "detach"), "the port to detach is the port to attach");
                 },
                 [&](const event::RebindStream& b) {
                   label("stream", b.stream, StreamHandle);
                   label("channel", b.channel, Channel);
                   label("forward_from", b.forward_from, PortHandle);
                 },
                 [&](const event::FreezeStream& f) { label("stream", f.stream, StreamHandle); },
                 [&](const event::UnfreezeStream& u) { label("stream", u.stream, StreamHandle); },
             },
             e.action);
}

ScenarioSpec Checker::run(const json& doc) {
  if (!doc.is_object()) fail("", "top level must be an object");
  object(doc, "",
         {"name", "description", "seed", "duration_s", "platform", "modules", "rdcs", "events", "outputs",
          "policy", "workload"},
         {"name", "modules", "rdcs"});
  ScenarioSpec s;
  s.file = file_;

  // Pass 1: structure, as the schema describes it.
  s.name = name(doc["name"], "/name");
  if (s.name.find('/') != std::string::npos) fail("/name", "must not contain '/' (it names output files)");
  if (auto* v = find(doc, "description")) s.description = str(*v, "/description");
  if (auto* v = find(doc, "seed")) {
    if (v->is_number_unsigned())
      s.seed = v->get<uint64_t>();
    else
      s.seed = static_cast<uint64_t>(integer(*v, "/seed", 0));
  }
  if (auto* v = find(doc, "duration_s")) s.duration_s = number(*v, "/duration_s", Min::Positive);
  nodes_file_ = "pool/kathleen.nodes";
  users_file_ = "pool/kathleen.users";
  if (auto* v = find(doc, "platform")) platform(*v, "/platform", s);
  const auto& modules = doc["modules"];
  if (!modules.is_object()) fail("/modules", "must be an object");
  for (const auto& [key, value] : modules.items()) {
    if (key.empty()) fail("/modules/", "module name must not be empty");
    s.modules[key] = module(key, value, at("/modules", key));
  }
  const auto& limits = scenario_limits();
  {
    std::size_t i = 0, incarnations = 0;
    within(array(doc["rdcs"], "/rdcs", !doc.contains("workload")).size(), limits.max_rdcs, "/rdcs", "rdcs",
           "max_rdcs");
    for (const auto& item : doc["rdcs"]) {
      auto p = at("/rdcs", i++);
      s.rdcs.push_back(rdc(item, p));
      incarnations += 1 + s.rdcs.back().incarnations.size();
      within(incarnations, limits.max_incarnations, p, "incarnations in the scenario's rdcs",
             "max_incarnations");
    }
  }
  if (auto* v = find(doc, "events")) {
    std::size_t i = 0;
    within(array(*v, "/events").size(), limits.max_events, "/events", "events", "max_events");
    for (const auto& item : *v) s.events.push_back(event(item, at("/events", i++)));
  }
  if (auto* v = find(doc, "outputs")) s.outputs = outputs(*v, "/outputs");
  if (auto* v = find(doc, "policy")) policy(*v, s);
  if (auto* v = find(doc, "workload")) {
    try {
      s.workload = pool::parse_workload(*v, "/workload");
    } catch (const pool::WorkloadError& e) {
      throw ScenarioError(file_ + ": " + one_line(e.what(), 4 * scenario_limits().max_echo_chars));
    }
  }

  // Pass 2: cross-references.
  load_pool(s);
  within(s.nodes.size(), limits.max_nodes, "/platform/nodes", "nodes", "max_nodes");
  check_modules(s);
  check_ops(s);
  for (std::size_t i = 0; i < s.rdcs.size(); ++i) check_rdc(s, i);
  for (auto& r : s.rdcs)
    if (r.groups.empty())
      for (const auto& u : s.users)
        if (u.user == r.user) r.groups = u.groups;
  check_events(s);
  check_workload(s);
  return s;
}

void Checker::policy(const json& j, ScenarioSpec& s) const {
  try {
    pool::make_policy(j, "/policy");  // every name and parameter checked
  } catch (const pool::PolicyError& e) {
    throw ScenarioError(file_ + ": " + one_line(e.what(), 4 * scenario_limits().max_echo_chars));
  }
  s.policy = j.is_string() ? json{{"name", j}} : j;
  if (auto* q = find(s.policy, "queue_limit"))
    s.queue_limit = static_cast<std::size_t>(integer(*q, "/policy/queue_limit", 1));
}

/// The workload's module (a built-in job program unless the scenario declares it), user and groups.
void Checker::check_workload(ScenarioSpec& s) const {
  if (!s.workload) return;
  auto& w = *s.workload;
  if (!s.modules.count(w.module)) {
    if (w.module != "job") fail("/workload/module", "no module '" + w.module + "' in /modules");
    ModuleSpec m;
    m.name = "job";
    m.text_kb = 8;
    m.data_kb = 4;
    m.heap_kb = 4;
    m.stack_kb = 4;
    m.cpp = "workload_job";
    s.modules["job"] = m;
  }
  auto user = std::find_if(s.users.begin(), s.users.end(), [&](const auto& u) { return u.user == w.user; });
  if (user == s.users.end()) fail("/workload/user", "'" + w.user + "' is not a pool user");
  if (w.groups.empty()) w.groups = user->groups;
  for (std::size_t i = 0; i < w.groups.size(); ++i) {
    bool any = std::any_of(s.nodes.begin(), s.nodes.end(), [&](const auto& n) {
      return std::find(n.groups.begin(), n.groups.end(), w.groups[i]) != n.groups.end();
    });
    if (!any) fail(at("/workload/groups", i), "no node is in group '" + w.groups[i] + "'");
  }
}

/// A char iterator that publishes how far the parser has read, so that errors found in SAX callbacks
/// (which get no position) can name a line.
struct CountingIter {
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;
  const char* p = nullptr;
  const char** read = nullptr;  // null for the end iterator
  reference operator*() const { return *p; }
  CountingIter& operator++() {
    ++p;
    if (read) *read = p;
    return *this;
  }
  CountingIter operator++(int) {
    auto old = *this;
    ++*this;
    return old;
  }
  bool operator==(const CountingIter& o) const { return p == o.p; }
  bool operator!=(const CountingIter& o) const { return p != o.p; }
};

/// Builds the document as nlohmann's DOM parser does (its SAX builder, from its detail namespace),
/// in one linear pass, and rejects what that parser would accept silently (a duplicate key: the later
/// value won) or could not bound (nesting: every later recursion depends on it). It keeps the stack of
/// open containers, so an error's JSON pointer is rendered only when there is one.
class CheckedSax {
 public:
  CheckedSax(json& root, std::size_t max_depth) : dom_(root, false), max_depth_(max_depth) {}

  bool null() { return scalar(dom_.null()); }
  bool boolean(bool v) { return scalar(dom_.boolean(v)); }
  bool number_integer(json::number_integer_t v) { return scalar(dom_.number_integer(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return scalar(dom_.number_unsigned(v)); }
  bool number_float(json::number_float_t v, const std::string& s) { return scalar(dom_.number_float(v, s)); }
  bool string(std::string& v) { return scalar(dom_.string(v)); }
  bool binary(json::binary_t& v) { return scalar(dom_.binary(v)); }
  bool start_object(std::size_t n) { return open(true) && dom_.start_object(n); }
  bool end_object() { return close() && dom_.end_object(); }
  bool start_array(std::size_t n) { return open(false) && dom_.start_array(n); }
  bool end_array() { return close() && dom_.end_array(); }
  bool key(std::string& k) {
    auto& f = frames_.back();
    f.key = k;
    if (!f.keys.insert(k).second) return error("duplicate key");
    return dom_.key(k);
  }
  bool parse_error(std::size_t position, const std::string& token, const json::exception& e) {
    error_ = e.what();
    error_id_ = e.id;
    parse_error_position_ = position;
    token_ = token;
    return false;
  }

  /// The pointer of the value being read.
  std::string pointer() const {
    std::string out;
    for (const auto& f : frames_) out += "/" + (f.object ? escape(f.key) : std::to_string(f.index));
    return out;
  }
  const std::string& error() const { return error_; }
  int error_id() const { return error_id_; }
  std::size_t parse_error_position() const { return parse_error_position_; }
  const std::string& token() const { return token_; }

 private:
  struct Frame {
    bool object;
    std::string key;        // the member being read
    std::size_t index = 0;  // the element being read
    std::set<std::string> keys;
  };

  bool error(const std::string& msg) {
    error_ = msg;
    return false;
  }
  bool scalar(bool ok) {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
    return ok;
  }
  bool open(bool object) {
    if (frames_.size() >= max_depth_)
      return error("nested deeper than " + std::to_string(max_depth_) + " levels (limit max_json_depth in " +
                   scenario_limits().file + ")");
    frames_.push_back({object, {}, 0, {}});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return scalar(true);
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::size_t max_depth_;
  std::vector<Frame> frames_;
  std::string error_;
  int error_id_ = 0;  // nlohmann's exception id for its own errors, 0 for ours
  std::size_t parse_error_position_ = 0;
  std::string token_;  // the lexer's last token at a parse error
};

/// "line L, column C" of byte `idx` of `text` (both 1-based).
std::string line_column(const std::string& text, std::size_t idx) {
  idx = std::min(idx, text.size());
  std::size_t line = 1 + static_cast<std::size_t>(
                             std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(idx), '\n'));
  auto nl = idx == 0 ? std::string::npos : text.rfind('\n', idx - 1);
  std::size_t column = nl == std::string::npos ? idx + 1 : idx - nl;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

/// Parses JSON in one pass, reporting syntax errors by line and column, and a number out of range,
/// a duplicate key (which nlohmann would otherwise silently collapse) or too deep a nesting by JSON
/// pointer and line.
json parse_json(const std::string& text, const std::string& file) {
  json doc;
  CheckedSax sax(doc, scenario_limits().max_json_depth);
  const char* read = text.data();
  CountingIter first{text.data(), &read}, last{text.data() + text.size(), nullptr};
  if (json::sax_parse(first, last, &sax)) return doc;
  const auto& limits = scenario_limits();
  if (sax.error_id() == 406) {  // a number beyond double; the parser stopped just after it
    auto end = sax.parse_error_position();
    auto start = end >= sax.token().size() ? end - sax.token().size() : 0;
    throw ScenarioError(file + ": " + one_line(sax.pointer(), 2 * limits.max_echo_chars) + ": number " +
                        one_line(sax.token(), limits.max_echo_chars) + " is out of range (" +
                        line_column(text, start) + ")");
  }
  if (sax.error_id() != 0) {
    // nlohmann's own line/column are off by a token; recount from the byte offset (1-based).
    std::size_t idx = sax.parse_error_position() == 0 ? 0 : sax.parse_error_position() - 1;
    std::string what = sax.error();
    auto c = what.find("column ");
    auto colon = c == std::string::npos ? std::string::npos : what.find(": ", c);
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    throw ScenarioError(file + ": invalid json at " + line_column(text, idx) + ": " +
                        one_line(detail, 4 * limits.max_echo_chars));
  }
  // Found by the handler: the parser has read just past the token at fault.
  auto idx = static_cast<std::size_t>(read - text.data());
  throw ScenarioError(file + ": " + one_line(sax.pointer(), 2 * limits.max_echo_chars) + ": " + sax.error() +
                      " (" + line_column(text, idx == 0 ? 0 : idx - 1) + ")");
}

}  // namespace

ScenarioSpec parse_scenario(const json& doc, const std::string& file, const std::string& base_dir) {
  return Checker(file, base_dir).run(doc);
}

ScenarioSpec parse_scenario_text(const std::string& text, const std::string& file,
                                 const std::string& base_dir) {
  return parse_scenario(parse_json(text, file), file, base_dir);
}

void apply_scenario_overrides(json& doc, std::map<std::string, std::string>& overrides) {
  for (auto it = overrides.begin(); it != overrides.end();) {
    const auto& key = it->first;
    bool policy = key == "policy" || key.rfind("policy.", 0) == 0;
    if (!policy && key.rfind("workload.", 0) != 0) {
      ++it;
      continue;
    }
    json value = json::parse(it->second, nullptr, false);
    if (value.is_discarded()) value = it->second;  // a bare word: a string
    if (!doc.is_object()) throw ScenarioError("--set " + key + ": the scenario is not an object");
    if (key == "policy") {  // another policy: the old one's parameters are not its own (the queue's are)
      json fresh{{"name", value}};
      if (doc.contains("policy") && doc["policy"].is_object() && doc["policy"].contains("queue_limit"))
        fresh["queue_limit"] = doc["policy"]["queue_limit"];
      doc["policy"] = fresh;
    } else {
      if (policy && doc.contains("policy") && doc["policy"].is_string())
        doc["policy"] = json{{"name", doc["policy"]}};
      std::string pointer = "/" + key;
      std::replace(pointer.begin(), pointer.end(), '.', '/');
      try {
        doc[json::json_pointer(pointer)] = value;
      } catch (const json::exception&) {
        throw ScenarioError("--set " + key + ": " + pointer + " is not a place in the scenario");
      }
    }
    it = overrides.erase(it);
  }
}

ScenarioSpec parse_scenario_text(const std::string& text, const std::string& file,
                                 const std::string& base_dir, std::map<std::string, std::string>& overrides) {
  json doc = parse_json(text, file);
  apply_scenario_overrides(doc, overrides);
  return parse_scenario(doc, file, base_dir);
}

ScenarioSpec load_scenario(const std::string& path, std::map<std::string, std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in || fs::is_directory(path)) throw ScenarioError(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  auto base = fs::path(path).parent_path().string();
  return parse_scenario_text(text.str(), path, base.empty() ? "." : base, overrides);
}

ScenarioSpec load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || fs::is_directory(path)) throw ScenarioError(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  auto base = fs::path(path).parent_path().string();
  return parse_scenario_text(text.str(), path, base.empty() ? "." : base);
}

}  // namespace equus::sim
