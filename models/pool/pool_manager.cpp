#include "models/pool/pool_manager.hpp"

#include <xbt/log.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "models/kernel/equus.hpp"
#include "models/kernel/incarnation.hpp"
#include "models/kernel/kernel.hpp"
#include "models/services/services.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus);
XBT_LOG_NEW_SUBCATEGORY(equus_pool, equus, "The pool: its manager, policies, launches and administrator");
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(pool_manager, equus_pool, "The pool manager: allocation, queueing, release");

using namespace equus::kernel;

namespace equus::pool {

namespace {

std::vector<std::string> split_groups(const std::string& csv) {
  std::vector<std::string> groups;
  std::istringstream in(csv);
  for (std::string g; std::getline(in, g, ',');)
    if (!g.empty()) groups.push_back(g);
  return groups;
}

std::string join_groups(const std::set<std::string>& groups) {
  std::string csv;
  for (const auto& g : groups) csv += (csv.empty() ? "" : ",") + g;
  return csv;
}

/// Replies OK with `nodes` as 32-bit words of extra data.
void reply_nodes(Equus& eq, int handle, const std::vector<int>& nodes) {
  std::vector<uint32_t> words(nodes.begin(), nodes.end());
  Msg r;
  ServiceReply{SVC_OK, static_cast<int32_t>(words.size())}.encode(r);
  r.m_base = reinterpret_cast<std::byte*>(words.data());
  r.m_cnt = static_cast<uint32_t>(4 * words.size());
  eq.inc_reply(handle, &r);
}

/// Streams to other servers' standard channels, made once each.
class Streams {
 public:
  int to(Equus& eq, GlobalId channel) {
    auto [it, fresh] = handles_.try_emplace(channel, 0);
    if (fresh) {
      Incarnation& self = eq.incarnation();
      it->second = self.add_ref(StreamRef{self.kernel().network().new_gid(), channel, ChanType::Unicast, {}});
    }
    return it->second;
  }

 private:
  std::map<GlobalId, int> handles_;
};

/// What every context shares: the node descriptors and the candidates of each group set.
class ContextBase : public PolicyContext {
 public:
  ContextBase(const std::vector<platform::NodeDescriptor>& nodes, uint64_t seed)
      : nodes_(nodes), rng_(seed) {}
  const std::vector<platform::NodeDescriptor>& nodes() const override { return nodes_; }
  const std::vector<int>& candidates(const PlaceRequest& r) override {
    auto [it, fresh] = candidates_.try_emplace(join_groups(r.groups));
    if (fresh)
      for (int n = 0; n < static_cast<int>(nodes_.size()); ++n)
        for (const auto& g : nodes_[n].groups)
          if (r.groups.count(g)) {
            it->second.push_back(n);
            break;
          }
    return it->second;
  }
  std::mt19937_64& rng() override { return rng_; }

 private:
  const std::vector<platform::NodeDescriptor>& nodes_;
  std::mt19937_64 rng_;
  std::map<std::string, std::vector<int>> candidates_;
};

/// The pool manager's view: its own records, and loads read over the bus.
class ManagerContext : public ContextBase {
 public:
  ManagerContext(Equus& eq, const std::vector<platform::NodeDescriptor>& nodes, const PoolManagerOptions& o,
                 const std::map<int, int>& placed)
      : ContextBase(nodes, o.seed), eq_(eq), o_(o), placed_(placed) {}
  bool shares(int node) const override { return o_.group_kinds && shared(kind_of(nodes()[node])); }
  int placed_at(int node) const override {
    auto it = placed_.find(node);
    return it == placed_.end() ? 0 : it->second;
  }
  LoadInfo probe(int node) override {
    NodeLoad l;
    if (eq_.inc_nodeLoad(static_cast<unsigned>(node), &l) != E_OK) return {};
    ++o_.stats->load_reads;
    return {l.run_queue, l.load, eq_.now() - l.read_at};
  }
  int here() const override { return -1; }

