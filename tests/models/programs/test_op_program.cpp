// The op language's reconfiguration ops, run in scenarios: port propagation in a send, create and
// migrate with the completion event, handles (han_create, ss_get), stream freezing and port
// attachment made by a program.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/scenario_run.hpp"

using nlohmann::json;

namespace equus::test {

namespace {

/// RDC "r" on kathleen1, kathleen2 and kathleen6 with the primary's program, declared incarnations
/// and channels given. receiver [idle ms]: records "got" until idle; sender [count, gap ms, first].
json scenario(const json& primary_ops, const json& incarnations, const json& channels,
              const json& extra_modules = json::object()) {
  auto doc = json::parse(R"({
    "name": "ops", "duration_s": 20,
    "modules": {
      "receiver": {"text_kb": 8, "program": {"ops": [
        {"op": "set", "var": "st", "value": 1},
        {"op": "while", "cond": {"eq": ["$st", 1]}, "body": [
          {"op": "receive", "port": "in", "msg": "m", "timeout_ms": {"arg": 0}, "status": "st"},
          {"op": "if", "cond": {"eq": ["$st", 1]}, "then": [
            {"op": "record", "key": "got", "value": {"head": ["m", 0]}}]}]}]}},
      "sender": {"text_kb": 8, "program": {"ops": [
        {"op": "loop", "count": {"arg": 0}, "var": "i", "body": [
          {"op": "send", "stream": "out", "head": [{"add": [{"arg": 2}, "$i"]}]},
          {"op": "record", "key": "sent", "value": {"add": [{"arg": 2}, "$i"]}},
          {"op": "compute", "ms": {"arg": 1}}]}]}},
      "manager": {"text_kb": 8, "program": {"ops": []}}
    },
    "rdcs": [{"name": "r", "user": "tim", "nodes": 3, "primary": {"module": "manager"}}]
  })");
  doc["modules"]["manager"]["program"]["ops"] = primary_ops;
  for (const auto& [name, m] : extra_modules.items()) doc["modules"][name] = m;
  doc["rdcs"][0]["incarnations"] = incarnations;
  doc["rdcs"][0]["channels"] = channels;
  return doc;
}

std::vector<double> range(int from, int to) {
  std::vector<double> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

std::vector<std::string> kinds(const Run& run) {
  std::vector<std::string> out;
  for (const auto& c : run.results["reconfigurations"]["calls"]) {
    EXPECT_EQ(c["origin"], "program");
    EXPECT_EQ(c["status"], 0) << c.dump();
    out.push_back(c["kind"]);
  }
  return out;
}

}  // namespace

TEST(OpProgram, PortPropagationInASendMovesThePortAndItsQueue) {
  // The primary receives five messages at its port, then gives the port (not kept) to the taker, whose
  // handover port it found in stream space; the taker binds the port it receives and carries on.
  auto giver = json::parse(R"([
    {"op": "set", "var": "n", "value": 0},
    {"op": "while", "cond": {"lt": ["$n", 5]}, "body": [
      {"op": "receive", "port": "work", "msg": "m"},
      {"op": "record", "key": "got", "value": {"head": ["m", 0]}},
      {"op": "set", "var": "n", "value": {"add": ["$n", 1]}}]},
    {"op": "compute", "ms": 60},
    {"op": "ss_get", "label": "handover", "as": "taker"},
    {"op": "send", "stream": "taker", "ref": "work", "keep": false},
    {"op": "sleep", "ms": 2000}])");
  auto taker = json::parse(R"({"text_kb": 8, "program": {"ops": [
    {"op": "receive", "port": "handover", "msg": "h", "as": "work"},
    {"op": "set", "var": "st", "value": 1},
    {"op": "while", "cond": {"eq": ["$st", 1]}, "body": [
      {"op": "receive", "port": "work", "msg": "m", "timeout_ms": 1000, "status": "st"},
      {"op": "if", "cond": {"eq": ["$st", 1]}, "then": [
        {"op": "record", "key": "got", "value": {"head": ["m", 0]}}]}]}]}})");
  auto incs = json::parse(R"([
    {"name": "taker", "module": "taker", "node": "kathleen6",
     "interfaces": [{"name": "handover", "kind": "port", "label": "handover"}]},
    {"name": "tx", "module": "sender", "node": "kathleen2", "args": [40, 10, 0],
     "interfaces": [{"name": "out", "kind": "stream", "label": "work"}]}])");
  auto run = run_json(scenario(giver, incs, json::parse(R"([{"label": "work"}])"), {{"taker", taker}}),
                      "op-propagate");
  EXPECT_TRUE(run.summary.violations.empty());
  EXPECT_EQ(run.values("got", "primary"), range(0, 5));
  EXPECT_EQ(run.values("got", "taker"), range(5, 40));  // the queue moved with the port, in order
  EXPECT_EQ(kinds(run), std::vector<std::string>{"propagate_port"});
  EXPECT_EQ(run.results["reconfigurations"]["calls"][0]["detail"], "port work over taker");
  EXPECT_GT(run.results["reconfigurations"]["forwarded"].get<long>(), 0);
}

