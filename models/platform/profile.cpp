#include "models/platform/profile.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "models/params/params.hpp"
#include "models/platform/network_interconnect.hpp"
#include "models/platform/vme_interconnect.hpp"
#include "models/support/overloaded.hpp"

using json = nlohmann::json;

namespace equus::platform {

namespace {

/// Reads one profile file, naming "<file>: <pointer>" in every error.
class ProfileReader {
 public:
  explicit ProfileReader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& pointer, const std::string& what) const {
    throw PoolFileError(file_ + ": " + pointer + ": " + what);
  }
  const json& object(const json& j, const std::string& pointer) const {
    if (!j.is_object()) fail(pointer, "must be an object");
    return j;
  }
  std::string string(const json& j, const std::string& key, const std::string& pointer) const {
    if (!j.contains(key) || !j[key].is_string()) fail(pointer + "/" + key, "must be a string");
    return j[key].get<std::string>();
  }
  /// {"value": v, "unit": u, "provenance": p}: a named cost, converted to SI.
  double quantity(const json& j, const std::string& key, params::Dimension dim,
                  const std::string& pointer) const {
    std::string where = pointer + "/" + key;
    if (!j.contains(key) || !j[key].is_object() || !j[key].contains("value") ||
        !j[key]["value"].is_number() || !j[key].contains("unit") || !j[key]["unit"].is_string() ||
        !j[key].contains("provenance"))
      fail(where, "needs a numeric \"value\", a \"unit\" and a \"provenance\"");
    try {
      return params::to_si(j[key]["value"].get<double>(), j[key]["unit"].get<std::string>(), dim,
                           file_ + ": " + where);
    } catch (const params::ParamError& e) {
      throw PoolFileError(e.what());
    }
  }

  InterconnectSpec interconnect(const json& j, const std::string& p) const {
    object(j, p);
    std::string type = string(j, "type", p);
    using D = params::Dimension;
    if (type == "vme") return link::VmeBus{};
    if (type == "ethernet")
      return link::SharedEthernet{quantity(j, "bandwidth", D::Rate, p), quantity(j, "latency", D::Time, p)};
    if (type == "switched")
      return link::Switched{
          quantity(j, "link_bandwidth", D::Rate, p), quantity(j, "link_latency", D::Time, p),
          quantity(j, "backbone_bandwidth", D::Rate, p), quantity(j, "backbone_latency", D::Time, p)};
    fail(p + "/type", "unknown interconnect '" + type + "' (known: vme, ethernet, switched)");
  }

  std::vector<NodeDescriptor> nodes(const json& j, const std::string& p, const std::string& data_dir,
                                    int node_count) const {
    object(j, p);
    if (j.contains("file")) {
      if (node_count > 0) fail(p + "/file", "a pool read from a node file has its own size: no node count");
      return load_node_descriptors(data_dir + "/" + string(j, "file", p));
    }
    if (!j.contains("generate")) fail(p, "needs \"file\" (a node descriptor file) or \"generate\"");
    const json& g = object(j["generate"], p + "/generate");
    std::string gp = p + "/generate";
    NodeRule rule;
    if (!g.contains("count") || !g["count"].is_number_integer() || g["count"].get<int64_t>() < 1 ||
        g["count"].get<int64_t>() > 65536)
      fail(gp + "/count", "must be a whole number from 1 to 65536");
    rule.count = node_count > 0 ? node_count : g["count"].get<int>();
    if (g.contains("name")) rule.name = string(g, "name", gp);
    if (rule.name.find("{i}") == std::string::npos) fail(gp + "/name", "must contain {i} (the node's index)");
    if (g.contains("first_id")) {
      std::string id = string(g, "first_id", gp);
      try {
        std::size_t pos = 0;
        rule.first_id = static_cast<unsigned>(std::stoul(id, &pos, 16));
        if (pos != id.size()) throw std::invalid_argument(id);
      } catch (const std::exception&) {
        fail(gp + "/first_id", "must be a hexadecimal kernel id such as \"0x201\"");
      }
    }
    if (g.contains("groups")) {
      if (!g["groups"].is_array() || g["groups"].empty())
        fail(gp + "/groups", "must be a non-empty array of names");
      rule.groups.clear();
      for (std::size_t i = 0; i < g["groups"].size(); ++i) {
        if (!g["groups"][i].is_string()) fail(gp + "/groups/" + std::to_string(i), "must be a string");
        rule.groups.push_back(g["groups"][i].get<std::string>());
      }
    }
    if (g.contains("type")) rule.type = string(g, "type", gp);
    if (g.contains("memory")) rule.memory_bytes = quantity(g, "memory", params::Dimension::Bytes, gp);
    return generate_nodes(rule);
  }

