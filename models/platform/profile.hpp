// Platform profiles: what the pool is made of and what joins its cards, as data files
// (models/platform/profiles/<name>.json), so that a what-if on other hardware is a file, not code.
// The calibrated `kathleen` crate is the default; networks other than its VME bus use SimGrid's own
// network models.
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "models/platform/interconnect.hpp"
#include "models/platform/pool_files.hpp"
#include "models/vme/vme_params.hpp"

namespace equus::platform {

namespace link {
/// The calibrated VME bus, scheduled in the model (models/vme): its parameters are vme.*.
struct VmeBus {};
/// One shared medium (a 10 Mbit/s Ethernet): every transfer crosses the same SimGrid link.
struct SharedEthernet {
  double bandwidth = 1.25e6;  // bytes/s
  double latency = 0;         // s
};
/// A switch: each node's private full-duplex link, then the switch's backplane.
struct Switched {
  double link_bandwidth = 12.5e6, link_latency = 0;
  double backbone_bandwidth = 125e6, backbone_latency = 0;
};
}  // namespace link

using InterconnectSpec = std::variant<link::VmeBus, link::SharedEthernet, link::Switched>;

struct PlatformProfile {
  std::string name;
  std::string description;
  std::vector<NodeDescriptor> nodes;
  InterconnectSpec interconnect = link::VmeBus{};
};

/// How to name and describe `count` generated nodes: "{i}" in the pattern is the node's index from 1;
/// kernel ids count up from `first_id`.
struct NodeRule {
  int count = 0;
  std::string name = "node{i}";
  unsigned first_id = 0x201;
  std::vector<std::string> groups{"balanced", "all"};
  std::string type = "jt68030";
  double memory_bytes = 4 * 1024 * 1024;
};
std::vector<NodeDescriptor> generate_nodes(const NodeRule& rule);

/// Loads profile `name_or_path` (a name looks in <data_dir>/models/platform/profiles/<name>.json);
/// `node_count` > 0 overrides a generated pool's count. Errors name the file and JSON pointer.
PlatformProfile load_profile(const std::string& name_or_path, const std::string& data_dir,
                             int node_count = 0);

/// The profiles shipped in <data_dir>/models/platform/profiles, by name.
std::vector<std::string> profile_names(const std::string& data_dir);

/// What the kernel sends over, for `spec` (the VME bus takes its parameters from `vme`).
std::unique_ptr<Interconnect> make_interconnect(const InterconnectSpec& spec, const vme::VmeParams& vme);

}  // namespace equus::platform
