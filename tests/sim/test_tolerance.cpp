// Table A.1 and Table 8.1's Equus row, full Appendix A protocol: every published cell within 5%.
// A model change that moves any cell past tolerance fails here.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/facade.hpp"
#include "sim/report.hpp"

namespace equus::test {

TEST(Tolerance, TableA1AndEquusRowWithinFivePercent) {
  sim::ReproduceOptions o;
  o.only = {"A.1", "8.1"};
  auto cells = sim::reproduce(o);
  int a1 = 0;
  for (const auto& c : cells) {
    ASSERT_TRUE(c.has_published) << c.table << " " << c.row << " " << c.column;
    double rel = c.simulated / c.published - 1.0;
    EXPECT_LE(std::fabs(rel), sim::tolerance) << c.table << " " << c.row << " " << c.column << ": simulated "
                                              << c.simulated << " vs published " << c.published;
    a1 += c.table == "A.1";
  }
  EXPECT_EQ(a1, 20);
}

TEST(Tolerance, WithheldExperimentsRunAndPredict) {
  sim::ReproduceOptions o;
  o.only = {"A.2", "A.3"};
  o.experiments = 2;
  o.calls_scale = 0.2;
  auto cells = sim::reproduce(o);
  EXPECT_EQ(cells.size(), 16u);
  for (const auto& c : cells) {
    EXPECT_FALSE(c.has_published);
    EXPECT_EQ(c.role, "prediction");
    EXPECT_GT(c.simulated, 0) << c.row << " " << c.column;
  }
}

}  // namespace equus::test
