// The experiments of Appendix A and the dissertation's other figures, each registered once: its table's
// name and title, the cells it runs, how one cell runs and what it costs, where its published figures
// are, and the cells it derives from the others. reproduce(), known_tables(), the CLI's help, the
// scheduling of cells and the report's titles all read this registry.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/experiments/appendix_a.hpp"
#include "sim/experiments/cell.hpp"
#include "sim/experiments/testbed.hpp"

namespace equus::sim::experiments {

/// One cell's outcome: {"mean", "sd", ...} and whatever else its table derives cells from.
using Outcome = nlohmann::json;

/// A cell that ran: its spec, outcome and the cell reported for it.
struct RanCell {
  const CellSpec* spec = nullptr;
  Outcome outcome;
  Cell cell;
};

/// What derived cells are judged against.
struct Reference {
  const nlohmann::json& published;                      // analysis/reference/equus-published-figures.json
  std::function<bool(const CellSpec&)> is_calibration;  // analysis/calibration_cells.json
};

struct Experiment {
  std::string table;                     // "A.1", "8.1", ...
  std::string title;                     // the report's heading
  std::string unit;                      // of its cells' values
  std::string unpublished = "withheld";  // what the report says of a cell without a published figure
  std::vector<CellSpec> cells;           // the cells it needs run (8.1 needs one of A.1's)
  /// Runs one of its cells in a fresh testbed; null for a table of derived cells only.
  std::function<Outcome(const CellSpec&, Testbed&, const RunOptions&)> run;
  /// Relative cost of a cell, to run the longest first (only the order matters).
  std::function<double(const CellSpec&, const RunOptions&)> cost;
  bool capped = false;  // Table A.5: its experiments capped by ReproduceOptions::a5_experiments
  /// Fills a cell's published figure (mean, sd), if the dissertation gives one.
  std::function<void(const CellSpec&, const nlohmann::json& published, Cell&)> publish;
  /// Cells computed from every cell that ran (fits, overheads, other tables' views).
  std::function<void(const std::vector<RanCell>&, const Reference&, std::vector<Cell>&)> derive;
};

/// Every experiment, in print order.
const std::vector<Experiment>& registry();
/// The experiment of `table`; throws std::out_of_range for an unknown one.
const Experiment& experiment(const std::string& table);

}  // namespace equus::sim::experiments
