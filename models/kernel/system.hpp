// The simulated Equus pool: platform, bus, one kernel per card, and the incarnations they host.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/kernel/kernel.hpp"
#include "models/kernel/model_params.hpp"
#include "models/kernel/system_incarnation.hpp"
#include "models/platform/interconnect.hpp"
#include "models/platform/platform.hpp"

namespace equus::kernel {

class System {
 public:
  /// Builds the platform on `engine` and boots every card's kernel. One System per engine.
  System(simgrid::s4u::Engine& engine, std::vector<platform::NodeDescriptor> nodes,
         params::ModelParams params, uint64_t seed);
  ~System();

  const params::ModelParams& params() const { return params_; }
  const platform::Platform& platform() const { return *platform_; }
  Network& network() { return *net_; }
  Kernel& kernel(int node) { return net_->kernel(node); }
  /// Pool nodes (the UNIX host's kernel is node_count()).
  int node_count() const { return static_cast<int>(kernels_.size()); }
  Kernel& host_kernel() { return *host_kernel_; }

  /// Hosts a new incarnation at `node`; its processes start with start(). Creating an actor from an
  /// actor yields, so configure (bootstrap_*) between create() and start().
  Incarnation& create(int node, const std::string& name, Program program);
  void start(Incarnation& inc);
  /// create() then start().
  Incarnation& spawn(int node, const std::string& name, Program program) {
    auto& inc = create(node, name, std::move(program));
    start(inc);
    return inc;
  }
  /// Stops an incarnation's processes and frees its ports.
  void destroy(Incarnation& inc);

  // Initial configuration made before programs run (what launch and stream space do in later issues).
  /// A channel whose (first) port belongs to `owner`; returns the port's reference id in *port_id.
  GlobalId bootstrap_channel(Incarnation& owner, ChanType type, int* port_id);
  /// Another port on a multicast channel.
  int bootstrap_port(Incarnation& owner, GlobalId channel);
  /// A stream on `channel` held by `holder`.
  int bootstrap_stream(Incarnation& holder, GlobalId channel, ChanType type);
  /// A buffer handle held by `holder` on `owner`'s buffer.
  int bootstrap_buffer_handle(Incarnation& holder, Incarnation& owner, Buf buf, bool writable);
  /// A handle held by `holder` on `owner`'s stream or port `ref` (stream handle or port handle).
  int bootstrap_handle(Incarnation& holder, Incarnation& owner, int ref);
  /// An incarnation handle on `child` (all rights) held by `parent`.
  int bootstrap_inc_handle(Incarnation& parent, Incarnation& child);

  /// An incarnation blocked in a call.
  struct Waiter {
    GlobalId inc = 0;
    std::string name;      // the kernel's name (module#serial)
    int node = -1;
    std::string waits_on;  // the call or kernel operation, with its port, stream or transaction
    bool on_others = false;  // only another incarnation could end the wait
    bool server = false;     // of a service module (waits by design)
  };
  /// Blocked incarnations, servers (stream space, name service, pool manager, service modules) only
  /// when `servers`.
  std::vector<Waiter> waiters(bool servers = true) const;
  /// waiters() as lines "  <name> at <node> waits on <what>" (empty when none).
  std::string blocked_report(bool servers = true) const;
  /// Whether no incarnation can act on its own: every started one waits on another incarnation (or is
  /// frozen), none is loading or migrating. Kernel daemons (probes, clocks, retries) do not count.
  bool all_wait_on_others() const;
  /// System calls completed by incarnations so far (what moves when anything happens).
  long calls_completed() const;

  /// The communications invariant, checked on every run (Section 8.5): finish() at the end of the
  /// run; violations() is empty when it held.
  InvariantChecker& checker() { return *checker_; }
  const std::vector<std::string>& finish_checks();

 private:
  params::ModelParams params_;
  std::unique_ptr<platform::Platform> platform_;
  std::unique_ptr<platform::Interconnect> interconnect_;
  std::unique_ptr<Network> net_;
  std::unique_ptr<InvariantChecker> checker_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  std::unique_ptr<Kernel> host_kernel_;
};

}  // namespace equus::kernel
