#include "models/kernel/reply_cache.hpp"

#include <simgrid/s4u/Engine.hpp>

namespace sg = simgrid::s4u;

namespace equus::kernel {

ReplyCache::Entry* ReplyCache::find(int node, uint64_t xid) {
  auto it = seen_.find(Key{node, xid});
  return it == seen_.end() ? nullptr : &it->second;
}

bool ReplyCache::insert(int node, uint64_t xid) {
  Key key{node, xid};
  if (seen_.find(key) != seen_.end()) return false;
  double now = sg::Engine::get_clock();
  seen_.emplace(key, Entry{false, false, {}, now});
  order_.push_back({key, now});
  return true;
}

void ReplyCache::renew(int node, uint64_t xid) {
  Key key{node, xid};
  double now = sg::Engine::get_clock();
  if (seen_.find(key) == seen_.end()) order_.push_back({key, now});
  seen_[key] = Entry{false, false, {}, now};
}

void ReplyCache::touch(Entry& e) { e.time = sg::Engine::get_clock(); }

void ReplyCache::store(int node, uint64_t xid, const KernelMessage& reply) {
  auto it = seen_.find(Key{node, xid});
  if (it != seen_.end()) {
    it->second.replied = true;
    it->second.reply = reply;
    touch(it->second);
  }
}

void ReplyCache::expire(double older_than) {
  double now = sg::Engine::get_clock();
  // order_ is by queueing time: stop at the first queued since `older_than`, everything behind it too.
  while (!order_.empty() && order_.front().queued < older_than) {
    Key key = order_.front().key;
    order_.pop_front();
    auto it = seen_.find(key);
    if (it == seen_.end()) continue;
    if (it->second.replied && it->second.time < older_than) {
      seen_.erase(it);
    } else {  // used since it was queued, or not replied to yet (still attached): again from now
      if (!it->second.replied) it->second.time = now;
      order_.push_back({key, now});
    }
  }
}

void ReplyCache::copy_to(ReplyCache& to) const {
  double now = sg::Engine::get_clock();
  for (const auto& q : order_)
    if (auto s = seen_.find(q.key); s != seen_.end() && to.seen_.emplace(q.key, s->second).second)
      to.order_.push_back({q.key, now});
}

}  // namespace equus::kernel
