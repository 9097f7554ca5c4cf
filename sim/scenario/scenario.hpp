// Scenario files (docs/scenarios.md): typed structs and a loader that validates every rule of the
// language (the schema's rules plus the cross-references a schema cannot express).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/platform/pool_files.hpp"

namespace equus::sim {

/// One line: "<file>: <JSON pointer>: <message>", or "<file>: <message>" for whole-file problems.
class ScenarioError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A declared interface of an incarnation (Figure 5.2, Section 5.2.1).
struct InterfaceSpec {
  std::string name;
  enum Kind { Stream, Port } kind = Stream;
  std::string label;
  bool chan_new = false;   // ports: creates the channel ("chan": "new"); streams: false
  bool multicast = false;  // ports with chan new: the channel's type
  std::string handle;      // empty if none
};

struct IncarnationSpec {
  std::string name, module, node;  // node: a hint, empty if none
  bool inchoate = false;
  std::string from;  // an earlier INCHOATE incarnation of the same module, empty if none
  std::vector<int64_t> args;
  std::vector<InterfaceSpec> interfaces;
};

/// A channel the primary creates itself (ss_createChan).
struct ChannelSpec {
  std::string label;
  bool multicast = false;
  std::string as;  // interface name in the primary (defaults to the label)
};

struct RdcSpec {
  std::string name, user;
  std::vector<std::string> groups;  // the user's groups when not given
  int nodes = 1;
  IncarnationSpec primary;  // name "primary"
  std::vector<IncarnationSpec> incarnations;
  std::vector<ChannelSpec> channels;
};

struct ModuleSpec {
  std::string name;
  double text_kb = 0, data_kb = 0, heap_kb = 16, stack_kb = 8;
  std::string cpp;     // registered program name; empty if ops
  nlohmann::json ops;  // the op array; null if cpp
};

struct EventSpec {
  double at = 0;
  std::string type;  // launch, allocate_node, withdraw_node, destroy, freeze, unfreeze, graph
  std::string rdc, incarnation, node;
  double notice_s = 0;
  bool kill = true;
};

struct OutputSpec {
  bool results = true, trace = true;
  std::vector<double> graph_at;
};

struct ScenarioSpec {
  std::string file, name, description;
  uint64_t seed = 1;
  double duration_s = 600;
  std::vector<platform::NodeDescriptor> nodes;
  std::vector<platform::PoolUser> users;
  std::map<std::string, std::string> overrides;  // value as text, for params::ModelParams::load
  std::map<std::string, ModuleSpec> modules;
  std::vector<RdcSpec> rdcs;
  std::vector<EventSpec> events;
  OutputSpec outputs;
};

/// Names that `{"cpp": name}` programs may use; nothing is registered by default.
void register_cpp_program_name(const std::string& name);
bool is_cpp_program_name(const std::string& name);

/// Reads, parses and validates `path`; pool files are looked up next to it, then under
/// `<data_dir>/scenarios`. Throws ScenarioError.
ScenarioSpec load_scenario(const std::string& path);

/// Validates an already parsed document; `file` names it in errors, `base_dir` anchors relative pool paths.
ScenarioSpec parse_scenario(const nlohmann::json& doc, const std::string& file, const std::string& base_dir);

}  // namespace equus::sim
