// One simulation: the only place that builds a SimGrid engine, the platform and its kernels, the pool's
// system services and the observer recording a run. Scenario runs, the Appendix A experiments and the
// benchmark all start from a Session.
#pragma once

#include <cstdint>
#include <vector>

#include "models/kernel/model_params.hpp"
#include "models/kernel/system.hpp"
#include "models/platform/pool_files.hpp"
#include "models/pool/launch.hpp"
#include "sim/experiments/testbed.hpp"
#include "sim/output/recorder.hpp"

namespace equus::sim {

struct SessionParams {
  std::vector<platform::NodeDescriptor> nodes;
  params::ModelParams params;
  uint64_t seed = 1;
  std::vector<platform::PoolUser> users;  // who may launch RDCs (the pool users file)
};

/// The pool shipped with the simulator (scenarios/pool/kathleen.nodes and .users, Figures 3.3 and 3.4).
SessionParams shipped_pool(params::ModelParams params, uint64_t seed = 1);

/// Call in a process with no engine yet: one Session per process. Its parts are deliberately never
/// destroyed: once the engine stops, actors may still wait on the pool's semaphores, which SimGrid
/// refuses to destroy; the process ends with the run.
class Session {
 public:
  /// SimGrid options for every engine this process builds from now on, as SimGrid's own command line
  /// takes them: "--log=equus_kernel.thres:debug", "--cfg=contexts/factory:thread". Set them before
  /// building a Session (a run forks its cells after, so they inherit them). They come after
  /// EQUUS_SIMGRID_CFG's (models/support/simgrid_engine.hpp, where every engine is built).
  static void add_engine_option(const std::string& option);

  explicit Session(SessionParams params);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  simgrid::s4u::Engine& engine() { return *engine_; }
  kernel::System& system() { return *sys_; }
  const SessionParams& params() const { return params_; }

  /// Boots the pool's system services at `service_node`; the launch program runs `launcher`. Once.
  pool::Pool& boot_pool(int service_node, kernel::Program launcher, const pool::PoolOptions& options = {});

  /// A recorder observing every kernel from now on, nodes named as in the pool (the host "unix"),
  /// counting the messages reconfigurations move. Once.
  Recorder& record();
  /// End of run: the communications invariant over the whole run (Section 8.5) and the kernels'
  /// forwarding counters, into the recorder. Returns the invariant's violations.
  std::vector<std::string> finish_recording();

  /// What the experiments run in.
  experiments::Testbed testbed();

 private:
  SessionParams params_;
  simgrid::s4u::Engine* engine_ = nullptr;
  kernel::System* sys_ = nullptr;
  pool::Pool* pool_ = nullptr;
  Recorder* rec_ = nullptr;
};

}  // namespace equus::sim
