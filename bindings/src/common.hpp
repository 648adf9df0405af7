// Shared pieces of the khospec._core extension: conversions, the holders of
// blobs, memory images and reports, era names, and the misuse exceptions.
// Bad input (blobs, images, schemas) never raises, it yields findings in a
// Report; exceptions are only for misuse (ValueError, LookupError, OSError,
// khospec.Error). The public, typed surface is khospec/_core.pyi.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <map>
#include <sstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conformance/image/image.hpp"
#include "conformance/validate/validate.hpp"
#include "core/diag.hpp"
#include "core/json.hpp"
#include "core/rules.hpp"
#include "fdt/decode.hpp"
#include "model/kho/machine.hpp"
#include "registry/era.hpp"

namespace khospec::bindings {

namespace py = pybind11;

// khospec.Error: misuse that is neither a bad value nor a missing name (a
// kernel object whose machine rebooted, an operation the era lacks).
void set_error_type(PyObject* type);
[[noreturn]] void raise_error(const std::string& msg);

std::vector<std::uint8_t> to_bytes(const py::buffer& b);
py::bytes as_pybytes(const std::vector<std::uint8_t>& v);
// The whole file (at most `max` bytes); OSError naming the path otherwise.
std::vector<std::uint8_t> read_file(const std::string& path, std::size_t max);

struct PyBlob {
  std::string name;
  std::vector<std::uint8_t> data;
  bool root = true;
  std::vector<PyBlob> sub_blobs;  // from_live: the sub-FDTs next to the root
  std::optional<std::vector<conformance::ScratchArea>> scratch;
  std::vector<Diagnostic> findings;  // live-source findings
  // from_live on 7.x: /proc/kcore and where the root lies in it (validate() follows it there)
  std::shared_ptr<conformance::MemoryImage> memory;
  std::optional<std::uint64_t> fdt_phys;
};

struct PyImage {
  std::shared_ptr<conformance::MemoryImage> image;
  std::vector<Diagnostic> findings;  // image_* findings from loading
};

struct PyReport {
  std::vector<Diagnostic> diags;
  std::string abi, schema;
  std::vector<std::pair<std::uint64_t, unsigned>> preserved;
  bool has_map = false;
  bool usable = true;  // false: an input could not be used at all (exit 1)
  std::vector<std::pair<Diagnostic, std::string>> allowed;  // compat allow-list

  int exit_code() const {
    if (!usable) return exit_error;
    Report r;
    for (const auto& d : diags) r.add(d);
    return r.exit_code();
  }
  std::string to_json() const {
    std::ostringstream s;
    JsonWriter w(s);
    w.begin_object();
    w.key("abi").value(abi);
    w.key("schema").value(schema);
    w.key("exit_code").value(exit_code());
    write_json_diagnostics(w, diags);
    w.end_object();
    return s.str();
  }
};

PyReport make_report(const Report& r);
fdt::Endian parse_endian(const std::string& e);
// [(phys, order), ...]
py::list blocks(const std::vector<model::PreservedBlock>& v);
// An era or a release by name; ValueError listing the valid names otherwise.
registry::Resolved resolve_era(const std::string& name, const char* what = "era");

// Each part of the module adds its classes and functions.
void init_diagnostics(py::module_& m);
void init_inputs(py::module_& m);
void init_validate(py::module_& m);
void init_compat(py::module_& m);
void init_memblock(py::module_& m);
void init_machine(py::module_& m);
void init_simulate(py::module_& m);
void init_kimage(py::module_& m);
void init_preflight(py::module_& m);

}  // namespace khospec::bindings
