#include "bindings/src/common.hpp"

#include "fdt/reader.hpp"

#include <fstream>

namespace khospec::bindings {

namespace {
PyObject* g_error = nullptr;
}  // namespace

void set_error_type(PyObject* type) { g_error = type; }

[[noreturn]] void raise_error(const std::string& msg) {
  PyErr_SetString(g_error, msg.c_str());
  throw py::error_already_set();
}

std::vector<std::uint8_t> to_bytes(const py::buffer& b) {
  py::buffer_info info = b.request();
  if (info.ndim != 1 && info.size != 0) throw py::value_error("expected a 1-dimensional bytes-like object");
  const auto* p = static_cast<const std::uint8_t*>(info.ptr);
  return std::vector<std::uint8_t>(p, p + info.size * info.itemsize);
}

py::bytes as_pybytes(const std::vector<std::uint8_t>& v) {
  return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
}

std::vector<std::uint8_t> read_file(const std::string& path, std::size_t max) {
  // The CLI's reader: the same errors ("is a directory", ...) as OSError.
  std::vector<std::uint8_t> v;
  std::string error;
  if (!fdt::read_file(path, v, error, max)) {
    PyErr_SetString(PyExc_OSError, error.c_str());
    throw py::error_already_set();
  }
  return v;
}

PyReport make_report(const Report& r) {
  PyReport p;
  p.diags = r.diagnostics();
  return p;
}

fdt::Endian parse_endian(const std::string& e) {
  if (e == "little") return fdt::Endian::little;
  if (e == "big") return fdt::Endian::big;
  throw py::value_error("endian must be 'little' or 'big', not '" + e + "'");
}

py::list blocks(const std::vector<model::PreservedBlock>& v) {
  py::list l;
  for (const auto& b : v) l.append(py::make_tuple(b.phys, b.order));
  return l;
}

registry::Resolved resolve_era(const std::string& name, const char* what) {
  auto r = registry::resolve(name);
  if (!r) throw py::value_error(std::string(what) + " '" + name + "' is not " + registry::valid_names());
  return *r;
}

}  // namespace khospec::bindings
