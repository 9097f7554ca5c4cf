#include "models/kernel/loader.hpp"

#include "models/kernel/ghost.hpp"
#include "models/kernel/kernel.hpp"
#include "models/kernel/system_incarnation.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

namespace {

/// Answers a request at process level (loaders and services can send, unlike interrupt handlers).
void answer(Process& self, const KernelMessage& m, ControlReply r, double cpu_before) {
  self.kernel().transport().reply(self, m.origin(), m.xid, std::move(r),
                                  cpu_before + self.kernel().params().cpu.kmsg_prepare);
}

/// Every incarnation of an RDC is by default absolutely dependent upon its launch program (Section
/// 7.3): its ghost probes the launch program's, so that the RDC does not outlive it as an orphan.
/// Set before the ghost starts, which then probes from the first period.
void depend_on_launch(Incarnation& inc) {
  if (inc.rdc() && !inc.rdc()->system && inc.rdc()->launch_ghost.valid())
    inc.parents.push_back(Incarnation::Parent{inc.rdc()->launch_ghost, DEP_ABSOLUTE});
}

/// The new incarnation was made at `made` (its text and data in memory): EV_INC_MADE to the creator's
/// ghost with the microseconds since the creating call in ed_info2, one datagram like
/// EV_INC_MIGRATEDONE. Bootstrap incarnations have no creator and are never hosted by a loader.
void notify_made(Process& self, const Incarnation& inc, KernelPortAddr creator, double called_at,
                 double made) {
  if (creator.valid())
    self.kernel().hosting().notify_elapsed(self, creator, inc.gid(), EvType::Made, made - called_at);
}

}  // namespace

// ---------------------------------------------------------------- loader

NodeService::NodeService(Kernel& kernel, const char* name, GlobalId gid)
    : Process(kernel, name, m68030::Priority::Kernel), name_(name), gid_(gid) {}

void NodeService::start() {
  port_ = &kernel().ports().create(nullptr, true);
  kernel().ports().db_enter(gid_, DeliveryType::NodeService, kernel().address_of(*port_));
  sg::Actor::create(name_, kernel().host(), [this] { run(); })->daemonize();
}

void NodeService::run() {
  port_->waiter = this;
  for (;;) {
    while (port_->requests.empty()) block();
    KernelMessage m = std::move(port_->requests.front());
    port_->requests.pop_front();
    serve(m);
  }
}

Loader::Loader(Kernel& kernel) : NodeService(kernel, "loader", gid) {}

void Loader::serve(KernelMessage& m) {
  std::visit(Overloaded{
                 [&](const HostRequest& r) { host(m, r); }, [&](const MigrateHost& h) { migrate_host(m, h); },
                 [&](const LoaderAccess& a) { access(m, a); }, [&](const LoaderStatus&) { status(m); },
                 [](const auto&) {},  // not a loader request
             },
             m.body);
}

void Loader::access(const KernelMessage& m, const LoaderAccess& a) {
  Kernel& k = kernel();
  k.memory().set_access(a.rdc, a.allow);
  if (!a.allow && a.kill)
    for (auto* inc : k.hosting().hosted(a.rdc)) k.hosting().unhost(*inc, "node withdrawn");
  answer(*this, m, ControlReply{}, k.params().kernel.control_op);
}

void Loader::status(const KernelMessage& m) {
  Kernel& k = kernel();
  ControlReply r;
  r.node = k.node();
  r.memory = k.memory().used();
  r.incarnations = static_cast<int>(k.hosting().hosted().size());
  answer(*this, m, r, k.params().kernel.control_op);
}

