// khospec._core: the private pybind11 extension under the `khospec` package.
// Thin wrappers over the libraries (never over the CLI); each part of the
// module lives in its own file. Long C++ work runs without the GIL.
#include "bindings/src/common.hpp"

PYBIND11_MODULE(_core, m) {
  using namespace khospec::bindings;
  m.doc() = "khospec's C++ core (private: import khospec instead)";
  static py::exception<std::runtime_error> error(m, "Error");
  set_error_type(error.ptr());
  m.attr("__version__") = KHOSPEC_VERSION;
  init_diagnostics(m);
  init_inputs(m);
  init_validate(m);
  init_compat(m);
  init_memblock(m);
  init_machine(m);
  init_simulate(m);
  init_kimage(m);
  init_preflight(m);
}
