// khospec._core: the private pybind11 extension under the `khospec` package.
//
// Shape (style-anchors §2.6, §4.11): thin wrappers over the C++ library;
// bad input (blobs, images, schemas) never raises, it yields findings in a
// Report; exceptions only for misuse (ValueError, LookupError, OSError,
// khospec.Error). Long C++ work runs without the GIL. The public, typed
// surface is khospec/_core.pyi (a test keeps it equal to this module).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/cli.hpp"
#include "conformance/compat/compat.hpp"
#include "crosscheck/compat_matrix.hpp"
#include "conformance/image/image.hpp"
#include "conformance/live/live.hpp"
#include "conformance/validate/validate.hpp"
#include "core/json.hpp"
#include "core/parse.hpp"
#include "core/rules.hpp"
#include "fdt/decode.hpp"
#include "fdt/reader.hpp"
#include "fdt/tree.hpp"
#include "model/kho/abi_dump.hpp"
#include "model/kho/cmdline.hpp"
#include "model/kho/machine.hpp"
#include "model/kho/scenario.hpp"
#include "model/memblock/memblock.hpp"

namespace py = pybind11;
using namespace khospec;

namespace {

// ------------------------------------------------------------------ errors

// khospec.Error: misuse that is neither a bad value nor a missing name
// (a kernel object whose machine rebooted, an operation the era lacks).
PyObject* g_error = nullptr;

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
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    PyErr_SetFromErrnoWithFilename(PyExc_OSError, path.c_str());
    throw py::error_already_set();
  }
  std::vector<std::uint8_t> v;
  char buf[65536];
  while (in && v.size() <= max) {
    in.read(buf, sizeof buf);
    v.insert(v.end(), buf, buf + in.gcount());
  }
  return v;
}

// ------------------------------------------------------------------ blobs

struct PyBlob {
  std::string name;
  std::vector<std::uint8_t> data;
  bool root = true;
  std::vector<PyBlob> sub_blobs;  // from_live: the sub-FDTs next to the root
  std::optional<std::vector<conformance::ScratchArea>> scratch;
  std::vector<Diagnostic> findings;  // live-source findings
};

struct PyImage {
  std::shared_ptr<conformance::MemoryImage> image;
  std::vector<Diagnostic> findings;  // image_* findings from loading
};

// ------------------------------------------------------------------ reports

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

PyReport make_report(const Report& r) {
  PyReport p;
  p.diags = r.diagnostics();
  return p;
}

RuleConfig rule_config(const std::optional<std::map<std::string, std::string>>& rules) {
  RuleConfig rc;
  if (!rules) return rc;
  for (const auto& [rule, level] : *rules) {
    std::string err;
    bool ok;
    if (level == "off") ok = rc.apply_w("no-" + rule, err);
    else if (level == "warning") ok = rc.apply_w(rule, err);
    else if (level == "error") ok = rc.apply_e(rule, err);
    else throw py::value_error("rules['" + rule + "']: level must be 'off', 'warning' or 'error', not '" + level + "'");
    if (!ok) throw py::key_error(rule + ": " + err);
  }
  return rc;
}

fdt::Endian parse_endian(const std::string& e) {
  if (e == "little") return fdt::Endian::little;
  if (e == "big") return fdt::Endian::big;
  throw py::value_error("endian must be 'little' or 'big', not '" + e + "'");
}

