// Test support: a fresh engine and pool per test (ctest runs every test in its own process).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "models/kernel/equus.hpp"
#include "models/kernel/system.hpp"
#include "models/support/simgrid_engine.hpp"

namespace equus::test {

/// The shipped pool users file (Figure 3.4).
inline std::vector<platform::PoolUser> pool_users() {
  return platform::load_pool_users(params::data_dir() + "/scenarios/pool/kathleen.users");
}

class SimTest : public ::testing::Test {
 protected:
  /// Builds the pool with parameter overrides; call at most once, before sys() (which otherwise
  /// builds the default pool): SimGrid's models are fixed once the platform exists.
  void build(const std::map<std::string, std::string>& overrides) {
    ASSERT_FALSE(sys_) << "build() after the pool exists";
    if (!engine_) engine_ = support::make_engine("test");
    auto params = params::ModelParams::load(overrides);
    auto nodes = platform::load_node_descriptors(params::data_dir() + "/scenarios/pool/kathleen.nodes");
    sys_ = std::make_unique<kernel::System>(*engine_, nodes, params, 1);
  }

  kernel::System& sys() {
    if (!sys_) build({});
    return *sys_;
  }
  void run() { engine_->run(); }
  /// For runs with servers or blocked incarnations that would otherwise wait for ever.
  void run_until(double t) { engine_->run_until(t); }
  double now() const { return simgrid::s4u::Engine::get_clock(); }

  void TearDown() override {
    // Every simulated test also checks the communications invariant (Section 8.5).
    if (sys_ && check_invariant_) {
      const auto& violations = sys_->finish_checks();
      for (const auto& v : violations) ADD_FAILURE() << "invariant: " << v;
    }
    // After run_until() actors may still wait on the pool's semaphores, which SimGrid refuses to
    // destroy: each test is its own process, so let the pool and engine go with it.
    (void)sys_.release();
    (void)engine_.release();
  }

  std::unique_ptr<simgrid::s4u::Engine> engine_;
  std::unique_ptr<kernel::System> sys_;
  bool check_invariant_ = true;  // off only in the test proving the checker can fail
};

}  // namespace equus::test
