// Builds the simulated machine: one SimGrid host per pool card plus the UNIX host card, joined as the
// profile's interconnect says: the VME bus (one link), a shared Ethernet (one link) or a switch (a link
// per card and a backplane). A star zone: a route per card, not per pair, so a large pool stays cheap.
#pragma once

#include <simgrid/s4u.hpp>
#include <vector>

#include "models/m68030/cpu_params.hpp"
#include "models/platform/pool_files.hpp"
#include "models/platform/profile.hpp"
#include "models/vme/vme_params.hpp"

namespace equus::platform {

class Platform {
 public:
  /// Configures `engine` (network model) and creates hosts and the bus. Call once per engine.
  Platform(simgrid::s4u::Engine& engine, std::vector<NodeDescriptor> nodes, const m68030::CpuParams& cpu,
           const vme::VmeParams& vme, const InterconnectSpec& interconnect = link::VmeBus{});

  const std::vector<NodeDescriptor>& nodes() const { return nodes_; }
  int node_count() const { return static_cast<int>(nodes_.size()); }
  simgrid::s4u::Host* host(int node) const { return hosts_.at(node); }
  simgrid::s4u::Host* unix_host() const { return unix_host_; }
  /// The link every transfer crosses (the bus, the Ethernet, or the switch's backplane).
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
