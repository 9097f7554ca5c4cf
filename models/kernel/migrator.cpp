#include "models/kernel/migrator.hpp"

#include <cmath>

#include "models/kernel/ghost.hpp"
#include "models/kernel/kernel.hpp"
#include "models/kernel/loader.hpp"
#include "models/kernel/system_incarnation.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus_kernel);
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kernel_migration, equus_kernel, "Migrations, phase by phase");

namespace sg = simgrid::s4u;

namespace equus::kernel {

Migrator::Migrator(Kernel& destination, Incarnation& inc, double committed, double text,
                   KernelPortAddr manager_ghost)
    : Process(destination, "migrator:" + inc.name(), m68030::Priority::Ghost),
      inc_(inc),
      committed_(committed),
      text_(text),
      manager_ghost_(manager_ghost) {}

void Migrator::start() {
  sg::Actor::create(name(), kernel().host(), [this] { run(); })->daemonize();
}

void Migrator::fetch(double bytes) {
  Kernel& d = kernel();
  const auto& p = d.params();
  double page = p.cpu.page_bytes;
  d.transport().bulk_copy(
      inc_.kernel().host(), d.host(), bytes, p.vme.read_copy_rate, [&](double chunk, bool) {
        compute(p.kernel.bulk_pull_setup + std::ceil(chunk / page) * p.kernel.migrate_per_page);
      });
  moved_ += bytes;
}

bool Migrator::aborted() {
  if (inc_.state() != IncState::Dead) return false;
  Kernel& d = kernel();
  d.memory().charge(-committed_);
  if (text_ > 0 && inc_.rdc()) d.memory().text_add(inc_.rdc()->id, inc_.module(), -1, 0);
  inc_.migration.finish();
  return true;
}

void Migrator::run() {
  Kernel& d = kernel();
  Kernel& s = inc_.kernel();
  const auto& p = d.params();
  Observer::Migration rec;
  rec.inc = inc_.gid();
  rec.from = s.node();
  rec.to = d.node();
  rec.start = sg::Engine::get_clock();
  XBT_VERB("%s migrates from node %d to node %d", inc_.name().c_str(), rec.from, rec.to);
  auto pages = [&d](double bytes) { return d.memory().round_to_pages(bytes); };
  const Module* mod = inc_.rdc() && inc_.module() >= 0 ? &inc_.rdc()->modules[inc_.module()] : nullptr;

  // M3: the pincdata, locked at the source once fetched; a kernel port and database entry per port.
  compute(p.kernel.migrate_setup);
  fetch(pages(p.kernel.pincdata_bytes));
  for (const auto& [id, r] : inc_.refs())
    if (std::holds_alternative<PortRef>(r)) ++rec.ports;
  compute(rec.ports * p.kernel.port_setup);
  rec.pincdata = sg::Engine::get_clock();
  if (aborted()) return;

  // M4: text first, while the incarnation runs (always timed: Appendix A.2 includes it).
  fetch(mod ? pages(mod->text_bytes) : 0);
  rec.text = sg::Engine::get_clock();
  // Not during a synchronous invocation or bulk transfer (7.4.2), nor while its ghost works on its
  // ports: from then on such operations wait until the ports have moved.
  inc_.migration.set_migrator(this);
  while (inc_.migration.busy() && inc_.state() != IncState::Dead) {
    set_waiting(
        "end of a synchronous invocation, bulk transfer or port operation of a migrating incarnation");
    block();
  }
  clear_waiting();
  inc_.migration.set_migrator(nullptr);
  if (aborted()) return;
  inc_.migration.lock_ports();

  // Frozen when heap copying begins; heap, stack, data and registers follow.
  bool was_frozen = inc_.state() != IncState::Started;
  if (!was_frozen) inc_.system()->suspend();
  rec.frozen = sg::Engine::get_clock();
  double data = mod ? pages(mod->data_bytes) + pages(mod->stack_bytes) : 0;
  fetch(pages(inc_.heap) + data);
  if (aborted()) {
    if (!was_frozen) inc_.system()->resume();
    return;
  }

  // The source forwards received-but-unreplied messages and the arrived queues; here they move with
  // the ports' kernel data, each costing a forwarding.
  for (const auto& [id, r] : inc_.refs())
    if (const auto* pr = std::get_if<PortRef>(&r))
      rec.messages += static_cast<int>(pr->kport->arrived.size() + pr->kport->pending.size());
  compute(rec.messages * p.kernel.forward_message);
  if (aborted()) {  // destroyed while its messages were counted: nothing left to move
    if (!was_frozen) inc_.system()->resume();
    return;
  }
  s.hosting().move_incarnation(inc_, d);  // redirection entries at the source, database entries here
  inc_.migration.finish();
  rec.restart = sg::Engine::get_clock();
  rec.bytes = moved_;
  if (!was_frozen) inc_.system()->resume();

  // EV_INC_MIGRATEDONE with the elapsed time (microseconds in ed_info2), to the manager; deferred
  // operations run now.
  if (manager_ghost_.valid())
    d.hosting().notify_elapsed(*this, manager_ghost_, inc_.gid(), EvType::MigrateDone,
                               rec.restart - rec.start);
  if (KernelPort* gp = inc_.ghost_port()) {  // null if it died while its manager was notified
    for (auto& m : inc_.migration.take_deferred()) gp->requests.push_back(std::move(m));
    if (!gp->requests.empty()) inc_.ghost()->wake();
  }
  XBT_VERB("%s restarted on node %d, %.3f ms after the migration began", inc_.name().c_str(), rec.to,
           (rec.restart - rec.start) * 1e3);
  if (auto* o = d.network().observer()) o->migration(rec);
}

// ---------------------------------------------------------------- the source's and loader's parts

// M1 at the source: the nested request to the destination, whose answer is echoed to the manager.
void Ghost::migrate_request(KernelMessage& m, const MigrateRequest& r) {
  Kernel& k = kernel();
  const auto& p = k.params();
  if (inc_.migration.in_progress()) {  // serialised: a second migration waits for the first (7.4.1)
    inc_.migration.defer(m);
    return;
  }
  if (r.node == k.node() || inc_.state() == IncState::Dead || inc_.state() == IncState::Loading) {
    answer(m, ControlReply{.status = E_INVAL}, p.kernel.control_op);
    return;
  }
  compute(p.kernel.control_op);
  const Module* mod = inc_.rdc() && inc_.module() >= 0 ? &inc_.rdc()->modules[inc_.module()] : nullptr;
  KernelMessage km;
  km.dest = LogicalAddr{r.node, Loader::gid, DeliveryType::NodeService};
  km.body = MigrateHost{&inc_, inc_.rdc(), inc_.memory, mod ? k.memory().round_to_pages(mod->text_bytes) : 0,
                        r.manager_ghost};
  inc_.migration.begin();  // segments locked against growth from now (M2)
  auto ans = k.transport().request(*this, std::move(km), p.cpu.kmsg_prepare);
  int status = ans ? std::get<ControlReply>(ans->body).status : E_TIMEOUT;
  if (status != E_OK) inc_.migration.refused();
  answer(m, ControlReply{.status = status}, 0);
}

void Loader::migrate_host(KernelMessage& m, const MigrateHost& h) {
  Kernel& k = kernel();
  const auto& p = k.params();
  ControlReply reply;
  bool text_here = h.rdc && k.memory().text_present(h.rdc->id, h.inc->module());
  double text = text_here ? 0 : h.text;
  if (h.rdc && !k.memory().allows(h.rdc->id))
    reply.status = E_DENIED;
  else if (k.memory().used() + h.memory + text > k.memory().size())
    reply.status = E_NOMEM;  // no swapping: migration is refused (7.4.6)
  if (reply.status == E_OK) {
    k.memory().charge(h.memory);  // committed (M1)
    if (h.rdc) k.memory().text_add(h.rdc->id, h.inc->module(), 1, h.text);
  }
  compute(p.kernel.host_request);
  int status = reply.status;
  k.transport().reply(*this, m.origin(), m.xid, std::move(reply), p.cpu.kmsg_prepare);
  if (status != E_OK) return;
  // Timing starts now that the request is validated (Appendix A.2).
  k.hosting().start_migrator(*h.inc, h.memory, text, h.manager_ghost);
}

}  // namespace equus::kernel
