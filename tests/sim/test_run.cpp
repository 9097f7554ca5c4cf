// Scenario runs: the timed events that reconfigure and migrate (performed by the launch program with
// handles from the RDC's stream space), what the results record of them, and the invariant check
// that fails a run.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "models/kernel/kernel.hpp"
#include "tests/support/scenario_run.hpp"

using nlohmann::json;

namespace equus::test {

namespace {

/// A scenario with one RDC on kathleen1, kathleen2 and kathleen6: `incarnations` and `events` vary.
/// receiver [idle ms, ms per message]: records "got" for each message until idle; sender [count,
/// gap ms, first value]: sends numbered messages, recording "sent" after each.
json scenario(const json& incarnations, const json& events, const json& primary_ops = json::array(),
              const json& channels = json::array()) {
  auto doc = json::parse(R"({
    "name": "events", "duration_s": 20,
    "modules": {
      "receiver": {"text_kb": 8, "program": {"ops": [
        {"op": "set", "var": "st", "value": 1},
        {"op": "while", "cond": {"eq": ["$st", 1]}, "body": [
          {"op": "receive", "port": "in", "msg": "m", "timeout_ms": {"arg": 0}, "status": "st"},
          {"op": "if", "cond": {"eq": ["$st", 1]}, "then": [
            {"op": "record", "key": "got", "value": {"head": ["m", 0]}},
            {"op": "compute", "ms": {"arg": 1}}]}]}]}},
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
  doc["rdcs"][0]["incarnations"] = incarnations;
  doc["rdcs"][0]["channels"] = channels;
  doc["events"] = events;
  return doc;
}

json receiver(const std::string& name, const std::string& node, const std::string& label, int idle_ms,
              int ms_per_message = 0, const std::string& handle = "") {
  json port = {{"name", "in"}, {"kind", "port"}, {"label", label}, {"chan", "new"}};
  if (!handle.empty()) port["handle"] = handle;
  return {{"name", name},
          {"module", "receiver"},
          {"node", node},
          {"args", {idle_ms, ms_per_message}},
          {"interfaces", {port}}};
}

json sender(const std::string& name, const std::string& node, const std::string& label, int count, int gap_ms,
            int first = 0, const std::string& handle = "") {
  json stream = {{"name", "out"}, {"kind", "stream"}, {"label", label}};
  if (!handle.empty()) stream["handle"] = handle;
  return {{"name", name},
          {"module", "sender"},
          {"node", node},
          {"args", {count, gap_ms, first}},
          {"interfaces", {stream}}};
}

std::vector<double> range(int from, int to) {
  std::vector<double> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

const json* reconfiguration(const Run& run, const std::string& kind) {
  for (const auto& c : run.results["reconfigurations"]["calls"])
    if (c["kind"] == kind) return &c;
  return nullptr;
}

/// Two receivers on their own channels, the first slow (a queue builds up at it), and a sender on the
/// first's channel: the reconfiguration of the attach_port tests.
json attach_scenario() {
  return scenario(
      {receiver("rx1", "kathleen2", "c1", 800, 30, "rx1.han"),
       receiver("rx2", "kathleen6", "c2", 1500, 0, "rx2.han"), sender("tx", "kathleen1", "c1", 60, 10)},
      json::parse(R"([{"at": 0.6, "type": "attach_port", "rdc": "r", "port": "rx2.han",
                                    "channel": "c1", "detach": "rx1.han"}])"));
}

}  // namespace

TEST(RunEvents, MigrateMovesAnIncarnationAndRecordsItsPhases) {
  auto run =
      run_json(scenario({receiver("rx", "kathleen2", "c1", 1500), sender("tx", "kathleen6", "c1", 100, 10)},
                        json::parse(R"([{"at": 0.6, "type": "migrate", "rdc": "r",
                                                 "incarnation": "rx", "node": "kathleen1"}])")),
               "ev-migrate");
  EXPECT_TRUE(run.summary.violations.empty());
  EXPECT_EQ(run.values("got", "rx"), range(0, 100));  // transparent to the sender, in order
  auto spans = run.spans("rx");
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]["node"], "kathleen2");
  EXPECT_EQ(spans[0]["end_reason"], "migrated");
  EXPECT_EQ(spans[1]["node"], "kathleen1");
  EXPECT_EQ(spans[1]["end_reason"], "exited");
  EXPECT_EQ(spans[1]["start_s"], spans[0]["end_s"]);
  ASSERT_EQ(run.results["migrations"].size(), 1u);
  const auto& m = run.results["migrations"][0];
  EXPECT_EQ(m["name"], "rx");
  EXPECT_EQ(m["from"], "kathleen2");
  EXPECT_EQ(m["to"], "kathleen1");
  EXPECT_GE(m["start_s"].get<double>(), 0.6);
  EXPECT_LE(m["start_s"].get<double>(), m["pincdata_s"].get<double>());
  EXPECT_LE(m["pincdata_s"].get<double>(), m["text_s"].get<double>());
  EXPECT_LE(m["text_s"].get<double>(), m["frozen_s"].get<double>());
  EXPECT_LT(m["frozen_s"].get<double>(), m["restart_s"].get<double>());
  EXPECT_GT(m["bytes"].get<double>(), 8 * 1024);  // at least its text
  EXPECT_GT(m["freeze_ms"].get<double>(), 0);
  // Section 7.4.5: tens of milliseconds for a small incarnation.
  EXPECT_GT(m["elapsed_ms"].get<double>(), 10);
  EXPECT_LT(m["elapsed_ms"].get<double>(), 200);
  const auto* r = reconfiguration(run, "migrate");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["origin"], "event");
  EXPECT_EQ((*r)["status"], 0);
  EXPECT_EQ((*r)["name"], "launch");
  // The trace shows it on the destination's "migrations" thread, with its phases.
  auto trace = json::parse(slurp(run.dir + "/trace.json"));
  int migration_slices = 0;
  for (const auto& e : trace["traceEvents"]) migration_slices += e.value("cat", "") == "migration";
  EXPECT_GE(migration_slices, 3);
  EXPECT_NE(slurp(run.dir + "/migrations.csv").find("rx,kathleen2,kathleen1"), std::string::npos);
}

