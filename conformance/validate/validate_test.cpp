#include "conformance/validate/validate.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <unistd.h>

#include "conformance/corpus/corpus_source.hpp"
#include "core/file.hpp"
#include "core/test_seed.hpp"
#include "core/rules.hpp"
#include "fdt/inspect.hpp"
#include "fdt/test_util.hpp"

extern "C" {
#include <libfdt.h>
}

namespace khospec::conformance {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> corpus_files(const char* kind) {
  const auto v = corpus_sources((fs::path(KHOSPEC_SOURCE_DIR) / "conformance/corpus").string(), std::string(kind) == "good");
  return {v.begin(), v.end()};
}

// --as takes an era or a release, and the reader it names comes from the
// registry: 6.17 still writes 512-byte bitmaps (era v6.16), 7.3 reads kho-v4
// and, like every reader from 6.19 on, refuses an empty memory map.
TEST(ReaderProfile, ErasAndReleasesResolveThroughTheRegistry) {
  auto p617 = reader_profile("6.17");
  ASSERT_TRUE(p617);
  EXPECT_EQ(p617->compatible, "kho-v1");
  EXPECT_EQ(p617->v1_bitmap, BitmapSize::b512);
  EXPECT_FALSE(p617->requires_map);
  EXPECT_EQ(p617->era, "v6.16 (release 6.17)");
  auto p73 = reader_profile("7.3.4");
  ASSERT_TRUE(p73);
  EXPECT_EQ(p73->compatible, "kho-v4");
  EXPECT_TRUE(p73->requires_map);
  auto p618 = reader_profile("v6.18");
  ASSERT_TRUE(p618);
  EXPECT_EQ(p618->era, "v6.18");
  EXPECT_EQ(p618->v1_bitmap, BitmapSize::page);
  EXPECT_FALSE(reader_profile("v5.10"));
  EXPECT_FALSE(reader_profile("stateless"));
}

TEST(Scratch, ValuesFilesAndDirectories) {
  std::vector<ScratchArea> s;
  std::string err;
  ASSERT_TRUE(parse_scratch("0x76400000+0x6c00000,0x7f400000+0,0x62000000+324M", s, err)) << err;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[2].size, 324u << 20);
  s.clear();
  ASSERT_TRUE(parse_scratch_files("0x1000\n0x2000\n", "0x10\n0x20\n", s, err));
  EXPECT_EQ(s[1].addr, 0x2000u);
  s.clear();
  EXPECT_FALSE(parse_scratch_files("0x1000\n", "0x10\n0x20\n", s, err));
  EXPECT_FALSE(parse_scratch("0x1000+junk", s, err));
  EXPECT_FALSE(parse_scratch("/nonexistent/dir", s, err));
  const fs::path stage = fs::path(KHOSPEC_SOURCE_DIR) / "../shared/dumps/kho-v1-linux-6.16/kho-only-2stage/k1";
  if (fs::exists(stage)) {
    s.clear();
    ASSERT_TRUE(parse_scratch(stage.string(), s, err)) << err;
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[1].size, 0u);  // the real zero-size global scratch area
  }
}