void Loader::host(KernelMessage& m, const HostRequest& r) {
  Kernel& k = kernel();
  const auto& p = k.params();
  const Module& mod = r.rdc->modules.at(r.module);
  auto pages = [&k](double bytes) { return k.memory().round_to_pages(bytes); };
  bool shared = k.memory().text_present(r.rdc->id, r.module);
  double text = shared ? 0 : pages(mod.text_bytes);  // shared text is charged once per node
  double memory =
      pages(p.kernel.pincdata_bytes) + pages(mod.heap_bytes) + pages(mod.stack_bytes) + pages(mod.data_bytes);
  ControlReply reply;
  if (!k.memory().allows(r.rdc->id)) {
    reply.status = E_DENIED;
    answer(*this, m, reply, p.kernel.host_request);
    return;
  }
  if (k.memory().used() + memory + text > k.memory().size()) {
    reply.status = E_NOMEM;
    answer(*this, m, reply, p.kernel.host_request);
    return;
  }
  // A local incarnation is dispatched; its system incarnation loads text and data while the ghost
  // serves operations (Section 8.2.2). The creator is answered as soon as creation is initiated.
  if (r.fork_of) {
    fork(m, r, memory, text);
    return;
  }
  Incarnation& inc = k.hosting().host(r.rdc, r.module, r.name, mod.program);
  inc.memory = memory;
  inc.heap = pages(mod.heap_bytes);
  inc.set_state(IncState::Loading);
  inc.params = r.params ? r.params : std::make_shared<IncParams>();
  k.memory().charge(memory);
  k.memory().text_add(r.rdc->id, r.module, 1, pages(mod.text_bytes));
  GlobalId std_channel = k.network().new_gid();
  inc.set_defaults(DefaultStreams{.std_port = inc.add_ref(k.open_port(inc, std_channel, ChanType::Unicast))});
  KernelPort& std_kp = *inc.ref<PortRef>(inc.defaults().std_port)->proxies.front();
  add_default_streams(inc);

  // What the system incarnation fetches before it can run.
  double image = mod.data_bytes + (shared ? 0 : mod.text_bytes);
  bool inchoate = r.inchoate;
  KernelPortAddr image_ghost = r.image_ghost, creator = r.creator_ghost;
  double called_at = r.called_at;
  inc.system()->set_prologue(
      [&inc, image, inchoate, image_ghost, creator, called_at](SystemIncarnation& self) {
        Kernel& kk = self.kernel();
        if (image > 0) {
          KernelMessage fetch;
          if (image_ghost.valid()) {  // from an INCHOATE incarnation in memory
            fetch.dest = image_ghost;
            fetch.body = GhostImage{image, kk.node()};
          } else {  // from the RDC binary on the host's disc
            fetch.dest = LogicalAddr{kk.network().host_node(), FileService::gid, DeliveryType::NodeService};
            fetch.body = FileFetch{image, kk.node()};
          }
          self.set_waiting("text and data of a new incarnation");
          kk.transport().request(self, std::move(fetch), kk.params().cpu.kmsg_prepare);
          self.clear_waiting();
        }
        // Made: a STARTED incarnation's program runs next, an INCHOATE one waits here.
        double made = sg::Engine::get_clock();
        inc.set_state(inchoate ? IncState::Inchoate : IncState::Started);
        inc.ghost()->wake();  // it may hold image requests until now
        if (auto* o = kk.network().observer()) o->incarnation_made(inc.gid(), called_at, made);
        notify_made(self, inc, creator, called_at, made);
        while (inc.state() == IncState::Inchoate) {
          self.set_waiting("inc_create from an INCHOATE incarnation, or its start");
          self.block();
        }
        self.clear_waiting();
      });
  reply.inc = inc.gid();
  reply.ghost = k.address_of(*inc.ghost_port());
  reply.std_channel = std_channel;
  reply.std_port = k.address_of(std_kp);
  reply.node = k.node();
  answer(*this, m, reply, p.kernel.host_request);
  depend_on_launch(inc);
  k.hosting().start(inc);
}

void Loader::add_default_streams(Incarnation& inc) {
  auto add_default = [&](GlobalId chan) {
    return chan ? inc.add_ref(StreamRef{kernel().network().new_gid(), chan, ChanType::Unicast, {}}) : 0;
  };
  DefaultStreams d = inc.defaults();
  d.name_service = add_default(inc.rdc()->name_service);
  d.pool_manager = add_default(inc.rdc()->pool_manager);
  d.stream_space = add_default(inc.rdc()->stream_space);
  inc.set_defaults(d);
}