TEST(RunEvents, AttachPortMovesTheQueueAndLaterMessages) {
  auto run = run_json(attach_scenario(), "ev-attach");
  EXPECT_TRUE(run.summary.violations.empty());
  auto at1 = run.values("got", "rx1"), at2 = run.values("got", "rx2");
  ASSERT_FALSE(at2.empty());
  std::multiset<double> all(at1.begin(), at1.end());
  all.insert(at2.begin(), at2.end());
  EXPECT_EQ(std::vector<double>(all.begin(), all.end()), range(0, 60));  // each exactly once
  EXPECT_TRUE(std::is_sorted(at2.begin(), at2.end()));
  EXPECT_LT(at1.back(), at2.front());  // rx1's queue went to rx2 in order
  const auto* r = reconfiguration(run, "attach_port");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["status"], 0);
  EXPECT_EQ((*r)["detail"], "rx2.han to channel c1, detaching rx1.han");
  EXPECT_GT((*r)["forwarded"].get<long>(), 0);  // the queue built up at the slow receiver
  EXPECT_GE(run.results["reconfigurations"]["forwarded"].get<long>(), (*r)["forwarded"].get<long>());
  // Nothing reached rx1 after the attachment returned, except at most the receive in progress when
  // the detaching ghost took the processor: it returns once the ghost is done, which can be after the
  // attaching side has answered.
  double attached = (*r)["end_s"];
  int late = 0;
  for (const auto& g : run.records("got"))
    if (g["incarnation"].get<uint64_t>() == run.id("rx1")) late += g["time_s"].get<double>() > attached;
  EXPECT_LE(late, 1);
}

TEST(RunEvents, RebindStreamMovesOneSendersMessagesOnly) {
  auto run =
      run_json(scenario({receiver("rx1", "kathleen2", "c1", 800, 30, "rx1.han"),
                         receiver("rx2", "kathleen6", "c2", 1500),
                         sender("tx1", "kathleen1", "c1", 40, 10, 0, "tx1.out"),
                         sender("tx2", "kathleen1", "c1", 40, 10, 1000)},
                        json::parse(R"([{"at": 0.6, "type": "rebind_stream", "rdc": "r", "stream": "tx1.out",
                                                 "channel": "c2", "forward_from": "rx1.han"}])")),
               "ev-rebind");
  EXPECT_TRUE(run.summary.violations.empty());
  auto at1 = run.values("got", "rx1"), at2 = run.values("got", "rx2");
  std::multiset<double> all(at1.begin(), at1.end());
  all.insert(at2.begin(), at2.end());
  auto expected = range(0, 40);
  auto second = range(1000, 1040);
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(std::vector<double>(all.begin(), all.end()), expected);
  ASSERT_FALSE(at2.empty());
  for (double v : at2) EXPECT_LT(v, 1000) << "tx2's stream was not rebound";
  double last_tx1_at_rx1 = -1;
  for (double v : at1)
    if (v < 1000) last_tx1_at_rx1 = v;
  EXPECT_LT(last_tx1_at_rx1, at2.front());  // its queued messages were forwarded, in order
  EXPECT_TRUE(std::is_sorted(at2.begin(), at2.end()));
  const auto* r = reconfiguration(run, "rebind_stream");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["status"], 0);
}

