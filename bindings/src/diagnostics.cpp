// Diagnostic and Report: findings as Python objects.
#include "bindings/src/common.hpp"

#include <sstream>

namespace khospec::bindings {

void init_diagnostics(py::module_& m) {
  py::class_<Diagnostic>(m, "Diagnostic",
                         "One finding, as the CLI prints it (str()) and as -f json lists it in \"diagnostics\".")
      .def_property_readonly("rule", [](const Diagnostic& d) { return d.rule; },
                             "The rule's ID (`khospec rules`, docs/rules.md); '' for an input that could not be read.")
      .def_property_readonly("level", [](const Diagnostic& d) { return std::string(level_name(d.level)); },
                             "'error', 'warning' or 'info'.")
      .def_property_readonly("file", [](const Diagnostic& d) { return d.file; }, "The input it was found in.")
      .def_property_readonly("node", [](const Diagnostic& d) { return d.node; }, "The FDT node path, or ''.")
      .def_property_readonly("prop", [](const Diagnostic& d) { return d.property; }, "The property name, or ''.")
      .def_property_readonly("offset", [](const Diagnostic& d) { return d.offset; },
                             "Byte offset in the blob (header field or FDT token), or None.")
      .def_property_readonly("message", [](const Diagnostic& d) { return d.message; }, "What is wrong, in one sentence.")
      .def_property_readonly("hints", [](const Diagnostic& d) { return d.hints; },
                             "How to fix it, one string per hint (JSON: the \"hint\" array).")
      .def_property_readonly("category", [](const Diagnostic& d) { return d.type; },
                             "'decode' (FDT container), 'kho' (KHO ABI), 'cli' (unreadable input) or a compat category.")
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

  py::class_<PyReport>(m, "Report",
                       "The findings of validate() or compat(): a sequence of Diagnostic, with the verdict.")
      .def("__len__", [](const PyReport& r) { return r.diags.size(); })
      .def("__getitem__", [](const PyReport& r, py::ssize_t i) {
        const auto n = static_cast<py::ssize_t>(r.diags.size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) throw py::index_error("report index out of range");
        return r.diags[static_cast<std::size_t>(i)];
      })
      .def("__iter__", [](const PyReport& r) { return py::make_iterator(r.diags.begin(), r.diags.end()); },
           py::keep_alive<0, 1>())
      .def_property_readonly("exit_code", &PyReport::exit_code,
                             "What the CLI would exit with: 0 clean, 100 findings (errors, or warnings with werror).")
      .def_property_readonly("abi", [](const PyReport& r) { return r.abi; },
                             "The ABI detected or forced ('kho-v1', 'memblock-v1', ...), '' if none.")
      .def_property_readonly("schema", [](const PyReport& r) { return r.schema; }, "The schema's $id it was checked against.")
      .def_property_readonly("preserved", [](const PyReport& r) -> py::object {
        if (!r.has_map) return py::none();
        return py::cast(r.preserved);
      }, "With a memory image: the preserved blocks as (phys, order) tuples; None without one.")
      .def_property_readonly("allowed", [](const PyReport& r) {
        py::list l;
        for (const auto& [d, reason] : r.allowed) l.append(py::make_tuple(d, reason));
        return l;
      }, "compat(): the changes the policy allowed, as (Diagnostic, reason) tuples.")
      .def("count", [](const PyReport& r, const std::string& level) -> std::size_t {
        if (level != "error" && level != "warning" && level != "info")
          throw py::value_error("level must be 'error', 'warning' or 'info'");
        std::size_t n = 0;
        for (const auto& d : r.diags) n += level_name(d.level) == level;
        return n;
      }, py::arg("level"), "How many findings of that level ('error', 'warning', 'info').")
      .def("to_json", &PyReport::to_json, "The findings as the CLI's -f json document.")
      .def("__repr__", [](const PyReport& r) {
        return "<Report " + std::to_string(r.diags.size()) + " finding(s), exit_code " + std::to_string(r.exit_code()) + ">";
      });
}

}  // namespace khospec::bindings
