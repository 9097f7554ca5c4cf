// What both fuzz targets share: the registered programs and the directory relative pool paths resolve
// against, set up once per process, and the one way an input's scenario is judged.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <typeinfo>

#include "models/params/params.hpp"
#include "sim/run.hpp"
#include "sim/scenario/scenario.hpp"

namespace equus::fuzz {

inline void init() {
  sim::register_builtin_programs();
  (void)params::data_dir();
}

/// Where a fuzz input's relative paths ("pool/kathleen.nodes") lead: the shipped scenarios.
inline std::string base_dir() { return params::data_dir() + "/scenarios"; }

/// The scenario in `data`, or nullopt if the loader rejected it with its one clear error
/// (ScenarioError). Any other exception is a finding: a bad scenario must get a ScenarioError.
inline std::optional<sim::ScenarioSpec> validate(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    return sim::parse_scenario_text(text, "fuzz.json", base_dir());
  } catch (const sim::ScenarioError&) {
    return std::nullopt;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "equus-fuzz: the loader threw %s, not a ScenarioError: %s\n", typeid(e).name(),
                 e.what());
    std::abort();
  }
}

}  // namespace equus::fuzz
