#include "conformance/schema/schema.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <bitset>
#include <regex>
#include <set>

#include "conformance/corpus/corpus_source.hpp"
#include "fdt/inspect.hpp"
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

// ------------------------------------------------------------ compiled schemas

namespace compiled_schema {

// patternProperties without std::regex where the pattern allows it: literals and
// bracket classes (alphanumerics, ranges between them, , . _ + - @ #), each with an
// optional * + ?, between optional ^ and $. That language is regular, so a
// position-set automaton answers exactly what std::regex_search answers (ECMAScript
// grammar, no multiline: ^ and $ only match at the ends). Anything else keeps std::regex.
struct Atom {
  std::bitset<256> set;
  char q = 0;  // 0: exactly one, '*': any number, '?': at most one ('+' is one then '*')
};

struct Matcher {
  enum class Kind { nfa, regex, never } kind = Kind::never;
  bool begin = false, end = false;
  bool one_class_plus = false;  // '^[...]+$': a non-empty name of class characters (the common case)
  std::vector<Atom> atoms;
  const std::regex* re = nullptr;

  bool match(std::string_view name) const;
};

bool class_literal(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view(",._+-@#").find(c) != std::string_view::npos;
}
bool plain_literal(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view(",_-@#").find(c) != std::string_view::npos;
}
bool same_kind(char a, char b) {
  auto kind = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? 1 : std::islower(static_cast<unsigned char>(c)) ? 2 : std::isupper(static_cast<unsigned char>(c)) ? 3 : 0; };
  return kind(a) != 0 && kind(a) == kind(b) && a <= b;
}

// False when `re` is outside the subset (the caller keeps std::regex).
bool parse_simple(const std::string& re, Matcher& m) {
  std::size_t i = 0;
  if (i < re.size() && re[i] == '^') {
    m.begin = true;
    ++i;
  }
  std::size_t stop = re.size();
  if (stop > i && re[stop - 1] == '$') {
    if (stop >= 2 && re[stop - 2] == '\\') return false;
    m.end = true;
    --stop;
  }
  while (i < stop) {
    Atom a;
    if (re[i] == '[') {
      ++i;
      if (i < stop && (re[i] == '^' || re[i] == ']')) return false;
      bool closed = false;
      while (i < stop) {
        const char c = re[i];
        if (c == ']') {
          closed = true;
          ++i;
          break;
        }
        if (!class_literal(c)) return false;
        if (c == '-') {
          // A literal '-' only first or last in the class.
          if (!(re[i - 1] == '[' || (i + 1 < stop && re[i + 1] == ']'))) return false;
          a.set.set(static_cast<unsigned char>(c));
          ++i;
          continue;
        }
        if (i + 2 < stop && re[i + 1] == '-' && re[i + 2] != ']') {
          const char hi = re[i + 2];
          if (!same_kind(c, hi)) return false;
          for (int x = static_cast<unsigned char>(c); x <= static_cast<unsigned char>(hi); ++x) a.set.set(static_cast<std::size_t>(x));
          i += 3;
          continue;
        }
        a.set.set(static_cast<unsigned char>(c));
        ++i;
      }
      if (!closed || a.set.none()) return false;
    } else if (plain_literal(re[i])) {
      a.set.set(static_cast<unsigned char>(re[i]));
      ++i;
    } else {
      return false;
    }
    char q = 0;
    if (i < stop && (re[i] == '*' || re[i] == '+' || re[i] == '?')) q = re[i++];
    if (q == '+') {
      m.atoms.push_back(a);
      q = '*';
    }
    a.q = q;
    m.atoms.push_back(a);
    if (m.atoms.size() > 62) return false;
  }
  return true;
}

Matcher make_matcher(const std::string& re, const std::regex* (*regex_of)(const std::string&)) {
  Matcher m;
  if (parse_simple(re, m)) {
    m.kind = Matcher::Kind::nfa;
    m.one_class_plus = m.begin && m.end && m.atoms.size() == 2 && m.atoms[0].q == 0 && m.atoms[1].q == '*' &&
                       m.atoms[0].set == m.atoms[1].set;
    // The pattern must still be one std::regex accepts (it always is in this subset).
    if (!regex_of(re)) m.kind = Matcher::Kind::never;
    return m;
  }
  m = Matcher{};
  m.re = regex_of(re);
  m.kind = m.re ? Matcher::Kind::regex : Matcher::Kind::never;
  return m;
}

