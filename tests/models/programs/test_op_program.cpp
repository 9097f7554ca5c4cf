// The op language: its parser (typed ops, errors naming the bad field) and its ops run in scenarios:
// values and control flow, messages, services and events, create and destroy, and the reconfiguration
// ops (port propagation in a send, migrate with the completion event, handles, stream freezing and
// port attachment made by a program).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "models/kernel/equus.hpp"
#include "models/programs/ops.hpp"
#include "models/programs/registry.hpp"
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

// ---- The parser: typed ops from JSON, and its errors with the pointer of the bad field ----

namespace equus::test {

namespace ops = programs::ops;

namespace {

/// The error parse_ops throws for `text`, as "<pointer>: <message>".
std::string parse_error(const std::string& text) {
  try {
    ops::parse_ops(json::parse(text));
  } catch (const ops::OpError& e) {
    return e.pointer() + ": " + e.message();
  }
  ADD_FAILURE() << "no OpError for " << text;
  return "";
}

}  // namespace

TEST(OpParse, EveryOpParsesToItsStruct) {
  auto block = ops::parse_ops(json::parse(R"([
    {"op": "set", "var": "x", "value": 1},
    {"op": "loop", "count": 2, "var": "i", "body": [{"op": "compute", "ms": "$i"}]},
    {"op": "while", "cond": {"lt": ["$x", 3]}, "body": [{"op": "set", "var": "x", "value": {"add": ["$x", 1]}}]},
    {"op": "if", "cond": {"ge": ["$x", 3]}, "then": [{"op": "sleep", "ms": 1}], "else": [{"op": "exit"}]},
    {"op": "compute", "ms": 1}, {"op": "sleep", "ms": 2},
    {"op": "invoke", "stream": "s", "head": [1, {"arg": 0}], "bytes": 10, "ref": "p", "keep": false, "msg": "r", "as": "q"},
    {"op": "asinvoke", "stream": "s"}, {"op": "send", "stream": "s", "keep_queuing": true}, {"op": "dgram", "stream": "s"},
    {"op": "receive", "port": "p", "msg": "m", "block_invoker": true, "timeout_ms": 5, "status": "st", "as": "a"},
    {"op": "reply", "msg": "m", "head": [{"head": ["m", 7]}]},
    {"op": "ss_put", "label": "l", "ref": "p", "copies": 2}, {"op": "ss_get", "label": "l", "as": "g"},
    {"op": "register", "service": "svc", "ref": "p"}, {"op": "lookup", "service": "svc", "as": "s2", "status": "f"},
    {"op": "chan_create", "type": "multicast", "stream": "cs", "port": "cp"},
    {"op": "record", "key": "k", "value": {"now_ms": true}},
    {"op": "event_wait", "timeout_ms": 10, "types": ["migrate_done", 5, "$x"], "status": "w", "event": "e", "info": "i"},
    {"op": "exit"}, {"op": "rdc_exit"}, {"op": "han_create", "ref": "p", "as": "h"},
    {"op": "attach_port", "port": "h", "stream": "s", "detach": "h2", "move_queue": false},
    {"op": "rebind_stream", "handle": "h", "stream": "s", "port": "p"},
    {"op": "freeze_stream", "handle": "h"}, {"op": "unfreeze_stream", "handle": "h"},
    {"op": "migrate", "incarnation": "c", "node": "kathleen2"},
    {"op": "create", "module": "m", "node": {"arg": 1}, "as": "c", "args": [1, "$x"], "stream": "cs2", "status": "st",
     "interfaces": [{"name": "in", "kind": "port", "label": "l", "type": "multicast", "handle": "l.h"},
                    {"name": "out", "kind": "stream", "label": "l2"}]},
    {"op": "destroy", "incarnation": "c"}])"));
  ASSERT_EQ(block.size(), 29u);
  EXPECT_EQ(block.size(), std::variant_size_v<ops::Any>);  // one of each
  for (std::size_t i = 0; i < block.size(); ++i) EXPECT_EQ(block[i].v.index(), i) << "op " << i;

  const auto& loop = std::get<ops::Loop>(block[1].v);
  EXPECT_EQ(loop.var.name, "i");
  ASSERT_EQ(loop.body.size(), 1u);
  EXPECT_EQ(std::get<ops::Var>(std::get<ops::Compute>(loop.body[0].v).ms.v).name, "i");
  const auto& invoke = std::get<ops::Invoke>(block[6].v);
  EXPECT_EQ(invoke.stream, "s");
  EXPECT_EQ(invoke.head.words.size(), 2u);
  EXPECT_EQ(std::get<ops::Arg>(invoke.head.words[1].v).index, 0u);
  EXPECT_FALSE(invoke.keep);
  EXPECT_EQ(invoke.as, "q");
  EXPECT_TRUE(std::get<ops::Send>(block[8].v).keep);  // defaults
  EXPECT_TRUE(std::get<ops::Send>(block[8].v).keep_queuing);
  EXPECT_EQ(std::get<int64_t>(std::get<ops::Receive>(block[10].v).timeout_ms.v), 5);
  EXPECT_EQ(std::get<int64_t>(std::get<ops::Dgram>(block[9].v).bytes.v), 0);
  EXPECT_EQ(std::get<ops::HeadWord>(std::get<ops::Reply>(block[11].v).head.words[0].v).word, 7u);
  EXPECT_EQ(std::get<ops::SsPut>(block[12].v).copies.n, 2);
  EXPECT_EQ(std::get<ops::ChanCreate>(block[16].v).type, kernel::ChanType::Multicast);
  const auto& wait = std::get<ops::EventWait>(block[18].v);
  ASSERT_EQ(wait.types.types.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(wait.types.types[0].v), static_cast<int64_t>(kernel::EvType::MigrateDone));
  EXPECT_EQ(std::get<int64_t>(wait.types.types[1].v), 5);
  EXPECT_EQ(std::get<ops::Var>(wait.types.types[2].v).name, "x");
  EXPECT_FALSE(std::get<ops::AttachPort>(block[22].v).move_queue);
  EXPECT_EQ(std::get<std::string>(std::get<ops::Migrate>(block[26].v).node.v), "kathleen2");
  const auto& create = std::get<ops::Create>(block[27].v);
  EXPECT_EQ(std::get<ops::Arg>(std::get<ops::Expr>(create.node.v).v).index, 1u);
  ASSERT_EQ(create.interfaces.list.size(), 2u);
  const auto& in = create.interfaces.list[0];
  EXPECT_EQ(in.kind, kernel::IncInterface::Kind::Port);
  EXPECT_TRUE(in.chan_new);
  EXPECT_EQ(in.type, kernel::ChanType::Multicast);
  EXPECT_EQ(in.chan_label, "l");
  EXPECT_EQ(in.handle_label, "l.h");
  EXPECT_EQ(create.interfaces.list[1].kind, kernel::IncInterface::Kind::Stream);
}

TEST(OpParse, EventTypeNamesAreTheKernelTypes) {
  std::string names;
  for (const auto& t : kernel::ev_type_names)
    names += std::string(names.empty() ? "" : ", ") + '"' + t.name + '"';
  auto block = ops::parse_ops(json::parse(R"([{"op": "event_wait", "types": [)" + names + "]}]"));
  const auto& types = std::get<ops::EventWait>(block[0].v).types.types;
  ASSERT_EQ(types.size(), std::size(kernel::ev_type_names));
  for (std::size_t i = 0; i < types.size(); ++i)
    EXPECT_EQ(std::get<int64_t>(types[i].v), static_cast<int64_t>(kernel::ev_type_names[i].type));
}

TEST(OpParse, DocsAndSchemaNameTheEventTypesOfTheTable) {
  // kernel::ev_type_names is the list; the scenario docs and schema must say the same.
  auto docs = slurp(params::data_dir() + "/docs/scenarios.md");
  auto schema = json::parse(slurp(params::data_dir() + "/scenarios/schema/scenario.schema.json"));
  const auto& types = schema["$defs"]["op_event_wait"]["properties"]["types"]["items"]["anyOf"][0]["enum"];
  std::vector<std::string> names;
  for (const auto& t : kernel::ev_type_names) {
    names.push_back(t.name);
    auto legend = fmt::format("{} `{}`", static_cast<int>(t.type), t.name);
    EXPECT_NE(docs.find(legend), std::string::npos) << legend << " not in docs/scenarios.md";
  }
  EXPECT_EQ(types.get<std::vector<std::string>>(), names);
}

TEST(OpParse, ErrorsNameTheBadField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({})", ": must be an array"},
      {R"([1])", "/0: must be an object"},
      {R"([{}])", "/0: missing required key 'op'"},
      {R"([{"op": 1}])", "/0/op: must be a string"},
      {R"([{"op": "jump"}])", "/0/op: unknown op 'jump'"},
      {R"([{"op": "set", "var": "x"}])", "/0: missing required key 'value'"},
      {R"([{"op": "set", "var": "x", "value": 1, "valu": 2}])", "/0/valu: unknown key"},
      {R"([{"op": "exit", "a~b": 1}])", "/0/a~0b: unknown key"},
      {R"([{"op": "set", "var": "1x", "value": 1}])",
       "/0/var: must be a variable name (letters, digits and '_', not starting with a digit)"},
      {R"([{"op": "set", "var": "x", "value": "x"}])", "/0/value: 'x' is not a variable reference \"$name\""},
      {R"([{"op": "set", "var": "x", "value": 1.5}])",
       "/0/value: must be an integer, \"$var\" or an expression object"},
      {R"([{"op": "set", "var": "x", "value": {"pow": [1, 2]}}])", "/0/value/pow: unknown key"},
      {R"([{"op": "set", "var": "x", "value": {}}])",
       "/0/value: must have exactly one of add, sub, mul, mod, arg, head, now_ms"},
      {R"([{"op": "set", "var": "x", "value": {"add": [1]}}])", "/0/value/add: must be an array of 2 values"},
      {R"([{"op": "set", "var": "x", "value": {"add": [1, {"arg": -1}]}}])",
       "/0/value/add/1/arg: must be an integer >= 0"},
      {R"([{"op": "set", "var": "x", "value": {"head": ["m", 8]}}])",
       "/0/value/head/1: must be an integer 0-7"},
      {R"([{"op": "set", "var": "x", "value": {"now_ms": false}}])", "/0/value/now_ms: must be true"},
      {R"([{"op": "loop", "count": 1, "body": [{"op": "if", "cond": {"eq": [1, 1]}, "then": [],
           "else": [{"op": "sleep"}]}]}])",
       "/0/body/0/else/0: missing required key 'ms'"},
      {R"([{"op": "while", "cond": {"lt": [1, 2], "gt": [1, 2]}, "body": []}])",
       "/0/cond: must have exactly one of lt, le, eq, ne, gt, ge"},
      {R"([{"op": "send", "stream": "s", "head": [1, 2, 3, 4, 5, 6, 7, 8, 9]}])",
       "/0/head: must be an array of at most 8 values"},
      {R"([{"op": "send", "stream": ""}])", "/0/stream: must be a non-empty string"},
      {R"([{"op": "receive", "port": "p", "msg": "m", "block_invoker": 1}])",
       "/0/block_invoker: must be a boolean"},
      {R"([{"op": "chan_create", "type": "broadcast", "stream": "s", "port": "p"}])",
       "/0/type: must be one of 'unicast', 'multicast' (got 'broadcast')"},
      {R"([{"op": "ss_put", "label": "l", "ref": "p", "copies": 0}])", "/0/copies: must be an integer >= 1"},
      {R"([{"op": "event_wait", "types": 4}])", "/0/types: must be an array"},
      {R"([{"op": "event_wait", "types": ["inc_died"]}])",
       "/0/types/0: unknown event type 'inc_died' (one of 'asinvoke_done', 'inc_dead', 'stream_closed', "
       "'migrate_done', 'inc_made', or a value)"},
      {R"([{"op": "migrate", "incarnation": "c", "node": ""}])",
       "/0/node: '' is not a variable reference \"$name\""},
      {R"([{"op": "create", "module": "m", "node": 1, "as": "c", "interfaces": [{"name": "a", "kind": "wire",
           "label": "l"}]}])",
       "/0/interfaces/0/kind: must be one of 'stream', 'port' (got 'wire')"},
      {R"([{"op": "create", "module": "m", "node": 1, "as": "c", "interfaces": [{"name": "a", "kind": "stream",
           "label": "l", "chan": "new"}]}])",
       "/0/interfaces/0/chan: only ports have 'chan'"},
      {R"([{"op": "create", "module": "m", "node": 1, "as": "c", "interfaces": [{"name": "a", "kind": "port",
           "label": "l", "chan": "other", "type": "unicast"}]}])",
       "/0/interfaces/0/type: only ports with chan 'new' have a 'type'"},
      {R"([{"op": "create", "module": "m", "node": 1, "as": "c", "interfaces": [{"name": "a", "kind": "port",
           "label": "l"}, {"name": "a", "kind": "stream", "label": "l"}]}])",
       "/0/interfaces/1/name: duplicate interface name 'a'"},
  };
  for (const auto& [text, expected] : cases) EXPECT_EQ(parse_error(text), expected) << text;
}

