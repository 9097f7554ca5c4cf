// The Equus calls of creation and control (Appendix B.2, B.7) and the run-time library calls that
// go to the stream space and name service incarnations (B.3, Section 5.4).
#include <cmath>
#include <cstring>

#include "models/kernel/equus.hpp"
#include "models/kernel/kernel.hpp"
#include "models/kernel/loader.hpp"
#include "models/kernel/service_protocol.hpp"
#include "models/kernel/system_incarnation.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

using kernel::SVC_OK;

// ---------------------------------------------------------------- creation

int Equus::inc_moduleId(const std::string& modname) {
  auto call = enter();
  int rc = E_BADREF;
  if (inc_.rdc())
    for (std::size_t i = 0; i < inc_.rdc()->modules.size(); ++i)
      if (inc_.rdc()->modules[i].name == modname) rc = MODULE_ID_BASE + static_cast<int>(i);
  return rc;
}

int Equus::create(RdcPtr rdc, int module, KernelPortAddr image_ghost, unsigned node, int* inchan_p,
                  int* stream_p, IncCreateParams* cp, double called_at) {
  const auto& p = k().params();
  if (!rdc || module < 0 || module >= static_cast<int>(rdc->modules.size()) ||
      !k().network().is_pool_node(node))
    return E_INVAL;
  static int serial = 0;
  HostRequest r;
  r.rdc = rdc;
  r.module = module;
  r.name = rdc->modules[module].name + "#" + std::to_string(++serial);
  r.inchoate = cp && cp->inchoate;
  r.params = std::make_shared<IncParams>(cp ? cp->params : IncParams{});
  r.image_ghost = image_ghost;
  r.creator_ghost = k().address_of(*inc_.ghost_port());
  r.called_at = called_at;
  KernelMessage km;
  km.dest = LogicalAddr{static_cast<int>(node), Loader::gid, DeliveryType::NodeService};
  km.body = std::move(r);
  auto ans = k().transport().request(self_, std::move(km), p.cpu.kmsg_prepare);
  if (!ans) return E_TIMEOUT;
  const auto& cr = std::get<ControlReply>(ans->body);
  if (cr.status != E_OK) return cr.status;
  int handle = inc_.add_ref(IncRef{cr.inc, cr.ghost, cr.node});
  if (inchan_p) *inchan_p = handle;
  if (stream_p)
    *stream_p =
        inc_.add_ref(StreamRef{k().network().new_gid(), cr.std_channel, ChanType::Unicast, cr.std_port});
  return E_OK;
}

int Equus::inc_create(int blueprint, unsigned node, int* inchan_p, int* stream_p, IncCreateParams* cp) {
  auto call_trace = trace("inc_create");
  double called_at = sg::Engine::get_clock();  // EV_INC_MADE's elapsed time counts from here
  auto call = enter();
  int rc;
  if (auto* src = inc_.ref<IncRef>(blueprint)) {
    // From an INCHOATE incarnation of ours: its module, its image in memory.
    Incarnation* image = k().network().kernel(src->node).hosting().find_incarnation(src->inc);
    bool inchoate = image && (image->state() == IncState::Inchoate || image->state() == IncState::Loading);
    rc = inchoate && image->rdc()
             ? create(image->rdc(), image->module(), src->ghost, node, inchan_p, stream_p, cp, called_at)
             : E_INVAL;
  } else {
    rc = create(inc_.rdc(), blueprint - MODULE_ID_BASE, {}, node, inchan_p, stream_p, cp, called_at);
  }
  return rc;
}

int Equus::launch_create(RdcPtr rdc, int module, unsigned node, int* inchan_p, int* stream_p,
                         IncCreateParams* cp) {
  double called_at = sg::Engine::get_clock();
  auto call = enter();
  int rc = inc_.rdc() && inc_.rdc()->system
               ? create(std::move(rdc), module, {}, node, inchan_p, stream_p, cp, called_at)
               : E_DENIED;
  return rc;
}