bool Matcher::match(std::string_view name) const {
  switch (kind) {
    case Kind::never: return false;
    case Kind::regex: {
      std::string n(name);
      return std::regex_search(n, *re);
    }
    case Kind::nfa: break;
  }
  if (one_class_plus) {
    if (name.empty()) return false;
    for (char ch : name)
      if (!atoms[0].set[static_cast<unsigned char>(ch)]) return false;
    return true;
  }
  const std::size_t k = atoms.size();
  const std::uint64_t accept = std::uint64_t{1} << k;
  auto closure = [&](std::uint64_t s) {
    for (std::size_t i = 0; i < k; ++i)
      if ((s >> i & 1) && atoms[i].q != 0) s |= std::uint64_t{1} << (i + 1);
    return s;
  };
  std::uint64_t s = closure(1);
  if (!end && (s & accept)) return true;
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    std::uint64_t t = 0;
    for (std::size_t i = 0; i < k; ++i) {
      if (!(s >> i & 1) || !atoms[i].set[c]) continue;
      t |= std::uint64_t{1} << (atoms[i].q == '*' ? i : i + 1);
    }
    if (!begin) t |= 1;
    s = closure(t);
    if (!end && (s & accept)) return true;
    if (s == 0) return false;
  }
  return (s & accept) != 0;
}

struct Prop {
  bool has_const = false;
  std::string const_str;
  std::optional<std::uint64_t> const_num;
  bool has_enum = false;
  std::vector<std::string> enum_str;
  std::vector<std::optional<std::uint64_t>> enum_num;
  std::optional<std::uint64_t> minimum, maximum, multiple_of;
  std::optional<fdt::PropType> type;  // its $ref wire type (prop_type())
};

}  // namespace compiled_schema

namespace cs = compiled_schema;

// One node schema after its $ref chain, as validate_node() would read it.
struct SchemaSet::CompiledNode {
  bool skip = false;                 // the $ref does not resolve: validate_node() checks nothing
  const std::string* id = nullptr;   // $id of the file the schema sits in (the hint)
  std::vector<std::string> required;
  bool additional_ok = true;
  struct Entry {
    std::string name;
    const CompiledNode* node = nullptr;  // a child-node schema, else
    const cs::Prop* prop = nullptr;      // a property schema
  };
  std::vector<Entry> props;  // `properties` in file order: the first equal key wins, as in yaml-cpp
  struct Pattern {
    cs::Matcher m;
    const CompiledNode* node = nullptr;
    const cs::Prop* prop = nullptr;
  };
  std::vector<Pattern> patterns;
  int ref_hops = 0;  // $refs followed to reach this schema (node_schema_for_path() counts them per path)

  const Entry* entry(std::string_view name) const {
    for (const auto& e : props)
      if (fdt::same_name(e.name, name)) return &e;
    return nullptr;
  }
  const cs::Prop* prop_schema(std::string_view name) const {
    if (const Entry* e = entry(name); e && e->prop) return e->prop;
    return pattern_prop(name);
  }
  const cs::Prop* pattern_prop(std::string_view name) const {
    for (const auto& p : patterns)
      if (p.prop && p.m.match(name)) return p.prop;
    return nullptr;
  }
  const CompiledNode* child_schema(std::string_view name) const {
    if (const Entry* e = entry(name); e && e->node) return e->node;
    for (const auto& p : patterns)
      if (p.node && p.m.match(name)) return p.node;
    return nullptr;
  }
};

struct SchemaSet::Cache {
  std::mutex mu;
  // Lazily parsed built-in docs (builtin()): the text of doc i is (*sources)[i].
  const std::vector<SchemaSource>* sources = nullptr;
  std::unique_ptr<std::once_flag[]> once;
  std::unique_ptr<std::atomic<bool>[]> parsed;  // doc i's call_once has completed (read without it)
  std::vector<char> lazy;
  // `select` of every doc, for for_abi() (valid once have_selects).
  std::atomic<bool> have_selects{false};
  std::vector<std::string> selects;
  std::vector<char> select_ok;  // the doc parsed (a doc that did not never matches)
  std::atomic<std::size_t> last_select{~std::size_t{0}};  // for_abi()'s last match
  struct Graph {
    std::vector<std::unique_ptr<CompiledNode>> nodes;
    std::vector<std::unique_ptr<cs::Prop>> props;
    const CompiledNode* root = nullptr;  // nullptr: irregular, use the yaml-cpp walk
  };
  std::vector<std::pair<const SchemaDoc*, std::unique_ptr<Graph>>> graphs;
  // compiled() of doc i once built, read without the lock (sized by seal()).
  std::unique_ptr<std::atomic<const Graph*>[]> graph_at;
  std::size_t sealed_docs = 0;
};

