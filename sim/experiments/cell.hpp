// A reproduced figure cell, as reproduce() returns it: value types only (the facade's result).
#pragma once

#include <string>

namespace equus::sim::experiments {

/// One reproduced figure cell: row/column keys follow shared/reference/equus-published-figures.json.
struct Cell {
  std::string table;  // "A.1", "A.2", "A.3", "8.1", ...
  std::string row;
  std::string column;
  double simulated = 0;
  bool has_published = false;
  double published = 0;
  double published_sd = -1;  // < 0 when unknown
  std::string unit;
  std::string role;  // "calibration", "check" or "prediction" (withheld figure)
};

}  // namespace equus::sim::experiments
