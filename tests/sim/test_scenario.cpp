// Scenario validation: the invalid corpus (one exact error line each), the valid corpus, the shipped
// scenarios, and a few direct cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/params/params.hpp"
#include "models/programs/example_programs.hpp"
#include "models/programs/registry.hpp"
#include "sim/scenario/scenario.hpp"

namespace fs = std::filesystem;
using equus::sim::ScenarioError;
using nlohmann::json;

namespace equus::test {

namespace {

const std::string corpus = params::data_dir() + "/tests/sim/scenarios";

/// The C++ programs the valid corpus names; the real ones are registered by the simulator at startup.
void register_test_programs() { programs::register_example_programs(); }  // "scheduler", a built-in program

std::vector<std::string> files_in(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

template <class F>
std::string scenario_error(F fn) {
  try {
    fn();
  } catch (const ScenarioError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ScenarioError thrown";
  return "";
}

std::string stem_of(const testing::TestParamInfo<std::string>& info) {
  std::string s = fs::path(info.param).stem().string();
  for (auto& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

// A minimal valid document that direct tests mutate.
json minimal() {
  return json::parse(R"({"name": "t", "modules": {"m": {"text_kb": 8, "program": {"ops": []}}},
                         "rdcs": [{"name": "r", "user": "tim", "primary": {"module": "m"}}]})");
}

std::string parse_error(const json& doc) {
  return scenario_error([&] { sim::parse_scenario(doc, "t.json", params::data_dir() + "/scenarios"); });
}

}  // namespace

class InvalidScenario : public testing::TestWithParam<std::string> {};

TEST_P(InvalidScenario, FailsWithTheExpectedLine) {
  register_test_programs();
  const auto& path = GetParam();
  auto expected_file = fs::path(path).replace_extension(".expected").string();
  ASSERT_TRUE(fs::exists(expected_file)) << "missing " << expected_file;
  auto expected = first_line(expected_file);
  auto pos = expected.find("{file}");
  ASSERT_NE(pos, std::string::npos) << expected_file << " has no {file}";
  expected.replace(pos, 6, path);
  EXPECT_EQ(scenario_error([&] { sim::load_scenario(path); }), expected);
}

INSTANTIATE_TEST_SUITE_P(Corpus, InvalidScenario, testing::ValuesIn(files_in(corpus + "/invalid", ".json")),
                         stem_of);

TEST(Scenario, InvalidCorpusIsLargeEnough) { EXPECT_GE(files_in(corpus + "/invalid", ".json").size(), 32u); }

class ValidScenario : public testing::TestWithParam<std::string> {};

TEST_P(ValidScenario, Loads) {
  register_test_programs();
  // Shipped scenarios name programs the simulator registers at startup; stand in for it here.
  if (fs::path(GetParam()).parent_path().filename() != "valid") {
    std::ifstream in(GetParam());
    auto doc = json::parse(in, nullptr, false);
    if (doc.is_object() && doc.contains("modules") && doc["modules"].is_object())
      for (const auto& [name, m] : doc["modules"].items())
        if (m.is_object() && m.contains("program") && m["program"].is_object() &&
            m["program"].contains("cpp") && m["program"]["cpp"].is_string())
          programs::register_program(m["program"]["cpp"].get<std::string>(),
                                     [] { return kernel::Program(); });
  }
  auto s = sim::load_scenario(GetParam());
  EXPECT_FALSE(s.name.empty());
  EXPECT_FALSE(s.nodes.empty());
  EXPECT_TRUE(!s.rdcs.empty() || s.workload);  // something to run: declared RDCs or arriving jobs
}

// The valid corpus plus the shipped scenarios (none yet is fine).
std::vector<std::string> valid_files() {
  auto out = files_in(corpus + "/valid", ".json");
  auto shipped = files_in(params::data_dir() + "/scenarios", ".json");
  out.insert(out.end(), shipped.begin(), shipped.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Corpus, ValidScenario, testing::ValuesIn(valid_files()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           auto dir = fs::path(info.param).parent_path().filename().string();
                           return (dir == "valid" ? "valid_" : "shipped_") + stem_of(info);
                         });

TEST(Scenario, SmallHasDefaults) {
  auto s = sim::load_scenario(corpus + "/valid/small.json");
  EXPECT_EQ(s.name, "small");
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.duration_s, 600);
  EXPECT_EQ(s.nodes.size(), 11u);  // pool/kathleen.nodes, found under <data_dir>/scenarios
  EXPECT_EQ(s.users.size(), 5u);
  EXPECT_TRUE(s.overrides.empty());
  ASSERT_EQ(s.modules.count("hello"), 1u);
  const auto& m = s.modules.at("hello");
  EXPECT_EQ(m.text_kb, 8);
  EXPECT_EQ(m.data_kb, 0);
  EXPECT_EQ(m.heap_kb, 16);
  EXPECT_EQ(m.stack_kb, 8);
  EXPECT_TRUE(m.cpp.empty());
  ASSERT_TRUE(m.ops);
  EXPECT_EQ(m.ops->size(), 2u);
  ASSERT_EQ(s.rdcs.size(), 1u);
  const auto& r = s.rdcs[0];
  EXPECT_EQ(r.nodes, 1);
  EXPECT_EQ(r.groups, (std::vector<std::string>{"systems", "timeshared"}));  // tim's groups
  EXPECT_EQ(r.primary.name, "primary");
  EXPECT_EQ(r.primary.module, "hello");
  EXPECT_TRUE(r.primary.node.empty());
  EXPECT_TRUE(s.events.empty());
  EXPECT_TRUE(s.outputs.results);
  EXPECT_TRUE(s.outputs.trace);
  EXPECT_TRUE(s.outputs.graph_at.empty());
}

TEST(Scenario, FullHasEveryField) {
  register_test_programs();
  auto s = sim::load_scenario(corpus + "/valid/full.json");
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.duration_s, 120);
  ASSERT_EQ(s.nodes.size(), 3u);
  EXPECT_EQ(s.nodes[2].kernel_id, 0x2a0u);
  EXPECT_EQ(s.nodes[2].memory_bytes, 8.0 * 1024 * 1024);
  EXPECT_EQ(s.nodes[1].memory_bytes, 4.0 * 1024 * 1024);  // default
  EXPECT_EQ(s.nodes[1].type, "jt68030");
  ASSERT_EQ(s.users.size(), 2u);
  EXPECT_EQ(s.overrides.at("m68030.syscall_entry"), "300");
  EXPECT_EQ(s.modules.at("printer").cpp, "scheduler");
  EXPECT_FALSE(s.modules.at("printer").ops);
  EXPECT_EQ(s.modules.at("printer").heap_kb, 0);

  const auto& farm = s.rdcs.at(0);
  EXPECT_EQ(farm.groups, std::vector<std::string>{"systems"});
  EXPECT_EQ(farm.nodes, 2);
  EXPECT_EQ(farm.primary.node, "n1");
  EXPECT_EQ(farm.primary.args, (std::vector<int64_t>{3, -1}));
  ASSERT_EQ(farm.incarnations.size(), 3u);
  const auto& tmpl = farm.incarnations[0];
  EXPECT_TRUE(tmpl.inchoate);
  ASSERT_EQ(tmpl.interfaces.size(), 1u);
  EXPECT_EQ(tmpl.interfaces[0].kind, sim::InterfaceSpec::Port);
  EXPECT_TRUE(tmpl.interfaces[0].chan_new);
  EXPECT_FALSE(tmpl.interfaces[0].multicast);
  EXPECT_EQ(tmpl.interfaces[0].handle, "h1");
  const auto& w1 = farm.incarnations[1];
  EXPECT_FALSE(w1.inchoate);
  EXPECT_EQ(w1.from, "template");
  EXPECT_EQ(w1.node, "202");
  EXPECT_EQ(w1.interfaces[0].kind, sim::InterfaceSpec::Stream);
  EXPECT_FALSE(w1.interfaces[1].chan_new);
  EXPECT_TRUE(w1.interfaces[2].chan_new);  // default for a port
  EXPECT_TRUE(w1.interfaces[2].multicast);
  ASSERT_EQ(farm.channels.size(), 2u);
  EXPECT_EQ(farm.channels[0].as, "report");
  EXPECT_EQ(farm.channels[1].as, "news");  // defaults to the label
  EXPECT_TRUE(farm.channels[1].multicast);
  EXPECT_EQ(s.rdcs.at(1).groups, std::vector<std::string>{"all"});

  ASSERT_EQ(s.events.size(), 10u);
  EXPECT_EQ(s.events[1].at, 1.5);
  EXPECT_EQ(s.events[5].type, "graph");
  EXPECT_TRUE(s.events[5].as<sim::event::Graph>());
  const auto* w6 = s.events[6].as<sim::event::WithdrawNode>();
  ASSERT_TRUE(w6);
  EXPECT_EQ(w6->node, "0x202");
  EXPECT_EQ(w6->notice_s, 5);
  EXPECT_FALSE(w6->kill);
  const auto* w7 = s.events[7].as<sim::event::WithdrawNode>();
  ASSERT_TRUE(w7);
  EXPECT_TRUE(w7->kill);
  EXPECT_EQ(w7->notice_s, 0);
  EXPECT_TRUE(w7->migrate_to.empty());
  const auto* d9 = s.events[9].as<sim::event::Destroy>();
  ASSERT_TRUE(d9);
  EXPECT_EQ(d9->incarnation, "primary");
  EXPECT_FALSE(s.outputs.results);
  EXPECT_EQ(s.outputs.graph_at, (std::vector<double>{5, 119.5}));
}

TEST(Scenario, ReconfigurationEventsAreTyped) {
  auto s = sim::load_scenario(corpus + "/valid/reconfig.json");
  EXPECT_TRUE(s.modules.at("w").service);
  EXPECT_FALSE(s.modules.at("mgr").service);
  ASSERT_EQ(s.events.size(), 6u);
  const auto* m = s.events[0].as<sim::event::Migrate>();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->incarnation, "cli");
  EXPECT_EQ(m->node, "kathleen2");
  const auto* a = s.events[1].as<sim::event::AttachPort>();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, "srv.han");
  EXPECT_EQ(a->channel, "c1");
  EXPECT_EQ(a->detach, "c2.han");  // deposited by an incarnation the manager's program creates
  EXPECT_FALSE(a->move_queue);
  const auto* b = s.events[2].as<sim::event::RebindStream>();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->stream, "cli.out");
  EXPECT_EQ(b->channel, "c3");
  EXPECT_EQ(b->forward_from, "srv.han");
  EXPECT_EQ(s.events[3].as<sim::event::FreezeStream>()->stream, "cli.out");
  EXPECT_EQ(s.events[4].as<sim::event::UnfreezeStream>()->stream, "cli.out");
  const auto* w = s.events[5].as<sim::event::WithdrawNode>();
  ASSERT_TRUE(w);
  EXPECT_EQ(w->migrate_to, "kathleen1");
  EXPECT_EQ(w->notify, "notices");
  EXPECT_TRUE(w->kill);
}

