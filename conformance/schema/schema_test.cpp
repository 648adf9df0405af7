#include "conformance/schema/schema.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "conformance/schema/pattern.hpp"
#include "conformance/schema/schema_internal.hpp"
#include "core/file.hpp"
#include "core/test_seed.hpp"
#include "fdt/builder.hpp"
#include "fdt/inspect.hpp"

namespace khospec::conformance {
namespace {

namespace fs = std::filesystem;

TEST(Schemas, BuiltinSchemasLintClean) {
  Report r;
  auto set = SchemaSet::load(SchemaSet::builtin_sources(), r);
  set.lint(r);
  for (const auto& d : r.diagnostics()) ADD_FAILURE() << d.file << ": " << d.rule << ": " << d.message;
  EXPECT_GE(set.docs().size(), 30u);
}

TEST(Schemas, EmbeddedSchemasEqualTheSourceTree) {
  for (const auto& s : SchemaSet::builtin_sources())
    EXPECT_EQ(s.text, read_text_file(fs::path(KHOSPEC_SOURCE_DIR) / s.path)) << s.path;
}

TEST(Schemas, OneFrozenFilePerCompatible) {
  const auto& set = SchemaSet::builtin();
  for (const char* abi : {"kho-v1", "kho-v2", "kho-v3", "kho-v4", "memblock-v1", "kho-test-v1", "luo-v1", "luo-v2",
                          "kho-v1-rfc-g0", "kho-v1-rfc-order-table", "kho-v4-rfc-compat"}) {
    const SchemaDoc* d = set.for_abi(abi);
    ASSERT_NE(d, nullptr) << abi;
    EXPECT_NE(d->path.find(std::string(abi) + ".yaml"), std::string::npos) << d->path;
  }
  for (const char* nested : {"reserve-mem-v1", "ftrace-v1", "ftrace,array-v1", "ftrace,cpu-v1"}) {
    bool found = false;
    for (const auto& d : set.docs()) found = found || d.path.find(std::string(nested) + ".yaml") != std::string::npos;
    EXPECT_TRUE(found) << nested;
  }
}

// The meta-schema lists exactly the implemented keywords and types.
TEST(Schemas, MetaSchemaListsExactlyTheImplementedKeywords) {
  YAML::Node meta = YAML::Load(read_text_file(fs::path(KHOSPEC_SOURCE_DIR) / "schemas/meta-schemas/kho-core.yaml"));
  auto same = [&](const char* key, const std::vector<std::string_view>& impl) {
    std::set<std::string> listed, implemented(impl.begin(), impl.end());
    for (const auto& k : meta[key]) listed.insert(k.as<std::string>());
    EXPECT_EQ(listed, implemented) << key;
  };
  same("schema-keywords", implemented_schema_keywords());
  same("node-keywords", implemented_node_keywords());
  same("property-keywords", implemented_property_keywords());
  same("layout-keywords", implemented_layout_keywords());
  same("field-keywords", implemented_field_keywords());
  same("types", implemented_types());
}

Report lint_files(const std::vector<std::string>& rel) {
  std::vector<SchemaSource> src;
  for (const auto& r : rel) src.push_back({r, read_text_file(fs::path(KHOSPEC_SOURCE_DIR) / r)});
  Report r;
  auto set = SchemaSet::load(src, r);
  set.lint(r);
  return r;
}

// The kernel's 6.16 bindings, reproduced from their facts: their known defects are named findings.
TEST(Schemas, KernelBindingsDefects) {
  const std::string k = "schemas/tests/kernel-6.16/";
  Report r = lint_files({k + "kho.yaml", k + "sub-fdt.yaml", k + "memblock/memblock.yaml", k + "memblock/reserve-mem.yaml"});
  auto for_file = [&](const std::string& f) {
    std::set<std::string> s;
    for (const auto& d : r.diagnostics()) {
      if (d.file.rfind(k + f, 0) == 0 && (d.file.size() == (k + f).size() || d.file[(k + f).size()] == ':'))
        s.insert(d.rule);
    }
    return s;
  };
  EXPECT_EQ(for_file("kho.yaml"), (std::set<std::string>{"schema_missing_id", "schema_missing_meta_schema",
                                                          "schema_untyped_property", "schema_pattern_anchors",
                                                          "schema_example_invalid"}));
  EXPECT_EQ(for_file("sub-fdt.yaml"),
            (std::set<std::string>{"schema_missing_id", "schema_missing_meta_schema", "schema_untyped_property"}));
  EXPECT_EQ(for_file("memblock/memblock.yaml"),
            (std::set<std::string>{"schema_missing_id", "schema_missing_meta_schema", "schema_untyped_property",
                                   "schema_pattern_anchors", "schema_compatible_mismatch", "schema_example_invalid"}));
  EXPECT_EQ(for_file("memblock/reserve-mem.yaml"),
            (std::set<std::string>{"schema_missing_id", "schema_missing_meta_schema", "schema_untyped_property"}));
}

TEST(Schemas, DtsExamplesCompileToNativeEndianBytes) {
  std::string err;
  auto blob = compile_dts_example("kho { compatible = \"kho-v1\"; preserved-memory-map = <0xf0be16 0x1000000>; "
                                  "memblock { fdt = <0x80cc16 0x1000000>; }; };",
                                  err);
  ASSERT_TRUE(err.empty()) << err;
  Report r;
  fdt::InspectOptions io;
  auto insp = fdt::inspect(blob, io, r);
  ASSERT_TRUE(insp.blob.ok());
  // <0xf0be16 0x1000000> is the little-endian u64 0x1_16bef000 (docs/kernel-abi.md §1).
  EXPECT_EQ(insp.tree.root.prop("preserved-memory-map")->value->number, 0x116bef000u);
  EXPECT_EQ(insp.tree.root.child("memblock")->prop("fdt")->value->number, 0x116cc8000u);
  EXPECT_TRUE(compile_dts_example("kho { x = <zz>; };", err).empty());
  EXPECT_FALSE(err.empty());
  for (std::string bad : {"", "{", "a {", "a { b = ", "a { b = \"x", "a { b = <1", "/dts-v1/; / { a; "}) {
    std::string e;
    compile_dts_example(bad, e);  // never crashes; errors are reported
  }
}

TEST(Schemas, SchemaTypesDriveDecoding) {
  const auto& set = SchemaSet::builtin();
  const SchemaDoc* d = set.for_abi("kho-v4");
  ASSERT_NE(d, nullptr);
  fdt::Node child;
  child.name = "memblock";
  child.path = "/memblock";
  EXPECT_EQ(set.prop_type(*d, child, "blob-size"), fdt::PropType::u64);
  EXPECT_EQ(set.prop_type(*d, child, "preserved-data"), fdt::PropType::phys_addr);
  EXPECT_FALSE(set.prop_type(*d, child, "nonsense"));
  const SchemaDoc* mb = set.for_abi("memblock-v1");
  fdt::Node region;
  region.path = "/trace";
  EXPECT_EQ(set.prop_type(*mb, region, "start"), fdt::PropType::phys_addr);  // through $ref reserve-mem-v1.yaml#
}

// dump's types: every property name the built-in node schemas declare, one type each.
// A new schema that declares a new name (or retypes one) changes what dump prints:
// extend this list on purpose.
TEST(Schemas, PropertyTypesByNameComeFromTheBuiltinSchemas) {
  using T = fdt::PropType;
  const std::vector<std::pair<std::string, T>> want = {
      {"compatible", T::string_list},     {"preserved-memory-map", T::phys_addr},
      {"preserved-order-table", T::phys_addr}, {"fdt", T::phys_addr},
      {"preserved-data", T::phys_addr},   {"blob-size", T::u64},
      {"start", T::phys_addr},            {"size", T::u64},
      {"magic", T::u32},                  {"nr_folios", T::u32},
      {"csum", T::u32},                   {"folios_info", T::u64_array},
      {"liveupdate-number", T::u64},      {"luo-session-header", T::phys_addr},
      {"luo-flb-header", T::phys_addr},   {"luo-abi-header", T::phys_addr},
      {"mem", T::u64_array},              {"events", T::u32_array},
      {"trace-flags", T::u32},            {"cpu", T::u32}};
  const auto& set = SchemaSet::builtin();
  for (const auto& [name, type] : want) EXPECT_EQ(set.prop_type_by_name(name), type) << name;
  // Every declared name is in the list.
  std::size_t declared = 0;
  for (const auto& d : set.docs()) {
    if (!d.parsed || !d.root["properties"]) continue;
    std::function<void(const YAML::Node&)> walk = [&](const YAML::Node& s) {
      if (!s.IsMap()) return;
      if (s["properties"] && s["properties"].IsMap())
        for (const auto& kv : s["properties"]) {
          if (is_node_schema(kv.second)) {
            walk(kv.second);
            continue;
          }
          ++declared;
          const std::string name = kv.first.as<std::string>();
          EXPECT_TRUE(std::any_of(want.begin(), want.end(), [&](const auto& w) { return w.first == name; }))
              << d.path << ": " << name;
        }
      if (s["patternProperties"] && s["patternProperties"].IsMap())
        for (const auto& kv : s["patternProperties"]) walk(kv.second);
    };
    walk(d.root);
  }
  EXPECT_GT(declared, want.size());
  EXPECT_FALSE(set.prop_type_by_name("nonsense"));
  EXPECT_FALSE(set.prop_type_by_name("preserved-memory-ma"));
}

// A name two schemas declare with different types has none (the decode guesses it).
TEST(Schemas, PropertyTypesByNameDropConflicts) {
  auto schema = [](const char* id, const char* x_type) {
    return SchemaSource{std::string(id) + ".yaml",
                        std::string("$id: ") + id + "\nproperties:\n  x:\n    $ref: /schemas/types.yaml#/definitions/" +
                            x_type + "\n  child:\n    type: object\n    properties:\n      y:\n        $ref: "
                            "/schemas/types.yaml#/definitions/u32\n"};
  };
  Report r;
  auto same = SchemaSet::load({schema("a", "u64"), schema("b", "u64")}, r);
  EXPECT_EQ(same.prop_type_by_name("x"), fdt::PropType::u64);
  auto differ = SchemaSet::load({schema("a", "u64"), schema("b", "u32")}, r);
  EXPECT_FALSE(differ.prop_type_by_name("x"));
  EXPECT_EQ(differ.prop_type_by_name("y"), fdt::PropType::u32);  // inside a child node schema
  EXPECT_TRUE(r.empty());
}

// dump's decode: the schemas' types by name and KHO's hints.
TEST(Schemas, KhoDecodeOptionsTypeAndHint) {
  fdt::Builder b;
  b.begin_node("").prop_string("compatible", "kho-v2").prop_u64("preserved-memory-map", 0x1000);
  b.begin_node("memblock").prop_u32("preserved-data", 1).end_node().end_node();
  Report r;
  fdt::InspectOptions io;
  io.decode = kho_decode_options(fdt::Endian::little);
  auto insp = fdt::inspect(b.finish(), io, r);
  ASSERT_TRUE(insp.blob.ok());
  EXPECT_TRUE(insp.tree.root.prop("preserved-memory-map")->type_known);
  EXPECT_EQ(insp.tree.root.prop("preserved-memory-map")->type, fdt::PropType::phys_addr);
  ASSERT_EQ(r.diagnostics().size(), 1u);
  EXPECT_EQ(r.diagnostics()[0].rule, "kho_prop_len_phys_addr");
  EXPECT_EQ(r.diagnostics()[0].hints.at(0), kho_decode_hints().value_length);
}

TEST(Schemas, BadLintInputsFireTheirExpectedRule) {
  for (const auto& e : fs::directory_iterator(fs::path(KHOSPEC_SOURCE_DIR) / "schemas/tests/bad")) {
    const std::string rel = "schemas/tests/bad/" + e.path().filename().string();
    const std::string text = read_text_file(e.path());
    std::string expect;
    auto p = text.find("# EXPECT: ");
    ASSERT_NE(p, std::string::npos) << rel;
    expect = text.substr(p + 10, text.find('\n', p) - p - 10);
    // Linted with the built-in schemas (for $refs and duplicate $ids).
    std::vector<SchemaSource> src = {{rel, text}};
    for (const auto& b : SchemaSet::builtin_sources()) src.push_back(b);
    Report r;
    auto set = SchemaSet::load(src, r);
    set.lint(r);
    std::set<std::string> mine;
    for (const auto& d : r.diagnostics()) {
      if (d.file.rfind(rel, 0) == 0) mine.insert(d.rule);
    }
    EXPECT_EQ(mine, (std::set<std::string>{expect})) << rel;
  }
}

}  // namespace
}  // namespace khospec::conformance

