#include "conformance/schema.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>

#include "conformance/corpus_source.hpp"
#include "conformance/inspect.hpp"
#include "core/rules.hpp"
#include "fdt/builder.hpp"

namespace khospec::conformance {

// Generated at build time from schemas/**/*.yaml (cmake/embed, conformance/CMakeLists.txt).
extern const std::vector<SchemaSource>& embedded_schema_sources();
std::optional<std::uint64_t> parse_u64_scalar(std::string_view s);

namespace {

using SV = std::vector<std::string_view>;

std::string hex(std::uint64_t v) { return hex_u64(v); }

// yaml-cpp: a default-constructed YAML::Node() is "defined" (a null node), so
// `!node` is false for it; absent lookups use has().
bool has(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

// patternProperties regexes, compiled once per process (compiling a
// std::regex costs far more than matching a node name). nullptr: it does not
// compile (lint reports schema_bad_pattern).
const std::regex* cached_regex(const std::string& re) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<std::regex>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(re);
  if (it == cache.end()) {
    std::unique_ptr<std::regex> r;
    try {
      r = std::make_unique<std::regex>(re);
    } catch (const std::regex_error&) {
    }
    it = cache.emplace(re, std::move(r)).first;
  }
  return it->second.get();
}

bool pattern_matches(const std::string& name, const std::string& re) {
  const std::regex* r = cached_regex(re);
  return r && std::regex_search(name, *r);
}

bool contains(const SV& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string str(const YAML::Node& n) {
  if (n && n.IsScalar()) return n.Scalar();
  return {};
}

std::optional<std::uint64_t> num(const YAML::Node& n) {
  if (!n || !n.IsScalar()) return std::nullopt;
  return parse_u64_scalar(n.Scalar());
}

void lint_add(Report& r, const std::string& file, const char* rule, const YAML::Node& at, std::string msg,
              std::string where = {}) {
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

bool is_node_schema_impl(const YAML::Node& s) {
  if (!s || !s.IsMap()) return false;
  if (str(s["type"]) == "object") return true;
  if (s["properties"] || s["patternProperties"]) return true;
  auto ref = str(s["$ref"]);
  return !ref.empty() && !type_ref(ref);
}

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
  return set;
}

const std::vector<SchemaSource>& SchemaSet::builtin_sources() { return embedded_schema_sources(); }

const SchemaSet& SchemaSet::builtin() {
  static const SchemaSet set = [] {
    Report ignored;  // the lint test keeps the built-in schemas clean
    return load(embedded_schema_sources(), ignored);
  }();
  return set;
}

const SchemaDoc* SchemaSet::for_abi(std::string_view abi) const {
  for (const auto& d : docs_) {
    if (d.parsed && str(d.root["select"]) == abi) return &d;
  }
  return nullptr;
}

const SchemaDoc* SchemaSet::by_id(std::string_view id) const {
  for (const auto& d : docs_) {
    if (d.parsed && d.id == id) return &d;
  }
  return nullptr;
}

std::optional<Layout> SchemaSet::layout(std::string_view name) const {
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
    for (const auto& d : docs_) {
      if (!d.parsed) continue;
      std::string key = d.id.empty() ? d.path : d.id;
      auto h = key.find('#');
      if (normalize(key.substr(0, h)) == want) target = &d;
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

YAML::Node SchemaSet::node_schema_for_path(const SchemaDoc& doc, const std::string& path,
                                           const SchemaDoc** owner) const {
  const SchemaDoc* cur_doc = &doc;
  YAML::Node cur = doc.root;
  std::size_t pos = 1;
  int hops = 0;
  auto deref = [&]() {
    while (cur && cur.IsMap() && cur["$ref"] && !type_ref(str(cur["$ref"])) && hops++ < 16) {
      auto r = resolve(*cur_doc, str(cur["$ref"]));
      if (!r) return false;
      cur_doc = r->doc;
      cur.reset(r->node);
    }
    return true;
  };
  if (!deref()) return YAML::Node();
  while (pos < path.size()) {
    if (!has(cur) || !cur.IsMap()) return YAML::Node();
    auto next = path.find('/', pos);
    std::string name = path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    pos = next == std::string::npos ? path.size() : next + 1;
    YAML::Node child;
    if (cur["properties"] && cur["properties"][name] && is_node_schema(cur["properties"][name])) {
      child = cur["properties"][name];
    } else if (cur["patternProperties"] && cur["patternProperties"].IsMap()) {
      for (const auto& kv : cur["patternProperties"]) {
        if (is_node_schema(kv.second) && pattern_matches(name, kv.first.as<std::string>())) {
          child = kv.second;
          break;
        }
      }
    }
    if (!has(child)) return YAML::Node();
    cur.reset(child);
    if (!deref()) return YAML::Node();
  }
  if (owner) *owner = cur_doc;
  return cur;
}

std::optional<fdt::PropType> SchemaSet::prop_type(const SchemaDoc& doc, const fdt::Node& node,
                                                  std::string_view prop) const {
  const SchemaDoc* owner = &doc;
  YAML::Node s = node_schema_for_path(doc, node.path, &owner);
  if (!has(s) || !s["properties"] || !s["properties"][std::string(prop)]) return std::nullopt;
  YAML::Node p = s["properties"][std::string(prop)];
  if (is_node_schema(p)) return std::nullopt;
  auto ref = str(p["$ref"]);
  if (auto t = type_ref(ref)) return fdt::parse_type(*t);
  return std::nullopt;
}

namespace {

struct TreeCtx {
  const std::string& file;
  Report& report;
  void add(const char* rule, const fdt::Node& n, const fdt::Property* p, std::string msg, const std::string& id) {
    Diagnostic& d = report.add(make_finding(rule, file, p ? p->offset : n.offset, n.path,
                                            p ? p->name : std::string(), std::move(msg), "schema"));
    if (!id.empty()) d.hints.push_back("from schema $id: " + id);
  }
};

// The values of a property as strings / numbers for const / enum checks.
std::vector<std::string> prop_strings(const fdt::Property& p) {
  if (p.value && !p.value->strings.empty()) return p.value->strings;
  return {};
}

}  // namespace

void SchemaSet::validate_node(const fdt::Node& n, const SchemaDoc& doc, YAML::Node schema, const std::string& file,
                              Report& report, int depth) const {
  if (depth > 32 || !has(schema) || !schema.IsMap()) return;
  const SchemaDoc* cur_doc = &doc;
  for (int hops = 0; schema["$ref"] && !type_ref(str(schema["$ref"])) && hops < 16; ++hops) {
    auto r = resolve(*cur_doc, str(schema["$ref"]));
    if (!r) return;
    cur_doc = r->doc;
    schema.reset(r->node);
  }
  TreeCtx ctx{file, report};
  const std::string& id = cur_doc->id;
  YAML::Node props = schema["properties"];
  YAML::Node patterns = schema["patternProperties"];
  auto pattern_match = [&](const std::string& name, bool want_node) -> YAML::Node {
    if (!patterns || !patterns.IsMap()) return YAML::Node();
    for (const auto& kv : patterns) {
      if (is_node_schema(kv.second) == want_node && pattern_matches(name, kv.first.as<std::string>())) return kv.second;
    }
    return YAML::Node();
  };
  const bool additional_ok = !(schema["additionalProperties"] && schema["additionalProperties"].IsScalar() &&
                               schema["additionalProperties"].Scalar() == "false");
  // Required properties and nodes.
  if (schema["required"] && schema["required"].IsSequence()) {
    for (const auto& r : schema["required"]) {
      std::string name = str(r);
      if (!n.prop(name) && !n.child(name))
        ctx.add("schema_required", n, nullptr, "required '" + name + "' is missing", id);
    }
  }
  for (const auto& p : n.props) {
    YAML::Node ps = props && props[p.name] && !is_node_schema(props[p.name]) ? props[p.name] : pattern_match(p.name, false);
    if (!has(ps)) {
      if (!additional_ok)
        ctx.add("schema_unknown_property", n, &p, "property '" + p.name + "' is not defined by the schema", id);
      continue;
    }
    if (!p.value) continue;  // wrong length: kho_prop_len_* already fired
    const bool is_number = p.value->type == fdt::PropType::u32 || p.value->type == fdt::PropType::u64 ||
                           p.value->type == fdt::PropType::phys_addr;
    if (ps["const"]) {
      const std::string want = str(ps["const"]);
      bool ok;
      if (is_number) {
        auto w = num(ps["const"]);
        ok = w && *w == p.value->number;
      } else {
        auto s = prop_strings(p);
        ok = std::find(s.begin(), s.end(), want) != s.end();  // fdt_node_check_compatible() semantics
      }
      if (!ok) {
        std::string got = is_number ? hex(p.value->number) : fdt::format_value(*p.value);
        ctx.add("schema_const", n, &p, "value " + got + " is not '" + want + "'", id);
      }
    }
    if (ps["enum"] && ps["enum"].IsSequence()) {
      bool ok = false;
      auto s = prop_strings(p);
      for (const auto& e : ps["enum"]) {
        if (is_number) {
          auto w = num(e);
          ok = ok || (w && *w == p.value->number);
        } else {
          ok = ok || std::find(s.begin(), s.end(), str(e)) != s.end();
        }
      }
      if (!ok) {
        std::string allowed;
        for (const auto& e : ps["enum"]) allowed += (allowed.empty() ? "" : ", ") + str(e);
        ctx.add("schema_enum", n, &p, "value " + fdt::format_value(*p.value) + " is not one of [" + allowed + "]", id);
      }
    }
    if (is_number) {
      if (auto mn = num(ps["minimum"]); mn && p.value->number < *mn)
        ctx.add("schema_minimum", n, &p, "value " + hex(p.value->number) + " is below the minimum " + hex(*mn), id);
      if (auto mx = num(ps["maximum"]); mx && p.value->number > *mx)
        ctx.add("schema_maximum", n, &p, "value " + hex(p.value->number) + " is above the maximum " + hex(*mx), id);
      if (auto m = num(ps["multipleOf"]); m && *m > 0 && p.value->number % *m != 0)
        ctx.add("schema_multiple_of", n, &p, "value " + hex(p.value->number) + " is not a multiple of " + hex(*m), id);
    }
  }
  for (const auto& c : n.children) {
    YAML::Node cs = props && props[c.name] && is_node_schema(props[c.name]) ? props[c.name] : pattern_match(c.name, true);
    if (!has(cs)) {
      if (!additional_ok)
        ctx.add("schema_unknown_node", c, nullptr, "node '" + c.name + "' is not defined by the schema", id);
      continue;
    }
    validate_node(c, *cur_doc, cs, file, report, depth + 1);
  }
}

void SchemaSet::validate_tree(const fdt::Tree& tree, const SchemaDoc& doc, const std::string& file,
                              Report& report) const {
  validate_node(tree.root, doc, doc.root, file, report, 0);
}

// ------------------------------------------------------------------ dts examples

namespace {

struct DtsParser {
  std::string_view s;
  std::size_t i = 0;
  std::string error;
  fdt::Builder b{4096, fdt::Endian::little};

  void skip() {
    for (;;) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      if (s.substr(i, 2) == "/*") {
        auto e = s.find("*/", i + 2);
        i = e == std::string_view::npos ? s.size() : e + 2;
      } else if (s.substr(i, 2) == "//") {
        auto e = s.find('\n', i);
        i = e == std::string_view::npos ? s.size() : e + 1;
      } else {
        return;
      }
    }
  }
  bool fail(std::string m) {
    if (error.empty()) error = "offset " + std::to_string(i) + ": " + m;
    return false;
  }
  std::string name() {
    skip();
    std::size_t st = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || std::string_view(",._+-@#/").find(s[i]) != std::string_view::npos))
      ++i;
    return std::string(s.substr(st, i - st));
  }
  bool expect(char c) {
    skip();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return fail(std::string("expected '") + c + "'");
  }
  bool value(std::vector<std::uint8_t>& out) {
    skip();
    if (i >= s.size()) return fail("value expected");
    if (s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') out.push_back(static_cast<std::uint8_t>(s[i++]));
      if (i >= s.size()) return fail("unterminated string");
      ++i;
      out.push_back(0);
      return true;
    }
    if (s[i] == '<') {
      ++i;
      for (;;) {
        skip();
        if (i < s.size() && s[i] == '>') {
          ++i;
          return true;
        }
        std::size_t st = i;
        while (i < s.size() && std::isalnum(static_cast<unsigned char>(s[i]))) ++i;
        auto v = parse_u64_scalar(s.substr(st, i - st));
        if (!v || *v > 0xffffffffu) return fail("bad cell");
        for (int k = 3; k >= 0; --k) out.push_back(static_cast<std::uint8_t>(*v >> (8 * k)));
      }
    }
    return fail("unsupported value syntax");
  }
  bool node(bool top) {
    if (!expect('{')) return false;
    b.begin_node(top ? "" : current_);
    for (;;) {
      skip();
      if (i < s.size() && s[i] == '}') {
        ++i;
        b.end_node();
        skip();
        if (i < s.size() && s[i] == ';') ++i;
        return true;
      }
      std::string n = name();
      if (n.empty()) return fail("name expected");
      skip();
      if (i < s.size() && s[i] == '{') {
        current_ = n;
        if (!node(false)) return false;
        continue;
      }
      std::vector<std::uint8_t> bytes;
      if (i < s.size() && s[i] == '=') {
        ++i;
        for (;;) {
          if (!value(bytes)) return false;
          skip();
          if (i < s.size() && s[i] == ',') {
            ++i;
            continue;
          }
          break;
        }
      }
      if (!expect(';')) return false;
      b.prop_bytes(n, bytes);
    }
  }
  std::string current_;
};

}  // namespace

std::string yaml_str(const YAML::Node& n) { return str(n); }
std::optional<std::uint64_t> yaml_u64(const YAML::Node& n) { return num(n); }
bool is_node_schema(const YAML::Node& s) { return khospec::conformance::is_node_schema_impl(s); }
std::optional<std::string> wire_type_ref(const std::string& ref) { return type_ref(ref); }

std::vector<std::uint8_t> compile_dts_example(std::string_view text, std::string& error) {
  DtsParser p;
  p.s = text;
  p.skip();
  if (p.s.substr(p.i, 8) == "/dts-v1/") {
    p.i += 8;
    p.expect(';');
  }
  p.name();  // "/" or a wrapper name ("kho"): the example's top node is the root
  if (!p.node(true)) {
    error = p.error;
    return {};
  }
  auto blob = p.b.finish();
  if (p.b.error() != 0) {
    error = "libfdt refused the example";
    return {};
  }
  return blob;
}

// ------------------------------------------------------------------------ lint

namespace {

struct Linter {
  const SchemaSet& set;
  Report& report;
  const SchemaDoc* doc = nullptr;