TEST(OpParse, ForEachOpVisitsNestedOpsWithTheirPointers) {
  auto block = ops::parse_ops(json::parse(R"([
    {"op": "loop", "count": 1, "body": [{"op": "exit"}]},
    {"op": "if", "cond": {"eq": [1, 1]}, "then": [{"op": "exit"}], "else": [
      {"op": "while", "cond": {"eq": [1, 0]}, "body": [{"op": "exit"}]}]}])"));
  std::vector<std::string> seen;
  ops::for_each_op(
      block, [&](const ops::Op&, const std::string& p) { seen.push_back(p); }, "/ops");
  EXPECT_EQ(seen, (std::vector<std::string>{"/ops/0", "/ops/0/body/0", "/ops/1", "/ops/1/then/0",
                                            "/ops/1/else/0", "/ops/1/else/0/body/0"}));
}

}  // namespace equus::test

// ---- Each op's behaviour, run in a scenario ----

namespace equus::test {

TEST(OpProgram, ValuesConditionsAndControlFlow) {
  auto manager = json::parse(R"([
    {"op": "set", "var": "x", "value": {"add": [{"mul": [3, 4]}, {"sub": [10, {"arg": 0}]}]}},
    {"op": "record", "key": "x", "value": "$x"},
    {"op": "record", "key": "mod", "value": {"mod": [17, 5]}},
    {"op": "record", "key": "mod", "value": {"mod": [17, 0]}},
    {"op": "record", "key": "noarg", "value": {"arg": 5}},
    {"op": "record", "key": "nohead", "value": {"head": ["never", 0]}},
    {"op": "loop", "count": 3, "var": "i", "body": [{"op": "record", "key": "i", "value": "$i"}]},
    {"op": "set", "var": "n", "value": 0},
    {"op": "while", "cond": {"lt": ["$n", 4]}, "body": [{"op": "set", "var": "n", "value": {"add": ["$n", 1]}}]},
    {"op": "record", "key": "n", "value": "$n"},
    {"op": "if", "cond": {"lt": [1, 2]}, "then": [{"op": "record", "key": "cmp", "value": 1}]},
    {"op": "if", "cond": {"le": [2, 2]}, "then": [{"op": "record", "key": "cmp", "value": 2}]},
    {"op": "if", "cond": {"eq": [2, 3]}, "then": [{"op": "record", "key": "cmp", "value": -3}],
     "else": [{"op": "record", "key": "cmp", "value": 3}]},
    {"op": "if", "cond": {"ne": [2, 3]}, "then": [{"op": "record", "key": "cmp", "value": 4}]},
    {"op": "if", "cond": {"gt": [2, 3]}, "then": [{"op": "record", "key": "cmp", "value": -5}]},
    {"op": "if", "cond": {"ge": [3, 3]}, "then": [{"op": "record", "key": "cmp", "value": 6}]},
    {"op": "record", "key": "t0", "value": {"now_ms": true}},
    {"op": "compute", "ms": 20},
    {"op": "sleep", "ms": 30},
    {"op": "record", "key": "t1", "value": {"now_ms": true}},
    {"op": "loop", "count": 5, "var": "k", "body": [
      {"op": "if", "cond": {"eq": ["$k", 2]}, "then": [{"op": "exit"}]},
      {"op": "record", "key": "k", "value": "$k"}]},
    {"op": "record", "key": "after_exit", "value": 1}])");
  auto doc = scenario(manager, json::array(), json::array());
  doc["rdcs"][0]["primary"]["args"] = {7};
  auto run = run_json(doc, "op-values");
  EXPECT_EQ(run.values("x"), std::vector<double>{15});
  EXPECT_EQ(run.values("mod"), (std::vector<double>{2, 0}));
  EXPECT_EQ(run.values("noarg"), std::vector<double>{0});
  EXPECT_EQ(run.values("nohead"), std::vector<double>{0});
  EXPECT_EQ(run.values("i"), range(0, 3));
  EXPECT_EQ(run.values("n"), std::vector<double>{4});
  EXPECT_EQ(run.values("cmp"), (std::vector<double>{1, 2, 3, 4, 6}));
  ASSERT_EQ(run.values("t1").size(), 1u);
  EXPECT_GE(run.values("t1")[0] - run.values("t0")[0], 50);  // computed, then slept
  EXPECT_LT(run.values("t1")[0] - run.values("t0")[0], 60);
  EXPECT_EQ(run.values("k"), range(0, 2));  // exit ends the program, loops included
  EXPECT_TRUE(run.values("after_exit").empty());
}

