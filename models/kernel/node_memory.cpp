#include "models/kernel/node_memory.hpp"

#include <cmath>

namespace equus::kernel {

double NodeMemory::round_to_pages(double bytes) const {
  double page = params_.cpu.page_bytes;
  return page > 0 ? std::ceil(bytes / page) * page : bytes;
}

void NodeMemory::set_access(GlobalId rdc, bool allow) {
  if (allow)
    acl_.insert(rdc);
  else
    acl_.erase(rdc);
}

bool NodeMemory::text_present(GlobalId rdc, int module) const {
  auto it = texts_.find({rdc, module});
  return it != texts_.end() && it->second.first > 0;
}

void NodeMemory::text_add(GlobalId rdc, int module, int delta, double text_bytes) {
  auto& [users, bytes] = texts_[{rdc, module}];
  if (users == 0 && delta > 0) {
    bytes = text_bytes;
    used_ += bytes;
  }
  users += delta;
  if (users == 0 && delta < 0) used_ -= bytes;
}

}  // namespace equus::kernel
