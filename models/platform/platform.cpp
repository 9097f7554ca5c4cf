#include "models/platform/platform.hpp"

#include <xbt/log.h>

XBT_LOG_EXTERNAL_CATEGORY(equus);
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(equus_platform, equus, "The platform: cards, hosts and the interconnect");

namespace sg = simgrid::s4u;

namespace equus::platform {

Platform::Platform(sg::Engine& engine, std::vector<NodeDescriptor> nodes, const m68030::CpuParams& cpu,
                   const vme::VmeParams& vme)
    : nodes_(std::move(nodes)) {
  // Plain max-min sharing: no TCP factors, the bus is not a WAN.
  engine.set_config("network/model:CM02");
  engine.set_config("network/crosstraffic:0");

  auto* zone = sg::create_full_zone("kathleen");
  // The periodic timer interrupt steals a fixed fraction of every card: fold it into the speed.
  double usable = 1.0 - cpu.clock_hz * cpu.clock_tick_cost;
  double speed = 1e9 * cpu.speed_factor * (usable > 0.01 ? usable : 0.01);
  for (const auto& d : nodes_) hosts_.push_back(zone->create_host(d.name, speed));
  unix_host_ = zone->create_host("unix", 1e9);

  // One bus, one master at a time: capacity shrinks with the number of masters contending.
  double penalty = vme.arbitration_penalty;
  bus_ = zone->create_link("vme", vme.bus_bandwidth)
             ->set_latency(vme.transaction_latency)
             ->set_sharing_policy(sg::Link::SharingPolicy::NONLINEAR,
                                  [penalty](double capacity, int n) {
                                    return n <= 1 ? capacity : capacity / (1.0 + penalty * (n - 1));
                                  })
             ->seal();
  std::vector<sg::Host*> all = hosts_;
  all.push_back(unix_host_);
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = i + 1; j < all.size(); ++j)
      zone->add_route(all[i]->get_netpoint(), all[j]->get_netpoint(), nullptr, nullptr,
                      {sg::LinkInRoute(bus_)}, true);
  zone->seal();
  XBT_VERB("%zu cards and the UNIX host, at %g flop/s each", nodes_.size(), speed);
}

int Platform::find_node(const std::string& name_or_id) const {
  return platform::find_node(nodes_, name_or_id);
}

}  // namespace equus::platform
