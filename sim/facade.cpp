#include "sim/facade.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>

#include "models/common/model_params.hpp"
#include "models/platform/pool_files.hpp"
#include "models/rdc/appendix_a.hpp"
#include "models/rdc/rdc_experiments.hpp"

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

/// Appendix A cells run as in Appendix A.1; the RDC experiments (5.5.2, 3.2.1) launch an RDC.
rdc::CellResult run_spec(const rdc::CellSpec& s, const std::vector<platform::NodeDescriptor>& nodes,
                         const params::ModelParams& params, const rdc::RunOptions& ro) {
  if (s.table == "5.5.2") return rdc::run_ss_get_uncached(s, nodes, params, ro);
  if (s.table == "3.2.1") return rdc::run_creation(s, nodes, params, ro);
  return rdc::run_cell(s, nodes, params, ro);
}

std::string unit_of(const std::string& table) {
  if (table == "5.5.2") return "ms per call";
  if (table == "3.2.1") return "s";
  return "ms per 1000 calls";
}

}  // namespace

std::vector<std::string> known_tables() { return {"A.1", "8.1", "A.2", "A.3", "5.5.2", "3.2.1"}; }

std::vector<Cell> reproduce(const ReproduceOptions& o) {
  auto known = known_tables();
  std::set<std::string> wanted;
  for (const auto& t : o.only) {
    if (std::find(known.begin(), known.end(), t) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw std::runtime_error("unknown table '" + t + "' (known: " + list + ")");
    }
    wanted.insert(t);
  }
  if (wanted.empty()) wanted.insert(known.begin(), known.end());
  if (o.experiments < 1) throw std::runtime_error("experiments must be at least 1");
  if (!(o.calls_scale > 0 && o.calls_scale <= 10)) throw std::runtime_error("calls_scale must be in (0, 10]");

  params::ModelParams params;
  try {
    params = params::ModelParams::load(o.overrides);
  } catch (const params::ParamError& e) {
    throw std::runtime_error(e.what());
  }
  const std::string dir = params::data_dir();
  auto nodes = platform::load_node_descriptors(dir + "/scenarios/pool/kathleen.nodes");
  json published = read_json(dir + "/analysis/reference/equus-published-figures.json");
  json calibration = read_json(dir + "/analysis/calibration_cells.json");

  std::vector<rdc::CellSpec> specs;
  for (const auto& c : rdc::appendix_a_cells()) {
    bool for_81 = wanted.count("8.1") && c.table == "A.1" && c.row == "inc_invoke_reply" && c.column == "0";
    if (wanted.count(c.table) || for_81) specs.push_back(c);
  }
  for (const auto& c : rdc::rdc_experiment_cells())
    if (wanted.count(c.table)) specs.push_back(c);

  rdc::RunOptions ro{o.experiments, o.calls_scale, o.seed};
  int jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::string> outputs(specs.size());
  std::vector<Child> running;
  auto reap_one = [&] {
    Child c = running.front();
    running.erase(running.begin());
    outputs[c.index] = drain(c);
  };
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (static_cast<int>(running.size()) >= jobs) reap_one();
    running.push_back(fork_child(i, [&, i] {
      auto r = run_spec(specs[i], nodes, params, ro);
      return json{{"mean", r.mean}, {"sd", r.sd}, {"retries", r.retries}, {"dropped", r.dropped}}.dump();
    }));
  }
  while (!running.empty()) reap_one();

  auto is_calibration = [&](const rdc::CellSpec& s) {
    if (!calibration.contains(s.table)) return false;
    for (const auto& rc : calibration[s.table])
      if (rc[0] == s.row && rc[1] == s.column) return true;
    return false;
  };

  std::vector<Cell> cells;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    json r = json::parse(outputs[i]);
    if (r.contains("error")) throw std::runtime_error(r["error"].get<std::string>());
    const auto& s = specs[i];
    Cell cell;
    cell.table = s.table;
    cell.row = s.row;
    cell.column = s.column;
    cell.simulated = r["mean"].get<double>();
    cell.unit = unit_of(s.table);
    if (s.table == "A.1") {
      const auto& t = published["table_A1_inter_node"];
      if (t.contains(s.row) && t[s.row].contains(s.column)) {
        cell.has_published = true;
        cell.published = t[s.row][s.column][0].get<double>();
        cell.published_sd = t[s.row][s.column][1].get<double>();
      }
    }
    cell.role = is_calibration(s) ? "calibration" : cell.has_published ? "check" : "prediction";
    if (wanted.count(s.table)) cells.push_back(cell);
    if (s.table == "A.1" && s.row == "inc_invoke_reply" && s.column == "0" && wanted.count("8.1")) {
      Cell e;
      e.table = "8.1";
      e.row = "Equus (MC68030)";
      e.column = "ms";
      e.simulated = cell.simulated / 1000.0;
      e.has_published = true;
      e.published = published["table_8_1_request_reply_ms"]["Equus (MC68030)"].get<double>();
      e.unit = "ms per call";
      e.role = "check";
      cells.push_back(e);
    }
  }
  // Print order: the order of known_tables().
  std::stable_sort(cells.begin(), cells.end(), [&](const Cell& a, const Cell& b) {
    auto ia = std::find(known.begin(), known.end(), a.table) - known.begin();
    auto ib = std::find(known.begin(), known.end(), b.table) - known.begin();
    return ia < ib;
  });
  return cells;
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
