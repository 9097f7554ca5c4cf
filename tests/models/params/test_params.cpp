// Model parameters: loading the shipped data files, overrides, unit conversion and file errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "models/kernel/model_params.hpp"
#include "models/params/params.hpp"

// <signal.h>, pulled in by gtest, defines value_si as a macro; ParamInfo has a field of that name.
#ifdef value_si
#undef value_si
#endif

using namespace equus::params;

namespace {

/// Runs `fn`, expecting a ParamError; returns its message ("" if none was thrown).
template <class F>
std::string param_error(F fn) {
  try {
    fn();
  } catch (const ParamError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ParamError thrown";
  return "";
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("equus-params-" + std::to_string(std::random_device{}()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    auto p = path_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

struct Toy {
  double a = -1;
  double b = -1;
  int c = -1;
  void bind(Binder& binder) {
    binder("a", a, Dimension::Time);
    binder("b", b, Dimension::Bytes);
    binder("c", c);
  }
};

}  // namespace

TEST(Params, ShippedFilesLoad) {
  ModelParams p;
  ASSERT_NO_THROW(p = ModelParams::load());
  EXPECT_GT(p.cpu.syscall_entry, 0);
  EXPECT_DOUBLE_EQ(p.cpu.clock_hz, 60);
  EXPECT_DOUBLE_EQ(p.cpu.memory_bytes, 4.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(p.vme.max_packet_data, 1536);
  EXPECT_GT(p.kernel.small_buffers, 0);
  EXPECT_GT(p.kernel.max_retries, 0);
  EXPECT_FALSE(p.infos.empty());
  for (const auto& i : p.infos) {
    EXPECT_FALSE(i.provenance.empty()) << i.name;
    EXPECT_NE(i.name.find('.'), std::string::npos) << i.name;
  }
}

TEST(Params, OverrideConvertsFromTheFilesUnit) {
  auto p = ModelParams::load({{"m68030.syscall_entry", "100"}});  // the file's unit is us
  EXPECT_DOUBLE_EQ(p.cpu.syscall_entry, 100e-6);
  auto q = ModelParams::load({{"kernel.retry_interval", "0.01"}, {"m68030.local_copy_rate", "3"}});
  EXPECT_DOUBLE_EQ(q.kernel.retry_interval, 0.01);  // s
  EXPECT_DOUBLE_EQ(q.cpu.local_copy_rate, 3e6);     // MB/s
  auto r = ModelParams::load({{"kernel.small_buffers", "5"}});
  EXPECT_EQ(r.kernel.small_buffers, 5);
  bool marked = false;
  for (const auto& i : p.infos)
    if (i.name == "m68030.syscall_entry") {
      marked = true;
      EXPECT_EQ(i.provenance, "overridden");
      EXPECT_DOUBLE_EQ(i.value, 100);
      EXPECT_DOUBLE_EQ(i.value_si, 100e-6);
    }
  EXPECT_TRUE(marked);
}

TEST(Params, UnknownOverrideNameThrowsNamingIt) {
  auto msg = param_error([] { ModelParams::load({{"kernel.no_such_thing", "1"}}); });
  EXPECT_NE(msg.find("kernel.no_such_thing"), std::string::npos) << msg;
}

TEST(Params, NonNumericOverrideThrows) {
  auto msg = param_error([] { ModelParams::load({{"kernel.small_buffers", "lots"}}); });
  EXPECT_NE(msg.find("kernel.small_buffers"), std::string::npos) << msg;
  auto trailing = param_error([] { ModelParams::load({{"m68030.syscall_entry", "12x"}}); });
  EXPECT_NE(trailing.find("m68030.syscall_entry"), std::string::npos) << trailing;
  auto empty = param_error([] { ModelParams::load({{"m68030.syscall_entry", ""}}); });
  EXPECT_NE(empty.find("m68030.syscall_entry"), std::string::npos) << empty;
}

TEST(Params, NegativeOverrideThrows) {
  auto msg = param_error([] { ModelParams::load({{"m68030.syscall_entry", "-5"}}); });
  EXPECT_NE(msg.find("m68030.syscall_entry"), std::string::npos) << msg;
}

TEST(Params, OverrideForUnknownModelThrows) {
  auto msg = param_error([] { ModelParams::load({{"foo.bar", "1"}}); });
  EXPECT_NE(msg.find("foo.bar"), std::string::npos) << msg;
  auto bare = param_error([] { ModelParams::load({{"syscall_entry", "1"}}); });
  EXPECT_NE(bare.find("syscall_entry"), std::string::npos) << bare;
}

TEST(Params, FileLoadsAndConvertsUnits) {
  TempDir dir;
  auto path = dir.write("toy.json", R"({"model": "toy", "parameters": {
      "a": {"value": 250, "unit": "ms", "provenance": "test"},
      "b": {"value": 2, "unit": "kB", "provenance": "test", "description": "two kB"},
      "c": {"value": 7, "unit": "count", "provenance": "test"}}})");
  Toy t;
  Binder b;
  t.bind(b);
  ParamSet set;
  ASSERT_NO_THROW(set.load(path, "toy", b));
  EXPECT_DOUBLE_EQ(t.a, 0.25);
  EXPECT_DOUBLE_EQ(t.b, 2048);
  EXPECT_EQ(t.c, 7);
  EXPECT_EQ(set.infos().size(), 3u);
  auto used = set.apply_overrides({{"toy.a", "1000"}, {"other.a", "1"}}, b);
  EXPECT_EQ(used, std::vector<std::string>{"toy.a"});
  EXPECT_DOUBLE_EQ(t.a, 1.0);
}

TEST(Params, MissingParameterNamesFileAndPointer) {
  TempDir dir;
  auto path = dir.write("missing.json", R"({"model": "toy", "parameters": {
      "a": {"value": 1, "unit": "s", "provenance": "test"},
      "c": {"value": 1, "unit": "count", "provenance": "test"}}})");
  Toy t;
  Binder b;
  t.bind(b);
  ParamSet set;
  auto msg = param_error([&] { set.load(path, "toy", b); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("/parameters/b"), std::string::npos) << msg;
}

TEST(Params, UnknownUnitNamesFileAndPointer) {
  TempDir dir;
  auto path = dir.write("unit.json", R"({"model": "toy", "parameters": {
      "a": {"value": 1, "unit": "fortnights", "provenance": "test"},
      "b": {"value": 1, "unit": "bytes", "provenance": "test"},
      "c": {"value": 1, "unit": "count", "provenance": "test"}}})");
  Toy t;
  Binder b;
  t.bind(b);
  ParamSet set;
  auto msg = param_error([&] { set.load(path, "toy", b); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("/parameters/a"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fortnights"), std::string::npos) << msg;
}

TEST(Params, UnitOfTheWrongDimensionNamesFileAndPointer) {
  TempDir dir;
  auto path = dir.write("dim.json", R"({"model": "toy", "parameters": {
      "a": {"value": 1, "unit": "s", "provenance": "test"},
      "b": {"value": 1, "unit": "ms", "provenance": "test"},
      "c": {"value": 1, "unit": "count", "provenance": "test"}}})");
  Toy t;
  Binder b;
  t.bind(b);
  ParamSet set;
  auto msg = param_error([&] { set.load(path, "toy", b); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("/parameters/b"), std::string::npos) << msg;
}

TEST(Params, UnboundOrMalformedEntriesAndBadFilesThrow) {
  TempDir dir;
  Toy t;
  Binder b;
  t.bind(b);
  auto extra = dir.write("extra.json", R"({"model": "toy", "parameters": {
      "a": {"value": 1, "unit": "s", "provenance": "test"},
      "b": {"value": 1, "unit": "bytes", "provenance": "test"},
      "c": {"value": 1, "unit": "count", "provenance": "test"},
      "d": {"value": 1, "unit": "count", "provenance": "test"}}})");
  ParamSet s1;
  auto m1 = param_error([&] { s1.load(extra, "toy", b); });
  EXPECT_NE(m1.find("/parameters/d"), std::string::npos) << m1;

