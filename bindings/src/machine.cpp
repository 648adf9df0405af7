// model.Machine and model.Kernel: a KHO chain step by step.
#include "bindings/src/common.hpp"

#include "core/parse.hpp"
#include "model/kho/mem_track.hpp"

namespace khospec::bindings {

namespace {

std::uint64_t size_arg(const py::object& o) {
  if (py::isinstance<py::int_>(o)) {
    try {
      return o.cast<std::uint64_t>();
    } catch (const py::cast_error&) {
      throw py::value_error("ram: " + std::string(py::str(o)) + " is not a size (0 .. 2**64 - 1 bytes)");
    }
  }
  if (!py::isinstance<py::str>(o))
    throw py::type_error("ram: expected a size as int or str (e.g. 2G), not " + std::string(py::str(o.get_type().attr("__name__"))));
  std::string text;
  try {
    text = o.cast<std::string>();
  } catch (const py::cast_error&) {  // a lone surrogate has no UTF-8
    throw py::value_error("ram: a str that is no UTF-8 is not a size (e.g. 2G, 512M, 0x80000000)");
  }
  auto v = parse_size(text);
  if (!v) throw py::value_error("'" + text + "' is not a size (e.g. 2G, 512M, 0x80000000)");
  return *v;
}

// A page order a physical address can carry (the scenario parser's bound): larger
// ones would shift the page size past 64 bits.
unsigned order_arg(unsigned order) {
  if (order > model::KHO_MAX_WIRE_ORDER)
    throw py::value_error("order " + std::to_string(order) + " is not a page order (0.." +
                          std::to_string(model::KHO_MAX_WIRE_ORDER) + ")");
  return order;
}

struct MachineHolder {
  std::unique_ptr<model::Machine> m;
  std::uint64_t generation = 0;  // bumped by every cold boot (old kernels vanish)
};

struct PyKernel {
  std::shared_ptr<MachineHolder> h;
  std::size_t index = 0;
  std::uint64_t generation = 0;