  void add(const char* rule, const YAML::Node& at, std::string msg, std::string where = {}) {
    lint_add(report, doc->path, rule, at, std::move(msg), std::move(where));
  }

  void keywords(const YAML::Node& n, const SV& allowed, const std::string& where) {
    if (!n.IsMap()) return;
    for (const auto& kv : n) {
      std::string k = kv.first.as<std::string>();
      if (!contains(allowed, k))
        add("schema_unknown_keyword", kv.first, "keyword '" + k + "' is not implemented by khospec's validator", where);
    }
  }

  void property(const YAML::Node& p, const std::string& where) {
    if (!p.IsMap()) {
      add("schema_untyped_property", p, "property schema is not a map", where);
      return;
    }
    if (is_node_schema(p)) {
      node(p, where);
      return;
    }
    keywords(p, implemented_property_keywords(), where);
    std::string ref = str(p["$ref"]);
    if (ref.empty()) {
      add("schema_untyped_property", p, "property has no wire type ($ref: types.yaml#/definitions/TYPE)", where);
    } else if (auto t = type_ref(ref)) {
      if (!contains(implemented_types(), *t) || !fdt::parse_type(*t))
        add("schema_unknown_type", p["$ref"], "unknown wire type '" + *t + "'", where);
    }
    points_to(p["points-to"], where);
  }

