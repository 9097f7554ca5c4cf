#include "models/kernel/invariant_checker.hpp"

#include <fmt/format.h>

#include "models/kernel/kernel.hpp"

namespace equus::kernel {

namespace {
bool reliable(const Invocation& inv) {
  return inv.kind != InvokeKind::Dgram && !inv.multicast && !inv.forwarded;
}
void mark(std::vector<char>& v, uint64_t i) {
  if (v.size() <= i) v.resize(i + 1, 0);
  v[i] = 1;
}
bool marked(const std::vector<char>& v, uint64_t i) { return i < v.size() && v[i]; }
}  // namespace

uint64_t InvariantChecker::reconfiguration(std::string what) {
  reconfigs_.push_back(std::move(what));
  return reconfigs_.size() - 1;
}

const std::string& InvariantChecker::describe(uint64_t reconfig) const {
  return reconfigs_.at(reconfig < reconfigs_.size() ? reconfig : 0);
}

void InvariantChecker::sent(const Invocation& inv) {
  if (!reliable(inv)) return;
  auto& s = streams_[inv.stream];
  s.sent = std::max(s.sent, inv.stream_seq + 1);
  s.sender_node = inv.sender_node;
}

void InvariantChecker::failed(const Invocation& inv) {
  if (reliable(inv)) mark(streams_[inv.stream].excused, inv.stream_seq);
}

void InvariantChecker::discarded(const Invocation& inv) { failed(inv); }

void InvariantChecker::forwarded(const Invocation& inv) {
  if (reliable(inv)) streams_[inv.stream].reconfig = inv.reconfig;
}

void InvariantChecker::violation(const Invocation& inv, const std::string& what) {
  uint64_t rc = inv.reconfig ? inv.reconfig : streams_[inv.stream].reconfig;
  violations_.push_back(fmt::format("stream {:#x}: message #{} {}; reconfiguration involved: {}", inv.stream,
                                    inv.stream_seq, what, describe(rc)));
}

void InvariantChecker::received(const Invocation& inv, const std::string& receiver) {
  if (!reliable(inv)) return;
  auto& s = streams_[inv.stream];
  if (marked(s.received, inv.stream_seq)) {
    violation(inv, "received twice (by " + receiver + ")");
    return;
  }
  if (!relaxed_ && s.any && inv.stream_seq < s.highest)
    violation(inv, fmt::format("received by {} after #{}: out of sending order", receiver, s.highest));
  if (!relaxed_ && (s.any ? inv.stream_seq > s.highest + 1 : inv.stream_seq > 0)) {
    // Those skipped must have failed or been discarded, or they were lost or overtaken.
    for (uint64_t q = s.any ? s.highest + 1 : 0; q < inv.stream_seq; ++q)
      if (!marked(s.excused, q) && !marked(s.received, q)) {
        violation(inv, fmt::format("received by {} while #{} was not: lost or overtaken", receiver, q));
        break;
      }
  }
  mark(s.received, inv.stream_seq);
  if (!s.any || inv.stream_seq > s.highest) s.highest = inv.stream_seq;
  s.any = true;
}

void InvariantChecker::finish(Network& net) {
  // Still queued or pending somewhere: not lost.
  std::unordered_map<GlobalId, std::vector<char>> queued;
  auto note = [&](const Invocation& inv) { mark(queued[inv.stream], inv.stream_seq); };
  for (int n = 0; n < net.size(); ++n) net.kernel(n).for_each_queued(note);
  for (auto& [gid, s] : streams_)
    for (uint64_t q = 0; q < s.sent; ++q)
      if (!marked(s.received, q) && !marked(s.excused, q) && !marked(queued[gid], q)) {
        violations_.push_back(fmt::format(
            "stream {:#x}: message #{} was sent and acknowledged but never received nor queued: lost", gid,
            q));
        break;
      }
}

}  // namespace equus::kernel
