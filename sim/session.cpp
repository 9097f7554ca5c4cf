#include "sim/session.hpp"

#include <stdexcept>
#include <utility>

#include "models/kernel/kernel.hpp"
#include "models/support/simgrid_engine.hpp"

namespace sg = simgrid::s4u;

namespace equus::sim {

namespace {

/// Kernel counters of messages moved by reconfigurations.
ForwardingCounts forwarding_of(kernel::Kernel& k) {
  const auto& s = k.stats();
  return {s.forwarded, s.forwarded_pending, s.redirected};
}

/// Every kernel's counters, the UNIX host's last.
std::vector<ForwardingCounts> forwarding_per_kernel(kernel::System& sys) {
  std::vector<ForwardingCounts> out;
  for (int n = 0; n <= sys.node_count(); ++n)
    out.push_back(forwarding_of(n < sys.node_count() ? sys.kernel(n) : sys.host_kernel()));
  return out;
}

}  // namespace

SessionParams shipped_pool(params::ModelParams params, uint64_t seed) {
  const std::string dir = params::data_dir() + "/scenarios/pool/";
  return {platform::load_node_descriptors(dir + "kathleen.nodes"), std::move(params), seed,
          platform::load_pool_users(dir + "kathleen.users")};
}

void Session::add_engine_option(const std::string& option) { support::add_engine_option(option); }

Session::Session(SessionParams params) : params_(std::move(params)) {
  engine_ = support::make_engine().release();
  sys_ = new kernel::System(*engine_, params_.nodes, params_.params, params_.seed);
}

pool::Pool& Session::boot_pool(int service_node, kernel::Program launcher, const pool::PoolOptions& options) {
  if (pool_) throw std::logic_error("Session::boot_pool: the pool is already booted");
  pool_ = new pool::Pool(*sys_, params_.users, service_node, std::move(launcher), options);
  return *pool_;
}

Recorder& Session::record() {
  if (rec_) throw std::logic_error("Session::record: already recording");
  rec_ = new Recorder();
  std::vector<std::string> names;
  for (const auto& n : params_.nodes) names.push_back(n.name);
  names.push_back("unix");
  rec_->set_node_names(names);
  sys_->network().set_observer(rec_);
  rec_->set_forwarding_counter([sys = sys_] {
    ForwardingCounts total;
    for (const auto& c : forwarding_per_kernel(*sys)) {
      total.forwarded += c.forwarded;
      total.forwarded_pending += c.forwarded_pending;
      total.redirected += c.redirected;
    }
    return total;
  });
  return *rec_;
}

std::vector<std::string> Session::finish_recording() {
  auto violations = sys_->finish_checks();
  if (rec_) {
    rec_->set_violations(violations);
    rec_->set_forwarding_totals(forwarding_per_kernel(*sys_));
  }
  return violations;
}

experiments::Testbed Session::testbed() {
  return {*engine_, *sys_, [this](int service_node, kernel::Program launcher) -> pool::Pool& {
            return boot_pool(service_node, std::move(launcher));
          }};
}

}  // namespace equus::sim