TEST(RunEvents, FrozenStreamHoldsItsSenderUntilUnfrozen) {
  auto run = run_json(
      scenario(
          {receiver("rx", "kathleen2", "c1", 1500), sender("tx", "kathleen6", "c1", 60, 10, 0, "tx.out")},
          json::parse(R"([{"at": 0.5, "type": "freeze_stream", "rdc": "r", "stream": "tx.out"},
                                                {"at": 0.9, "type": "unfreeze_stream", "rdc": "r", "stream": "tx.out"}])")),
      "ev-freeze");
  EXPECT_TRUE(run.summary.violations.empty());
  EXPECT_EQ(run.values("got", "rx"), range(0, 60));
  std::vector<double> sent;
  for (const auto& s : run.records("sent")) sent.push_back(s["time_s"]);
  ASSERT_EQ(sent.size(), 60u);
  ASSERT_LT(sent.front(), 0.5);  // the sender was running when frozen
  double longest = 0, resumed = 0;
  for (std::size_t i = 1; i < sent.size(); ++i)
    if (sent[i] - sent[i - 1] > longest) {
      longest = sent[i] - sent[i - 1];
      resumed = sent[i];
    }
  EXPECT_GT(longest, 0.3);  // held from about 0.5 s
  EXPECT_GE(resumed, 0.9);  // until unfrozen
  EXPECT_TRUE(reconfiguration(run, "freeze_stream"));
  EXPECT_TRUE(reconfiguration(run, "unfreeze_stream"));
}

TEST(RunEvents, WithdrawalNoticeMigratesAwayAndNotifiesTheManager) {
  auto primary = json::parse(R"([
    {"op": "receive", "port": "notices", "msg": "n"},
    {"op": "record", "key": "notice", "value": {"head": ["n", 0]}},
    {"op": "record", "key": "notice_node", "value": {"head": ["n", 1]}},
    {"op": "record", "key": "notice_ms", "value": {"head": ["n", 2]}}])");
  auto run =
      run_json(scenario({receiver("rx", "kathleen6", "c1", 1500), sender("tx", "kathleen2", "c1", 100, 10)},
                        json::parse(R"([{"at": 0.5, "type": "withdraw_node", "rdc": "r", "node": "kathleen6",
                                                 "notice_s": 0.5, "migrate_to": "kathleen2", "notify": "notices"}])"),
                        primary, json::parse(R"([{"label": "notices"}])")),
               "ev-withdraw");
  EXPECT_TRUE(run.summary.violations.empty());
  EXPECT_EQ(run.values("notice"), std::vector<double>{1});
  EXPECT_EQ(run.values("notice_node"), std::vector<double>{5});  // kathleen6's pool index
  EXPECT_EQ(run.values("notice_ms"), std::vector<double>{500});
  auto spans = run.spans("rx");
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]["node"], "kathleen6");
  EXPECT_LT(spans[0]["end_s"].get<double>(), 1.0);  // before the notice expired
  EXPECT_EQ(spans[1]["node"], "kathleen2");
  EXPECT_EQ(spans[1]["end_reason"], "exited");  // it finished its work there
  EXPECT_EQ(run.values("got", "rx"), range(0, 100));
  const auto* r = reconfiguration(run, "migrate");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["detail"], "rx to kathleen2 (withdrawal notice for kathleen6)");
  for (const auto& s : run.results["incarnations"])
    if (s["rdc"] == "r" && !s["end_reason"].is_null()) {
      EXPECT_NE(s["end_reason"], "killed") << s["name"];
    }
}

