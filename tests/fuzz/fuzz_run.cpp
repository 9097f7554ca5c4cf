// libFuzzer target: validate an input as a scenario, then run a short simulation of it.
//
// One engine per process: SimGrid keeps the first engine's clock and configuration for any later one,
// and libFuzzer runs every input in the same process. So the fuzzer process only validates, and each
// valid input is simulated in a child forked for it, which builds the one engine it will ever have,
// runs and leaves with _exit (no destructors: the run's actors may still be blocked). Whatever goes
// wrong in the child (a signal, a sanitizer report, which exits with status 1, a hang past its alarm)
// the parent turns into an abort of its own, so that libFuzzer records the input as a crash. A forked
// child's coverage counters would die with it: the child pipes them back and the parent adds them to
// its own before returning, so that libFuzzer's feedback covers the simulation too.
//
// Bounds: simulated time (EQUUS_FUZZ_SIM_S, default 5 s), the op interpreter's steps per simulated
// instant (programs.max_steps_per_instant), pools of at most 64 cards, and a wall-clock alarm in the
// child (EQUUS_FUZZ_RUN_TIMEOUT_S, default 30 s). Invariant violations are findings only with
// EQUUS_FUZZ_FATAL_VIOLATIONS=1 (the kernel's, reported by the run itself). The child runs on SimGrid's
// thread contexts unless EQUUS_SIMGRID_CFG says otherwise: ASan misreads raw contexts' stack switches.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tests/fuzz/fuzz_support.hpp"

// The inline 8-bit coverage counters, as SanitizerCoverage's module constructors hand them to libFuzzer:
// the link wraps that call (-Wl,--wrap, CMakeLists.txt) to note where they are. (Naming the section's
// __start_/__stop_ symbols here instead stops libFuzzer from seeing them at all.) Plain static data:
// the constructors run before this file's dynamic initialisation.
namespace {
struct CounterRegion {
  uint8_t* begin;
  uint8_t* end;
};
CounterRegion counter_regions[64];
std::size_t counter_region_count = 0;
}  // namespace

extern "C" void __real___sanitizer_cov_8bit_counters_init(uint8_t* begin, uint8_t* end);
extern "C" void __wrap___sanitizer_cov_8bit_counters_init(uint8_t* begin, uint8_t* end) {
  if (counter_region_count < std::size(counter_regions))
    counter_regions[counter_region_count++] = {begin, end};
  __real___sanitizer_cov_8bit_counters_init(begin, end);
}

namespace {

constexpr int exit_violations = 3;
constexpr std::size_t max_fuzz_nodes = 64;

double env_number(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtod(v, nullptr) : fallback;
}

std::size_t counters_size() {
  std::size_t n = 0;
  for (std::size_t i = 0; i < counter_region_count; ++i)
    n += static_cast<std::size_t>(counter_regions[i].end - counter_regions[i].begin);
  return n;
}

/// In the child: the run, bounded in simulated time. A run-time error the simulator reports cleanly
/// (a std::runtime_error, e.g. a loop taking no simulated time) is an answer, not a finding.
int run_child(equus::sim::ScenarioSpec spec) {
  spec.duration_s = std::min(spec.duration_s, env_number("EQUUS_FUZZ_SIM_S", 5));
  try {
    auto summary = equus::sim::run_scenario(spec, "");
    if (!summary.violations.empty()) {
      std::fprintf(stderr, "equus-fuzz: invariant violated: %s\n", summary.violations.front().c_str());
      return exit_violations;
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}

void write_all(int fd, const uint8_t* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

/// In the child: every counter, region after region, down the pipe.
void write_counters(int fd) {
  for (std::size_t i = 0; i < counter_region_count; ++i)
    write_all(fd, counter_regions[i].begin,
              static_cast<std::size_t>(counter_regions[i].end - counter_regions[i].begin));
}

/// Reads the child's counters and adds them into ours (saturating); false if it sent fewer.
bool merge_counters(int fd) {
  std::size_t n = counters_size();
  std::vector<uint8_t> theirs(n);
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, theirs.data() + got, n - got);
    if (r < 0 && errno == EINTR) continue;  // libFuzzer's timer (SIGALRM) ticks every second
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  if (got < n) return false;
  const uint8_t* from = theirs.data();
  for (std::size_t r = 0; r < counter_region_count; ++r)
    for (uint8_t* c = counter_regions[r].begin; c < counter_regions[r].end; ++c, ++from)
      *c = static_cast<uint8_t>(std::min(255, *c + *from));
  return true;
}

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "equus-fuzz: the simulation %s\n", what.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  equus::fuzz::init();
  setenv("EQUUS_SIMGRID_CFG", "contexts/factory:thread", /*overwrite=*/0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto spec = equus::fuzz::validate(data, size);
  if (!spec || spec->nodes.size() > max_fuzz_nodes) return 0;
  int fds[2];
  if (pipe(fds) != 0) return 0;
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return 0;
  }
  if (pid == 0) {
    close(fds[0]);
    std::signal(SIGALRM, SIG_DFL);  // libFuzzer's timeout handler is the parent's business
    alarm(static_cast<unsigned>(env_number("EQUUS_FUZZ_RUN_TIMEOUT_S", 30)));
    int code = run_child(std::move(*spec));
    write_counters(fds[1]);
    _exit(code);
  }
  close(fds[1]);
  bool counted = merge_counters(fds[0]);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status))
    finding(WTERMSIG(status) == SIGALRM ? "did not end within EQUUS_FUZZ_RUN_TIMEOUT_S of wall time (a hang)"
                                        : std::string("died of signal ") + strsignal(WTERMSIG(status)));
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == exit_violations && std::getenv("EQUUS_FUZZ_FATAL_VIOLATIONS"))
    finding("violated the invariant");
  if (code != 0 && code != exit_violations)
    finding("exited with status " + std::to_string(code) + " (a sanitizer report above?)");
  if (!counted) finding("ended without reporting its coverage");
  return 0;
}