void SchemaSet::seal() {
  cache_->graph_at = std::make_unique<std::atomic<const Cache::Graph*>[]>(docs_.size());
  cache_->sealed_docs = docs_.size();
}

SchemaSet::SchemaSet() : cache_(std::make_unique<Cache>()) {}
SchemaSet::~SchemaSet() = default;
SchemaSet::SchemaSet(SchemaSet&&) noexcept = default;
SchemaSet& SchemaSet::operator=(SchemaSet&&) noexcept = default;

namespace {

// patternProperties regexes, compiled once per process.
const std::regex* regex_of(const std::string& re) { return cached_regex(re); }

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

}  // namespace

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

// ---------------------------------------------------------------- compilation

namespace {

// Compiles the node schemas reachable from a doc's root into plain tables. The
// compiled walk must answer exactly what the yaml-cpp walk answers, so anything
// where the two could differ makes the doc irregular (the yaml-cpp walk stays in
// charge): a non-map schema where a map is read (yaml-cpp's operator[] would throw
// or convert it), non-scalar pattern keys, a $ref cycle, 16 or more $refs on one
// path (node_schema_for_path() counts them per path) or schemas nested deeper than
// validate_node()'s limit.
struct Compiler {
  const SchemaSet& set;
  SchemaSet::Cache::Graph& g;
  std::function<std::optional<std::pair<const SchemaDoc*, YAML::Node>>(const SchemaDoc&, const std::string&)> resolve;
  bool irregular = false;
  struct Seen {
    YAML::Node key;
    SchemaSet::CompiledNode* node;
    bool done;
  };
  std::vector<Seen> seen;

  const cs::Prop* prop(const YAML::Node& p) {
    auto c = std::make_unique<cs::Prop>();
    if (p["const"]) {
      c->has_const = true;
      c->const_str = str(p["const"]);
      c->const_num = num(p["const"]);
    }
    if (p["enum"] && p["enum"].IsSequence()) {
      c->has_enum = true;
      for (const auto& e : p["enum"]) {
        c->enum_str.push_back(str(e));
        c->enum_num.push_back(num(e));
      }
    }
    c->minimum = num(p["minimum"]);
    c->maximum = num(p["maximum"]);
    c->multiple_of = num(p["multipleOf"]);
    if (auto t = type_ref(str(p["$ref"]))) c->type = fdt::parse_type(*t);
    g.props.push_back(std::move(c));
    return g.props.back().get();
  }

  // validate_node(n, doc, schema): the $ref chain, then the tables.
  SchemaSet::CompiledNode* node(const SchemaDoc& doc, YAML::Node schema) {
    for (auto& s : seen) {
      if (s.key.is(schema)) {
        if (!s.done) irregular = true;  // a cycle
        return s.node;
      }
    }
    g.nodes.push_back(std::make_unique<SchemaSet::CompiledNode>());
    SchemaSet::CompiledNode* out = g.nodes.back().get();
    seen.push_back({schema, out, false});
    const std::size_t me = seen.size() - 1;
    fill(*out, doc, schema);
    seen[me].done = true;
    return out;
  }

