// Summaries of a run's metrics with honest uncertainty: means with confidence intervals by the method
// of batch means (consecutive observations are correlated in a queueing simulation, so the i.i.d.
// formula would understate the interval), and percentiles.
#pragma once

#include <cstddef>
#include <vector>

namespace equus::sim {

/// A mean and its confidence interval [lo, hi] = mean -/+ half_width.
struct Estimate {
  double mean = 0;
  double half_width = 0;  // infinite when there are too few observations for an interval
  double lo = 0, hi = 0;
  std::size_t n = 0;  // observations
  int batches = 0;    // batches the interval was computed from
  bool contains(double x) const { return lo <= x && x <= hi; }
};

/// The `confidence` interval of the mean of `xs` (in time order) from `batches` consecutive batches of
/// equal size (the remainder of the division is dropped from the interval, not from the mean).
Estimate batch_means(const std::vector<double>& xs, int batches = 20, double confidence = 0.95);

/// The p-quantile (0 <= p <= 1) of `xs`, linear between order statistics; NaN when empty.
double percentile(std::vector<double> xs, double p);

struct Summary {
  std::size_t n = 0;
  double mean = 0, sd = 0, min = 0, max = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0;
  Estimate ci;  // 95%, batch means
};
Summary summarise(const std::vector<double>& xs, int batches = 20);

/// The q-quantile of Student's t with `df` degrees of freedom (q in (0, 1)).
double student_t_quantile(double q, double df);

}  // namespace equus::sim
