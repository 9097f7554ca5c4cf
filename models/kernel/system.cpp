#include "models/kernel/system.hpp"

#include <random>
#include <sstream>

#include "models/kernel/ghost.hpp"
#include "models/platform/vme_interconnect.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

System::System(sg::Engine& engine, std::vector<platform::NodeDescriptor> nodes, params::ModelParams params,
               uint64_t seed)
    : params_(std::move(params)) {
  platform_ = std::make_unique<platform::Platform>(engine, std::move(nodes), params_.cpu, params_.vme);
  interconnect_ = std::make_unique<platform::VmeInterconnect>(params_.vme);
  net_ = std::make_unique<Network>(params_, *interconnect_, seed);
  checker_ = std::make_unique<InvariantChecker>();
  net_->set_checker(checker_.get());
  for (int n = 0; n < platform_->node_count(); ++n) {
    kernels_.push_back(std::make_unique<Kernel>(*net_, n, platform_->host(n), params_));
    net_->add(kernels_.back().get());
  }
  net_->set_pool_size(platform_->node_count());
  // The UNIX host card talks to the pool's kernels (launch program, file service) but hosts no RDC.
  host_kernel_ = std::make_unique<Kernel>(*net_, platform_->node_count(), platform_->unix_host(), params_);
  net_->add(host_kernel_.get());
  // Kernels were booted at different times: their time daemons are out of phase.
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  for (auto& k : kernels_) k->boot(std::uniform_real_distribution<double>(0, 1)(rng));
  host_kernel_->boot(std::uniform_real_distribution<double>(0, 1)(rng));
}

System::~System() = default;

const std::vector<std::string>& System::finish_checks() {
  checker_->finish(*net_);
  return checker_->violations();
}

Incarnation& System::create(int node, const std::string& name, Program program) {
  return network().kernel(node).hosting().host(nullptr, -1, name, std::move(program));
}

void System::start(Incarnation& inc) { inc.kernel().hosting().start(inc); }

void System::destroy(Incarnation& inc) { inc.kernel().hosting().unhost(inc, "destroyed"); }

GlobalId System::bootstrap_channel(Incarnation& owner, ChanType type, int* port_id) {
  GlobalId chan = net_->new_gid();
  *port_id = owner.add_ref(owner.kernel().open_port(owner, chan, type));
  return chan;
}

int System::bootstrap_port(Incarnation& owner, GlobalId channel) {
  return owner.add_ref(owner.kernel().open_port(owner, channel, ChanType::Multicast));
}

int System::bootstrap_stream(Incarnation& holder, GlobalId channel, ChanType type) {
  // As if propagated from the channel's creator: a unicast stream carries its port's address.
  KernelPortAddr dest;
  for (auto& k : kernels_)
    for (const auto& a : k->ports().db_lookup(channel, DeliveryType::Channel))
      if (type == ChanType::Unicast) dest = a;
  return holder.add_ref(StreamRef{net_->new_gid(), channel, type, dest});
}

int System::bootstrap_buffer_handle(Incarnation& holder, Incarnation& owner, Buf buf, bool writable) {
  return holder.add_ref(
      AlienBufRef{owner.gid(), owner.kernel().address_of(*owner.ghost_port()), buf, writable});
}

int System::bootstrap_handle(Incarnation& holder, Incarnation& owner, int ref) {
  KernelPortAddr ghost = owner.kernel().address_of(*owner.ghost_port());
  if (auto* s = owner.ref<StreamRef>(ref)) return holder.add_ref(StreamHandleRef{s->gid, ghost, s->type});
  if (owner.ref<PortRef>(ref)) return holder.add_ref(PortHandleRef{ref, ghost});
  return 0;
}

int System::bootstrap_inc_handle(Incarnation& parent, Incarnation& child) {
  return parent.add_ref(IncRef{child.gid(), child.kernel().address_of(*child.ghost_port()),
                               child.kernel().node(), INC_RIGHTS_ALL});
}

namespace {
bool is_server(const Incarnation& inc) {
  return inc.rdc() && inc.module() >= 0 && inc.rdc()->modules[inc.module()].service;
}
}  // namespace

std::vector<System::Waiter> System::waiters(bool servers) const {
  std::vector<Waiter> out;
  for (int n = 0; n < net_->size(); ++n)
    for (auto* inc : net_->kernel(n).hosting().hosted()) {
      const auto* sys = inc->system();
      if (!sys || sys->finished() || !sys->is_waiting() || (!servers && is_server(*inc))) continue;
      out.push_back({inc->gid(), inc->name(), n, sys->waiting_description(), sys->waits_on_others(),
                     is_server(*inc)});
    }
  return out;
}

std::string System::blocked_report(bool servers) const {
  std::ostringstream out;
  for (const auto& w : waiters(servers))
    out << "  " << w.name << " at "
        << (w.node < platform_->node_count() ? platform_->nodes()[w.node].name : std::string("unix"))
        << " waits on " << w.waits_on << "\n";
  return out.str();
}

bool System::all_wait_on_others() const {
  for (int n = 0; n < net_->size(); ++n)
    for (auto* inc : net_->kernel(n).hosting().hosted()) {
      if (inc->migration.in_progress() || inc->state() == IncState::Loading) return false;
      const auto* sys = inc->system();
      if (inc->state() == IncState::Started && sys && !sys->finished() && !sys->waits_on_others()) return false;
    }
  return true;
}

long System::calls_completed() const {
  long calls = 0;
  for (int n = 0; n < net_->size(); ++n) calls += net_->kernel(n).stats().calls;
  return calls;
}

}  // namespace equus::kernel
