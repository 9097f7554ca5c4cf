// The `equus` command line: every subcommand goes through the facade (sim/facade.hpp).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "sim/facade.hpp"
#include "sim/report.hpp"

namespace {

namespace es = equus::sim;

std::map<std::string, std::string> parse_overrides(const std::vector<std::string>& sets) {
  std::map<std::string, std::string> out;
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::runtime_error("--set '" + s + "': expected <model>.<parameter>=<value>");
    out[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

/// Table names given to --only; an empty one is an error (it used to vanish, and no names meant all).
std::vector<std::string> split_commas(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    std::size_t start = 0;
    while (start <= item.size()) {
      auto comma = item.find(',', start);
      auto part = item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (part.empty())
        throw std::runtime_error("--only: empty table name (known: " + joined(es::known_tables()) + ")");
      out.push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

/// `s` as one word for /bin/sh.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct ReproduceArgs {
  es::ReproduceOptions options;
  std::vector<std::string> only, sets;
  std::string json_file;
  std::string plots_dir;
};

CLI::App* add_reproduce(CLI::App& app, ReproduceArgs& a) {
  auto* rep = app.add_subcommand("reproduce",
                                 "Run the Appendix A experiments and print the tables beside the "
                                 "dissertation's published figures");
  rep->add_option("--only", a.only,
                  "Tables to run, comma-separated (" + joined(es::known_tables()) + "); default all");
  // Split by split_commas, not by CLI11, which drops empty names: "--only A.1,,A.2" must be an error.
  rep->add_option("--json", a.json_file, "Also write the cells as JSON to this file");
  rep->add_option(
      "--plots", a.plots_dir,
      "Also draw Figures A.1-A.3 (from Tables A.1 and A.4) beside the published points, as PNG files "
      "in this directory (matplotlib, through the pyequus package)");
  rep->add_option("--a5-experiments", a.options.a5_experiments,
                  "Experiments per Table A.5 row, at most --experiments (Appendix A.3: 10)")
      ->capture_default_str();
  rep->add_option("--experiments", a.options.experiments, "Experiments per cell (Appendix A: 10)")
      ->capture_default_str();
  rep->add_option("--calls-scale", a.options.calls_scale, "Scale the calls per experiment (1 = as published)")
      ->capture_default_str();
  rep->add_option("--seed", a.options.seed, "Random seed (runs are deterministic for a seed)")
      ->capture_default_str();
  rep->add_option("--jobs", a.options.jobs, "Simulation processes run in parallel (0 = one per core)")
      ->capture_default_str();
  rep->add_option("--set", a.sets, "Override a model parameter: <model>.<name>=<value> in its file's unit");
  return rep;
}

int reproduce(ReproduceArgs& a, bool only_given) {
  a.options.only = split_commas(a.only);
  if (only_given && a.options.only.empty())
    throw std::runtime_error("--only: no table named (known: " + joined(es::known_tables()) + ")");
  a.options.overrides = parse_overrides(a.sets);
  auto cells = es::reproduce(a.options);
  std::cout << es::format_tables(cells);
  auto write_json = [&](const std::string& path) {
    std::ofstream out(path);
    if (!out) throw std::runtime_error(path + ": cannot write");
    out << es::cells_to_json(cells) << "\n";
  };
  if (!a.json_file.empty()) write_json(a.json_file);
  if (!a.plots_dir.empty()) {
    std::filesystem::create_directories(a.plots_dir);
    std::string cells_json = (std::filesystem::path(a.plots_dir) / "cells.json").string();
    write_json(cells_json);
    std::cout.flush();  // the tables before the drawing program's lines
    // Figures are drawn by matplotlib: Debian's interpreter, with the pyequus package built beside us.
    std::string cmd = "PYTHONPATH=" + shell_quote(EQUUS_PYTHON_DIR) + " /usr/bin/python3 -m pyequus.plots " +
                      shell_quote(cells_json) + " " + shell_quote(a.plots_dir);
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("drawing the figures failed (see above)");
  }
  return 0;
}

struct ScenarioArgs {
  std::string file, out_dir;
  std::vector<std::string> sets;
  uint64_t seed = 0;
  std::vector<double> graph_at;
  bool strict = false;
};

void add_scenario_options(CLI::App* cmd, ScenarioArgs& a) {
  cmd->add_option("file", a.file, "Scenario JSON file")->required();
  cmd->add_option("--out", a.out_dir, "Output directory (default: out/<scenario name>)");
  cmd->add_option("--set", a.sets,
                  "Override a model parameter over the scenario's own: <model>.<name>=<value> (repeatable)");
  cmd->add_option("--seed", a.seed, "Random seed, replacing the scenario's");
  cmd->add_flag("--strict", a.strict,
                "Fail (exit 2) if an operation the scenario asked for failed (a launch, a declared "
                "incarnation, a timed event); without it each is a warning");
}

/// What the run could not do as the scenario asked, on stderr; the exit status it calls for (0 or 2).
int report_problems(const es::ScenarioResult& r, bool strict) {
  if (!r.cleared.empty())
    std::cerr << fmt::format("equus: note: removed {} files of an earlier run from {}: {}\n",
                             r.cleared.size(), r.out_dir, joined(r.cleared));
  for (const auto& f : r.failures)
    std::cerr << "equus: " << (strict ? "error" : "warning") << ": failed: " << f << "\n";
  for (const auto& e : r.errors) std::cerr << "equus: error: " << e << "\n";
  return !r.errors.empty() || (strict && !r.failures.empty()) ? 2 : 0;
}

int run(const ScenarioArgs& a, bool seed_given, bool graphs_only) {
  es::ScenarioOptions o;
  o.scenario = a.file;
  o.overrides = parse_overrides(a.sets);
  if (seed_given) o.seed = a.seed;
  o.out_dir = a.out_dir;
  o.graph_at = a.graph_at;
  o.graphs_only = graphs_only;
  auto r = es::run_scenario(o);
  std::cout << fmt::format("{}: ran to {:.3f} s simulated, {} incarnations\n", r.name, r.end_time,
                           r.incarnations_created);
  if (!r.failures.empty())
    std::cout << fmt::format("  {} operations the scenario asked for failed (see stderr)\n",
                             r.failures.size());
  if (!r.errors.empty())
    std::cout << fmt::format("  {} programs stopped on an error (see stderr)\n", r.errors.size());
  for (const auto& [k, n] : r.records) std::cout << fmt::format("  recorded {:<24} x{}\n", k, n);
  if (r.migrations || r.reconfigurations)
    std::cout << fmt::format("  {} reconfigurations, {} migrations\n", r.reconfigurations, r.migrations);
  if (r.end_reason == "deadlock")
    std::cout << fmt::format("  deadlock at {:.3f} s: nothing could happen any more; waiting for ever:\n",
                             r.end_time)
              << r.blocked;
  else if (!r.blocked.empty())
    std::cout << "still waiting at the end:\n" << r.blocked;
  for (const auto& f : r.files) std::cout << "  wrote " << f << "\n";
  std::cout.flush();
  int status = report_problems(r, a.strict);
  if (!r.violations.empty()) {  // the run is wrong, whatever it wrote
    std::cerr << "equus: error: the communications invariant was violated (" << r.violations.size() << "):\n";
    for (const auto& v : r.violations) std::cerr << "  " << v << "\n";
    return 3;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "equus: a discrete-event simulator of the Equus reconfigurable distributed system (Kindberg 1990)"};
  app.require_subcommand(1);
  std::vector<std::string> logs, cfgs;
  app.add_option("--log", logs,
                 "SimGrid log control, repeatable: <category>.thres:<level>, e.g. equus.thres:verbose (every "
                 "layer), equus_kernel.thres:debug (one layer); see docs/architecture.md")
      ->type_name("CONTROL");
  app.add_option("--cfg", cfgs,
                 "SimGrid configuration, repeatable: <name>:<value>, e.g. contexts/stack-size:256")
      ->type_name("NAME:VALUE");

  ReproduceArgs rargs;
  auto* rep = add_reproduce(app, rargs);

  std::vector<std::string> psets;
  auto* par = app.add_subcommand("params", "List the model parameters with their units and provenance");
  par->add_option("--set", psets, "Override a parameter, as for reproduce");

  std::string scenario_file;
  auto* val = app.add_subcommand("validate",
                                 "Check a scenario file (schema rules and cross-references); one error "
                                 "line naming the JSON pointer if it is bad");
  val->add_option("file", scenario_file, "Scenario JSON file")->required();

  ScenarioArgs sargs;
  auto* run_cmd =
      app.add_subcommand("run",
                         "Validate and run a scenario; write results (JSON, CSV), a Perfetto trace "
                         "and configuration graphs (DOT)");
  add_scenario_options(run_cmd, sargs);
  auto* graph =
      app.add_subcommand("graph", "Run a scenario and write its configuration graph at given times");
  add_scenario_options(graph, sargs);
  graph->add_option("--at", sargs.graph_at, "Simulated times in seconds (repeatable)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // README: 2 for any usage error (CLI11's own codes are 100 and up); 0 for --help.
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    std::vector<std::string> engine_options;
    for (const auto& l : logs) engine_options.push_back("--log=" + l);
    for (const auto& c : cfgs) engine_options.push_back("--cfg=" + c);
    es::set_simgrid_options(engine_options);
    if (*rep) return reproduce(rargs, rep->count("--only") > 0);
    if (*val) {
      es::validate_scenario(scenario_file);
      std::cout << scenario_file << ": valid\n";
    } else if (*run_cmd || *graph) {
      auto* cmd = *run_cmd ? run_cmd : graph;
      return run(sargs, cmd->count("--seed") > 0, cmd == graph);
    } else if (*par) {
      for (const auto& i : es::model_params(parse_overrides(psets)))
        std::cout << fmt::format("{:<34} {:>10g} {:<6} {}\n", i.name, i.value, i.unit, i.provenance);
    }
  } catch (const std::exception& e) {
    // One line: some library messages (SimGrid's for a bad --cfg key) append pages of context.
    std::string what = e.what();
    std::cerr << "equus: error: " << what.substr(0, what.find('\n')) << "\n";
    return 2;
  }
  return 0;
}