// A directory may hold the debugfs files (kho_out_debugfs_init(): scratch_*,
// bootmem_* from 7.4-rc1), a capture's out_*.txt (what simulate --out writes
// too) or the NAME.txt of older simulate output; each spelling is read alone.
TEST(Scratch, EverySpellingOfTheDirectory) {
  const fs::path base = fs::temp_directory_path() / ("khospec-scratch-" + std::to_string(::getpid()));
  int n = 0;
  for (const char* stem : {"scratch", "bootmem"})
    for (auto [pre, suf] : {std::pair{"", ""}, std::pair{"out_", ".txt"}, std::pair{"", ".txt"}}) {
      const fs::path d = base / std::to_string(n++);
      fs::create_directories(d);
      std::ofstream(d / (std::string(pre) + stem + "_phys" + suf)) << "0x7f400000\n0x62000000\n";
      std::ofstream(d / (std::string(pre) + stem + "_len" + suf)) << "0xc00000\n0x14400000\n";
      std::vector<ScratchArea> s;
      std::string err;
      ASSERT_TRUE(parse_scratch(d.string(), s, err)) << d << ": " << err;
      ASSERT_EQ(s.size(), 2u) << d;
      EXPECT_EQ(s[1].addr, 0x62000000u) << d;
      EXPECT_EQ(s[1].size, 0x14400000u) << d;
    }
  const fs::path half = base / "half";  // a phys file without its len file is not a pair
  fs::create_directories(half);
  std::ofstream(half / "out_scratch_phys.txt") << "0x1000\n";
  std::vector<ScratchArea> s;
  std::string err;
  EXPECT_FALSE(parse_scratch(half.string(), s, err));
  EXPECT_NE(err.find("out_scratch_phys.txt"), std::string::npos) << err;
  fs::remove_all(base);
}

TEST(Abi, DetectedFromCompatibleAndProperties) {
  auto detect = [](const std::string& yaml) {
    auto c = compile_source(yaml, "t");
    Report r;
    fdt::InspectOptions io;
    auto insp = fdt::inspect(c.blob, io, r);
    return detect_abi(insp.tree);
  };
  EXPECT_EQ(detect("root: {compatible: !string \"kho-v1\", preserved-memory-map: !u64 0x1000}"), "kho-v1");
  EXPECT_EQ(detect("root: {compatible: !string \"kho-v1\", preserved-order-table: !u64 0x1000}"), "kho-v1-rfc-order-table");
  EXPECT_EQ(detect("root: {compatible: !string \"kho-v1\", n: {mem: !u64-array [1, 2]}}"), "kho-v1-rfc-g0");
  EXPECT_EQ(detect("root: {compatible: !string \"kho-v4;radix-v1\"}"), "kho-v4-rfc-compat");
  EXPECT_EQ(detect("root: {compatible: !string-list [\"vendor,x\", \"kho-v3\"]}"), "kho-v3");  // stringlist semantics
  EXPECT_EQ(detect("root: {compatible: !string \"kho-v9\"}"), "");
  EXPECT_EQ(detect("root: {x: !u32 1}"), "");
}

// The hook a model test calls: FDT bytes + a memory image -> findings + the decoded set.
TEST(ValidateApi, DecodesThePreservedSetFromAnImage) {
  auto c = compile_source(R"(root:
  compatible: !string "kho-v4"
  preserved-memory-map: !u64 0x1f4000
memory:
  radix: {root: 0x1f4000, pool: 0x200000, blocks: [[0x1f5000, 0], [0x7ce00000, 9]]}
  place:
    - {at: 0x1f5000, fdt: self}
)", "api");
  ASSERT_TRUE(c.ok) << c.error;
  Report r;
  auto img = MemoryImage::from_bytes(c.memory, std::nullopt, "mem", r);
  ValidateOptions vo;
  Validation v = validate(c.blob, &img, vo, r);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(v.abi, "kho-v4");
  ASSERT_TRUE(v.map);
  EXPECT_EQ(v.map->blocks, (std::vector<PreservedBlock>{{0x1f5000, 0}, {0x7ce00000, 9}}));
  ASSERT_TRUE(v.fdt_phys);
  EXPECT_EQ(*v.fdt_phys, 0x1f5000u);
}

