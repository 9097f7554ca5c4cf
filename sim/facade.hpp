// The facade shared by the `equus` CLI and the Python module: thin, value-typed, no SimGrid types.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/experiments/cell.hpp"

namespace equus::sim {

/// One reproduced figure cell (value type, sim/experiments/cell.hpp).
using Cell = experiments::Cell;

struct ReproduceOptions {
  std::vector<std::string> only;                 // table names; empty = all
  std::map<std::string, std::string> overrides;  // "m68030.trap_us" -> "120"
  int experiments = 10;                          // repeats per cell (Appendix A used 10)
  // Table A.5's experiments are 10,000 sends each: by default 3 of the dissertation's 10 (its simulated
  // spread is a fraction of the published one), so that every table runs in seconds.
  int a5_experiments = 3;
  double calls_scale = 1.0;  // scale the per-experiment call counts (quick runs)
  uint64_t seed = 1;
  int jobs = 0;  // worker processes; 0 = number of cores
};

/// Runs the Appendix A experiments (each table in its own forked process) and returns the cells.
/// Throws std::runtime_error with a one-line message on bad input (unknown table, bad override).
std::vector<Cell> reproduce(const ReproduceOptions& options);

/// {"cells": [...]} as written by `equus reproduce --json`.
std::string cells_to_json(const std::vector<Cell>& cells);

/// Names of the tables `reproduce` knows, in print order.
std::vector<std::string> known_tables();

}  // namespace equus::sim
