// Loading schema sets: files given on the command line (load()) or the set embedded
// at build time (builtin(), parsed file by file on first use after a header scan of
// each file's $id and select), lookups by select / $id / layout name, and $ref
// resolution between files.
#include <cctype>

#include "conformance/schema/schema_internal.hpp"

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

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
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
                       "multipleOf", "layout", "points-to"};
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

std::optional<SchemaHeader> scan_schema_header(std::string_view text) {
  SchemaHeader h;
  bool have_id = false, have_select = false, pending = false;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") return std::nullopt;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') return std::nullopt;
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;
    if (first > 0) {
      if (pending) return std::nullopt;  // could continue our scalar
      continue;                          // belongs to another top-level key
    }
    if (line[0] == '#') continue;
    pending = false;
    const char c0 = line[0];
    if (!std::isalnum(static_cast<unsigned char>(c0)) && c0 != '$' && c0 != '_') return std::nullopt;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view key = line.substr(0, colon);
    for (char c : key)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '$' && c != '_' && c != '-') return std::nullopt;
    std::string_view rest = line.substr(colon + 1);
    if (!rest.empty() && rest[0] != ' ') return std::nullopt;
    const bool is_id = key == "$id", is_select = key == "select";
    if (!is_id && !is_select) continue;
    if ((is_id && have_id) || (is_select && have_select)) return std::nullopt;
    std::string_view v = trim(rest);
    if (v.empty()) return std::nullopt;
    std::string value;
    if (v[0] == '\'' || v[0] == '"') {
      const char q = v[0];
      const std::size_t close = v.find(q, 1);
      if (close == std::string_view::npos) return std::nullopt;
      std::string_view after = trim(v.substr(close + 1));
      if (!after.empty() && after[0] != '#') return std::nullopt;
      std::string_view inner = v.substr(1, close - 1);
      if (inner.find('\\') != std::string_view::npos) return std::nullopt;
      value = std::string(inner);
    } else {
      if (std::string_view("|>&*!{[%@`,?:-#").find(v[0]) != std::string_view::npos) return std::nullopt;
      if (auto hash = v.find(" #"); hash != std::string_view::npos) v = trim(v.substr(0, hash));
      if (v.find(": ") != std::string_view::npos || v.back() == ':' || v.find('\t') != std::string_view::npos)
        return std::nullopt;
      if (v == "~" || v == "null" || v == "Null" || v == "NULL") return std::nullopt;
      value = std::string(v);
    }
    pending = true;
    if (is_id) {
      h.id = std::move(value);
      have_id = true;
    } else {
      h.select = std::move(value);
      have_select = true;
    }
  }
  return h;
}

SchemaSet SchemaSet::load(const std::vector<SchemaSource>& sources, Report& report) {
  SchemaSet set;
  for (const auto& s : sources) {
    SchemaDoc d;
    d.path = s.path;
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

const SchemaSet& SchemaSet::builtin() {
  static const SchemaSet set = [] {
    // The lint test keeps the built-in schemas clean, and a test checks that
    // scan_schema_header() reads every built-in file as yaml-cpp does.
    const auto& sources = embedded_schema_sources();
    SchemaSet s;
    Cache& c = *s.cache_;
    c.sources = &sources;
    c.once = std::make_unique<std::once_flag[]>(sources.size());
    c.parsed = std::make_unique<std::atomic<bool>[]>(sources.size());
    c.lazy.assign(sources.size(), 0);
    c.have_selects = true;
    c.selects.resize(sources.size());
    c.select_ok.assign(sources.size(), 0);
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (auto h = scan_schema_header(sources[i].text)) {
        SchemaDoc d;
        d.path = sources[i].path;
        d.id = h->id;
        d.parsed = true;
        s.docs_.push_back(std::move(d));
        c.lazy[i] = 1;
        c.selects[i] = h->select;
        c.select_ok[i] = 1;
      } else {
        Report ignored;
        SchemaSet one = load({sources[i]}, ignored);
        s.docs_.push_back(std::move(one.docs_.front()));
        const SchemaDoc& d = s.docs_.back();
        c.selects[i] = d.parsed ? str(d.root["select"]) : std::string();
        c.select_ok[i] = d.parsed;
      }
    }
    s.seal();
    return s;
  }();
  return set;
}

const SchemaDoc& SchemaSet::doc_at(std::size_t i) const {
  const Cache& c = *cache_;
  if (c.sources && c.lazy[i] && !c.parsed[i].load(std::memory_order_acquire)) {
    std::call_once(c.once[i], [&] {
      Report ignored;
      SchemaSet one = load({(*c.sources)[i]}, ignored);
      SchemaDoc& d = docs_[i];
      d.root = one.docs_.front().root;
      d.parsed = one.docs_.front().parsed;
    });
    c.parsed[i].store(true, std::memory_order_release);
  }
  return docs_[i];
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
  if (last < docs_.size() && c.select_ok[last] && fdt::same_name(c.selects[last], abi) && doc_at(last).parsed)
    return &docs_[last];
  for (std::size_t i = 0; i < docs_.size(); ++i) {
    const std::string& sel = c.selects[i];
    if (c.select_ok[i] && fdt::same_name(sel, abi) && doc_at(i).parsed) {
      c.last_select.store(i, std::memory_order_relaxed);
      return &docs_[i];
    }
  }
  return nullptr;
}

const SchemaDoc* SchemaSet::by_id(std::string_view id) const {
  for (std::size_t i = 0; i < docs_.size(); ++i) {
    if (docs_[i].id == id && doc_at(i).parsed) return &docs_[i];
  }
  return nullptr;
}

std::optional<Layout> SchemaSet::layout(std::string_view name) const {
  parse_all();
  for (const auto& d : docs_) {
    if (!d.parsed || !d.root["layout"] || str(d.root["layout"]["name"]) != name) continue;
    Layout l;
    l.name = std::string(name);
    l.size = num(d.root["layout"]["size"]).value_or(0);
    for (const auto& f : d.root["layout"]["fields"]) {
      LayoutField lf;
      lf.name = str(f["name"]);
      lf.offset = num(f["offset"]).value_or(0);
      lf.size = num(f["size"]).value_or(0);
      lf.count = num(f["count"]).value_or(1);
      l.fields.push_back(lf);
    }
    return l;
  }
  return std::nullopt;
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
