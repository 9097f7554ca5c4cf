#include "models/pool/launch.hpp"

#include <xbt/log.h>

#include <algorithm>
#include <cstring>

#include "models/kernel/incarnation.hpp"
#include "models/kernel/kernel.hpp"
#include "models/kernel/system_incarnation.hpp"
#include "models/pool/pool_manager.hpp"
#include "models/services/services.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus_pool);
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(pool_launch, equus_pool,
                                "The launch program: authentication, nodes, stream space, primary");

namespace sg = simgrid::s4u;

using namespace equus::kernel;

namespace equus::pool {

namespace {
constexpr int ns_module = 0, pm_module = 1, launch_module = 2;
}

Pool::Pool(System& sys, std::vector<platform::PoolUser> users, int service_node, Program launcher,
           const PoolOptions& options)
    : sys_(sys), users_(std::move(users)) {
  auto sysrdc = std::make_shared<Rdc>();
  sysrdc->id = sys.network().new_gid();
  sysrdc->name = "equus";
  sysrdc->user = "equus";
  sysrdc->system = true;
  PoolManagerOptions pm;
  pm.queue_limit = options.queue_limit;
  pm.group_kinds = !options.policy.is_null();
  pm.seed = options.seed;
  pm.stats = stats_;
  PolicyFactory factory = [spec = options.policy]() -> std::unique_ptr<Policy> {
    if (spec.is_null()) return std::make_unique<StaticPolicy>();
    return make_policy(spec);
  };
  auto agents = std::make_shared<AgentDirectory>();
  const auto& nodes = sys.platform().nodes();
  sysrdc->modules = {
      Module{"name_service", 0, 0, 0, 0, services::name_service_program(), true},
      Module{"pool_manager", 0, 0, 0, 0, pool_manager_program(nodes, factory, pm, agents), true},
      Module{"launch", 0, 0, 0, 0,
             [this, launcher = std::move(launcher)](Equus& eq) {
               if (launcher) launcher(eq);
               wait_for_rdcs(eq);
             },
             false}};
  for (int n = 0; n < sys.node_count(); ++n) sys.kernel(n).memory().set_access(sysrdc->id, true);
  sys.host_kernel().memory().set_access(sysrdc->id, true);
  system_ = sysrdc;

  // Started directly, as at boot: their standard ports become the default streams' channels.
  Incarnation& ns =
      boot(sys.kernel(service_node), ns_module, "name_service", sysrdc->modules[ns_module].program);
  Incarnation& pmi =
      boot(sys.kernel(service_node), pm_module, "pool_manager", sysrdc->modules[pm_module].program);
  Incarnation& launch =
      boot(sys.host_kernel(), launch_module, "launch", sysrdc->modules[launch_module].program);
  launch_ = &launch;
  auto channel_of = [](Incarnation& inc) { return inc.ref<PortRef>(inc.defaults().std_port)->channel(); };
  sysrdc->name_service = channel_of(ns);
  sysrdc->pool_manager = channel_of(pmi);
  std::vector<Incarnation*> started{&ns, &pmi, &launch};
  // A distributed policy decides at the nodes: an agent on each (its work is load there like any other).
  if (pm.group_kinds && factory()->shape() == Policy::Shape::Distributed) {
    for (int n = 0; n < static_cast<int>(nodes.size()); ++n) {
      sysrdc->modules.push_back(
          Module{"agent", 0, 0, 0, 0, agent_program(n, nodes, factory, pm, agents), true});
      Incarnation& a = boot(sys.kernel(n), static_cast<int>(sysrdc->modules.size()) - 1, "agent",
                            sysrdc->modules.back().program);
      agents->channels.push_back(channel_of(a));
      started.push_back(&a);
    }
  }
  for (Incarnation* inc : started) connect(*inc);
  for (Incarnation* inc : started) inc->kernel().hosting().start(*inc);
}

Incarnation& Pool::boot(Kernel& k, int module, const std::string& name, Program program) {
  Incarnation& inc = k.hosting().host(system_, module, name, std::move(program));
  GlobalId chan = sys_.network().new_gid();
  inc.set_defaults(DefaultStreams{.std_port = inc.add_ref(k.open_port(inc, chan, ChanType::Unicast))});
  return inc;
}

void Pool::connect(Incarnation& inc) {
  DefaultStreams d = inc.defaults();
  d.name_service =
      inc.add_ref(StreamRef{sys_.network().new_gid(), system_->name_service, ChanType::Unicast, {}});
  d.pool_manager =
      inc.add_ref(StreamRef{sys_.network().new_gid(), system_->pool_manager, ChanType::Unicast, {}});
  inc.set_defaults(d);
}

Incarnation& Pool::spawn_launch(const std::string& name, Program program) {
  Incarnation& inc = boot(sys_.host_kernel(), launch_module, name, std::move(program));
  connect(inc);
  inc.kernel().hosting().start(inc);
  return inc;
}

int Pool::launch(Equus& launcher, const LaunchSpec& spec, Launched* out) {
  // 1. Authenticate against the pool users file and check the requested groups.
  auto user = std::find_if(users_.begin(), users_.end(), [&](const auto& u) { return u.user == spec.user; });
  if (user == users_.end()) return E_DENIED;
  std::vector<std::string> groups = spec.groups.empty() ? user->groups : spec.groups;
  for (const auto& g : groups)
    if (std::find(user->groups.begin(), user->groups.end(), g) == user->groups.end() &&
        std::find(user->groups.begin(), user->groups.end(), "all") == user->groups.end())
      return E_DENIED;
  GlobalId rdc_id = sys_.network().new_gid();

  // 2. Nodes from the pool manager.
  std::string csv;
  for (const auto& g : groups) csv += (csv.empty() ? "" : ",") + g;
  // The groups go out as extra data; the pool manager's reply overwrites the buffer with the node list.
  std::vector<std::byte> buf(std::max<std::size_t>(csv.size() + 1, 4 * sys_.node_count()), std::byte{0});
  std::memcpy(buf.data(), csv.data(), csv.size());
  Msg m;
  ServiceRequest{PM_ALLOC, spec.nodes, rdc_id, spec.home}.encode(m);
  m.m_base = buf.data();
  m.m_cnt = static_cast<uint32_t>(buf.size());
  int rc = launcher.inc_invoke(launcher.incarnation().defaults().pool_manager, &m);
  if (rc != E_OK) return rc;
  auto reply = ServiceReply::decode(m);
  if (reply.status != SVC_OK) return E_NOMEM;
  out->admitted_at = launcher.now();
  out->nodes.clear();
  for (int n : nodes_of_reply(m, buf)) out->nodes.push_back(static_cast<unsigned>(n));
  if (out->nodes.empty()) return E_NOMEM;

  // 3. The RDC's stream space, then its primary incarnation with the default streams.
  auto rdc = std::make_shared<Rdc>();
  rdc->id = rdc_id;
  rdc->name = spec.name;
  rdc->user = spec.user;
  rdc->modules = spec.modules;
  rdc->modules.push_back(Module{"stream_space", 8 * 1024, 0, 0, 0, services::stream_space_program(), true});
  rdc->name_service = system_->name_service;
  rdc->pool_manager = system_->pool_manager;
  // Before any incarnation of the RDC is hosted: each loader makes it dependent upon this program.
  Incarnation& self = launcher.incarnation();
  rdc->launch_ghost = self.kernel().address_of(*self.ghost_port());
  int ss_handle = 0, ss_stream = 0;
  rc = launcher.launch_create(rdc, static_cast<int>(rdc->modules.size()) - 1, out->nodes.front(), &ss_handle,
                              &ss_stream, nullptr);
  if (rc != E_OK) return rc;
  rdc->stream_space = launcher.incarnation().ref<StreamRef>(ss_stream)->channel;
  out->rdc = rdc;
  out->stream_space = ss_stream;
  out->stream_space_inc = ss_handle;
  live_.insert(rdc_id);
  unsigned node = out->nodes.front();
  if (spec.primary_node_hint >= 0 &&
      std::find(out->nodes.begin(), out->nodes.end(), static_cast<unsigned>(spec.primary_node_hint)) !=
          out->nodes.end())
    node = static_cast<unsigned>(spec.primary_node_hint);
  IncCreateParams cp;
  cp.params = spec.primary_params;
  XBT_VERB("launching '%s' for %s on %zu node(s), its primary at node %u", spec.name.c_str(),
           spec.user.c_str(), out->nodes.size(), node);
  return launcher.launch_create(rdc, spec.primary_module, node, &out->primary, nullptr, &cp);
}

int Pool::terminate(Equus& launcher, const Launched& launched) {
  live_.erase(launched.rdc->id);
  Msg m;
  ServiceRequest{PM_RELEASE, 0, launched.rdc->id}.encode(m);
  return launcher.inc_invoke(launcher.incarnation().defaults().pool_manager, &m);
}

void Pool::wait_for_rdcs(Equus& launcher) {
  if (live_.empty()) return;  // nothing depends on it: the launch program exits
  // The real launch program waits for its RDC and normally terminates it. Here it waits for ever:
  // destroying it or its node's failure terminates the RDCs through their dependency, and, as a
  // daemon like the services, it does not keep a run going once the RDCs' programs have ended. Its
  // ghost, not this process, answers the probes. It waits on others (a run's deadlock detection sees
  // that), but a run does not report it as blocked.
  waiting_ = true;
  launcher.incarnation().system()->set_waiting("the end of its RDCs", -1, kernel::Process::Wake::ByOthers);
  sg::Actor::self()->daemonize();
  for (;;) launcher.incarnation().system()->block();  // wakes (events) are spurious here
}

}  // namespace equus::pool