  model::Kernel& k() const {
    if (generation != h->generation || index >= h->m->kernels().size())
      raise_error("this kernel no longer exists: the machine was cold-booted again");
    return *h->m->kernels()[index];
  }
};

model::KernelConfig kernel_config(const std::string& era, const std::string& cmdline, bool test_kho, bool debug) {
  model::KernelConfig c;
  const registry::Resolved r = resolve_era(era);
  c.era = r.era->id;
  c.release = model::uname_release(r);
  c.cmdline = cmdline;
  c.test_kho = test_kho;
  c.debug = debug;
  return c;
}

PyImage image_from_elf(std::vector<std::uint8_t> elf, const std::string& name) {
  PyImage img;
  Report r;
  img.image = std::make_shared<conformance::MemoryImage>(conformance::MemoryImage::from_bytes(std::move(elf), std::nullopt, name, r));
  img.findings = r.diagnostics();
  return img;
}

}  // namespace

void init_machine(py::module_& m) {
  py::class_<PyKernel>(m, "Kernel",
                      "One kernel of a Machine's chain: its preservation API, debugfs out/, memblock and findings.")
      .def_property_readonly("era", [](const PyKernel& k) { return std::string(k.k().era().name); })
      .def_property_readonly("index", [](const PyKernel& k) { return k.k().index() + 1; })  // kernel 1, 2, 3...
      .def_property_readonly("kho_boot", [](const PyKernel& k) { return k.k().kho_boot(); })
      .def_property_readonly("phase", [](const PyKernel& k) { return std::string(model::boot_phase_name(k.k().phase())); })
      .def("alloc_pages", [](const PyKernel& k, unsigned order) -> py::object {
        auto p = k.k().alloc_pages(order_arg(order));
        if (!p) return py::none();
        return py::int_(p);
      }, py::arg("order"))
      .def("free_pages", [](const PyKernel& k, std::uint64_t phys, unsigned order) { k.k().free_pages(phys, order_arg(order)); },
           py::arg("phys"), py::arg("order"))
      .def("write", [](const PyKernel& k, std::uint64_t phys, const py::buffer& data) {
        k.k().image().write(phys, to_bytes(data));
      }, py::arg("phys"), py::arg("data"))
      .def("read", [](const PyKernel& k, std::uint64_t phys, std::size_t length) {
        // Bytes of the machine's RAM only: an absurd length is a ValueError, not an allocation.
        std::uint64_t ram = 0;
        for (const auto& r : k.h->m->config().ram) ram = std::max(ram, r.base + r.size);
        if (phys > ram || length > ram - phys)
          throw py::value_error("read(" + hex(phys) + ", " + std::to_string(length) + ") reaches past the machine's RAM (ends at " +
                                hex(ram) + ")");
        return as_pybytes(k.k().image().read(phys, length));
      }, py::arg("phys"), py::arg("length"))
      .def("preserve_folio", [](const PyKernel& k, std::uint64_t phys, unsigned order) {
        return k.k().kho_preserve_folio(phys, order_arg(order));
      }, py::arg("phys"), py::arg("order"))
      .def("preserve_pages", [](const PyKernel& k, std::uint64_t phys, std::uint64_t nr) {
        if (!k.k().era().preserve_pages) raise_error(std::string(k.k().era().name) + " has no kho_preserve_pages (6.18+)");
        return k.k().kho_preserve_pages(phys, nr);
      }, py::arg("phys"), py::arg("nr_pages"))
      .def("preserve_phys", [](const PyKernel& k, std::uint64_t phys, std::uint64_t size) {
        return k.k().kho_preserve_phys(phys, size);
      }, py::arg("phys"), py::arg("size"))
      .def("unpreserve_folio", [](const PyKernel& k, std::uint64_t phys, unsigned order) {
        if (!k.k().era().unpreserve_api) raise_error(std::string(k.k().era().name) + " has no kho_unpreserve_folio (6.19+)");
        return k.k().kho_unpreserve_folio(phys, order_arg(order));
      }, py::arg("phys"), py::arg("order"))
      .def("finalize", [](const PyKernel& k) {
        auto& kk = k.k();
        switch (kk.era().finalize) {
          case registry::FinalizeModel::notifier_abort: return kk.debugfs_finalize_write(1);
          case registry::FinalizeModel::refresh: return kk.kho_finalize();
          case registry::FinalizeModel::none: break;
        }
        return 0;  // stateless: nothing to finalize
      })
      .def("abort", [](const PyKernel& k) { return k.k().debugfs_finalize_write(0); })
      .def("kexec_load", [](const PyKernel& k) { return k.k().kexec_file_load(); })
      .def("memfd_create", [](const PyKernel& k) { return k.k().memfd_create(); },
           "memfd_create(2): an fd number, or a negative errno")
      .def("memfd_write", [](const PyKernel& k, int fd, std::uint64_t offset, const py::buffer& data) {
        const auto b = to_bytes(data);
        return k.k().memfd_write(fd, offset, b);
      }, "pwrite(2) into a memfd: 0 or a negative errno")
      .def("memfd_truncate", [](const PyKernel& k, int fd, std::uint64_t size) { return k.k().memfd_truncate(fd, size); },
           "ftruncate(2) of a memfd: 0 or a negative errno")
      .def("memfd_seek", [](const PyKernel& k, int fd, std::uint64_t pos) { return k.k().memfd_seek(fd, pos); },
           "lseek(fd, pos, SEEK_SET) (memfd-luo hands f_pos over): 0 or a negative errno")
      .def("luo_create_session", [](const PyKernel& k, const std::string& name) { return k.k().luo_create_session(name); },
           "LIVEUPDATE_IOCTL_CREATE_SESSION: a session fd, or a negative errno")
      .def("luo_preserve_fd", [](const PyKernel& k, int session, int fd, std::uint64_t token) {
        return k.k().luo_preserve_fd(session, fd, token);
      }, "LIVEUPDATE_SESSION_PRESERVE_FD: 0 or a negative errno")
      .def("restore_folio", [](const PyKernel& k, std::uint64_t phys) -> py::object {
        unsigned order = 0;
        if (!k.k().kho_restore_folio(phys, &order)) return py::none();
        return py::int_(order);
      }, py::arg("phys"))
      .def("retrieve_subtree", [](const PyKernel& k, const std::string& name) -> py::object {
        std::uint64_t phys = 0, size = 0;
        if (k.k().kho_retrieve_subtree(name, &phys, &size) != 0) return py::none();
        return py::make_tuple(phys, size);
      }, py::arg("name"))
      .def("out_fdt", [](const PyKernel& k) { return as_pybytes(k.k().debugfs_out_fdt()); })
      .def("out_blobs", [](const PyKernel& k) {
        py::dict d;
        for (const auto& b : k.k().debugfs_out_blobs()) d[py::str(b.name)] = as_pybytes(b.bytes);
        return d;
      })
      .def_property_readonly("scratch", [](const PyKernel& k) {
        py::list l;
        for (const auto& s : k.k().scratch()) l.append(py::make_tuple(s.addr, s.size));
        return l;
      })
      .def_property_readonly("incoming", [](const PyKernel& k) { return blocks(k.k().incoming_blocks()); })
      .def_property_readonly("outgoing", [](const PyKernel& k) { return blocks(k.k().outgoing_at_kexec()); })
      .def_property_readonly("preserved", [](const PyKernel& k) -> py::object {
        const model::MemTrack* t = k.k().tracker();
        if (!t) return py::list();
        return blocks(t->blocks());
      })
      .def_property_readonly("findings", [](const PyKernel& k) {
        py::list l;
        for (const auto& f : k.k().findings()) l.append(py::make_tuple(f.id, f.level, f.detail));
        return l;
      })
      .def_property_readonly("dmesg", [](const PyKernel& k) { return k.k().dmesg(); })
      .def("check_invariants", [](const PyKernel& k) {
        py::list l;
        for (const auto& f : k.k().check_invariants()) l.append(py::make_tuple(f.id, f.level, f.detail));
        return l;
      })
      .def("memblock_regions", [](const PyKernel& k, const std::string& type) {
        const auto& mb = k.k().memblock();
        const model::MemblockType* t = type == "memory" ? &mb.memory() : type == "reserved" ? &mb.reserved() : nullptr;
        if (!t) throw py::value_error("type must be 'memory' or 'reserved', not '" + type + "'");
        py::list l;
        for (const auto& r : t->regions) l.append(py::make_tuple(r.base, r.size, model::flags_to_string(r.flags), r.nid));
        return l;
      }, py::arg("type"))
      .def("__repr__", [](const PyKernel& k) {
        return "<Kernel " + std::to_string(k.k().index() + 1) + " " + std::string(k.k().era().name) + ">";
      });

  py::class_<MachineHolder, std::shared_ptr<MachineHolder>>(m, "Machine",
                                                          "The KHO model's machine: boot a kernel of a release, preserve, kexec from bytes.")
      .def(py::init([](const py::object& ram, int nodes, const std::string& arch) {
        if (nodes < 1 || nodes > 64) throw py::value_error("nodes must be 1..64");
        const std::uint64_t bytes = size_arg(ram);
        // As a scenario's machine.ram: 1 byte on 2 nodes divided by zero (SIGFPE).
        if (const std::string why = model::machine_ram_problem(bytes); !why.empty())
          throw py::value_error("ram: " + why + ", not " + std::to_string(bytes) + " bytes");
        auto cfg = model::machine_with_ram(bytes, nodes);
        if (arch == "arm64") cfg.arch = model::Arch::arm64;
        else if (arch != "x86_64") throw py::value_error("arch must be 'x86_64' or 'arm64'");
        auto h = std::make_shared<MachineHolder>();
        h->m = std::make_unique<model::Machine>(cfg);
        return h;
      }), py::arg("ram") = "2G", py::arg("nodes") = 1, py::arg("arch") = "x86_64")
      .def("boot", [](std::shared_ptr<MachineHolder> h, const std::string& era, const std::string& cmdline,
                      bool test_kho, bool debug) {
        auto cfg = kernel_config(era, cmdline, test_kho, debug);
        {
          py::gil_scoped_release nogil;
          h->m->boot_cold(cfg);
        }
        ++h->generation;
        return PyKernel{h, h->m->kernels().size() - 1, h->generation};
      }, py::arg("era"), py::arg("cmdline") = "kho=on", py::arg("test_kho") = false, py::arg("debug") = false)
      .def("kexec", [](std::shared_ptr<MachineHolder> h, const std::string& era, const std::string& cmdline,
                       bool test_kho, bool debug) -> py::object {
        if (h->m->kernels().empty()) raise_error("kexec before boot: call Machine.boot() first");
        auto cfg = kernel_config(era, cmdline, test_kho, debug);
        model::Kernel* k = nullptr;
        {
          py::gil_scoped_release nogil;
          k = h->m->kexec(cfg);
        }
        if (!k) return py::none();
        return py::cast(PyKernel{h, h->m->kernels().size() - 1, h->generation});
      }, py::arg("era"), py::arg("cmdline") = "kho=on", py::arg("test_kho") = false, py::arg("debug") = false)
      .def_property_readonly("kernels", [](std::shared_ptr<MachineHolder> h) {
        std::vector<PyKernel> v;
        for (std::size_t i = 0; i < h->m->kernels().size(); ++i) v.push_back(PyKernel{h, i, h->generation});
        return v;
      })
      .def("check_handover", [](std::shared_ptr<MachineHolder> h) {
        if (h->m->kernels().size() < 2) raise_error("check_handover needs a kexec'd kernel: call Machine.kexec() first");
        py::list l;
        for (const auto& f : h->m->check_handover()) l.append(py::make_tuple(f.id, f.level, f.detail));
        return l;
      })
      .def("memory_elf", [](std::shared_ptr<MachineHolder> h) { return as_pybytes(h->m->image().save_elf()); })
      .def("memory", [](std::shared_ptr<MachineHolder> h) { return image_from_elf(h->m->image().save_elf(), "model memory"); })
      .def_property_readonly("ram", [](std::shared_ptr<MachineHolder> h) {
        py::list l;
        for (const auto& r : h->m->config().ram) l.append(py::make_tuple(r.base, r.size, r.nid));
        return l;
      });
}

}  // namespace khospec::bindings
