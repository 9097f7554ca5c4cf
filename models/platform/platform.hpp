// Builds the simulated machine: one SimGrid host per pool card plus the UNIX host card, all joined by
// the single VME bus link.
#pragma once

#include <simgrid/s4u.hpp>
#include <vector>

#include "models/m68030/cpu_params.hpp"
#include "models/platform/pool_files.hpp"
#include "models/vme/vme_params.hpp"

namespace equus::platform {

class Platform {
 public:
  /// Configures `engine` (network model) and creates hosts and the bus. Call once per engine.
  Platform(simgrid::s4u::Engine& engine, std::vector<NodeDescriptor> nodes,
           const m68030::CpuParams& cpu, const vme::VmeParams& vme);

  const std::vector<NodeDescriptor>& nodes() const { return nodes_; }
  int node_count() const { return static_cast<int>(nodes_.size()); }
  simgrid::s4u::Host* host(int node) const { return hosts_.at(node); }
  simgrid::s4u::Host* unix_host() const { return unix_host_; }
  simgrid::s4u::Link* bus() const { return bus_; }
  /// Index of the node whose descriptor name or hexadecimal kernel id is `name_or_id`; -1 if none.
  int find_node(const std::string& name_or_id) const;

 private:
  std::vector<NodeDescriptor> nodes_;
  std::vector<simgrid::s4u::Host*> hosts_;
  simgrid::s4u::Host* unix_host_ = nullptr;
  simgrid::s4u::Link* bus_ = nullptr;
};

}  // namespace equus::platform