TEST(Scenario, CppProgramRegistry) {
  EXPECT_FALSE(programs::has_program("test_registry_probe"));
  programs::register_program("test_registry_probe", [] { return kernel::Program(); });
  EXPECT_TRUE(programs::has_program("test_registry_probe"));
  auto doc = minimal();
  doc["modules"]["m"]["program"] = {{"cpp", "test_registry_probe"}};
  EXPECT_NO_THROW(sim::parse_scenario(doc, "t.json", params::data_dir() + "/scenarios"));
}

TEST(Scenario, UnreadableFileIsAWholeFileError) {
  EXPECT_EQ(scenario_error([] { sim::load_scenario("/nonexistent/x.json"); }),
            "/nonexistent/x.json: cannot open");
}

TEST(Scenario, PointersEscapeKeys) {
  auto doc = minimal();
  doc["modules"]["a/b~c"] = {{"text_kb", -1}, {"program", {{"ops", json::array()}}}};
  EXPECT_EQ(parse_error(doc), "t.json: /modules/a~1b~0c/text_kb: must be a number >= 0");
}

TEST(Scenario, ErrorsAreOneLine) {
  auto doc = minimal();
  doc["rdcs"][0]["user"] = "nobody";
  auto msg = parse_error(doc);
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_EQ(msg, "t.json: /rdcs/0/user: unknown user 'nobody' (not in the pool users file)");
}

TEST(Scenario, OverridesBecomeTextForModelParams) {
  auto doc = minimal();
  doc["platform"] = {{"overrides", {{"m68030.syscall_entry", 2.5}}}};
  auto s = sim::parse_scenario(doc, "t.json", params::data_dir() + "/scenarios");
  EXPECT_EQ(s.overrides.at("m68030.syscall_entry"), "2.5");
}

TEST(Scenario, IntegralFloatsCountAsIntegers) {
  auto doc = minimal();
  doc["seed"] = 7.0;
  doc["modules"]["m"]["program"]["ops"] = json::parse(R"([{"op": "compute", "ms": 3.0}])");
  EXPECT_EQ(sim::parse_scenario(doc, "t.json", params::data_dir() + "/scenarios").seed, 7u);
}

TEST(Scenario, NodeHintByHexId) {
  auto doc = minimal();
  doc["rdcs"][0]["primary"]["node"] = "20a";
  EXPECT_NO_THROW(sim::parse_scenario(doc, "t.json", params::data_dir() + "/scenarios"));
  doc["rdcs"][0]["primary"]["node"] = "20c";
  EXPECT_EQ(parse_error(doc), "t.json: /rdcs/0/primary/node: unknown node '20c'");
}

}  // namespace equus::test
