// Benchmark: simulated inc_invoke calls per wall-second against raw SimGrid mailbox round trips
// measured in the same process and engine.
#pragma once

#include <string>

namespace equus::bench {

struct BenchResult {
  long calls = 0;
  double raw_wall_s = 0;     // `calls` mailbox round trips (put, then get back)
  double invoke_wall_s = 0;  // `calls` simulated inc_invoke with an inc_reply
  double raw_per_s() const { return calls / raw_wall_s; }
  double invoke_per_s() const { return calls / invoke_wall_s; }
  double ratio() const { return invoke_per_s() / raw_per_s(); }
};

/// Runs both loops between two pool nodes in one engine; call in a process with no engine yet.
BenchResult run_invoke_bench(long calls);

std::string format_bench(const BenchResult& r);

}  // namespace equus::bench
