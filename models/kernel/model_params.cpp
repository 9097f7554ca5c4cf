#include "models/kernel/model_params.hpp"

#include <set>

namespace equus::params {

ModelParams ModelParams::load(const std::map<std::string, std::string>& overrides, const std::string& dir) {
  ModelParams p;
  std::set<std::string> used;
  auto load_one = [&](auto& target, const std::string& model, const std::string& file) {
    Binder b;
    target.bind(b);
    ParamSet set;
    set.load(dir + "/models/" + model + "/" + file, model, b);
    for (const auto& k : set.apply_overrides(overrides, b)) used.insert(k);
    p.infos.insert(p.infos.end(), set.infos().begin(), set.infos().end());
  };
  load_one(p.cpu, "m68030", "m68030.json");
  load_one(p.vme, "vme", "vme.json");
  load_one(p.kernel, "kernel", "kernel.json");
  load_one(p.host, "host", "host.json");
  for (const auto& [k, v] : overrides)
    if (!used.count(k))
      throw ParamError("override '" + k + "': unknown model (use m68030.*, vme.*, kernel.* or host.*)");
  if (p.cpu.speed_factor <= 0 || p.vme.bus_bandwidth <= 0 || p.vme.read_copy_rate <= 0 ||
      p.vme.write_copy_rate <= 0 || p.vme.packet_copy_rate <= 0 || p.cpu.local_copy_rate <= 0 ||
      p.cpu.local_bulk_copy_rate <= 0 || p.cpu.clock_hz <= 0 || p.host.disc_read_rate <= 0)
    throw ParamError("speeds, rates and clock_hz must be positive");
  return p;
}

}  // namespace equus::params
