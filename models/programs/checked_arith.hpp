// The op language's integer arithmetic and ranged values, checked when a program runs: an overflow or
// a value out of its range is an OpError naming the expression's JSON pointer, never undefined
// behaviour (INT64_MIN % -1 raised SIGFPE; a -1 byte count became a 4 GiB buffer).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>

#include "models/programs/ops.hpp"

namespace equus::programs::ops {

/// `a kind b`, or nothing if the result does not fit in 64 bits. A modulo by 0 is 0 (the language's
/// rule), and INT64_MIN % -1 is 0 (its true value, which the hardware division cannot compute).
inline std::optional<int64_t> checked_arith(Arith::Kind kind, int64_t a, int64_t b) {
  int64_t out = 0;
  switch (kind) {
    case Arith::Add:
      if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
      return out;
    case Arith::Sub:
      if (__builtin_sub_overflow(a, b, &out)) return std::nullopt;
      return out;
    case Arith::Mul:
      if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
      return out;
    case Arith::Mod:
      break;
  }
  return b == 0 || b == -1 ? 0 : a % b;
}

inline const char* arith_name(Arith::Kind kind) {
  static const char* const names[] = {"add", "sub", "mul", "mod"};
  return names[kind];
}

/// `a`'s operator applied to `x` and `y`; throws OpError at `a.where` on overflow.
inline int64_t arith_value(const Arith& a, int64_t x, int64_t y) {
  if (auto v = checked_arith(a.kind, x, y)) return *v;
  throw OpError(a.where, fmt::format("integer overflow: {} of {} and {} does not fit in 64 bits",
                                     arith_name(a.kind), x, y));
}

/// `v`, the computed value of `b`; throws OpError at `b.where` if it is out of `b`'s range.
inline int64_t bounded_value(const Bounded& b, int64_t v) {
  if (v >= b.min && v <= b.max) return v;
  throw OpError(b.where, fmt::format("computed value {} is out of range [{}, {}]", v, b.min, b.max));
}

}  // namespace equus::programs::ops
