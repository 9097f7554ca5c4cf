#include "models/pool/workload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <set>
#include <sstream>

#include "models/support/overloaded.hpp"

using json = nlohmann::json;

namespace equus::pool {

namespace {

/// Reads one JSON object, naming the pointer of whatever is wrong, and rejects keys it was not asked
/// about (a misspelt option must not silently take its default).
class Fields {
 public:
  Fields(const json& j, std::string pointer, std::set<std::string> known)
      : j_(j), pointer_(std::move(pointer)), known_(std::move(known)) {
    if (!j_.is_object()) fail(pointer_, "must be an object");
    for (const auto& [key, value] : j_.items())
      if (!known_.count(key)) fail(at(key), fmt::format("unknown key (known: {})", fmt::join(known_, ", ")));
  }

  [[noreturn]] static void fail(const std::string& pointer, const std::string& what) {
    throw WorkloadError((pointer.empty() ? std::string("/") : pointer) + ": " + what);
  }
  std::string at(const std::string& key) const { return pointer_ + "/" + key; }
  bool has(const std::string& key) const { return j_.contains(key); }
  const json& raw(const std::string& key) const { return j_.at(key); }

  /// A finite number >= `min` (> `min` when `strict`); `fallback` when absent, unless it is NaN.
  double number(const std::string& key, double min, bool strict,
                double fallback = std::numeric_limits<double>::quiet_NaN()) const {
    if (!has(key)) {
      if (std::isnan(fallback)) fail(at(key), "is required");
      return fallback;
    }
    return checked(j_.at(key), at(key), min, strict);
  }
  static double checked(const json& v, const std::string& pointer, double min, bool strict) {
    if (!v.is_number()) fail(pointer, "must be a number");
    double x = v.get<double>();
    if (!std::isfinite(x)) fail(pointer, "must be finite");
    if (strict ? !(x > min) : !(x >= min))
      fail(pointer, fmt::format("must be {} {}", strict ? ">" : ">=", min));
    return x;
  }
  std::string string(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!j_.at(key).is_string() || j_.at(key).get<std::string>().empty())
      fail(at(key), "must be a non-empty string");
    return j_.at(key).get<std::string>();
  }
  std::vector<double> numbers(const std::string& key, double min, bool strict) const {
    if (!has(key) || !j_.at(key).is_array() || j_.at(key).empty())
      fail(at(key), "must be a non-empty array of numbers");
    std::vector<double> out;
    for (std::size_t i = 0; i < j_.at(key).size(); ++i)
      out.push_back(checked(j_.at(key)[i], at(key) + "/" + std::to_string(i), min, strict));
    return out;
  }

 private:
  const json& j_;
  std::string pointer_;
  std::set<std::string> known_;
};

double exponential(double mean, std::mt19937_64& rng) { return -mean * std::log(uniform01(rng)); }

/// Inverse CDF of a Pareto of `alpha` from `lo`, truncated at `hi` (hi <= 0: unbounded).
double bounded_pareto(double alpha, double lo, double hi, std::mt19937_64& rng) {
  double u = uniform01(rng);
  double tail = hi > 0 ? std::pow(lo / hi, alpha) : 0.0;  // P(X > hi) of the untruncated law
  return lo * std::pow(1.0 - u * (1.0 - tail), -1.0 / alpha);
}

double bounded_pareto_mean(double alpha, double lo, double hi) {
  if (hi <= 0) return alpha > 1 ? alpha * lo / (alpha - 1) : std::numeric_limits<double>::infinity();
  double norm = 1.0 - std::pow(lo / hi, alpha);
  if (std::abs(alpha - 1) < 1e-12) return lo * std::log(hi / lo) / norm;
  return std::pow(lo, alpha) / norm * alpha / (alpha - 1) *
         (std::pow(lo, 1 - alpha) - std::pow(hi, 1 - alpha));
}

}  // namespace

double uniform01(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 11) + 0.5) * (1.0 / 9007199254740992.0);  // (k + 1/2) / 2^53
}

