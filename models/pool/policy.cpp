#include "models/pool/policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <limits>

namespace equus::pool {

GroupKind kind_of(const platform::NodeDescriptor& node) {
  auto in = [&](const char* g) {
    return std::find(node.groups.begin(), node.groups.end(), g) != node.groups.end();
  };
  if (in("balanced")) return GroupKind::Balanced;
  if (in("timeshared")) return GroupKind::Timeshared;
  if (in("systems")) return GroupKind::Systems;
  return GroupKind::Exclusive;
}

std::optional<std::size_t> Policy::admit(const std::vector<PlaceRequest>& queue, PolicyContext&) {
  if (queue.empty()) return std::nullopt;
  return 0;
}

namespace {

bool exclusive_request(const PlaceRequest& r, PolicyContext& ctx) {
  const auto& c = ctx.candidates(r);
  return !c.empty() && !ctx.shares(c.front());
}

/// Exclusive requests: the lowest-numbered candidates nobody holds (every policy allocates these so).
std::vector<int> lowest_free(const PlaceRequest& r, PolicyContext& ctx) {
  std::vector<int> chosen;
  for (int n : ctx.candidates(r))
    if (chosen.size() < r.nodes && ctx.placed_at(n) == 0) chosen.push_back(n);
  return chosen;
}

/// The home node if it is a candidate, else the lowest-numbered candidates.
std::vector<int> home_or_lowest(const PlaceRequest& r, PolicyContext& ctx) {
  const auto& c = ctx.candidates(r);
  std::vector<int> chosen;
  if (r.home >= 0 && std::find(c.begin(), c.end(), r.home) != c.end()) chosen.push_back(r.home);
  for (int n : c)
    if (chosen.size() < r.nodes && n != r.home) chosen.push_back(n);
  return chosen;
}

/// `count` distinct candidates other than `except`, uniformly at random.
std::vector<int> random_others(const std::vector<int>& c, int except, std::size_t count,
                               std::mt19937_64& rng) {
  std::vector<int> pool;
  for (int n : c)
    if (n != except) pool.push_back(n);
  for (std::size_t i = 0; i < pool.size() && i < count; ++i) {
    std::uniform_int_distribution<std::size_t> pick(i, pool.size() - 1);
    std::swap(pool[i], pool[pick(rng)]);
  }
  pool.resize(std::min(pool.size(), count));
  return pool;
}

/// Reads the typed parameters of one policy's JSON object; every key must be known.
class Params {
 public:
  Params(const nlohmann::json& j, std::string pointer, std::vector<std::string> known)
      : j_(j), pointer_(std::move(pointer)) {
    known.insert(known.end(), {"name", "queue_limit"});
    for (const auto& [key, value] : j.items())
      if (std::find(known.begin(), known.end(), key) == known.end())
        throw PolicyError(fmt::format("{}/{}: unknown parameter of policy '{}' (known: {})", pointer_, key,
                                      j.value("name", ""), fmt::join(known, ", ")));
  }
  int integer(const std::string& key, int fallback, int min) const {
    if (!j_.contains(key)) return fallback;
    const auto& v = j_[key];
    if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > 1'000'000)
      throw PolicyError(fmt::format("{}/{}: must be a whole number >= {}", pointer_, key, min));
    return v.get<int>();
  }
  std::string choice(const std::string& key, const std::vector<std::string>& allowed) const {
    if (!j_.contains(key)) return allowed.front();
    const auto& v = j_[key];
    if (!v.is_string() || std::find(allowed.begin(), allowed.end(), v.get<std::string>()) == allowed.end())
      throw PolicyError(fmt::format("{}/{}: must be one of {}", pointer_, key, fmt::join(allowed, ", ")));
    return v.get<std::string>();
  }

 private:
  const nlohmann::json& j_;
  std::string pointer_;
};

/// A new job's node chosen uniformly among the candidates when its home holds T or more (Eager,
/// Lazowska and Zahorjan's Random: no probe, one transfer).
class RandomPolicy : public Policy {
 public:
  explicit RandomPolicy(int threshold) : threshold_(threshold) {}
  std::string name() const override { return "random"; }
  Shape shape() const override { return Shape::Distributed; }
  std::vector<int> place(const PlaceRequest& r, PolicyContext& ctx) override {
    if (exclusive_request(r, ctx)) return lowest_free(r, ctx);
    if (r.home < 0 || ctx.probe(r.home).run_queue < threshold_) return home_or_lowest(r, ctx);
    auto other = random_others(ctx.candidates(r), r.home, 1, ctx.rng());
    return other.empty() ? home_or_lowest(r, ctx) : other;
  }

