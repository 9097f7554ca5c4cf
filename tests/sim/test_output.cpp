// Outputs from a Recorder filled by hand (no simulation): results files, trace, configuration graph.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sim/output/graph.hpp"
#include "sim/output/recorder.hpp"
#include "sim/output/results.hpp"
#include "sim/output/trace.hpp"

namespace equus::test {

namespace fs = std::filesystem;
using kernel::MessageKind;
using nlohmann::json;
using sim::Recorder;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> read_lines(const fs::path& p) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(p));
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

/// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            fmt::format("equus-test-output-{}-{}-{}", info->test_suite_name(), info->name(), ::getpid());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// Printer (node 0) and client (node 1) share channel 100; temp (node 2) ended at 1.0 with a port on
/// multicast channel 200; mover migrated from node 0 to node 1 at 0.8; client's stream to 300 closed at 1.5.
/// Mover and client were made by a loader (EV_INC_MADE), created by calls at 0.25 and 0.375.
class Output : public ::testing::Test {
 protected:
  void SetUp() override {
    rec.set_clock([this] { return now; });
    rec.set_node_names({"kathleen1", "kathleen2", "kathleen3"});
    rec.set_channel_type(200, true);

    rec.incarnation_created(1, "printer", "office", "printer_mod", 0, 0.0);
    now = 0.1;
    rec.port_attached(1, 100, "print");
    rec.incarnation_created(3, "temp", "office", "temp_mod", 2, 0.2);
    now = 0.3;
    rec.port_attached(3, 200, "news");
    rec.incarnation_created(4, "mover", "office", "mover_mod", 0, 0.3);
    rec.incarnation_made(4, 0.25, 0.375);
    rec.incarnation_created(2, "client", "office", "client_mod", 1, 0.5);
    rec.incarnation_made(2, 0.375, 0.625);
    now = 0.6;
    rec.stream_attached(2, 100, "out");
    now = 0.7;
    rec.stream_attached(2, 300, "log");
    rec.incarnation_ended(4, 0.8, "migrated");
    rec.incarnation_created(4, "mover", "office", "mover_mod", 1, 0.8);
    rec.incarnation_ended(3, 1.0, "exit");
    now = 1.5;
    rec.reference_closed(2, 300);

    rec.call(2, "inc_invoke", 0.6, 0.603);
    rec.call(2, "inc_invoke", 0.7, 0.705);
    rec.call(1, "inc_receive", 0.1, 0.6);
    rec.call(1, "inc_sleep", 0.5, 0.8);  // overlaps inc_receive without nesting: another lane
    rec.call(1, "inc_reply", 0.61, 0.612);

    rec.kernel_message(7, MessageKind::Invocation, 1, 0, 0.6001, 0.6012);
    rec.kernel_message(9, MessageKind::Ack, 0, 1, 0.6015, 0.6025);
    rec.kernel_message(8, MessageKind::Reply, 0, 1, 0.6015, 0.6026);  // same instant: shared anchor

    rec.record(999, "orphan", 2, 0.9);
    rec.record(1, "printed", 1, 0.61);
    rec.node_load(1, 0.25, 1.0);
    rec.node_load(0, 0.5, 1.0);
    now = 2.0;
  }

  Recorder rec;
  double now = 0;
};

std::pair<int, int> track_of(const json& e) { return {e["pid"].get<int>(), e["tid"].get<int>()}; }

}  // namespace