TEST(RunEvents, InvariantViolationsFailTheRun) {
  // The attach_port scenario with forwarding broken on purpose: the run must say so.
  auto run = run_json(attach_scenario(), "ev-broken",
                      [](kernel::System& sys) { sys.network().skip_forwarding = true; });
  ASSERT_FALSE(run.summary.violations.empty());
  ASSERT_FALSE(run.results["invariant_violations"].empty());
  EXPECT_NE(run.results["invariant_violations"][0].get<std::string>().find("port attachment"),
            std::string::npos);
}

}  // namespace equus::test

namespace equus::test {

TEST(RunEnd, ADeadlockEndsTheRunAtOnceAndSaysWhoWaitsOnWhat) {
  // Issue 14: two incarnations each inc_invoke the other and neither receives. Nothing can happen
  // again, though the kernels' retries probe for ever and the time daemons tick: the run ends within
  // seconds (not at its 10^6 s duration), reports a deadlock with the scenario's names, and
  // results.json keeps the waiters.
  auto peer = json::parse(R"({"text_kb": 8, "program": {"ops": [
    {"op": "compute", "ms": 5},
    {"op": "invoke", "stream": "out", "head": [1], "msg": "reply"},
    {"op": "record", "key": "answered", "value": 1}]}})");
  auto incs = json::parse(R"([
    {"name": "alice", "module": "peer", "node": "kathleen2", "interfaces": [
      {"name": "in", "kind": "port", "label": "to_alice"}, {"name": "out", "kind": "stream", "label": "to_bob"}]},
    {"name": "bob", "module": "peer", "node": "kathleen6", "interfaces": [
      {"name": "in", "kind": "port", "label": "to_bob"}, {"name": "out", "kind": "stream", "label": "to_alice"}]}])");
  auto doc = scenario(incs, json::array());
  doc["modules"]["peer"] = peer;
  doc["duration_s"] = 1e6;
  auto run = run_json(doc, "end-deadlock");
  EXPECT_EQ(run.summary.end_reason, "deadlock");
  EXPECT_LT(run.summary.end_time, 5);
  EXPECT_TRUE(run.values("answered").empty());
  EXPECT_EQ(run.results["end_reason"], "deadlock");
  std::set<std::string> waiting;
  for (const auto& w : run.results["waiting"]) {
    waiting.insert(w["incarnation"].get<std::string>());
    EXPECT_EQ(w["rdc"], "r");
    EXPECT_TRUE(w["on_others"].get<bool>());
    EXPECT_NE(w["waits_on"].get<std::string>().find("the answer to an invocation over its stream"), std::string::npos) << w.dump();
  }
  EXPECT_EQ(waiting, (std::set<std::string>{"alice", "bob"}));
  ASSERT_EQ(run.summary.failures.size(), 2u);  // a warning each (an error with --strict)
  EXPECT_NE(run.summary.failures[0].find("deadlock: alice (rdc r) at kathleen2 waits for ever on"),
            std::string::npos)
      << run.summary.failures[0];
  EXPECT_NE(run.summary.blocked.find("bob (rdc r) at kathleen6"), std::string::npos) << run.summary.blocked;
}

TEST(RunEnd, WaitingOnAServerThatComputesIsNoDeadlock) {
  // A client blocked in invoke while its server computes for 4 s (longer than the deadlock grace):
  // the server can act, so the run goes on until the reply, then finishes.
  auto modules = json::parse(R"({
    "slow": {"text_kb": 8, "program": {"ops": [
      {"op": "receive", "port": "in", "msg": "m", "block_invoker": true},
      {"op": "compute", "ms": 4000},
      {"op": "reply", "msg": "m", "head": [7]}]}},
    "client": {"text_kb": 8, "program": {"ops": [
      {"op": "invoke", "stream": "out", "head": [1], "msg": "r"},
      {"op": "record", "key": "answered", "value": {"head": ["r", 0]}}]}}})");
  auto incs = json::parse(R"([
    {"name": "server", "module": "slow", "node": "kathleen2", "interfaces": [
      {"name": "in", "kind": "port", "label": "s"}]},
    {"name": "c", "module": "client", "node": "kathleen6", "interfaces": [
      {"name": "out", "kind": "stream", "label": "s"}]}])");
  auto doc = scenario(incs, json::array());
  for (const auto& [name, m] : modules.items()) doc["modules"][name] = m;
  auto run = run_json(doc, "end-slow-server");
  EXPECT_EQ(run.summary.end_reason, "finished");
  EXPECT_EQ(run.values("answered"), std::vector<double>{7});
  EXPECT_TRUE(run.summary.failures.empty());
}

}  // namespace equus::test