void Loader::fork(KernelMessage& m, const HostRequest& r, double memory, double text) {
  // The forker waits until its copy has its own heap and stack (no copy-on-write, Section 3.2.1).
  Kernel& k = kernel();
  const auto& p = k.params();
  const Module& mod = r.rdc->modules.at(r.module);
  Incarnation& parent = *r.fork_of;
  Incarnation& inc = k.hosting().host(r.rdc, r.module, r.name + "'", r.program);
  inc.memory = memory - k.memory().round_to_pages(mod.heap_bytes) + parent.heap;
  inc.heap = parent.heap;
  inc.params = parent.params;
  k.memory().charge(inc.memory);
  k.memory().text_add(r.rdc->id, r.module, 1, k.memory().round_to_pages(mod.text_bytes));
  KernelMessage fetch;
  fetch.dest = r.image_ghost;
  fetch.body =
      GhostImage{text + mod.data_bytes + parent.heap + mod.stack_bytes + p.kernel.pincdata_bytes, k.node()};
  set_waiting("the image of a forking incarnation");
  k.transport().request(*this, std::move(fetch), p.cpu.kmsg_prepare);
  clear_waiting();
  double made = sg::Engine::get_clock();

  // Its references, with the same identifiers: non-port ones copied unless they may not propagate;
  // ports unattached unless listed, then on the same multicast channel or a new unicast one.
  ControlReply reply;
  for (const auto& [id, ref] : parent.refs()) {
    if (const auto* port = std::get_if<PortRef>(&ref)) {
      bool listed = std::find(r.fork_ports.begin(), r.fork_ports.end(), id) != r.fork_ports.end();
      GlobalId chan = 0;
      if (listed && port->type() == ChanType::Multicast)
        chan = port->channel();
      else if (listed)
        chan = k.network().new_gid();
      PortRef copy = k.open_port(inc, chan, port->type());
      if (listed && port->type() == ChanType::Unicast)
        reply.fork_channels[id] = {chan, k.address_of(*copy.proxies.front())};
      inc.set_ref(id, std::move(copy));
    } else if (!parent.no_propagate.count(id)) {
      Reference copy = ref;
      if (auto* s = std::get_if<StreamRef>(&copy)) {
        s->gid = k.network().new_gid();  // a new stream on the same channel
        s->outstanding.clear();
      }
      inc.set_ref(id, copy);
    }
  }
  inc.set_defaults(parent.defaults());
  inc.ss_cache() = parent.ss_cache();
  inc.set_state(IncState::Started);
  reply.inc = inc.gid();
  reply.ghost = k.address_of(*inc.ghost_port());
  reply.node = k.node();
  answer(*this, m, reply, p.kernel.host_request);
  depend_on_launch(inc);
  k.hosting().start(inc);
  // inc_fork returned once the copy was made; the event still follows, as for every creation.
  if (auto* o = k.network().observer()) o->incarnation_made(inc.gid(), r.called_at, made);
  notify_made(*this, inc, r.creator_ghost, r.called_at, made);
}

// ---------------------------------------------------------------- file service (UNIX host)

FileService::FileService(Kernel& host_kernel) : NodeService(host_kernel, "file-service", gid) {}

void FileService::serve(KernelMessage& m) {
  Kernel& k = kernel();
  const auto& p = k.params();
  const auto* f = std::get_if<FileFetch>(&m.body);  // its only request
  if (!f) return;
  // One disc, one request at a time: the host is the bottleneck when many incarnations load.
  compute(p.host.request_cpu);
  set_waiting("the host's disc");
  sg::this_actor::sleep_for(p.host.disc_access + f->bytes / p.host.disc_read_rate);
  clear_waiting();
  k.transport().bulk_copy(k.host(), k.network().kernel(f->to_node).host(), f->bytes, p.vme.write_copy_rate);
  answer(*this, m, ControlReply{}, 0);
}

}  // namespace equus::kernel
