// pyequus._core: a thin pybind11 layer over sim/facade.hpp. Everything else lives in Python (pyequus/).
// SimGrid allows one engine per process: call `reproduce` or `run_scenario` at most once per process
// (pyequus runs them in a spawned child process).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <exception>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/facade.hpp"

namespace py = pybind11;
namespace es = equus::sim;

namespace {

std::string cell_repr(const es::Cell& c) {
  std::string s = "Cell(table='" + c.table + "', row='" + c.row + "', column='" + c.column +
                  "', simulated=" + std::to_string(c.simulated);
  if (c.has_published) s += ", published=" + std::to_string(c.published);
  return s + ", unit='" + c.unit + "', role='" + c.role + "')";
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "Thin binding of the equus-sim facade (sim/facade.hpp).";

  // Bad input (unknown table, bad override) -> ValueError. pybind11's own exceptions also derive from
  // std::runtime_error: rethrow them so their usual translation applies.
  py::register_local_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const py::builtin_exception&) {
      throw;
    } catch (const py::error_already_set&) {
      throw;
    } catch (const std::runtime_error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  py::class_<es::Cell>(m, "Cell", "One reproduced figure cell.")
      .def_readonly("table", &es::Cell::table)
      .def_readonly("row", &es::Cell::row)
      .def_readonly("column", &es::Cell::column)
      .def_readonly("simulated", &es::Cell::simulated)
      .def_readonly("has_published", &es::Cell::has_published)
      .def_readonly("published", &es::Cell::published)
      .def_readonly("published_sd", &es::Cell::published_sd, "< 0 when unknown")
      .def_readonly("unit", &es::Cell::unit)
      .def_readonly("role", &es::Cell::role, "'calibration', 'check' or 'prediction'")
      .def("__repr__", &cell_repr);

  py::class_<es::ReproduceOptions>(
      m, "ReproduceOptions", "Options of reproduce(); list/dict fields are copied: assign, don't mutate.")
      .def(py::init<>())
      .def_readwrite("only", &es::ReproduceOptions::only, "table names; empty = all")
      .def_readwrite("overrides", &es::ReproduceOptions::overrides, "e.g. {'m68030.trap_us': '120'}")
      .def_readwrite("experiments", &es::ReproduceOptions::experiments)
      .def_readwrite("calls_scale", &es::ReproduceOptions::calls_scale)
      .def_readwrite("seed", &es::ReproduceOptions::seed)
      .def_readwrite("jobs", &es::ReproduceOptions::jobs, "worker processes; 0 = number of cores");

  m.def("reproduce", &es::reproduce, py::arg("options"), py::call_guard<py::gil_scoped_release>(),
        "Run the Appendix A experiments; returns a list of Cell. Once per process (one SimGrid engine).");
  m.def("cells_to_json", &es::cells_to_json, py::arg("cells"),
        "{\"cells\": [...]} as written by `equus reproduce --json`.");
  m.def("known_tables", &es::known_tables, "Names of the tables reproduce() knows, in print order.");

  py::class_<es::ScenarioResult>(m, "ScenarioResult", "What a scenario run reports (sim/facade.hpp).")
      .def_readonly("name", &es::ScenarioResult::name)
      .def_readonly("seed", &es::ScenarioResult::seed)
      .def_readonly("end_time", &es::ScenarioResult::end_time, "simulated seconds")
      .def_readonly("incarnations_created", &es::ScenarioResult::incarnations_created)
      .def_readonly("records", &es::ScenarioResult::records, "count of each recorded key")
      .def_readonly("migrations", &es::ScenarioResult::migrations)
      .def_readonly("reconfigurations", &es::ScenarioResult::reconfigurations)
      .def_readonly("violations", &es::ScenarioResult::violations, "of the communications invariant")
      .def_readonly("blocked", &es::ScenarioResult::blocked)
      .def_readonly("end_reason", &es::ScenarioResult::end_reason,
                    "'finished' (only servers left), 'deadlock' (nothing could happen any more) or 'duration'")
      .def_readonly("out_dir", &es::ScenarioResult::out_dir, "'' when nothing was written")
      .def_readonly("files", &es::ScenarioResult::files)
      .def_readonly("tables", &es::ScenarioResult::tables, "CSV tables written: name -> path")
      .def_readonly("failures", &es::ScenarioResult::failures,
                    "operations the scenario asked for that failed: '<time> s: <record key>: <status>'")
      .def_readonly("errors", &es::ScenarioResult::errors,
                    "op programs stopped on a computed value out of range")
      .def_readonly("cleared", &es::ScenarioResult::cleared, "files of an earlier run removed from out_dir");

  m.def(
      "run_scenario",
      [](const std::string& scenario, const std::map<std::string, std::string>& overrides,
         std::optional<uint64_t> seed, std::optional<std::string> out_dir,
         const std::vector<double>& graph_at) {
        es::ScenarioOptions o;
        o.scenario = scenario;
        o.overrides = overrides;
        o.seed = seed;
        o.write_outputs = out_dir.has_value();
        o.out_dir = out_dir.value_or("");
        o.graph_at = graph_at;
        return es::run_scenario(o);
      },
      py::arg("scenario"), py::arg("overrides") = std::map<std::string, std::string>{},
      py::arg("seed") = py::none(), py::arg("out_dir") = py::none(),
      py::arg("graph_at") = std::vector<double>{}, py::call_guard<py::gil_scoped_release>(),
      "Validate and run a scenario (path or JSON text). Once per process (one SimGrid engine).");

  m.def(
      "model_params",
      [](const std::map<std::string, std::string>& overrides) {
        std::vector<std::map<std::string, py::object>> rows;
        for (const auto& i : es::model_params(overrides))
          rows.push_back({{"name", py::str(i.name)},
                          {"value", py::float_(i.value)},
                          {"unit", py::str(i.unit)},
                          {"value_si", py::float_(i.value_si)},
                          {"provenance", py::str(i.provenance)},
                          {"description", py::str(i.description)}});
        return rows;
      },
      py::arg("overrides") = std::map<std::string, std::string>{},
      "Every model parameter as loaded, with overrides applied; a bad override raises ValueError. No engine.");
  m.def("validate_scenario", &es::validate_scenario, py::arg("scenario"),
        "Check a scenario (path or JSON text); returns its name, or raises ValueError naming the JSON pointer.");
  m.def("set_simgrid_options", &es::set_simgrid_options, py::arg("options"),
        "SimGrid --log=/--cfg= options for the simulations of this process.");
}
