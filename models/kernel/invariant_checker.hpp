// The communications invariant of Chapter 6 and Section 8.5, checked on every run: on every stream,
// reliably sent invocation messages are received exactly once, and in sending order, across any
// reconfiguration and migration.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/kernel/types.hpp"

namespace equus::kernel {

struct Invocation;
class Network;

class InvariantChecker {
 public:
  /// A reconfiguration or migration begins; its identifier is stamped on the messages it forwards.
  uint64_t reconfiguration(std::string what);
  const std::string& describe(uint64_t reconfig) const;

  void sent(const Invocation& inv);
  /// The send failed (no acknowledgement or reply): the message may or may not have arrived.
  void failed(const Invocation& inv);
  /// The message was queued at a port that was closed or whose incarnation ended.
  void discarded(const Invocation& inv);
  void received(const Invocation& inv, const std::string& receiver);
  /// A reconfiguration took the message from a queue to forward it (inv.reconfig says which).
  void forwarded(const Invocation& inv);
  /// A reconfiguration that leaves the original port's queue where it is (a propagation retaining it,
  /// an attachment without move_q, a rebinding with NO_PORT) may legitimately reorder (footnote 3 of
  /// Section 8.5): from then on order is not checked, only exactly-once delivery.
  void relax_order() { relaxed_ = true; }

  /// End of run: messages sent, not received, not failed or discarded and queued nowhere are lost.
  void finish(Network& net);
  const std::vector<std::string>& violations() const { return violations_; }

 private:
  struct StreamLog {
    uint64_t sent = 0;  // sequence numbers 0..sent-1 were sent reliably
    uint64_t highest = 0;
    bool any = false;
    std::vector<char> received;
    std::vector<char> excused;
    int sender_node = -1;
    uint64_t reconfig = 0;  // the last reconfiguration that forwarded one of its messages
  };
  void violation(const Invocation& inv, const std::string& what);
  std::unordered_map<GlobalId, StreamLog> streams_;
  std::vector<std::string> reconfigs_{"none"};
  std::vector<std::string> violations_;
  bool relaxed_ = false;
};

}  // namespace equus::kernel