 private:
  int threshold_;
};

/// Sender-initiated threshold policy (Eager, Lazowska and Zahorjan 1986, Algorithm 2 of Section 4.3):
/// a node holding T or more when a job arrives probes up to Lp others chosen at random; the first whose
/// run queue is below T gets the job; if none, it stays.
class ThresholdPolicy : public Policy {
 public:
  ThresholdPolicy(int threshold, int probe_limit) : threshold_(threshold), probe_limit_(probe_limit) {}
  std::string name() const override { return "threshold"; }
  Shape shape() const override { return Shape::Distributed; }
  std::vector<int> place(const PlaceRequest& r, PolicyContext& ctx) override {
    if (exclusive_request(r, ctx)) return lowest_free(r, ctx);
    if (r.home < 0 || ctx.probe(r.home).run_queue < threshold_) return home_or_lowest(r, ctx);
    for (int n : random_others(ctx.candidates(r), r.home, static_cast<std::size_t>(probe_limit_), ctx.rng()))
      if (ctx.probe(n).run_queue < threshold_) return {n};
    return home_or_lowest(r, ctx);
  }

 private:
  int threshold_, probe_limit_;
};

/// The candidates in turn, whatever their load.
class RoundRobinPolicy : public Policy {
 public:
  std::string name() const override { return "round_robin"; }
  std::vector<int> place(const PlaceRequest& r, PolicyContext& ctx) override {
    if (exclusive_request(r, ctx)) return lowest_free(r, ctx);
    const auto& c = ctx.candidates(r);
    std::vector<int> chosen;
    for (std::size_t i = 0; i < c.size() && chosen.size() < r.nodes; ++i)
      chosen.push_back(c[next_++ % c.size()]);
    return chosen;
  }

 private:
  std::size_t next_ = 0;
};

/// The candidate with the least load, every candidate's load read over the bus at each decision.
class LeastLoadedPolicy : public Policy {
 public:
  explicit LeastLoadedPolicy(bool average) : average_(average) {}
  std::string name() const override { return "least_loaded"; }
  std::vector<int> place(const PlaceRequest& r, PolicyContext& ctx) override {
    if (exclusive_request(r, ctx)) return lowest_free(r, ctx);
    std::vector<std::pair<double, int>> by_load;
    for (int n : ctx.candidates(r)) {
      auto l = ctx.probe(n);
      // Ties (equal averages, or equal queues) go to the other measure, then the lowest node.
      by_load.emplace_back(average_ ? l.load + 1e-6 * l.run_queue : l.run_queue + 1e-6 * l.load, n);
    }
    std::stable_sort(by_load.begin(), by_load.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<int> chosen;
    for (const auto& [load, n] : by_load)
      if (chosen.size() < r.nodes) chosen.push_back(n);
    return chosen;
  }

 private:
  bool average_;
};

/// Jobs wait centrally, first come first served, until a node has none of them (M/M/K with FCFS).
class CentralQueuePolicy : public Policy {
 public:
  std::string name() const override { return "central_queue"; }
  std::vector<int> place(const PlaceRequest& r, PolicyContext& ctx) override { return lowest_free(r, ctx); }
};

}  // namespace

std::vector<int> StaticPolicy::place(const PlaceRequest& r, PolicyContext& ctx) {
  return exclusive_request(r, ctx) ? lowest_free(r, ctx) : home_or_lowest(r, ctx);
}

std::vector<std::string> policy_names() {
  return {"static", "random", "round_robin", "least_loaded", "central_queue", "threshold"};
}

std::unique_ptr<Policy> make_policy(const nlohmann::json& spec, const std::string& pointer) {
  nlohmann::json j = spec.is_string() ? nlohmann::json{{"name", spec}} : spec;
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string())
    throw PolicyError(pointer + ": must be a policy name or an object with a \"name\"");
  auto name = j["name"].get<std::string>();
  using Make = std::function<std::unique_ptr<Policy>(const Params&)>;
  static const std::map<std::string, std::pair<std::vector<std::string>, Make>> makers = {
      {"static", {{}, [](const Params&) { return std::make_unique<StaticPolicy>(); }}},
      {"random",
       {{"threshold"},
        [](const Params& p) { return std::make_unique<RandomPolicy>(p.integer("threshold", 2, 1)); }}},
      {"round_robin", {{}, [](const Params&) { return std::make_unique<RoundRobinPolicy>(); }}},
      {"least_loaded",
       {{"measure"},
        [](const Params& p) {
          return std::make_unique<LeastLoadedPolicy>(p.choice("measure", {"run_queue", "load"}) == "load");
        }}},
      {"central_queue", {{}, [](const Params&) { return std::make_unique<CentralQueuePolicy>(); }}},
      {"threshold",
       {{"threshold", "probe_limit"},
        [](const Params& p) {
          return std::make_unique<ThresholdPolicy>(p.integer("threshold", 2, 1),
                                                   p.integer("probe_limit", 3, 1));
        }}},
  };
  auto it = makers.find(name);
  if (it == makers.end())
    throw PolicyError(fmt::format("{}/name: unknown policy '{}' (known: {})", pointer, name,
                                  fmt::join(policy_names(), ", ")));
  return it->second.second(Params(j, pointer, it->second.first));
}

}  // namespace equus::pool