  // points-to: what a pointer value addresses (a layout name, "fdt" or "blob");
  // the compatibility checker follows it to compare the pointed-to layouts.
  void points_to(const YAML::Node& n, const std::string& where) {
    if (!n) return;
    std::vector<YAML::Node> items;
    if (n.IsSequence()) {
      for (const auto& e : n) items.push_back(e);
    } else {
      items.push_back(n);
    }
    for (const auto& e : items) {
      std::string t = e.IsScalar() ? e.as<std::string>() : std::string();
      if (t != "fdt" && t != "blob" && !set.layout(t))
        add("schema_bad_points_to", e, "points-to '" + t + "' names no layout (nor fdt / blob)", where);
    }
  }

  void pattern(const YAML::Node& key, const std::string& where) {
    std::string re = key.as<std::string>();
    if (!re.empty() && re.front() == '$' && re.back() == '^') {
      add("schema_pattern_anchors", key,
          "pattern \"" + re + "\" has its anchors reversed ('$' first, '^' last) and matches no node name", where);
      return;
    }
    try {
      std::regex r(re);
    } catch (const std::regex_error& e) {
      add("schema_bad_pattern", key, "pattern \"" + re + "\" does not compile: " + e.what(), where);
    }
  }

  void node(const YAML::Node& n, const std::string& where) {
    keywords(n, where.empty() ? implemented_schema_keywords() : implemented_node_keywords(), where);
    if (auto ref = str(n["$ref"]); !ref.empty() && !set_resolves(ref))
      add("schema_unresolved_ref", n["$ref"], "$ref '" + ref + "' does not resolve", where);
    if (n["properties"] && n["properties"].IsMap()) {
      for (const auto& kv : n["properties"]) property(kv.second, where + "/" + kv.first.as<std::string>());
    }
    if (n["patternProperties"] && n["patternProperties"].IsMap()) {
      for (const auto& kv : n["patternProperties"]) {
        pattern(kv.first, where);
        property(kv.second, where + "/{" + kv.first.as<std::string>() + "}");
      }
    }
    if (n["$defs"] && n["$defs"].IsMap()) {
      for (const auto& kv : n["$defs"]) node(kv.second, where + "/$defs/" + kv.first.as<std::string>());
    }
  }

