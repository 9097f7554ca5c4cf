#include "models/services/services.hpp"

#include <xbt/log.h>

#include <deque>
#include <map>
#include <string>

#include "models/kernel/equus.hpp"
#include "models/kernel/incarnation.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus);
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(equus_services, equus,
                                "The system RDC's services: stream space, name service");

using namespace equus::kernel;

namespace equus::services {

std::string label_of(const Msg& m, const std::vector<std::byte>& buf) {
  std::string s(reinterpret_cast<const char*>(buf.data()), m.m_cnt);
  return s.substr(0, s.find('\0'));  // labels may come in a larger, zero-padded buffer
}

/// Waits for the next request at the server's standard port; the invoker stays blocked until replied
/// to. Returns the reply handle, with the label (extra data) in `buf`.
int next_request(Equus& eq, Msg& m, std::vector<std::byte>& buf) {
  for (;;) {
    m = Msg{};
    m.m_base = buf.data();
    m.m_cnt = static_cast<uint32_t>(buf.size());
    int h = eq.inc_receive(eq.incarnation().defaults().std_port, &m, 1, 0, -1);
    if (h > 1) return h;
  }
}

void reply_status(Equus& eq, int handle, uint32_t status, RefDescrip ref) {
  Msg r;
  ServiceReply{static_cast<ServiceStatus>(status), 0}.encode(r);
  r.m_ref = ref;
  eq.inc_reply(handle, &r);
}

Program stream_space_program() {
  return [](Equus& eq) {
    struct Entry {
      RefDescrip ref;  // our copy, propagated (kept) to each getter
      int32_t copies = SS_UNLIMITED;
      int available = 0;
    };
    std::map<std::string, Entry> space;
    std::map<std::string, std::deque<int>> waiting;  // reply handles of blocked ss_get callers
    std::vector<std::byte> buf(256);
    auto serve = [&](const std::string& label) {
      auto it = space.find(label);
      auto& q = waiting[label];
      while (it != space.end() && !q.empty() && (it->second.copies <= 0 || it->second.available > 0)) {
        if (it->second.copies > 0) --it->second.available;
        RefDescrip ref = it->second.ref;
        ref.rd_keep = true;
        Msg r;
        ServiceReply{SVC_OK, it->second.copies}.encode(r);
        r.m_ref = ref;
        eq.inc_reply(q.front(), &r);
        q.pop_front();
      }
    };
    for (;;) {
      Msg m;
      int h = next_request(eq, m, buf);
      std::string label = label_of(m, buf);
      auto req = ServiceRequest::decode(m);
      XBT_DEBUG("stream space: operation %u on '%s'", static_cast<unsigned>(req.op), label.c_str());
      switch (req.op) {
        case SS_PUT: {
          Entry e{m.m_ref, req.count, 0};
          // A unicast port has one holder: at most one copy is taken out at a time (6.2.1).
          if (auto* port = eq.incarnation().ref<PortRef>(m.m_ref.rd_obj);
              m.m_ref.rd_type == RefType::Port && port && port->type() == ChanType::Unicast)
            e.copies = 1;
          e.available = e.copies > 0 ? e.copies : 0;
          space[label] = e;
          reply_status(eq, h, SVC_OK);
          serve(label);
          break;
        }
        case SS_GET:
          waiting[label].push_back(h);  // answered when available: ss_get blocks indefinitely
          serve(label);
          break;
        case SS_RETURN: {
          auto it = space.find(label);
          if (it != space.end() && it->second.copies > 0) ++it->second.available;
          reply_status(eq, h, it == space.end() ? SVC_UNKNOWN : SVC_OK);
          serve(label);
          break;
        }
        case SS_DELETE:
          reply_status(eq, h, space.erase(label) ? SVC_OK : SVC_UNKNOWN);
          break;
        case SS_PRINT:
          eq.record("ss_entries", static_cast<double>(space.size()));
          reply_status(eq, h, SVC_OK);
          break;
        default:
          reply_status(eq, h, SVC_REFUSED);
      }
    }
  };
}

Program name_service_program() {
  return [](Equus& eq) {
    std::map<std::string, RefDescrip> names;
    std::vector<std::byte> buf(256);
    for (;;) {
      Msg m;
      int h = next_request(eq, m, buf);
      std::string name = label_of(m, buf);
      auto op = ServiceRequest::decode(m).op;
      XBT_DEBUG("name service: operation %u on '%s'", static_cast<unsigned>(op), name.c_str());
      if (op == NS_REGISTER) {
        names[name] = m.m_ref;
        reply_status(eq, h, SVC_OK);
      } else if (op == NS_LOOKUP) {
        auto it = names.find(name);
        if (it == names.end()) {
          reply_status(eq, h, SVC_UNKNOWN);  // fails at once (Section 5.5, unlike stream space)
        } else {
          RefDescrip ref = it->second;
          ref.rd_keep = true;
          reply_status(eq, h, SVC_OK, ref);
        }
      } else {
        reply_status(eq, h, SVC_REFUSED);
      }
    }
  };
}

}  // namespace equus::services
