#include "models/pool/pool_manager.hpp"

#include <xbt/log.h>

#include <map>
#include <sstream>
#include <string>

#include "models/kernel/equus.hpp"
#include "models/services/services.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus);
XBT_LOG_NEW_SUBCATEGORY(equus_pool, equus, "The pool: its manager, policies, launches and administrator");
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(pool_manager, equus_pool, "The pool manager: allocation, queueing, release");

using namespace equus::kernel;

namespace equus::pool {

namespace {

/// Allocates `chosen` to `rdc` and builds the reply: the node list as reply data.
void allocate(Equus& eq, int handle, GlobalId rdc, const std::vector<uint32_t>& chosen,
              std::map<int, GlobalId>& owner) {
  XBT_VERB("RDC %llx gets %zu node(s), the first %u", static_cast<unsigned long long>(rdc), chosen.size(),
           chosen.empty() ? 0u : chosen.front());
  for (auto n : chosen) {
    eq.inc_nodeAlloc(n, rdc);
    owner[static_cast<int>(n)] = rdc;
  }
  Msg r;
  ServiceReply{SVC_OK, static_cast<int32_t>(chosen.size())}.encode(r);
  r.m_base = reinterpret_cast<std::byte*>(const_cast<uint32_t*>(chosen.data()));
  r.m_cnt = static_cast<uint32_t>(4 * chosen.size());
  eq.inc_reply(handle, &r);
}

/// Withdraws every node of `rdc`, with kill.
void release(Equus& eq, GlobalId rdc, std::map<int, GlobalId>& owner) {
  for (auto it = owner.begin(); it != owner.end();) {
    if (it->second == rdc) {
      eq.inc_nodeWithdraw(static_cast<unsigned>(it->first), rdc, 1);
      it = owner.erase(it);
    } else {
      ++it;
    }
  }
}

/// The pool manager's state and its answers to the node protocol.
class PoolManager {
 public:
  PoolManager(Equus& eq, const std::vector<platform::NodeDescriptor>& nodes, Policy& policy,
              PoolManagerOptions options)
      : eq_(eq), nodes_(nodes), policy_(policy), options_(options) {}

  void alloc(int handle, const AllocRequest& req) {
    PoolView view{nodes_, owner_};
    if (view.capacity(req.groups) < req.nodes) {  // never satisfiable: refuse at once
      XBT_VERB("RDC %llx asks %u nodes; its groups hold %u: refused",
               static_cast<unsigned long long>(req.rdc), req.nodes, view.capacity(req.groups));
      services::reply_status(eq_, handle, SVC_REFUSED);
      return;
    }
    if (queue_.empty()) {  // nobody waits before it
      auto chosen = policy_.place(req, view);
      if (chosen.size() >= req.nodes) {
        allocate(eq_, handle, req.rdc, chosen, owner_);
        return;
      }
    }
    if (queue_.size() >= options_.queue_limit) {
      XBT_VERB("RDC %llx refused: %zu launches wait already", static_cast<unsigned long long>(req.rdc),
               queue_.size());
      services::reply_status(eq_, handle, SVC_REFUSED);
      return;
    }
    XBT_VERB("RDC %llx waits for %u nodes (%zu before it)", static_cast<unsigned long long>(req.rdc),
             req.nodes, queue_.size());
    queue_.push_back(req);
    handles_.push_back(handle);
    eq_.record("pool_queue_length", static_cast<double>(queue_.size()));
  }

  void release(int handle, GlobalId rdc) {
    pool::release(eq_, rdc, owner_);
    services::reply_status(eq_, handle, SVC_OK);
    admit_waiting();
  }

 private:
  /// Serves waiting requests, in the policy's order, while it finds nodes for them.
  void admit_waiting() {
    for (;;) {
      PoolView view{nodes_, owner_};
      auto next = policy_.admit(queue_, view);
      if (!next || *next >= queue_.size()) return;
      auto chosen = policy_.place(queue_[*next], view);
      if (chosen.size() < queue_[*next].nodes) return;
      allocate(eq_, handles_[*next], queue_[*next].rdc, chosen, owner_);
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(*next));
      handles_.erase(handles_.begin() + static_cast<std::ptrdiff_t>(*next));
      eq_.record("pool_queue_length", static_cast<double>(queue_.size()));
    }
  }

  Equus& eq_;
  const std::vector<platform::NodeDescriptor>& nodes_;
  Policy& policy_;
  PoolManagerOptions options_;
  std::map<int, GlobalId> owner_;    // node -> RDC it is allocated to
  std::vector<AllocRequest> queue_;  // waiting, oldest first
  std::vector<int> handles_;         // their deferred reply handles
};

}  // namespace

Program pool_manager_program(std::vector<platform::NodeDescriptor> nodes, std::shared_ptr<Policy> policy,
                             PoolManagerOptions options) {
  return [nodes, policy, options](Equus& eq) {
    PoolManager pm(eq, nodes, *policy, options);
    std::vector<std::byte> buf(512);
    for (;;) {
      Msg m;
      int h = services::next_request(eq, m, buf);
      auto [op, count, rdc] = ServiceRequest::decode(m);
      if (op == PM_ALLOC) {
        AllocRequest req{rdc, static_cast<uint32_t>(count), {}};
        std::istringstream in(services::label_of(m, buf));
        for (std::string g; std::getline(in, g, ',');) req.groups.insert(g);
        pm.alloc(h, req);
      } else if (op == PM_RELEASE) {
        pm.release(h, rdc);
      } else {
        services::reply_status(eq, h, SVC_REFUSED);
      }
    }
  };
}

}  // namespace equus::pool
