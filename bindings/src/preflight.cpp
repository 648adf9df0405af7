// khospec._core.preflight_json: crosscheck/preflight.hpp for Python, as the
// JSON object `khospec -f json preflight` prints under "preflight".
#include <sstream>

#include "bindings/src/common.hpp"
#include "core/json.hpp"
#include "crosscheck/preflight.hpp"
#include "model/kho/machine.hpp"

namespace khospec::bindings {

namespace {

std::string do_preflight(const PyBlob& blob, const PyImage* memory, const std::string& kind, const std::string& name,
                         const std::optional<std::string>& cmdline,
                         const std::optional<std::vector<std::pair<std::uint64_t, std::uint64_t>>>& scratch,
                         std::optional<std::uint64_t> fdt_phys, std::uint64_t ram) {
  std::string error_kind, error;
  auto b = conformance::next_kernel(kind, name, cmdline, error_kind, error);
  if (!b) {
    if (error_kind == "io") {
      PyErr_SetString(PyExc_OSError, error.c_str());
      throw py::error_already_set();
    }
    throw py::value_error(error);
  }
  std::shared_ptr<conformance::MemoryImage> image = memory ? memory->image : blob.memory;
  if (!image) throw py::value_error("preflight follows A's hand-over in memory: give memory= (or a Blob.from_live())");
  conformance::ValidateOptions vo;
  vo.read.file = blob.name;
  vo.fdt_phys = fdt_phys ? fdt_phys : blob.fdt_phys;
  conformance::PreflightOptions po;
  if (scratch) {
    for (const auto& [addr, size] : *scratch) po.scratch.push_back({addr, size});
  } else if (blob.scratch) {
    po.scratch = *blob.scratch;
  }
  vo.scratch = po.scratch;
  if (ram) {
    if (const std::string why = model::machine_ram_problem(ram); !why.empty())
      throw py::value_error("ram: " + why + ", not " + std::to_string(ram) + " bytes");
  }
  po.ram = ram;
  std::optional<conformance::Preflight> p;
  {
    py::gil_scoped_release nogil;
    Report r;
    const conformance::Validation a = conformance::validate(blob.data, image.get(), vo, r);
    p = conformance::preflight(a, *image, *b, po, error);
  }
  if (!p) throw py::value_error(blob.name + ": " + error);
  std::ostringstream o;
  JsonWriter w(o, 0);
  conformance::write_preflight_json(w, *p);
  return o.str();
}

}  // namespace

void init_preflight(py::module_& m) {
  m.def("preflight_json", &do_preflight, py::arg("blob"), py::arg("memory") = nullptr, py::arg("kind") = "release",
        py::arg("name") = "", py::arg("cmdline") = py::none(), py::arg("scratch") = py::none(),
        py::arg("fdt_phys") = py::none(), py::arg("ram") = 0);
}

}  // namespace khospec::bindings
