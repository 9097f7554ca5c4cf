// Statistics: Student's t quantiles against tabulated values, batch-means intervals that cover the true
// mean about as often as they claim, percentiles.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "sim/output/statistics.hpp"

namespace equus::sim {
namespace {

TEST(Statistics, StudentTQuantilesMatchTables) {
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.7062, 1e-3);
  EXPECT_NEAR(student_t_quantile(0.975, 19), 2.0930, 1e-4);
  EXPECT_NEAR(student_t_quantile(0.95, 10), 1.8125, 1e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 1e7), 1.95996, 1e-4);
  EXPECT_NEAR(student_t_quantile(0.025, 5), -2.5706, 1e-4);
}

TEST(Statistics, BatchMeansIntervalsCoverTheMeanAsOftenAsTheySay) {
  // 400 replications of 2,000 AR(1) observations (correlated, like waiting times): the 95% interval
  // must contain the true mean 0 in about 95% of them. The i.i.d. formula would cover far less.
  std::mt19937_64 rng(5);
  std::normal_distribution<double> z;
  int covered = 0, naive_covered = 0, reps = 400;
  for (int r = 0; r < reps; ++r) {
    std::vector<double> xs(2000);
    double x = 0;
    for (auto& v : xs) v = x = 0.9 * x + z(rng);
    auto e = batch_means(xs, 20);
    covered += e.contains(0.0);
    auto naive = batch_means(xs, 2000);  // batches of one: the i.i.d. interval
    naive_covered += naive.contains(0.0);
  }
  EXPECT_NEAR(covered / double(reps), 0.95, 0.035);
  EXPECT_LT(naive_covered / double(reps), 0.75);
}

TEST(Statistics, PercentilesAndSummaries) {
  std::vector<double> xs{5, 1, 4, 2, 3};
  EXPECT_EQ(percentile(xs, 0.5), 3);
  EXPECT_EQ(percentile(xs, 0), 1);
  EXPECT_EQ(percentile(xs, 1), 5);
  EXPECT_DOUBLE_EQ(percentile(xs, 0.9), 4.6);
  EXPECT_TRUE(std::isnan(percentile({}, 0.5)));
  auto s = summarise(xs, 5);
  EXPECT_EQ(s.n, 5u);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_DOUBLE_EQ(s.sd, std::sqrt(2.5));
  EXPECT_EQ(s.ci.batches, 5);
  EXPECT_TRUE(s.ci.contains(3));
  auto one = batch_means({1.0});
  EXPECT_TRUE(std::isinf(one.half_width));
}

}  // namespace
}  // namespace equus::sim