int Equus::inc_fork(unsigned node, int* inchan_p, int nports, const int* ports_list, int* streams_list,
                    Program child) {
  auto call_trace = trace("inc_fork");
  const auto& p = k().params();
  double called_at = sg::Engine::get_clock();
  auto call = enter();
  if (!inc_.rdc() || inc_.module() < 0 || !k().network().is_pool_node(node)) {
    return E_INVAL;
  }
  HostRequest r;
  r.rdc = inc_.rdc();
  r.module = inc_.module();
  r.name = inc_.name();
  r.image_ghost = k().address_of(*inc_.ghost_port());
  r.fork_of = &inc_;
  r.creator_ghost = k().address_of(*inc_.ghost_port());
  r.called_at = called_at;
  r.program = std::move(child);
  for (int i = 0; i < nports; ++i) r.fork_ports.push_back(ports_list[i]);
  KernelMessage km;
  km.dest = LogicalAddr{static_cast<int>(node), Loader::gid, DeliveryType::NodeService};
  km.body = std::move(r);
  auto ans = k().transport().request(self_, std::move(km), p.cpu.kmsg_prepare);
  call.leave();
  if (!ans) return E_TIMEOUT;
  const auto& cr = std::get<ControlReply>(ans->body);
  if (cr.status != E_OK) return cr.status;
  if (inchan_p) *inchan_p = inc_.add_ref(IncRef{cr.inc, cr.ghost, cr.node});
  for (int i = 0; i < nports && streams_list; ++i) {
    auto it = cr.fork_channels.find(ports_list[i]);
    if (it != cr.fork_channels.end())
      streams_list[i] = inc_.add_ref(
          StreamRef{k().network().new_gid(), it->second.first, ChanType::Unicast, it->second.second});
  }
  return 1;  // in the original
}

int Equus::inc_start(int child, const IncParams* params) {
  return control(child,
                 GhostControl{control::Start{std::make_shared<IncParams>(params ? *params : IncParams{})}},
                 nullptr);
}

const IncParams& Equus::params() const {
  static const IncParams none;
  return inc_.params ? *inc_.params : none;
}

int Equus::inc_paramRef(int interface_index) const {
  const auto& ifaces = params().ifaces;
  return interface_index >= 0 && interface_index < static_cast<int>(ifaces.size())
             ? ifaces[interface_index].ref
             : E_BADREF;
}

void Equus::run_preamble() {
  if (!inc_.params || inc_.params->ifaces.empty()) return;
  auto& ifaces = inc_.params->ifaces;
  // A declared handle label deposits a stream or port handle, for managers to reconfigure the
  // reference with (inc_rebindStream, inc_attachPort: Sections 6.2.2-6.2.3, Figure 6.4).
  auto deposit_handle = [this](const IncInterface& f) {
    if (f.handle_label.empty() || f.ref <= 0) return;
    RefDescrip h;
    h.rd_type = f.kind == IncInterface::Kind::Port ? RefType::PortHandle : RefType::StreamHandle;
    h.rd_obj = inc_hanCreate(f.ref);
    ss_put(f.handle_label, &h, kernel::SS_UNLIMITED);
  };
  // First create and deposit the channels this incarnation declares, then fetch the rest: whatever
  // the order incarnations run in, every deposit precedes the fetches that could wait for it.
  for (auto& f : ifaces)
    if (f.kind == IncInterface::Kind::Port && f.chan_new) {
      int stream = 0;
      ss_createChan(f.chan_label, &stream, &f.ref, f.type);
      deposit_handle(f);
    }
  for (auto& f : ifaces) {
    if (f.kind == IncInterface::Kind::Port && !f.chan_new) {
      RefDescrip r;
      if (ss_get(f.chan_label, &r) == E_OK) f.ref = inc_portCreate(r.rd_obj);
      attached(f.ref, f.chan_label);
      deposit_handle(f);
    } else if (f.kind == IncInterface::Kind::Stream) {
      RefDescrip r;
      if (ss_get(f.chan_label, &r) == E_OK) f.ref = r.rd_obj;
      attached(f.ref, f.chan_label);
      deposit_handle(f);
    }
  }
}

// ---------------------------------------------------------------- control

int Equus::control(int child, GhostControl c, IncStatus* out) {
  auto call = enter_later();  // its entry work is folded into its first CPU burst
  const auto& p = k().params();
  auto* h = inc_.ref<IncRef>(child);
  uint32_t needed = std::visit(Overloaded{
                                   [](const control::Destroy&) { return INC_RIGHT_DESTROY; },
                                   [](const control::Status&) { return INC_RIGHT_STATUS; },
                                   [](const control::Depend&) { return INC_RIGHT_DEPEND; },
                                   [](const control::Interest&) { return INC_RIGHT_DEPEND; },
                                   [](const auto&) { return INC_RIGHT_FREEZE; },  // freeze, unfreeze, start
                               },
                               c.op);
  if (!h || (h->rights & needed) == 0) {
    self_.compute(entry());
    return h ? E_RIGHTS : E_BADREF;
  }
  KernelMessage km;
  km.dest = h->ghost;
  km.body = std::move(c);
  auto ans = k().transport().request(self_, std::move(km), entry() + p.cpu.kmsg_prepare);
  call.leave();
  if (!ans) return E_TIMEOUT;
  const auto& r = std::get<ControlReply>(ans->body);
  if (ans->resolved.valid() && (h = inc_.ref<IncRef>(child))) {  // it migrated: follow it
    h->ghost = ans->resolved;
    h->node = r.node;
  }
  if (out) *out = IncStatus{r.state, r.node, r.memory, r.queued};
  return r.status;
}

