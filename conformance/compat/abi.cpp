#include "conformance/compat/abi.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/file.hpp"
#include "core/rules.hpp"

namespace khospec::conformance {

namespace fs = std::filesystem;

namespace {

bool has(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

std::vector<std::string> strings(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!has(n)) return out;
  if (n.IsSequence()) {
    for (const auto& e : n) out.push_back(yaml_str(e));
  } else {
    out.push_back(yaml_str(n));
  }
  return out;
}

// Constraints common to properties (schema keywords) and layout fields.
// `bits: [LSB, WIDTH]` of a bit-field (schemas and ABI dumps alike).
void read_bits(const YAML::Node& f, abi::Field& fl) {
  const YAML::Node b = f["bits"];
  if (!b || !b.IsSequence() || b.size() != 2) return;
  fl.bit_lsb = static_cast<unsigned>(yaml_u64(b[0]).value_or(0));
  fl.bit_width = static_cast<unsigned>(yaml_u64(b[1]).value_or(0));
}

void read_constraints(const YAML::Node& y, abi::Value& v) {
  if (has(y["const"])) v.values.push_back(yaml_str(y["const"]));
  for (const auto& e : strings(y["enum"])) v.values.push_back(e);
  v.minimum = yaml_u64(y["minimum"]);
  v.maximum = yaml_u64(y["maximum"]);
  v.multiple_of = yaml_u64(y["multipleOf"]);
  v.points_to = strings(y["points-to"]);
}

class SchemaReader {
 public:
  explicit SchemaReader(const SchemaSet& set) : set_(set) {}

  // The doc a node $ref ("reserve-mem-v1.yaml#") names, searched next to `from` first,
  // in the input's files and then in the built-in schemas (only the one found is parsed).
  const SchemaDoc* ref_doc(const SchemaDoc& from, std::string ref) const {
    ref = ref.substr(0, ref.find('#'));
    if (ref.empty()) return nullptr;
    const std::string base = fs::path(ref).filename().string();
    const std::string dir = fs::path(from.path).parent_path().string();
    // Memoized: a format's tree follows the same few $refs many times over.
    auto key = std::make_pair(dir, base);
    if (auto it = refs_.find(key); it != refs_.end()) return it->second;
    return refs_[std::move(key)] = find_ref_doc(dir, base);
  }

  const SchemaDoc* find_ref_doc(const std::string& dir, const std::string& base) const {
    const SchemaDoc* any = nullptr;
    for (const auto& d : set_.docs()) {
      if (!d.parsed || fs::path(d.path).filename().string() != base) continue;
      if (fs::path(d.path).parent_path().string() == dir) return &d;
      if (!any) any = &d;
    }
    const SchemaSet* b = builtin();
    std::size_t any_builtin = b ? b->doc_count() : 0;
    for (std::size_t i = 0; b && i < b->doc_count(); ++i) {
      const SchemaDoc& d = b->doc_header(i);
      if (!d.parsed || fs::path(d.path).filename().string() != base) continue;
      if (fs::path(d.path).parent_path().string() == dir) return &b->doc(i);
      if (any_builtin == b->doc_count()) any_builtin = i;
    }
    if (!any && b && any_builtin < b->doc_count()) any = &b->doc(any_builtin);
    return any;
  }

  // The built-in schemas the input falls back to (nullptr when the input is them).
  const SchemaSet* builtin() const {
    const SchemaSet& b = SchemaSet::builtin();
    return &set_ == &b ? nullptr : &b;
  }

