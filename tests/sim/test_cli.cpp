// The `equus` command line as a user runs it: `run` with --set and --seed, and a bad --set.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "models/params/params.hpp"

namespace equus::test {

namespace {

namespace fs = std::filesystem;

struct Exit {
  int status = -1;
  std::string out, err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs `equus <args>` (the built binary) through the shell, capturing its output and exit status.
Exit equus(const std::string& args) {
  auto dir = fs::temp_directory_path() / ("equus-cli-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string cmd =
      std::string(EQUUS_BIN) + " " + args + " >" + (dir / "out").string() + " 2>" + (dir / "err").string();
  int rc = std::system(cmd.c_str());
  Exit e;
  e.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  e.out = slurp(dir / "out");
  e.err = slurp(dir / "err");
  return e;
}

std::string printer_server() { return params::data_dir() + "/scenarios/printer_server.json"; }

fs::path fresh(const std::string& tag) {
  auto dir = fs::temp_directory_path() / ("equus-cli-" + tag + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  return dir;
}

}  // namespace

TEST(Cli, RunWithSetAndSeed) {
  auto base = fresh("base"), changed = fresh("changed");
  auto a = equus("run " + printer_server() + " --out " + base.string());
  ASSERT_EQ(a.status, 0) << a.err;
  auto b = equus("run " + printer_server() + " --seed 5 --set m68030.context_switch=500 --set " +
                 "m68030.clock_tick_cost=30 --out " + changed.string());
  ASSERT_EQ(b.status, 0) << b.err;
  EXPECT_NE(b.out.find("printer_server: ran to"), std::string::npos) << b.out;
  auto results = nlohmann::json::parse(slurp(changed / "results.json"));
  EXPECT_EQ(results["seed"], 5);
  EXPECT_EQ(nlohmann::json::parse(slurp(base / "results.json"))["seed"], 1);
  // The overrides changed what was simulated: the same jobs, printed at other times.
  EXPECT_NE(slurp(base / "records.csv"), slurp(changed / "records.csv"));
  EXPECT_NE(slurp(base / "calls.csv"), slurp(changed / "calls.csv"));
}

TEST(Cli, SeedAloneChangesTheRunAndIsDeterministic) {
  auto a = fresh("seed-a"), b = fresh("seed-b"), c = fresh("seed-c");
  ASSERT_EQ(equus("run " + printer_server() + " --seed 9 --out " + a.string()).status, 0);
  ASSERT_EQ(equus("run " + printer_server() + " --seed 9 --out " + b.string()).status, 0);
  ASSERT_EQ(equus("run " + printer_server() + " --out " + c.string()).status, 0);
  EXPECT_EQ(slurp(a / "messages.csv"), slurp(b / "messages.csv"));
  EXPECT_NE(slurp(a / "messages.csv"), slurp(c / "messages.csv"));
  EXPECT_EQ(nlohmann::json::parse(slurp(a / "results.json"))["seed"], 9);
}

TEST(Cli, BadSetIsOneClearErrorAndNothingRuns) {
  for (const std::string set : {"m68030.no_such_param=1", "no_equals_sign", "m68030.context_switch=fast"}) {
    auto out = fresh("bad");
    auto e = equus("run " + printer_server() + " --set " + set + " --out " + out.string());
    EXPECT_EQ(e.status, 2) << set;
    EXPECT_TRUE(e.out.empty()) << set << ": " << e.out;
    EXPECT_EQ(e.err.rfind("equus: error: ", 0), 0u) << e.err;
    EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << e.err;
    EXPECT_NE(e.err.find(set.substr(0, set.find('='))), std::string::npos) << e.err;
    EXPECT_FALSE(fs::exists(out)) << set << ": the run started";
  }
}

TEST(Cli, LogShowsOneLayersWork) {
  auto dir = fresh("log");
  auto quiet = equus("run " + printer_server() + " --out " + dir.string());
  ASSERT_EQ(quiet.status, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("pool_manager/VERBOSE"), std::string::npos);
  auto e = equus("--log=equus_pool.thres:verbose run " + printer_server() + " --out " + dir.string());
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_NE(e.err.find("[pool_manager/VERBOSE] RDC"), std::string::npos) << e.err;
  EXPECT_EQ(e.err.find("[equus_services/"), std::string::npos);  // another layer stays quiet
}

TEST(Cli, KernelLogShowsHostingAndNotThePool) {
  auto dir = fresh("kernel-log");
  auto e = equus("--log=equus_kernel.thres:verbose run " + printer_server() + " --out " + dir.string());
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_NE(e.err.find("[kernel_hosting/VERBOSE]"), std::string::npos) << e.err;
  EXPECT_NE(e.err.find(" starts on node "), std::string::npos) << e.err;
  EXPECT_EQ(e.err.find("[pool_manager/"), std::string::npos);
}

TEST(Cli, CfgReachesSimGridAndABadKeyIsOneLine) {
  auto dir = fresh("cfg");
  auto ok = equus("--cfg=contexts/stack-size:256 run " + printer_server() + " --out " + dir.string());
  EXPECT_EQ(ok.status, 0) << ok.err;
  auto bad = equus("--cfg=no/such-key:1 run " + printer_server() + " --out " + dir.string());
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_NE(bad.err.find("no/such-key"), std::string::npos) << bad.err;
}

// ---- Issue 14: exit status 0, 2 or 3 and never CLI11's 1xx; checked options; visible failures ----

TEST(Cli, UsageErrorsExitTwoNeverCli11Codes) {
  for (const std::string args :
       {"reproduce --experiments abc", "no-such-subcommand", "", "run", "reproduce --only ''",
        "reproduce --only A.1,,A.2", "reproduce --set kernel.packet_loss_probability=2",
        "params --set kernel.packet_loss_probability=-0.5", "params --set m68030.speed_factor=0"}) {
    auto e = equus(args);
    EXPECT_EQ(e.status, 2) << args << ": " << e.err;
    EXPECT_TRUE(e.out.find("A.1 ") == std::string::npos) << args << ": a table ran";
  }
  auto p = equus("params --set kernel.packet_loss_probability=2");
  EXPECT_NE(p.err.find("override 'kernel.packet_loss_probability': 2 is outside [0, 1] (a probability)"),
            std::string::npos)
      << p.err;
  EXPECT_EQ(equus("--help").status, 0);
  EXPECT_EQ(equus("params --set kernel.packet_loss_probability=1").status, 0);
}

TEST(Cli, GraphTimesMustBeFiniteAndNonNegative) {
  for (const std::string at : {"-1", "nan", "inf"}) {
    auto dir = fresh("graph-at");
    auto e = equus("graph " + printer_server() + " --at " + at + " --out " + dir.string());
    EXPECT_EQ(e.status, 2) << at << ": " << e.err;
    EXPECT_NE(e.err.find("must be a finite number of seconds >= 0"), std::string::npos) << e.err;
    EXPECT_FALSE(fs::exists(dir / "graph--1.dot"));
  }
}

TEST(Cli, FailedOperationsAreWarnedCountedAndStrictMakesThemErrors) {
  auto scenario = params::data_dir() + "/tests/sim/scenarios/run/denied-create.json";
  auto dir = fresh("denied");
  auto e = equus("run " + scenario + " --out " + dir.string());
  EXPECT_EQ(e.status, 0) << e.err;
  EXPECT_NE(e.out.find("1 operations the scenario asked for failed"), std::string::npos) << e.out;
  EXPECT_NE(e.err.find("equus: warning: failed: "), std::string::npos) << e.err;
  EXPECT_NE(e.err.find("create_failed:w: E_DENIED (-7)"), std::string::npos) << e.err;
  auto strict = equus("run --strict " + scenario + " --out " + dir.string());
  EXPECT_EQ(strict.status, 2) << strict.err;
  EXPECT_NE(strict.err.find("equus: error: failed: "), std::string::npos) << strict.err;
  // A run where everything happened is not affected by --strict.
  EXPECT_EQ(equus("run --strict " + printer_server() + " --out " + fresh("strict-ok").string()).status, 0);
}

TEST(Cli, ARunClearsTheFilesOfAnEarlierRunAndSaysSo) {
  auto dir = fresh("rerun");
  fs::create_directories(dir);
  for (const auto* stale : {"graph-77.dot", "trace.json", "migrations.csv", "notes.txt"})
    std::ofstream(dir / stale) << "stale\n";
  auto e = equus("graph " + printer_server() + " --at 1 --out " + dir.string());
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_NE(e.err.find("equus: note: removed 3 files of an earlier run from " + dir.string() +
                       ": graph-77.dot, migrations.csv, trace.json"),
            std::string::npos)
      << e.err;
  EXPECT_FALSE(fs::exists(dir / "graph-77.dot"));
  EXPECT_FALSE(fs::exists(dir / "trace.json"));  // `graph` writes no trace: a stale one would pass for it
  EXPECT_TRUE(fs::exists(dir / "graph-1.dot"));
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));  // not a run's file: left alone
}

TEST(Cli, EveryFileARunWritesIsOneItClears) {
  auto dir = fresh("owned");
  ASSERT_EQ(equus("run " + printer_server() + " --out " + dir.string()).status, 0);
  std::size_t n = 0;
  for (const auto& f : fs::directory_iterator(dir)) n += f.is_regular_file();
  auto again = equus("run " + printer_server() + " --out " + dir.string());
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.err.find("equus: note: removed " + std::to_string(n) + " files"), std::string::npos)
      << again.err;
}

}  // namespace equus::test