TEST_F(Output, ResultsCsvHeadersAndRows) {
  TempDir dir;
  sim::write_results(rec, dir.path().string(), "demo", 42, sim::RunEnd{2.0, "finished", {}});
  for (const char* f :
       {"results.json", "incarnations.csv", "calls.csv", "records.csv", "node_load.csv", "messages.csv"})
    ASSERT_TRUE(fs::exists(dir.path() / f)) << f;

  auto inc = read_lines(dir.path() / "incarnations.csv");
  ASSERT_EQ(inc.size(), 6u);  // header + 5 spans (mover twice)
  EXPECT_EQ(inc[0], "id,name,rdc,module,node,start_s,end_s,end_reason,made_s,creation_ms");
  EXPECT_EQ(inc[1], "1,printer,office,printer_mod,kathleen1,0,,,,");
  EXPECT_EQ(inc[2], "3,temp,office,temp_mod,kathleen3,0.2,1,exit,,");
  EXPECT_EQ(inc[3], "4,mover,office,mover_mod,kathleen1,0.3,0.8,migrated,0.375,125");
  EXPECT_EQ(inc[4], "2,client,office,client_mod,kathleen2,0.5,,,0.625,250");
  EXPECT_EQ(inc[5], "4,mover,office,mover_mod,kathleen2,0.8,,,,");  // made once, at its first node

  auto calls = read_lines(dir.path() / "calls.csv");
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[0], "incarnation,name,call,count,mean_ms,min_ms,max_ms");
  auto invoke = split(calls[4]);
  ASSERT_EQ(invoke.size(), 7u);
  EXPECT_EQ(invoke[0], "2");
  EXPECT_EQ(invoke[1], "client");
  EXPECT_EQ(invoke[2], "inc_invoke");
  EXPECT_EQ(invoke[3], "2");
  EXPECT_NEAR(std::stod(invoke[4]), 4.0, 1e-9);
  EXPECT_NEAR(std::stod(invoke[5]), 3.0, 1e-9);
  EXPECT_NEAR(std::stod(invoke[6]), 5.0, 1e-9);

  auto records = read_lines(dir.path() / "records.csv");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], "time_s,incarnation,key,value");
  EXPECT_EQ(records[1], "0.61,1,printed,1");
  EXPECT_EQ(records[2], "0.9,999,orphan,2");

  auto load = read_lines(dir.path() / "node_load.csv");
  ASSERT_EQ(load.size(), 3u);
  EXPECT_EQ(load[0], "time_s,node,load");
  EXPECT_EQ(load[1], "1,kathleen1,0.5");
  EXPECT_EQ(load[2], "1,kathleen2,0.25");

  auto msgs = read_lines(dir.path() / "messages.csv");
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[0], "id,kind,src_node,dst_node,sent_s,accepted_s");
  EXPECT_EQ(msgs[1], "7,invocation,kathleen2,kathleen1,0.6001,0.6012");
  EXPECT_EQ(msgs[2], "8,reply,kathleen1,kathleen2,0.6015,0.6026");  // ties by id
  EXPECT_EQ(msgs[3], "9,ack,kathleen1,kathleen2,0.6015,0.6025");

  auto doc = json::parse(read_file(dir.path() / "results.json"));
  EXPECT_EQ(doc["scenario"], "demo");
  EXPECT_EQ(doc["seed"], 42);
  EXPECT_EQ(doc["end_time"], 2.0);
  EXPECT_EQ(doc["incarnations"].size(), 5u);
  EXPECT_TRUE(doc["incarnations"][0]["end_s"].is_null());
  EXPECT_EQ(doc["incarnations"][1]["end_reason"], "exit");
  EXPECT_TRUE(doc["incarnations"][0]["made_s"].is_null());
  EXPECT_TRUE(doc["incarnations"][0]["creation_ms"].is_null());
  EXPECT_EQ(doc["incarnations"][3]["made_s"], 0.625);
  EXPECT_EQ(doc["incarnations"][3]["creation_ms"], 250);
  EXPECT_EQ(doc["calls"].size(), 4u);
  EXPECT_EQ(doc["records"].size(), 2u);
  EXPECT_EQ(doc["node_load"].size(), 2u);
  EXPECT_EQ(doc["messages"]["count"], 3);
  EXPECT_EQ(doc["nodes"][2]["name"], "kathleen3");
}

TEST_F(Output, ResultsAreDeterministic) {
  TempDir dir;
  sim::write_results(rec, (dir.path() / "a").string(), "demo", 1, sim::RunEnd{2.0, "finished", {}});
  sim::write_results(rec, (dir.path() / "b").string(), "demo", 1, sim::RunEnd{2.0, "finished", {}});
  for (const char* f : {"results.json", "incarnations.csv", "calls.csv", "messages.csv"})
    EXPECT_EQ(read_file(dir.path() / "a" / f), read_file(dir.path() / "b" / f)) << f;
}