double sample(const Distribution& d, std::mt19937_64& rng) {
  return std::visit(Overloaded{
                        [](const dist::Fixed& f) { return f.value; },
                        [&](const dist::Uniform& u) { return u.lo + (u.hi - u.lo) * uniform01(rng); },
                        [&](const dist::Exponential& e) { return exponential(e.mean, rng); },
                        [&](const dist::Hyperexponential& h) {
                          double u = uniform01(rng), acc = 0;
                          std::size_t i = 0;
                          for (; i + 1 < h.probs.size(); ++i)
                            if (u < (acc += h.probs[i])) break;
                          return exponential(h.means[i], rng);
                        },
                        [&](const dist::Pareto& p) { return bounded_pareto(p.alpha, p.scale, p.max, rng); },
                        [&](const dist::UnixLifetime& l) { return bounded_pareto(1.0, l.min, l.max, rng); },
                    },
                    d);
}

double mean(const Distribution& d) {
  return std::visit(Overloaded{
                        [](const dist::Fixed& f) { return f.value; },
                        [](const dist::Uniform& u) { return (u.lo + u.hi) / 2; },
                        [](const dist::Exponential& e) { return e.mean; },
                        [](const dist::Hyperexponential& h) {
                          return std::inner_product(h.means.begin(), h.means.end(), h.probs.begin(), 0.0);
                        },
                        [](const dist::Pareto& p) { return bounded_pareto_mean(p.alpha, p.scale, p.max); },
                        [](const dist::UnixLifetime& l) { return bounded_pareto_mean(1.0, l.min, l.max); },
                    },
                    d);
}

Distribution parse_distribution(const json& j, const std::string& pointer) {
  if (j.is_number()) return dist::Fixed{Fields::checked(j, pointer, 0, false)};
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    Fields::fail(pointer,
                 "must be a number or an object with a \"type\" (fixed, uniform, exponential, "
                 "hyperexponential, pareto, unix_lifetime)");
  std::string type = j["type"].get<std::string>();
  if (type == "fixed") {
    Fields f(j, pointer, {"type", "value"});
    return dist::Fixed{f.number("value", 0, false)};
  }
  if (type == "uniform") {
    Fields f(j, pointer, {"type", "lo", "hi"});
    double lo = f.number("lo", 0, false), hi = f.number("hi", 0, false);
    if (hi < lo) Fields::fail(f.at("hi"), "must be >= lo");
    return dist::Uniform{lo, hi};
  }
  if (type == "exponential") {
    Fields f(j, pointer, {"type", "mean"});
    return dist::Exponential{f.number("mean", 0, true)};
  }
  if (type == "hyperexponential") {
    Fields f(j, pointer, {"type", "means", "probs"});
    auto means = f.numbers("means", 0, true), probs = f.numbers("probs", 0, false);
    if (probs.size() != means.size()) Fields::fail(f.at("probs"), "must have as many entries as means");
    if (std::abs(std::accumulate(probs.begin(), probs.end(), 0.0) - 1.0) > 1e-9)
      Fields::fail(f.at("probs"), "must sum to 1");
    return dist::Hyperexponential{means, probs};
  }
  if (type == "pareto") {
    Fields f(j, pointer, {"type", "alpha", "scale", "max"});
    dist::Pareto p{f.number("alpha", 0, true), f.number("scale", 0, true), f.number("max", 0, false, 0)};
    if (p.max > 0 && p.max <= p.scale) Fields::fail(f.at("max"), "must be > scale (or 0: unbounded)");
    if (p.max == 0 && p.alpha <= 1)
      Fields::fail(f.at("alpha"),
                   "must be > 1 when the Pareto is unbounded (its mean is infinite); give \"max\"");
    return p;
  }
  if (type == "unix_lifetime") {
    Fields f(j, pointer, {"type", "min", "max"});
    dist::UnixLifetime l{f.number("min", 0, true), f.number("max", 0, true)};
    if (l.max <= l.min) Fields::fail(f.at("max"), "must be > min");
    return l;
  }
  Fields::fail(pointer + "/type", "unknown distribution '" + type +
                                      "' (known: fixed, uniform, exponential, hyperexponential, pareto, "
                                      "unix_lifetime)");
}