PyReport do_validate(const PyBlob& blob, const PyImage* memory, const std::string& abi,
                     const std::optional<std::map<std::string, std::string>>& rules,
                     const std::optional<std::string>& as_era, const std::string& endian,
                     const std::optional<std::string>& kho_v1_bitmap) {
  conformance::ValidateOptions vo;
  vo.read.file = blob.name;
  vo.endian = parse_endian(endian);
  if (abi != "auto") {
    const auto& k = conformance::known_abis();
    if (std::find(k.begin(), k.end(), abi) == k.end()) throw py::value_error("abi '" + abi + "' is not a known ABI");
    vo.abi = abi;
  }
  if (as_era) {
    vo.as_reader = conformance::reader_profile(*as_era);
    if (!vo.as_reader) throw py::value_error("as_era '" + *as_era + "' is not one of v6.16 v6.18 v6.19 kho-v2 kho-v3 kho-v4");
  }
  if (kho_v1_bitmap) {
    if (*kho_v1_bitmap == "512") vo.map.v1_bitmap = conformance::BitmapSize::b512;
    else if (*kho_v1_bitmap == "page") vo.map.v1_bitmap = conformance::BitmapSize::page;
    else if (*kho_v1_bitmap != "auto") throw py::value_error("kho_v1_bitmap must be 'auto', '512' or 'page'");
  }
  vo.scratch = blob.scratch;
  RuleConfig rc = rule_config(rules);
  Report all;
  for (const auto& d : blob.findings) all.add(d);
  if (memory)
    for (const auto& d : memory->findings) all.add(d);
  conformance::Validation v;
  {
    py::gil_scoped_release nogil;
    v = conformance::validate(blob.data, memory ? memory->image.get() : nullptr, vo, all);
    for (const auto& sb : blob.sub_blobs) {
      conformance::ValidateOptions so = vo;
      so.read.file = sb.name;
      so.as_reader.reset();
      conformance::validate(sb.data, nullptr, so, all);
    }
  }
  PyReport out = make_report(rc.filter(all));
  out.abi = v.abi;
  out.schema = v.schema_id;
  if (v.map) {
    out.has_map = true;
    for (const auto& b : v.map->blocks) out.preserved.push_back({b.phys, b.order});
  }
  return out;
}

// ------------------------------------------------------------------ dump

py::object value_to_py(const fdt::Property& p) {
  if (!p.value) return as_pybytes(p.raw);
  const fdt::Value& v = *p.value;
  switch (v.type) {
    case fdt::PropType::u32:
    case fdt::PropType::u64:
    case fdt::PropType::phys_addr:
      return py::int_(v.number);
    case fdt::PropType::string:
      return py::str(v.strings.empty() ? std::string() : v.strings.front());
    case fdt::PropType::string_list:
      return py::cast(v.strings);
    case fdt::PropType::u32_array:
    case fdt::PropType::u64_array:
      return py::cast(v.numbers);
    case fdt::PropType::empty:
      return py::bool_(true);
    default:
      return as_pybytes(p.raw);
  }
}

py::dict node_to_py(const fdt::Node& n) {
  py::dict d;
  d["name"] = n.name;
  d["path"] = n.path;
  d["offset"] = n.offset;
  py::dict props;
  for (const auto& p : n.props) props[py::str(p.name)] = value_to_py(p);
  d["properties"] = props;
  py::dict kids;
  for (const auto& c : n.children) kids[py::str(c.name)] = node_to_py(c);
  d["children"] = kids;
  return d;
}

py::dict do_dump(const PyBlob& blob, const std::string& endian) {
  fdt::ReadOptions ro;
  ro.file = blob.name;
  Report r;
  fdt::Blob b = fdt::Blob::open(blob.data, ro, r);
  py::dict out;
  out["name"] = blob.name;
  out["ok"] = b.ok();
  if (b.ok()) {
    fdt::DecodeOptions dopt;
    dopt.endian = parse_endian(endian);
    fdt::Tree t = fdt::decode_tree(b, dopt, r);
    out["abi"] = conformance::detect_abi(t);
    out["tree"] = node_to_py(t.root);
  } else {
    out["abi"] = "";
    out["tree"] = py::none();
  }
  out["report"] = py::cast(make_report(r));
  return out;
}

// ------------------------------------------------------------------ model

model::KhoEra kho_era(const std::string& s) {
  auto e = model::parse_era(s);
  if (!e) throw py::value_error("era '" + s + "' is not one of v6.16 v6.18 v6.19 kho-v2 kho-v3 kho-v4");
  return *e;
}

