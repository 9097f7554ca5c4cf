// Named model parameters: every cost lives in a JSON data file with its unit and provenance and is
// bound here to a field of a typed struct, converted to SI (seconds, bytes, bytes/second).
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace equus::params {

/// What a parameter measures; the data file's unit must be one of the dimension's units.
enum class Dimension { Time, Bytes, Rate, Frequency, Count, Ratio };

/// One error line naming the place (file and JSON pointer, or override name).
class ParamError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ParamInfo {
  std::string name;  // qualified: "<model>.<name>"
  double value = 0;  // as written in the file, in `unit`
  std::string unit;
  std::string provenance;
  std::string description;
  double value_si = 0;
};

/// Binds parameter names to struct fields; a model's `bind()` declares them.
class Binder {
 public:
  void operator()(const std::string& name, double& field, Dimension dim);
  void operator()(const std::string& name, int& field);

  struct Slot {
    Dimension dim;
    std::function<void(double)> set;
  };
  const std::map<std::string, Slot>& slots() const { return slots_; }

 private:
  std::map<std::string, Slot> slots_;
};

/// Converts `value` expressed in `unit` to SI for `dim`; throws ParamError naming `where` if the unit
/// does not fit the dimension.
double to_si(double value, const std::string& unit, Dimension dim, const std::string& where);

/// A model's parameter file loaded and bound. Overrides are "<model>.<name>" -> value (in the file's unit).
class ParamSet {
 public:
  /// Loads `path` (JSON: {"model": m, "parameters": {name: {value, unit, provenance, description}}}).
  /// Every bound name must be present and every present name bound.
  void load(const std::string& path, const std::string& model, Binder& binder);
  /// Applies overrides addressed to this model; returns the names consumed.
  std::vector<std::string> apply_overrides(const std::map<std::string, std::string>& overrides,
                                           Binder& binder);
  const std::vector<ParamInfo>& infos() const { return infos_; }

 private:
  std::string model_;
  std::string path_;
  std::vector<ParamInfo> infos_;
};

/// Directory holding the models' data files (EQUUS_DATA_DIR, else the source tree's, set at build time).
std::string data_dir();

}  // namespace equus::params
