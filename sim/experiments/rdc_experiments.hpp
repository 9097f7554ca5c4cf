// Experiments on launched RDCs that the dissertation argues about without a table: the cost of an
// uncached ss_get (Section 5.5.2) and the host bottleneck when creating many incarnations from a module
// rather than from INCHOATE copies (Section 3.2.1). Each runs Appendix A.1's timing method (inc_time
// around the measured work, repeated experiments) in a fresh testbed, whose pool it boots.
#pragma once

#include <vector>

#include "models/kernel/model_params.hpp"
#include "models/platform/pool_files.hpp"
#include "sim/experiments/appendix_a.hpp"

namespace equus::sim::experiments {

/// Cells of the tables "5.5.2" (row "ss_get_uncached") and "3.2.1" (rows "create_100_from_module",
/// "create_100_from_inchoate"). CellSpec.calls is the protocol count: ss_get calls or workers.
std::vector<CellSpec> rdc_experiment_cells();

/// Section 5.5.2: an incarnation on another node of the RDC than its stream space times `cell.calls`
/// (scaled) ss_get calls of a reference deposited with SS_DONTCACHE. Values in ms per call.
CellResult run_ss_get_uncached(const CellSpec& cell, Testbed& testbed, const RunOptions& options);

/// Section 3.2.1: the primary creates `cell.calls` (scaled) workers spread over the RDC's nodes, from the
/// module on the host's disc (row containing "from_module") or from one INCHOATE copy per node (row
/// containing "from_inchoate"), timed until every worker has announced itself. Values in seconds.
CellResult run_creation(const CellSpec& cell, Testbed& testbed, const RunOptions& options);

}  // namespace equus::sim::experiments
