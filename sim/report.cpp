#include "sim/report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>

namespace equus::sim {

std::string format_tables(const std::vector<Cell>& cells) {
  static const std::map<std::string, std::string> titles = {
      {"A.1", "Table A.1: invocation times between nodes"},
      {"8.1", "Table 8.1: request-reply call time (Equus row)"},
      {"A.2",
       "Table A.2: invocation times between incarnations at the same node (published figures withheld)"},
      {"A.3", "Table A.3: inc_copyto / inc_copyfrom between nodes (published figures withheld)"},
      {"5.5.2", "Section 5.5.2: uncached ss_get (published estimate withheld)"},
      {"3.2.1", "Section 3.2.1: creating 100 workers: host bottleneck (no published figure)"},
  };
  std::string out;
  std::string current;
  int outside = 0;
  for (const auto& c : cells) {
    if (c.table != current) {
      current = c.table;
      auto t = titles.find(c.table);
      out += fmt::format("\n{} [{}]\n", t != titles.end() ? t->second : c.table, c.unit);
      out += fmt::format("  {:<34} {:>5} {:>11} {:>14} {:>8}  {}\n", "row", "col", "simulated", "published",
                         "error", "role");
    }
    // Withheld by the shared copy of the dissertation, or never published (3.2.1 has no figure).
    std::string pub = c.table == "3.2.1" ? "none" : "withheld";
    std::string err;
    if (c.has_published) {
      pub = c.published_sd >= 0 ? fmt::format("{:g} ({:g})", c.published, c.published_sd)
                                : fmt::format("{:g}", c.published);
      double rel = c.simulated / c.published - 1.0;
      bool bad = std::fabs(rel) > tolerance;
      outside += bad;
      err = fmt::format("{:+.1f}%{}", 100 * rel, bad ? "!" : " ");
    }
    out += fmt::format("  {:<34} {:>5} {:>11.1f} {:>14} {:>8}  {}\n", c.row, c.column, c.simulated, pub, err,
                       c.role);
  }
  out += fmt::format("\n{} published cell(s) outside the {:.0f}% tolerance (flagged !).\n", outside,
                     100 * tolerance);
  return out;
}

}  // namespace equus::sim