 private:
  Equus& eq_;
  const PoolManagerOptions& o_;
  const std::map<int, int>& placed_;
};

/// An agent's view: its own node's load read locally, the others' by probe messages.
class AgentContext : public ContextBase {
 public:
  AgentContext(Equus& eq, int node, const std::vector<platform::NodeDescriptor>& nodes,
               const PoolManagerOptions& o, const AgentDirectory& agents, Streams& streams)
      : ContextBase(nodes, o.seed + 7919 * static_cast<uint64_t>(node + 1)),
        eq_(eq),
        node_(node),
        o_(o),
        agents_(agents),
        streams_(streams) {}
  bool shares(int node) const override { return shared(kind_of(nodes()[node])); }
  int placed_at(int) const override {
    throw std::logic_error("a distributed policy asked for the pool manager's records at a node's agent");
  }
  LoadInfo probe(int node) override {
    if (node == node_) {
      NodeLoad l;
      eq_.inc_nodeLoad(static_cast<unsigned>(node), &l);
      return {l.run_queue, l.load, 0};
    }
    ++o_.stats->probes;
    Msg m;
    ServiceRequest{AGENT_PROBE, 0, 0, node_}.encode(m);
    if (eq_.inc_invoke(streams_.to(eq_, agents_.channels.at(node)), &m) != E_OK) return {1 << 20, 1e9, 0};
    return {ServiceReply::decode(m).count, m.get<double>(8), eq_.now() - m.get<double>(16)};
  }
  int here() const override { return node_; }

 private:
  Equus& eq_;
  int node_;
  const PoolManagerOptions& o_;
  const AgentDirectory& agents_;
  Streams& streams_;
};

/// A request as it arrives: the placement, the launch options' groups in order, its reply handle.
struct Pending {
  PlaceRequest request;
  std::vector<std::string> options;
  int handle = 0;
};

/// The pool manager's state and its answers to the node protocol.
class PoolManager {
 public:
  PoolManager(Equus& eq, const std::vector<platform::NodeDescriptor>& nodes, std::unique_ptr<Policy> policy,
              const PoolManagerOptions& options, const AgentDirectory& agents)
      : eq_(eq),
        policy_(std::move(policy)),
        o_(options),
        agents_(agents),
        ctx_(eq, nodes, options, placed_) {}

  void alloc(Pending p) {
    if (capacity(p) < p.request.nodes) {  // never satisfiable: refuse at once
      XBT_VERB("RDC %llx asks %u nodes; its groups hold fewer: refused",
               static_cast<unsigned long long>(p.request.rdc), p.request.nodes);
      ++o_.stats->refused;
      services::reply_status(eq_, p.handle, SVC_REFUSED);
      return;
    }
    if (queue_.empty()) {  // nobody waits before it
      if (auto chosen = try_place(p.request, p.options)) {
        grant(p, *chosen);
        return;
      }
    }
    if (queue_.size() >= o_.queue_limit) {
      XBT_VERB("RDC %llx refused: %zu launches wait already", static_cast<unsigned long long>(p.request.rdc),
               queue_.size());
      ++o_.stats->refused;
      services::reply_status(eq_, p.handle, SVC_REFUSED);
      return;
    }
    XBT_VERB("RDC %llx waits for %u nodes (%zu before it)", static_cast<unsigned long long>(p.request.rdc),
             p.request.nodes, queue_.size());
    ++o_.stats->queued;
    queue_.push_back(p.request);
    waiting_.push_back(std::move(p));
    eq_.record("pool_queue_length", static_cast<double>(queue_.size()));
  }

  void release(int handle, GlobalId rdc) {
    auto it = granted_.find(rdc);
    if (it != granted_.end()) {
      for (int n : it->second) {
        eq_.inc_nodeWithdraw(static_cast<unsigned>(n), rdc, 1);
        if (--placed_[n] == 0) placed_.erase(n);
      }
      granted_.erase(it);
    }
    services::reply_status(eq_, handle, SVC_OK);
    admit_waiting();
  }

