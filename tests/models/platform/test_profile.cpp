// Platform profiles: the shipped files load, generated pools are named by their rule, bad files name
// their place, and the networks that are not the VME bus are timed by SimGrid's own network model.
#include <gtest/gtest.h>

#include <fstream>
#include <simgrid/s4u.hpp>

#include "models/kernel/model_params.hpp"
#include "models/platform/platform.hpp"
#include "models/platform/profile.hpp"
#include "models/support/simgrid_engine.hpp"

namespace equus::platform {
namespace {

const std::string dir = params::data_dir();

TEST(Profile, ShippedProfilesLoad) {
  auto k = load_profile("kathleen", dir);
  EXPECT_EQ(k.nodes.size(), 11u);
  EXPECT_TRUE(std::holds_alternative<link::VmeBus>(k.interconnect));
  auto e = load_profile("ethernet-lan", dir);
  ASSERT_EQ(e.nodes.size(), 16u);
  EXPECT_EQ(e.nodes[0].name, "ws1");
  EXPECT_EQ(e.nodes[15].kernel_id, 0x310u);
  EXPECT_EQ(e.nodes[3].memory_bytes, 8.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(std::get<link::SharedEthernet>(e.interconnect).bandwidth, 1.25e6);
  EXPECT_DOUBLE_EQ(std::get<link::SharedEthernet>(e.interconnect).latency, 51.2e-6);
  auto s = load_profile("switched-lan", dir);
  EXPECT_EQ(s.nodes.size(), 1024u);
  EXPECT_EQ(s.nodes.back().name, "node1024");
  EXPECT_EQ(load_profile("switched-lan", dir, 64).nodes.size(), 64u);
  EXPECT_EQ(profile_names(dir), (std::vector<std::string>{"ethernet-lan", "kathleen", "switched-lan"}));
}

std::string error_of(const std::string& text, int count = 0) {
  std::string path = ::testing::TempDir() + "bad-profile.json";
  std::ofstream(path) << text;
  try {
    load_profile(path, dir, count);
  } catch (const PoolFileError& e) {
    return std::string(e.what()).substr(path.size());
  }
  return "(no error)";
}

TEST(Profile, BadProfilesNameTheirPlace) {
  EXPECT_EQ(error_of(R"({"name": "x", "nodes": {"file": "scenarios/pool/kathleen.nodes"}})"),
            ": /interconnect: is required");
  EXPECT_EQ(
      error_of(
          R"({"name": "x", "nodes": {"file": "scenarios/pool/kathleen.nodes"}, "interconnect": {"type": "token-ring"}})"),
      ": /interconnect/type: unknown interconnect 'token-ring' (known: vme, ethernet, switched)");
  EXPECT_EQ(
      error_of(R"({"name": "x", "nodes": {"generate": {"count": 0}}, "interconnect": {"type": "vme"}})"),
      ": /nodes/generate/count: must be a whole number from 1 to 65536");
  EXPECT_EQ(
      error_of(
          R"({"name": "x", "nodes": {"generate": {"count": 2, "name": "n"}}, "interconnect": {"type": "vme"}})"),
      ": /nodes/generate/name: must contain {i} (the node's index)");
  EXPECT_NE(
      error_of(R"({"name": "x", "nodes": {"generate": {"count": 2}}, "interconnect": {"type": "ethernet",
                          "bandwidth": {"value": 10, "unit": "MB", "provenance": "p"},
                          "latency": {"value": 1, "unit": "us", "provenance": "p"}}})")
          .find("/interconnect/bandwidth: unit 'MB' does not fit this parameter"),
      std::string::npos);
  EXPECT_EQ(
      error_of(
          R"({"name": "x", "nodes": {"file": "scenarios/pool/kathleen.nodes"}, "interconnect": {"type": "vme"}, "extra": 1})"),
      ": /extra: unknown key (known: name, description, nodes, interconnect)");
  EXPECT_EQ(
      error_of(
          R"({"name": "x", "nodes": {"file": "scenarios/pool/kathleen.nodes"}, "interconnect": {"type": "vme"}})",
          5),
      ": /nodes/file: a pool read from a node file has its own size: no node count");
  try {
    load_profile("no-such-profile", dir);
    FAIL();
  } catch (const PoolFileError& e) {
    EXPECT_EQ(std::string(e.what()),
              "unknown platform profile 'no-such-profile' (known: ethernet-lan, kathleen, switched-lan)");
  }
}

struct Transfer {
  double start;
  int from, to;
  double bytes;
};

/// Runs `transfers` over the profile's interconnect, each from its start time, in one simulation (one
/// engine per process); returns how long each took.
std::vector<double> transfer_times(const std::string& profile, const std::vector<Transfer>& transfers) {
  auto engine_owner = support::make_engine("test");
  simgrid::s4u::Engine& engine = *engine_owner;
  auto p = load_profile(profile, dir, profile == "switched-lan" ? 8 : 0);
  auto params = params::ModelParams::load();
  Platform platform(engine, p.nodes, params.cpu, params.vme, p.interconnect);
  auto net = make_interconnect(p.interconnect, params.vme);
  std::vector<double> took(transfers.size());
  for (std::size_t i = 0; i < transfers.size(); ++i) {
    Transfer x = transfers[i];
    simgrid::s4u::Actor::create(std::string("transfer").append(std::to_string(i)), platform.host(x.from),
                                [&, i, x] {
                                  simgrid::s4u::this_actor::sleep_until(x.start);
                                  net->copy(platform.host(x.from), platform.host(x.to), x.bytes, 1.0);
                                  took[i] = simgrid::s4u::Engine::get_clock() - x.start;
                                });
  }
  engine.run();
  return took;
}

TEST(Profile, EthernetTransfersShareTheOneLink) {
  // Alone, then two disjoint pairs at once: they still share the medium.
  auto t = transfer_times("ethernet-lan", {{0, 0, 1, 1.25e6}, {10, 0, 1, 1.25e6}, {10, 2, 3, 1.25e6}});
  EXPECT_NEAR(t[0], 1.0 + 51.2e-6, 1e-6);  // 10 Mbit/s, the slot time once
  EXPECT_NEAR(t[1], 2.0 + 51.2e-6, 1e-6);
  EXPECT_NEAR(t[2], t[1], 1e-9);
}

TEST(Profile, SwitchedTransfersBetweenDisjointPairsDoNotShare) {
  double port = 100e6 / 8, lat = 10e-6 + 1e-6 + 10e-6;
  auto t =
      transfer_times("switched-lan", {{0, 0, 1, port}, {0, 2, 3, port}, {10, 4, 6, port}, {10, 5, 6, port}});
  EXPECT_NEAR(t[0], 1.0 + lat, 1e-6);
  EXPECT_NEAR(t[1], 1.0 + lat, 1e-6);
  EXPECT_NEAR(t[2], 2.0 + lat, 1e-6);  // both through node 7's port
  EXPECT_NEAR(t[3], 2.0 + lat, 1e-6);
}

}  // namespace
}  // namespace equus::platform