  bool set_resolves(const std::string& ref) const;

  void layout(const YAML::Node& l) {
    keywords(l, implemented_layout_keywords(), "layout");
    auto size = num(l["size"]);
    if (!size) {
      add("schema_bad_layout", l, "layout has no numeric size", "layout");
      return;
    }
    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
    for (const auto& f : l["fields"]) {
      keywords(f, implemented_field_keywords(), "layout/" + str(f["name"]));
      auto off = num(f["offset"]);
      auto sz = num(f["size"]);
      std::uint64_t count = num(f["count"]).value_or(1);
      if (!off || !sz || count == 0 || *sz > (1u << 24) || count > (1u << 24)) {
        add("schema_bad_layout", f, "field '" + str(f["name"]) + "' needs numeric offset and size", "layout");
        continue;
      }
      if (std::string t = str(f["type"]); !t.empty() && !contains(implemented_types(), t))
        add("schema_unknown_type", f["type"], "unknown field type '" + t + "'", "layout/" + str(f["name"]));
      points_to(f["points-to"], "layout/" + str(f["name"]));
      const std::uint64_t end = *off + *sz * count;
      if (end > *size)
        add("schema_bad_layout", f, "field '" + str(f["name"]) + "' ends at " + std::to_string(end) +
                                        ", past the struct size " + std::to_string(*size), "layout");
      for (const auto& s : spans) {
        if (*off < s.second && s.first < end)
          add("schema_bad_layout", f, "field '" + str(f["name"]) + "' overlaps an earlier field", "layout");
      }
      spans.push_back({*off, end});
    }
  }

