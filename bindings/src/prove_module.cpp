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
                  const std::optional<double>& timeout, unsigned k, unsigned bmc, unsigned jobs, bool lemmas,
                  bool list) {
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
    // The CLI's bounds (cmd_prove_in_process.cpp): --k 2..8, --bmc 1..16, --jobs 1..64.
    if (k < 2 || k > 8) throw py::value_error("k must be 2..8");
    if (bmc < 1 || bmc > 16) throw py::value_error("bmc must be 1..16");
    if (jobs < 1 || jobs > 64) throw py::value_error("jobs must be 1..64");
    o.k = k;
    o.bmc_steps = bmc;
    o.jobs = jobs;
    o.run_lemmas = lemmas;
    const auto infos = spec::list_obligations(o);
    if (infos.empty())
      throw py::value_error("no obligation matches only='" + o.only + "'" + (o.era.empty() ? "" : " era='" + o.era + "'"));
    std::ostringstream s;
    if (list) {
      JsonWriter w(s);
      w.begin_array();
      for (const auto& i : infos) spec::write_json(w, i);
      w.end_array();
      return s.str();
    }
    {
      py::gil_scoped_release nogil;
      const auto results = spec::run_obligations(o);
      JsonWriter w(s);
      w.begin_array();
      for (const auto& r : results) spec::write_json(w, r);
      w.end_array();
    }
    return s.str();
  }, py::arg("only") = py::none(), py::arg("era") = py::none(), py::arg("timeout") = py::none(),
     py::arg("k") = spec::default_options().k, py::arg("bmc") = spec::default_options().bmc_steps, py::arg("jobs") = 2,
     py::arg("lemmas") = true, py::arg("list") = false);
}