  // `schema` is read through const references only: assigning a YAML::Node merges
  // the two documents' node sets (yaml-cpp), and a non-const operator[] adds nodes
  // to a document that every later input would find grown.
  abi::Node node(const SchemaDoc& doc, const YAML::Node& schema, std::string name, int depth) const {
    abi::Node n;
    n.name = std::move(name);
    // $refs to itself and YAML aliases make a tree of up to 16 levels fan out
    // exponentially: stop at the budget (the caller refuses the input).
    if (++nodes_ > kMaxAbiNodes) return n;
    // A node that is only a $ref to another schema: inline that schema's root.
    const SchemaDoc* owner = &doc;
    const YAML::Node* at = &schema;
    for (int hops = 0; hops < 8 && at->IsMap() && has((*at)["$ref"]) && !wire_type_ref(yaml_str((*at)["$ref"])); ++hops) {
      const SchemaDoc* t = ref_doc(*owner, yaml_str((*at)["$ref"]));
      if (!t) break;
      if (has((*at)["description"])) n.description = yaml_str((*at)["description"]);
      owner = t;
      at = &t->root;
    }
    const YAML::Node& y = *at;
    if (!y.IsMap() || depth > 16) return n;
    if (n.description.empty()) n.description = yaml_str(y["description"]);
    n.deprecated = y["deprecated"] && yaml_str(y["deprecated"]) == "true";
    n.additional = !(has(y["additionalProperties"]) && yaml_str(y["additionalProperties"]) == "false");
    std::vector<std::string> required = strings(y["required"]);
    auto is_req = [&](const std::string& s) { return std::find(required.begin(), required.end(), s) != required.end(); };
    if (y["properties"] && y["properties"].IsMap()) {
      for (const auto& kv : y["properties"]) {
        if (!kv.first.IsScalar()) continue;  // a map or list as a key names no property
        const std::string pname = kv.first.as<std::string>();
        if (is_node_schema(kv.second)) {
          abi::Node c = node(*owner, kv.second, pname, depth + 1);
          c.required = is_req(pname);
          n.children.push_back(std::move(c));
          continue;
        }
        abi::Prop p;
        p.name = pname;
        p.required = is_req(pname);
        if (kv.second.IsMap()) {
          if (auto t = wire_type_ref(yaml_str(kv.second["$ref"]))) p.value.type = *t;
          p.value.len = abi::type_len(p.value.type);
          read_constraints(kv.second, p.value);
          p.deprecated = yaml_str(kv.second["deprecated"]) == "true";
          p.description = yaml_str(kv.second["description"]);
        }
        n.props.push_back(std::move(p));
      }
    }
    if (y["patternProperties"] && y["patternProperties"].IsMap()) {
      for (const auto& kv : y["patternProperties"]) {
        // KHO schemas pattern-match child nodes only, by a regex (a scalar key).
        if (!is_node_schema(kv.second) || !kv.first.IsScalar()) continue;
        abi::Node c = node(*owner, kv.second, kv.first.as<std::string>(), depth + 1);
        c.pattern = true;
        n.children.push_back(std::move(c));
      }
    }
    return n;
  }

  static abi::Layout layout(const YAML::Node& l, const std::string& title) {
    abi::Layout out;
    out.name = yaml_str(l["name"]);
    out.size = yaml_u64(l["size"]).value_or(0);
    out.title = title;
    if (l["fields"] && l["fields"].IsSequence()) {
      for (const auto& f : l["fields"]) {
        if (!f.IsMap()) continue;  // as the schema loader reads a layout: a list of maps
        abi::Field fl;
        fl.name = yaml_str(f["name"]);
        fl.offset = yaml_u64(f["offset"]).value_or(0);
        fl.size = yaml_u64(f["size"]).value_or(0);
        fl.count = yaml_u64(f["count"]).value_or(1);
        fl.value.type = yaml_str(f["type"]);
        fl.value.len = fl.size;
        fl.layout = yaml_str(f["layout"]);
        read_bits(f, fl);
        read_constraints(f, fl.value);
        out.fields.push_back(std::move(fl));
      }
    }
    return out;
  }

  bool exhausted() const { return nodes_ > kMaxAbiNodes; }

