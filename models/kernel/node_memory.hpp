// A node's memory as its loader manages it (Chapter 3, Section 8.3): the access list of RDCs that may
// use the node, the memory charged, and module texts shared by the incarnations using them.
#pragma once

#include <map>
#include <set>
#include <utility>

#include "models/kernel/model_params.hpp"
#include "models/kernel/types.hpp"

namespace equus::kernel {

class NodeMemory {
 public:
  explicit NodeMemory(const params::ModelParams& params) : params_(params) {}

  // ---- access list (inc_nodeAlloc / inc_nodeWithdraw)
  bool allows(GlobalId rdc) const { return acl_.count(rdc) != 0; }
  void set_access(GlobalId rdc, bool allow);

  // ---- memory: there is no virtual memory, so what is charged must fit
  double used() const { return used_; }
  double size() const { return params_.cpu.memory_bytes; }
  void charge(double bytes) { used_ += bytes; }
  /// `bytes` rounded up to whole pages (memory is allocated by the page).
  double round_to_pages(double bytes) const;
  /// Whether the module's text is already here (shared by its incarnations, Section 3.1).
  bool text_present(GlobalId rdc, int module) const;
  /// Counts incarnations using a module's text here; the text's memory is held while any does.
  void text_add(GlobalId rdc, int module, int delta, double text_bytes);

 private:
  const params::ModelParams& params_;
  std::set<GlobalId> acl_;
  std::map<std::pair<GlobalId, int>, std::pair<int, double>> texts_;  // users, bytes
  double used_ = 0;
};

}  // namespace equus::kernel