std::uint64_t size_arg(const py::object& o) {
  if (py::isinstance<py::int_>(o)) return o.cast<std::uint64_t>();
  auto v = parse_size(o.cast<std::string>());
  if (!v) throw py::value_error("'" + o.cast<std::string>() + "' is not a size (e.g. 2G, 512M, 0x80000000)");
  return *v;
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
  c.era = kho_era(era);
  c.cmdline = cmdline;
  c.test_kho = test_kho;
  c.debug = debug;
  const auto& t = model::era_traits(c.era);
  c.release = t.finalize == model::FinalizeModel::none ? "7.3.4" : std::string(t.name.substr(1)) + ".0";
  return c;
}

py::list blocks(const std::vector<model::PreservedBlock>& v) {
  py::list l;
  for (const auto& b : v) l.append(py::make_tuple(b.phys, b.order));
  return l;
}

PyImage image_from_elf(std::vector<std::uint8_t> elf, const std::string& name) {
  PyImage img;
  Report r;
  img.image = std::make_shared<conformance::MemoryImage>(conformance::MemoryImage::from_bytes(std::move(elf), std::nullopt, name, r));
  img.findings = r.diagnostics();
  return img;
}

py::dict run_to_dict(const model::Scenario& s, const model::ScenarioRun& run) {
  py::dict d;
  d["name"] = s.name;
  d["era"] = std::string(model::era_name(s.kernel.era));
  d["ok"] = run.expectations_ok && run.error.empty();
  d["error"] = run.error;
  py::list steps;
  for (const auto& st : run.steps) {
    py::dict sd;
    sd["kernel"] = st.kernel;
    sd["op"] = st.op;
    sd["result"] = st.result;
    sd["expectation_failed"] = st.expectation_failed;
    sd["note"] = st.note;
    steps.append(sd);
  }
  d["steps"] = steps;
  py::list kernels;
  if (run.machine) {
    for (const auto& k : run.machine->kernels()) {
      py::dict kd;
      kd["index"] = k->index() + 1;
      kd["era"] = std::string(k->era().name);
      kd["kho_boot"] = k->kho_boot();
      kd["incoming"] = blocks(k->incoming_blocks());
      kd["outgoing"] = blocks(k->outgoing_at_kexec());
      py::list f;
      for (const auto& x : k->findings()) f.append(py::make_tuple(x.id, x.level, x.detail));
      kd["findings"] = f;
      kernels.append(kd);
    }
  }
  d["kernels"] = kernels;
  std::ostringstream text;
  model::render_run_text(text, s, run, false);
  d["text"] = text.str();
  return d;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "khospec's C++ core (private: import khospec instead)";
  static py::exception<std::runtime_error> error(m, "Error");
  g_error = error.ptr();
  m.attr("__version__") = KHOSPEC_VERSION;

  // ---- diagnostics
  py::class_<Diagnostic>(m, "Diagnostic")
      .def_property_readonly("rule", [](const Diagnostic& d) { return d.rule; })
      .def_property_readonly("level", [](const Diagnostic& d) { return std::string(level_name(d.level)); })
      .def_property_readonly("file", [](const Diagnostic& d) { return d.file; })
      .def_property_readonly("node", [](const Diagnostic& d) { return d.node; })
      .def_property_readonly("prop", [](const Diagnostic& d) { return d.property; })
      .def_property_readonly("offset", [](const Diagnostic& d) { return d.offset; })
      .def_property_readonly("message", [](const Diagnostic& d) { return d.message; })
      .def_property_readonly("hints", [](const Diagnostic& d) { return d.hints; })
      .def_property_readonly("hint", [](const Diagnostic& d) {
        std::string s;
        for (const auto& h : d.hints) s += (s.empty() ? "" : "\n") + h;
        return s;
      })
      .def_property_readonly("category", [](const Diagnostic& d) { return d.type; })
      .def("__str__", [](const Diagnostic& d) {
        std::ostringstream s;
        render_text(s, d);
        std::string t = s.str();
        if (!t.empty() && t.back() == '\n') t.pop_back();
        return t;
      })
      .def("__repr__", [](const Diagnostic& d) {
        return "<Diagnostic " + d.rule + " " + std::string(level_name(d.level)) + " " + d.node +
               (d.property.empty() ? "" : ":" + d.property) + ">";
      });

  py::class_<PyReport>(m, "Report")
      .def("__len__", [](const PyReport& r) { return r.diags.size(); })
      .def("__getitem__", [](const PyReport& r, py::ssize_t i) {
        const auto n = static_cast<py::ssize_t>(r.diags.size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) throw py::index_error("report index out of range");
        return r.diags[static_cast<std::size_t>(i)];
      })
      .def("__iter__", [](const PyReport& r) { return py::make_iterator(r.diags.begin(), r.diags.end()); },
           py::keep_alive<0, 1>())
      .def_property_readonly("exit_code", &PyReport::exit_code)
      .def_property_readonly("abi", [](const PyReport& r) { return r.abi; })
      .def_property_readonly("schema", [](const PyReport& r) { return r.schema; })
      .def_property_readonly("preserved", [](const PyReport& r) -> py::object {
        if (!r.has_map) return py::none();
        return py::cast(r.preserved);
      })
      .def_property_readonly("allowed", [](const PyReport& r) {
        py::list l;
        for (const auto& [d, reason] : r.allowed) l.append(py::make_tuple(d, reason));
        return l;
      })
      .def("count", [](const PyReport& r, const std::string& level) {
        if (level != "error" && level != "warning" && level != "info")
          throw py::value_error("level must be 'error', 'warning' or 'info'");
        std::size_t n = 0;
        for (const auto& d : r.diags) n += level_name(d.level) == level;
        return n;
      })
      .def("to_json", &PyReport::to_json)
      .def("__repr__", [](const PyReport& r) {
        return "<Report " + std::to_string(r.diags.size()) + " finding(s), exit_code " + std::to_string(r.exit_code()) + ">";
      });

  // ---- inputs
  py::class_<PyBlob>(m, "Blob")
      .def_static("from_bytes", [](const py::buffer& data, const std::string& name) {
        PyBlob b;
        b.name = name;
        b.data = to_bytes(data);
        return b;
      }, py::arg("data"), py::arg("name") = "<bytes>")
      .def_static("from_file", [](const std::string& path, std::size_t max_size) {
        PyBlob b;
        b.name = path;
        b.data = read_file(path, max_size);
        return b;
      }, py::arg("path"), py::arg("max_size") = std::size_t{64} << 20)
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
      }, py::arg("side") = "out", py::arg("root") = "")
      .def_property_readonly("name", [](const PyBlob& b) { return b.name; })
      .def_property_readonly("data", [](const PyBlob& b) { return as_pybytes(b.data); })
      .def_property_readonly("sub_blobs", [](const PyBlob& b) { return b.sub_blobs; })
      .def_property_readonly("scratch", [](const PyBlob& b) -> py::object {
        if (!b.scratch) return py::none();
        py::list l;
        for (const auto& s : *b.scratch) l.append(py::make_tuple(s.addr, s.size));
        return l;
      })
      .def("__len__", [](const PyBlob& b) { return b.data.size(); })
      .def("__repr__", [](const PyBlob& b) { return "<Blob " + b.name + " " + std::to_string(b.data.size()) + " bytes>"; });

  py::class_<PyImage>(m, "MemoryImage")
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
      }, py::arg("path"), py::arg("base") = py::none())
      .def_static("from_bytes", [](const py::buffer& data, std::optional<std::uint64_t> base, const std::string& name) {
        PyImage img;
        Report r;
        img.image = std::make_shared<conformance::MemoryImage>(
            conformance::MemoryImage::from_bytes(to_bytes(data), base, name, r));
        img.findings = r.diagnostics();
        return img;
      }, py::arg("data"), py::arg("base") = py::none(), py::arg("name") = "<bytes>")
      .def_property_readonly("name", [](const PyImage& i) { return i.image->name(); })
      .def_property_readonly("ok", [](const PyImage& i) { return i.image->ok(); })
      .def_property_readonly("segments", [](const PyImage& i) {
        py::list l;
        for (const auto& s : i.image->segments()) l.append(py::make_tuple(s.paddr, s.size));
        return l;
      })
      .def("read", [](const PyImage& i, std::uint64_t paddr, std::size_t length) -> py::object {
        auto v = i.image->read_vec(paddr, length);
        if (!v) return py::none();
        return as_pybytes(*v);
      }, py::arg("paddr"), py::arg("length"))
      .def_property_readonly("findings", [](const PyImage& i) { return i.findings; });

  // ---- validation, dump
  m.def("validate", [](const PyBlob& blob, const PyImage* memory, const std::string& abi,
                       const std::optional<std::map<std::string, std::string>>& rules,
                       const std::optional<std::string>& as_era, const std::string& endian,
                       const std::optional<std::string>& kho_v1_bitmap) {
    return do_validate(blob, memory, abi, rules, as_era, endian, kho_v1_bitmap);
  }, py::arg("blob"), py::arg("memory") = nullptr, py::arg("abi") = "auto", py::arg("rules") = py::none(),
     py::arg("as_era") = py::none(), py::arg("endian") = "little", py::arg("kho_v1_bitmap") = py::none());
  m.def("dump", &do_dump, py::arg("blob"), py::arg("endian") = "little");
  m.def("known_abis", [] { return conformance::known_abis(); });
  m.def("rules", [] {
    py::list l;
    for (const auto& r : rules()) {
      py::dict d;
      d["id"] = std::string(r.id);
      d["level"] = std::string(level_name(r.level));
      d["family"] = std::string(r.family);
      d["summary"] = std::string(r.summary);
      d["hint"] = std::string(r.hint);
      d["kernel"] = std::string(r.kernel);
      d["fix"] = std::string(r.fix);
      l.append(d);
    }
    return l;
  });

  // ---- compatibility
  m.def("compat", [](const std::string& old_path, const std::string& new_path, const std::string& direction,
                     const std::optional<std::string>& allow) {
    conformance::CompatOptions o;
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
  }, py::arg("old"), py::arg("new"), py::arg("direction") = "both", py::arg("allow") = py::none());
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
    khospec::abi::write_json(w, model::kho_abi_dump(kho_era(era)));
    return s.str();
  }, py::arg("era"));

  // ---- the model: memblock
  py::class_<model::Memblock>(m, "Memblock")
      .def(py::init([](const std::string& era) {
        model::MemblockConfig c;
        if (era == "v6.12") c.era = model::Era::v6_12;
        else if (era == "v6.16") c.era = model::Era::v6_16;
        else throw py::value_error("memblock era must be 'v6.12' or 'v6.16', not '" + era + "'");
        return model::Memblock(c);
      }), py::arg("era") = "v6.16")
      .def("add", [](model::Memblock& mb, std::uint64_t base, std::uint64_t size, std::optional<int> nid) {
        return nid ? mb.memblock_add_node(base, size, *nid, 0) : mb.memblock_add(base, size);
      }, py::arg("base"), py::arg("size"), py::arg("nid") = py::none())
      .def("remove", &model::Memblock::memblock_remove, py::arg("base"), py::arg("size"))
      .def("reserve", &model::Memblock::memblock_reserve, py::arg("base"), py::arg("size"))
      .def("free", &model::Memblock::memblock_phys_free, py::arg("base"), py::arg("size"))
      .def("mark_hotplug", &model::Memblock::memblock_mark_hotplug, py::arg("base"), py::arg("size"))
      .def("clear_hotplug", &model::Memblock::memblock_clear_hotplug, py::arg("base"), py::arg("size"))
      .def("mark_mirror", &model::Memblock::memblock_mark_mirror, py::arg("base"), py::arg("size"))
      .def("mark_nomap", &model::Memblock::memblock_mark_nomap, py::arg("base"), py::arg("size"))
      .def("clear_nomap", &model::Memblock::memblock_clear_nomap, py::arg("base"), py::arg("size"))
      .def("reserved_mark_noinit", &model::Memblock::memblock_reserved_mark_noinit, py::arg("base"), py::arg("size"))
      .def("mark_kho_scratch", &model::Memblock::memblock_mark_kho_scratch, py::arg("base"), py::arg("size"))
      .def("clear_kho_scratch", &model::Memblock::memblock_clear_kho_scratch, py::arg("base"), py::arg("size"))
      .def("set_kho_scratch_only", [](model::Memblock& mb, bool on) {
        if (on) mb.memblock_set_kho_scratch_only(); else mb.memblock_clear_kho_scratch_only();
      }, py::arg("on"))
      .def("set_bottom_up", &model::Memblock::memblock_set_bottom_up, py::arg("enable"))
      .def("set_current_limit", &model::Memblock::memblock_set_current_limit, py::arg("limit"))
      .def("allow_resize", &model::Memblock::memblock_allow_resize)
      .def("phys_alloc", &model::Memblock::memblock_phys_alloc, py::arg("size"), py::arg("align"))
      .def("phys_alloc_range", &model::Memblock::memblock_phys_alloc_range, py::arg("size"), py::arg("align"),
           py::arg("start"), py::arg("end"))
      .def("alloc", &model::Memblock::memblock_alloc, py::arg("size"), py::arg("align"))
      .def("alloc_node", &model::Memblock::memblock_alloc_node, py::arg("size"), py::arg("align"), py::arg("nid"))
      .def("_regions", [](const model::Memblock& mb, const std::string& type) {
        const model::MemblockType* t = type == "memory" ? &mb.memory() : type == "reserved" ? &mb.reserved()
                                       : type == "physmem" ? &mb.physmem() : nullptr;
        if (!t) throw py::value_error("type must be 'memory', 'reserved' or 'physmem', not '" + type + "'");
        py::list l;
        for (const auto& r : t->regions)
          l.append(py::make_tuple(r.base, r.size, model::flags_to_string(r.flags), r.nid));
        return l;
      }, py::arg("type"))
      .def_property_readonly("phys_mem_size", &model::Memblock::memblock_phys_mem_size)
      .def_property_readonly("reserved_size", &model::Memblock::memblock_reserved_size)
      .def("check_invariants", [](const model::Memblock& mb) {
        py::list l;
        for (const auto& v : mb.check_invariants()) l.append(py::make_tuple(v.id, v.detail));
        return l;
      })
      .def_property_readonly("events", [](const model::Memblock& mb) {
        py::list l;
        for (const auto& e : mb.events())
          l.append(py::make_tuple(std::string(model::event_kind_name(e.kind)), e.function, e.message));
        return l;
      })
      .def_property_readonly("failed", &model::Memblock::failed);

  // ---- the model: a KHO chain
  py::class_<PyKernel>(m, "Kernel")
      .def_property_readonly("era", [](const PyKernel& k) { return std::string(k.k().era().name); })
      .def_property_readonly("index", [](const PyKernel& k) { return k.k().index() + 1; })  // kernel 1, 2, 3...
      .def_property_readonly("kho_boot", [](const PyKernel& k) { return k.k().kho_boot(); })
      .def_property_readonly("phase", [](const PyKernel& k) { return std::string(model::boot_phase_name(k.k().phase())); })
      .def("alloc_pages", [](const PyKernel& k, unsigned order) -> py::object {
        auto p = k.k().alloc_pages(order);
        if (!p) return py::none();
        return py::int_(p);
      }, py::arg("order"))
      .def("free_pages", [](const PyKernel& k, std::uint64_t phys, unsigned order) { k.k().free_pages(phys, order); },
           py::arg("phys"), py::arg("order"))
      .def("write", [](const PyKernel& k, std::uint64_t phys, const py::buffer& data) {
        k.k().image().write(phys, to_bytes(data));
      }, py::arg("phys"), py::arg("data"))
      .def("read", [](const PyKernel& k, std::uint64_t phys, std::size_t length) {
        return as_pybytes(k.k().image().read(phys, length));
      }, py::arg("phys"), py::arg("length"))
      .def("preserve_folio", [](const PyKernel& k, std::uint64_t phys, unsigned order) {
        return k.k().kho_preserve_folio(phys, order);
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
        return k.k().kho_unpreserve_folio(phys, order);
      }, py::arg("phys"), py::arg("order"))
      .def("finalize", [](const PyKernel& k) {
        auto& kk = k.k();
        switch (kk.era().finalize) {
          case model::FinalizeModel::notifier_abort: return kk.debugfs_finalize_write(1);
          case model::FinalizeModel::refresh: return kk.kho_finalize();
          case model::FinalizeModel::none: break;
        }
        return 0;  // stateless: nothing to finalize
      })
      .def("abort", [](const PyKernel& k) { return k.k().debugfs_finalize_write(0); })
      .def("kexec_load", [](const PyKernel& k) { return k.k().kexec_file_load(); })
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

  py::class_<MachineHolder, std::shared_ptr<MachineHolder>>(m, "Machine")
      .def(py::init([](const py::object& ram, int nodes, const std::string& arch) {
        if (nodes < 1 || nodes > 64) throw py::value_error("nodes must be 1..64");
        auto cfg = model::machine_with_ram(size_arg(ram), nodes);
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
      .def("memory_elf", [](std::shared_ptr<MachineHolder> h) { return as_pybytes(h->m->image().save_elf()); })
      .def("memory", [](std::shared_ptr<MachineHolder> h) { return image_from_elf(h->m->image().save_elf(), "model memory"); })
      .def_property_readonly("ram", [](std::shared_ptr<MachineHolder> h) {
        py::list l;
        for (const auto& r : h->m->config().ram) l.append(py::make_tuple(r.base, r.size, r.nid));
        return l;
      });

  m.def("eras", [] {
    std::vector<std::string> v;
    for (auto e : model::kAllEras) v.emplace_back(model::era_name(e));
    return v;
  });
  m.def("scenarios", [] { return model::builtin_scenarios(); });
  m.def("simulate", [](const std::string& scenario, const std::optional<std::string>& era) {
    // A built-in name, a YAML file or YAML text.
    std::vector<std::pair<std::string, std::string>> texts;  // (display name, yaml)
    const auto names = model::builtin_scenarios();
    if (std::find(names.begin(), names.end(), scenario) != names.end()) {
      for (auto e : model::kAllEras) {
        if (era && kho_era(*era) != e) continue;
        if (auto t = model::builtin_scenario_text(scenario, e)) texts.push_back({scenario, *t});
      }
      if (texts.empty()) throw py::value_error("scenario '" + scenario + "' has no variant for era " + era.value_or("?"));
    } else if (scenario.find('\n') != std::string::npos || scenario.find(':') != std::string::npos) {
      if (scenario.size() < 260 && scenario.find('\n') == std::string::npos && std::ifstream(scenario)) {
        auto b = read_file(scenario, 1u << 20);
        texts.push_back({scenario, std::string(b.begin(), b.end())});
      } else {
        texts.push_back({"<text>", scenario});
      }
    } else {
      auto b = read_file(scenario, 1u << 20);  // OSError for a missing file
      texts.push_back({scenario, std::string(b.begin(), b.end())});
    }
    py::list out;
    for (const auto& [name, yaml] : texts) {
      model::ScenarioError err;
      auto s = model::parse_scenario(yaml, name, err);
      if (!s) throw py::value_error(err.message);
      if (era) s->kernel.era = kho_era(*era);
      model::ScenarioRun run;
      {
        py::gil_scoped_release nogil;
        run = model::run_scenario(*s);
      }
      out.append(run_to_dict(*s, run));
    }
    return out;
  }, py::arg("scenario") = "chain", py::arg("era") = py::none());

  // ---- the CLI (python -m khospec)
  m.def("run_cli", [](const std::vector<std::string>& argv, const py::bytes& stdin_data) {
    std::ostringstream out, err;
    std::istringstream in{static_cast<std::string>(stdin_data)};
    int rc;
    {
      py::gil_scoped_release nogil;
      rc = cli::run(argv, out, err, in);
    }
    return py::make_tuple(rc, py::bytes(out.str()), py::bytes(err.str()));
  }, py::arg("argv"), py::arg("stdin") = py::bytes());
}