 private:
  const SchemaSet& set_;
  mutable std::size_t nodes_ = 0;
  mutable std::map<std::pair<std::string, std::string>, const SchemaDoc*> refs_;
};

// Root formats are the KHO root FDTs (they carry the preserved-memory map).
std::string format_kind(const YAML::Node& root) {
  const YAML::Node p = root["properties"];
  if (p && p.IsMap() && (p["preserved-memory-map"] || p["preserved-order-table"])) return "root";
  return "client";
}

}  // namespace

namespace {

// Adds the formats and layouts of `d` to `out` (`wanted`: its formats count, and its
// layouts are the input's own).
void add_doc(const SchemaReader& rd, const SchemaDoc& d, bool wanted, abi::AbiSet& out) {
  if (has(d.root["layout"]) && d.root["layout"].IsMap()) {
    abi::Layout l = SchemaReader::layout(d.root["layout"], yaml_str(d.root["title"]));
    l.builtin = !wanted;
    if (!out.layout(l.name)) out.layouts.push_back(std::move(l));  // the input's own first
    return;
  }
  const std::string sel = yaml_str(d.root["select"]);
  if (sel.empty() || !wanted || out.format(sel)) return;
  abi::Format f;
  f.compatible = sel;
  f.kind = format_kind(d.root);
  f.id = d.id;
  f.status = yaml_str(d.root["status"]);
  if (f.status.empty()) f.status = "released";
  f.title = yaml_str(d.root["title"]);
  f.source = d.path;
  f.root = rd.node(d, d.root, "/", 0);
  out.formats.push_back(std::move(f));
}

// The layout names a format or a layout refers to (what compat's reach() follows).
void pointer_targets(const abi::Node& n, std::vector<std::string>& out) {
  for (const auto& p : n.props) out.insert(out.end(), p.value.points_to.begin(), p.value.points_to.end());
  for (const auto& c : n.children) pointer_targets(c, out);
}
void layout_targets(const abi::Layout& l, std::vector<std::string>& out) {
  for (const auto& f : l.fields) {
    out.insert(out.end(), f.value.points_to.begin(), f.value.points_to.end());
    if (!f.layout.empty()) out.push_back(f.layout);
  }
}

}  // namespace

abi::AbiSet abi_from_schemas(const SchemaSet& set, const std::vector<std::string>& format_paths, std::string origin,
                             bool* exhausted) {
  abi::AbiSet out;
  out.origin = std::move(origin);
  SchemaReader rd(set);
  auto wanted = [&](const SchemaDoc& d) {
    return format_paths.empty() || std::find(format_paths.begin(), format_paths.end(), d.path) != format_paths.end();
  };
  for (const auto& d : set.docs()) {
    if (d.parsed) add_doc(rd, d, wanted(d), out);
  }
  const SchemaSet* b = rd.builtin();
  if (exhausted) *exhausted = rd.exhausted();
  if (!b) return out;
  // A built-in file the input names by its own path counts as the input's, unless the
  // input holds it (same path and $id: its own copy, already read).
  for (std::size_t i = 0; !format_paths.empty() && i < b->doc_count(); ++i) {
    const SchemaDoc& h = b->doc_header(i);
    if (!h.parsed || !wanted(h)) continue;
    const auto& own = set.docs();
    if (std::any_of(own.begin(), own.end(), [&](const SchemaDoc& d) { return d.path == h.path && d.id == h.id; }))
      continue;
    add_doc(rd, b->doc(i), true, out);
  }
  // The built-in layouts the input reaches (pointer targets and inline structs, by
  // name), each parsed when first reached: compat looks no other built-in layout up.
  std::vector<std::string> todo;
  for (const auto& f : out.formats) pointer_targets(f.root, todo);
  for (const auto& l : out.layouts) layout_targets(l, todo);
  while (!todo.empty()) {
    const std::string name = std::move(todo.back());
    todo.pop_back();
    if (out.layout(name)) continue;
    const SchemaDoc* d = b->layout_doc(name);
    if (!d || !d->root["layout"].IsMap()) continue;
    add_doc(rd, *d, false, out);
    layout_targets(out.layouts.back(), todo);
  }
  if (exhausted) *exhausted = rd.exhausted();
  return out;
}

namespace {

struct JsonReader {
  std::string error;

  bool fail(const std::string& where, const std::string& what) {
    if (error.empty()) error = where + ": " + what;
    return false;
  }

  static bool flag(const YAML::Node& n) { return has(n) && yaml_str(n) == "true"; }

  bool value(const YAML::Node& y, abi::Value& v, const std::string& where) {
    v.type = yaml_str(y["type"]);
    if (v.type.empty()) return fail(where, "'type' is missing");
    v.len = has(y["len"]) ? yaml_u64(y["len"]) : abi::type_len(v.type);
    v.values = strings(y["values"]);
    v.minimum = yaml_u64(y["minimum"]);
    v.maximum = yaml_u64(y["maximum"]);
    v.multiple_of = yaml_u64(y["multipleOf"]);
    v.points_to = strings(y["points-to"]);
    return true;
  }

