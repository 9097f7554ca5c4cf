#include "models/params/params.hpp"

#include <xbt/log.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

// The simulator's root log category; each layer's categories hang below it (--log=equus.thres:debug
// shows everything, --log=equus_kernel.thres:debug one layer).
XBT_LOG_NEW_CATEGORY(equus, "The Equus simulator");
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(equus_params, equus, "Model parameters: loading and overrides");

namespace equus::params {

namespace {

/// models/params/ranges.json: a parameter's range beyond "finite and >= 0", in its file's unit.
struct Range {
  double min = 0, max = HUGE_VAL;
  bool above = false;  // min is exclusive
  std::string provenance;
};

const std::map<std::string, Range>& ranges() {
  static const std::map<std::string, Range> out = [] {
    std::map<std::string, Range> r;
    auto path = data_dir() + "/models/params/ranges.json";
    std::ifstream in(path);
    auto doc = nlohmann::json::parse(in, nullptr, false);
    if (!doc.is_object() || !doc.contains("ranges") || !doc["ranges"].is_object())
      throw ParamError(path + ": /ranges must be an object");
    for (const auto& [name, e] : doc["ranges"].items()) {
      Range range;
      range.above = e.contains("above");
      range.min = e.value(range.above ? "above" : "min", 0.0);
      range.max = e.value("max", HUGE_VAL);
      range.provenance = e.value("provenance", "");
      r[name] = range;
    }
    return r;
  }();
  return out;
}

/// Throws naming `where` if `value` (in the file's unit) is outside the range of parameter `name`.
void check_range(const std::string& name, double value, const std::string& where) {
  auto it = ranges().find(name);
  if (it == ranges().end()) return;
  const auto& r = it->second;
  bool low = r.above ? !(value > r.min) : !(value >= r.min);
  if (!low && !(value > r.max)) return;
  std::ostringstream msg;
  msg << where << ": " << value << " is outside " << (r.above ? "(" : "[") << r.min << ", ";
  if (std::isinf(r.max))
    msg << "inf)";
  else
    msg << r.max << "]";
  throw ParamError(msg.str() + " (" + r.provenance + ")");
}

}  // namespace

void Binder::operator()(const std::string& name, double& field, Dimension dim) {
  slots_[name] = Slot{dim, [&field](double v) { field = v; }};
}

void Binder::operator()(const std::string& name, int& field) {
  slots_[name] = Slot{Dimension::Count, [&field](double v) { field = static_cast<int>(std::lround(v)); }};
}

double to_si(double value, const std::string& unit, Dimension dim, const std::string& where) {
  static const std::map<std::string, std::pair<Dimension, double>> units = {
      {"s", {Dimension::Time, 1.0}},       {"ms", {Dimension::Time, 1e-3}},
      {"us", {Dimension::Time, 1e-6}},     {"bytes", {Dimension::Bytes, 1.0}},
      {"kB", {Dimension::Bytes, 1024.0}},  {"MB", {Dimension::Bytes, 1024.0 * 1024.0}},
      {"B/s", {Dimension::Rate, 1.0}},     {"MB/s", {Dimension::Rate, 1e6}},
      {"Mbit/s", {Dimension::Rate, 1e6 / 8}}, {"Gbit/s", {Dimension::Rate, 1e9 / 8}},
      {"Hz", {Dimension::Frequency, 1.0}}, {"count", {Dimension::Count, 1.0}},
      {"ratio", {Dimension::Ratio, 1.0}},
  };
  auto it = units.find(unit);
  if (it == units.end()) throw ParamError(where + ": unknown unit '" + unit + "'");
  if (it->second.first != dim) throw ParamError(where + ": unit '" + unit + "' does not fit this parameter");
  if (!std::isfinite(value) || value < 0)
    throw ParamError(where + ": value must be a finite non-negative number");
  return value * it->second.second;
}

void ParamSet::load(const std::string& path, const std::string& model, Binder& binder) {
  model_ = model;
  path_ = path;
  std::ifstream in(path);
  if (!in) throw ParamError(path + ": cannot open parameter file");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw ParamError(path + ": invalid JSON (" + std::string(e.what()) + ")");
  }
  if (!doc.contains("parameters") || !doc["parameters"].is_object())
    throw ParamError(path + ": /parameters must be an object");
  const auto& slots = binder.slots();
  for (const auto& [name, entry] : doc["parameters"].items()) {
    std::string where = path + ": /parameters/" + name;
    auto slot = slots.find(name);
    if (slot == slots.end()) throw ParamError(where + ": no such parameter in model '" + model + "'");
    if (!entry.is_object() || !entry.contains("value") || !entry["value"].is_number() ||
        !entry.contains("unit") || !entry["unit"].is_string() || !entry.contains("provenance"))
      throw ParamError(where + ": needs a numeric 'value', a 'unit' and a 'provenance'");
    ParamInfo info;
    info.name = model + "." + name;
    info.value = entry["value"].get<double>();
    info.unit = entry["unit"].get<std::string>();
    info.provenance = entry["provenance"].get<std::string>();
    info.description = entry.value("description", "");
    info.value_si = to_si(info.value, info.unit, slot->second.dim, where);
    check_range(info.name, info.value, where);
    slot->second.set(info.value_si);
    infos_.push_back(info);
  }
  for (const auto& [name, slot] : slots) {
    bool found = false;
    for (const auto& i : infos_) found = found || i.name == model + "." + name;
    if (!found) throw ParamError(path + ": /parameters/" + name + " is missing");
  }
}

std::vector<std::string> ParamSet::apply_overrides(const std::map<std::string, std::string>& overrides,
                                                   Binder& binder) {
  std::vector<std::string> used;
  std::string prefix = model_ + ".";
  for (const auto& [key, text] : overrides) {
    if (key.rfind(prefix, 0) != 0) continue;
    std::string name = key.substr(prefix.size());
    auto slot = binder.slots().find(name);
    if (slot == binder.slots().end())
      throw ParamError("override '" + key + "': no such parameter in model '" + model_ + "'");
    double v = 0;
    std::size_t pos = 0;
    try {
      v = std::stod(text, &pos);
    } catch (const std::exception&) {
      pos = 0;
    }
    if (pos == 0 || pos != text.size())
      throw ParamError("override '" + key + "': '" + text + "' is not a number");
    for (auto& info : infos_)
      if (info.name == key) {
        info.value_si = to_si(v, info.unit, slot->second.dim, "override '" + key + "'");
        check_range(key, v, "override '" + key + "'");
        info.value = v;
        info.provenance = "overridden";
        slot->second.set(info.value_si);
        XBT_VERB("%s overridden: %s %s", key.c_str(), text.c_str(), info.unit.c_str());
      }
    used.push_back(key);
  }
  return used;
}

std::string data_dir() {
  if (const char* env = std::getenv("EQUUS_DATA_DIR")) return env;
  return EQUUS_SOURCE_DIR;
}

}  // namespace equus::params