  void fill(SchemaSet::CompiledNode& out, const SchemaDoc& doc, YAML::Node schema) {
    if (!has(schema) || !schema.IsMap()) {
      out.skip = true;
      return;
    }
    const SchemaDoc* cur_doc = &doc;
    int hops = 0;
    for (; schema["$ref"] && !type_ref(str(schema["$ref"])) && hops < 16; ++hops) {
      auto r = resolve(*cur_doc, str(schema["$ref"]));
      if (!r) {
        out.skip = true;
        return;
      }
      cur_doc = r->first;
      schema.reset(r->second);
      if (!schema.IsMap()) {
        irregular = true;
        return;
      }
    }
    if (hops >= 16) {
      irregular = true;
      return;
    }
    out.ref_hops = hops;
    out.id = &cur_doc->id;
    if (schema["required"] && schema["required"].IsSequence()) {
      for (const auto& r : schema["required"]) out.required.push_back(str(r));
    }
    out.additional_ok = !(schema["additionalProperties"] && schema["additionalProperties"].IsScalar() &&
                          schema["additionalProperties"].Scalar() == "false");
    if (YAML::Node props = schema["properties"]) {
      if (!props.IsMap()) {
        irregular = true;
        return;
      }
      for (const auto& kv : props) {
        if (!kv.second.IsMap()) {
          irregular = true;
          return;
        }
        if (!kv.first.IsScalar()) continue;  // yaml-cpp never finds a non-scalar key by name
        SchemaSet::CompiledNode::Entry e;
        e.name = kv.first.Scalar();
        if (is_node_schema(kv.second)) e.node = node(*cur_doc, kv.second);
        else e.prop = prop(kv.second);
        out.props.push_back(std::move(e));
      }
    }
    YAML::Node patterns = schema["patternProperties"];
    if (patterns && patterns.IsMap()) {
      for (const auto& kv : patterns) {
        if (!kv.second.IsMap() || !kv.first.IsScalar() || kv.first.IsNull()) {
          irregular = true;
          return;
        }
        SchemaSet::CompiledNode::Pattern p;
        p.m = cs::make_matcher(kv.first.Scalar(), regex_of);
        if (is_node_schema(kv.second)) p.node = node(*cur_doc, kv.second);
        else p.prop = prop(kv.second);
        out.patterns.push_back(std::move(p));
      }
    }
  }

  // Longest chain of child schemas and most $refs on one path from `n`.
  void extent(const SchemaSet::CompiledNode* n, int depth, int hops, int& max_depth, int& max_hops,
              std::vector<const SchemaSet::CompiledNode*>& path) {
    if (depth > 64) return;  // a cycle (already irregular)
    hops += n->ref_hops;
    max_depth = std::max(max_depth, depth);
    max_hops = std::max(max_hops, hops);
    path.push_back(n);
    for (const auto& e : n->props)
      if (e.node) extent(e.node, depth + 1, hops, max_depth, max_hops, path);
    for (const auto& p : n->patterns)
      if (p.node) extent(p.node, depth + 1, hops, max_depth, max_hops, path);
    path.pop_back();
  }
};

}  // namespace

const SchemaSet::CompiledNode* SchemaSet::compiled(const SchemaDoc& doc) const {
  Cache& c = *cache_;
  // Doc i of a sealed set: its graph, once built, is read without the lock.
  const std::less<const SchemaDoc*> before;
  const bool indexed = c.graph_at && !before(&doc, docs_.data()) && before(&doc, docs_.data() + c.sealed_docs);
  const std::size_t i = indexed ? static_cast<std::size_t>(&doc - docs_.data()) : 0;
  if (indexed) {
    if (const Cache::Graph* g = c.graph_at[i].load(std::memory_order_acquire)) return g->root;
  }
  std::lock_guard<std::mutex> lock(c.mu);
  for (const auto& [d, g] : c.graphs)
    if (d == &doc) return g->root;
  auto g = std::make_unique<Cache::Graph>();
  Compiler comp{*this, *g, [this](const SchemaDoc& from, const std::string& ref)
                    -> std::optional<std::pair<const SchemaDoc*, YAML::Node>> {
                  auto r = resolve(from, ref);
                  if (!r || !r->doc) return std::nullopt;
                  return std::make_pair(r->doc, r->node);
                },
                false, {}};
  const CompiledNode* root = doc.parsed ? comp.node(doc, doc.root) : nullptr;
  if (root && !comp.irregular) {
    int max_depth = 0, max_hops = 0;
    std::vector<const CompiledNode*> path;
    comp.extent(root, 0, 0, max_depth, max_hops, path);
    if (max_depth > 32 || max_hops >= 16) comp.irregular = true;
  }
  g->root = comp.irregular ? nullptr : root;
  c.graphs.emplace_back(&doc, std::move(g));
  if (indexed) c.graph_at[i].store(c.graphs.back().second.get(), std::memory_order_release);
  return c.graphs.back().second->root;
}