TEST(OpProgram, MessagesServicesAndEvents) {
  // The primary invokes the server (doubling the header word in its reply), sends, asinvokes and
  // dgrams to it, waits for its asinvoke by event name, and talks to itself over a channel it
  // creates, found again through the name service.
  auto server = json::parse(R"({"text_kb": 8, "service": true, "program": {"ops": [
    {"op": "set", "var": "st", "value": 1},
    {"op": "while", "cond": {"ge": ["$st", 1]}, "body": [
      {"op": "receive", "port": "in", "msg": "m", "block_invoker": true, "timeout_ms": 2000, "status": "st"},
      {"op": "if", "cond": {"ge": ["$st", 1]}, "then": [
        {"op": "record", "key": "got", "value": {"head": ["m", 0]}},
        {"op": "record", "key": "status", "value": {"sub": [{"mul": [2, {"head": ["m", 0]}]}, "$st"]}},
        {"op": "reply", "msg": "m", "head": [{"mul": [{"head": ["m", 0]}, 2]}]}]}]}]}})");
  auto manager = json::parse(R"([
    {"op": "ss_get", "label": "svc", "as": "s"},
    {"op": "invoke", "stream": "s", "head": [21], "msg": "r"},
    {"op": "record", "key": "reply", "value": {"head": ["r", 0]}},
    {"op": "send", "stream": "s", "head": [5]},
    {"op": "asinvoke", "stream": "s", "head": [7], "bytes": 100},
    {"op": "event_wait", "timeout_ms": 5000, "types": ["asinvoke_done"], "status": "w", "event": "ev"},
    {"op": "dgram", "stream": "s", "head": [6]},
    {"op": "record", "key": "event", "value": "$ev"},
    {"op": "chan_create", "type": "unicast", "stream": "cs", "port": "cp"},
    {"op": "lookup", "service": "mine", "as": "none", "status": "found"},
    {"op": "record", "key": "found", "value": "$found"},
    {"op": "register", "service": "mine", "ref": "cs"},
    {"op": "lookup", "service": "mine", "as": "cs2", "status": "found"},
    {"op": "record", "key": "found", "value": "$found"},
    {"op": "send", "stream": "cs2", "head": [9]},
    {"op": "receive", "port": "cp", "msg": "own", "timeout_ms": 1000, "status": "st"},
    {"op": "record", "key": "own", "value": {"add": [{"mul": [10, {"head": ["own", 0]}]}, "$st"]}},
    {"op": "receive", "port": "cp", "msg": "none", "timeout_ms": 100, "status": "st"},
    {"op": "record", "key": "timeout", "value": "$st"}])");
  auto incs = json::parse(R"([{"name": "srv", "module": "server", "node": "kathleen2",
    "interfaces": [{"name": "in", "kind": "port", "label": "svc"}]}])");
  auto run = run_json(scenario(manager, incs, json::array(), {{"server", server}}), "op-messages");
  EXPECT_TRUE(run.summary.violations.empty());
  EXPECT_EQ(run.values("reply"), std::vector<double>{42});
  // The dgram last: the invariant checker counts it in the stream's order but never as received, so a
  // reliable message after it would be reported as overtaking it.
  EXPECT_EQ(run.values("got", "srv"), (std::vector<double>{21, 5, 7, 6}));
  auto statuses = run.values("status", "srv");  // 2 * word - status: a reply handle (> 1) for invocations
  ASSERT_EQ(statuses.size(), 4u);
  EXPECT_LT(statuses[0], 42 - 1);
  EXPECT_EQ(statuses[1], 10 - 1);
  EXPECT_EQ(statuses[2], 14 - 1);  // an asinvoke awaits no reply
  EXPECT_EQ(statuses[3], 12 - 1);
  EXPECT_EQ(run.values("event"), std::vector<double>{static_cast<double>(kernel::EvType::AsinvokeDone)});
  EXPECT_EQ(run.values("found"), (std::vector<double>{0, 1}));
  EXPECT_EQ(run.values("own"), std::vector<double>{91});
  EXPECT_EQ(run.values("timeout"), std::vector<double>{0});
}

