// Blob (from bytes, a file or a live debugfs tree) and MemoryImage.
#include "bindings/src/common.hpp"

#include "conformance/live/live.hpp"
#include "core/parse.hpp"

namespace khospec::bindings {

void init_inputs(py::module_& m) {
  py::class_<PyBlob>(m, "Blob",
                    "A KHO blob (root FDT, sub-FDT or raw client blob) to validate(), dump() or handover().")
      .def_static("from_bytes", [](const py::buffer& data, const std::string& name) {
        PyBlob b;
        b.name = name;
        b.data = to_bytes(data);
        return b;
      }, py::arg("data"), py::arg("name") = "<bytes>", "A blob from bytes; `name` is what findings call it.")
      .def_static("from_file", [](const std::string& path, std::size_t max_size) {
        PyBlob b;
        b.name = path;
        b.data = read_file(path, max_size);
        return b;
      }, py::arg("path"), py::arg("max_size") = std::size_t{64} << 20,
      "A blob from a file; OSError if it cannot be read (a directory, missing, larger than max_size).")
      .def_static("from_live", [](const std::string& side, const std::string& root) {
        if (side != "out" && side != "in") throw py::value_error("side must be 'out' or 'in', not '" + side + "'");
        conformance::LiveSource src;
        Report r;
        std::string err;
        if (!conformance::read_live(root, side, std::size_t{64} << 20, src, r, err)) {
          PyErr_SetString(PyExc_OSError, err.c_str());
          throw py::error_already_set();
        }
        PyBlob top;
        top.findings = r.diagnostics();
        top.scratch = src.scratch;
        if (src.memory) top.memory = std::make_shared<conformance::MemoryImage>(std::move(*src.memory));
        top.fdt_phys = src.fdt_phys;
        bool have_root = false;
        for (auto& lb : src.blobs) {
          PyBlob b;
          b.name = lb.name;
          b.data = std::move(lb.bytes);
          b.root = lb.root;
          if (lb.root && !have_root) {
            top.name = b.name;
            top.data = std::move(b.data);
            have_root = true;
          } else {
            top.sub_blobs.push_back(std::move(b));
          }
        }
        if (!have_root) top.name = src.dir + "/fdt";
        return top;
      }, py::arg("side") = "out", py::arg("root") = "",
      "The running kernel's debugfs kho/out or kho/in (root: another debugfs mount); sub-blobs,\n"
      "scratch and, on 7.x, /proc/kcore as memory come with it. OSError if KHO is not there.")
      .def_property_readonly("name", [](const PyBlob& b) { return b.name; }, "What findings call it (the path, or the name given).")
      .def_property_readonly("data", [](const PyBlob& b) { return as_pybytes(b.data); }, "The bytes.")
      .def_property_readonly("sub_blobs", [](const PyBlob& b) { return b.sub_blobs; },
                             "from_live: the sub-FDTs and raw client blobs beside the root, as Blobs.")
      .def_property_readonly("fdt_phys", [](const PyBlob& b) { return b.fdt_phys; },
                             "from_live on 7.x: where the root lies in /proc/kcore (None otherwise)")
      .def_property_readonly("memory", [](const PyBlob& b) -> py::object {
        if (!b.memory) return py::none();
        PyImage img;
        img.image = b.memory;
        return py::cast(img);
      }, "from_live on 7.x: /proc/kcore, which validate() follows the map in (None otherwise)")
      .def_property_readonly("scratch", [](const PyBlob& b) -> py::object {
        if (!b.scratch) return py::none();
        py::list l;
        for (const auto& s : *b.scratch) l.append(py::make_tuple(s.addr, s.size));
        return l;
      }, "from_live: the scratch areas as (phys, size) tuples, None when debugfs has none.")
      .def("__len__", [](const PyBlob& b) { return b.data.size(); })
      .def("__repr__", [](const PyBlob& b) { return "<Blob " + b.name + " " + std::to_string(b.data.size()) + " bytes>"; });

  py::class_<PyImage>(m, "MemoryImage",
                      "Physical memory to follow KHO pointers in: an ELF core (QEMU dump-guest-memory,\n"
                      "/proc/kcore, a capture's memory.elf) or raw bytes placed at `base`.")
      .def_static("from_file", [](const std::string& path, std::optional<std::uint64_t> base) {
        PyImage img;
        img.image = std::make_shared<conformance::MemoryImage>();
        Report r;
        std::string err;
        if (!conformance::MemoryImage::from_file(path, base, *img.image, r, err)) {
          PyErr_SetString(PyExc_OSError, err.c_str());
          throw py::error_already_set();
        }
        img.findings = r.diagnostics();
        return img;
      }, py::arg("path"), py::arg("base") = py::none(),
      "An image from a file: an ELF core, or raw bytes at `base`; OSError if it cannot be read.")
      .def_static("from_pages", [](const py::object& pages) {
        // A capture's directory of mem_*_0xADDR.bin pages, or (path, address) pairs.
        std::vector<conformance::PageFile> files;
        std::string name;
        if (py::isinstance<py::str>(pages)) {
          try {
            name = pages.cast<std::string>();
          } catch (const py::cast_error&) {
            throw py::value_error("pages: the path is not valid UTF-8");
          }
          files = conformance::page_files_in(name);
          if (files.empty()) {
            PyErr_SetString(PyExc_OSError, (name + ": no page files (mem_*_0xADDR.bin)").c_str());
            throw py::error_already_set();
          }
        } else {
          std::vector<std::pair<std::string, std::uint64_t>> pairs;
          try {
            if (py::isinstance<py::bytes>(pages) || py::isinstance<py::bytearray>(pages)) throw py::cast_error();
            pairs = pages.cast<std::vector<std::pair<std::string, std::uint64_t>>>();
          } catch (const py::cast_error&) {
            throw py::type_error("pages: expected a directory path or [(path, address), ...], not " +
                                 std::string(py::str(pages.get_type().attr("__name__"))));
          }
          for (const auto& [path, addr] : pairs) {
            files.push_back({path, addr});
            name += (name.empty() ? "" : ",") + path + "@" + hex(addr);
          }
        }
        PyImage img;
        img.image = std::make_shared<conformance::MemoryImage>();
        std::string err;
        if (!conformance::MemoryImage::from_pages(files, name, *img.image, err)) {
          PyErr_SetString(PyExc_OSError, err.c_str());
          throw py::error_already_set();
        }
        return img;
      }, py::arg("pages"),
         "Page files as one image: a capture's directory of mem_*_0xADDR.bin, or [(path, address), ...]. "
         "Overlapping files must hold the same bytes; OSError otherwise.")
      .def_static("from_bytes", [](const py::buffer& data, std::optional<std::uint64_t> base, const std::string& name) {
        PyImage img;
        Report r;
        img.image = std::make_shared<conformance::MemoryImage>(
            conformance::MemoryImage::from_bytes(to_bytes(data), base, name, r));
        img.findings = r.diagnostics();
        return img;
      }, py::arg("data"), py::arg("base") = py::none(), py::arg("name") = "<bytes>",
      "An image from bytes: an ELF core, or raw bytes at `base`; a malformed one has findings.")
      .def_property_readonly("name", [](const PyImage& i) { return i.image->name(); }, "What findings call it.")
      .def_property_readonly("ok", [](const PyImage& i) { return i.image->ok(); }, "False when the image is malformed (see findings).")
      .def_property_readonly("segments", [](const PyImage& i) {
        py::list l;
        for (const auto& s : i.image->segments()) l.append(py::make_tuple(s.paddr, s.size));
        return l;
      }, "The physical ranges it holds, as (paddr, size) tuples.")
      .def("read", [](const PyImage& i, std::uint64_t paddr, std::size_t length) -> py::object {
        auto v = i.image->read_vec(paddr, length);
        if (!v) return py::none();
        return as_pybytes(*v);
      }, py::arg("paddr"), py::arg("length"), "`length` bytes at physical `paddr`, or None if the image lacks any of them.")
      .def_property_readonly("findings", [](const PyImage& i) { return i.findings; },
                             "What was wrong with the image (kho_image_* Diagnostics).");
}

}  // namespace khospec::bindings
