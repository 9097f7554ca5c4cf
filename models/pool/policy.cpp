#include "models/pool/policy.hpp"

#include <stdexcept>

namespace equus::pool {

bool PoolView::in_groups(int node, const std::set<std::string>& groups) const {
  for (const auto& g : nodes[node].groups)
    if (groups.count(g)) return true;
  return false;
}

uint32_t PoolView::capacity(const std::set<std::string>& groups) const {
  uint32_t n = 0;
  for (int i = 0; i < static_cast<int>(nodes.size()); ++i) n += in_groups(i, groups);
  return n;
}

std::optional<std::size_t> Policy::admit(const std::vector<AllocRequest>& queue, const PoolView&) {
  if (queue.empty()) return std::nullopt;
  return 0;
}

std::vector<uint32_t> LowestFreePolicy::place(const AllocRequest& request, const PoolView& view) {
  std::vector<uint32_t> chosen;
  for (int n = 0; n < static_cast<int>(view.nodes.size()) && chosen.size() < request.nodes; ++n)
    if (view.in_groups(n, request.groups) && view.free(n)) chosen.push_back(static_cast<uint32_t>(n));
  return chosen;
}

std::unique_ptr<Policy> make_policy(const std::string& name) {
  if (name == "lowest_free") return std::make_unique<LowestFreePolicy>();
  throw std::invalid_argument("unknown pool policy '" + name + "' (known: lowest_free)");
}

}  // namespace equus::pool