TEST(OpProgram, CreateAndDestroy) {
  auto manager = json::parse(R"([
    {"op": "create", "module": "receiver", "node": "kathleen6", "args": [60000], "as": "child", "status": "c1",
     "interfaces": [{"name": "in", "kind": "port", "label": "c"}]},
    {"op": "record", "key": "created", "value": "$c1"},
    {"op": "sleep", "ms": 200},
    {"op": "destroy", "incarnation": "child", "status": "d"},
    {"op": "record", "key": "destroyed", "value": "$d"},
    {"op": "destroy", "incarnation": "child", "status": "d"},
    {"op": "record", "key": "again", "value": "$d"}])");
  auto run = run_json(scenario(manager, json::array(), json::array()), "op-create");
  EXPECT_EQ(run.values("created"), std::vector<double>{0});
  EXPECT_EQ(run.values("destroyed"), std::vector<double>{0});
  ASSERT_EQ(run.values("again").size(), 1u);
  EXPECT_LT(run.values("again")[0], 0);  // no such incarnation any more
  auto child = run.spans("child");
  ASSERT_EQ(child.size(), 1u);
  EXPECT_LT(child[0]["end_s"].get<double>(), 5);  // not its 60 s of receiving
}

TEST(OpProgram, ANegativeComputedNodeIsInvalidNotTheBroadcastAddress) {
  // Issue 14: node -1, computed at run time, was cast to unsigned and passed the kernel's check as -1 <
  // pool size, so the create was posted to the broadcast address (and a migrate to node -1 accepted).
  auto manager = json::parse(R"([
    {"op": "create", "module": "receiver", "node": {"sub": [0, 1]}, "args": [100], "as": "child",
     "status": "c", "interfaces": [{"name": "in", "kind": "port", "label": "c"}]},
    {"op": "record", "key": "created", "value": "$c"},
    {"op": "create", "module": "receiver", "node": "kathleen6", "args": [60000], "as": "ok", "status": "c2",
     "interfaces": [{"name": "in", "kind": "port", "label": "c2"}]},
    {"op": "migrate", "incarnation": "ok", "node": {"sub": [0, 1]}, "status": "m"},
    {"op": "record", "key": "migrated", "value": "$m"}])");
  auto run = run_json(scenario(manager, json::array(), json::array()), "op-node-minus-one");
  EXPECT_EQ(run.values("created"), std::vector<double>{kernel::E_INVAL});
  EXPECT_EQ(run.values("migrated"), std::vector<double>{kernel::E_INVAL});
  EXPECT_TRUE(run.spans("child").empty());
  EXPECT_EQ(run.spans("ok").size(), 1u);
}

