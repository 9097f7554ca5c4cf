// Arriving work for load-balancing experiments: when RDCs arrive and what each asks for (its number of
// incarnations, CPU demand and memory), drawn from seeded distributions or read from a trace.
//
// Arrivals and job shapes draw from separate random streams, so that two runs with the same seed see the
// same arrival times whatever their shapes, and two policies compared with the same seed see exactly
// the same jobs (common random numbers: the comparison's variance is the policies', not the sample's).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace equus::pool {

/// A bad workload description; what() starts with the JSON pointer (or file and line) of the fault.
class WorkloadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace dist {
struct Fixed {
  double value = 0;
};
struct Uniform {
  double lo = 0, hi = 1;
};
struct Exponential {
  double mean = 1;
};
/// With probability probs[i], an exponential of mean means[i] (high variance for a given mean).
struct Hyperexponential {
  std::vector<double> means, probs;
};
/// P(X > x) = (scale / x)^alpha for x >= scale, truncated at `max` when max > 0 (a bounded Pareto).
struct Pareto {
  double alpha = 1.5, scale = 1, max = 0;
};
/// UNIX process lifetimes (Harchol-Balter and Downey): P(L > t) = min / t for t >= min, bounded by max
/// (the unbounded law has no mean). A Pareto of alpha 1.
struct UnixLifetime {
  double min = 1, max = 1e4;
};
}  // namespace dist

using Distribution = std::variant<dist::Fixed, dist::Uniform, dist::Exponential, dist::Hyperexponential,
                                  dist::Pareto, dist::UnixLifetime>;

/// A uniform number in (0, 1), never 0 or 1, from 53 random bits: the same on every platform.
double uniform01(std::mt19937_64& rng);
double sample(const Distribution& d, std::mt19937_64& rng);
/// The distribution's mean (for utilisation and slowdown); infinite for a Pareto of alpha <= 1 unbounded.
double mean(const Distribution& d);

/// Reads {"type": "exponential", "mean": 2} and the like; `pointer` names `j` in errors.
Distribution parse_distribution(const nlohmann::json& j, const std::string& pointer);

namespace arrivals {
struct Poisson {
  double rate = 1;  // arrivals per second
};
struct Fixed {
  std::vector<double> times;  // seconds, non-decreasing
};
/// A trace in the Standard Workload Format of the Parallel Workloads Archive: each job's submit time,
/// run time (its CPU demand), processors (its incarnations) and memory come from the trace.
struct Swf {
  std::string path;
  double time_scale = 1;  // trace seconds to simulated seconds
  int max_jobs = 0;       // 0: all
};
}  // namespace arrivals

using Arrivals = std::variant<arrivals::Poisson, arrivals::Fixed, arrivals::Swf>;

/// What each arriving RDC asks for (ignored where a trace gives it).
struct JobShape {
  Distribution incarnations = dist::Fixed{1};
  Distribution demand_s = dist::Exponential{1};  // CPU seconds at an idle node, per incarnation
  Distribution memory_bytes = dist::Fixed{64 * 1024};
  bool communicate = false;  // the incarnations exchange messages while they compute
};

struct WorkloadSpec {
  Arrivals arrivals = arrivals::Poisson{};
  JobShape shape;
  std::string module = "job";
  std::string user = "tim";
  std::vector<std::string> groups;  // launch options: the groups to try, in order
  double warmup_s = 0;              // jobs arriving before this are not counted in the metrics
  double duration_s = 0;            // no arrival after this; 0: until max_jobs or the trace ends
  int max_jobs = 0;                 // 0: no limit
};

/// Reads a scenario's "workload" section; errors name the JSON pointer under `pointer`.
WorkloadSpec parse_workload(const nlohmann::json& j, const std::string& pointer);

/// One arriving RDC.
struct Job {
  int id = 0;
  double arrival_s = 0;
  int incarnations = 1;
  double demand_s = 0;  // per incarnation
  double memory_bytes = 0;
  std::string user;
  std::vector<std::string> groups;
  bool counted = true;  // arrived after the warm-up
};

/// The jobs of a workload in arrival order, drawn lazily (a long run never holds them all).
class JobStream {
 public:
  JobStream(WorkloadSpec spec, uint64_t seed);
  std::optional<Job> next();

 private:
  std::optional<double> next_arrival();
  Job shape_job(double at);
  void load_trace();

  WorkloadSpec spec_;
  std::mt19937_64 arrival_rng_, shape_rng_;
  int emitted_ = 0;
  double clock_ = 0;
  std::size_t fixed_next_ = 0;
  std::vector<Job> trace_;  // an SWF trace, read once
};

/// The jobs of an SWF file (comments ';', missing fields -1); errors name the file and line.
std::vector<Job> read_swf(const std::string& path, double time_scale, int max_jobs);

}  // namespace equus::pool
