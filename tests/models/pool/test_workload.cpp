// Workloads: each distribution draws what its law says, arrivals are Poisson, streams are seeded and
// independent, SWF traces read as the archive defines them, and bad descriptions name their place.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>

#include "models/pool/workload.hpp"

using nlohmann::json;

namespace equus::pool {
namespace {

/// The sample mean of n draws lies within 5 standard errors of the law's mean.
void expect_mean(const Distribution& d, double variance, int n = 200000) {
  std::mt19937_64 rng(7);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += sample(d, rng);
  double se = std::sqrt(variance / n);
  EXPECT_NEAR(sum / n, mean(d), 5 * se) << "mean " << mean(d);
}

TEST(Workload, DistributionsDrawTheirMeans) {
  expect_mean(dist::Exponential{2.0}, 4.0);
  expect_mean(dist::Uniform{1.0, 3.0}, 4.0 / 12);
  // H2: means 0.5 and 10 with probabilities 0.9 / 0.1: mean 1.45, E[X^2] = 2 * (0.9*0.25 + 0.1*100).
  dist::Hyperexponential h{{0.5, 10.0}, {0.9, 0.1}};
  EXPECT_DOUBLE_EQ(mean(h), 1.45);
  expect_mean(h, 2 * (0.9 * 0.25 + 0.1 * 100) - 1.45 * 1.45);
  EXPECT_DOUBLE_EQ(mean(dist::Fixed{3}), 3);
}

TEST(Workload, ParetoAndUnixLifetimeHaveTheirTails) {
  // Unbounded Pareto alpha 3, scale 1: mean 1.5, P(X > 2) = 1/8.
  std::mt19937_64 rng(11);
  dist::Pareto p{3, 1, 0};
  EXPECT_DOUBLE_EQ(mean(p), 1.5);
  int n = 200000, above = 0;
  for (int i = 0; i < n; ++i) above += sample(p, rng) > 2;
  EXPECT_NEAR(above / double(n), 0.125, 5 * std::sqrt(0.125 * 0.875 / n));
  // Harchol-Balter and Downey: P(L > t) = min / t, here bounded at max (renormalised).
  dist::UnixLifetime l{1, 1000};
  double norm = 1 - 1.0 / 1000, expect = (0.1 - 0.001) / norm;  // P(L > 10)
  above = 0;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    double x = sample(l, rng);
    ASSERT_GE(x, 1);
    ASSERT_LE(x, 1000);
    above += x > 10;
    sum += x;
  }
  EXPECT_NEAR(above / double(n), expect, 5 * std::sqrt(expect * (1 - expect) / n));
  EXPECT_NEAR(mean(l), std::log(1000.0) / norm, 1e-12);
  EXPECT_NEAR(sum / n, mean(l), 0.05 * mean(l));  // heavy tail: a looser check of the sample mean
  // Bounded Pareto's mean from its formula against numerical integration of its survival function.
  dist::Pareto b{1.5, 2, 50};
  double integral = 2, step = 1e-4;  // E[X] = lo + integral of P(X > x) from lo to hi
  double c = 1 - std::pow(2.0 / 50, 1.5);
  for (double x = 2 + step / 2; x < 50; x += step)
    integral += step * (std::pow(2 / x, 1.5) - std::pow(2.0 / 50, 1.5)) / c;
  EXPECT_NEAR(mean(b), integral, 1e-4 * integral);
}

TEST(Workload, PoissonArrivalsHaveTheirRateAndUnitCoefficientOfVariation) {
  WorkloadSpec w;
  w.arrivals = arrivals::Poisson{4.0};
  w.duration_s = 10000;
  JobStream s(w, 3);
  std::vector<double> gaps;
  double last = 0;
  while (auto j = s.next()) {
    gaps.push_back(j->arrival_s - last);
    last = j->arrival_s;
  }
  double n = static_cast<double>(gaps.size());
  EXPECT_NEAR(n, 40000, 5 * std::sqrt(40000.0));
  double m = std::accumulate(gaps.begin(), gaps.end(), 0.0) / n, ss = 0;
  for (double g : gaps) ss += (g - m) * (g - m);
  EXPECT_NEAR(std::sqrt(ss / (n - 1)) / m, 1.0, 0.02);
  EXPECT_LE(last, 10000);
}

TEST(Workload, StreamsAreSeededAndArrivalsDoNotDependOnShapes) {
  auto make = [] {
    WorkloadSpec w;
    w.arrivals = arrivals::Poisson{1.0};
    w.max_jobs = 50;
    w.shape.demand_s = dist::Exponential{1};
    return w;
  };
  WorkloadSpec a = make(), b = make();  // not a copy: GCC 12 warns falsely on copying the variant
  b.shape.demand_s = dist::Pareto{2.5, 1, 100};
  b.shape.incarnations = dist::Uniform{1, 4};
  JobStream s1(a, 42), s2(a, 42), s3(b, 42), s4(a, 43);
  int n = 0;
  bool other_seed_differs = false;
  while (auto j1 = s1.next()) {
    auto j2 = s2.next(), j3 = s3.next(), j4 = s4.next();
    ASSERT_TRUE(j2 && j3 && j4);
    EXPECT_EQ(j1->arrival_s, j2->arrival_s);
    EXPECT_EQ(j1->demand_s, j2->demand_s);
    EXPECT_EQ(j1->arrival_s, j3->arrival_s);  // common random numbers across shapes
    other_seed_differs = other_seed_differs || j1->arrival_s != j4->arrival_s;
    ++n;
  }
  EXPECT_EQ(n, 50);
  EXPECT_TRUE(other_seed_differs);
}

TEST(Workload, WarmUpMarksJobsAndFixedArrivalsEnd) {
  WorkloadSpec w;
  w.arrivals = arrivals::Fixed{{0.5, 1.0, 7.0}};
  w.warmup_s = 1.0;
  w.groups = {"balanced"};
  JobStream s(w, 1);
  auto a = s.next(), b = s.next(), c = s.next();
  ASSERT_TRUE(a && b && c);
  EXPECT_FALSE(a->counted);
  EXPECT_TRUE(b->counted);
  EXPECT_EQ(c->arrival_s, 7.0);
  EXPECT_EQ(c->groups, std::vector<std::string>{"balanced"});
  EXPECT_EQ(c->user, "tim");
  EXPECT_FALSE(s.next());
}

std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Workload, SwfTracesGiveSubmitRunTimeProcessorsAndMemory) {
  std::string path = write_temp("t.swf",
                                "; Version: 2.2\n"
                                ";\n"
                                "1 0 5 100 4 -1 256 4 200 -1 1 3 1 -1 1 -1 -1 -1\n"
                                "2 10 0 -1 1 -1 -1 1 50 -1 5 3 1 -1 1 -1 -1 -1\n"  // no run time: skipped
                                "3 30 2 20 -1 -1 -1 2 30 512 1 7 2 -1 1 -1 -1 -1\n");
  auto jobs = read_swf(path, 0.5, 0);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].arrival_s, 0);
  EXPECT_EQ(jobs[0].demand_s, 50);
  EXPECT_EQ(jobs[0].incarnations, 4);
  EXPECT_EQ(jobs[0].memory_bytes, 256 * 1024);
  EXPECT_EQ(jobs[1].arrival_s, 15);
  EXPECT_EQ(jobs[1].incarnations, 2);           // requested, when allocated is missing
  EXPECT_EQ(jobs[1].memory_bytes, 512 * 1024);  // requested, when used is missing
  WorkloadSpec w;
  w.arrivals = arrivals::Swf{path, 1, 1};
  JobStream s(w, 1);
  ASSERT_TRUE(s.next());
  EXPECT_FALSE(s.next());  // max_jobs
}

