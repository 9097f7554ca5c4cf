// Text tables of reproduced cells beside the published figures.
#pragma once

#include <string>
#include <vector>

#include "sim/facade.hpp"

namespace equus::sim {

/// Relative tolerance a cell must meet against its published figure (Table A.1 acceptance: 5%).
constexpr double tolerance = 0.05;
/// Table A.5 acceptance: overheads per reconfiguration within 1.5 ms of the published figures.
constexpr double overhead_tolerance_ms = 1.5;
/// Table A.4 acceptance: each coefficient of the fitted formula within 10% of the published one.
constexpr double fit_tolerance = 0.10;

/// One table per `table` value, rows in run order; cells outside tolerance are flagged with '!'.
std::string format_tables(const std::vector<Cell>& cells);

}  // namespace equus::sim
