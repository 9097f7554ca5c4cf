#include "sim/report.hpp"

#include <fmt/format.h>

#include <cmath>

#include "sim/experiments/registry.hpp"

namespace equus::sim {

std::string format_tables(const std::vector<Cell>& cells) {
  std::string out;
  std::string current;
  std::string header_unit;
  int outside = 0;
  for (const auto& c : cells) {
    if (c.table != current) {
      current = c.table;
      header_unit = c.unit;
      out += fmt::format("\n{} [{}]\n", experiments::experiment(c.table).title, c.unit);
      out += fmt::format("  {:<34} {:>11} {:>11} {:>14} {:>8}  {}\n", "row", "col", "simulated", "published",
                         "error", "role");
    }
    // Withheld by the shared copy of the dissertation, or never published (3.2.1 has no figure).
    std::string pub = experiments::experiment(c.table).unpublished;
    std::string err;
    if (c.has_published) {
      pub = c.published_sd >= 0 ? fmt::format("{:g} ({:g})", c.published, c.published_sd)
                                : fmt::format("{:g}", c.published);
      double rel = c.simulated / c.published - 1.0;
      // Table A.5's overheads are judged in milliseconds (small differences of large times).
      bool absolute = c.column == "overhead_ms";
      // The coefficients of Table A.4's fitted formula: within 10% (issue acceptance).
      double tol = c.row.rfind("fit", 0) == 0 ? fit_tolerance : tolerance;
      bool bad =
          absolute ? std::fabs(c.simulated - c.published) > overhead_tolerance_ms : std::fabs(rel) > tol;
      outside += bad;
      err = absolute ? fmt::format("{:+.1f}ms{}", c.simulated - c.published, bad ? "!" : " ")
                     : fmt::format("{:+.1f}%{}", 100 * rel, bad ? "!" : " ");
    }
    std::string value =
        std::fabs(c.simulated) < 10 ? fmt::format("{:.3f}", c.simulated) : fmt::format("{:.1f}", c.simulated);
    std::string unit = c.unit != header_unit ? " [" + c.unit + "]" : "";
    out += fmt::format("  {:<34} {:>11} {:>11} {:>14} {:>8}  {}{}\n", c.row, c.column, value, pub, err,
                       c.role, unit);
  }
  out += fmt::format(
      "\n{} published cell(s) outside tolerance (flagged !): {:.0f}%, {:.0f}% for fitted coefficients, {:g} "
      "ms "
      "for overheads.\n",
      outside, 100 * tolerance, 100 * fit_tolerance, overhead_tolerance_ms);
  return out;
}

}  // namespace equus::sim
