#include "sim/facade.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>

#include "models/kernel/model_params.hpp"
#include "models/platform/pool_files.hpp"
#include "sim/experiments/appendix_a.hpp"
#include "sim/experiments/rdc_experiments.hpp"
#include "sim/experiments/reconfig_experiments.hpp"
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

/// Appendix A cells run as in Appendix A.1; the RDC experiments (5.5.2, 3.2.1) launch an RDC.
/// One cell's simulation, in a session of its own, as JSON for the parent: mean, sd and what else its
/// table reports.
std::string run_spec(const sim::experiments::CellSpec& s, const SessionParams& sp,
                     const sim::experiments::RunOptions& ro) {
  Session session(sp);
  auto testbed = session.testbed();
  auto dump = [](const sim::experiments::CellResult& r) {
    return json{{"mean", r.mean}, {"sd", r.sd}, {"retries", r.retries}, {"dropped", r.dropped}};
  };
  if (s.table == "A.5") {
    auto r = sim::experiments::run_reconfiguration(s, testbed, ro);
    if (!r.violations.empty())
      throw std::runtime_error("A.5 " + s.row + ": invariant: " + r.violations.front());
    json j = dump(r.elapsed);
    j["forwarded"] = r.forwarded;
    j["forwarded_pending"] = r.forwarded_pending;
    j["reconfigurations"] = r.reconfigurations;
    return j.dump();
  }
  if (s.table == "A.4") return dump(sim::experiments::run_migration(s, testbed, ro)).dump();
  if (s.table == "5.5.2") return dump(sim::experiments::run_ss_get_uncached(s, testbed, ro)).dump();
  if (s.table == "3.2.1") return dump(sim::experiments::run_creation(s, testbed, ro)).dump();
  return dump(sim::experiments::run_cell(s, testbed, ro)).dump();
}

std::string unit_of(const std::string& table) {
  if (table == "5.5.2") return "ms per call";
  if (table == "3.2.1") return "s";
  if (table == "A.4") return "ms per migration";
  if (table == "A.5") return "ms for 10,000 inc_send";
  return "ms per 1000 calls";
}

/// Least squares of y on the columns of x (with an intercept first); small dense normal equations.
std::vector<double> least_squares(const std::vector<std::vector<double>>& x, const std::vector<double>& y) {
  std::size_t k = x.front().size() + 1;
  std::vector<std::vector<double>> a(k, std::vector<double>(k + 1, 0));
  for (std::size_t i = 0; i < y.size(); ++i) {
    std::vector<double> row{1.0};
    row.insert(row.end(), x[i].begin(), x[i].end());
    for (std::size_t r = 0; r < k; ++r) {
      for (std::size_t c = 0; c < k; ++c) a[r][c] += row[r] * row[c];
      a[r][k] += row[r] * y[i];
    }
  }
  for (std::size_t c = 0; c < k; ++c) {  // Gauss-Jordan; the systems here are well conditioned
    std::size_t piv = c;
    for (std::size_t r = c + 1; r < k; ++r)
      if (std::fabs(a[r][c]) > std::fabs(a[piv][c])) piv = r;
    std::swap(a[c], a[piv]);
    for (std::size_t r = 0; r < k; ++r)
      if (r != c) {
        double f = a[r][c] / a[c][c];
        for (std::size_t j = c; j <= k; ++j) a[r][j] -= f * a[c][j];
      }
  }
  std::vector<double> b(k);
  for (std::size_t r = 0; r < k; ++r) b[r] = a[r][k] / a[r][r];
  return b;
}

/// The numbers of a published regression such as "20.27 + 0.388*s ms".
std::vector<double> numbers_in(const std::string& text) {
  std::vector<double> out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (std::isdigit(static_cast<unsigned char>(text[i]))) {
      std::size_t used = 0;
      out.push_back(std::stod(text.substr(i), &used));
      i += used;
    } else {
      ++i;
    }
  }
  return out;
}

using IsCalibration = std::function<bool(const sim::experiments::CellSpec&)>;

