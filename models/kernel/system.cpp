#include "models/kernel/system.hpp"

#include <random>
#include <sstream>

#include "models/kernel/ghost.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

System::System(sg::Engine& engine, std::vector<platform::NodeDescriptor> nodes, params::ModelParams params,
               uint64_t seed)
    : params_(std::move(params)) {
  platform_ = std::make_unique<platform::Platform>(engine, std::move(nodes), params_);
  bus_ = std::make_unique<vme::Bus>(params_.vme);
  net_ = std::make_unique<Network>(params_, *bus_, seed);
  for (int n = 0; n < platform_->node_count(); ++n) {
    kernels_.push_back(std::make_unique<Kernel>(*net_, n, platform_->host(n), params_));
    net_->add(kernels_.back().get());
  }
  // Kernels were booted at different times: their time daemons are out of phase.
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  for (auto& k : kernels_) k->boot(std::uniform_real_distribution<double>(0, 1)(rng));
}

System::~System() = default;

Incarnation& System::create(int node, const std::string& name, Program program) {
  Kernel& k = kernel(node);
  Hosted h;
  h.inc = std::make_unique<Incarnation>(k, net_->new_gid(), name);
  KernelPort& gp = k.create_kernel_port(h.inc.get(), true);
  h.inc->ghost_port = &gp;
  k.db_enter(h.inc->gid(), DeliveryType::Ghost, k.address_of(gp));
  h.ghost = std::make_unique<Ghost>(k, *h.inc);
  h.system = std::make_unique<SystemIncarnation>(k, *h.inc, std::move(program));
  h.inc->ghost = h.ghost.get();
  h.inc->system = h.system.get();
  k.add_process(h.ghost.get());
  k.add_process(h.system.get());
  hosted_.push_back(std::move(h));
  return *hosted_.back().inc;
}

void System::start(Incarnation& inc) {
  inc.ghost->start();
  inc.system->start();
}

void System::destroy(Incarnation& inc) {
  for (auto& h : hosted_) {
    if (h.inc.get() != &inc) continue;
    Kernel& k = inc.kernel();
    h.system->stop();
    h.ghost->stop();
    k.remove_process(h.system.get());
    k.remove_process(h.ghost.get());
    for (auto& [id, r] : inc.refs())
      if (auto* pr = std::get_if<PortRef>(&r)) {
        k.db_remove(pr->channel, DeliveryType::Channel, k.address_of(*pr->kport));
        k.delete_kernel_port(pr->kport->index);
      }
    inc.refs().clear();
    k.db_remove(inc.gid(), DeliveryType::Ghost, k.address_of(*inc.ghost_port));
    inc.ghost_port->requests.clear();
    // Processes and data stay allocated until the run ends: actors being killed may still unwind.
    return;
  }
}

GlobalId System::bootstrap_channel(Incarnation& owner, ChanType type, int* port_id) {
  GlobalId chan = net_->new_gid();
  Kernel& k = owner.kernel();
  KernelPort& kp = k.create_kernel_port(&owner, false);
  k.db_enter(chan, DeliveryType::Channel, k.address_of(kp));
  *port_id = owner.add_ref(PortRef{&kp, chan, type});
  return chan;
}

int System::bootstrap_port(Incarnation& owner, GlobalId channel) {
  Kernel& k = owner.kernel();
  KernelPort& kp = k.create_kernel_port(&owner, false);
  k.db_enter(channel, DeliveryType::Channel, k.address_of(kp));
  return owner.add_ref(PortRef{&kp, channel, ChanType::Multicast});
}

int System::bootstrap_stream(Incarnation& holder, GlobalId channel, ChanType type) {
  // As if propagated from the channel's creator: a unicast stream carries its port's address.
  KernelPortAddr dest;
  for (auto& k : kernels_)
    for (const auto& a : k->db_lookup(channel, DeliveryType::Channel))
      if (type == ChanType::Unicast) dest = a;
  return holder.add_ref(StreamRef{net_->new_gid(), channel, type, dest});
}

int System::bootstrap_buffer_handle(Incarnation& holder, Incarnation& owner, Buf buf, bool writable) {
  return holder.add_ref(
      AlienBufRef{owner.gid(), owner.kernel().address_of(*owner.ghost_port), buf, writable});
}

std::string System::blocked_report() const {
  std::ostringstream out;
  for (const auto& h : hosted_)
    if (!h.system->finished() && h.system->is_waiting())
      out << "  " << h.inc->name() << " at " << platform_->nodes()[h.inc->kernel().node()].name
          << " waits on " << h.system->waiting_description() << "\n";
  return out.str();
}

}  // namespace equus::kernel
