// Per-run results: results.json and CSV tables (see docs/outputs.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/output/recorder.hpp"
#include "sim/output/statistics.hpp"

namespace equus::sim {

/// An incarnation left blocked when a run ended, under its scenario name.
struct WaitingIncarnation {
  std::string incarnation, rdc, node, waits_on;
  bool on_others = false;  // only another incarnation could have ended the wait
};

/// How a run ended: at `time`, for `reason` "finished" (only servers were left), "deadlock" (nothing
/// could happen any more) or "duration" (the scenario's end); who was left waiting.
struct RunEnd {
  double time = 0;
  std::string reason = "finished";
  std::vector<WaitingIncarnation> waiting;
};

/// The workload's jobs over a run: those arriving after the warm-up that completed, in arrival order
/// (batch means need time order).
struct JobsSummary {
  std::size_t arrived = 0, completed = 0, failed = 0, unfinished = 0, counted = 0;
  Summary response, slowdown, wait;  // seconds, ratio, seconds (arrival to admission)
};
JobsSummary summarise_jobs(const std::vector<pool::JobRecord>& jobs);

/// Writes results.json, incarnations.csv, calls.csv, records.csv, node_load.csv and messages.csv into
/// `dir` (created if missing). Rows are sorted by time then id, so a seed gives identical files.
/// Incarnations still alive are reported with an empty end (JSON null). Throws std::runtime_error if
/// a file cannot be written.
void write_results(const Recorder& rec, const std::string& dir, const std::string& scenario_name,
                   uint64_t seed, const RunEnd& end);

/// The names of the files write_results writes (results.json and the CSV tables).
const std::vector<std::string>& results_file_names();

}  // namespace equus::sim
