// Diagnostic and Report: findings as Python objects.
#include "bindings/src/common.hpp"

#include <sstream>

namespace khospec::bindings {

void init_diagnostics(py::module_& m) {
  py::class_<Diagnostic>(m, "Diagnostic")
      .def_property_readonly("rule", [](const Diagnostic& d) { return d.rule; })
      .def_property_readonly("level", [](const Diagnostic& d) { return std::string(level_name(d.level)); })
      .def_property_readonly("file", [](const Diagnostic& d) { return d.file; })
      .def_property_readonly("node", [](const Diagnostic& d) { return d.node; })
      .def_property_readonly("prop", [](const Diagnostic& d) { return d.property; })
      .def_property_readonly("offset", [](const Diagnostic& d) { return d.offset; })
      .def_property_readonly("message", [](const Diagnostic& d) { return d.message; })
      .def_property_readonly("hints", [](const Diagnostic& d) { return d.hints; })
      .def_property_readonly("hint", [](const Diagnostic& d) {
        std::string s;
        for (const auto& h : d.hints) s += (s.empty() ? "" : "\n") + h;
        return s;
      })
      .def_property_readonly("category", [](const Diagnostic& d) { return d.type; })
      .def("__str__", [](const Diagnostic& d) {
        std::ostringstream s;
        render_text(s, d);
        std::string t = s.str();
        if (!t.empty() && t.back() == '\n') t.pop_back();
        return t;
      })
      .def("__repr__", [](const Diagnostic& d) {
        return "<Diagnostic " + d.rule + " " + std::string(level_name(d.level)) + " " + d.node +
               (d.property.empty() ? "" : ":" + d.property) + ">";
      });

  py::class_<PyReport>(m, "Report")
      .def("__len__", [](const PyReport& r) { return r.diags.size(); })
      .def("__getitem__", [](const PyReport& r, py::ssize_t i) {
        const auto n = static_cast<py::ssize_t>(r.diags.size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) throw py::index_error("report index out of range");
        return r.diags[static_cast<std::size_t>(i)];
      })
      .def("__iter__", [](const PyReport& r) { return py::make_iterator(r.diags.begin(), r.diags.end()); },
           py::keep_alive<0, 1>())
      .def_property_readonly("exit_code", &PyReport::exit_code)
      .def_property_readonly("abi", [](const PyReport& r) { return r.abi; })
      .def_property_readonly("schema", [](const PyReport& r) { return r.schema; })
      .def_property_readonly("preserved", [](const PyReport& r) -> py::object {
        if (!r.has_map) return py::none();
        return py::cast(r.preserved);
      })
      .def_property_readonly("allowed", [](const PyReport& r) {
        py::list l;
        for (const auto& [d, reason] : r.allowed) l.append(py::make_tuple(d, reason));
        return l;
      })
      .def("count", [](const PyReport& r, const std::string& level) {
        if (level != "error" && level != "warning" && level != "info")
          throw py::value_error("level must be 'error', 'warning' or 'info'");
        std::size_t n = 0;
        for (const auto& d : r.diags) n += level_name(d.level) == level;
        return n;
      })
      .def("to_json", &PyReport::to_json)
      .def("__repr__", [](const PyReport& r) {
        return "<Report " + std::to_string(r.diags.size()) + " finding(s), exit_code " + std::to_string(r.exit_code()) + ">";
      });
}

}  // namespace khospec::bindings