TEST_F(Output, TraceIsWellFormed) {
  TempDir dir;
  auto path = dir.path() / "trace.json";
  sim::write_trace(rec, path.string());
  auto doc = json::parse(read_file(path));
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["displayTimeUnit"], "ms");
  ASSERT_TRUE(doc["traceEvents"].is_array());
  const auto& events = doc["traceEvents"];

  std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> slices;  // (pid, tid) -> X
  std::map<long, std::pair<int, int>> flows;                                     // id -> #s, #f
  std::set<std::string> process_names, thread_names;
  std::map<std::string, std::set<std::pair<int, int>>> call_threads;
  int counters = 0, instants = 0;
  for (const auto& e : events) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid") && e.contains("ts")) << e.dump();
    ASSERT_TRUE(e["ts"].is_number()) << e.dump();
    EXPECT_GE(e["ts"].get<double>(), 0) << e.dump();
    std::string ph = e["ph"];
    if (ph == "X") {
      ASSERT_TRUE(e["dur"].is_number()) << e.dump();
      EXPECT_GE(e["dur"].get<double>(), 0) << e.dump();
      double ts = e["ts"], dur = e["dur"];
      slices[track_of(e)].emplace_back(ts, ts + dur);
      if (e["cat"] == "call") call_threads[e["name"]].insert(track_of(e));
    } else if (ph == "s" || ph == "f") {
      EXPECT_EQ(e["cat"], "kmsg");
      auto& f = flows[e["id"].get<long>()];
      (ph == "s" ? f.first : f.second)++;
      if (ph == "f") {
        EXPECT_EQ(e["bp"], "e");
      }
    } else if (ph == "M") {
      if (e["name"] == "process_name") process_names.insert(e["args"]["name"]);
      if (e["name"] == "thread_name") thread_names.insert(e["args"]["name"]);
    } else if (ph == "C") {
      ++counters;
    } else if (ph == "i") {
      ++instants;
    }
  }
  EXPECT_EQ(flows.size(), 3u);
  for (const auto& [id, f] : flows) EXPECT_EQ(f, std::make_pair(1, 1)) << "flow " << id;
  EXPECT_EQ(counters, 2);
  EXPECT_EQ(instants, 2);
  EXPECT_TRUE(process_names.count("kathleen1") && process_names.count("kathleen2") &&
              process_names.count("kathleen3"));
  EXPECT_TRUE(thread_names.count("printer #1") && thread_names.count("kernel"));
  // The overlapping calls of printer are on different threads, so each thread's slices nest.
  ASSERT_EQ(call_threads["inc_receive"].size(), 1u);
  EXPECT_NE(*call_threads["inc_receive"].begin(), *call_threads["inc_sleep"].begin());
  for (auto& [track, xs] : slices) {
    std::sort(xs.begin(), xs.end(), [](auto& a, auto& b) {
      return a.first < b.first || (a.first == b.first && a.second > b.second);
    });
    std::vector<double> open;
    for (const auto& [b, e] : xs) {
      while (!open.empty() && open.back() <= b) open.pop_back();
      if (!open.empty()) {
        EXPECT_LE(e, open.back() + 1e-6) << "pid " << track.first << " tid " << track.second;
      }
      open.push_back(e);
    }
  }
  // Every flow point lies strictly inside a kernel slice on its own track.
  for (const auto& e : events) {
    if (e["ph"] != "s" && e["ph"] != "f") continue;
    double ts = e["ts"];
    const auto& xs = slices[track_of(e)];
    EXPECT_TRUE(std::any_of(xs.begin(), xs.end(), [&](auto& x) { return x.first < ts && ts < x.second; }))
        << e.dump();
  }
}