  auto noprov = dir.write("noprov.json", R"({"model": "toy", "parameters": {
      "a": {"value": 1, "unit": "s"}}})");
  ParamSet s2;
  auto m2 = param_error([&] { s2.load(noprov, "toy", b); });
  EXPECT_NE(m2.find("/parameters/a"), std::string::npos) << m2;

  auto text = dir.write("text.json", R"({"model": "toy", "parameters": {
      "a": {"value": "one", "unit": "s", "provenance": "test"}}})");
  ParamSet s3;
  auto m3 = param_error([&] { s3.load(text, "toy", b); });
  EXPECT_NE(m3.find("/parameters/a"), std::string::npos) << m3;

  auto broken = dir.write("broken.json", "{ not json");
  ParamSet s4;
  auto m4 = param_error([&] { s4.load(broken, "toy", b); });
  EXPECT_NE(m4.find(broken), std::string::npos) << m4;

  ParamSet s5;
  auto missing = dir.write("placeholder", "") + ".absent";
  auto m5 = param_error([&] { s5.load(missing, "toy", b); });
  EXPECT_NE(m5.find(missing), std::string::npos) << m5;
}

TEST(Params, ModelParamsFromAnotherDirectoryWithABrokenFileThrows) {
  TempDir dir;
  // A copy of the shipped tree with one parameter removed from the kernel's file.
  auto root = std::filesystem::path(dir.write("x", "")).parent_path();
  for (const char* m : {"m68030", "vme", "kernel", "host"}) {
    std::filesystem::create_directories(root / "models" / m);
    std::filesystem::copy_file(data_dir() + "/models/" + m + "/" + m + ".json",
                               root / "models" / m / (std::string(m) + ".json"));
  }
  EXPECT_NO_THROW(ModelParams::load({}, root.string()));
  auto kernel_json = (root / "models/kernel/kernel.json").string();
  nlohmann::json doc;
  {
    std::ifstream in(kernel_json);
    doc = nlohmann::json::parse(in);
  }
  ASSERT_EQ(doc["parameters"].erase("max_retries"), 1u);
  std::ofstream(kernel_json) << doc.dump(2);
  auto msg = param_error([&] { ModelParams::load({}, root.string()); });
  EXPECT_NE(msg.find(kernel_json), std::string::npos) << msg;
  EXPECT_NE(msg.find("/parameters/max_retries"), std::string::npos) << msg;
}

