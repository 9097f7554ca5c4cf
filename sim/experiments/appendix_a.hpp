// The Appendix A experiments as simulated programs: a sender incarnation calling one primitive in a
// simple loop, timed with inc_time, against a receiver looping in inc_receive on another node (or the
// same node for Table A.2); ten experiments per cell.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/kernel/model_params.hpp"
#include "models/platform/pool_files.hpp"
#include "sim/experiments/testbed.hpp"

namespace equus::sim::experiments {

enum class Primitive {
  InvokeNoReply,
  InvokeReply,
  InvokeReplyStreamEachWay,
  AsinvokeBufferLimit1,
  Send,
  Dgram,
  SendMulticast2,
  DgramMulticast2,
  Copyto,
  Copyfrom,
};

struct CellSpec {
  std::string table;   // "A.1", "A.2", "A.3"
  std::string row;     // key in equus-published-figures.json
  std::string column;  // "0", "1k", "32k", "64k"
  Primitive primitive = Primitive::InvokeNoReply;
  uint32_t extra_bytes = 0;
  int calls = 1000;  // calls per experiment (fewer for inc_dgram: buffering, Table A.1)
  bool same_node = false;
};

struct CellResult {
  CellSpec spec;
  std::vector<double> per_experiment;  // ms per 1000 calls, scaled as the dissertation did
  double mean = 0;
  double sd = 0;
  long retries = 0;
  long dropped = 0;
};

/// Every cell of Tables A.1, A.2 and A.3.
std::vector<CellSpec> appendix_a_cells();

struct RunOptions {
  int experiments = 10;
  double calls_scale = 1.0;  // < 1 for quick runs (calibration sweeps, tests)
  uint64_t seed = 1;
};

/// Runs one cell in a fresh testbed (its engine has not run yet).
CellResult run_cell(const CellSpec& cell, Testbed& testbed, const RunOptions& options);

}  // namespace equus::sim::experiments