int Equus::inc_destroy(int child) { return control(child, GhostControl{control::Destroy{}}, nullptr); }
int Equus::inc_freeze(int child) { return control(child, GhostControl{control::Freeze{}}, nullptr); }
int Equus::inc_unfreeze(int child, int /*priority: one timeslicing level in the model*/) {
  return control(child, GhostControl{control::Unfreeze{}}, nullptr);
}
int Equus::inc_status(int child, IncStatus* statep) {
  return control(child, GhostControl{control::Status{}}, statep);
}

int Equus::loader_access(unsigned node, GlobalId rdcid, bool allow, bool kill) {
  const auto& p = k().params();
  auto call = enter();
  if (!inc_.rdc() || !inc_.rdc()->system) {
    return E_DENIED;  // only system RDCs change access lists (Appendix B.7)
  }
  if (!k().network().is_pool_node(node)) {
    return E_INVAL;
  }
  KernelMessage km;
  km.dest = LogicalAddr{static_cast<int>(node), Loader::gid, DeliveryType::NodeService};
  km.body = LoaderAccess{rdcid, allow, kill};
  auto ans = k().transport().request(self_, std::move(km), p.cpu.kmsg_prepare);
  return ans ? std::get<ControlReply>(ans->body).status : E_TIMEOUT;
}

int Equus::inc_nodeAlloc(unsigned node, GlobalId rdcid) { return loader_access(node, rdcid, true, false); }
int Equus::inc_nodeWithdraw(unsigned node, GlobalId rdcid, int kill) {
  return loader_access(node, rdcid, false, kill != 0);
}

NodeLoad Equus::read_load(unsigned node) {
  Kernel& there = k().network().kernel(static_cast<int>(node));
  self_.compute(k().params().kernel.load_read);
  // A global variable of the other card, read across the bus (no kernel message, no interrupt there).
  if (&there != &k())
    k().network().interconnect().copy(there.host(), k().host(), sizeof(NodeLoad),
                                      k().params().vme.read_copy_rate);
  double now = sg::Engine::get_clock();
  return NodeLoad{node, there.cpu().load().current(), there.cpu().load().average(now), now};
}

int Equus::inc_nodeLoad(unsigned node, NodeLoad* load) {
  auto call = enter();
  if (!inc_.rdc() || !inc_.rdc()->system) return E_DENIED;
  if (!k().network().is_pool_node(node) || !load) return E_INVAL;
  *load = read_load(node);
  return E_OK;
}

int Equus::inc_nodeLoads(std::vector<NodeLoad>* loads) {
  auto call = enter();
  if (!inc_.rdc() || !loads) return E_INVAL;
  loads->clear();
  for (int n = 0; n < k().network().pool_size(); ++n)
    if (k().network().kernel(n).memory().allows(inc_.rdc()->id))
      loads->push_back(read_load(static_cast<unsigned>(n)));
  return E_OK;
}

GlobalId Equus::inc_rdcId() const { return inc_.rdc() ? inc_.rdc()->id : 0; }

int Equus::inc_makeDependent(int child, int type) {
  if (type != DEP_NONE && type != DEP_ABSOLUTE && type != DEP_GROUP) return E_INVAL;
  return control(child, GhostControl{control::Depend{k().address_of(*inc_.ghost_port()), type}}, nullptr);
}

int Equus::inc_setInterest(int child, EvType event_type, int set) {
  if (event_type != EvType::IncDead) return E_INVAL;  // the events the model generates for children
  return control(child, GhostControl{control::Interest{k().address_of(*inc_.ghost_port()), set != 0}},
                 nullptr);
}

int Equus::inc_rdcExit() {
  if (!inc_.rdc() || !inc_.defaults().pool_manager) return E_INVAL;
  // The pool manager withdraws every node of the RDC with kill: its incarnations die, this one too.
  Msg m;
  ServiceRequest{PM_RELEASE, 0, inc_.rdc()->id}.encode(m);
  return inc_invoke(inc_.defaults().pool_manager, &m);
}

int Equus::inc_brk(double new_bytes) {
  auto call = enter();
  // Segments are locked against growth while migrating (M2): the caller is held until it is over.
  while (inc_.migration.in_progress() && new_bytes > inc_.heap) {
    self_.set_waiting("the end of its migration, to grow its heap");
    self_.block_until(sg::Engine::get_clock() + k().params().kernel.migration_poll_period);
  }
  self_.clear_waiting();
  double want = k().memory().round_to_pages(new_bytes);
  int rc = E_OK;
  if (new_bytes < 0) {
    rc = E_INVAL;
  } else if (k().memory().used() + (want - inc_.heap) > k().memory().size()) {
    rc = E_NOMEM;
  } else {
    k().memory().charge(want - inc_.heap);
    inc_.memory += want - inc_.heap;
    inc_.heap = want;
  }
  return rc;
}

