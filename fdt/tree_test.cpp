#include "fdt/tree.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "fdt/builder.hpp"
#include "fdt/render.hpp"
#include "fdt/test_util.hpp"

namespace khospec::fdt {
namespace {

struct Decoded {
  Blob blob;
  Tree tree;
  Report report;
};

// The types a caller declares for these tests' blobs (for KHO blobs the caller
// takes them from the schemas, conformance/schema).
std::optional<PropType> test_types(const Node& n, std::string_view p) {
  if (p == "preserved-memory-map" || p == "fdt" || p == "preserved-data") return PropType::phys_addr;
  if (p == "blob-size") return PropType::u64;
  return standard_prop_type(n, p);
}

Decoded decode_bytes(const std::vector<std::uint8_t>& bytes, Endian e = Endian::little,
                     const DecodeHints* hints = nullptr) {
  Decoded d;
  ReadOptions ro;
  ro.file = "t.dtb";
  d.blob = Blob::open(bytes, ro, d.report);
  DecodeOptions o;
  o.endian = e;
  o.resolver = test_types;
  o.hints = hints;
  d.tree = decode_tree(d.blob, o, d.report);
  return d;
}

TEST(Tree, DecodesDocsExampleNatively) {
  auto d = decode_bytes(test::docs_root());
  ASSERT_TRUE(d.report.empty());
  const Property* pmm = d.tree.root.prop("preserved-memory-map");
  ASSERT_NE(pmm, nullptr);
  EXPECT_TRUE(pmm->type_known);
  EXPECT_EQ(pmm->type, PropType::phys_addr);
  EXPECT_EQ(pmm->value->number, 0x116be4000u);
  const Node* mb = d.tree.root.child("memblock");
  ASSERT_NE(mb, nullptr);
  EXPECT_EQ(mb->path, "/memblock");
  EXPECT_EQ(mb->prop("fdt")->value->number, 0x117150000u);
  EXPECT_EQ(d.tree.root.prop("compatible")->value->strings, std::vector<std::string>{"kho-v1"});
}

TEST(Tree, BigEndianDecodeOfBigEndianProducer) {
  auto d = decode_bytes(test::docs_root(Endian::big), Endian::big);
  EXPECT_EQ(d.tree.root.prop("preserved-memory-map")->value->number, 0x116be4000u);
}

TEST(Tree, WrongLengthFiresTypedRuleWithLocation) {
  Builder b;
  b.begin_node("").prop_string("compatible", "kho-v3").begin_node("LUO");
  b.prop_u32("blob-size", 32).prop_u64("preserved-data", 0x104004000).end_node().end_node();
  auto d = decode_bytes(b.finish());
  ASSERT_EQ(d.report.diagnostics().size(), 1u);
  const Diagnostic& x = d.report.diagnostics()[0];
  EXPECT_EQ(x.rule, "kho_prop_len_u64");
  EXPECT_EQ(x.node, "/LUO");
  EXPECT_EQ(x.property, "blob-size");
  EXPECT_EQ(x.message, "length 4, expected 8 (u64, native-endian)");
  ASSERT_TRUE(x.offset);
  EXPECT_EQ(*x.offset, d.tree.root.child("LUO")->prop("blob-size")->offset);
}

// The hints of findings about declared types come with the types; without any, libfdt's terms.
TEST(Tree, HintsComeFromTheCaller) {
  Builder b;
  b.begin_node("").prop_u32("blob-size", 32).begin_node("a").end_node().begin_node("a").end_node().end_node();
  const auto bytes = b.finish();
  const DecodeHints mine{"length hint", "depth hint", "duplicate hint"};
  auto hints_of = [](const Decoded& d, std::string_view rule) {
    for (const auto& x : d.report.diagnostics())
      if (x.rule == rule && !x.hints.empty()) return x.hints.front();
    return std::string("(none)");
  };
  const auto given = decode_bytes(bytes, Endian::little, &mine);
  EXPECT_EQ(hints_of(given, "kho_prop_len_u64"), "length hint");
  EXPECT_EQ(hints_of(given, "fdt_duplicate_node_name"), "duplicate hint");
  const auto generic = decode_bytes(bytes);
  EXPECT_EQ(hints_of(generic, "kho_prop_len_u64"), generic_decode_hints().value_length);
  EXPECT_EQ(hints_of(generic, "fdt_duplicate_node_name"), generic_decode_hints().duplicate_node);
  Builder deep;
  for (int i = 0; i < 70; ++i) deep.begin_node(i == 0 ? "" : "n");
  for (int i = 0; i < 70; ++i) deep.end_node();
  EXPECT_EQ(hints_of(decode_bytes(deep.finish(), Endian::little, &mine), "fdt_too_deep"), "depth hint");
}

// Without a resolver from the caller only the devicetree spec's own types are known.
TEST(Tree, DefaultTypesAreTheSpecsOnly) {
  Report r;
  const Blob blob = Blob::open(test::docs_root(), ReadOptions{}, r);
  const Tree t = decode_tree(blob, DecodeOptions{}, r);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(t.root.prop("compatible")->type_known);
  EXPECT_EQ(t.root.prop("compatible")->type, PropType::string_list);
  const Property* pmm = t.root.prop("preserved-memory-map");
  EXPECT_FALSE(pmm->type_known);
  EXPECT_EQ(pmm->type, PropType::u64);  // guessed by its length
}

TEST(Tree, UnknownPropertiesAreGuessedNotFlagged) {
  Builder b;
  b.begin_node("").prop_u32("vendor,x", 1).prop_string("label", "hi").prop_bytes("blob", std::vector<std::uint8_t>{1, 2, 3});
  b.end_node();
  auto d = decode_bytes(b.finish());
  EXPECT_TRUE(d.report.empty());
  EXPECT_EQ(d.tree.root.prop("vendor,x")->type, PropType::u32);
  EXPECT_FALSE(d.tree.root.prop("vendor,x")->type_known);
  EXPECT_EQ(d.tree.root.prop("label")->type, PropType::string_list);
  EXPECT_EQ(d.tree.root.prop("blob")->type, PropType::bytes);
}

TEST(Tree, DuplicatesAreFindings) {
  Builder b;
  b.begin_node("").prop_u32("magic", 1).prop_u32("magic", 2);
  b.begin_node("a").end_node().begin_node("a").end_node().end_node();
  auto d = decode_bytes(b.finish());
  EXPECT_TRUE(d.report.has("fdt_duplicate_property_name"));
  EXPECT_TRUE(d.report.has("fdt_duplicate_node_name"));
}

TEST(Tree, DepthCapInsteadOfStackExhaustion) {
  Builder b;
  for (int i = 0; i < 200; ++i) b.begin_node(i == 0 ? "" : "n");
  for (int i = 0; i < 200; ++i) b.end_node();
  auto d = decode_bytes(b.finish());
  ASSERT_TRUE(d.report.has("fdt_too_deep"));
  EXPECT_EQ(d.report.diagnostics().size(), 1u);
}

TEST(FlatTree, ReadsInPlaceAndSurvivesMovingTheBlob) {
  Report r;
  Blob blob = Blob::open(test::docs_root(), ReadOptions{}, r);
  ASSERT_TRUE(blob.ok());
  FlatTree t = read_flat(blob);
  type_flat(t, blob, Endian::little, [](const FlatTree&, int, std::string_view p) { return test_types(Node{}, p); }, r);
  EXPECT_TRUE(r.empty());
  Blob moved = std::move(blob);  // the storage (and every view into it) stays put
  ASSERT_EQ(t.nodes.size(), 2u);
  EXPECT_EQ(t.path(0), "/");
  EXPECT_EQ(t.path(1), "/memblock");
  EXPECT_EQ(t.nodes[1].name, "memblock");
  EXPECT_EQ(t.child(t.nodes[0], "memblock"), 1);
  const FlatProp* pmm = t.prop(t.nodes[0], "preserved-memory-map");
  ASSERT_NE(pmm, nullptr);
  EXPECT_TRUE(pmm->value_ok);
  EXPECT_EQ(pmm->number, 0x116be4000u);
  EXPECT_EQ(flat_strings(*t.prop(t.nodes[0], "compatible")), std::vector<std::string_view>{"kho-v1"});
  const Tree tree = to_tree(t);
  EXPECT_EQ(tree.root.child("memblock")->prop("fdt")->value->number, 0x117150000u);
}

// Past 16 names the duplicate checks switch from a scan to a set: same findings.
TEST(FlatTree, ManyNamesKeepDuplicateFindings) {
  Builder b;
  b.begin_node("");
  for (int i = 0; i < 40; ++i) b.prop_u32("p" + std::to_string(i), 1);
  b.prop_u32("p3", 2).prop_u32("p30", 2);
  for (int i = 0; i < 20; ++i) b.begin_node("c" + std::to_string(i)).end_node();
  b.begin_node("c2").end_node().begin_node("c19").end_node().end_node();
  auto d = decode_bytes(b.finish());
  std::vector<std::string> got;
  for (const auto& x : d.report.diagnostics()) got.push_back(x.rule + " " + x.node + " " + x.property + " " + x.message);
  EXPECT_EQ(got, (std::vector<std::string>{
                     "fdt_duplicate_property_name / p3 property appears more than once in this node",
                     "fdt_duplicate_property_name / p30 property appears more than once in this node",
                     "fdt_duplicate_node_name /  child node 'c2' appears more than once",
                     "fdt_duplicate_node_name /  child node 'c19' appears more than once"}));
  EXPECT_EQ(d.tree.root.props.size(), 42u);
  EXPECT_EQ(d.tree.root.children.size(), 22u);
  EXPECT_EQ(d.tree.root.children.back().path, "/c19");
}

TEST(FlatTree, DepthCapNamesTheLimitAndTheParent) {
  Builder b;
  for (int i = 0; i < 70; ++i) b.begin_node(i == 0 ? "" : "n");
  for (int i = 0; i < 70; ++i) b.end_node();
  auto d = decode_bytes(b.finish());
  ASSERT_EQ(d.report.diagnostics().size(), 1u);
  const Diagnostic& x = d.report.diagnostics()[0];
  EXPECT_EQ(x.rule, "fdt_too_deep");
  EXPECT_EQ(x.message, "nodes nest deeper than 64 levels; deeper nodes are not decoded");
  std::string path;
  for (int i = 0; i < 64; ++i) path += "/n";
  EXPECT_EQ(x.node, path);
}

// Blob::open(..., &flat) builds during its own walk exactly what read_flat() reads
// by walking the blob again.
TEST(FlatTree, OpenBuildsWhatReadFlatReads) {
  Builder b;
  b.begin_node("").prop_string("compatible", "kho-v1").prop_u64("preserved-memory-map", 0x1000);
  b.begin_node("a").prop_u32("x", 1).begin_node("b").prop_u32("y", 2).end_node().end_node();
  b.begin_node("a").end_node().prop_u32("late", 3).end_node();  // duplicate node, property after a subnode
  const auto bytes = b.finish();
  Report r1, r2;
  FlatTree built;
  Blob blob = Blob::open(bytes, ReadOptions{}, r1, &built);
  ASSERT_TRUE(blob.ok());
  const Blob second = Blob::open(bytes, ReadOptions{}, r2);  // its own storage, alive as long as `read`
  const FlatTree read = read_flat(second);
  ASSERT_EQ(built.nodes.size(), read.nodes.size());
  ASSERT_EQ(built.props.size(), read.props.size());
  for (std::size_t i = 0; i < built.nodes.size(); ++i) {
    EXPECT_EQ(built.nodes[i].name, read.nodes[i].name);
    EXPECT_EQ(built.nodes[i].offset, read.nodes[i].offset);
    EXPECT_EQ(built.nodes[i].parent, read.nodes[i].parent);
    EXPECT_EQ(built.nodes[i].prop_count, read.nodes[i].prop_count);
    EXPECT_EQ(built.nodes[i].duplicate, read.nodes[i].duplicate);
    EXPECT_EQ(built.path(built.nodes[i]), read.path(read.nodes[i]));
  }
  for (std::size_t i = 0; i < built.props.size(); ++i) {
    EXPECT_EQ(built.props[i].name, read.props[i].name);
    EXPECT_EQ(built.props[i].offset, read.props[i].offset);
    EXPECT_TRUE(std::equal(built.props[i].raw.begin(), built.props[i].raw.end(), read.props[i].raw.begin(),
                           read.props[i].raw.end()));
  }
  EXPECT_EQ(built.path(2), "/a/b");
  EXPECT_TRUE(built.nodes[3].duplicate);
  EXPECT_EQ(built.props.size(), 4u);  // 'late' follows a subnode: fdt_getprop() never sees it
  // A blob open() rejects leaves the decode empty.
  FlatTree none;
  none.nodes.resize(3);
  Report r3;
  auto cut = bytes;
  cut.resize(cut.size() / 2);
  EXPECT_FALSE(Blob::open(cut, ReadOptions{}, r3, &none).ok());
  EXPECT_TRUE(none.nodes.empty());
}

// Paths are built from the parents on demand: the root is "/", an empty or
// '/'-containing name is kept as it is (as the owning tree's paths were).
TEST(FlatTree, PathsComeFromTheParents) {
  Builder b;
  b.begin_node("").begin_node("").begin_node("x/y").end_node().end_node().end_node();
  Report r;
  FlatTree t;
  Blob blob = Blob::open(b.finish(), ReadOptions{}, r, &t);
  ASSERT_TRUE(blob.ok());
  ASSERT_EQ(t.nodes.size(), 3u);
  EXPECT_EQ(t.path(0), "/");
  EXPECT_EQ(t.path(1), "/");
  EXPECT_EQ(t.path(2), "//x/y");
  EXPECT_EQ(to_tree(t).root.children[0].children[0].path, "//x/y");
}

TEST(FlatTree, SameNameIsStringEquality) {
  const std::string a = "preserved-memory-map-and-more", c = "preserved-memory-map-and-morf";
  for (std::size_t n = 0; n <= a.size(); ++n) {
    EXPECT_TRUE(same_name(std::string_view(a).substr(0, n), std::string_view(c).substr(0, n)) == (n < a.size()))
        << n;
    EXPECT_FALSE(same_name(std::string_view(a).substr(0, n), std::string_view(a).substr(0, n == 0 ? 1 : n - 1)));
    for (std::size_t k = 0; k < n; ++k) {  // one differing byte anywhere
      std::string x(a.substr(0, n)), y(x);
      y[k] = static_cast<char>(y[k] ^ 0x20);
      EXPECT_FALSE(same_name(x, y)) << n << " " << k;
    }
  }
}

TEST(Render, TextShowsDecodedValues) {
  auto d = decode_bytes(test::docs_root());
  std::ostringstream o;
  render_tree_text(o, d.tree);
  EXPECT_EQ(o.str(),
            "/ {\n"
            "    compatible = \"kho-v1\" (string-list)\n"
            "    preserved-memory-map = 0x116be4000 (u64)\n"
            "    memblock {\n"
            "        fdt = 0x117150000 (u64)\n"
            "    }\n"
            "}\n");
}

}  // namespace
}  // namespace khospec::fdt
