// Scenario files (docs/scenarios.md): typed structs and a loader that validates every rule of the
// language (the schema's rules plus the cross-references a schema cannot express).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "models/platform/pool_files.hpp"
#include "models/programs/ops.hpp"

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
  bool service = false;  // a server: waiting for requests, it does not keep the run going
  std::string cpp;       // registered program name (programs::has_program); empty if ops
  std::shared_ptr<const programs::ops::Block> ops;  // the op program; null if cpp
};

/// Timed events, one struct per type. Channels, stream handles and port handles are named by their
/// stream-space labels (Figure 6.4), incarnations by their declared names ("primary" included).
namespace event {
struct Launch {};
struct AllocateNode {
  std::string node;
};
struct WithdrawNode {
  std::string node;
  double notice_s = 0;
  bool kill = true;
  std::string migrate_to;  // during the notice, the RDC's incarnations there migrate to this node
  std::string notify;      // label of a channel the notice is sent over (header: [1, node index, ms])
};
struct Destroy {
  std::string incarnation;
};
struct Freeze {
  std::string incarnation;
};
struct Unfreeze {
  std::string incarnation;
};
struct Graph {};
struct Migrate {
  std::string incarnation, node;
};
struct AttachPort {
  std::string port;     // port handle label of the port to attach
  std::string channel;  // label of the channel
  std::string detach;   // port handle label of the port to detach; empty for none
  bool move_queue = true;
};
struct RebindStream {
  std::string stream;        // stream handle label
  std::string channel;       // label of the new channel
  std::string forward_from;  // port handle label of the port its messages queue at; empty for none
};
struct FreezeStream {
  std::string stream;  // stream handle label
};
struct UnfreezeStream {
  std::string stream;
};
}  // namespace event

using EventAction =
    std::variant<event::Launch, event::AllocateNode, event::WithdrawNode, event::Destroy, event::Freeze,
                 event::Unfreeze, event::Graph, event::Migrate, event::AttachPort, event::RebindStream,
                 event::FreezeStream, event::UnfreezeStream>;

struct EventSpec {
  double at = 0;
  std::string type;  // the JSON type name ("launch", "migrate", ...)
  std::string rdc;   // empty for graph
  EventAction action;
  template <class T>
  const T* as() const {
    return std::get_if<T>(&action);
  }
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

/// Reads, parses and validates `path`; pool files are looked up next to it, then under
/// `<data_dir>/scenarios`. Throws ScenarioError.
ScenarioSpec load_scenario(const std::string& path);

/// Validates an already parsed document; `file` names it in errors, `base_dir` anchors relative pool paths.
ScenarioSpec parse_scenario(const nlohmann::json& doc, const std::string& file, const std::string& base_dir);

}  // namespace equus::sim
