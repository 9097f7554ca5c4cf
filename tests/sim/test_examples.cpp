// The example scenarios run as tests: their outcomes are checked, not just their exit.
#include "models/common/params.hpp"
#include "sim/run.hpp"
#include "sim/scenario/scenario.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

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
  auto summary = sim::run_scenario(spec, dir);
  auto r = records(dir);
  // Every one of the 12 documents formatted, printed and reported exactly once.
  std::map<int, int> printed, reported, formatted;
  for (auto [it, end] = r.equal_range("printed"); it != end; ++it) printed[static_cast<int>(it->second)]++;
  for (auto [it, end] = r.equal_range("reported"); it != end; ++it) reported[static_cast<int>(it->second)]++;
  for (auto [it, end] = r.equal_range("formatted"); it != end; ++it) formatted[static_cast<int>(it->second)]++;
  ASSERT_EQ(printed.size(), 12u);
  for (int d = 1; d <= 12; ++d) {
    EXPECT_EQ(printed[d], 1) << "document " << d;
    EXPECT_EQ(reported[d], 1) << "document " << d;
    EXPECT_EQ(formatted[d], 1) << "document " << d;
  }
  // Whole: the spooler received each document's full size (4 to 16 kB, as submitted).
  double kb = 0;
  for (auto [it, end] = r.equal_range("printed_kb"); it != end; ++it) kb += it->second;
  EXPECT_EQ(kb, 3 * (4 + 8 + 12 + 16));
  // Plausible time: at least the spooler's 12 x 40 ms of printing after the first document is
  // formatted; at most everything done one after the other plus creating the incarnations.
  EXPECT_GT(summary.end_time, 12 * 0.040 + 0.020);
  EXPECT_LT(summary.end_time, 12 * (0.040 + 0.020 + 16 * 0.003) + 1.0);
  EXPECT_TRUE(summary.blocked.empty()) << summary.blocked;
  // Outputs a person can open: the trace is valid trace-event JSON with flows.
  auto trace = nlohmann::json::parse(slurp(dir + "/trace.json"));
  ASSERT_TRUE(trace.contains("traceEvents"));
  int flows = 0, slices = 0;
  for (const auto& e : trace["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid"));
    flows += e["ph"] == "s";
    slices += e["ph"] == "X";
  }
  EXPECT_GT(flows, 100);
  EXPECT_GT(slices, 100);
  auto dot = slurp(dir + "/graph-1.dot");
  EXPECT_NE(dot.find("printer1"), std::string::npos);
  EXPECT_NE(dot.find("digraph"), std::string::npos);
}

TEST(Examples, PrinterServerClientsFindTheServiceAndPrint) {
  auto dir = temp_dir("printer");
  sim::register_builtin_programs();
  auto summary = sim::run_scenario(sim::load_scenario(example("printer_server")), dir);
  auto r = records(dir);
  EXPECT_EQ(r.count("printed"), 6u);
  EXPECT_EQ(r.count("acknowledged"), 6u);
  std::multiset<double> jobs;
  for (auto [it, end] = r.equal_range("printed"); it != end; ++it) jobs.insert(it->second);
  for (double j : {101., 102., 103., 201., 202., 203.}) EXPECT_EQ(jobs.count(j), 1u) << j;
  // The clients started before the server registered: their first lookups failed at once.
  EXPECT_GT(r.count("lookup_failed"), 0u);
  EXPECT_GT(summary.end_time, 0.3 + 6 * 0.060);
  EXPECT_LT(summary.end_time, 5.0);
}

TEST(Examples, SameSeedGivesIdenticalResults) {
  auto a = temp_dir("det-a"), b = temp_dir("det-b");
  run_in_child(example("text_processing"), a);
  run_in_child(example("text_processing"), b);
  for (const char* f : {"results.json", "records.csv", "messages.csv", "calls.csv", "trace.json"})
    EXPECT_EQ(slurp(a + "/" + f), slurp(b + "/" + f)) << f;
  EXPECT_FALSE(slurp(a + "/results.json").empty());
}

}  // namespace equus::test
