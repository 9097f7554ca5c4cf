#include "models/platform/platform.hpp"

#include <xbt/log.h>

#include "models/support/overloaded.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus);
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(equus_platform, equus, "The platform: cards, hosts and the interconnect");

namespace sg = simgrid::s4u;

namespace equus::platform {

Platform::Platform(sg::Engine& engine, std::vector<NodeDescriptor> nodes, const m68030::CpuParams& cpu,
                   const vme::VmeParams& vme, const InterconnectSpec& interconnect)
    : nodes_(std::move(nodes)) {
  // Plain max-min sharing: no TCP factors, the bus is not a WAN.
  engine.set_config("network/model:CM02");
  engine.set_config("network/crosstraffic:0");

  auto* zone = sg::create_star_zone("pool");
  // The periodic timer interrupt steals a fixed fraction of every card: fold it into the speed.
  double usable = 1.0 - cpu.clock_hz * cpu.clock_tick_cost;
  double speed = 1e9 * cpu.speed_factor * (usable > 0.01 ? usable : 0.01);
  for (const auto& d : nodes_) hosts_.push_back(zone->create_host(d.name, speed));
  unix_host_ = zone->create_host("unix", 1e9);
  std::vector<sg::Host*> all = hosts_;
  all.push_back(unix_host_);

  auto shared = [&](const std::string& name, double bandwidth, double latency) {
    bus_ = zone->create_link(name, bandwidth)->set_latency(latency)->seal();
    for (auto* h : all)
      zone->add_route(h->get_netpoint(), nullptr, nullptr, nullptr, {sg::LinkInRoute(bus_)}, true);
  };
  std::visit(
      Overloaded{
          [&](const link::VmeBus&) {
            // One bus, one master at a time: capacity shrinks with the number of masters contending.
            // (The kernel's copies are scheduled in models/vme; this link carries raw SimGrid
            // messages only, e.g. the benchmark's baseline.)
            double penalty = vme.arbitration_penalty;
            bus_ = zone->create_link("vme", vme.bus_bandwidth)
                       ->set_latency(vme.transaction_latency)
                       ->set_sharing_policy(sg::Link::SharingPolicy::NONLINEAR,
                                            [penalty](double capacity, int n) {
                                              return n <= 1 ? capacity : capacity / (1.0 + penalty * (n - 1));
                                            })
                       ->seal();
            for (auto* h : all)
              zone->add_route(h->get_netpoint(), nullptr, nullptr, nullptr, {sg::LinkInRoute(bus_)}, true);
          },
          [&](const link::SharedEthernet& e) { shared("ethernet", e.bandwidth, e.latency); },
          [&](const link::Switched& s) {
            bus_ =
                zone->create_link("backplane", s.backbone_bandwidth)->set_latency(s.backbone_latency)->seal();
            for (auto* h : all) {
              auto* port = zone->create_link(h->get_name() + "-port", s.link_bandwidth)
                               ->set_latency(s.link_latency)
                               ->seal();
              zone->add_route(h->get_netpoint(), nullptr, nullptr, nullptr,
                              {sg::LinkInRoute(port), sg::LinkInRoute(bus_)}, true);
            }
          },
      },
      interconnect);
  zone->seal();
  XBT_VERB("%zu cards and the UNIX host, at %g flop/s each", nodes_.size(), speed);
}

int Platform::find_node(const std::string& name_or_id) const {
  return platform::find_node(nodes_, name_or_id);
}

}  // namespace equus::platform
