// The configuration (structure + mapping, dissertation Chapter 1) at an instant, as a Boost.Graph
// and as Graphviz DOT: incarnations (at their nodes) connected through channels.
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <string>

#include "sim/output/recorder.hpp"

namespace equus::sim {

struct ConfigVertex {
  bool channel = false;
  GlobalId gid = 0;
  std::string id;     // DOT node id: "i<gid>" (incarnation) or "c<gid>" (channel)
  std::string label;  // name@node, or the channel label
  std::string node;   // node name (incarnations only)
  int node_index = -1;
  bool multicast = false;
};

struct ConfigEdge {
  bool port = false;  // stream: incarnation -> channel; port: channel -> incarnation
  std::string label;  // the reference's label
};

using ConfigGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, ConfigVertex, ConfigEdge>;

/// Incarnations alive at `t` (start <= t < end) and the references attached at `t` (from their
/// record time until reference_closed, while their incarnation is alive). Channels appear while
/// some live reference names them. Vertex order: incarnations by (start, id), then channels by id.
ConfigGraph configuration_graph(const Recorder& rec, double t);

/// DOT via boost::write_graphviz: channels are diamonds (multicast: doubleoctagon); incarnations
/// carry a `node` attribute and are filled with a colour per node.
std::string configuration_dot(const Recorder& rec, double t);
/// Throws std::runtime_error if `path` cannot be written.
void write_graph(const Recorder& rec, double t, const std::string& path);

}  // namespace equus::sim