// ----------------------------------------------------------- compiled schemas
// validate_tree()/prop_type() walk tables compiled from the YAML; these tests keep
// them equal to the yaml-cpp walk they replace (and the lazy built-in index equal
// to a full parse).
namespace khospec::conformance {
namespace {

// Found by fuzz/schema (conformance/schema/testdata/fuzz/): lint, the yaml-cpp
// walk and layout() subscripted a scalar `properties:` (properties.compatible,
// a child node schema, a property's $ref) or read a map of `fields:` as a
// list, and yaml-cpp threw out of lint(), prop_type(), validate_tree() and
// layout(). Now such a schema is findings, never a throw.
TEST(Schemas, AScalarPropertiesIsAFindingNotAThrow) {
  Report r;
  auto set = SchemaSet::load({{"schemas/kho/x.yaml", "$id: x\n$schema: y\ntitle: t\nselect: kho-v1\nproperties: 5\n"}}, r);
  ASSERT_NO_THROW(set.lint(r));
  fdt::Node root;
  root.path = "/";
  EXPECT_NO_THROW(EXPECT_FALSE(set.prop_type(set.doc(0), root, "compatible")));
  for (const auto& e : fs::directory_iterator(fs::path(KHOSPEC_SOURCE_DIR) / "conformance/schema/testdata/fuzz")) {
    Report fr;
    auto fs_set = SchemaSet::load({{e.path().filename().string(), read_text_file(e.path())}}, fr);
    EXPECT_NO_THROW(fs_set.lint(fr)) << e.path();
    for (std::size_t i = 0; i < fs_set.doc_count(); ++i) {
      fdt::Tree tree;
      tree.root.path = "/";
      EXPECT_NO_THROW(fs_set.validate_tree(tree, fs_set.doc(i), "t.dtb", fr)) << e.path();
      EXPECT_NO_THROW((void)fs_set.prop_type(fs_set.doc(i), tree.root, "preserved-memory-map")) << e.path();
      const YAML::Node& doc = fs_set.doc(i).root;
      if (doc.IsMap() && doc["layout"] && doc["layout"].IsMap() && doc["layout"]["name"] &&
          doc["layout"]["name"].IsScalar()) {
        EXPECT_NO_THROW((void)fs_set.layout(doc["layout"]["name"].Scalar())) << e.path();
      }
    }
  }
}

// The memory bound (docs/fuzz.md): a schema over 256 KiB, or past 1 MiB in
// all, is a schema_yaml_error and is not parsed.
TEST(Schemas, OversizedSchemasAreRefusedUnparsed) {
  const std::string big = "$id: x\n#" + std::string(SchemaSet::kMaxSchemaFile, 'x') + "\n";
  Report r;
  auto set = SchemaSet::load({{"big.yaml", big}}, r);
  ASSERT_EQ(r.diagnostics().size(), 1u);
  EXPECT_EQ(r.diagnostics()[0].rule, "schema_yaml_error");
  EXPECT_EQ(r.diagnostics()[0].message, "a schema file is at most 256 KiB; this one has " + std::to_string(big.size()) + " bytes");
  EXPECT_FALSE(set.doc_header(0).parsed);
  const std::string part = "$id: y\n#" + std::string(SchemaSet::kMaxSchemaFile - 16, 'y') + "\n";
  Report r2;
  auto five = SchemaSet::load({{"a", part}, {"b", part}, {"c", part}, {"d", part}, {"e", part}}, r2);
  ASSERT_EQ(r2.diagnostics().size(), 1u);
  EXPECT_EQ(r2.diagnostics()[0].file, "e");
  EXPECT_TRUE(five.doc_header(3).parsed);
}

TEST(CompiledSchemas, EveryBuiltinNodeSchemaIsCompiled) {
  const auto& set = SchemaSet::builtin();
  for (const auto& d : set.docs()) {
    if (!d.parsed || d.root["layout"] || d.root["definitions"] || d.root["schema-keywords"]) continue;
    EXPECT_TRUE(schema_is_compiled(set, d)) << d.path;
  }
}

TEST(CompiledSchemas, PatternMatcherEqualsRegexSearch) {
  const std::vector<std::string> patterns = {
      "^[A-Za-z0-9,._+-]+$", "^cpu[0-9]+$", "cpu", "^a*b?c$", "[0-9]+", "x-y", "$^", "^$", "", "^[a-c]*$",
      "^mem[0-9]*@[0-9a-f]+$", "[A-Z]", "^a+a+b$", "^(a|b)$", ".*", "^[^a]$", "a{2}", "^[-a]$", "^[a-]$"};
  const std::string alphabet = "abcxyAZ09,._+-@#/ \n\x80\xff" "cpu";
  const unsigned seed = testutil::test_seed("PatternMatcherEqualsRegexSearch");
  std::mt19937 rng(seed);
  for (const auto& p : patterns) {
    std::regex re;
    bool ok = true;
    try {
      re = std::regex(p);
    } catch (const std::regex_error&) {
      ok = false;
    }
    for (int i = 0; i < 3000; ++i) {
      std::string name;
      const int len = static_cast<int>(rng() % 9);
      for (int k = 0; k < len; ++k) name.push_back(alphabet[rng() % alphabet.size()]);
      if (i % 3 == 0 && p.size() > 2) name = p.substr(1, p.size() - 2) + name;  // near-literal names
      const bool want = ok && std::regex_search(name, re);
      ASSERT_EQ(schema_pattern_matches(name, p), want) << "seed " << seed << ": pattern '" << p << "' name '" << name << "'";
    }
  }
}

// The regex cache keeps at most kMaxCachedRegexes patterns: a long-lived process fed
// ever new schemas (the compat fuzz target, a Python session) stops growing there,
// and patterns past the bound still compile and match.
TEST(CompiledSchemas, RegexCacheIsBounded) {
  std::string last;
  for (std::size_t i = 0; i < schema_detail::kMaxCachedRegexes + 8; ++i) {
    last = "^(bounded-cache-" + std::to_string(i) + ")$";
    const auto r = schema_detail::cached_regex(last);
    ASSERT_TRUE(r);
    EXPECT_TRUE(std::regex_search("bounded-cache-" + std::to_string(i), *r));
  }
  // Full: the same pattern twice is compiled twice, not kept.
  EXPECT_NE(schema_detail::cached_regex(last).get(), schema_detail::cached_regex(last).get());
  EXPECT_TRUE(schema_pattern_matches("bounded-cache-0", "^(bounded-cache-0)$"));
  EXPECT_FALSE(schema_detail::cached_regex("(unclosed"));
}

// A 34 KB pattern overflowed the stack in libstdc++'s recursive regex compiler
// (the compat long run). Patterns past kMaxPatternLength are refused unparsed,
// and the longest accepted ones, an alternation and a nesting, still compile.
TEST(CompiledSchemas, OverlongPatternsAreRefusedNotCompiled) {
  std::string why;
  EXPECT_FALSE(compile_pattern(std::string(40000, 'a') + "|b", &why));
  EXPECT_NE(why.find("40002 characters, more than the 1024"), std::string::npos) << why;
  EXPECT_FALSE(compile_pattern("(unclosed", &why));
  EXPECT_FALSE(why.empty());
  std::string alt;
  while (alt.size() + 2 <= kMaxPatternLength) alt += "a|";
  alt.pop_back();
  ASSERT_LE(alt.size(), kMaxPatternLength);
  EXPECT_TRUE(compile_pattern(alt));
  const std::size_t depth = kMaxPatternLength / 2 - 1;
  const std::string nested = std::string(depth, '(') + "x" + std::string(depth, ')');
  ASSERT_LE(nested.size(), kMaxPatternLength);
  const auto r = compile_pattern(nested);
  ASSERT_TRUE(r);
  EXPECT_TRUE(std::regex_search(std::string("x"), *r));
  // Lint refuses it as schema_bad_pattern: schemas/tests/bad/overlong-regex-fail.yaml.
  // Repetition counts: a 20-digit one (or back-reference number) overflowed
  // libstdc++'s long (UBSan), and counts that multiply past kMaxPatternRepetition
  // are refused; braces that are escaped or in a class are literals.
  EXPECT_FALSE(compile_pattern("a{88888888888888888888}", &why));
  EXPECT_NE(why.find("repetition counts multiply to more than 1024"), std::string::npos) << why;
  EXPECT_FALSE(compile_pattern("(a{100}){100}"));
  EXPECT_FALSE(compile_pattern("a{1,2000}"));
  EXPECT_TRUE(compile_pattern("^[a-z]{2,8}@[0-9]{1,16}$"));
  EXPECT_TRUE(compile_pattern("a{1024}"));
  EXPECT_TRUE(compile_pattern("x\\{99999}"));
  EXPECT_TRUE(compile_pattern("[{]99999}"));
  EXPECT_FALSE(compile_pattern("[]a{88888888888888888888}"));  // ECMAScript: "[]" closes at once
  EXPECT_FALSE(compile_pattern("(a)\\88888888888888888888", &why));  // a back-reference number, same overflow
  EXPECT_NE(why.find("back-reference number of more than 4 digits"), std::string::npos) << why;
  // Matching is polynomial (libstdc++'s breadth-first executor): a pattern that
  // backtracks exponentially in the default one answers at once, and back-references,
  // which that executor cannot run, are refused.
  const auto slow = compile_pattern("^(a|a?)+$");
  ASSERT_TRUE(slow);
  EXPECT_FALSE(std::regex_search(std::string(64, 'a') + "b", *slow));
  EXPECT_FALSE(compile_pattern("(a)\\1"));
}

}  // namespace
}  // namespace khospec::conformance