bool schema_is_compiled(const SchemaSet& set, const SchemaDoc& doc) { return set.compiled(doc) != nullptr; }

bool schema_pattern_matches(std::string_view name, const std::string& re) {
  return cs::make_matcher(re, regex_of).match(name);
}

namespace {

// node_schema_for_path() on the compiled tables: the node schema for `path`, or nullptr.
const SchemaSet::CompiledNode* compiled_for_path(const SchemaSet::CompiledNode* cur, std::string_view path) {
  std::size_t pos = 1;
  while (pos < path.size()) {
    if (cur->skip) return nullptr;
    auto next = path.find('/', pos);
    std::string_view name = path.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    pos = next == std::string_view::npos ? path.size() : next + 1;
    cur = cur->child_schema(name);
    if (!cur) return nullptr;
  }
  return cur->skip ? nullptr : cur;
}

std::optional<fdt::PropType> compiled_prop_type(const SchemaSet::CompiledNode* s, std::string_view prop) {
  if (!s) return std::nullopt;
  const auto* e = s->entry(prop);
  if (!e || e->node) return std::nullopt;
  return e->prop->type;
}

}  // namespace

std::optional<fdt::PropType> SchemaSet::prop_type(const SchemaDoc& doc, const fdt::Node& node,
                                                  std::string_view prop) const {
  if (const CompiledNode* root = compiled(doc)) return compiled_prop_type(compiled_for_path(root, node.path), prop);
  return prop_type_yaml(doc, node, prop);
}

