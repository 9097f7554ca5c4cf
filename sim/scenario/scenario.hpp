// Scenario files (docs/scenarios.md): typed structs and a loader that validates every rule of the
// language (the schema's rules plus the cross-references a schema cannot express).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/platform/pool_files.hpp"
#include "models/pool/administrator.hpp"
#include "models/pool/workload.hpp"
#include "models/programs/ops.hpp"

namespace equus::sim {

/// One line: "<file>: <JSON pointer>: <message>", or "<file>: <message>" for whole-file problems.
class ScenarioError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The declared RDCs and the timed events are the administrator's (models/pool/administrator.hpp).
using pool::ChannelSpec;
using pool::EventAction;
using pool::EventSpec;
using pool::IncarnationSpec;
using pool::InterfaceSpec;
using pool::RdcSpec;
namespace event = pool::event;

/// What a scenario may hold (sim/scenario/limits.json, loaded once): each bounds the work, memory or
/// stack depth that validating and running an untrusted file can take. Errors name a limit by its key.
struct ScenarioLimits {
  std::string file;  // relative to the data directory
  std::size_t max_json_depth = 0, max_op_depth = 0, max_ops = 0, max_events = 0, max_rdcs = 0,
              max_incarnations = 0, max_nodes = 0, max_echo_chars = 0;
  std::size_t max_message_bytes = 0;
};
const ScenarioLimits& scenario_limits();

struct ModuleSpec {
  std::string name;
  double text_kb = 0, data_kb = 0, heap_kb = 16, stack_kb = 8;
  bool service = false;  // a server: waiting for requests, it does not keep the run going
  std::string cpp;       // registered program name (programs::has_program); empty if ops
  std::shared_ptr<const programs::ops::Block> ops;  // the op program; null if cpp
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
  /// The pool manager's policy (models/pool/policy.hpp) as written, null for the first system's rule
  /// (every node allocated to one RDC); with it, node groups have their Section 3.4 meanings.
  nlohmann::json policy;
  std::size_t queue_limit = 64;  // launches that may wait for nodes ("policy": {"queue_limit": n})
  std::optional<pool::WorkloadSpec> workload;  // arriving jobs, if any
};

/// "--set" keys that change the scenario itself rather than a model parameter: "policy" (a name),
/// "policy.<key>" and "workload.<key>[.<key>...]", whose values are JSON (or else a string). Applies
/// and removes them from `overrides`; the document is then validated as written.
void apply_scenario_overrides(nlohmann::json& doc, std::map<std::string, std::string>& overrides);

/// Reads, parses and validates `path`; pool files are looked up next to it, then under
/// `<data_dir>/scenarios`. Throws ScenarioError.
ScenarioSpec load_scenario(const std::string& path);

/// Parses (rejecting duplicate keys) and validates scenario JSON text; `file` names it in errors,
/// `base_dir` anchors relative pool paths.
ScenarioSpec parse_scenario_text(const std::string& text, const std::string& file,
                                 const std::string& base_dir);
/// As parse_scenario_text, with scenario overrides applied first (apply_scenario_overrides).
ScenarioSpec parse_scenario_text(const std::string& text, const std::string& file, const std::string& base_dir,
                                 std::map<std::string, std::string>& overrides);
ScenarioSpec load_scenario(const std::string& path, std::map<std::string, std::string>& overrides);

/// Validates an already parsed document; `file` names it in errors, `base_dir` anchors relative pool paths.
ScenarioSpec parse_scenario(const nlohmann::json& doc, const std::string& file, const std::string& base_dir);

}  // namespace equus::sim