  // The compatible a schema accepts at its root: properties.compatible const / enum.
  static std::vector<std::string> accepted(const YAML::Node& root) {
    std::vector<std::string> out;
    YAML::Node c = root["properties"] ? root["properties"]["compatible"] : YAML::Node();
    if (!c || !c.IsMap()) return out;
    if (c["const"]) out.push_back(str(c["const"]));
    if (c["enum"] && c["enum"].IsSequence()) {
      for (const auto& e : c["enum"]) out.push_back(str(e));
    }
    return out;
  }

  void examples(const YAML::Node& ex) {
    if (!ex.IsSequence()) return;
    int idx = 0;
    for (const auto& e : ex) {
      ++idx;
      std::string text = str(e);
      std::vector<std::uint8_t> blob;
      std::string err;
      auto first = text.find_first_not_of(" \t\r\n");
      bool corpus_form = first != std::string::npos && text.compare(first, 5, "root:") == 0;
      if (!corpus_form) {
        // Skip leading comment lines of a corpus-form example.
        std::size_t p = first;
        while (p != std::string::npos && p < text.size() && text[p] == '#') {
          p = text.find('\n', p);
          if (p != std::string::npos) p = text.find_first_not_of(" \t\r\n", p);
        }
        corpus_form = p != std::string::npos && p < text.size() && text.compare(p, 5, "root:") == 0;
      }
      if (corpus_form) {
        auto c = compile_source(text, doc->path + " example " + std::to_string(idx));
        if (!c.ok) err = c.error;
        blob = std::move(c.blob);
      } else {
        blob = compile_dts_example(text, err);
      }
      if (!err.empty()) {
        add("schema_example_invalid", e, "example " + std::to_string(idx) + " does not compile: " + err);
        continue;
      }
      InspectOptions io;
      io.read.file = doc->path + " example " + std::to_string(idx);
      const SchemaDoc* d = doc;
      const SchemaSet* s = &set;
      io.decode.resolver = [s, d](const fdt::Node& node, std::string_view prop) {
        auto t = s->prop_type(*d, node, prop);
        return t ? t : fdt::kho_prop_type(node, prop);
      };
      Report r;
      auto insp = inspect(blob, io, r);
      if (insp.blob.ok()) set.validate_tree(insp.tree, *doc, io.read.file, r);
      // Compatible the example uses vs the one the schema accepts.
      auto acc = accepted(doc->root);
      if (insp.blob.ok() && !acc.empty()) {
        if (const auto* p = insp.tree.root.prop("compatible"); p && p->value && !p->value->strings.empty()) {
          const std::string& used = p->value->strings.front();
          if (std::find(acc.begin(), acc.end(), used) == acc.end())
            add("schema_compatible_mismatch", doc->root["properties"]["compatible"],
                "the schema accepts compatible [" + join(acc) + "] but its example " + std::to_string(idx) +
                    " uses '" + used + "'");
        }
      }
      for (const auto& d2 : r.diagnostics()) {
        if (d2.level == Level::info) continue;
        add("schema_example_invalid", e,
            "example " + std::to_string(idx) + ": (" + d2.rule + ") " + (d2.node.empty() ? "" : d2.node) +
                (d2.property.empty() ? "" : ":" + d2.property) + ": " + d2.message);
      }
    }
  }

  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  }

