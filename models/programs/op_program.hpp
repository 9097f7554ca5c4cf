// Module programs written in the scenario op language (docs/scenarios.md, typed in ops.hpp). An op
// program is interpreted by the system incarnation that runs it: each op is the Equus call it names,
// so its costs are the kernel's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "models/kernel/rdc.hpp"
#include "models/programs/ops.hpp"

namespace equus::programs {

/// A change of the configuration made by a program or a scenario event (Chapter 6, Section 7.4).
struct Reconfiguration {
  std::string kind;  // attach_port, rebind_stream, freeze_stream, unfreeze_stream, migrate, propagate_port
  kernel::GlobalId by = 0;  // the incarnation that made it
  std::string origin;       // "program" or "event"
  std::string detail;       // what it named (labels, interface names, node)
};

/// What an op program needs from the run hosting it; every member may be empty.
struct OpHooks {
  /// Pool index of a node named by name or hexadecimal id; -1 if unknown.
  std::function<int(const std::string&)> node_index;
  /// A reconfiguration begins (returns a token for `reconfigured`) and ends with an Equus status.
  std::function<uint64_t(const Reconfiguration&)> reconfiguring;
  std::function<void(uint64_t token, int status)> reconfigured;
  /// An incarnation the program created, under the name the program gave its handle.
  std::function<void(kernel::GlobalId inc, const std::string& name)> named;
  /// The program stopped on an error: a computed value out of range, a loop that never yields (JSON
  /// pointer from the op array's root).
  std::function<void(const std::string& pointer, const std::string& message)> error;
};

/// The interpreter's limits: named in models/programs/programs.json.
struct OpLimits {
  /// Ops one program may run at one simulated instant (a loop whose body takes no time never yields).
  int max_steps_per_instant = 0;

  /// The limits in `dir`/models/programs/programs.json; throws params::ParamError.
  static OpLimits load(const std::string& dir);
  /// The shipped ones (params::data_dir()), loaded once.
  static const OpLimits& shipped();
};

/// The program of a module whose `program` is {"ops": [...]}, parsed by ops::parse_ops. An op that stops
/// on an error calls `hooks.error` with its pointer from the op array (or throws ops::OpError).
kernel::Program op_program(std::shared_ptr<const ops::Block> ops, OpHooks hooks = {},
                           OpLimits limits = OpLimits::shipped());

}  // namespace equus::programs
