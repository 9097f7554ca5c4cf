// The RDC experiments: an uncached ss_get costs a little more than the invocation that propagates the
// reference (Section 5.5.2); creating workers from a module is bound by the host's disc, creating them
// from INCHOATE copies is not (Section 3.2.1).
#include <gtest/gtest.h>

#include "models/params/params.hpp"
#include "sim/experiments/rdc_experiments.hpp"
#include "sim/facade.hpp"
#include "sim/session.hpp"

namespace equus::test {

namespace {

const sim::experiments::CellSpec& cell_of(const std::string& table, const std::string& row) {
  static const auto cells = sim::experiments::rdc_experiment_cells();
  for (const auto& c : cells)
    if (c.table == table && c.row == row) return c;
  throw std::runtime_error("no cell " + table + " " + row);
}

/// Creation times by row, each cell in its own process (one SimGrid engine per process).
std::map<std::string, double> creation_times(double calls_scale) {
  sim::ReproduceOptions o;
  o.only = {"3.2.1"};
  o.experiments = 2;
  o.calls_scale = calls_scale;
  o.jobs = 2;
  std::map<std::string, double> t;
  for (const auto& c : sim::reproduce(o)) t[c.row] = c.simulated;
  return t;
}

}  // namespace

TEST(RdcExperiments, UncachedSsGetCostsSlightlyMoreThanAnInvocation) {
  sim::Session session(sim::shipped_pool(params::ModelParams::load({})));
  auto testbed = session.testbed();
  sim::experiments::RunOptions o{2, 0.2, 1};
  auto r = sim::experiments::run_ss_get_uncached(cell_of("5.5.2", "ss_get_uncached"), testbed, o);
  ASSERT_EQ(r.per_experiment.size(), 2u);
  EXPECT_GE(r.mean, 2.0);  // at least one inc_invoke's worth (Table A.1: 2.3-2.9 ms)
  EXPECT_LT(r.mean, 10.0);
}

TEST(RdcExperiments, CreationFromInchoateCopiesBeatsTheHostsDisc) {
  auto t20 = creation_times(0.2);
  auto t40 = creation_times(0.4);
  for (auto* t : {&t20, &t40}) {
    ASSERT_EQ(t->size(), 2u);
    EXPECT_GT(t->at("create_100_from_inchoate"), 0);
    EXPECT_LT(t->at("create_100_from_inchoate"), t->at("create_100_from_module"));
  }
  // The disc serialises the fetches: each further worker from the module costs about one disc read of
  // its initialised data (its node already holds the text), so the time grows linearly.
  auto params = params::ModelParams::load({});
  const double data_bytes = 16 * 1024;  // the worker module's initialised data (rdc_experiments.cpp)
  double per_fetch =
      params.host.request_cpu + params.host.disc_access + data_bytes / params.host.disc_read_rate;
  double slope = (t40.at("create_100_from_module") - t20.at("create_100_from_module")) / 20;
  EXPECT_GT(slope, per_fetch) << t20.at("create_100_from_module") << " s vs "
                              << t40.at("create_100_from_module");
  EXPECT_LT(slope, 1.5 * per_fetch);
  double ratio = t40.at("create_100_from_module") / t20.at("create_100_from_module");
  EXPECT_GT(ratio, 1.4);
  EXPECT_LT(ratio, 2.1);
}

}  // namespace equus::test
