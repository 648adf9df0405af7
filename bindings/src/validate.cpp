// validate(), dump(), known_abis(), rules().
#include "bindings/src/common.hpp"

#include <sstream>

#include "core/json.hpp"
#include "fdt/reader.hpp"
#include "fdt/tree.hpp"

namespace khospec::bindings {

namespace {

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

PyReport do_validate(const PyBlob& blob, const PyImage* memory, const std::string& abi,
                     const std::optional<std::map<std::string, std::string>>& rules,
                     const std::optional<std::string>& as_era, const std::string& endian,
                     const std::optional<std::string>& kho_v1_bitmap,
                     const std::optional<std::vector<std::pair<std::uint64_t, std::uint64_t>>>& scratch,
                     std::optional<std::uint64_t> fdt_phys) {
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
  if (scratch) {
    std::vector<conformance::ScratchArea> areas;
    for (const auto& [addr, size] : *scratch) areas.push_back({addr, size});
    vo.scratch = areas;
  }
  if (fdt_phys && !memory && !blob.memory) throw py::value_error("fdt_phys says where the root lies in memory: give memory=");
  vo.fdt_phys = fdt_phys;
  // A live 7.x root comes with /proc/kcore: follow the map there unless told otherwise.
  PyImage live;
  if (!memory && blob.memory) {
    live.image = blob.memory;
    memory = &live;
    if (!vo.fdt_phys) vo.fdt_phys = blob.fdt_phys;
  }
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
    fdt::DecodeOptions dopt = conformance::kho_decode_options(parse_endian(endian));
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

// The followed hand-over (conformance/handover/) as the JSON `dump -f json
// --memory` prints under "handover"; "" when there is none (no image for a root,
// or bytes that are neither a KHO root nor a client blob).
std::string do_handover_json(const PyBlob& blob, const PyImage* memory, int depth, bool summary,
                             const std::string& endian, const std::optional<std::string>& release) {
  conformance::ValidateOptions vo;
  vo.read.file = blob.name;
  vo.endian = parse_endian(endian);
  vo.scratch = blob.scratch;
  if (release) vo.release = *release;
  Report r;
  conformance::Validation v;
  {
    py::gil_scoped_release nogil;
    v = conformance::validate(blob.data, memory ? memory->image.get() : nullptr, vo, r);
  }
  if (!v.handover) return {};
  std::ostringstream o;
  JsonWriter w(o, 0);
  conformance::RenderOptions ro;
  ro.depth = depth;
  ro.summary = summary;
  conformance::write_handover_json(w, *v.handover, ro);
  return o.str();
}

}  // namespace

void init_validate(py::module_& m) {
  m.def("validate", &do_validate, py::arg("blob"), py::arg("memory") = nullptr, py::arg("abi") = "auto",
        py::arg("rules") = py::none(), py::arg("as_era") = py::none(), py::arg("endian") = "little",
        py::arg("kho_v1_bitmap") = py::none(), py::arg("scratch") = py::none(), py::arg("fdt_phys") = py::none());
  m.def("dump", &do_dump, py::arg("blob"), py::arg("endian") = "little");
  m.def("handover_json", &do_handover_json, py::arg("blob"), py::arg("memory") = nullptr, py::arg("depth") = -1,
        py::arg("summary") = false, py::arg("endian") = "little", py::arg("release") = py::none());
  m.def("known_abis", [] { return conformance::known_abis(); });
  m.def("parse_scratch", [](const std::string& arg) {
    std::vector<conformance::ScratchArea> areas;
    std::string error;
    if (!conformance::parse_scratch(arg, areas, error)) throw py::value_error(error);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    for (const auto& a : areas) out.emplace_back(a.addr, a.size);
    return out;
  }, py::arg("arg"), "--scratch ARG as (addr, size) pairs: ADDR+SIZE[,...], PHYS:LEN files or a directory.");
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
      d["reason"] = std::string(r.reason);
      l.append(d);
    }
    return l;
  });
}

}  // namespace khospec::bindings