TEST(OpProgram, CreateAndMigrateReportTheCompletionEvent) {
  auto manager = json::parse(R"([
    {"op": "create", "module": "receiver", "node": "kathleen6", "args": [1500], "as": "child", "status": "c1",
     "interfaces": [{"name": "in", "kind": "port", "label": "c", "chan": "new"}]},
    {"op": "create", "module": "sender", "node": "kathleen2", "args": [60, 10, 0], "as": "tx", "status": "c2",
     "interfaces": [{"name": "out", "kind": "stream", "label": "c"}]},
    {"op": "record", "key": "created", "value": {"add": ["$c1", "$c2"]}},
    {"op": "sleep", "ms": 500},
    {"op": "migrate", "incarnation": "child", "node": "kathleen1", "status": "m"},
    {"op": "record", "key": "migrate_status", "value": "$m"},
    {"op": "event_wait", "timeout_ms": 5000, "types": [4], "status": "w", "event": "ev", "info": "us"},
    {"op": "record", "key": "event", "value": "$ev"},
    {"op": "record", "key": "elapsed_us", "value": "$us"}])");
  auto run = run_json(scenario(manager, json::array(), json::array()), "op-migrate");
  EXPECT_TRUE(run.summary.violations.empty());
  EXPECT_EQ(run.values("created"), std::vector<double>{0});
  EXPECT_EQ(run.values("migrate_status"), std::vector<double>{0});
  EXPECT_EQ(run.values("event"), std::vector<double>{4});  // EV_INC_MIGRATEDONE
  EXPECT_EQ(run.values("got", "child"), range(0, 60));
  auto spans = run.spans("child");  // named after the handle the program gave it
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]["node"], "kathleen6");
  EXPECT_EQ(spans[1]["node"], "kathleen1");
  ASSERT_EQ(run.results["migrations"].size(), 1u);
  double elapsed_ms = run.results["migrations"][0]["elapsed_ms"];
  ASSERT_EQ(run.values("elapsed_us").size(), 1u);
  EXPECT_NEAR(run.values("elapsed_us")[0] / 1000, elapsed_ms, 0.01);
  EXPECT_EQ(kinds(run), std::vector<std::string>{"migrate"});
}

TEST(OpProgram, CreateReportsTheChildMadeAndResultsRecordTheCreationTime) {
  auto manager = json::parse(R"([
    {"op": "create", "module": "receiver", "node": "kathleen6", "args": [300], "as": "child", "status": "c1",
     "interfaces": [{"name": "in", "kind": "port", "label": "c", "chan": "new"}]},
    {"op": "event_wait", "timeout_ms": 5000, "types": [5], "status": "w", "event": "ev", "info": "us"},
    {"op": "record", "key": "event", "value": "$ev"},
    {"op": "record", "key": "made_us", "value": "$us"}])");
  auto run = run_json(scenario(manager, json::array(), json::array()), "op-made");
  EXPECT_TRUE(run.summary.violations.empty());
  EXPECT_EQ(run.values("event"), std::vector<double>{5});  // EV_INC_MADE
  auto child = run.spans("child");
  ASSERT_EQ(child.size(), 1u);
  ASSERT_FALSE(child[0]["made_s"].is_null());
  EXPECT_GE(child[0]["made_s"].get<double>(), child[0]["start_s"].get<double>());
  ASSERT_EQ(run.values("made_us").size(), 1u);
  EXPECT_GT(run.values("made_us")[0], 0);
  EXPECT_NEAR(child[0]["creation_ms"].get<double>(), run.values("made_us")[0] / 1000, 0.001);
  // The launch program created the primary and stream space: made too, and reported to it.
  for (const char* name : {"primary", "stream_space"}) {
    auto s = run.spans(name);
    ASSERT_EQ(s.size(), 1u) << name;
    ASSERT_FALSE(s[0]["creation_ms"].is_null()) << name;
    EXPECT_GT(s[0]["creation_ms"].get<double>(), 0) << name;
  }
}

