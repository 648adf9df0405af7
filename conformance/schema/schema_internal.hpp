// Private to conformance/schema/: what the loader, the pattern automaton, the
// compiler, the checks and lint share. Nothing outside this folder includes it.
#pragma once

#include <algorithm>
#include <atomic>
#include <bitset>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conformance/schema/schema.hpp"
#include "core/rules.hpp"

namespace khospec::conformance {

// Generated at build time from schemas/**/*.yaml (embed_schemas.cmake).
extern const std::vector<SchemaSource>& embedded_schema_sources();
// Their number, without building them.
std::size_t embedded_schema_count();
// "0x1f" / "31" -> 31; nullopt for anything else or an overflow (schema_load.cpp).
std::optional<std::uint64_t> parse_u64_scalar(std::string_view s);

namespace schema_detail {

using SV = std::vector<std::string_view>;

inline std::string hex(std::uint64_t v) { return hex_u64(v); }

// yaml-cpp: a default-constructed YAML::Node() is "defined" (a null node), so
// `!node` is false for it; absent lookups use has().
inline bool has(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

inline bool contains(const SV& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

inline std::string str(const YAML::Node& n) {
  if (n && n.IsScalar()) return n.Scalar();
  return {};
}

inline std::optional<std::uint64_t> num(const YAML::Node& n) {
  if (!n || !n.IsScalar()) return std::nullopt;
  return parse_u64_scalar(n.Scalar());
}

// The part of a $ref after "types.yaml#/definitions/", if it names a wire type.
std::optional<std::string> type_ref(const std::string& ref);

// A finding about a schema file, located at `at`'s line (schema_load.cpp).
void lint_add(Report& r, const std::string& file, const char* rule, const YAML::Node& at, std::string msg,
              std::string where = {});

// A schema_* finding about a blob, with the $id of the schema that fired it as its hint.
void add_schema_finding(Report& r, const std::string& file, const char* rule, std::uint64_t offset, std::string node,
                        std::string prop, std::string msg, const std::string& id);

// patternProperties regexes, compiled once per process (compiling a std::regex costs
// far more than matching a node name). nullptr: it does not compile (lint reports
// schema_bad_pattern). The cache keeps the first kMaxCachedRegexes patterns, so a
// long-lived process fed ever new schemas (Python, a fuzzer) does not grow without
// bound; later ones are compiled for their caller alone. schema_pattern.cpp.
inline constexpr std::size_t kMaxCachedRegexes = 256;
std::shared_ptr<const std::regex> cached_regex(const std::string& re);
// std::regex_search with the cached regex (the yaml-cpp walk's matching).
bool pattern_matches(const std::string& name, const std::string& re);

// An example of a schema's `examples:` compiled to a blob: the corpus form (a
// `root:` map, conformance/corpus) or dts syntax. Empty with `error` set when it
// does not compile. schema_example.cpp.
std::vector<std::uint8_t> compile_schema_example(const std::string& text, const std::string& name,
                                                 std::string& error);

}  // namespace schema_detail

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
  std::shared_ptr<const std::regex> re;
  std::string pattern;  // the regex kind's source (what the schema pack stores for it)

  bool match(std::string_view name) const;
};

// The automaton when `re` is in the subset, else the cached std::regex (schema_pattern.cpp).
Matcher make_matcher(const std::string& re);

// A property schema: const / enum / bounds as numbers and strings, and its wire type.
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
  // Built-in docs whose YAML is parsed on first use (doc_at()): doc i with lazy[i] is
  // builtin_sources()[i], its path, $id and `parsed` read from the pack (empty: nothing
  // is lazy).
  std::vector<char> lazy;
  std::unique_ptr<std::once_flag[]> once;
  std::unique_ptr<std::atomic<bool>[]> loaded;  // doc i's call_once has completed (read without it)
  // A lazy doc's `layout: name:` (nullopt: it has no `layout:`), from the pack.
  std::vector<std::optional<std::string>> layouts;
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
  // The built-in set's schema pack (builtin() only): compiled() decodes doc i's graph
  // from pack_graphs[i] (an offset into pack; npos: the doc has none, compiled() is
  // nullptr) instead of compiling its YAML.
  std::span<const std::uint8_t> pack;
  std::vector<std::size_t> pack_graphs;
  std::size_t pack_names = 0;  // prop_type_by_name()'s table
  // prop_type_by_name(): every property name a node schema declares, in first-seen
  // order, with its wire type (nullopt: two schemas disagree).
  std::once_flag names_once;
  std::vector<std::pair<std::string, std::optional<fdt::PropType>>> names;
};

namespace schema_detail {

// node_schema_for_path() on the compiled tables: the node schema for `path`, or nullptr.
const SchemaSet::CompiledNode* compiled_for_path(const SchemaSet::CompiledNode* cur, std::string_view path);
// The wire type a node schema's `properties` entry declares for `prop` (not its patterns).
std::optional<fdt::PropType> compiled_prop_type(const SchemaSet::CompiledNode* s, std::string_view prop);

}  // namespace schema_detail

}  // namespace khospec::conformance