  bool node(const YAML::Node& y, abi::Node& n, const std::string& where, int depth) {
    if (!y.IsMap()) return fail(where, "a node is an object");
    if (depth > 32) return fail(where, "nodes nest too deeply");
    n.name = yaml_str(y["name"]);
    if (n.name.empty()) return fail(where, "'name' is missing");
    n.pattern = flag(y["pattern"]);
    n.required = flag(y["required"]);
    n.additional = !has(y["additional"]) || flag(y["additional"]);
    n.deprecated = flag(y["deprecated"]);
    n.description = yaml_str(y["description"]);
    if (has(y["properties"])) {
      if (!y["properties"].IsSequence()) return fail(where + ".properties", "an array");
      std::size_t i = 0;
      for (const auto& p : y["properties"]) {
        const std::string w = where + ".properties[" + std::to_string(i++) + "]";
        if (!p.IsMap()) return fail(w, "a property is an object");
        abi::Prop pr;
        pr.name = yaml_str(p["name"]);
        if (pr.name.empty()) return fail(w, "'name' is missing");
        if (!value(p, pr.value, w)) return false;
        pr.required = flag(p["required"]);
        pr.deprecated = flag(p["deprecated"]);
        pr.description = yaml_str(p["description"]);
        n.props.push_back(std::move(pr));
      }
    }
    if (has(y["children"])) {
      if (!y["children"].IsSequence()) return fail(where + ".children", "an array");
      std::size_t i = 0;
      for (const auto& c : y["children"]) {
        abi::Node ch;
        if (!node(c, ch, where + ".children[" + std::to_string(i++) + "]", depth + 1)) return false;
        n.children.push_back(std::move(ch));
      }
    }
    return true;
  }