/// Table A.4's fitted a + b*p + c*s (all cells) and a + c*s per port count, beside the published fits.
void append_a4_fits(std::vector<Cell>& cells, const std::vector<std::vector<double>>& x,
                    const std::vector<double>& y, const json& pub, const IsCalibration& is_calibration) {
  auto add = [&](const std::string& row, const std::string& col, double v, double p) {
    Cell c;
    c.table = "A.4";
    c.row = row;
    c.column = col;
    c.simulated = v;
    c.has_published = true;
    c.published = p;
    c.unit = "ms per migration";
    c.role = is_calibration(sim::experiments::CellSpec{"A.4", row, col}) ? "calibration" : "check";
    cells.push_back(c);
  };
  if (y.size() >= 3) {
    auto b = least_squares(x, y);
    auto p = numbers_in(pub["summary_formula"].get<std::string>());  // 19, 1.2, 0.39, ...
    add("fit", "a", b[0], p.at(0));
    add("fit", "b", b[1], p.at(1));
    add("fit", "c", b[2], p.at(2));
  }
  for (double ports : {1.0, 9.0}) {
    std::vector<std::vector<double>> xs;
    std::vector<double> ys;
    for (std::size_t i = 0; i < y.size(); ++i)
      if (x[i][0] == ports) {
        xs.push_back({x[i][1]});
        ys.push_back(y[i]);
      }
    if (ys.size() < 2) continue;
    auto b = least_squares(xs, ys);
    std::string key = ports == 1 ? "regression_1_port" : "regression_9_ports";
    auto p = numbers_in(pub[key].get<std::string>());
    std::string row = ports == 1 ? "fit_1_port" : "fit_9_ports";
    add(row, "a", b[0], p.at(0));
    add(row, "c", b[1], p.at(1));
  }
}

/// Table A.5's overhead per reconfiguration (against the no-reconfiguration row) and messages
/// forwarded (both kernels, per experiment: withheld, a prediction).
void append_a5_derived(std::vector<Cell>& cells, const std::map<std::string, json>& rows, const json& pub,
                       const IsCalibration& is_calibration) {
  auto base = rows.find("no_reconfigurations");
  for (const auto& [row, r] : rows) {
    if (row == "no_reconfigurations") continue;
    if (base != rows.end()) {
      Cell c;
      c.table = "A.5";
      c.row = row;
      c.column = "overhead_ms";
      double n = pub.contains(row) ? pub[row]["reconfigurations"].get<double>() : 100;
      c.simulated = (r["mean"].get<double>() - base->second["mean"].get<double>()) / n;
      c.unit = "ms per reconfiguration";
      if (pub.contains(row)) {
        c.has_published = true;
        c.published = pub[row]["overhead_ms"].get<double>();
      }
      c.role =
          is_calibration(sim::experiments::CellSpec{"A.5", row, "overhead_ms"}) ? "calibration" : "check";
      cells.push_back(c);
    }
    Cell f;
    f.table = "A.5";
    f.row = row;
    f.column = "forwarded";
    f.simulated = r["forwarded"].get<double>();
    f.unit = "acknowledged messages forwarded per experiment";
    f.role = "prediction";
    cells.push_back(f);
  }
}

}  // namespace