namespace {

Arrivals parse_arrivals(const json& j, const std::string& pointer) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    Fields::fail(pointer, "must be an object with a \"type\" (poisson, fixed, swf)");
  std::string type = j["type"].get<std::string>();
  if (type == "poisson") {
    Fields f(j, pointer, {"type", "rate"});
    return arrivals::Poisson{f.number("rate", 0, true)};
  }
  if (type == "fixed") {
    Fields f(j, pointer, {"type", "times"});
    auto times = f.numbers("times", 0, false);
    if (!std::is_sorted(times.begin(), times.end())) Fields::fail(f.at("times"), "must be non-decreasing");
    return arrivals::Fixed{times};
  }
  if (type == "swf") {
    Fields f(j, pointer, {"type", "path", "time_scale", "max_jobs"});
    if (!f.has("path")) Fields::fail(f.at("path"), "is required");
    double max_jobs = f.number("max_jobs", 0, false, 0);
    if (max_jobs != std::floor(max_jobs) || max_jobs > 1e9)
      Fields::fail(f.at("max_jobs"), "must be a whole number");
    return arrivals::Swf{f.string("path", ""), f.number("time_scale", 0, true, 1),
                         static_cast<int>(max_jobs)};
  }
  Fields::fail(pointer + "/type", "unknown arrival process '" + type + "' (known: poisson, fixed, swf)");
}

}  // namespace

WorkloadSpec parse_workload(const json& j, const std::string& pointer) {
  Fields f(j, pointer,
           {"arrivals", "shape", "module", "user", "groups", "warmup_s", "duration_s", "max_jobs"});
  WorkloadSpec w;
  if (!f.has("arrivals")) Fields::fail(f.at("arrivals"), "is required");
  w.arrivals = parse_arrivals(f.raw("arrivals"), f.at("arrivals"));
  if (f.has("shape")) {
    Fields s(f.raw("shape"), f.at("shape"), {"incarnations", "demand_s", "memory_bytes", "communicate"});
    if (s.has("incarnations")) {
      w.shape.incarnations = parse_distribution(s.raw("incarnations"), s.at("incarnations"));
      if (!std::holds_alternative<dist::Fixed>(w.shape.incarnations) &&
          !std::holds_alternative<dist::Uniform>(w.shape.incarnations))
        Fields::fail(s.at("incarnations"),
                     "must be a number or a uniform distribution (rounded to whole incarnations)");
    }
    if (s.has("demand_s")) w.shape.demand_s = parse_distribution(s.raw("demand_s"), s.at("demand_s"));
    if (s.has("memory_bytes"))
      w.shape.memory_bytes = parse_distribution(s.raw("memory_bytes"), s.at("memory_bytes"));
    if (s.has("communicate")) {
      if (!s.raw("communicate").is_boolean()) Fields::fail(s.at("communicate"), "must be true or false");
      w.shape.communicate = s.raw("communicate").get<bool>();
    }
  }
  w.module = f.string("module", w.module);
  w.user = f.string("user", w.user);
  if (f.has("groups")) {
    const auto& g = f.raw("groups");
    if (!g.is_array()) Fields::fail(f.at("groups"), "must be an array of group names");
    for (std::size_t i = 0; i < g.size(); ++i) {
      if (!g[i].is_string()) Fields::fail(f.at("groups") + "/" + std::to_string(i), "must be a string");
      w.groups.push_back(g[i].get<std::string>());
    }
  }
  w.warmup_s = f.number("warmup_s", 0, false, 0);
  w.duration_s = f.number("duration_s", 0, false, 0);
  double max_jobs = f.number("max_jobs", 0, false, 0);
  if (max_jobs != std::floor(max_jobs) || max_jobs > 1e9)
    Fields::fail(f.at("max_jobs"), "must be a whole number");
  w.max_jobs = static_cast<int>(max_jobs);
  if (w.duration_s == 0 && w.max_jobs == 0 && std::holds_alternative<arrivals::Poisson>(w.arrivals))
    Fields::fail(pointer, "Poisson arrivals need an end: give \"duration_s\" or \"max_jobs\"");
  if (w.duration_s > 0 && w.warmup_s >= w.duration_s) Fields::fail(f.at("warmup_s"), "must be < duration_s");
  return w;
}

