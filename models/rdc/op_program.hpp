// Module programs written in the scenario op language (docs/scenarios.md), and C++ module programs
// registered by name. An op program is interpreted by the system incarnation that runs it: each op
// is the Equus call it names, so its costs are the kernel's.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/kernel/rdc.hpp"

namespace equus::rdc {

/// The program of a module whose `program` is {"ops": [...]} (already validated).
kernel::Program op_program(const nlohmann::json& ops);

/// C++ programs for scenarios' {"cpp": name}: a factory per name.
void register_program(const std::string& name, std::function<kernel::Program()> factory);
/// Throws std::runtime_error naming `name` if it is not registered.
kernel::Program find_program(const std::string& name);
std::vector<std::string> program_names();

}  // namespace equus::rdc
