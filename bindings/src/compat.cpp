// compat(), the era matrix and the model's ABI dumps.
#include "bindings/src/common.hpp"

#include <sstream>

#include "conformance/compat/compat.hpp"
#include "core/json.hpp"
#include "crosscheck/compat_matrix.hpp"
#include "model/kho/abi_dump.hpp"

namespace khospec::bindings {

void init_compat(py::module_& m) {
  m.def("compat", [](const std::string& old_path, const std::string& new_path, const std::string& direction,
                     const std::optional<std::string>& allow, const std::optional<std::string>& old_memory,
                     const std::optional<std::string>& new_memory) {
    conformance::CompatOptions o;
    o.old_memory = old_memory.value_or("");
    o.new_memory = new_memory.value_or("");
    auto d = conformance::parse_direction(direction);
    if (!d) throw py::value_error("direction must be 'both', 'forward' or 'backward', not '" + direction + "'");
    o.direction = *d;
    conformance::AllowList al;
    if (allow) {
      auto bytes = read_file(*allow, 1u << 20);
      std::string err;
      if (!conformance::parse_allow_list(std::string(bytes.begin(), bytes.end()), *allow, al, err))
        throw py::value_error(err);
      o.allow = &al;
    }
    Report load;
    std::optional<conformance::CompatResult> res;
    {
      py::gil_scoped_release nogil;
      res = conformance::compat_check_paths(old_path, new_path, o, load);
    }
    if (!res) {
      PyReport r = make_report(load);
      r.usable = false;
      return r;
    }
    PyReport r = make_report(res->report);
    for (const auto& a : res->allowed) r.allowed.push_back({a.change.diag, a.reason});
    return r;
  }, py::arg("old"), py::arg("new"), py::arg("direction") = "both", py::arg("allow") = py::none(),
     py::arg("old_memory") = py::none(), py::arg("new_memory") = py::none());
  m.def("compat_matrix_json", [] {
    std::ostringstream s;
    {
      py::gil_scoped_release nogil;
      conformance::render_matrix_json(s, conformance::compat_matrix());
    }
    return s.str();
  });
  m.def("abi_dump_json", [](const std::string& era) {
    std::ostringstream s;
    JsonWriter w(s);
    khospec::abi::write_json(w, model::kho_abi_dump(resolve_era(era).era->id));
    return s.str();
  }, py::arg("era"));
}

}  // namespace khospec::bindings
