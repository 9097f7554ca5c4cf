// The experiments of Appendices A.2 and A.3: migration times (Table A.4) and the overhead to a sender
// of changing its receiver (Table A.5 / 8.2). Each runs in a fresh testbed.
#pragma once

#include <vector>

#include "models/kernel/model_params.hpp"
#include "models/platform/pool_files.hpp"
#include "sim/experiments/appendix_a.hpp"

namespace equus::sim::experiments {

/// Table A.4 cells (rows: address space in kB; columns "1_port", "9_ports"; calls = migrations) and
/// Table A.5 cells (rows "no_reconfigurations", "port_propagation", "port_attachment",
/// "stream_rebinding"; column "elapsed"; calls = inc_send calls). A.5's "overhead_ms" and "forwarded"
/// come from the same runs (see run_reconfiguration).
std::vector<CellSpec> reconfig_experiment_cells();

/// Appendix A.2: an incarnation of `row` kB (text + heap + stack + pincdata, in pages) with 1 or 9
/// ports, blocked in inc_receive, migrated `calls` (scaled) times round ten nodes by a manager on an
/// eleventh; each time from EV_INC_MIGRATEDONE. Values in ms per migration (mean and sd over all).
CellResult run_migration(const CellSpec& cell, Testbed& testbed, const RunOptions& options);

/// What one Table A.5 configuration measures, per experiment.
struct ReconfigResult {
  CellResult elapsed;                   // ms for all the inc_send calls
  double reconfigurations = 0;          // mean per experiment (checked by the receivers' sequence gaps)
  double forwarded = 0;                 // acknowledged messages forwarded, both kernels, mean per experiment
  double forwarded_pending = 0;         // pending messages forwarded, mean per experiment
  std::vector<std::string> violations;  // of the invariant checker
};

/// Appendix A.3: a sender makes `calls` (scaled) inc_send calls to two receivers that alternate by the
/// row's mechanism every ~100 messages (100 reconfigurations at full scale).
ReconfigResult run_reconfiguration(const CellSpec& cell, Testbed& testbed, const RunOptions& options);

}  // namespace equus::sim::experiments
