// The facade shared by the `equus` CLI and the Python module: thin, value-typed, no SimGrid types.
// Reproducing the dissertation's figures and running scenarios go through here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/params/params.hpp"
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

/// A scenario run: the scenario, what to change in it, and where its outputs go.
struct ScenarioOptions {
  std::string scenario;                          // a JSON file's path, or the JSON text itself ('{'...)
  std::map<std::string, std::string> overrides;  // "m68030.trap_us" -> "120", over the scenario's own
  std::optional<uint64_t> seed;                  // replaces the scenario's seed
  bool write_outputs = true;                     // results (JSON, CSV), trace and graphs
  std::string out_dir;                           // default "out/<scenario name>"
  std::vector<double> graph_at;                  // configuration graphs at these times, beside the scenario's
  bool graphs_only = false;                      // no results or trace (`equus graph`)
};

struct ScenarioResult {
  std::string name;  // the scenario's
  uint64_t seed = 0;
  double end_time = 0;  // simulated seconds
  std::string end_reason;  // "finished" (only servers left), "deadlock" (nothing could happen) or "duration"
  int incarnations_created = 0;
  std::map<std::string, int> records;   // count of each recorded key
  int migrations = 0;                   // completed
  int reconfigurations = 0;             // reconfiguring calls made by programs and events
  std::vector<std::string> violations;  // of the communications invariant (Section 8.5); empty if it held
  std::string blocked;                  // who waited on what when the run ended ("" if nothing)
  std::string out_dir;                  // "" when nothing was written
  std::vector<std::string> files;       // results.json, trace.json, graphs written
  std::map<std::string, std::string> tables;  // CSV tables written: "records" -> <out_dir>/records.csv
  std::vector<std::string> failures;          // operations the scenario asked for that failed (sim/run.hpp)
  std::vector<std::string> errors;            // op programs stopped on a computed value out of range
  std::vector<std::string> cleared;           // files of an earlier run removed from out_dir before this one
};

/// Checks a scenario (schema rules and cross-references) and returns its name; throws
/// std::runtime_error with one line naming the file and JSON pointer if it is bad.
std::string validate_scenario(const std::string& scenario);

/// Validates and runs a scenario, then writes its outputs. Bad input (scenario, override, output
/// directory) throws std::runtime_error with one line before anything runs. Once per process: SimGrid
/// allows one engine per process.
ScenarioResult run_scenario(const ScenarioOptions& options);

/// The model parameters with `overrides` applied (throws std::runtime_error on a bad one).
/// SimGrid's own options for every simulation this process runs from now on: "--log=<category>.thres:debug"
/// (e.g. equus_kernel, equus_pool: one layer's work), "--cfg=<name>:<value>" (e.g. contexts/stack-size).
/// Throws std::invalid_argument on anything else.
void set_simgrid_options(const std::vector<std::string>& options);

std::vector<params::ParamInfo> model_params(const std::map<std::string, std::string>& overrides = {});

}  // namespace equus::sim
