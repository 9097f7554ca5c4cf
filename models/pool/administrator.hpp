// The pool's administrator as a scenario drives it: the launch program launches the declared RDCs with
// their declared configuration and performs the timed events (node allocation and withdrawal, migration,
// reconfiguration), as a manager would, by name (Figure 6.4, Section 6.4).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "models/kernel/equus.hpp"
#include "models/platform/pool_files.hpp"
#include "models/pool/launch.hpp"
#include "models/programs/op_program.hpp"

namespace equus::pool {

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

/// An RDC and its declared configuration.
struct RdcSpec {
  std::string name, user;
  std::vector<std::string> groups;  // the user's groups when not given
  int nodes = 1;
  IncarnationSpec primary;  // name "primary"
  std::vector<IncarnationSpec> incarnations;
  std::vector<ChannelSpec> channels;
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
  std::string type;  // the JSON type name ("launch", "migrate", ...): names the event in records
  std::string rdc;   // empty for graph
  EventAction action;
  template <class T>
  const T* as() const {
    return std::get_if<T>(&action);
  }
};

/// What the administrator does: RDCs and events as validated by the scenario loader (every name they
/// use resolves), and the RDC binary every launch loads.
struct AdministratorPlan {
  std::vector<platform::NodeDescriptor> nodes;  // node names resolve against these
  std::vector<RdcSpec> rdcs;
  std::vector<EventSpec> events;
  std::vector<kernel::Module> modules;
  std::map<std::string, int> module_index;  // module name -> index in `modules`
};

/// How the administrator reports: its reconfigurations and the names it gives the incarnations it
/// creates go through the same hooks as op programs' (node_index is unused); `graph` is called for
/// each graph event with the time. Every member may be empty.
struct AdministratorHooks {
  programs::OpHooks report;
  std::function<void(double)> graph;
};

/// The launch program's part in a run. It holds an incarnation handle on every declared incarnation
/// and a stream to each RDC's stream space, where it finds channels, stream handles and port handles by
/// label as a manager does (Figure 6.4).
class Administrator {
 public:
  Administrator(AdministratorPlan plan, AdministratorHooks hooks);

  /// The pool whose launch program runs run(); set before the engine runs.
  void set_pool(Pool& pool) { pool_ = &pool; }

  /// The launcher program: the events in time order (RDCs without a launch event launched at time 0,
  /// after the events given for time 0).
  void run(kernel::Equus& eq);

 private:
  /// One step of the timeline: an event, or the withdrawal ending a withdraw_node's notice.
  struct Step {
    double at = 0;
    const EventSpec* event = nullptr;
    bool withdrawal = false;
  };
  struct RdcState {
    const RdcSpec* spec = nullptr;
    Launched launched;
    std::map<std::string, int> handles;   // declared name ("primary" included) -> incarnation handle
    std::map<std::string, int> ss_cache;  // the run-time's cache of this RDC's stream space
  };

  void perform(kernel::Equus& eq, const Step& step);
  void perform_on(kernel::Equus& eq, const Step& step, RdcState& r);
  int attach_port(kernel::Equus& eq, RdcState& r, const event::AttachPort& a);
  int rebind_stream(kernel::Equus& eq, RdcState& r, const event::RebindStream& b);
  void launch(kernel::Equus& eq, const RdcSpec& r);
  void create_declared(kernel::Equus& eq, const RdcSpec& r, RdcState& state);
  void declare(kernel::Equus& eq, RdcState& state, const std::string& name, int handle);
  void notice(kernel::Equus& eq, RdcState& r, const event::WithdrawNode& w);
  unsigned node(const std::string& name) const;
  bool alive(kernel::Equus& eq, int handle);
  int ss_get(kernel::Equus& eq, RdcState& r, const std::string& label);
  template <class Call>
  int reconfigure(kernel::Equus& eq, const std::string& kind, const std::string& detail, Call call);

  AdministratorPlan plan_;
  AdministratorHooks hooks_;
  Pool* pool_ = nullptr;
  std::vector<EventSpec> implicit_;  // launch events for RDCs without one
  std::vector<Step> steps_;
  std::map<std::string, RdcState> rdcs_;
  std::set<uint32_t> dead_;  // incarnations reported dead (ed_info1: the low bits of their identifier)
};

}  // namespace equus::pool
