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
  seen_.emplace(key, Entry{false, false, {}, sg::Engine::get_clock()});
  order_.push_back(key);
  return true;
}

void ReplyCache::renew(int node, uint64_t xid) {
  Key key{node, xid};
  if (seen_.find(key) == seen_.end()) order_.push_back(key);
  seen_[key] = Entry{false, false, {}, sg::Engine::get_clock()};
}

void ReplyCache::store(int node, uint64_t xid, const KernelMessage& reply) {
  auto it = seen_.find(Key{node, xid});
  if (it != seen_.end()) {
    it->second.replied = true;
    it->second.reply = reply;
  }
}

void ReplyCache::expire(double older_than) {
  std::size_t n = order_.size();
  for (std::size_t i = 0; i < n && !order_.empty(); ++i) {
    Key key = order_.front();
    auto it = seen_.find(key);
    if (it != seen_.end() && it->second.time >= older_than) break;
    order_.pop_front();
    if (it == seen_.end()) continue;
    if (it->second.replied) {
      seen_.erase(it);
    } else {
      it->second.time = sg::Engine::get_clock();
      order_.push_back(key);
    }
  }
}

void ReplyCache::copy_to(ReplyCache& to) const {
  for (const auto& key : order_)
    if (auto s = seen_.find(key); s != seen_.end() && to.seen_.emplace(key, s->second).second)
      to.order_.push_back(key);
}

}  // namespace equus::kernel