// SWF fields (1-based): 1 job, 2 submit, 4 run time, 5 allocated processors, 7 used memory (kB per
// processor), 8 requested processors, 10 requested memory. The trace's users and groups are not the
// pool's: every job is launched as the workload's user, with its groups.
std::vector<Job> read_swf(const std::string& path, double time_scale, int max_jobs) {
  std::ifstream in(path);
  if (!in) throw WorkloadError(path + ": cannot open the SWF trace");
  std::vector<Job> jobs;
  std::string line;
  double last_submit = -std::numeric_limits<double>::infinity();
  for (int lineno = 1; std::getline(in, line) && (max_jobs <= 0 || static_cast<int>(jobs.size()) < max_jobs);
       ++lineno) {
    auto where = [&] { return fmt::format("{}:{}: ", path, lineno); };
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == ';') continue;
    std::istringstream fields(line);
    std::vector<double> v;
    for (std::string tok; fields >> tok;) {
      char* end = nullptr;
      double x = std::strtod(tok.c_str(), &end);
      if (end == tok.c_str() || *end != '\0' || !std::isfinite(x))
        throw WorkloadError(where() + "field " + std::to_string(v.size() + 1) + " '" + tok.substr(0, 40) +
                            "' is not a number");
      v.push_back(x);
    }
    if (v.size() < 13)
      throw WorkloadError(where() + "an SWF job line has 18 fields; this one has " +
                          std::to_string(v.size()));
    double submit = v[1], run = v[3];
    if (submit < 0) throw WorkloadError(where() + "field 2 (submit time) is negative");
    if (submit < last_submit)
      throw WorkloadError(where() + "jobs must be in submit order (field 2 decreases)");
    last_submit = submit;
    if (run <= 0) continue;  // cancelled or unknown run time: nothing to simulate
    double procs = v[4] > 0 ? v[4] : v[7];
    double mem_kb = v[6] > 0 ? v[6] : v[9];
    Job j;
    j.id = static_cast<int>(jobs.size());
    j.arrival_s = submit * time_scale;
    j.demand_s = run * time_scale;
    j.incarnations = procs > 0 ? static_cast<int>(std::min(procs, 1e6)) : 1;
    j.memory_bytes = mem_kb > 0 ? mem_kb * 1024 : 0;
    jobs.push_back(std::move(j));
  }
  return jobs;
}

JobStream::JobStream(WorkloadSpec spec, uint64_t seed)
    : spec_(std::move(spec)),
      arrival_rng_(seed * 0x9E3779B97F4A7C15ULL + 1),
      shape_rng_(seed * 0xBF58476D1CE4E5B9ULL + 2) {
  if (std::holds_alternative<arrivals::Swf>(spec_.arrivals)) load_trace();
}

void JobStream::load_trace() {
  const auto& s = std::get<arrivals::Swf>(spec_.arrivals);
  trace_ = read_swf(s.path, s.time_scale, s.max_jobs);
}

std::optional<double> JobStream::next_arrival() {
  return std::visit(Overloaded{
                        [&](const arrivals::Poisson& p) -> std::optional<double> {
                          clock_ += exponential(1.0 / p.rate, arrival_rng_);
                          return clock_;
                        },
                        [&](const arrivals::Fixed& f) -> std::optional<double> {
                          if (fixed_next_ >= f.times.size()) return std::nullopt;
                          return f.times[fixed_next_++];
                        },
                        [&](const arrivals::Swf&) -> std::optional<double> {
                          if (static_cast<std::size_t>(emitted_) >= trace_.size()) return std::nullopt;
                          return trace_[emitted_].arrival_s;
                        },
                    },
                    spec_.arrivals);
}

Job JobStream::shape_job(double at) {
  Job j;
  if (std::holds_alternative<arrivals::Swf>(spec_.arrivals)) {
    j = trace_[emitted_];
    if (j.memory_bytes <= 0) j.memory_bytes = sample(spec_.shape.memory_bytes, shape_rng_);
  } else {
    j.arrival_s = at;
    j.incarnations = std::max(1, static_cast<int>(std::lround(sample(spec_.shape.incarnations, shape_rng_))));
    j.demand_s = sample(spec_.shape.demand_s, shape_rng_);
    j.memory_bytes = sample(spec_.shape.memory_bytes, shape_rng_);
  }
  j.id = emitted_;
  j.user = spec_.user;
  j.groups = spec_.groups;
  j.counted = j.arrival_s >= spec_.warmup_s;
  return j;
}

std::optional<Job> JobStream::next() {
  if (spec_.max_jobs > 0 && emitted_ >= spec_.max_jobs) return std::nullopt;
  auto at = next_arrival();
  if (!at || (spec_.duration_s > 0 && *at > spec_.duration_s)) return std::nullopt;
  Job j = shape_job(*at);
  ++emitted_;
  return j;
}

}  // namespace equus::pool