TEST(Workload, SwfErrorsNameFileAndLine) {
  std::string bad = write_temp("bad.swf", "; c\n1 0 5 100 4\n");
  try {
    read_swf(bad, 1, 0);
    FAIL();
  } catch (const WorkloadError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.swf:2: an SWF job line has 18 fields"), std::string::npos)
        << e.what();
  }
  std::string nan = write_temp("nan.swf", "1 0 5 x 4 -1 256 4 200 -1 1 3 1 -1 1 -1 -1 -1\n");
  EXPECT_THROW(read_swf(nan, 1, 0), WorkloadError);
  EXPECT_THROW(read_swf("/nonexistent.swf", 1, 0), WorkloadError);
}

std::string error_of(const json& j) {
  try {
    parse_workload(j, "/workload");
  } catch (const WorkloadError& e) {
    return e.what();
  }
  return "";
}

TEST(Workload, ParsesAScenarioSection) {
  auto w = parse_workload(json::parse(R"({
      "arrivals": {"type": "poisson", "rate": 0.5},
      "shape": {"incarnations": 2, "demand_s": {"type": "hyperexponential", "means": [1, 20], "probs": [0.95, 0.05]},
                "memory_bytes": {"type": "uniform", "lo": 1000, "hi": 2000}},
      "groups": ["balanced", "timeshared"], "warmup_s": 100, "duration_s": 1000})"),
                          "/workload");
  EXPECT_EQ(std::get<arrivals::Poisson>(w.arrivals).rate, 0.5);
  EXPECT_DOUBLE_EQ(mean(w.shape.demand_s), 1.95);
  EXPECT_EQ(std::get<dist::Fixed>(w.shape.incarnations).value, 2);
  EXPECT_EQ(w.groups.size(), 2u);
}