namespace equus::params {

// Issue 14: --set kernel.packet_loss_probability=2 was accepted. Ranges are data
// (models/params/ranges.json), applied to the files' values and to overrides alike.
TEST(ParamRanges, OverridesOutsideTheirRangeAreRejected) {
  auto error = [](const std::map<std::string, std::string>& o) -> std::string {
    try {
      ModelParams::load(o);
    } catch (const ParamError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error({{"kernel.packet_loss_probability", "2"}}),
            "override 'kernel.packet_loss_probability': 2 is outside [0, 1] (a probability)");
  EXPECT_EQ(error({{"m68030.speed_factor", "0"}}),
            "override 'm68030.speed_factor': 0 is outside (0, inf) (it divides every CPU cost)");
  EXPECT_EQ(error({{"vme.arbitration_penalty", "1.5"}}),
            "override 'vme.arbitration_penalty': 1.5 is outside [0, 1] (a fraction of the bus capacity)");
  EXPECT_EQ(error({{"kernel.packet_loss_probability", "1"}, {"m68030.speed_factor", "2.5"}}), "");
}

TEST(ParamRanges, EveryRangeNamesAParameter) {
  std::ifstream in(data_dir() + "/models/params/ranges.json");
  auto doc = nlohmann::json::parse(in);
  auto infos = ModelParams::load().infos;
  for (const auto& [name, r] : doc["ranges"].items()) {
    EXPECT_TRUE(std::any_of(infos.begin(), infos.end(), [&](const auto& i) { return i.name == name; }))
        << name;
    EXPECT_TRUE(r.contains("provenance")) << name;
  }
}

}  // namespace equus::params
