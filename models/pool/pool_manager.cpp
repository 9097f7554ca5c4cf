#include "models/pool/pool_manager.hpp"

#include <map>
#include <sstream>
#include <string>

#include "models/kernel/equus.hpp"
#include "models/services/services.hpp"

using namespace equus::kernel;

namespace equus::pool {

namespace {

/// Allocates `chosen` to `rdc` and builds the reply: the node list as reply data.
void allocate(Equus& eq, int handle, GlobalId rdc, const std::vector<uint32_t>& chosen,
              std::map<int, GlobalId>& owner) {
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

}  // namespace

Program pool_manager_program(std::vector<platform::NodeDescriptor> nodes, std::shared_ptr<Policy> policy) {
  return [nodes, policy](Equus& eq) {
    std::map<int, GlobalId> owner;  // node -> RDC it is allocated to
    std::vector<std::byte> buf(512);
    for (;;) {
      Msg m;
      int h = services::next_request(eq, m, buf);
      auto [op, count, rdc] = ServiceRequest::decode(m);
      if (op == PM_ALLOC) {
        AllocRequest req{rdc, static_cast<uint32_t>(count), {}};
        std::istringstream in(services::label_of(m, buf));
        for (std::string g; std::getline(in, g, ',');) req.groups.insert(g);
        auto chosen = policy->place(req, PoolView{nodes, owner});
        if (chosen.size() < req.nodes)
          services::reply_status(eq, h, SVC_REFUSED);
        else
          allocate(eq, h, rdc, chosen, owner);
      } else if (op == PM_RELEASE) {
        release(eq, rdc, owner);
        services::reply_status(eq, h, SVC_OK);
      } else {
        services::reply_status(eq, h, SVC_REFUSED);
      }
    }
  };
}

}  // namespace equus::pool