TEST(ValidateApi, EveryPrefixAndByteFlipOfAHandOverIsHandled) {
  auto c = compile_source(read_text_file(fs::path(KHOSPEC_SOURCE_DIR) / "conformance/corpus/image/good/kho-v1-with-memory.kho.yaml"),
                          "x");
  ASSERT_TRUE(c.ok);
  ValidateOptions vo;
  for (std::size_t n = 0; n <= c.blob.size(); n += 3) {
    Report r;
    auto img = MemoryImage::from_bytes(c.memory, std::nullopt, "mem", r);
    validate(std::span(c.blob).first(n), &img, vo, r);
    if (n < c.blob.size()) {
      EXPECT_FALSE(r.empty()) << n;
    }
  }
  for (std::size_t i = 0; i < c.memory.size(); i += 97) {
    auto mem = c.memory;
    mem[i] ^= 0xa5;
    Report r;
    auto img = MemoryImage::from_bytes(mem, std::nullopt, "mem", r);
    validate(c.blob, &img, vo, r);  // must not crash or hang
  }
}

// decode_tree() as it was before the single-pass walk (fdt_next_node +
// fdt_for_each_property_offset + std::set), the reference for the equivalence test.
void reference_props(const fdt::Blob& blob, int node_off, fdt::Node& node, const fdt::DecodeOptions& opts,
                     Report& report) {
  const void* fdt = blob.fdt();
  std::set<std::string> seen;
  int off = 0;
  fdt_for_each_property_offset(off, fdt, node_off) {
    const char* name = nullptr;
    int len = 0;
    const void* data = fdt_getprop_by_offset(fdt, off, &name, &len);
    if (!data || !name || len < 0) continue;
    fdt::Property p;
    p.name = name;
    p.offset = blob.abs_offset(off);
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    p.raw.assign(bytes, bytes + len);
    if (!seen.insert(p.name).second) report.add({"fdt_duplicate_property_name", Level::error, blob.file(), p.offset, node.path, p.name, "dup", {}, "decode"});
    auto declared = opts.resolver ? opts.resolver(node, p.name) : std::nullopt;
    p.type_known = declared.has_value();
    p.type = declared ? *declared : fdt::guess_type(p.raw);
    p.value = fdt::decode(p.raw, p.type, opts.endian);
    if (!p.value) report.add({fdt::len_rule(p.type), Level::error, blob.file(), p.offset, node.path, p.name, "len", {}, "kho"});
    node.props.push_back(std::move(p));
  }
}

fdt::Tree reference_decode(const fdt::Blob& blob, const fdt::DecodeOptions& opts, Report& report) {
  fdt::Tree tree;
  tree.endian = opts.endian;
  if (!blob.ok()) return tree;
  const void* fdt = blob.fdt();
  std::vector<fdt::Node*> stack;
  std::vector<std::set<std::string>> names;
  int depth = -1;
  bool too_deep_reported = false;
  for (int off = fdt_next_node(fdt, -1, &depth); off >= 0 && depth >= 0; off = fdt_next_node(fdt, off, &depth)) {
    if (depth > opts.max_depth) {
      if (!too_deep_reported) report.add({"fdt_too_deep", Level::error, blob.file(), blob.abs_offset(off), stack.empty() ? "/" : stack.back()->path, "", "deep", {}, "decode"});
      too_deep_reported = true;
      continue;
    }
    int len = 0;
    const char* nm = fdt_get_name(fdt, off, &len);
    std::string name = nm && len > 0 ? std::string(nm, static_cast<std::size_t>(len)) : std::string();
    stack.resize(static_cast<std::size_t>(depth));
    names.resize(static_cast<std::size_t>(depth));
    fdt::Node* node = nullptr;
    if (depth == 0) {
      node = &tree.root;
      node->path = "/";
    } else {
      fdt::Node* parent = stack.back();
      if (!names.back().insert(name).second) report.add({"fdt_duplicate_node_name", Level::error, blob.file(), blob.abs_offset(off), parent->path, "", "dup", {}, "decode"});
      parent->children.emplace_back();
      node = &parent->children.back();
      node->path = (parent->path == "/" ? "" : parent->path) + "/" + name;
    }
    node->name = name;
    node->offset = blob.abs_offset(off);
    reference_props(blob, off, *node, opts, report);
    stack.push_back(node);
    names.emplace_back();
  }
  return tree;
}

