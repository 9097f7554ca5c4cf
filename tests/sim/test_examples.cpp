// The example scenarios run as tests: their outcomes are checked, not just their exit.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <vector>

#include "models/params/params.hpp"
#include "sim/run.hpp"
#include "sim/scenario/scenario.hpp"

namespace equus::test {

namespace {

std::string example(const std::string& name) { return params::data_dir() + "/scenarios/" + name + ".json"; }

std::string temp_dir(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path() / ("equus-" + tag + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// records.csv as key -> values.
std::multimap<std::string, double> records(const std::string& dir) {
  std::multimap<std::string, double> out;
  std::ifstream in(dir + "/records.csv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string t, inc, key, value;
    std::getline(ss, t, ',');
    std::getline(ss, inc, ',');
    std::getline(ss, key, ',');
    std::getline(ss, value, ',');
    out.emplace(key, std::stod(value));
  }
  return out;
}

/// Runs a scenario in a child process (one engine per process) writing to `dir`.
void run_in_child(const std::string& file, const std::string& dir) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sim::register_builtin_programs();
    sim::run_scenario(sim::load_scenario(file), dir);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace

TEST(Examples, TextProcessingPrintsEveryDocumentOnceAndWhole) {
  auto dir = temp_dir("text");
  sim::register_builtin_programs();
  auto spec = sim::load_scenario(example("text_processing"));
  const int docs = static_cast<int>(spec.rdcs.at(0).primary.args.at(0));
  ASSERT_EQ(docs % 4, 0);
  auto summary = sim::run_scenario(spec, dir);
  auto r = records(dir);
  // Every document formatted, printed and reported exactly once, across both printers.
  std::map<int, int> printed, reported, formatted;
  for (auto [it, end] = r.equal_range("printed"); it != end; ++it) printed[static_cast<int>(it->second)]++;
  for (auto [it, end] = r.equal_range("reported"); it != end; ++it) reported[static_cast<int>(it->second)]++;
  for (auto [it, end] = r.equal_range("formatted"); it != end; ++it)
    formatted[static_cast<int>(it->second)]++;
  ASSERT_EQ(printed.size(), static_cast<size_t>(docs));
  for (int d = 1; d <= docs; ++d) {
    EXPECT_EQ(printed[d], 1) << "document " << d;
    EXPECT_EQ(reported[d], 1) << "document " << d;
    EXPECT_EQ(formatted[d], 1) << "document " << d;
  }
  // Whole: a spooler received each document's full size (4 to 16 kB, as submitted).
  double kb = 0;
  for (auto [it, end] = r.equal_range("printed_kb"); it != end; ++it) kb += it->second;
  EXPECT_EQ(kb, docs / 4 * (4 + 8 + 12 + 16));
  // Plausible time: at least the printing shared by two printers, and past the withdrawal; at most
  // everything done one after the other plus creating the incarnations.
  EXPECT_GT(summary.end_time, docs * 0.040 / 2);
  EXPECT_GT(summary.end_time, 0.55 + 0.3);
  EXPECT_LT(summary.end_time, docs * (0.040 + 0.020 + 16 * 0.003) + 1.0);
  EXPECT_TRUE(summary.blocked.empty()) << summary.blocked;
  for (const auto& v : summary.violations) ADD_FAILURE() << "invariant: " << v;
  // Outputs a person can open: the trace is valid trace-event JSON with flows.
  auto trace = nlohmann::json::parse(slurp(dir + "/trace.json"));
  ASSERT_TRUE(trace.contains("traceEvents"));
  int flows = 0, slices = 0, migration = 0;
  for (const auto& e : trace["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid"));
    flows += e["ph"] == "s";
    slices += e["ph"] == "X";
    migration += e.value("cat", "") == "migration";
  }
  EXPECT_GT(flows, 100);
  EXPECT_GT(slices, 100);
  EXPECT_GT(migration, 0);
  auto dot = slurp(dir + "/graph-1.dot");
  EXPECT_NE(dot.find("printer1"), std::string::npos);
  EXPECT_NE(dot.find("printer2"), std::string::npos);
  EXPECT_NE(dot.find("digraph"), std::string::npos);

  auto results = nlohmann::json::parse(slurp(dir + "/results.json"));
  auto spans = [&](const std::string& name) {
    std::vector<nlohmann::json> out;
    for (const auto& s : results["incarnations"])
      if (s["name"] == name) out.push_back(s);
    return out;
  };
  auto id_of = [&](const std::string& name) { return spans(name).at(0)["id"].get<uint64_t>(); };
  // Figure 6.4: the second spooler prints some documents once workers 3 and 4 are rebound to it, with
  // what they had queued at printer1 forwarded.
  std::map<uint64_t, int> by_spooler;
  for (const auto& x : results["records"])
    if (x["key"] == "printed") by_spooler[x["incarnation"].get<uint64_t>()]++;
  ASSERT_EQ(spans("spooler2").size(), 1u);
  EXPECT_EQ(spans("spooler2")[0]["node"], "kathleen8");
  EXPECT_GT(by_spooler[id_of("spooler2")], 0);
  EXPECT_GT(by_spooler[id_of("spooler")], 0);
  EXPECT_EQ(by_spooler[id_of("spooler")] + by_spooler[id_of("spooler2")], docs);
  int rebinds = 0;
  for (const auto& c : results["reconfigurations"]["calls"])
    if (c["kind"] == "rebind_stream") {
      ++rebinds;
      EXPECT_EQ(c["origin"], "program");
      EXPECT_EQ(c["name"], "primary");
      EXPECT_EQ(c["status"], 0);
    }
  EXPECT_EQ(rebinds, 2);
  EXPECT_GT(results["reconfigurations"]["forwarded"].get<long>(), 0);
  EXPECT_EQ(r.count("printer2_integrated"), 1u);
  EXPECT_EQ(r.find("printer2_integrated")->second, 0);  // every call returned E_OK
  // The withdrawal of kathleen7: worker2 migrated away during the notice, and finished its work.
  auto w2 = spans("worker2");
  ASSERT_EQ(w2.size(), 2u);
  EXPECT_EQ(w2[0]["node"], "kathleen7");
  EXPECT_EQ(w2[0]["end_reason"], "migrated");
  EXPECT_LT(w2[0]["end_s"].get<double>(), 0.55 + 0.3);
  EXPECT_EQ(w2[1]["node"], "kathleen8");
  EXPECT_EQ(w2[1]["end_reason"], "exited");
  double restart = w2[1]["start_s"];
  int after = 0;
  for (const auto& x : results["records"])
    if (x["key"] == "formatted" && x["incarnation"] == id_of("worker2") &&
        x["time_s"].get<double>() > restart)
      ++after;
  EXPECT_GT(after, 0) << "worker2 formatted nothing after its migration";
  ASSERT_EQ(results["migrations"].size(), 1u);
  const auto& m = results["migrations"][0];
  EXPECT_EQ(m["name"], "worker2");
  EXPECT_EQ(m["to"], "kathleen8");
  EXPECT_GT(m["freeze_ms"].get<double>(), 0);
  EXPECT_LT(m["elapsed_ms"].get<double>(), 300);
  for (const auto& s : results["incarnations"])
    if (s["rdc"] == "text" && !s["end_reason"].is_null()) {
      EXPECT_NE(s["end_reason"], "killed") << s["name"];
    }
  EXPECT_TRUE(results["invariant_violations"].empty());
}

TEST(Examples, PrinterServerAddsASpoolerAndWithdrawsOneByServerQuiescence) {
  auto dir = temp_dir("printer");
  sim::register_builtin_programs();
  auto summary = sim::run_scenario(sim::load_scenario(example("printer_server")), dir);
  auto r = records(dir);
  // Every job printed exactly once and acknowledged: clients 1 and 2 print 10 each, client 3 four.
  std::multiset<double> jobs, acks;
  for (auto [it, end] = r.equal_range("printed"); it != end; ++it) jobs.insert(it->second);
  for (auto [it, end] = r.equal_range("acknowledged"); it != end; ++it) acks.insert(it->second);
  std::multiset<double> expected;
  for (int c = 1; c <= 2; ++c)
    for (int j = 1; j <= 10; ++j) expected.insert(100 * c + j);
  for (int j = 1; j <= 4; ++j) expected.insert(300 + j);
  EXPECT_EQ(jobs, expected);
  EXPECT_EQ(acks, expected);
  // The clients started before the server registered: their first lookups failed at once.
  EXPECT_GT(r.count("lookup_failed"), 0u);
  EXPECT_GT(summary.end_time, 0.3 + 24 * 0.060 / 2);
  EXPECT_GE(summary.end_time, 1.5 + 1.0);  // the node goes when the notice expires
  EXPECT_LT(summary.end_time, 5.0);
  for (const auto& v : summary.violations) ADD_FAILURE() << "invariant: " << v;

  auto results = nlohmann::json::parse(slurp(dir + "/results.json"));
  auto span_of = [&](const std::string& name) {
    for (const auto& s : results["incarnations"])
      if (s["name"] == name) return s;
    return nlohmann::json();
  };
  auto s1 = span_of("spooler1"), s2 = span_of("spooler2");
  ASSERT_FALSE(s1.is_null());
  ASSERT_FALSE(s2.is_null());
  EXPECT_EQ(s2["node"], "kathleen3");
  // Addition: the client launched later is served by spooler2 alone; withdrawal: spooler1 becomes
  // server-quiescent, its clients move to spooler2, and it prints nothing afterwards.
  double quiescent = -1, withdrawn = -1;
  std::map<uint64_t, std::vector<std::pair<double, double>>> printed_by;  // spooler -> (time, job)
  for (const auto& x : results["records"]) {
    if (x["key"] == "quiescent") quiescent = x["time_s"];
    if (x["key"] == "withdrawn") withdrawn = x["time_s"];
    if (x["key"] == "printed")
      printed_by[x["incarnation"].get<uint64_t>()].emplace_back(x["time_s"].get<double>(),
                                                                x["value"].get<double>());
  }
  ASSERT_GT(quiescent, 1.5);  // after the notice
  ASSERT_GE(withdrawn, quiescent);
  const auto& by1 = printed_by[s1["id"].get<uint64_t>()];
  const auto& by2 = printed_by[s2["id"].get<uint64_t>()];
  ASSERT_FALSE(by1.empty());
  ASSERT_FALSE(by2.empty());
  for (const auto& [t, job] : by1) {
    EXPECT_LE(t, quiescent) << "spooler1 printed job " << job << " after becoming server-quiescent";
    EXPECT_LT(job, 300) << "client 3 was served by spooler1";
  }
  int moved = 0;
  for (const auto& [t, job] : by2) moved += job < 300;
  EXPECT_GT(moved, 0) << "no job of clients 1 and 2 reached spooler2";
  EXPECT_EQ(s1["end_reason"], "exited");  // withdrawn before its node: not killed
  EXPECT_LT(s1["end_s"].get<double>(), 1.5 + 1.0);
  ASSERT_EQ(results["reconfigurations"]["calls"].size(), 1u);
  const auto& attach = results["reconfigurations"]["calls"][0];
  EXPECT_EQ(attach["kind"], "attach_port");
  EXPECT_EQ(attach["status"], 0);
  EXPECT_GT(attach["forwarded"].get<long>(), 0);  // the jobs queued at spooler1 moved
  EXPECT_EQ(r.count("clients_moved"), 1u);
  EXPECT_EQ(r.find("clients_moved")->second, 0);
}

TEST(Examples, SameSeedGivesIdenticalResults) {
  auto a = temp_dir("det-a"), b = temp_dir("det-b");
  run_in_child(example("text_processing"), a);
  run_in_child(example("text_processing"), b);
  for (const char* f : {"results.json", "records.csv", "messages.csv", "calls.csv", "trace.json",
                        "migrations.csv", "reconfigurations.csv"})
    EXPECT_EQ(slurp(a + "/" + f), slurp(b + "/" + f)) << f;
  EXPECT_FALSE(slurp(a + "/results.json").empty());
}

}  // namespace equus::test
