#include "sim/facade.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "models/kernel/model_params.hpp"
#include "models/platform/pool_files.hpp"
#include "sim/experiments/registry.hpp"
#include "sim/run.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/session.hpp"

using nlohmann::json;

namespace equus::sim {

namespace {

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  return json::parse(in);
}

/// Runs `fn` in a forked child (one SimGrid engine per process) and returns what it printed.
struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::size_t index = 0;
};

Child fork_child(std::size_t index, const std::function<std::string()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    try {
      out = fn();
    } catch (const std::exception& e) {
      out = json{{"error", e.what()}}.dump();
    }
    std::size_t off = 0;
    while (off < out.size()) {
      ssize_t w = write(fds[1], out.data() + off, out.size() - off);
      if (w <= 0) break;
      off += static_cast<std::size_t>(w);
    }
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  return Child{pid, fds[0], index};
}

std::string drain(Child& c) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(c.fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(c.fd);
  int status = 0;
  waitpid(c.pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.empty())
    throw std::runtime_error("a simulation process crashed (status " + std::to_string(status) + ")");
  return out;
}

namespace ex = sim::experiments;

/// One cell's simulation in a session of its own, as JSON for the parent.
std::string run_spec(const ex::CellSpec& s, const SessionParams& sp, const ex::RunOptions& ro) {
  Session session(sp);
  auto testbed = session.testbed();
  return ex::experiment(s.table).run(s, testbed, ro).dump();
}

/// The tables asked for (all when none); throws naming the known ones on an unknown table.
std::set<std::string> wanted_tables(const std::vector<std::string>& only) {
  auto known = known_tables();
  std::set<std::string> wanted;
  for (const auto& t : only) {
    if (std::find(known.begin(), known.end(), t) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw std::runtime_error("unknown table '" + t + "' (known: " + list + ")");
    }
    wanted.insert(t);
  }
  if (wanted.empty()) wanted.insert(known.begin(), known.end());
  return wanted;
}

/// The cells the wanted tables need, each once (8.1 needs one of A.1's), in registry order.
std::vector<ex::CellSpec> cells_needed(const std::set<std::string>& wanted) {
  std::vector<ex::CellSpec> specs;
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (const auto& e : ex::registry())
    if (wanted.count(e.table))
      for (const auto& c : e.cells)
        if (seen.insert({c.table, c.row, c.column}).second) specs.push_back(c);
  return specs;
}

/// Runs every cell in a forked child of its own, `jobs` at a time, longest first so that the last cells
/// to finish are short ones (the wall time is what users wait). Returns each cell's output.
std::vector<std::string> run_cells(
    const std::vector<ex::CellSpec>& specs, const SessionParams& sp,
    const std::function<const ex::RunOptions&(const ex::CellSpec&)>& options_for, int jobs) {
  std::vector<std::string> outputs(specs.size());
  std::vector<Child> running;
  // Whichever child finishes first frees its slot (children write their result as they exit).
  auto reap_one = [&] {
    std::vector<pollfd> fds;
    for (const auto& c : running) fds.push_back(pollfd{c.fd, POLLIN, 0});
    while (poll(fds.data(), fds.size(), -1) < 0 && errno == EINTR) {
    }
    std::size_t k = 0;
    while (k + 1 < fds.size() && fds[k].revents == 0) ++k;
    Child c = running[k];
    running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
    outputs[c.index] = drain(c);
  };
  auto cost = [&](const ex::CellSpec& s) { return ex::experiment(s.table).cost(s, options_for(s)); };
  std::vector<std::size_t> order(specs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return cost(specs[a]) > cost(specs[b]); });
  for (std::size_t i : order) {
    if (static_cast<int>(running.size()) >= jobs) reap_one();
    const auto& opts = options_for(specs[i]);
    running.push_back(fork_child(i, [&, i] { return run_spec(specs[i], sp, opts); }));
  }
  while (!running.empty()) reap_one();
  return outputs;
}

/// The reported cells: those of the wanted tables with their published figures, then the derived ones,
/// in print order.
std::vector<Cell> assemble(const std::vector<ex::CellSpec>& specs, const std::vector<std::string>& outputs,
                           const std::set<std::string>& wanted, const ex::Reference& ref) {
  std::vector<ex::RanCell> ran;
  std::vector<Cell> cells;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    json r = json::parse(outputs[i]);
    if (r.contains("error")) throw std::runtime_error(r["error"].get<std::string>());
    const auto& s = specs[i];
    const auto& e = ex::experiment(s.table);
    Cell cell;
    cell.table = s.table;
    cell.row = s.row;
    cell.column = s.column;
    cell.simulated = r["mean"].get<double>();
    cell.unit = e.unit;
    if (e.publish) e.publish(s, ref.published, cell);
    cell.role = ref.is_calibration(s) ? "calibration" : cell.has_published ? "check" : "prediction";
    if (wanted.count(s.table)) cells.push_back(cell);
    ran.push_back({&s, std::move(r), cell});
  }
  for (const auto& e : ex::registry())
    if (wanted.count(e.table) && e.derive) e.derive(ran, ref, cells);
  auto known = known_tables();
  std::stable_sort(cells.begin(), cells.end(), [&](const Cell& a, const Cell& b) {
    auto ia = std::find(known.begin(), known.end(), a.table) - known.begin();
    auto ib = std::find(known.begin(), known.end(), b.table) - known.begin();
    return ia < ib;
  });
  return cells;
}

}  // namespace

std::vector<std::string> known_tables() {
  std::vector<std::string> names;
  for (const auto& e : ex::registry()) names.push_back(e.table);
  return names;
}

