#include "models/kernel/port_table.hpp"

#include <algorithm>

namespace equus::kernel {

KernelPort& PortTable::create(Incarnation* owner, bool ghost) {
  auto kp = std::make_unique<KernelPort>();
  kp->index = next_kport_++;
  kp->owner = owner;
  kp->ghost = ghost;
  auto& ref = *kp;
  kports_.emplace(ref.index, std::move(kp));
  return ref;
}

KernelPort* PortTable::find(uint32_t index) const {
  auto it = kports_.find(index);
  return it == kports_.end() ? nullptr : it->second.get();
}

KernelPort& PortTable::adopt(std::unique_ptr<KernelPort> kp) {
  kp->index = next_kport_++;
  auto& ref = *kp;
  kports_.emplace(ref.index, std::move(kp));
  return ref;
}

std::unique_ptr<KernelPort> PortTable::release(uint32_t index) {
  auto it = kports_.find(index);
  if (it == kports_.end()) return nullptr;
  auto kp = std::move(it->second);
  kports_.erase(it);
  return kp;
}

void PortTable::for_each(const std::function<void(const KernelPort&)>& f) const {
  for (const auto& [i, kp] : kports_) f(*kp);
}

void PortTable::db_enter(GlobalId gid, DeliveryType type, KernelPortAddr port) {
  db_.emplace(gid, std::make_pair(type, port));
}

void PortTable::db_remove(GlobalId gid, DeliveryType type, KernelPortAddr port) {
  auto [b, e] = db_.equal_range(gid);
  for (auto it = b; it != e; ++it)
    if (it->second.first == type && it->second.second == port) {
      db_.erase(it);
      return;
    }
}

std::vector<KernelPortAddr> PortTable::db_lookup(GlobalId gid, DeliveryType type) const {
  std::vector<KernelPortAddr> out;
  auto [b, e] = db_.equal_range(gid);
  for (auto it = b; it != e; ++it)
    if (it->second.first == type) out.push_back(it->second.second);
  return out;
}

double PortTable::db_search_cost() const {
  return params_.cpu.db_search_per_entry * static_cast<double>(db_.size());
}

void PortTable::redirect(uint32_t old_index, KernelPortAddr to) {
  auto limit = static_cast<std::size_t>(std::max(1, params_.kernel.redirection_entries));
  while (redirections_.size() >= limit) redirections_.pop_front();  // the oldest goes
  redirections_.emplace_back(old_index, to);
}

std::optional<KernelPortAddr> PortTable::redirection(uint32_t index) const {
  for (auto it = redirections_.rbegin(); it != redirections_.rend(); ++it)
    if (it->first == index) return it->second;
  return std::nullopt;
}

}  // namespace equus::kernel
