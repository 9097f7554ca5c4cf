#include "sim/experiments/registry.hpp"

#include <cctype>
#include <cmath>
#include <map>
#include <stdexcept>

#include "sim/experiments/rdc_experiments.hpp"
#include "sim/experiments/reconfig_experiments.hpp"

using nlohmann::json;

namespace equus::sim::experiments {

namespace {

std::vector<CellSpec> cells_of(const std::vector<CellSpec>& all, const std::string& table) {
  std::vector<CellSpec> out;
  for (const auto& c : all)
    if (c.table == table) out.push_back(c);
  return out;
}

Outcome outcome_of(const CellResult& r) {
  return json{{"mean", r.mean}, {"sd", r.sd}, {"retries", r.retries}, {"dropped", r.dropped}};
}

double work(const CellSpec& s, const RunOptions& o) { return static_cast<double>(s.calls) * o.experiments; }

/// Kernel messages per cell, roughly: a multicast is a packet to every other node (Section 8.4.4), an
/// inc_asinvoke two exchanges.
double invocation_cost(const CellSpec& s, const RunOptions& o) {
  double per_call = 1.0;
  switch (s.primitive) {
    case Primitive::SendMulticast2:
      per_call = 4.5;
      break;
    case Primitive::DgramMulticast2:
      per_call = 2.5;
      break;
    case Primitive::AsinvokeBufferLimit1:
      per_call = 2.2;
      break;
    case Primitive::Dgram:
      per_call = 0.4;
      break;
    default:
      break;
  }
  return work(s, o) * per_call * (1.0 + s.extra_bytes / 65536.0);
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

// ---------------------------------------------------------------- Tables A.1, A.2, A.3, 8.1

Experiment invocation_table(const std::string& table, const std::string& title) {
  Experiment e;
  e.table = table;
  e.title = title;
  e.unit = "ms per 1000 calls";
  e.cells = cells_of(appendix_a_cells(), table);
  e.run = [](const CellSpec& s, Testbed& tb, const RunOptions& o) { return outcome_of(run_cell(s, tb, o)); };
  e.cost = invocation_cost;
  return e;
}

void publish_a1(const CellSpec& s, const json& published, Cell& cell) {
  const auto& t = published["table_A1_inter_node"];
  if (t.contains(s.row) && t[s.row].contains(s.column)) {
    cell.has_published = true;
    cell.published = t[s.row][s.column][0].get<double>();
    cell.published_sd = t[s.row][s.column][1].get<double>();
  }
}

/// Table 8.1's Equus row: Table A.1's request-reply call without data, per call.
Experiment table_8_1() {
  Experiment e;
  e.table = "8.1";
  e.title = "Table 8.1: request-reply call time (Equus row)";
  e.unit = "ms per call";
  for (const auto& c : appendix_a_cells())
    if (c.table == "A.1" && c.row == "inc_invoke_reply" && c.column == "0") e.cells.push_back(c);
  e.derive = [](const std::vector<RanCell>& ran, const Reference& ref, std::vector<Cell>& out) {
    for (const auto& r : ran)
      if (r.spec->table == "A.1" && r.spec->row == "inc_invoke_reply" && r.spec->column == "0") {
        Cell c;
        c.table = "8.1";
        c.row = "Equus (MC68030)";
        c.column = "ms";
        c.simulated = r.cell.simulated / 1000.0;
        c.has_published = true;
        c.published = ref.published["table_8_1_request_reply_ms"]["Equus (MC68030)"].get<double>();
        c.unit = "ms per call";
        c.role = "check";
        out.push_back(c);
      }
  };
  return e;
}

// ---------------------------------------------------------------- Table A.4

void publish_a4(const CellSpec& s, const json& published, Cell& cell) {
  for (const auto& row : published["table_A4_migration"]["rows"])
    if (std::to_string(row[0].get<int>()) == s.row) {
      int col = s.column == "1_port" ? 1 : 3;
      cell.has_published = true;
      cell.published = row[col].get<double>();
      cell.published_sd = row[col + 1].get<double>();
    }
}

/// Table A.4's fitted a + b*p + c*s (all cells) and a + c*s per port count, beside the published fits.
void derive_a4_fits(const std::vector<RanCell>& ran, const Reference& ref, std::vector<Cell>& cells) {
  std::vector<std::vector<double>> x;  // (p, s) of each cell
  std::vector<double> y;
  for (const auto& r : ran)
    if (r.spec->table == "A.4") {
      x.push_back({r.spec->column == "1_port" ? 1.0 : 9.0, std::stod(r.spec->row)});
      y.push_back(r.cell.simulated);
    }
  if (y.empty()) return;
  const json& pub = ref.published["table_A4_migration"];
  auto add = [&](const std::string& row, const std::string& col, double v, double p) {
    Cell c;
    c.table = "A.4";
    c.row = row;
    c.column = col;
    c.simulated = v;
    c.has_published = true;
    c.published = p;
    c.unit = "ms per migration";
    c.role = ref.is_calibration(CellSpec{"A.4", row, col}) ? "calibration" : "check";
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
    auto p = numbers_in(pub[ports == 1 ? "regression_1_port" : "regression_9_ports"].get<std::string>());
    std::string row = ports == 1 ? "fit_1_port" : "fit_9_ports";
    add(row, "a", b[0], p.at(0));
    add(row, "c", b[1], p.at(1));
  }
}

Experiment table_a4() {
  Experiment e;
  e.table = "A.4";
  e.title = "Table A.4: migration times (fits: a + b*p + c*s, p ports, s kB)";
  e.unit = "ms per migration";
  e.cells = cells_of(reconfig_experiment_cells(), "A.4");
  e.run = [](const CellSpec& s, Testbed& tb, const RunOptions& o) {
    return outcome_of(run_migration(s, tb, o));
  };
  e.cost = [](const CellSpec& s, const RunOptions&) { return 20.0 * std::stod(s.row); };
  e.publish = publish_a4;
  e.derive = derive_a4_fits;
  return e;
}

// ---------------------------------------------------------------- Table A.5

Outcome run_a5(const CellSpec& s, Testbed& tb, const RunOptions& o) {
  auto r = run_reconfiguration(s, tb, o);
  if (!r.violations.empty())
    throw std::runtime_error("A.5 " + s.row + ": invariant: " + r.violations.front());
  json j = outcome_of(r.elapsed);
  j["forwarded"] = r.forwarded;
  j["forwarded_pending"] = r.forwarded_pending;
  j["reconfigurations"] = r.reconfigurations;
  return j;
}

void publish_a5(const CellSpec& s, const json& published, Cell& cell) {
  const auto& t = published["table_A5_reconfiguration"];
  if (t.contains(s.row)) {
    cell.has_published = true;
    cell.published = t[s.row]["elapsed"][0].get<double>();
    cell.published_sd = t[s.row]["elapsed"][1].get<double>();
  }
}

/// Table A.5's overhead per reconfiguration (against the no-reconfiguration row) and messages
/// forwarded (both kernels, per experiment: withheld, a prediction).
void derive_a5(const std::vector<RanCell>& ran, const Reference& ref, std::vector<Cell>& cells) {
  std::map<std::string, const Outcome*> rows;
  for (const auto& r : ran)
    if (r.spec->table == "A.5") rows[r.spec->row] = &r.outcome;
  const json& pub = ref.published["table_A5_reconfiguration"];
  auto base = rows.find("no_reconfigurations");
  for (const auto& [row, r] : rows) {
    if (row == "no_reconfigurations") continue;
    if (base != rows.end()) {
      Cell c;
      c.table = "A.5";
      c.row = row;
      c.column = "overhead_ms";
      double n = pub.contains(row) ? pub[row]["reconfigurations"].get<double>() : 100;
      c.simulated = ((*r)["mean"].get<double>() - (*base->second)["mean"].get<double>()) / n;
      c.unit = "ms per reconfiguration";
      if (pub.contains(row)) {
        c.has_published = true;
        c.published = pub[row]["overhead_ms"].get<double>();
      }
      c.role = ref.is_calibration(CellSpec{"A.5", row, "overhead_ms"}) ? "calibration" : "check";
      cells.push_back(c);
    }
    Cell f;
    f.table = "A.5";
    f.row = row;
    f.column = "forwarded";
    f.simulated = (*r)["forwarded"].get<double>();
    f.unit = "acknowledged messages forwarded per experiment";
    f.role = "prediction";
    cells.push_back(f);
  }
}

Experiment table_a5() {
  Experiment e;
  e.table = "A.5";
  e.title = "Table A.5 / 8.2: 10,000 inc_send with 100 receiver changes (forwarded counts withheld)";
  e.unit = "ms for 10,000 inc_send";
  e.cells = cells_of(reconfig_experiment_cells(), "A.5");
  e.run = run_a5;
  e.cost = [](const CellSpec& s, const RunOptions& o) { return 3.0 * work(s, o); };
  e.capped = true;
  e.publish = publish_a5;
  e.derive = derive_a5;
  return e;
}

// ---------------------------------------------------------------- Sections 5.5.2 and 3.2.1

Experiment rdc_table(const std::string& table, const std::string& title, const std::string& unit) {
  Experiment e;
  e.table = table;
  e.title = title;
  e.unit = unit;
  e.cells = cells_of(rdc_experiment_cells(), table);
  return e;
}

std::vector<Experiment> build_registry() {
  std::vector<Experiment> all;
  all.push_back(invocation_table("A.1", "Table A.1: invocation times between nodes"));
  all.back().publish = publish_a1;
  all.push_back(table_8_1());
  all.push_back(invocation_table(
      "A.2",
      "Table A.2: invocation times between incarnations at the same node (published figures withheld)"));
  all.push_back(invocation_table(
      "A.3", "Table A.3: inc_copyto / inc_copyfrom between nodes (published figures withheld)"));
  all.push_back(table_a4());
  all.push_back(table_a5());
  all.push_back(
      rdc_table("5.5.2", "Section 5.5.2: uncached ss_get (published estimate withheld)", "ms per call"));
  all.back().run = [](const CellSpec& s, Testbed& tb, const RunOptions& o) {
    return outcome_of(run_ss_get_uncached(s, tb, o));
  };
  all.back().cost = work;
  all.push_back(
      rdc_table("3.2.1", "Section 3.2.1: creating 100 workers: host bottleneck (no published figure)", "s"));
  all.back().unpublished = "none";
  all.back().run = [](const CellSpec& s, Testbed& tb, const RunOptions& o) {
    return outcome_of(run_creation(s, tb, o));
  };
  all.back().cost = [](const CellSpec&, const RunOptions&) { return 20000.0; };
  return all;
}

}  // namespace

const std::vector<Experiment>& registry() {
  static const std::vector<Experiment> all = build_registry();
  return all;
}

const Experiment& experiment(const std::string& table) {
  for (const auto& e : registry())
    if (e.table == table) return e;
  throw std::out_of_range("no experiment for table '" + table + "'");
}

}  // namespace equus::sim::experiments
