// khospec._prove: the spec's Z3 proof obligations, run in-process through
// the spec library. A module of its own so that `import khospec` does not load
// the solver; khospec.prove() imports it on first use.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <sstream>
#include <string>

#include "core/json.hpp"
#include "registry/era.hpp"
#include "spec/prove.hpp"

namespace py = pybind11;
using namespace khospec;

PYBIND11_MODULE(_prove, m) {
  m.doc() = "khospec's Z3 proof obligations (private: call khospec.prove instead)";
  // The `obligations` array of `khospec -f json prove`, as JSON text.
  m.def("run", [](const std::optional<std::string>& only, const std::optional<std::string>& era,
                  const std::optional<double>& timeout) {
    spec::ProveOptions o = spec::default_options();
    if (only) o.only = *only;
    if (era) {
      auto r = registry::resolve(*era);
      if (!r) throw py::value_error("era '" + *era + "' is not " + registry::valid_names());
      o.era = std::string(r->era->name);
    }
    if (timeout) {
      if (!(*timeout >= 1 && *timeout <= 86400)) throw py::value_error("timeout must be 1..86400 seconds");
      o.timeout_s = static_cast<unsigned>(*timeout);
    }
    if (spec::list_obligations(o).empty())
      throw py::value_error("no obligation matches only='" + o.only + "'" + (o.era.empty() ? "" : " era='" + o.era + "'"));
    std::ostringstream s;
    {
      py::gil_scoped_release nogil;
      const auto results = spec::run_obligations(o);
      JsonWriter w(s);
      w.begin_array();
      for (const auto& r : results) spec::write_json(w, r);
      w.end_array();
    }
    return s.str();
  }, py::arg("only") = py::none(), py::arg("era") = py::none(), py::arg("timeout") = py::none());
}
