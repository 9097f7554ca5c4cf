// At-most-once delivery (Section 8.4.1): the requests and asynchronous messages a node has received,
// by sender and transaction, with the reply once there is one. A retry of one already seen is not
// delivered again but answered from here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>

#include "models/kernel/messages.hpp"

namespace equus::kernel {

class ReplyCache {
 public:
  struct Entry {
    bool replied = false;
    bool pending = false;  // made pending at a moving port: retries are ignored until it is forwarded
    KernelMessage reply;
    double time = 0;
  };

  /// The entry of transaction `xid` from `node`; nullptr if not seen.
  Entry* find(int node, uint64_t xid);
  /// Records the transaction as seen now, unless it was already (its entry is then kept as it is).
  /// Returns whether it is new.
  bool insert(int node, uint64_t xid);
  /// Records the transaction as seen now, afresh.
  void renew(int node, uint64_t xid);
  void erase(int node, uint64_t xid) { seen_.erase(Key{node, xid}); }
  /// A retry of a known transaction arrived: it is still in use, so it is aged from now.
  void touch(Entry& e);
  /// Keeps `reply` as the transaction's answer, if it is known (aged from now: its invoker may retry
  /// for a retry cycle after the reply, whatever the delay before it).
  void store(int node, uint64_t xid, const KernelMessage& reply);
  /// Drops the replies not used since `older_than`; a transaction not yet replied to stays known for
  /// as long as it is attached, or its retries would be delivered again. An entry is kept while its
  /// retries keep arriving (at-most-once however slow the interconnect: a retry that found its entry
  /// gone would be delivered a second time).
  void expire(double older_than);
  /// Copies the entries `to` does not have (a migration: retries follow the incarnation there).
  void copy_to(ReplyCache& to) const;

 private:
  struct Key {
    int node;
    uint64_t xid;
    bool operator==(const Key& o) const { return node == o.node && xid == o.xid; }
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.xid * 1315423911u + k.node); }
  };
  struct Queued {
    Key key;
    double queued;  // when put in order_ (an entry's own time may be later: used since)
  };
  std::unordered_map<Key, Entry, KeyHash> seen_;
  std::deque<Queued> order_;  // by queueing time, oldest first
};

}  // namespace equus::kernel
