// The one registry of C++ module programs, by name: scenarios' {"cpp": name} names them, the scenario
// checker asks whether a name is registered and the run makes the program.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "models/kernel/rdc.hpp"

namespace equus::programs {

using ProgramFactory = std::function<kernel::Program()>;

/// Registers (or replaces) the program `name`; thread-safe.
void register_program(const std::string& name, ProgramFactory factory);
bool has_program(const std::string& name);
/// A new instance of `name`; throws std::runtime_error naming `name` if it is not registered.
kernel::Program find_program(const std::string& name);
/// The registered names, in order.
std::vector<std::string> program_names();

}  // namespace equus::programs
