// The one place a SimGrid engine is built, by the simulator and the tests alike, so that every engine
// takes the same options: SimGrid quiet by default, then EQUUS_SIMGRID_CFG from the environment, then
// what the program added (equus --cfg/--log). EQUUS_SIMGRID_CFG holds whitespace-separated SimGrid
// configuration items, "name:value" (passed as --cfg=name:value) or a whole "--cfg=..."/"--log=..."
// option; e.g. EQUUS_SIMGRID_CFG=contexts/factory:thread runs a whole test suite on thread contexts
// (the sanitizer build: ASan misreads the raw contexts' stack switches).
#pragma once

#include <cstdlib>
#include <memory>
#include <simgrid/s4u/Engine.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace equus::support {

inline constexpr const char* simgrid_cfg_env = "EQUUS_SIMGRID_CFG";

/// True for the options SimGrid's command line takes: --log=... or --cfg=...
inline bool is_engine_option(const std::string& o) {
  return o.rfind("--log=", 0) == 0 || o.rfind("--cfg=", 0) == 0;
}

namespace detail {
inline std::vector<std::string>& added_engine_options() {
  static std::vector<std::string> options;
  return options;
}
}  // namespace detail

/// Adds a SimGrid option ("--log=equus_kernel.thres:debug", "--cfg=contexts/stack-size:256") for every
/// engine this process builds from now on; throws std::invalid_argument for anything else.
inline void add_engine_option(const std::string& option) {
  if (!is_engine_option(option))
    throw std::invalid_argument("'" + option + "': SimGrid options are --log=... or --cfg=...");
  detail::added_engine_options().push_back(option);
}

/// The options the next engine gets, in order (later ones win).
inline std::vector<std::string> engine_options() {
  std::vector<std::string> out{"--log=root.thres:critical"};  // SimGrid's messages would drown a run's
  if (const char* env = std::getenv(simgrid_cfg_env)) {
    std::istringstream words(env);
    for (std::string w; words >> w;) {
      std::string o = w.rfind("--", 0) == 0 ? w : "--cfg=" + w;
      if (!is_engine_option(o))
        throw std::invalid_argument(std::string(simgrid_cfg_env) + ": '" + w +
                                    "': items are name:value, --cfg=... or --log=...");
      out.push_back(o);
    }
  }
  for (const auto& o : detail::added_engine_options()) out.push_back(o);
  return out;
}

/// A new engine with engine_options(); one per process (SimGrid keeps the first one's state).
inline std::unique_ptr<simgrid::s4u::Engine> make_engine(const char* program = "equus") {
  std::vector<std::string> options = engine_options();
  std::vector<char*> argv{const_cast<char*>(program)};
  for (auto& o : options) argv.push_back(o.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(argv.size()) - 1;
  return std::make_unique<simgrid::s4u::Engine>(&argc, argv.data());
}

}  // namespace equus::support