TEST(OpProgram, HandlesFreezeAndAttachPort) {
  // The primary receives five messages at its own port on c1, freezes the sender's stream, moves c1 to
  // rx2's port (with what queued at its own) and unfreezes the stream.
  auto manager = json::parse(R"([
    {"op": "set", "var": "n", "value": 0},
    {"op": "while", "cond": {"lt": ["$n", 5]}, "body": [
      {"op": "receive", "port": "p1", "msg": "m"},
      {"op": "record", "key": "got", "value": {"head": ["m", 0]}},
      {"op": "set", "var": "n", "value": {"add": ["$n", 1]}}]},
    {"op": "han_create", "ref": "p1", "as": "p1h", "status": "s1"},
    {"op": "ss_get", "label": "rx2.han", "as": "rx2h"},
    {"op": "ss_get", "label": "c1", "as": "c1s"},
    {"op": "ss_get", "label": "tx.out", "as": "txh"},
    {"op": "freeze_stream", "handle": "txh", "status": "s2"},
    {"op": "sleep", "ms": 300},
    {"op": "attach_port", "port": "rx2h", "stream": "c1s", "detach": "p1h", "status": "s3"},
    {"op": "unfreeze_stream", "handle": "txh", "status": "s4"},
    {"op": "record", "key": "statuses", "value": {"add": [{"add": ["$s1", "$s2"]}, {"add": ["$s3", "$s4"]}]}}])");
  auto incs = json::parse(R"([
    {"name": "rx2", "module": "receiver", "node": "kathleen6", "args": [1500],
     "interfaces": [{"name": "in", "kind": "port", "label": "c2", "handle": "rx2.han"}]},
    {"name": "tx", "module": "sender", "node": "kathleen2", "args": [40, 10, 0],
     "interfaces": [{"name": "out", "kind": "stream", "label": "c1", "handle": "tx.out"}]}])");
  auto run = run_json(scenario(manager, incs, json::parse(R"([{"label": "c1", "as": "p1"}])")), "op-attach");
  EXPECT_TRUE(run.summary.violations.empty());
  EXPECT_EQ(run.values("statuses"), std::vector<double>{0});
  EXPECT_EQ(run.values("got", "primary"), range(0, 5));
  EXPECT_EQ(run.values("got", "rx2"), range(5, 40));
  EXPECT_EQ(kinds(run), (std::vector<std::string>{"freeze_stream", "attach_port", "unfreeze_stream"}));
  std::vector<double> sent;
  for (const auto& s : run.records("sent")) sent.push_back(s["time_s"]);
  double longest = 0;
  for (std::size_t i = 1; i < sent.size(); ++i) longest = std::max(longest, sent[i] - sent[i - 1]);
  EXPECT_GT(longest, 0.3);  // held while frozen
}

}  // namespace equus::test

namespace equus::test {

TEST(OpProgram, StreamSpaceGivesOutAUnicastPortOnce) {
  // The primary deposits its port on c1 (ss_put of a port, Section 6.2.1); two incarnations ask for
  // it: one gets it and receives the sender's messages, the other waits.
  auto manager = json::parse(R"([{"op": "ss_put", "label": "handoff", "ref": "p1"}])");
  auto taker = json::parse(R"({"text_kb": 8, "service": true, "program": {"ops": [
    {"op": "ss_get", "label": "handoff", "as": "in"},
    {"op": "record", "key": "took", "value": {"arg": 0}},
    {"op": "set", "var": "st", "value": 1},
    {"op": "while", "cond": {"eq": ["$st", 1]}, "body": [
      {"op": "receive", "port": "in", "msg": "m", "timeout_ms": 1000, "status": "st"},
      {"op": "if", "cond": {"eq": ["$st", 1]}, "then": [
        {"op": "record", "key": "got", "value": {"head": ["m", 0]}}]}]}]}})");
  auto incs = json::parse(R"([
    {"name": "a", "module": "taker", "node": "kathleen2", "args": [1]},
    {"name": "b", "module": "taker", "node": "kathleen6", "args": [2]},
    {"name": "tx", "module": "sender", "node": "kathleen1", "args": [20, 10, 0],
     "interfaces": [{"name": "out", "kind": "stream", "label": "c1"}]}])");
  auto run =
      run_json(scenario(manager, incs, json::parse(R"([{"label": "c1", "as": "p1"}])"), {{"taker", taker}}),
               "op-ss-port");
  EXPECT_TRUE(run.summary.violations.empty());
  auto took = run.values("took");
  ASSERT_EQ(took.size(), 1u);  // one copy out at a time
  EXPECT_EQ(run.values("got", took[0] == 1 ? "a" : "b"), range(0, 20));
}

}  // namespace equus::test
