// khospec._core.kernel_image: conformance/kimage's reading of a kernel image
// as a dict (the same fields as `khospec -f json kimage`).
#include "bindings/src/common.hpp"
#include "conformance/kimage/kimage.hpp"

namespace khospec::bindings {

namespace {

py::dict image_dict(const conformance::KernelImage& k) {
  py::dict d;
  d["format"] = k.format;
  d["arch"] = k.arch;
  d["compression"] = k.compression;
  d["release"] = k.release;
  d["major"] = k.major;
  d["minor"] = k.minor;
  d["banner"] = k.banner;
  d["setup_version"] = k.setup_version;
  if (k.config) {
    py::dict options;
    for (const auto& [name, value] : k.config->values) options[py::str(name)] = value;
    d["config"] = options;
    d["config_text"] = k.config->text;
    d["config_missing"] = py::none();
  } else {
    d["config"] = py::none();
    d["config_text"] = py::none();
    d["config_missing"] = k.config_missing;
  }
  d["sections_known"] = k.sections_known;
  py::list sections;
  for (const auto& s : k.sections) {
    py::dict e;
    e["name"] = s.name;
    e["size"] = s.size;
    e["version"] = s.version ? py::object(py::int_(*s.version)) : py::object(py::none());
    e["strings"] = s.strings;
    sections.append(e);
  }
  d["liveupdate_sections"] = sections;
  d["notes"] = k.notes;
  return d;
}

}  // namespace

void init_kimage(py::module_& m) {
  m.def(
      "kernel_image",
      [](const std::string& path) {
        conformance::KernelImageResult r;
        {
          py::gil_scoped_release release;
          r = conformance::read_kernel_image(path);
        }
        if (r.error_kind == "io") {
          PyErr_SetString(PyExc_OSError, r.error.c_str());
          throw py::error_already_set();
        }
        py::dict d;
        d["ok"] = r.ok();
        if (r.ok()) {
          d["image"] = image_dict(*r.image);
          d["error"] = py::none();
        } else {
          d["image"] = py::none();
          py::dict e;
          e["kind"] = r.error_kind;
          e["message"] = r.error;
          d["error"] = e;
        }
        return d;
      },
      py::arg("path"));
}

}  // namespace khospec::bindings