 private:
  /// The request for one of the launch options' groups (all of them at once under the first rule).
  std::vector<PlaceRequest> choices(const PlaceRequest& r, const std::vector<std::string>& options) const {
    if (!o_.group_kinds) {
      PlaceRequest all = r;
      all.groups = std::set<std::string>(options.begin(), options.end());
      return {all};
    }
    std::vector<PlaceRequest> each;
    for (const auto& g : options) {
      each.push_back(r);
      each.back().groups = {g};
    }
    return each;
  }

  uint32_t capacity(const Pending& p) {
    std::size_t most = 0;
    for (const auto& r : choices(p.request, p.options)) most = std::max(most, ctx_.candidates(r).size());
    return static_cast<uint32_t>(most);
  }

  /// The nodes for the first of the options that can be satisfied now.
  std::optional<std::vector<int>> try_place(const PlaceRequest& req,
                                            const std::vector<std::string>& options) {
    for (const auto& r : choices(req, options)) {
      if (ctx_.candidates(r).size() < r.nodes) continue;
      auto chosen = decide(r);
      if (chosen.size() >= r.nodes) {
        chosen.resize(r.nodes);
        ++o_.stats->decisions;
        if (r.home >= 0 && std::find(chosen.begin(), chosen.end(), r.home) == chosen.end())
          ++o_.stats->transfers;
        return chosen;
      }
    }
    return std::nullopt;
  }

  /// The policy's choice, in the pool manager or, for a distributed policy, at the home node's agent.
  std::vector<int> decide(const PlaceRequest& r) {
    double began = eq_.now();
    std::vector<int> chosen;
    bool relay = policy_->shape() == Policy::Shape::Distributed && r.home >= 0 &&
                 r.home < static_cast<int>(agents_.channels.size()) &&
                 ctx_.shares(ctx_.candidates(r).front());
    if (relay) {
      ++o_.stats->relays;
      chosen = ask_agent(r);
    } else {
      chosen = policy_->place(r, ctx_);
    }
    o_.stats->decision_s += eq_.now() - began;
    return chosen;
  }

  std::vector<int> ask_agent(const PlaceRequest& r) {
    auto label = join_groups(r.groups);
    std::vector<std::byte> buf(std::max<std::size_t>(label.size() + 1, 4 * r.nodes + 4), std::byte{0});
    std::memcpy(buf.data(), label.data(), label.size());
    Msg m;
    ServiceRequest{AGENT_PLACE, static_cast<int32_t>(r.nodes), r.rdc, r.home}.encode(m);
    m.m_base = buf.data();
    m.m_cnt = static_cast<uint32_t>(buf.size());
    if (eq_.inc_invoke(streams_.to(eq_, agents_.channels.at(r.home)), &m) != E_OK) return {};
    return nodes_of_reply(m, buf);
  }

  /// Opens the chosen nodes to the RDC and replies with them.
  void grant(const Pending& p, const std::vector<int>& chosen) {
    GlobalId rdc = p.request.rdc;
    XBT_VERB("RDC %llx gets %zu node(s), the first %d", static_cast<unsigned long long>(rdc), chosen.size(),
             chosen.empty() ? -1 : chosen.front());
    auto& mine = granted_[rdc];
    for (int n : chosen) {
      if (std::find(mine.begin(), mine.end(), n) != mine.end()) continue;
      eq_.inc_nodeAlloc(static_cast<unsigned>(n), rdc);
      mine.push_back(n);
      ++placed_[n];
    }
    reply_nodes(eq_, p.handle, chosen);
  }