TEST(OpProgram, ComputedOverflowStopsTheProgramNamingThePointer) {
  // Issue 14: {"mod": [INT64_MIN, -1]} raised SIGFPE and the others wrapped; now mod gives its true 0
  // and an overflow stops the program with an error naming the expression.
  auto manager = json::parse(R"([
    {"op": "set", "var": "min", "value": -9223372036854775808},
    {"op": "record", "key": "mod", "value": {"mod": ["$min", -1]}},
    {"op": "set", "var": "big", "value": 9223372036854775807},
    {"op": "record", "key": "before", "value": 1},
    {"op": "set", "var": "y", "value": {"add": [1, {"add": ["$big", 1]}]}},
    {"op": "record", "key": "after", "value": 1}])");
  auto run = run_json(scenario(manager, json::array(), json::array()), "op-overflow");
  EXPECT_EQ(run.values("mod"), std::vector<double>{0});
  EXPECT_EQ(run.values("before"), std::vector<double>{1});
  EXPECT_TRUE(run.values("after").empty());
  ASSERT_EQ(run.summary.errors.size(), 1u);
  EXPECT_EQ(
      run.summary.errors[0].rfind("op-overflow.json: /modules/manager/program/ops/4/value/add/1/add: integer "
                                  "overflow: add of 9223372036854775807 and 1 does not fit in 64 bits (at ",
                                  0),
      0u)
      << run.summary.errors[0];
}