TEST_F(Output, GraphAtTimeShowsLiveConfiguration) {
  auto g = sim::configuration_graph(rec, 2.0);
  EXPECT_EQ(boost::num_vertices(g), 4u);  // printer, client, mover; channel 100
  EXPECT_EQ(boost::num_edges(g), 2u);

  std::string dot = sim::configuration_dot(rec, 2.0);
  EXPECT_NE(dot.find("digraph"), std::string::npos);
  EXPECT_NE(dot.find("i1[label=\"office/printer@kathleen1\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("i2[label=\"office/client@kathleen2\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("i4[label=\"office/mover@kathleen2\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("c100[label=\"print\", shape=diamond]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("c100->i1"), std::string::npos) << dot;
  EXPECT_NE(dot.find("i2->c100"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"node\"=\"kathleen1\""), std::string::npos) << dot;
  EXPECT_EQ(dot.find("i3"), std::string::npos) << "temp ended at 1.0\n" << dot;
  EXPECT_EQ(dot.find("temp"), std::string::npos) << dot;
  EXPECT_EQ(dot.find("c200"), std::string::npos) << dot;
  EXPECT_EQ(dot.find("c300"), std::string::npos) << "closed at 1.5\n" << dot;

  std::string mid = sim::configuration_dot(rec, 0.9);
  EXPECT_NE(mid.find("i3[label=\"office/temp@kathleen3\""), std::string::npos) << mid;
  EXPECT_NE(mid.find("c200[label=\"news\", shape=doubleoctagon]"), std::string::npos) << mid;
  EXPECT_NE(mid.find("i2->c300"), std::string::npos) << mid;
}

TEST_F(Output, GraphBeforeAttachmentHasNoChannels) {
  auto g = sim::configuration_graph(rec, 0.05);
  EXPECT_EQ(boost::num_vertices(g), 1u);
  EXPECT_EQ(boost::num_edges(g), 0u);
  TempDir dir;
  auto path = dir.path() / "graph.dot";
  sim::write_graph(rec, 0.05, path.string());
  EXPECT_NE(read_file(path).find("printer@kathleen1"), std::string::npos);
}

TEST(OutputEmpty, EmptyRecorderGivesValidOutputs) {
  Recorder rec;
  TempDir dir;
  sim::write_results(rec, dir.path().string(), "empty", 1, sim::RunEnd{0.0, "finished", {}});
  auto doc = json::parse(read_file(dir.path() / "results.json"));
  EXPECT_TRUE(doc["incarnations"].empty());
  EXPECT_TRUE(doc["calls"].is_array());
  EXPECT_TRUE(doc["records"].is_array());
  EXPECT_TRUE(doc["node_load"].is_array());
  EXPECT_EQ(read_lines(dir.path() / "messages.csv").size(), 1u);
  EXPECT_EQ(read_lines(dir.path() / "incarnations.csv").size(), 1u);

  auto trace = dir.path() / "trace.json";
  sim::write_trace(rec, trace.string());
  auto t = json::parse(read_file(trace));
  ASSERT_TRUE(t["traceEvents"].is_array());
  EXPECT_TRUE(t["traceEvents"].empty());

  std::string dot = sim::configuration_dot(rec, 0.0);
  EXPECT_NE(dot.find("digraph"), std::string::npos);
  EXPECT_EQ(dot.find("->"), std::string::npos);
}

}  // namespace equus::test

namespace equus::test {

// Migrations and reconfigurations: the hosting split at the restart, their rows in the results and
// their events in the trace.
TEST(OutputReconfiguration, MigrationsAndReconfigurationsAreWritten) {
  Recorder rec;
  double now = 0;
  long forwarded = 5;
  rec.set_clock([&] { return now; });
  rec.set_node_names({"kathleen1", "kathleen2"});
  rec.set_forwarding_counter([&] { return sim::ForwardingCounts{forwarded, 0, 1}; });
  rec.incarnation_created(5, "worker#7", "text", "worker", 0, 0.1);
  rec.incarnation_made(5, 0, 0.15);
  rec.name_incarnation(5, "worker2");
  now = 0.2;
  auto token = rec.begin_reconfiguration({"rebind_stream", 5, "program", "worker3 to printer2"});
  forwarded = 8;
  now = 0.25;
  rec.end_reconfiguration(token, 0);
  rec.migration({5, 0, 1, 0.5, 0.52, 0.55, 0.56, 0.6, 65536, 1, 3});
  rec.incarnation_ended(5, 1.0, "exited");
  rec.set_forwarding_totals({{1, 0, 0}, {0, 0, 0}, {2, 1, 4}});
  rec.set_violations({"stream 0x1: message #3 lost"});
  now = 1.0;

  ASSERT_EQ(rec.spans().size(), 2u);
  EXPECT_EQ(rec.spans()[0].name, "worker2");
  EXPECT_EQ(rec.spans()[0].node, 0);
  EXPECT_EQ(rec.spans()[0].end, 0.6);
  EXPECT_EQ(rec.spans()[0].why, "migrated");
  EXPECT_EQ(rec.spans()[1].node, 1);
  EXPECT_EQ(rec.spans()[1].start, 0.6);
  EXPECT_EQ(rec.spans()[1].why, "exited");
  EXPECT_EQ(rec.spans()[0].made, 0.15);
  EXPECT_FALSE(rec.spans()[1].was_made());  // the migration moved it, no loader made it again

  TempDir dir;
  sim::write_results(rec, dir.path().string(), "demo", 1, sim::RunEnd{1.0, "finished", {}});
  auto mig = read_lines(dir.path() / "migrations.csv");
  ASSERT_EQ(mig.size(), 2u);
  EXPECT_EQ(
      mig[0],
      "incarnation,name,from,to,start_s,pincdata_s,text_s,frozen_s,restart_s,elapsed_ms,freeze_ms,bytes,"
      "ports,messages");
  EXPECT_EQ(mig[1].rfind("5,worker2,kathleen1,kathleen2,0.5,0.52,0.55,0.56,0.6,", 0), 0u) << mig[1];
  EXPECT_NE(mig[1].find(",65536,1,3"), std::string::npos) << mig[1];
  auto rc = read_lines(dir.path() / "reconfigurations.csv");
  ASSERT_EQ(rc.size(), 2u);
  EXPECT_EQ(rc[0],
            "time_s,end_s,kind,origin,incarnation,name,detail,status,forwarded,forwarded_pending,redirected");
  EXPECT_EQ(rc[1], "0.2,0.25,rebind_stream,program,5,worker2,worker3 to printer2,0,3,0,0");

  auto doc = json::parse(read_file(dir.path() / "results.json"));
  const auto& m = doc["migrations"].at(0);
  EXPECT_NEAR(m["elapsed_ms"].get<double>(), 100, 1e-9);
  EXPECT_NEAR(m["freeze_ms"].get<double>(), 40, 1e-9);
  EXPECT_EQ(m["to"], "kathleen2");
  const auto& r = doc["reconfigurations"];
  EXPECT_EQ(r["count"], 1);
  EXPECT_EQ(r["by_kind"]["rebind_stream"], 1);
  EXPECT_EQ(r["forwarded"], 3);
  EXPECT_EQ(r["forwarded_pending"], 1);
  EXPECT_EQ(r["redirected"], 4);
  ASSERT_EQ(r["by_node"].size(), 2u);  // nodes that forwarded or redirected something
  EXPECT_EQ(r["by_node"][1]["node"], "node2");
  EXPECT_EQ(r["calls"][0]["forwarded"], 3);
  EXPECT_EQ(doc["invariant_violations"], json::array({"stream 0x1: message #3 lost"}));

  std::ostringstream out;
  sim::write_trace(rec, out);
  auto trace = json::parse(out.str());
  std::vector<std::string> migration_names;
  int instants = 0;
  for (const auto& e : trace["traceEvents"]) {
    if (e.value("cat", "") == "migration") {
      EXPECT_EQ(e["pid"], 2);  // the destination node's process
      migration_names.push_back(e["name"]);
    }
    if (e.value("cat", "") == "reconfiguration") {
      ++instants;
      EXPECT_EQ(e["name"], "rebind_stream");
      EXPECT_EQ(e["args"]["forwarded"], 3);
    }
  }
  EXPECT_EQ(migration_names,
            (std::vector<std::string>{"migrate worker2 from kathleen1", "M3 pincdata and ports",
                                      "M4 text pre-copy", "waits for synchronous calls",
                                      "frozen: heap, stack, data; queues forwarded"}));
  EXPECT_EQ(instants, 1);
}

/// Renders `dot` with Graphviz's own `dot` (Debian's graphviz): the files must open for a person.
void expect_graphviz_renders(const std::string& dot, const std::string& tag) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("equus-dot-" + tag + "-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "g.dot") << dot;
  std::string cmd = "dot -Tsvg " + (dir / "g.dot").string() + " -o " + (dir / "g.svg").string() + " 2>" +
                    (dir / "err").string();
  int rc = std::system(cmd.c_str());
  std::ifstream err(dir / "err"), svg(dir / "g.svg");
  std::string err_text((std::istreambuf_iterator<char>(err)), {}),
      svg_text((std::istreambuf_iterator<char>(svg)), {});
  EXPECT_EQ(rc, 0) << "dot failed (is graphviz installed? scripts/setup.sh installs it): " << err_text << "\n"
                   << dot;
  EXPECT_NE(svg_text.find("<svg"), std::string::npos);
  EXPECT_NE(svg_text.find("office/printer@kathleen1"), std::string::npos);
}

TEST_F(Output, GraphvizRendersTheConfigurationGraphs) {
  expect_graphviz_renders(sim::configuration_dot(rec, 2.0), "end");
  expect_graphviz_renders(sim::configuration_dot(rec, 0.9), "mid");
}

}  // namespace equus::test