  std::optional<abi::AbiSet> set(const YAML::Node& y, const std::string& origin) {
    if (!y.IsMap()) {
      fail("top level", "an ABI dump is a JSON object");
      return std::nullopt;
    }
    if (yaml_str(y["abi_dump_version"]) != "1") {
      fail("abi_dump_version", "expected 1 (written by `khospec model abi-dump`)");
      return std::nullopt;
    }
    abi::AbiSet s;
    s.origin = origin;
    s.era = yaml_str(y["era"]);
    std::size_t i = 0;
    for (const auto& f : y["formats"]) {
      const std::string w = "formats[" + std::to_string(i++) + "]";
      abi::Format fm;
      fm.compatible = yaml_str(f["compatible"]);
      if (fm.compatible.empty()) {
        fail(w, "'compatible' is missing");
        return std::nullopt;
      }
      fm.kind = yaml_str(f["kind"]);
      if (fm.kind != "root" && fm.kind != "client") {
        fail(w + ".kind", "'root' or 'client'");
        return std::nullopt;
      }
      fm.id = yaml_str(f["id"]);
      fm.status = yaml_str(f["status"]);
      fm.title = yaml_str(f["title"]);
      fm.source = yaml_str(f["source"]);
      if (!node(f["root"], fm.root, w + ".root", 0)) return std::nullopt;
      s.formats.push_back(std::move(fm));
    }
    i = 0;
    for (const auto& l : y["layouts"]) {
      const std::string w = "layouts[" + std::to_string(i++) + "]";
      abi::Layout lo;
      lo.name = yaml_str(l["name"]);
      auto size = yaml_u64(l["size"]);
      if (lo.name.empty() || !size) {
        fail(w, "'name' and 'size' are required");
        return std::nullopt;
      }
      lo.size = *size;
      lo.title = yaml_str(l["title"]);
      std::size_t j = 0;
      for (const auto& f : l["fields"]) {
        const std::string wf = w + ".fields[" + std::to_string(j++) + "]";
        abi::Field fl;
        fl.name = yaml_str(f["name"]);
        auto off = yaml_u64(f["offset"]);
        auto sz = yaml_u64(f["size"]);
        if (fl.name.empty() || !off || !sz) {
          fail(wf, "'name', 'offset' and 'size' are required");
          return std::nullopt;
        }
        fl.offset = *off;
        fl.size = *sz;
        fl.count = yaml_u64(f["count"]).value_or(1);
        if (!value(f, fl.value, wf)) return std::nullopt;
        fl.layout = yaml_str(f["layout"]);
        read_bits(f, fl);
        lo.fields.push_back(std::move(fl));
      }
      s.layouts.push_back(std::move(lo));
    }
    return s;
  }
};

}  // namespace

std::optional<abi::AbiSet> abi_from_json(const std::string& text, const std::string& origin, std::string& error) {
  JsonReader rd;
  std::optional<abi::AbiSet> out;
  // yaml-cpp's tree costs far more than the text (the memory bound, docs/fuzz.md);
  // `khospec model abi-dump` writes ~3 KiB.
  if (text.size() > SchemaSet::kMaxSchemaFile) {
    error = "an ABI dump is at most 256 KiB; this one has " + std::to_string(text.size()) + " bytes";
    return std::nullopt;
  }
  try {
    out = rd.set(YAML::Load(text), origin);
  } catch (const YAML::Exception& e) {
    rd.error = "line " + std::to_string(e.mark.line + 1) + ": " + e.msg;
  }
  if (!out) error = rd.error;
  return out;
}

std::optional<abi::AbiSet> load_abi_input(const std::string& path, Report& report) {
  auto input_error = [&](const std::string& msg) {
    report.add(make_finding("compat_input_invalid", path, std::nullopt, "", "", msg, "compat"));
    return std::nullopt;
  };
  std::error_code ec;
  if (!fs::exists(path, ec)) return input_error("no such file or directory");
  std::vector<SchemaSource> sources;
  std::vector<std::string> own;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      const fs::path& p = it->path();
      const std::string rel = fs::relative(p, path).generic_string();
      // Schema tests and the meta-schema are not formats.
      if (rel.rfind("tests", 0) == 0 || rel.rfind("meta-schemas", 0) == 0) continue;
      if (it->is_regular_file() && p.extension() == ".yaml") files.push_back(p);
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) return input_error("the directory holds no .yaml schema");
    for (const auto& f : files) {
      std::string text;
      if (!read_text_file(f, text)) return input_error("cannot read " + f.string());
      sources.push_back({f.string(), std::move(text)});
      own.push_back(f.string());
    }
  } else {
    std::string text;
    if (!read_text_file(path, text)) return input_error("cannot read the file");
    if (fs::path(path).extension() == ".json") {
      std::string err;
      auto set = abi_from_json(text, path, err);
      if (!set) return input_error("not an ABI dump: " + err);
      return set;
    }
    sources.push_back({path, std::move(text)});
    own.push_back(path);
  }
  // Only the input's own files are parsed here; $refs and layouts that are not among
  // them resolve against the built-in schemas, file by file (abi_from_schemas()).
  const std::size_t n_own = sources.size();
  Report load_report;
  SchemaSet set = SchemaSet::load(sources, load_report);
  bool bad = false;
  for (const auto& d : load_report.diagnostics()) {
    report.add(d);
    bad = true;
  }
  if (bad) return std::nullopt;
  // A file or directory without any format or layout of its own is not a schema input.
  bool any = false;
  for (std::size_t i = 0; i < n_own; ++i) {
    const auto& r = set.docs()[i].root;
    any |= has(r["select"]) || has(r["layout"]);
  }
  if (!any) return input_error("no schema with `select:` or `layout:` (not a KHO schema)");
  bool exhausted = false;
  abi::AbiSet abi;
  try {
    abi = abi_from_schemas(set, own, path, &exhausted);
  } catch (const YAML::Exception& e) {  // a shape the reader did not foresee: the input's fault, not a crash
    const std::string at = e.mark.is_null() ? "" : "line " + std::to_string(e.mark.line + 1) + ": ";
    return input_error(at + e.msg + " (a schema shape KHO schemas do not use)");
  }
  if (exhausted)
    return input_error("the schemas expand to more than " + std::to_string(kMaxAbiNodes) +
                       " nodes (a $ref to an enclosing schema, or YAML aliases, repeated at every level); "
                       "a KHO format's tree has a few dozen");
  return abi;
}

}  // namespace khospec::conformance
