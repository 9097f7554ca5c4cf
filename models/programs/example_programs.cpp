#include "models/programs/example_programs.hpp"

#include <deque>
#include <utility>

#include "models/kernel/equus.hpp"
#include "models/programs/registry.hpp"

using namespace equus::kernel;

namespace equus::programs {

namespace {

/// The text processing scheduler: documents are submitted to it, workers invoke it for a task and
/// are left blocked until one is available (replies are deferred with reply handles); once the
/// manager closes the run, every worker gets a 0 task and the scheduler ends.
/// Protocol (header words): [1, doc, size] submit; [2] request a task -> [doc, size] or [0];
/// [3] no more documents. Interface 0 is its port; argument 0 the number of workers.
Program scheduler() {
  return [](Equus& eq) {
    enum : uint32_t { SUBMIT = 1, REQUEST = 2, CLOSE = 3 };
    int port = eq.inc_paramRef(0);
    int64_t workers = eq.params().args.empty() ? 1 : eq.params().args[0];
    std::deque<std::pair<uint32_t, uint32_t>> docs;
    std::deque<int> idle;  // reply handles of workers waiting for a task
    bool closed = false;
    int64_t released = 0;
    auto give = [&](int handle, uint32_t doc, uint32_t size) {
      Msg r;
      r.put<uint32_t>(0, doc);
      r.put<uint32_t>(4, size);
      eq.inc_reply(handle, &r);
    };
    while (released < workers) {
      Msg m;
      int h = eq.inc_receive(port, &m, 1, 0, -1);
      if (h <= 1) continue;
      switch (m.get<uint32_t>(0)) {
        case SUBMIT:
          docs.emplace_back(m.get<uint32_t>(4), m.get<uint32_t>(8));
          give(h, 0, 0);
          break;
        case REQUEST:
          idle.push_back(h);
          break;
        case CLOSE:
          closed = true;
          give(h, 0, 0);
          break;
        default:
          give(h, 0, 0);
      }
      while (!idle.empty() && !docs.empty()) {
        give(idle.front(), docs.front().first, docs.front().second);
        idle.pop_front();
        docs.pop_front();
      }
      while (closed && docs.empty() && !idle.empty()) {
        give(idle.front(), 0, 0);
        idle.pop_front();
        ++released;
      }
    }
  };
}

}  // namespace

void register_example_programs() { register_program("scheduler", scheduler); }

}  // namespace equus::programs