TEST(OpProgram, ComputedSizeOutOfRangeStopsTheProgram) {
  // A -1 byte count became a 4 GiB buffer before the call failed.
  auto bytes = json::parse(R"([
    {"op": "send", "stream": "nowhere", "bytes": {"sub": [0, 1]}},
    {"op": "record", "key": "after", "value": 1}])");
  auto run = run_json(scenario(bytes, json::array(), json::array()), "op-bytes");
  EXPECT_TRUE(run.values("after").empty());
  ASSERT_EQ(run.summary.errors.size(), 1u);
  EXPECT_NE(
      run.summary.errors[0].find("op-bytes.json: /modules/manager/program/ops/0/bytes: computed value -1 is "
                                 "out of range [0, 4194304]"),
      std::string::npos)
      << run.summary.errors[0];
}

TEST(OpProgram, AsinvokeDataStaysTheCallersUntilTheCallCompletes) {
  // Two asinvokes on one stream, the second larger, both queued before the receiver (asleep) takes
  // either: the kernel fetches the first one's data from the caller after the second call. With one
  // buffer per stream the second call freed the first's (a heap use after free: garbage received).
  programs::register_program("zero_checker", [] {
    return kernel::Program([](kernel::Equus& eq) {
      int port = eq.inc_paramRef(0);
      eq.inc_sleep(300);
      std::vector<std::byte> buf(64 * 1024);
      for (int i = 0; i < 2; ++i) {
        std::fill(buf.begin(), buf.end(), std::byte{0xAA});
        kernel::Msg m;
        m.m_base = buf.data();
        m.m_cnt = static_cast<uint32_t>(buf.size());
        int rc = eq.inc_receive(port, &m, 0, 0, 2000);
        eq.record("received", rc);
        eq.record("bytes", m.m_cnt);
        eq.record("nonzero",
                  static_cast<double>(std::count_if(buf.begin(), buf.begin() + m.m_cnt,
                                                    [](std::byte b) { return b != std::byte{0}; })));
      }
    });
  });
  auto manager = json::parse(R"([
    {"op": "ss_get", "label": "bulk", "as": "out"},
    {"op": "asinvoke", "stream": "out", "head": [1], "bytes": 2000, "status": "a1"},
    {"op": "asinvoke", "stream": "out", "head": [2], "bytes": 60000, "status": "a2"},
    {"op": "record", "key": "status", "value": {"add": ["$a1", "$a2"]}},
    {"op": "loop", "count": 2, "body": [
      {"op": "event_wait", "timeout_ms": 5000, "types": ["asinvoke_done"], "status": "w"},
      {"op": "record", "key": "done", "value": "$w"}]}])");
  auto incs = json::parse(R"([{"name": "rx", "module": "checker", "node": "kathleen6",
    "interfaces": [{"name": "in", "kind": "port", "label": "bulk"}]}])");
  json checker = {{"text_kb", 8}, {"program", {{"cpp", "zero_checker"}}}};
  auto run = run_json(scenario(manager, incs, json::array(), {{"checker", checker}}), "op-asinvoke-buffers");
  EXPECT_TRUE(run.summary.violations.empty());
  EXPECT_EQ(run.values("status"), std::vector<double>{0});
  EXPECT_EQ(run.values("received", "rx"), (std::vector<double>{1, 1}));
  EXPECT_EQ(run.values("bytes", "rx"), (std::vector<double>{2000, 60000}));
  EXPECT_EQ(run.values("nonzero", "rx"), (std::vector<double>{0, 0}));  // the zeros the sender wrote
  EXPECT_EQ(run.values("done"), (std::vector<double>{1, 1}));
}

