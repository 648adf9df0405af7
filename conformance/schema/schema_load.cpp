// Loading schema sets: files given on the command line (load()) or the set embedded
// at build time (builtin(): indexed from the schema pack, a file's YAML parsed only
// when something reads it), lookups by select / $id / layout name, and $ref
// resolution between files.
#include <functional>

#include "conformance/schema/schema_pack.hpp"

namespace khospec::conformance {

using namespace schema_detail;

namespace schema_detail {

void lint_add(Report& r, const std::string& file, const char* rule, const YAML::Node& at, std::string msg,
              std::string where) {
  std::string f = file;
  if (at && at.Mark().line >= 0) f += ":" + std::to_string(at.Mark().line + 1);
  r.add(make_finding(rule, std::move(f), std::nullopt, std::move(where), "", std::move(msg), "schema"));
}

// The part of a $ref after "types.yaml#/definitions/", if it names a wire type.
std::optional<std::string> type_ref(const std::string& ref) {
  static const std::string kMark = "types.yaml#/definitions/";
  auto p = ref.find(kMark);
  if (p == std::string::npos) return std::nullopt;
  if (p != 0 && ref[p - 1] != '/') return std::nullopt;
  return ref.substr(p + kMark.size());
}

void add_schema_finding(Report& r, const std::string& file, const char* rule, std::uint64_t offset, std::string node,
                        std::string prop, std::string msg, const std::string& id) {
  Diagnostic& d = r.add(make_finding(rule, file, offset, std::move(node), std::move(prop), std::move(msg), "schema"));
  if (!id.empty()) d.hints.push_back("from schema $id: " + id);
}

}  // namespace schema_detail

namespace {

std::string dir_of(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? std::string() : p.substr(0, s + 1);
}

// "a/b/../c.yaml" -> "a/c.yaml"
std::string normalize(const std::string& p) {
  std::vector<std::string> parts;
  std::string prefix;
  std::size_t start = 0;
  auto scheme = p.find("://");
  if (scheme != std::string::npos) {
    auto slash = p.find('/', scheme + 3);
    prefix = p.substr(0, slash == std::string::npos ? p.size() : slash + 1);
    start = prefix.size();
  }
  std::string cur;
  for (std::size_t i = start; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/') {
      if (cur == "..") {
        if (!parts.empty()) parts.pop_back();
      } else if (!cur.empty() && cur != ".") {
        parts.push_back(cur);
      }
      cur.clear();
    } else {
      cur.push_back(p[i]);
    }
  }
  std::string out = prefix;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out;
}


}  // namespace

const SV& implemented_schema_keywords() {
  static const SV v = {"$id", "$schema", "title", "description", "maintainers", "kernel", "select", "status",
                       "properties", "patternProperties", "required", "additionalProperties", "examples",
                       "$defs", "layout", "type", "definitions"};
  return v;
}
const SV& implemented_node_keywords() {
  static const SV v = {"type", "description", "properties", "patternProperties", "required",
                       "additionalProperties", "$ref", "deprecated"};
  return v;
}
const SV& implemented_property_keywords() {
  static const SV v = {"$ref", "description", "const", "enum", "minimum", "maximum", "multipleOf", "deprecated",
                       "points-to"};
  return v;
}
const SV& implemented_layout_keywords() {
  static const SV v = {"name", "size", "packed", "description", "fields"};
  return v;
}
const SV& implemented_field_keywords() {
  static const SV v = {"name", "offset", "size", "type", "count", "description", "const", "minimum", "maximum",
                       "multipleOf", "layout", "points-to", "bits"};
  return v;
}
const SV& implemented_types() {
  static const SV v = {"u32", "u64", "phys_addr", "string", "string-list", "bytes", "u32-array", "u64-array",
                       "empty", "u8", "u16", "char-array", "struct"};
  return v;
}

std::optional<std::uint64_t> parse_u64_scalar(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return std::nullopt;
    if (v > (~std::uint64_t{0} - static_cast<std::uint64_t>(d)) / static_cast<std::uint64_t>(base)) return std::nullopt;
    v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
  }
  return v;
}

void SchemaSet::seal() {
  cache_->graph_at = std::make_unique<std::atomic<const Cache::Graph*>[]>(docs_.size());
  cache_->sealed_docs = docs_.size();
}

SchemaSet::SchemaSet() : cache_(std::make_unique<Cache>()) {}
SchemaSet::~SchemaSet() = default;
SchemaSet::SchemaSet(SchemaSet&&) noexcept = default;
SchemaSet& SchemaSet::operator=(SchemaSet&&) noexcept = default;

