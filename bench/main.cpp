// `equus-bench`: the simulator's benchmarks, as ratios against raw SimGrid in the same process.
#include <CLI/CLI.hpp>
#include <iostream>

#include "bench/invoke_bench.hpp"

int main(int argc, char** argv) {
  CLI::App app{"equus-bench: simulated inc_invoke calls per wall-second against raw SimGrid mailbox round "
               "trips in the same process"};
  long calls = 100000;
  app.add_option("--calls", calls, "Calls (and round trips) to time")->capture_default_str()->check(
      CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  std::cout << equus::bench::format_bench(equus::bench::run_invoke_bench(calls));
  return 0;
}