  void run(const SchemaDoc& d) {
    doc = &d;
    const YAML::Node& root = d.root;
    if (!root["$id"]) add("schema_missing_id", root, "the schema has no $id");
    if (!root["$schema"]) add("schema_missing_meta_schema", root, "the schema has no $schema");
    if (!root["title"]) add("schema_missing_title", root, "the schema has no title");
    if (root["layout"]) {
      keywords(root, implemented_schema_keywords(), "");
      layout(root["layout"]);
    } else if (!root["definitions"] && !root["schema-keywords"]) {
      node(root, "");
    }
    // A released schema accepts exactly the compatible its file is named after.
    auto acc = accepted(root);
    std::string sel = str(root["select"]);
    // Proposed variants are selected as "<compatible>-rfc-<what>" (the compatible is shared).
    const std::string base = sel.substr(0, sel.find("-rfc-"));
    const bool sel_ok = std::any_of(acc.begin(), acc.end(), [&](const std::string& a) {
      return a == base || a.rfind(base + ";", 0) == 0;
    });
    if (!sel.empty() && !acc.empty() && !sel_ok)
      add("schema_compatible_mismatch", root["select"],
          "select '" + sel + "' is not among the compatibles the schema accepts [" + join(acc) + "]");
    if (root["examples"]) examples(root["examples"]);
  }
};

bool Linter::set_resolves(const std::string& ref) const {
  return set.resolve_public(*doc, ref);
}

}  // namespace

bool SchemaSet::resolve_public(const SchemaDoc& from, const std::string& ref) const {
  return resolve(from, ref).has_value();
}

void SchemaSet::lint(Report& report) const {
  std::map<std::string, const SchemaDoc*> ids;
  for (const auto& d : docs_) {
    if (!d.parsed) continue;
    // The meta-schema itself is not linted as a node schema; types.yaml neither.
    Linter l{*this, report};
    if (d.root["schema-keywords"]) {
      l.doc = &d;
      // Meta-schema: its keyword lists must equal what the validator implements.
      auto check = [&](const char* key, const SV& impl) {
        std::set<std::string> listed, implemented(impl.begin(), impl.end());
        for (const auto& k : d.root[key]) listed.insert(str(k));
        if (listed != implemented)
          l.add("schema_unknown_keyword", d.root[key],
                std::string("meta-schema list '") + key + "' differs from the keywords the validator implements");
      };
      check("schema-keywords", implemented_schema_keywords());
      check("node-keywords", implemented_node_keywords());
      check("property-keywords", implemented_property_keywords());
      check("layout-keywords", implemented_layout_keywords());
      check("field-keywords", implemented_field_keywords());
      check("types", implemented_types());
    } else {
      l.run(d);
    }
    if (!d.id.empty()) {
      auto [it, fresh] = ids.emplace(d.id, &d);
      if (!fresh) {  // reported on both files, each naming the other
        l.doc = &d;
        l.add("schema_duplicate_id", d.root["$id"], "$id '" + d.id + "' is also used by " + it->second->path);
        l.doc = it->second;
        l.add("schema_duplicate_id", it->second->root["$id"], "$id '" + d.id + "' is also used by " + d.path);
      }
    }
  }
}

}  // namespace khospec::conformance