SchemaSet SchemaSet::load(const std::vector<SchemaSource>& sources, Report& report) {
  SchemaSet set;
  std::size_t total = 0;
  for (const auto& s : sources) {
    SchemaDoc d;
    d.path = s.path;
    total += s.text.size();
    // yaml-cpp's tree costs ~80 bytes per byte of short-keyed YAML: these limits
    // keep a hostile schema's memory within a fixed bound (docs/fuzz.md). The
    // real schemas are <= 8 KiB, 45 KiB together.
    if (s.text.size() > kMaxSchemaFile || total > kMaxSchemaTotal) {
      Diagnostic diag;
      diag.rule = "schema_yaml_error";
      diag.level = rule_level(diag.rule);
      diag.file = s.path;
      diag.message = s.text.size() > kMaxSchemaFile
                         ? "a schema file is at most 256 KiB; this one has " + std::to_string(s.text.size()) + " bytes"
                         : "the schemas given are more than 1 MiB together; this one is not read";
      diag.type = "schema";
      report.add(std::move(diag));
      set.docs_.push_back(std::move(d));
      continue;
    }
    try {
      d.root = YAML::Load(s.text);
      if (!d.root.IsMap()) {
        lint_add(report, s.path, "schema_yaml_error", d.root, "a schema file is a YAML map");
      } else {
        d.parsed = true;
        d.id = str(d.root["$id"]);
      }
    } catch (const YAML::Exception& e) {
      Diagnostic diag;
      diag.rule = "schema_yaml_error";
      diag.level = rule_level(diag.rule);
      diag.file = s.path + (e.mark.line >= 0 ? ":" + std::to_string(e.mark.line + 1) : "");
      diag.message = e.msg;
      diag.type = "schema";
      report.add(std::move(diag));
    }
    set.docs_.push_back(std::move(d));
  }
  set.seal();
  return set;
}

const std::vector<SchemaSource>& SchemaSet::builtin_sources() { return embedded_schema_sources(); }

namespace {
std::atomic<std::size_t> g_builtin_yaml_loads{0};
}  // namespace

std::size_t builtin_schema_yaml_loads() { return g_builtin_yaml_loads.load(); }

const SchemaSet& SchemaSet::builtin() {
  // Never destroyed: nothing to tear down at exit, and usable from other statics' destructors.
  static const SchemaSet* const set = [] {
    auto* s = new SchemaSet;
    // The pack is written from builtin_sources() at build time (a test keeps it equal
    // to compiling them). Without one (the pack's own generator) parse every file.
    if (!SchemaPackAccess::index(*s, builtin_schema_pack())) {
      Report ignored;  // the lint test keeps the built-in schemas clean
      *s = load(embedded_schema_sources(), ignored);
    }
    return s;
  }();
  return *set;
}

const SchemaDoc& SchemaSet::doc_at(std::size_t i) const {
  const Cache& c = *cache_;
  if (!c.lazy.empty() && c.lazy[i] && !c.loaded[i].load(std::memory_order_acquire)) {
    std::call_once(c.once[i], [&] {
      Report ignored;
      SchemaSet one = load({builtin_sources()[i]}, ignored);
      g_builtin_yaml_loads.fetch_add(1, std::memory_order_relaxed);
      docs_[i].root = one.docs_.front().root;  // `parsed` came from the pack
    });
    c.loaded[i].store(true, std::memory_order_release);
  }
  return docs_[i];
}

const SchemaDoc& SchemaSet::loaded(const SchemaDoc& doc) const {
  const std::less<const SchemaDoc*> before;
  if (!before(&doc, docs_.data()) && before(&doc, docs_.data() + docs_.size()))
    return doc_at(static_cast<std::size_t>(&doc - docs_.data()));
  return doc;
}

void SchemaSet::parse_all() const {
  for (std::size_t i = 0; i < docs_.size(); ++i) doc_at(i);
}

const std::vector<SchemaDoc>& SchemaSet::docs() const {
  parse_all();
  return docs_;
}

const SchemaDoc* SchemaSet::for_abi(std::string_view abi) const {
  Cache& c = *cache_;
  if (!c.have_selects.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(c.mu);
    if (!c.have_selects.load(std::memory_order_relaxed)) {
      c.selects.resize(docs_.size());
      c.select_ok.assign(docs_.size(), 0);
      for (std::size_t i = 0; i < docs_.size(); ++i) {
        const SchemaDoc& d = doc_at(i);
        c.select_ok[i] = d.parsed;
        if (d.parsed) c.selects[i] = str(d.root["select"]);
      }
      c.have_selects.store(true, std::memory_order_release);
    }
  }
  // Validating a batch asks for the same format again and again: try the last answer first.
  const std::size_t last = c.last_select.load(std::memory_order_relaxed);
  if (last < docs_.size() && c.select_ok[last] && fdt::same_name(c.selects[last], abi) && docs_[last].parsed)
    return &docs_[last];
  for (std::size_t i = 0; i < docs_.size(); ++i) {
    const std::string& sel = c.selects[i];
    if (c.select_ok[i] && fdt::same_name(sel, abi) && docs_[i].parsed) {
      c.last_select.store(i, std::memory_order_relaxed);
      return &docs_[i];
    }
  }
  return nullptr;
}

