// The `equus` command line.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "models/kernel/model_params.hpp"
#include "sim/facade.hpp"
#include "sim/report.hpp"
#include "sim/run.hpp"
#include "sim/scenario/scenario.hpp"

namespace {

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

std::vector<std::string> split_commas(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    std::size_t start = 0;
    while (start <= item.size()) {
      auto comma = item.find(',', start);
      auto part = item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!part.empty()) out.push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "equus: a discrete-event simulator of the Equus reconfigurable distributed system (Kindberg 1990)"};
  app.require_subcommand(1);

  equus::sim::ReproduceOptions ro;
  std::vector<std::string> only;
  std::vector<std::string> sets;
  std::string json_file;
  auto* rep = app.add_subcommand("reproduce",
                                 "Run the Appendix A experiments and print the tables beside the "
                                 "dissertation's published figures");
  rep->add_option("--only", only,
                  "Tables to run, comma-separated (A.1, 8.1, A.2, A.3, A.4, A.5, 5.5.2, 3.2.1); default all")
      ->delimiter(',');
  rep->add_option("--json", json_file, "Also write the cells as JSON to this file");
  rep->add_option("--a5-experiments", ro.a5_experiments,
                  "Experiments per Table A.5 row, at most --experiments (Appendix A.3: 10)")
      ->capture_default_str();
  rep->add_option("--experiments", ro.experiments, "Experiments per cell (Appendix A: 10)")
      ->capture_default_str();
  rep->add_option("--calls-scale", ro.calls_scale, "Scale the calls per experiment (1 = as published)")
      ->capture_default_str();
  rep->add_option("--seed", ro.seed, "Random seed (runs are deterministic for a seed)")
      ->capture_default_str();
  rep->add_option("--jobs", ro.jobs, "Simulation processes run in parallel (0 = one per core)")
      ->capture_default_str();
  rep->add_option("--set", sets, "Override a model parameter: <model>.<name>=<value> in its file's unit");

  std::vector<std::string> psets;
  auto* par = app.add_subcommand("params", "List the model parameters with their units and provenance");
  par->add_option("--set", psets, "Override a parameter, as for reproduce");

  std::string scenario_file;
  auto* val = app.add_subcommand("validate",
                                 "Check a scenario file (schema rules and cross-references); one error "
                                 "line naming the JSON pointer if it is bad");
  val->add_option("file", scenario_file, "Scenario JSON file")->required();

  std::string out_dir;
  auto* run = app.add_subcommand("run",
                                 "Validate and run a scenario; write results (JSON, CSV), a Perfetto trace "
                                 "and configuration graphs (DOT)");
  run->add_option("file", scenario_file, "Scenario JSON file")->required();
  run->add_option("--out", out_dir, "Output directory (default: out/<scenario name>)");

  std::vector<double> graph_at;
  auto* graph =
      app.add_subcommand("graph", "Run a scenario and write its configuration graph at given times");
  graph->add_option("file", scenario_file, "Scenario JSON file")->required();
  graph->add_option("--at", graph_at, "Simulated times in seconds (repeatable)")->required();
  graph->add_option("--out", out_dir, "Output directory (default: out/<scenario name>)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (*rep) {
      ro.only = split_commas(only);
      ro.overrides = parse_overrides(sets);
      auto cells = equus::sim::reproduce(ro);
      std::cout << equus::sim::format_tables(cells);
      if (!json_file.empty()) {
        std::ofstream out(json_file);
        if (!out) throw std::runtime_error(json_file + ": cannot write");
        out << equus::sim::cells_to_json(cells) << "\n";
      }
    } else if (*val || *run || *graph) {
      equus::sim::register_builtin_programs();
      auto spec = equus::sim::load_scenario(scenario_file);
      if (*val) {
        std::cout << scenario_file << ": valid\n";
        return 0;
      }
      if (out_dir.empty()) out_dir = "out/" + spec.name;
      if (*graph) {
        spec.outputs.results = false;
        spec.outputs.trace = false;
      }
      auto summary = equus::sim::run_scenario(spec, out_dir, graph_at);
      std::cout << fmt::format("{}: ran to {:.3f} s simulated, {} incarnations\n", spec.name,
                               summary.end_time, summary.incarnations_created);
      for (const auto& [k, n] : summary.records) std::cout << fmt::format("  recorded {:<24} x{}\n", k, n);
      if (summary.migrations || summary.reconfigurations)
        std::cout << fmt::format("  {} reconfigurations, {} migrations\n", summary.reconfigurations,
                                 summary.migrations);
      if (!summary.blocked.empty()) std::cout << "still waiting at the end:\n" << summary.blocked;
      for (const auto& f : summary.files) std::cout << "  wrote " << f << "\n";
      if (!summary.violations.empty()) {  // the run is wrong, whatever it wrote
        std::cerr << "equus: error: the communications invariant was violated (" << summary.violations.size()
                  << "):\n";
        for (const auto& v : summary.violations) std::cerr << "  " << v << "\n";
        return 3;
      }
    } else if (*par) {
      auto p = equus::params::ModelParams::load(parse_overrides(psets));
      for (const auto& i : p.infos)
        std::cout << fmt::format("{:<34} {:>10g} {:<6} {}\n", i.name, i.value, i.unit, i.provenance);
    }
  } catch (const std::exception& e) {
    std::cerr << "equus: error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