std::vector<Cell> reproduce(const ReproduceOptions& o) {
  auto wanted = wanted_tables(o.only);
  if (o.experiments < 1) throw std::runtime_error("experiments must be at least 1");
  if (!(o.calls_scale > 0 && o.calls_scale <= 10)) throw std::runtime_error("calls_scale must be in (0, 10]");
  if (o.a5_experiments < 1) throw std::runtime_error("a5_experiments must be at least 1");
  model_params(o.overrides);  // one clear error for a bad override
  auto params = params::ModelParams::load(o.overrides);
  const std::string dir = params::data_dir();
  json published = read_json(dir + "/analysis/reference/equus-published-figures.json");
  json calibration = read_json(dir + "/analysis/calibration_cells.json");
  auto specs = cells_needed(wanted);
  ex::RunOptions ro{o.experiments, o.calls_scale, o.seed};
  ex::RunOptions ro_capped = ro;
  ro_capped.experiments = std::min(o.experiments, o.a5_experiments);
  auto options_for = [&](const ex::CellSpec& s) -> const ex::RunOptions& {
    return ex::experiment(s.table).capped ? ro_capped : ro;
  };
  int jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto outputs = run_cells(specs, shipped_pool(params, o.seed), options_for, jobs);

  ex::Reference ref{published, [&](const ex::CellSpec& s) {
                      if (!calibration.contains(s.table)) return false;
                      for (const auto& rc : calibration[s.table])
                        if (rc[0] == s.row && rc[1] == s.column) return true;
                      return false;
                    }};
  return assemble(specs, outputs, wanted, ref);
}

namespace {

/// A scenario from its path or its JSON text, validated (the shipped C++ programs registered first).
/// A scenario file or its JSON text; the `overrides` that change the scenario (policy, workload) are
/// applied to it and removed, the model parameters' are left.
ScenarioSpec load(const std::string& scenario, std::map<std::string, std::string>& overrides) {
  register_builtin_programs();
  auto first = scenario.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && scenario[first] == '{')
    return parse_scenario_text(scenario, "<scenario>", params::data_dir() + "/scenarios", overrides);
  return load_scenario(scenario, overrides);
}

ScenarioSpec load(const std::string& scenario) {
  std::map<std::string, std::string> none;
  return load(scenario, none);
}

ScenarioResult result_of(const ScenarioSpec& spec, const std::string& out_dir, RunSummary summary) {
  ScenarioResult r;
  r.name = spec.name;
  r.seed = spec.seed;
  r.end_time = summary.end_time;
  r.end_reason = summary.end_reason;
  r.incarnations_created = summary.incarnations_created;
  r.records = std::move(summary.records);
  r.migrations = summary.migrations;
  r.reconfigurations = summary.reconfigurations;
  r.violations = std::move(summary.violations);
  r.blocked = std::move(summary.blocked);
  r.out_dir = out_dir;
  r.files = std::move(summary.files);
  r.failures = std::move(summary.failures);
  r.errors = std::move(summary.errors);
  if (!out_dir.empty() && spec.outputs.results)
    for (const auto& f : std::filesystem::directory_iterator(out_dir))
      if (f.path().extension() == ".csv") r.tables[f.path().stem().string()] = f.path().string();
  return r;
}

}  // namespace

std::string validate_scenario(const std::string& scenario) { return load(scenario).name; }

ScenarioResult run_scenario(const ScenarioOptions& o) {
  for (double t : o.graph_at)  // it names a file: graph--1.dot, or nothing at all for nan
    if (!std::isfinite(t) || t < 0)
      throw std::runtime_error(fmt::format("graph time {} must be a finite number of seconds >= 0", t));
  auto overrides = o.overrides;
  auto spec = load(o.scenario, overrides);
  for (const auto& [name, value] : overrides) spec.overrides[name] = value;
  model_params(spec.overrides);  // a bad override stops the run before it starts
  if (o.seed) spec.seed = *o.seed;
  if (o.graphs_only) {
    spec.outputs.results = false;
    spec.outputs.trace = false;
  }
  std::string out_dir = !o.write_outputs ? "" : o.out_dir.empty() ? "out/" + spec.name : o.out_dir;
  if (!out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) throw std::runtime_error(out_dir + ": cannot create the output directory: " + ec.message());
  }
  auto cleared = clear_outputs(out_dir);  // an earlier run's files must not pass for this one's
  auto r = result_of(spec, out_dir, sim::run_scenario(spec, out_dir, o.graph_at));
  r.cleared = std::move(cleared);
  return r;
}

void set_simgrid_options(const std::vector<std::string>& options) {
  for (const auto& o : options) Session::add_engine_option(o);
}

std::vector<params::ParamInfo> model_params(const std::map<std::string, std::string>& overrides) {
  try {
    return params::ModelParams::load(overrides).infos;
  } catch (const params::ParamError& e) {
    throw std::runtime_error(e.what());
  }
}

std::string cells_to_json(const std::vector<Cell>& cells) {
  json arr = json::array();
  for (const auto& c : cells) {
    json j = {{"table", c.table},         {"row", c.row},   {"column", c.column},
              {"simulated", c.simulated}, {"unit", c.unit}, {"role", c.role}};
    j["published"] = c.has_published ? json(c.published) : json(nullptr);
    j["published_sd"] = c.published_sd >= 0 ? json(c.published_sd) : json(nullptr);
    arr.push_back(j);
  }
  return json{{"cells", arr}}.dump(2);
}

}  // namespace equus::sim
