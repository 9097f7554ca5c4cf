// What addresses at one node resolve to: its kernel ports, its global-identifier database (Section
// 8.4.2) and its redirection entries for kernel ports that moved away (Section 8.5.1).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "models/kernel/kernel_port.hpp"
#include "models/kernel/model_params.hpp"

namespace equus::kernel {

class PortTable {
 public:
  explicit PortTable(const params::ModelParams& params) : params_(params) {}

  // ---- kernel ports, by index
  KernelPort& create(Incarnation* owner, bool ghost);
  void erase(uint32_t index) { kports_.erase(index); }
  KernelPort* find(uint32_t index) const;
  bool contains(uint32_t index) const { return kports_.count(index) != 0; }
  /// Takes a kernel port object over from another node (migration): it gets an index here.
  KernelPort& adopt(std::unique_ptr<KernelPort> kp);
  std::unique_ptr<KernelPort> release(uint32_t index);
  void for_each(const std::function<void(const KernelPort&)>& f) const;

  // ---- global-identifier database
  void db_enter(GlobalId gid, DeliveryType type, KernelPortAddr port);
  void db_remove(GlobalId gid, DeliveryType type, KernelPortAddr port);
  std::vector<KernelPortAddr> db_lookup(GlobalId gid, DeliveryType type) const;
  /// CPU to search the database, which grows with its entries.
  double db_search_cost() const;

  // ---- redirection entries: arrivals for a deleted kernel port follow them; the oldest is dropped
  // when the table is full.
  void redirect(uint32_t old_index, KernelPortAddr to);
  std::optional<KernelPortAddr> redirection(uint32_t index) const;

 private:
  const params::ModelParams& params_;
  std::unordered_map<uint32_t, std::unique_ptr<KernelPort>> kports_;
  uint32_t next_kport_ = 1;
  std::unordered_multimap<GlobalId, std::pair<DeliveryType, KernelPortAddr>> db_;
  std::deque<std::pair<uint32_t, KernelPortAddr>> redirections_;
};

}  // namespace equus::kernel