// Everything a decoded tree holds, one line per node / property.
void flatten(const fdt::Node& n, std::string& out) {
  out += "N " + n.path + " " + n.name + " " + std::to_string(n.offset) + "\n";
  for (const auto& p : n.props) {
    out += "P " + p.name + " " + std::to_string(p.offset) + " " + fdt::format_bytes(p.raw, 1 << 20) + " " +
           std::string(fdt::type_name(p.type)) + (p.type_known ? " known " : " guessed ") +
           (p.value ? fdt::format_value(*p.value) : std::string("-")) + "\n";
  }
  for (const auto& c : n.children) flatten(c, out);
}

std::string findings(const Report& r) {
  std::string out;
  for (const auto& d : r.diagnostics())
    out += d.rule + " " + std::to_string(d.offset.value_or(0)) + " " + d.node + " " + d.property + "\n";
  return out;
}

// Found by the flip test below (seed 2248831401): a client compatible with an
// empty last entry ("ftrace-v1\0\0") is no string list for decode_string_list(),
// so it does not make the root a G0 RFC one; the in-place reader must agree.
TEST(ValidateApi, EmptyLastCompatibleEntryIsNoStringListOnTheFastPath) {
  fdt::Builder b(4096, fdt::Endian::little);
  const std::uint8_t two_nuls[] = {'f', 't', 'r', 'a', 'c', 'e', '-', 'v', '1', 0, 0};
  b.begin_node("").prop_string("compatible", "kho-v1").begin_node("ftrace").prop_bytes("compatible", two_nuls).end_node().end_node();
  const auto blob = b.finish();
  Report r0, rv;
  auto open = fdt::Blob::open(blob, fdt::ReadOptions{}, r0);
  ASSERT_TRUE(open.ok());
  const std::string want = detect_abi(fdt::decode_tree(open, kho_decode_options(fdt::Endian::little), r0));
  EXPECT_EQ(want, "kho-v1");
  EXPECT_EQ(validate(blob, nullptr, ValidateOptions{}, rv).abi, want);
}