int Equus::inc_testReference(int reference) const {
  auto& refs = inc_.refs();
  auto it = refs.find(reference);
  if (it == refs.end()) return RT_NONE;
  return static_cast<int>(type_of(it->second));
}

// ---------------------------------------------------------------- stream space and name service

int Equus::service_call(int stream, const ServiceRequest& request, const std::string& label, Msg& msg) {
  if (!stream) return E_BADREF;
  std::vector<std::byte> buf(label.size());
  std::memcpy(buf.data(), label.data(), label.size());
  request.encode(msg);
  msg.m_base = buf.data();
  msg.m_cnt = static_cast<uint32_t>(buf.size());
  int rc = inc_invoke(stream, &msg);
  msg.m_base = nullptr;
  if (rc != E_OK) return rc;
  return ServiceReply::decode(msg).status == SVC_OK ? E_OK : E_BADREF;
}

int Equus::ss_put(const std::string& label, const RefDescrip* refp, int ncopies) {
  auto call_trace = trace("ss_put");
  Msg m;
  m.m_ref = *refp;
  m.m_ref.rd_keep = true;  // the depositor keeps its reference (Appendix B.3)
  return service_call(inc_.defaults().stream_space, ServiceRequest{SS_PUT, ncopies}, label, m);
}

int Equus::ss_get(const std::string& label, RefDescrip* refp) {
  auto call_trace = trace("ss_get");
  auto hit = inc_.ss_cache().find(label);
  if (hit != inc_.ss_cache().end() && inc_.has_ref(hit->second)) {
    // A local search in the caller's address space (Section 5.5.3).
    self_.compute(k().params().cpu.db_search_per_entry * static_cast<double>(inc_.ss_cache().size()));
    refp->rd_obj = hit->second;
    refp->rd_type = RefType::Stream;
    if (inc_.ref<StreamHandleRef>(hit->second)) refp->rd_type = RefType::StreamHandle;
    if (inc_.ref<PortHandleRef>(hit->second)) refp->rd_type = RefType::PortHandle;
    if (inc_.ref<AlienBufRef>(hit->second)) refp->rd_type = RefType::AlienBuffer;
    return E_OK;
  }
  Msg m;
  int rc = service_call(inc_.defaults().stream_space, ServiceRequest{SS_GET}, label, m);
  if (rc != E_OK) return rc;
  *refp = m.m_ref;
  int32_t copies = ServiceReply::decode(m).count;
  if (copies == kernel::SS_UNLIMITED)
    inc_.ss_cache()[label] = refp->rd_obj;  // limited and don't-cache are not
  return E_OK;
}

int Equus::ss_return(const std::string& label, int /*keepqueue: ports, with reconfiguration*/) {
  Msg m;
  return service_call(inc_.defaults().stream_space, ServiceRequest{SS_RETURN}, label, m);
}

int Equus::ss_delete(const std::string& label) {
  Msg m;
  return service_call(inc_.defaults().stream_space, ServiceRequest{SS_DELETE}, label, m);
}

int Equus::ss_print() {
  Msg m;
  return service_call(inc_.defaults().stream_space, ServiceRequest{SS_PRINT}, "", m);
}

int Equus::ss_createChan(const std::string& label, int* stream_p, int* port_p, ChanType chan_type) {
  int rc = inc_chanCreate(chan_type, stream_p, port_p);
  if (rc != E_OK) return rc;
  attached(*port_p, label);
  RefDescrip r;
  r.rd_type = RefType::Stream;
  r.rd_obj = *stream_p;
  return ss_put(label, &r, kernel::SS_UNLIMITED);
}

int Equus::ns_register(const std::string& service, int stream) {
  Msg m;
  m.m_ref.rd_type = RefType::Stream;
  m.m_ref.rd_obj = stream;
  return service_call(inc_.defaults().name_service, ServiceRequest{NS_REGISTER}, service, m);
}

int Equus::ns_lookup(const std::string& service, int* stream_p) {
  auto call_trace = trace("ns_lookup");
  Msg m;
  int rc = service_call(inc_.defaults().name_service, ServiceRequest{NS_LOOKUP}, service, m);
  if (rc == E_OK) *stream_p = m.m_ref.rd_obj;
  return rc;
}

void Equus::record(const std::string& key, double value) {
  if (auto* o = k().network().observer()) o->record(inc_.gid(), key, value, sg::Engine::get_clock());
}

}  // namespace equus::kernel