TEST(Workload, BadSectionsNameTheirPointer) {
  auto poisson = [](const std::string& extra) {
    return json::parse(R"({"arrivals": {"type": "poisson", "rate": 1}, "max_jobs": 10)" + extra + "}");
  };
  EXPECT_EQ(error_of(poisson(R"(, "shape": {"demand_s": {"type": "exponential", "mean": -1}})")),
            "/workload/shape/demand_s/mean: must be > 0");
  EXPECT_EQ(error_of(poisson(R"(, "shape": {"demand": 1})")).rfind("/workload/shape/demand: unknown key", 0),
            0u);
  EXPECT_EQ(
      error_of(poisson(
          R"(, "shape": {"demand_s": {"type": "hyperexponential", "means": [1, 2], "probs": [0.5, 0.6]}})")),
      "/workload/shape/demand_s/probs: must sum to 1");
  EXPECT_EQ(error_of(poisson(R"(, "shape": {"demand_s": {"type": "weibull"}})"))
                .rfind("/workload/shape/demand_s/type: unknown distribution 'weibull'", 0),
            0u);
  EXPECT_EQ(error_of(poisson(R"(, "shape": {"demand_s": {"type": "pareto", "alpha": 1, "scale": 1}})"))
                .rfind("/workload/shape/demand_s/alpha: must be > 1", 0),
            0u);
  EXPECT_EQ(error_of(json::parse(R"({"arrivals": {"type": "poisson", "rate": 1}})")),
            "/workload: Poisson arrivals need an end: give \"duration_s\" or \"max_jobs\"");
  EXPECT_EQ(error_of(json::parse(R"({"arrivals": {"type": "poisson", "rate": 0}, "max_jobs": 1})")),
            "/workload/arrivals/rate: must be > 0");
  EXPECT_EQ(error_of(json::parse(R"({"arrivals": {"type": "fixed", "times": [2, 1]}})")),
            "/workload/arrivals/times: must be non-decreasing");
  EXPECT_EQ(error_of(poisson(R"(, "warmup_s": -1)")), "/workload/warmup_s: must be >= 0");
  EXPECT_EQ(error_of(json::parse(R"({"arrivals": {"type": "poisson", "rate": 1}, "max_jobs": 2.5})")),
            "/workload/max_jobs: must be a whole number");
}

}  // namespace
}  // namespace equus::pool
