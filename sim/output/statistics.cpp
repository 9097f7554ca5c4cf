#include "sim/output/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace equus::sim {

namespace {

/// Continued fraction of the regularised incomplete beta function (modified Lentz's method).
double beta_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300, eps = 1e-15;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  d = 1 / (std::abs(d) < tiny ? tiny : d);
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    for (int pass = 0; pass < 2; ++pass) {
      double num = pass == 0 ? m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
                             : -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
      d = 1 + num * d;
      d = 1 / (std::abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      c = std::abs(c) < tiny ? tiny : c;
      h *= d * c;
      if (pass == 1 && std::abs(d * c - 1) < eps) return h;
    }
  }
  return h;
}

/// I_x(a, b), the regularised incomplete beta function.
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_fraction(a, b, x) / a;
  return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

double student_t_cdf(double t, double df) {
  double tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? 1 - tail : tail;
}

}  // namespace

double student_t_quantile(double q, double df) {
  if (!(q > 0 && q < 1) || !(df > 0)) throw std::invalid_argument("student_t_quantile: q in (0,1), df > 0");
  double lo = -1e6, hi = 1e6;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, std::abs(lo)); ++i) {
    double mid = (lo + hi) / 2;
    (student_t_cdf(mid, df) < q ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

Estimate batch_means(const std::vector<double>& xs, int batches, double confidence) {
  Estimate e;
  e.n = xs.size();
  if (xs.empty()) {
    e.mean = e.lo = e.hi = std::numeric_limits<double>::quiet_NaN();
    e.half_width = std::numeric_limits<double>::infinity();
    return e;
  }
  e.mean = std::accumulate(xs.begin(), xs.end(), 0.0) / static_cast<double>(xs.size());
  int k = std::min<int>(batches, static_cast<int>(xs.size()));
  std::size_t size = xs.size() / static_cast<std::size_t>(std::max(k, 1));
  if (k < 2 || size == 0) {
    e.half_width = std::numeric_limits<double>::infinity();
  } else {
    std::vector<double> means(static_cast<std::size_t>(k));
    for (int b = 0; b < k; ++b) {
      auto first = xs.begin() + static_cast<std::ptrdiff_t>(b * size);
      means[b] =
          std::accumulate(first, first + static_cast<std::ptrdiff_t>(size), 0.0) / static_cast<double>(size);
    }
    double grand = std::accumulate(means.begin(), means.end(), 0.0) / k, ss = 0;
    for (double m : means) ss += (m - grand) * (m - grand);
    double se = std::sqrt(ss / (k - 1) / k);
    e.half_width = student_t_quantile(0.5 + confidence / 2, k - 1) * se;
  }
  e.batches = k;
  e.lo = e.mean - e.half_width;
  e.hi = e.mean + e.half_width;
  return e;
}

namespace {
/// The p-quantile of already sorted `xs`.
double sorted_percentile(const std::vector<double>& xs, double p) {
  if (xs.empty()) return std::numeric_limits<double>::quiet_NaN();
  double pos = std::clamp(p, 0.0, 1.0) * static_cast<double>(xs.size() - 1);
  auto i = static_cast<std::size_t>(pos);
  double frac = pos - static_cast<double>(i);
  return i + 1 < xs.size() ? xs[i] + frac * (xs[i + 1] - xs[i]) : xs[i];
}
}  // namespace

double percentile(std::vector<double> xs, double p) {
  std::sort(xs.begin(), xs.end());
  return sorted_percentile(xs, p);
}

Summary summarise(const std::vector<double>& xs, int batches) {
  Summary s;
  s.n = xs.size();
  s.ci = batch_means(xs, batches);
  if (xs.empty()) return s;
  s.mean = s.ci.mean;
  double ss = 0;
  for (double x : xs) ss += (x - s.mean) * (x - s.mean);
  s.sd = xs.size() > 1 ? std::sqrt(ss / static_cast<double>(xs.size() - 1)) : 0;
  std::vector<double> sorted = xs;  // sorted once for every quantile
  std::sort(sorted.begin(), sorted.end());
  s.min = sorted.front();
  s.max = sorted.back();
  s.p50 = sorted_percentile(sorted, 0.50);
  s.p90 = sorted_percentile(sorted, 0.90);
  s.p95 = sorted_percentile(sorted, 0.95);
  s.p99 = sorted_percentile(sorted, 0.99);
  return s;
}

}  // namespace equus::sim
