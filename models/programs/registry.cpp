#include "models/programs/registry.hpp"

#include <map>
#include <mutex>
#include <stdexcept>

namespace equus::programs {

namespace {

std::mutex registry_mutex;  // Python may validate scenarios from several threads

std::map<std::string, ProgramFactory>& registry() {
  static std::map<std::string, ProgramFactory> r;
  return r;
}

}  // namespace

void register_program(const std::string& name, ProgramFactory factory) {
  std::lock_guard lock(registry_mutex);
  registry()[name] = std::move(factory);
}

bool has_program(const std::string& name) {
  std::lock_guard lock(registry_mutex);
  return registry().count(name) > 0;
}

kernel::Program find_program(const std::string& name) {
  ProgramFactory factory;
  {
    std::lock_guard lock(registry_mutex);
    auto it = registry().find(name);
    if (it == registry().end()) throw std::runtime_error("no C++ program registered as '" + name + "'");
    factory = it->second;
  }
  return factory();
}

std::vector<std::string> program_names() {
  std::lock_guard lock(registry_mutex);
  std::vector<std::string> out;
  for (const auto& [name, factory] : registry()) out.push_back(name);
  return out;
}

}  // namespace equus::programs