std::optional<fdt::PropType> SchemaSet::prop_type_yaml(const SchemaDoc& doc, const fdt::Node& node,
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

fdt::TypeResolver SchemaSet::type_resolver(const SchemaDoc& doc) const {
  const CompiledNode* root = compiled(doc);
  if (!root) {
    return [this, d = &doc](const fdt::Node& node, std::string_view prop) {
      auto t = prop_type(*d, node, prop);
      return t ? t : fdt::kho_prop_type(node, prop);
    };
  }
  // decode_tree() asks once per property, node after node: remember the last node's schema.
  struct Last {
    std::string path;
    const CompiledNode* schema = nullptr;
    bool valid = false;
  };
  auto last = std::make_shared<Last>();
  return [root, last](const fdt::Node& node, std::string_view prop) {
    if (!last->valid || last->path != node.path) {
      last->path = node.path;
      last->schema = compiled_for_path(root, node.path);
      last->valid = true;
    }
    auto t = compiled_prop_type(last->schema, prop);
    return t ? t : fdt::kho_prop_type(node, prop);
  };
}

fdt::FlatResolver SchemaSet::flat_type_resolver(const SchemaDoc& doc) const {
  const CompiledNode* root = compiled(doc);
  if (!root) {
    // The yaml-cpp walk reads a Node's path: adapt type_resolver().
    struct Last {
      const fdt::FlatTree* tree = nullptr;
      int node = -1;
      fdt::Node n;
    };
    return [r = type_resolver(doc), tmp = std::make_shared<Last>()](const fdt::FlatTree& t, int node,
                                                                    std::string_view prop) {
      if (tmp->tree != &t || tmp->node != node) {
        tmp->tree = &t;
        tmp->node = node;
        tmp->n.name = std::string(t.nodes[static_cast<std::size_t>(node)].name);
        tmp->n.path = std::string(t.path(node));
      }
      return r(tmp->n, prop);
    };
  }
  // type_flat() asks once per property, node after node: remember the last node's schema.
  struct Last {
    const fdt::FlatTree* tree = nullptr;
    int node = -1;
    const CompiledNode* schema = nullptr;
  };
  auto last = std::make_shared<Last>();
  return [root, last](const fdt::FlatTree& t, int node, std::string_view prop) {
    static const fdt::Node kAnyNode;  // kho_prop_type() reads names only
    if (last->tree != &t || last->node != node) {
      last->tree = &t;
      last->node = node;
      last->schema = compiled_for_path(root, t.path(node));
    }
    auto t2 = compiled_prop_type(last->schema, prop);
    return t2 ? t2 : fdt::kho_prop_type(kAnyNode, prop);
  };
}

namespace {

// validate_compiled() on the owning tree: schemas looked up by name as it walks.
struct TreeCtx {
  const std::string& file;
  Report& report;
  void add(const char* rule, const fdt::Node& n, const fdt::Property* p, std::string msg, const std::string& id) {
    Diagnostic& d = report.add(make_finding(rule, file, p ? p->offset : n.offset, n.path,
                                            p ? p->name : std::string(), std::move(msg), "schema"));
    if (!id.empty()) d.hints.push_back("from schema $id: " + id);
  }
  template <class F>
  void each_prop(const fdt::Node& n, const SchemaSet::CompiledNode& s, F f) {
    for (const auto& p : n.props) f(p, s.prop_schema(p.name));
  }
  template <class F>
  void each_child(const fdt::Node& n, const SchemaSet::CompiledNode& s, F f) {
    for (const auto& c : n.children) f(c, s.child_schema(c.name));
  }
  static bool has(const fdt::Node& n, const std::string& name) { return n.prop(name) || n.child(name); }
  static bool value_ok(const fdt::Property& p) { return p.value.has_value(); }
  static fdt::PropType type(const fdt::Property& p) { return p.value->type; }
  static std::uint64_t number(const fdt::Property& p) { return p.value->number; }
  static bool has_string(const fdt::Property& p, const std::string& want) {
    return std::find(p.value->strings.begin(), p.value->strings.end(), want) != p.value->strings.end();
  }
  static std::string format(const fdt::Property& p) { return fdt::format_value(*p.value); }
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

namespace {

// validate_node() on the compiled tables: the same checks, findings and order; a
// message is only formatted when its check fails.
// minimum / maximum / multipleOf of a number, for both walks (Tree and FlatTree).
template <class Ctx, class N, class P>
void check_bounds(Ctx& ctx, const N& n, const P& p, const cs::Prop& ps, std::uint64_t v, const std::string& id) {
  if (ps.minimum && v < *ps.minimum)
    ctx.add("schema_minimum", n, &p, "value " + hex(v) + " is below the minimum " + hex(*ps.minimum), id);
  if (ps.maximum && v > *ps.maximum)
    ctx.add("schema_maximum", n, &p, "value " + hex(v) + " is above the maximum " + hex(*ps.maximum), id);
  // multipleOf is a page or an alignment in every KHO schema: a mask, not a 64-bit divide.
  if (ps.multiple_of && *ps.multiple_of > 0 &&
      ((*ps.multiple_of & (*ps.multiple_of - 1)) == 0 ? v & (*ps.multiple_of - 1) : v % *ps.multiple_of) != 0)
    ctx.add("schema_multiple_of", n, &p, "value " + hex(v) + " is not a multiple of " + hex(*ps.multiple_of), id);
}

// The compiled walk, for the owning tree (TreeCtx) and the in-place decode
// (FlatCtx, schemas bound by bind_flat()): the same checks, findings and order.
template <class Ctx, class N>
void validate_compiled(const N& n, const SchemaSet::CompiledNode& s, Ctx& ctx, int depth) {
  if (depth > 32 || s.skip) return;
  static const std::string kNoId;
  const std::string& id = s.id ? *s.id : kNoId;
  for (const auto& name : s.required) {
    if (!ctx.has(n, name)) ctx.add("schema_required", n, nullptr, "required '" + name + "' is missing", id);
  }
  ctx.each_prop(n, s, [&](const auto& p, const cs::Prop* ps) {
    if (!ps) {
      if (!s.additional_ok)
        ctx.add("schema_unknown_property", n, &p, "property '" + std::string(p.name) + "' is not defined by the schema",
                id);
      return;
    }
    if (!ctx.value_ok(p)) return;  // wrong length: kho_prop_len_* already fired
    const fdt::PropType type = ctx.type(p);
    const bool is_number = type == fdt::PropType::u32 || type == fdt::PropType::u64 || type == fdt::PropType::phys_addr;
    const std::uint64_t number = ctx.number(p);
    if (ps->has_const) {
      bool ok;
      if (is_number) ok = ps->const_num && *ps->const_num == number;
      else ok = ctx.has_string(p, ps->const_str);  // fdt_node_check_compatible()
      if (!ok) {
        std::string got = is_number ? hex(number) : ctx.format(p);
        ctx.add("schema_const", n, &p, "value " + got + " is not '" + ps->const_str + "'", id);
      }
    }
    if (ps->has_enum) {
      bool ok = false;
      for (std::size_t i = 0; i < ps->enum_str.size() && !ok; ++i) {
        if (is_number) ok = ps->enum_num[i] && *ps->enum_num[i] == number;
        else ok = ctx.has_string(p, ps->enum_str[i]);
      }
      if (!ok) {
        std::string allowed;
        for (const auto& e : ps->enum_str) allowed += (allowed.empty() ? "" : ", ") + e;
        ctx.add("schema_enum", n, &p, "value " + ctx.format(p) + " is not one of [" + allowed + "]", id);
      }
    }
    if (is_number) check_bounds(ctx, n, p, *ps, number, id);
  });
  ctx.each_child(n, s, [&](const auto& c, const SchemaSet::CompiledNode* cs_) {
    if (!cs_) {
      if (!s.additional_ok)
        ctx.add("schema_unknown_node", c, nullptr, "node '" + std::string(c.name) + "' is not defined by the schema",
                id);
      return;
    }
    validate_compiled(c, *cs_, ctx, depth + 1);
  });
}

}  // namespace

namespace {

// `want` is one of the property's strings (Value::strings: string and string-list values).
bool flat_has_string(const fdt::FlatProp& p, std::string_view want) {
  if (p.type != fdt::PropType::string && p.type != fdt::PropType::string_list) return false;
  std::string_view all(reinterpret_cast<const char*>(p.raw.data()), p.raw.size() - 1);  // value_ok: ends in NUL
  for (std::size_t pos = 0;;) {
    const std::size_t end = all.find('\0', pos);
    if (all.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos) == want) return true;
    if (end == std::string_view::npos) return false;
    pos = end + 1;
  }
}

// validate_compiled() on the in-place decode: the schemas bind_flat() bound.
struct FlatCtx {
  const fdt::FlatTree& t;
  const std::string& file;
  Report& report;
  void add(const char* rule, const fdt::FlatNode& n, const fdt::FlatProp* p, std::string msg, const std::string& id) {
    Diagnostic& d = report.add(make_finding(rule, file, p ? p->offset : n.offset, std::string(t.path(n)),
                                            p ? std::string(p->name) : std::string(), std::move(msg), "schema"));
    if (!id.empty()) d.hints.push_back("from schema $id: " + id);
  }
  template <class F>
  void each_prop(const fdt::FlatNode& n, const SchemaSet::CompiledNode&, F f) {
    for (const auto& p : t.props_of(n)) f(p, static_cast<const cs::Prop*>(p.schema));  // s.prop_schema(p.name)
  }
  template <class F>
  void each_child(const fdt::FlatNode& n, const SchemaSet::CompiledNode&, F f) {
    for (int c = n.first_child; c >= 0; c = t.nodes[static_cast<std::size_t>(c)].next_sibling) {
      const fdt::FlatNode& cn = t.nodes[static_cast<std::size_t>(c)];
      f(cn, static_cast<const SchemaSet::CompiledNode*>(cn.schema));  // s.child_schema(cn.name)
    }
  }
  bool has(const fdt::FlatNode& n, const std::string& name) const { return t.prop(n, name) || t.child(n, name) >= 0; }
  static bool value_ok(const fdt::FlatProp& p) { return p.value_ok; }
  static fdt::PropType type(const fdt::FlatProp& p) { return p.type; }
  static std::uint64_t number(const fdt::FlatProp& p) { return p.number; }
  static bool has_string(const fdt::FlatProp& p, const std::string& want) { return flat_has_string(p, want); }
  std::string format(const fdt::FlatProp& p) const { return fdt::format_value(*fdt::flat_value(t, p)); }
};

}  // namespace

void SchemaSet::bind_flat(fdt::FlatTree& t, const SchemaDoc* doc) const {
  static const fdt::Node kAnyNode;  // kho_prop_type() reads names only
  const CompiledNode* root = doc ? compiled(*doc) : nullptr;
  if (doc && !root) {
    // The yaml-cpp walk: types through flat_type_resolver(); validate_flat() walks
    // the owning tree for such a doc and reads no binding.
    fdt::declare_types(t, flat_type_resolver(*doc));
    return;
  }
  // by_path: the node's path names its schema component by component (non-empty
  // names without '/'), so the child lookup by name is what compiled_for_path()
  // finds; otherwise the types come from compiled_for_path() itself.
  std::vector<char> by_path;
  for (std::size_t i = 0; i < t.nodes.size(); ++i) {
    fdt::FlatNode& n = t.nodes[i];
    const CompiledNode* s = nullptr;       // the schema validate_compiled() checks n against
    const CompiledNode* typer = nullptr;   // the schema prop_type() reads n's types from
    if (root) {
      const bool clean = !n.name.empty() && n.name.find('/') == std::string_view::npos;
      if (n.parent < 0) {
        s = root;
        typer = root->skip ? nullptr : root;
      } else {
        const auto* ps = static_cast<const CompiledNode*>(t.nodes[static_cast<std::size_t>(n.parent)].schema);
        s = ps && !ps->skip ? ps->child_schema(n.name) : nullptr;
        const bool parent_clean = by_path.empty() || by_path[static_cast<std::size_t>(n.parent)];
        if (clean && parent_clean) {
          typer = s && !s->skip ? s : nullptr;
        } else {
          if (by_path.empty()) by_path.assign(t.nodes.size(), 1);
          by_path[i] = 0;
          typer = compiled_for_path(root, t.path(n));
        }
      }
    }
    n.schema = s;
    for (std::uint32_t k = 0; k < n.prop_count; ++k) {
      fdt::FlatProp& p = t.props[n.first_prop + k];
      // compiled_prop_type(): a `properties` entry's $ref type; prop_schema(): that entry, else a pattern.
      const CompiledNode::Entry* e = typer ? typer->entry(p.name) : nullptr;
      std::optional<fdt::PropType> declared = e && e->prop ? e->prop->type : std::nullopt;
      if (!declared) declared = fdt::kho_prop_type(kAnyNode, p.name);
      p.type_known = declared.has_value();
      if (declared) p.type = *declared;
      p.schema = nullptr;
      if (s && !s->skip) {
        if (s != typer) e = s->entry(p.name);  // typer is s unless the path is not clean
        p.schema = e && e->prop ? e->prop : s->pattern_prop(p.name);  // s->prop_schema()
      }
    }
  }
}

void SchemaSet::validate_flat(const fdt::FlatTree& tree, const SchemaDoc& doc, const std::string& file,
                              Report& report) const {
  if (tree.nodes.empty()) {
    validate_tree(fdt::Tree{}, doc, file, report);  // what an empty decode is checked as
    return;
  }
  const CompiledNode* root = compiled(doc);
  if (!root) {
    const fdt::Tree t = fdt::to_tree(tree);  // the yaml-cpp walk reads the owning tree
    validate_node(t.root, doc, doc.root, file, report, 0);
    return;
  }
  if (tree.nodes.front().schema != root) {
    fdt::FlatTree copy = tree;  // bind_flat() declares types in place; only the binding is used
    bind_flat(copy, &doc);
    validate_flat(copy, doc, file, report);
    return;
  }
  FlatCtx ctx{tree, file, report};
  validate_compiled(tree.nodes.front(), *root, ctx, 0);
}

void SchemaSet::validate_tree(const fdt::Tree& tree, const SchemaDoc& doc, const std::string& file,
                              Report& report) const {
  if (const CompiledNode* root = compiled(doc)) {
    TreeCtx ctx{file, report};
    validate_compiled(tree.root, *root, ctx, 0);
    return;
  }
  validate_node(tree.root, doc, doc.root, file, report, 0);
}

void schema_validate_tree_yaml(const SchemaSet& set, const fdt::Tree& tree, const SchemaDoc& doc,
                               const std::string& file, Report& report) {
  set.validate_node(tree.root, doc, doc.root, file, report, 0);
}

std::optional<fdt::PropType> schema_prop_type_yaml(const SchemaSet& set, const SchemaDoc& doc, const fdt::Node& node,
                                                   std::string_view prop) {
  return set.prop_type_yaml(doc, node, prop);
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
      fdt::InspectOptions io;
      io.read.file = doc->path + " example " + std::to_string(idx);
      const SchemaDoc* d = doc;
      const SchemaSet* s = &set;
      io.decode.resolver = s->type_resolver(*d);
      Report r;
      auto insp = fdt::inspect(blob, io, r);
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
  parse_all();
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
