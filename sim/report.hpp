// Text tables of reproduced cells beside the published figures.
#pragma once

#include <string>
#include <vector>

#include "sim/facade.hpp"

namespace equus::sim {

/// Relative tolerance a cell must meet against its published figure (Table A.1 acceptance: 5%).
constexpr double tolerance = 0.05;

/// One table per `table` value, rows in run order; cells outside tolerance are flagged with '!'.
std::string format_tables(const std::vector<Cell>& cells);

}  // namespace equus::sim