// ------------------------------------------------------------- the schema pack
// builtin() serves headers, compiled graphs and the types by name from the pack the
// build wrote (schema_pack.hpp); these keep it equal to compiling the YAML.
#include "conformance/schema/schema_pack.hpp"

namespace khospec::conformance {
namespace {

TEST(SchemaPack, EveryBuiltinGraphEqualsTheYamlCompile) {
  const SchemaSet& packed = SchemaSet::builtin();
  ASSERT_TRUE(SchemaPackAccess::uses_pack(packed)) << "the built-in set did not read its pack";
  Report r;
  const SchemaSet yaml = SchemaSet::load(SchemaSet::builtin_sources(), r);
  ASSERT_TRUE(r.diagnostics().empty());
  ASSERT_EQ(packed.doc_count(), yaml.doc_count());
  const std::size_t loads = builtin_schema_yaml_loads();
  std::size_t graphs = 0;
  for (std::size_t i = 0; i < yaml.doc_count(); ++i) {
    const SchemaDoc &p = packed.doc_header(i), &y = yaml.doc_header(i);
    EXPECT_EQ(p.path, y.path);
    EXPECT_EQ(p.id, y.id) << y.path;
    EXPECT_EQ(p.parsed, y.parsed) << y.path;
    // Read straight from the pack: compiled() would fall back to the YAML if it did not read.
    const auto at = SchemaPackAccess::graph_offset(packed, i);
    SchemaSet::Cache::Graph g;
    if (at) {
      ASSERT_TRUE(SchemaPackAccess::read_graph(builtin_schema_pack(), *at, packed, g)) << y.path;
      ++graphs;
    }
    std::string why;
    EXPECT_TRUE(SchemaPackAccess::same_graph(SchemaPackAccess::compiled(yaml, y), g.root, y.path, why)) << why;
    EXPECT_TRUE(SchemaPackAccess::same_graph(SchemaPackAccess::compiled(packed, p), g.root, y.path, why)) << why;
    const std::string sel = y.parsed ? yaml_str(y.root["select"]) : std::string();
    if (!sel.empty()) {
      ASSERT_NE(packed.for_abi(sel), nullptr) << sel;
      EXPECT_EQ(packed.for_abi(sel)->path, yaml.for_abi(sel)->path) << sel;
    }
    if (y.parsed && y.root["layout"]) {
      const std::string name = yaml_str(y.root["layout"]["name"]);
      ASSERT_NE(packed.layout_doc(name), nullptr) << name;
      EXPECT_EQ(packed.layout_doc(name)->path, yaml.layout_doc(name)->path) << name;
    }
  }
  EXPECT_GE(graphs, 15u);
  std::string why;
  EXPECT_TRUE(SchemaPackAccess::same_names(packed, yaml, why)) << why;
  // Only layout_doc() parsed anything (one layout file each).
  std::size_t layouts = 0;
  for (const auto& d : yaml.docs()) layouts += d.root["layout"] ? 1 : 0;
  EXPECT_LE(builtin_schema_yaml_loads() - loads, layouts);
}

// A pack the reader cannot read is rejected, never read out of bounds (the asan preset
// runs this): every truncation and single-byte change of the real pack.
TEST(SchemaPack, DamagedPacksAreRejectedNotOverread) {
  const auto pack = builtin_schema_pack();
  ASSERT_FALSE(pack.empty());
  auto try_pack = [](std::span<const std::uint8_t> p) {
    SchemaSet s;
    if (!SchemaPackAccess::index(s, p)) return;
    for (std::size_t i = 0; i < s.doc_count(); ++i) {
      if (auto at = SchemaPackAccess::graph_offset(s, i)) {
        SchemaSet::Cache::Graph g;
        SchemaPackAccess::read_graph(p, *at, s, g);
      }
    }
    std::vector<std::pair<std::string, std::optional<fdt::PropType>>> names;
    SchemaPackAccess::read_names(p, SchemaPackAccess::names_offset(s), names);
  };
  for (std::size_t n = 0; n < pack.size(); n += 7) {
    std::vector<std::uint8_t> cut(pack.begin(), pack.begin() + static_cast<std::ptrdiff_t>(n));
    try_pack(cut);
  }
  std::mt19937 rng(17);
  std::vector<std::uint8_t> copy(pack.begin(), pack.end());
  for (int k = 0; k < 3000; ++k) {
    const std::size_t at = rng() % copy.size();
    const std::uint8_t old = copy[at];
    copy[at] = static_cast<std::uint8_t>(rng());
    try_pack(copy);
    copy[at] = old;
  }
  SchemaSet s;
  EXPECT_FALSE(SchemaPackAccess::index(s, std::span<const std::uint8_t>()));
  const std::uint8_t bad_magic[] = {'K', 'H', 'O', 'S', 'P', 'A', 'K', '0', 0};
  EXPECT_FALSE(SchemaPackAccess::index(s, bad_magic));
}

}  // namespace
}  // namespace khospec::conformance

