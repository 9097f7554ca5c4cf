#include "models/kernel/hosting.hpp"

#include <algorithm>
#include <cmath>

#include "models/kernel/ghost.hpp"
#include "models/kernel/kernel.hpp"
#include "models/kernel/migrator.hpp"
#include "models/kernel/system_incarnation.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus_kernel);
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kernel_hosting, equus_kernel, "Incarnations hosted, started, ended, moved");

namespace sg = simgrid::s4u;

namespace equus::kernel {

Hosting::Hosting(Kernel& kernel) : kernel_(kernel) {}

Hosting::~Hosting() = default;

Incarnation& Hosting::host(RdcPtr rdc, int module, const std::string& name, Program program) {
  Hosted h;
  h.inc = std::make_unique<Incarnation>(kernel_, kernel_.network().new_gid(), name);
  h.inc->join(std::move(rdc), module);
  KernelPort& gp = kernel_.ports().create(h.inc.get(), true);
  h.inc->ghost_port_ = &gp;
  kernel_.ports().db_enter(h.inc->gid(), DeliveryType::Ghost, kernel_.address_of(gp));
  h.ghost = std::make_unique<Ghost>(kernel_, *h.inc);
  h.system = std::make_unique<SystemIncarnation>(kernel_, *h.inc, std::move(program));
  h.inc->ghost_ = h.ghost.get();
  h.inc->system_ = h.system.get();
  hosted_.push_back(std::move(h));
  return *hosted_.back().inc;
}

void Hosting::start(Incarnation& inc) {
  if (auto* o = kernel_.network().observer())
    o->incarnation_created(inc.gid(), inc.name(), inc.rdc() ? inc.rdc()->name : "",
                           inc.rdc() && inc.module() >= 0 ? inc.rdc()->modules[inc.module()].name : "",
                           kernel_.node(), sg::Engine::get_clock());
  XBT_VERB("%s (%llx) starts on node %d", inc.name().c_str(), static_cast<unsigned long long>(inc.gid()),
           kernel_.node());
  inc.ghost()->start();
  inc.system()->start();
}

void Hosting::unhost(Incarnation& inc, const char* why) {
  for (auto& h : hosted_) {
    if (h.inc.get() != &inc || !h.alive) continue;
    h.alive = false;
    XBT_VERB("%s (%llx) ends on node %d: %s", inc.name().c_str(), static_cast<unsigned long long>(inc.gid()),
             kernel_.node(), why);
    bool counts_text = inc.memory > 0;  // hosted by a loader (bootstrapped ones hold no text)
    inc.set_state(IncState::Dead);
    h.system->stop();
    inc.migration.wake_migrator();  // its calls, killed, do not wake it as they unwind
    for (auto& [id, r] : inc.refs())
      if (auto* pr = std::get_if<PortRef>(&r)) kernel_.close_port(inc, *pr);
    for (auto& [id, pr] : inc.propagating) kernel_.close_port(inc, pr);
    inc.propagating.clear();
    inc.refs().clear();
    PortTable& ports = kernel_.ports();
    ports.db_remove(inc.gid(), DeliveryType::Ghost, kernel_.address_of(*inc.ghost_port()));
    // Its ghost port goes too: later operations on it find no port and fail after their retries.
    ports.erase(inc.ghost_port()->index);
    inc.ghost_port_ = nullptr;
    NodeMemory& memory = kernel_.memory();
    memory.charge(-inc.memory);
    if (inc.rdc() && inc.module() >= 0 && counts_text) memory.text_add(inc.rdc()->id, inc.module(), -1, 0);
    if (auto* o = kernel_.network().observer()) o->incarnation_ended(inc.gid(), sg::Engine::get_clock(), why);
    // Those that registered interest learn of the death (EV_INC_DEAD), and watchers of its streams of
    // their closure, sent by the communications manager like any response nobody here waits for.
    for (const auto& ghost : inc.interested) notify(ghost, inc.gid(), EvType::IncDead);
    for (const auto& [stream, ghost] : inc.stream_watchers) notify(ghost, stream, EvType::StreamClosed);
    inc.stream_watchers.clear();
    // Stopping the ghost last: it may be the caller. Data stays allocated until the run ends.
    h.ghost->stop();
    return;
  }
}

void Hosting::start_migrator(Incarnation& inc, double committed, double text, KernelPortAddr manager_ghost) {
  migrators_.push_back(std::make_unique<Migrator>(kernel_, inc, committed, text, manager_ghost));
  migrators_.back()->start();
}

void Hosting::move_ports(Incarnation& inc, Kernel& to) {
  PortTable& ports = kernel_.ports();
  // Kernel ports move with their queues; the old addresses redirect to the new ones.
  auto move_port = [&](KernelPort* kp) {
    uint32_t old = kp->index;
    KernelPort& moved = to.ports().adopt(ports.release(old));
    ports.redirect(old, to.address_of(moved));
  };
  auto move_ref = [&](PortRef& pr) {
    for (KernelPort* proxy : pr.proxies) {
      ports.db_remove(proxy->channel, DeliveryType::Channel, kernel_.address_of(*proxy));
      move_port(proxy);
      to.ports().db_enter(proxy->channel, DeliveryType::Channel, to.address_of(*proxy));
    }
    move_port(pr.kport);
  };
  for (auto& [id, r] : inc.refs())
    if (auto* pr = std::get_if<PortRef>(&r)) move_ref(*pr);
  for (auto& [id, pr] : inc.propagating) move_ref(pr);
  ports.db_remove(inc.gid(), DeliveryType::Ghost, kernel_.address_of(*inc.ghost_port()));
  move_port(inc.ghost_port());
  to.ports().db_enter(inc.gid(), DeliveryType::Ghost, to.address_of(*inc.ghost_port()));
}

void Hosting::move_incarnation(Incarnation& inc, Kernel& to) {
  auto it =
      std::find_if(hosted_.begin(), hosted_.end(), [&](const Hosted& h) { return h.inc.get() == &inc; });
  if (it == hosted_.end() || !it->alive) return;  // ended meanwhile: its ports are gone
  Hosted h = std::move(*it);
  hosted_.erase(it);
  XBT_VERB("%s (%llx) moves from node %d to node %d", inc.name().c_str(),
           static_cast<unsigned long long>(inc.gid()), kernel_.node(), to.node());
  move_ports(inc, to);
  // At most once across the move (8.4.1): retries of what it received, replied to or not, now follow
  // the redirections to the destination and must be recognised there. Entries do not say whose they
  // are, so all go: another incarnation's never match there.
  kernel_.replies().copy_to(to.replies());
  // Memory and text here are freed (the destination committed its own).
  kernel_.memory().charge(-inc.memory);
  if (inc.rdc() && inc.module() >= 0) kernel_.memory().text_add(inc.rdc()->id, inc.module(), -1, 0);
  // Its processes now run on the destination card.
  inc.set_kernel(to);
  h.ghost->move_to(to);
  h.system->move_to(to);
  h.ghost->set_host(to.host());
  h.system->set_host(to.host());
  to.hosting().hosted_.push_back(std::move(h));
}

void Hosting::notify(KernelPortAddr ghost, GlobalId about, EvType type) {
  KernelMessage n;
  n.service = Service::Datagram;
  n.xid = kernel_.transport().new_xid();
  n.src_node = kernel_.node();
  n.dest = ghost;
  n.body = GhostControl{control::Notify{.about = about, .type = type}};
  kernel_.hand_to_comm_manager(std::move(n));
}

void Hosting::notify_elapsed(Process& from, KernelPortAddr ghost, GlobalId about, EvType type,
                             double elapsed_s) {
  KernelMessage n;
  n.service = Service::Datagram;
  n.xid = kernel_.transport().new_xid();
  n.dest = ghost;
  n.body = GhostControl{control::Notify{about, type, static_cast<uint32_t>(std::lround(elapsed_s * 1e6))}};
  kernel_.transport().transmit(from, n, kernel_.params().cpu.kmsg_prepare);
}

void Hosting::notify_stream_closed(Incarnation& inc, GlobalId stream) {
  auto [b, e] = inc.stream_watchers.equal_range(stream);
  for (auto it = b; it != e; ++it) notify(it->second, stream, EvType::StreamClosed);
  inc.stream_watchers.erase(stream);
}

std::vector<Incarnation*> Hosting::hosted(GlobalId rdc) const {
  std::vector<Incarnation*> out;
  for (const auto& h : hosted_)
    if (h.alive && h.inc->rdc() && h.inc->rdc()->id == rdc) out.push_back(h.inc.get());
  return out;
}

std::vector<Incarnation*> Hosting::hosted() const {
  std::vector<Incarnation*> out;
  for (const auto& h : hosted_)
    if (h.alive) out.push_back(h.inc.get());
  return out;
}

Incarnation* Hosting::find_incarnation(GlobalId gid) const {
  for (const auto& h : hosted_)
    if (h.alive && h.inc->gid() == gid) return h.inc.get();
  return nullptr;
}

}  // namespace equus::kernel