const SchemaDoc* SchemaSet::by_id(std::string_view id) const {
  for (std::size_t i = 0; i < docs_.size(); ++i) {
    if (docs_[i].id == id && docs_[i].parsed) return &docs_[i];
  }
  return nullptr;
}

const SchemaDoc* SchemaSet::layout_doc(std::string_view name) const {
  const Cache& c = *cache_;
  for (std::size_t i = 0; i < docs_.size(); ++i) {
    // The pack knows every built-in file's layout name: parse only the one asked for.
    if (!c.layouts.empty()) {
      if (!docs_[i].parsed || !c.layouts[i] || *c.layouts[i] != name) continue;
      return &doc_at(i);
    }
    const SchemaDoc& d = doc_at(i);
    if (!d.parsed || !d.root["layout"] || !d.root["layout"].IsMap() || str(d.root["layout"]["name"]) != name) continue;
    return &d;
  }
  return nullptr;
}

std::optional<Layout> SchemaSet::layout(std::string_view name) const {
  const SchemaDoc* d = layout_doc(name);
  if (!d) return std::nullopt;
  Layout l;
  l.name = std::string(name);
  l.size = num(d->root["layout"]["size"]).value_or(0);
  const YAML::Node fields = d->root["layout"]["fields"];
  // Only a list of maps is fields (lint reports other shapes); yaml-cpp throws
  // on a map's iterator values read as nodes (fuzz/schema).
  for (const auto& f : fields && fields.IsSequence() ? fields : YAML::Node()) {
    if (!f.IsMap()) continue;
    LayoutField lf;
    lf.name = str(f["name"]);
    lf.offset = num(f["offset"]).value_or(0);
    lf.size = num(f["size"]).value_or(0);
    lf.count = num(f["count"]).value_or(1);
    if (const auto& b = f["bits"]; b && b.IsSequence() && b.size() == 2) {
      lf.bit_lsb = static_cast<unsigned>(num(b[0]).value_or(0));
      lf.bit_width = static_cast<unsigned>(num(b[1]).value_or(0));
    }
    l.fields.push_back(lf);
  }
  return l;
}

std::optional<SchemaSet::Resolved> SchemaSet::resolve(const SchemaDoc& from, const std::string& ref) const {
  Resolved r;
  if (auto t = type_ref(ref)) {
    auto pt = fdt::parse_type(*t);
    if (!pt) return std::nullopt;
    r.type = pt;
    return r;
  }
  auto hash = ref.find('#');
  std::string file = ref.substr(0, hash);
  std::string frag = hash == std::string::npos ? std::string() : ref.substr(hash + 1);
  const SchemaDoc* target = &from;
  if (!file.empty()) {
    target = nullptr;
    std::string base = from.id.empty() ? from.path : from.id;
    std::string want = normalize(dir_of(base) + file);
    for (std::size_t i = 0; i < docs_.size(); ++i) {
      const SchemaDoc& d = docs_[i];  // id and path are known before a lazy doc is parsed
      std::string key = d.id.empty() ? d.path : d.id;
      auto h = key.find('#');
      if (normalize(key.substr(0, h)) == want && doc_at(i).parsed) target = &d;
    }
    if (!target) return std::nullopt;
  }
  YAML::Node n = target->root;
  // JSON pointer: "/$defs/name"
  std::size_t pos = 0;
  while (pos < frag.size()) {
    if (frag[pos] != '/') return std::nullopt;
    auto next = frag.find('/', pos + 1);
    std::string key = frag.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    const YAML::Node& cn = n;  // const access never inserts
    if (!cn.IsMap() || !cn[key]) return std::nullopt;
    n.reset(cn[key]);  // yaml-cpp: operator= would overwrite the schema, reset() rebinds
    pos = next == std::string::npos ? frag.size() : next;
  }
  r.doc = target;
  r.node = n;
  return r;
}

bool SchemaSet::resolve_public(const SchemaDoc& from, const std::string& ref) const {
  return resolve(from, ref).has_value();
}

std::string yaml_str(const YAML::Node& n) { return str(n); }
std::optional<std::uint64_t> yaml_u64(const YAML::Node& n) { return num(n); }
bool is_node_schema(const YAML::Node& s) {
  if (!s || !s.IsMap()) return false;
  if (str(s["type"]) == "object") return true;
  if (s["properties"] || s["patternProperties"]) return true;
  auto ref = str(s["$ref"]);
  return !ref.empty() && !type_ref(ref);
}
std::optional<std::string> wire_type_ref(const std::string& ref) { return type_ref(ref); }

}  // namespace khospec::conformance
