// Running a scenario: the pool, its system services, the RDCs and the timed events, with the run's
// outputs written at the end.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/kernel/system.hpp"
#include "sim/output/results.hpp"
#include "sim/scenario/scenario.hpp"

namespace equus::sim {

struct RunSummary {
  double end_time = 0;
  int incarnations_created = 0;
  std::map<std::string, int> records;   // count of each recorded key
  std::vector<std::string> files;       // outputs written
  std::string blocked;                  // who waited on what when the run ended ("" if nothing)
  std::string end_reason;               // "finished" (only servers left), "deadlock" or "duration"
  std::vector<WaitingIncarnation> waiters;             // the non-servers left waiting, as in `blocked`
  std::vector<kernel::System::Waiter> kernel_waiters;  // the same as the kernel knows them
  std::vector<std::string> violations;  // of the communications invariant (Section 8.5); empty if it held
  int migrations = 0;                   // completed
  int reconfigurations = 0;             // reconfiguring calls made by programs and events
  /// Operations the scenario asked for (launches, declared incarnations, timed events) that failed or
  /// were skipped, one line each: "<time> s: <record key>: <status>".
  std::vector<std::string> failures;
  /// Op programs stopped on a computed value out of range: "<file>: <JSON pointer>: <message>".
  std::vector<std::string> errors;
  std::optional<JobsSummary> jobs;  // a run with a workload: its jobs' metrics
};

/// Removes from `out_dir` the files a run writes (results.json, the CSV tables, trace.json, graph-*.dot)
/// left by an earlier run, and returns their names: a run's directory holds only its own outputs.
std::vector<std::string> clear_outputs(const std::string& out_dir);

/// Registers the C++ module programs shipped with the simulator (scheduler, printer server, ...).
void register_builtin_programs();

/// Runs `spec` in a fresh engine (call in a process with no engine) and writes its outputs to
/// `out_dir` (created if needed; nothing written when empty). `graph_times` adds configuration graph
/// snapshots to the scenario's own; `on_pool`, if given, sees the pool before anything runs (tests
/// use it to break the kernel on purpose).
RunSummary run_scenario(const ScenarioSpec& spec, const std::string& out_dir,
                        std::vector<double> graph_times = {},
                        const std::function<void(kernel::System&)>& on_pool = {});

}  // namespace equus::sim