namespace {
/// Runs `ops` as the primary's program for 1 s of simulated time; the error its program stopped on.
std::string zero_time_loop_error(const char* ops_text) {
  auto doc = scenario(json::parse(ops_text), json::array(), json::array());
  doc["duration_s"] = 1;
  auto run = run_json(doc, "op-zero-time-loop");
  return run.summary.errors.empty() ? "(no error)" : run.summary.errors.front();
}
}  // namespace

// Without a step budget per simulated instant these loops never yield: the run never ends.

TEST(OpProgram, AWhileTakingNoSimulatedTimeStopsItsProgramNamingIt) {
  auto what = zero_time_loop_error(
      R"([{"op": "while", "cond": {"eq": [1, 1]}, "body": [{"op": "set", "var": "x", "value": 1}]}])");
  EXPECT_EQ(
      what.rfind("op-zero-time-loop.json: /modules/manager/program/ops/0: 1000000 ops at simulated time", 0),
      0u)
      << what;
  EXPECT_NE(what.find("programs.max_steps_per_instant"), std::string::npos) << what;
}

TEST(OpProgram, ANestedLoopTakingNoSimulatedTimeStopsItsProgramNamingIt) {
  auto what = zero_time_loop_error(R"([
    {"op": "compute", "ms": 5},
    {"op": "loop", "count": 3, "body": [
      {"op": "if", "cond": {"eq": [1, 1]}, "then": [
        {"op": "loop", "count": 2000000000, "var": "i", "body": [{"op": "set", "var": "k", "value": "$i"}]}]}]}])");
  EXPECT_EQ(what.rfind("op-zero-time-loop.json: /modules/manager/program/ops/1/body/0/then/0: ", 0), 0u)
      << what;
}