std::vector<std::string> known_tables() {
  return {"A.1", "8.1", "A.2", "A.3", "A.4", "A.5", "5.5.2", "3.2.1"};
}

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
  auto users = platform::load_pool_users(dir + "/scenarios/pool/kathleen.users");
  json published = read_json(dir + "/analysis/reference/equus-published-figures.json");
  json calibration = read_json(dir + "/analysis/calibration_cells.json");

  std::vector<sim::experiments::CellSpec> specs;
  for (const auto& c : sim::experiments::appendix_a_cells()) {
    bool for_81 = wanted.count("8.1") && c.table == "A.1" && c.row == "inc_invoke_reply" && c.column == "0";
    if (wanted.count(c.table) || for_81) specs.push_back(c);
  }
  for (const auto& c : sim::experiments::rdc_experiment_cells())
    if (wanted.count(c.table)) specs.push_back(c);
  for (const auto& c : sim::experiments::reconfig_experiment_cells())
    if (wanted.count(c.table)) specs.push_back(c);

  sim::experiments::RunOptions ro{o.experiments, o.calls_scale, o.seed};
  int jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
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
  if (o.a5_experiments < 1) throw std::runtime_error("a5_experiments must be at least 1");
  sim::experiments::RunOptions ro_a5 = ro;
  ro_a5.experiments = std::min(o.experiments, o.a5_experiments);
  auto options_for = [&](const sim::experiments::CellSpec& s) -> const sim::experiments::RunOptions& {
    return s.table == "A.5" ? ro_a5 : ro;
  };
  // Longest first, so that the last cells to finish are short ones (the wall time is what users wait).
  // The estimate is in kernel messages per cell, roughly: a multicast is a packet to every other node
  // (Section 8.4.4), an inc_asinvoke two exchanges; only the order matters.
  auto cost = [&](const sim::experiments::CellSpec& s) {
    double work = static_cast<double>(s.calls) * options_for(s).experiments;
    if (s.table == "A.4") return 20.0 * std::stod(s.row);
    if (s.table == "3.2.1") return 20000.0;
    if (s.table == "A.5") return 3.0 * work;
    double per_call = 1.0;
    switch (s.primitive) {
      case sim::experiments::Primitive::SendMulticast2:
        per_call = 4.5;
        break;
      case sim::experiments::Primitive::DgramMulticast2:
        per_call = 2.5;
        break;
      case sim::experiments::Primitive::AsinvokeBufferLimit1:
        per_call = 2.2;
        break;
      case sim::experiments::Primitive::Dgram:
        per_call = 0.4;
        break;
      default:
        break;
    }
    return work * per_call * (1.0 + s.extra_bytes / 65536.0);
  };
  std::vector<std::size_t> order(specs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return cost(specs[a]) > cost(specs[b]); });
  for (std::size_t i : order) {
    if (static_cast<int>(running.size()) >= jobs) reap_one();
    const auto& opts = options_for(specs[i]);
    running.push_back(fork_child(i, [&, i] {
      return run_spec(specs[i], {nodes, params, opts.seed, users}, opts);
    }));
  }
  while (!running.empty()) reap_one();

  auto is_calibration = [&](const sim::experiments::CellSpec& s) {
    if (!calibration.contains(s.table)) return false;
    for (const auto& rc : calibration[s.table])
      if (rc[0] == s.row && rc[1] == s.column) return true;
    return false;
  };

  std::vector<Cell> cells;
  std::vector<std::vector<double>> a4_x;  // (p, s) of each Table A.4 cell, for the fitted formula
  std::vector<double> a4_y;
  std::map<std::string, json> a5;  // Table A.5 rows' results
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
    } else if (s.table == "A.4") {
      for (const auto& row : published["table_A4_migration"]["rows"])
        if (std::to_string(row[0].get<int>()) == s.row) {
          int col = s.column == "1_port" ? 1 : 3;
          cell.has_published = true;
          cell.published = row[col].get<double>();
          cell.published_sd = row[col + 1].get<double>();
        }
      a4_x.push_back({s.column == "1_port" ? 1.0 : 9.0, std::stod(s.row)});
      a4_y.push_back(cell.simulated);
    } else if (s.table == "A.5") {
      const auto& t = published["table_A5_reconfiguration"];
      if (t.contains(s.row)) {
        cell.has_published = true;
        cell.published = t[s.row]["elapsed"][0].get<double>();
        cell.published_sd = t[s.row]["elapsed"][1].get<double>();
      }
      a5[s.row] = r;
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
  if (!a4_y.empty()) append_a4_fits(cells, a4_x, a4_y, published["table_A4_migration"], is_calibration);
  if (!a5.empty()) append_a5_derived(cells, a5, published["table_A5_reconfiguration"], is_calibration);
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