 private:
  std::string file_;
};

}  // namespace

std::vector<NodeDescriptor> generate_nodes(const NodeRule& rule) {
  std::vector<NodeDescriptor> out;
  out.reserve(static_cast<std::size_t>(std::max(rule.count, 0)));
  for (int i = 0; i < rule.count; ++i) {
    NodeDescriptor d;
    d.kernel_id = rule.first_id + static_cast<unsigned>(i);
    d.name = rule.name;
    d.name.replace(d.name.find("{i}"), 3, std::to_string(i + 1));
    d.groups = rule.groups;
    d.type = rule.type;
    d.memory_bytes = rule.memory_bytes;
    d.characteristics = {fmt::format("{}mb", rule.memory_bytes / (1024 * 1024))};
    out.push_back(std::move(d));
  }
  return out;
}

PlatformProfile load_profile(const std::string& name_or_path, const std::string& data_dir, int node_count) {
  namespace fs = std::filesystem;
  bool is_path = name_or_path.find('/') != std::string::npos || fs::path(name_or_path).extension() == ".json";
  std::string file =
      is_path ? name_or_path : data_dir + "/models/platform/profiles/" + name_or_path + ".json";
  std::ifstream in(file);
  if (!in) {
    auto names = profile_names(data_dir);
    throw PoolFileError(is_path ? file + ": cannot open the platform profile"
                                : fmt::format("unknown platform profile '{}' (known: {})", name_or_path,
                                              fmt::join(names, ", ")));
  }
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    throw PoolFileError(file + ": invalid JSON (" + std::string(e.what()) + ")");
  }
  ProfileReader r(file);
  r.object(doc, "");
  for (const auto& [key, value] : doc.items())
    if (key != "name" && key != "description" && key != "nodes" && key != "interconnect")
      r.fail("/" + key, "unknown key (known: name, description, nodes, interconnect)");
  PlatformProfile p;
  p.name = r.string(doc, "name", "");
  p.description = doc.value("description", "");
  if (!doc.contains("nodes")) r.fail("/nodes", "is required");
  p.nodes = r.nodes(doc["nodes"], "/nodes", data_dir, node_count);
  if (!doc.contains("interconnect")) r.fail("/interconnect", "is required");
  p.interconnect = r.interconnect(doc["interconnect"], "/interconnect");
  return p;
}

std::vector<std::string> profile_names(const std::string& data_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(data_dir + "/models/platform/profiles", ec))
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::unique_ptr<Interconnect> make_interconnect(const InterconnectSpec& spec, const vme::VmeParams& vme) {
  return std::visit(Overloaded{
                        [&](const link::VmeBus&) -> std::unique_ptr<Interconnect> {
                          return std::make_unique<VmeInterconnect>(vme);
                        },
                        [](const link::SharedEthernet&) -> std::unique_ptr<Interconnect> {
                          return std::make_unique<NetworkInterconnect>("ethernet");
                        },
                        [](const link::Switched&) -> std::unique_ptr<Interconnect> {
                          return std::make_unique<NetworkInterconnect>("switched");
                        },
                    },
                    spec);
}

}  // namespace equus::platform