TEST(OpProgram, LimitsAreData) {
  EXPECT_EQ(programs::OpLimits::shipped().max_steps_per_instant, 1000000);
  EXPECT_THROW(programs::OpLimits::load("/nonexistent"), params::ParamError);
}

TEST(OpProgram, CallsThatCanFailGiveTheirStatusAndRecordIt) {
  // The server is gone when the primary invokes it: the call fails (after the kernel's retries) and
  // the program learns it; the reply it keeps is no reply (header words 0), not its own request.
  auto server = json::parse(R"({"text_kb": 8, "program": {"ops": []}})");
  auto manager = json::parse(R"([
    {"op": "ss_get", "label": "svc", "as": "s", "status": "g"},
    {"op": "sleep", "ms": 500},
    {"op": "invoke", "stream": "s", "head": [21], "msg": "r", "status": "st"},
    {"op": "record", "key": "get", "value": "$g"},
    {"op": "record", "key": "invoke", "value": "$st"},
    {"op": "record", "key": "reply", "value": {"head": ["r", 0]}},
    {"op": "send", "stream": "nothing", "status": "st"},
    {"op": "record", "key": "send", "value": "$st"},
    {"op": "reply", "msg": "none", "status": "st"},
    {"op": "record", "key": "reply_status", "value": "$st"}])");
  auto incs = json::parse(R"([{"name": "srv", "module": "server", "node": "kathleen2",
    "interfaces": [{"name": "in", "kind": "port", "label": "svc"}]}])");
  auto doc = scenario(manager, incs, json::array(), {{"server", server}});
  doc["duration_s"] = 60;
  auto run = run_json(doc, "op-invoke-status");
  EXPECT_EQ(run.values("get"), std::vector<double>{kernel::E_OK});
  ASSERT_EQ(run.values("invoke").size(), 1u);
  EXPECT_LT(run.values("invoke")[0], 0);
  EXPECT_EQ(run.values("reply"), std::vector<double>{0});
  EXPECT_EQ(run.values("send"), std::vector<double>{kernel::E_BADREF});
  EXPECT_EQ(run.values("reply_status"), std::vector<double>{kernel::E_BADREF});
  // Failed calls are in the results even when the program ignores their status.
  EXPECT_EQ(run.values("op_failed:invoke"), run.values("invoke"));
  EXPECT_EQ(run.values("op_failed:send"), run.values("send"));
  EXPECT_TRUE(run.values("op_failed:reply").empty());  // no call made: a program's slip, not a failure
}

}  // namespace equus::test