// The fast path's equivalence with what it replaced, on every corpus blob and
// random byte flips of each (the seed is printed): the ABI read from the blob
// equals detect_abi() of a full decode, and the compiled schema walk (types and
// findings) equals the yaml-cpp walk.
TEST(ValidateApi, FastPathsEqualTheReferenceOnCorpusAndMutatedBlobs) {
  const unsigned seed = testutil::test_seed("FastPathsEqualTheReference");
  std::mt19937 rng(seed);
  const auto& set = SchemaSet::builtin();
  auto text = [](const Report& r) {
    std::ostringstream o;
    for (const auto& d : r.diagnostics()) render_text(o, d);
    return o.str();
  };
  std::size_t checked = 0;
  auto check = [&](const std::vector<std::uint8_t>& blob, const std::string& what) {
    Report r0;
    fdt::ReadOptions ro;
    auto b = fdt::Blob::open(blob, ro, r0);
    if (!b.ok()) return;
    Report ignored, rd, rr;
    const fdt::DecodeOptions kho = kho_decode_options(fdt::Endian::little);  // dump's decode
    const std::string want = detect_abi(fdt::decode_tree(b, kho, ignored));
    std::string fd, fr;
    flatten(fdt::decode_tree(b, kho, rd).root, fd);
    flatten(reference_decode(b, kho, rr).root, fr);
    EXPECT_EQ(fd, fr) << "seed " << seed << ": " << what;
    EXPECT_EQ(findings(rd), findings(rr)) << "seed " << seed << ": " << what;
    Report rv;
    ValidateOptions vo;
    const Validation val = validate(blob, nullptr, vo, rv);
    EXPECT_EQ(val.abi, want) << "seed " << seed << ": " << what;
    const SchemaDoc* doc = want.empty() ? nullptr : set.for_abi(want);
    // The lazy tree equals the eager decode validate() used to keep (with the schema's types).
    {
      fdt::DecodeOptions eager = kho;
      if (doc) eager.resolver = set.type_resolver(*doc);
      Report re;
      std::string lazy_s, eager_s;
      flatten(val.tree().root, lazy_s);
      flatten(fdt::decode_tree(b, eager, re).root, eager_s);
      EXPECT_EQ(lazy_s, eager_s) << "seed " << seed << ": " << what;
    }
    if (!doc) return;
    {
      // The in-place schema walk equals the compiled walk over the owning tree.
      Report rt, rf;
      fdt::FlatTree ft = fdt::read_flat(b);
      ft.hints = kho.hints;
      fdt::type_flat(ft, b, fdt::Endian::little, set.flat_type_resolver(*doc), rf);
      fdt::DecodeOptions typed = kho;
      typed.resolver = set.type_resolver(*doc);
      set.validate_tree(fdt::decode_tree(b, typed, rt), *doc, "f", rt);
      set.validate_flat(ft, *doc, "f", rf);
      EXPECT_EQ(text(rf), text(rt)) << "seed " << seed << ": " << what;
      // validate()'s own path: types declared and schemas bound in place by bind_flat().
      Report rb;
      fdt::FlatTree bound = fdt::read_flat(b);
      set.bind_flat(bound, doc);
      fdt::type_flat_declared(bound, b, fdt::Endian::little, rb);
      set.validate_flat(bound, *doc, "f", rb);
      EXPECT_EQ(text(rb), text(rt)) << "seed " << seed << ": " << what;
    }
    fdt::DecodeOptions fast = kho, slow = kho;
    fast.resolver = set.type_resolver(*doc);
    slow.resolver = [&](const fdt::Node& n, std::string_view p) {
      auto t = schema_prop_type_yaml(set, *doc, n, p);
      return t ? t : SchemaSet::builtin().prop_type_by_name(p);
    };
    Report rf, rs;
    auto tf = fdt::decode_tree(b, fast, rf);
    auto ts = fdt::decode_tree(b, slow, rs);
    set.validate_tree(tf, *doc, "f", rf);
    schema_validate_tree_yaml(set, ts, *doc, "f", rs);
    EXPECT_EQ(text(rf), text(rs)) << "seed " << seed << ": " << what;
    ++checked;
  };
  for (const char* kind : {"good", "bad"}) {
    for (const auto& p : corpus_files(kind)) {
      auto c = compile_source(read_text_file(p), p.string());
      if (!c.ok || c.blob.empty()) continue;
      check(c.blob, p.string());
      for (int i = 0; i < 40; ++i) {
        auto m = c.blob;
        const std::size_t at = rng() % m.size();
        m[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        check(m, p.string() + " flip@" + std::to_string(at));
      }
    }
  }
  EXPECT_GT(checked, 100u);
}

// validate() and dump's decode read the built-in schemas from the schema pack: no
// schema file is parsed with yaml-cpp for any corpus blob (start-up cost, docs/bench.md).
TEST(ValidateApi, ValidateAndDumpParseNoSchemaYaml) {
  const std::size_t before = builtin_schema_yaml_loads();
  std::size_t n = 0;
  for (const char* kind : {"good", "bad"}) {
    for (const auto& p : corpus_files(kind)) {
      auto c = compile_source(read_text_file(p), p.string());
      if (!c.ok || c.blob.empty()) continue;
      Report rv, rd;
      ValidateOptions vo;
      validate(c.blob, nullptr, vo, rv);
      fdt::InspectOptions io;
      io.decode = kho_decode_options(fdt::Endian::little);
      fdt::inspect(c.blob, io, rd);
      ++n;
    }
  }
  EXPECT_GT(n, 50u);
  EXPECT_EQ(builtin_schema_yaml_loads(), before);
}

}  // namespace
}  // namespace khospec::conformance