  /// Serves waiting requests, in the policy's order, while it finds nodes for them.
  void admit_waiting() {
    for (;;) {
      auto next = policy_->admit(queue_, ctx_);
      if (!next || *next >= queue_.size()) return;
      const Pending& p = waiting_[*next];
      auto chosen = try_place(p.request, p.options);
      if (!chosen) return;
      grant(p, *chosen);
      auto at = static_cast<std::ptrdiff_t>(*next);
      queue_.erase(queue_.begin() + at);
      waiting_.erase(waiting_.begin() + at);
      eq_.record("pool_queue_length", static_cast<double>(queue_.size()));
    }
  }

  Equus& eq_;
  std::unique_ptr<Policy> policy_;
  const PoolManagerOptions& o_;
  const AgentDirectory& agents_;
  std::map<int, int> placed_;                     // node -> RDCs holding it
  std::map<GlobalId, std::vector<int>> granted_;  // RDC -> nodes opened to it
  ManagerContext ctx_;
  Streams streams_;
  std::vector<PlaceRequest> queue_;  // waiting, oldest first: what the policy's admit() sees
  std::vector<Pending> waiting_;     // the same requests with their options and reply handles
};

}  // namespace

std::vector<int> nodes_of_reply(const Msg& m, const std::vector<std::byte>& buf) {
  std::vector<int> nodes;
  auto count = ServiceReply::decode(m).count;
  for (int32_t i = 0;
       i < count && 4 * static_cast<std::size_t>(i + 1) <= std::min<std::size_t>(m.m_nreply, buf.size());
       ++i) {
    uint32_t n;
    std::memcpy(&n, buf.data() + 4 * i, sizeof n);
    nodes.push_back(static_cast<int>(n));
  }
  return nodes;
}

Program pool_manager_program(std::vector<platform::NodeDescriptor> nodes, PolicyFactory policy,
                             PoolManagerOptions options, std::shared_ptr<const AgentDirectory> agents) {
  return [nodes, policy, options, agents](Equus& eq) {
    PoolManager pm(eq, nodes, policy(), options, *agents);
    std::vector<std::byte> buf(512);
    for (;;) {
      Msg m;
      int h = services::next_request(eq, m, buf);
      auto req = ServiceRequest::decode(m);
      if (req.op == PM_ALLOC) {
        PlaceRequest r{req.rdc, static_cast<uint32_t>(std::max(0, req.count)), {}, req.arg};
        pm.alloc(Pending{r, split_groups(services::label_of(m, buf)), h});
      } else if (req.op == PM_RELEASE) {
        pm.release(h, req.rdc);
      } else {
        services::reply_status(eq, h, SVC_REFUSED);
      }
    }
  };
}

Program agent_program(int node, std::vector<platform::NodeDescriptor> nodes, PolicyFactory policy,
                      PoolManagerOptions options, std::shared_ptr<const AgentDirectory> agents) {
  return [node, nodes, policy, options, agents](Equus& eq) {
    auto mine = policy();
    Streams streams;
    AgentContext ctx(eq, node, nodes, options, *agents, streams);
    std::vector<std::byte> buf(512);
    for (;;) {
      Msg m;
      int h = services::next_request(eq, m, buf);
      auto req = ServiceRequest::decode(m);
      if (req.op == AGENT_PROBE) {
        NodeLoad l;
        eq.inc_nodeLoad(static_cast<unsigned>(node), &l);
        Msg r;
        ServiceReply{SVC_OK, l.run_queue}.encode(r);
        r.put<double>(8, l.load);
        r.put<double>(16, l.read_at);
        eq.inc_reply(h, &r);
      } else if (req.op == AGENT_PLACE) {
        PlaceRequest r{req.rdc, static_cast<uint32_t>(std::max(0, req.count)), {}, req.arg};
        for (const auto& g : split_groups(services::label_of(m, buf))) r.groups.insert(g);
        reply_nodes(eq, h, mine->place(r, ctx));
      } else {
        services::reply_status(eq, h, SVC_REFUSED);
      }
    }
  };
}

}  // namespace equus::pool
