// The overload set for std::visit over the variants every layer uses (messages, ops, events, policies,
// distributions, interconnects): one lambda per alternative, and the compiler says which is missing.
#pragma once

namespace equus {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace equus
