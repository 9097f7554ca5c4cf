// Test support: runs a scenario given as JSON (one engine per process: one run per test case) and
// reads its results.json back.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "models/params/params.hpp"
#include "sim/run.hpp"
#include "sim/scenario/scenario.hpp"

namespace equus::test {

inline std::string temp_dir(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path() / ("equus-" + tag + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A run's summary and its results.json.
struct Run {
  sim::RunSummary summary;
  nlohmann::json results;
  std::string dir;

  /// Records with this key, in time order.
  std::vector<nlohmann::json> records(const std::string& key) const {
    std::vector<nlohmann::json> out;
    for (const auto& r : results["records"])
      if (r["key"] == key) out.push_back(r);
    return out;
  }
  /// The hostings (one per node) of the incarnation named `name`, in start order.
  std::vector<nlohmann::json> spans(const std::string& name) const {
    std::vector<nlohmann::json> out;
    for (const auto& s : results["incarnations"])
      if (s["name"] == name) out.push_back(s);
    return out;
  }
  /// The id of the incarnation named `name` (0 if none).
  uint64_t id(const std::string& name) const {
    auto s = spans(name);
    return s.empty() ? 0 : s.front()["id"].get<uint64_t>();
  }
  /// Values of the records with `key` made by incarnation `name` ("" for anyone).
  std::vector<double> values(const std::string& key, const std::string& name = "") const {
    std::vector<double> out;
    uint64_t who = name.empty() ? 0 : id(name);
    for (const auto& r : records(key))
      if (!who || r["incarnation"].get<uint64_t>() == who) out.push_back(r["value"].get<double>());
    return out;
  }
};

/// Validates and runs `doc` (pool files from the shipped scenarios), writing to a fresh directory.
inline Run run_json(const nlohmann::json& doc, const std::string& tag,
                    const std::function<void(kernel::System&)>& on_pool = {}) {
  sim::register_builtin_programs();
  auto spec = sim::parse_scenario(doc, tag + ".json", params::data_dir() + "/scenarios");
  Run run;
  run.dir = temp_dir(tag);
  run.summary = sim::run_scenario(spec, run.dir, {}, on_pool);
  run.results = nlohmann::json::parse(slurp(run.dir + "/results.json"));
  return run;
}

}  // namespace equus::test
