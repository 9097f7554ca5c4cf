// The Appendix A.2 and A.3 experiments at reduced scale: what they measure and check (one SimGrid
// engine per test process). The full-protocol figures are checked in tests/sim/test_tolerance.cpp.
#include <gtest/gtest.h>

#include "models/platform/pool_files.hpp"
#include "sim/experiments/reconfig_experiments.hpp"
#include "sim/session.hpp"

namespace equus::test {

namespace {
sim::experiments::CellSpec cell(const std::string& table, const std::string& row, const std::string& column) {
  for (const auto& c : sim::experiments::reconfig_experiment_cells())
    if (c.table == table && c.row == row && c.column == column) return c;
  ADD_FAILURE() << "no cell " << table << " " << row << " " << column;
  return {};
}
/// Runs `run` on a testbed of the shipped pool with the default parameters (one per test process).
template <class Run>
auto in_testbed(Run run) {
  sim::Session session(sim::shipped_pool(params::ModelParams::load({})));
  auto testbed = session.testbed();
  return run(testbed);
}
}  // namespace

TEST(ReconfigExperiments, CellsFollowThePublishedKeys) {
  auto cells = sim::experiments::reconfig_experiment_cells();
  EXPECT_EQ(cells.size(), 12u + 4u);
  EXPECT_EQ(cell("A.4", "1030", "9_ports").calls, 100);
  EXPECT_EQ(cell("A.5", "stream_rebinding", "elapsed").calls, 10000);
}

TEST(ReconfigExperiments, MigrationTimeGrowsWithSizeAndPorts) {
  sim::experiments::RunOptions ro{1, 0.1, 1};  // 10 migrations
  auto r = in_testbed(
      [&](auto& tb) { return sim::experiments::run_migration(cell("A.4", "390", "9_ports"), tb, ro); });
  ASSERT_EQ(r.per_experiment.size(), 10u);
  // 19 + 1.2 * 9 + 0.39 * 390 = 182 ms by the published formula.
  EXPECT_GT(r.mean, 140);
  EXPECT_LT(r.mean, 230);
  for (double v : r.per_experiment) EXPECT_GT(v, 0);
}

TEST(ReconfigExperiments, PortPropagationAlternatesReceiversWithoutLoss) {
  sim::experiments::RunOptions ro{1, 0.1, 1};  // 1000 inc_send, 10 turns of 100
  auto r = in_testbed([&](auto& tb) {
    return sim::experiments::run_reconfiguration(cell("A.5", "port_propagation", "elapsed"), tb, ro);
  });
  EXPECT_TRUE(r.violations.empty()) << r.violations.front();
  // The receivers' sequence gaps count the changes of receiver: one per turn of 100 after the first.
  EXPECT_GE(r.reconfigurations, 8);
  EXPECT_LE(r.reconfigurations, 10);
  EXPECT_GT(r.forwarded, 0);  // messages that queued while the port travelled
}

TEST(ReconfigExperiments, StreamRebindingByAManager) {
  sim::experiments::RunOptions ro{1, 0.1, 1};
  auto r = in_testbed([&](auto& tb) {
    return sim::experiments::run_reconfiguration(cell("A.5", "stream_rebinding", "elapsed"), tb, ro);
  });
  EXPECT_TRUE(r.violations.empty()) << r.violations.front();
  EXPECT_GE(r.reconfigurations, 7);
  EXPECT_LE(r.reconfigurations, 10);
  EXPECT_GT(r.elapsed.mean, 2000);  // 1000 sends at about 2.2 ms
}

TEST(ReconfigExperiments, NoReconfigurationMeansNoGapsAndNothingForwarded) {
  sim::experiments::RunOptions ro{1, 0.1, 1};
  auto r = in_testbed([&](auto& tb) {
    return sim::experiments::run_reconfiguration(cell("A.5", "no_reconfigurations", "elapsed"), tb, ro);
  });
  EXPECT_EQ(r.reconfigurations, 0);
  EXPECT_EQ(r.forwarded, 0);
}

}  // namespace equus::test
