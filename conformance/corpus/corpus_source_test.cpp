#include "conformance/corpus/corpus_source.hpp"

#include <gtest/gtest.h>

#include "fdt/inspect.hpp"
#include "fdt/test_util.hpp"

namespace khospec::conformance {
namespace {

constexpr const char* kDocs = R"(# ABI: kho-v1
# EXPECT: none
root:
  compatible: !string "kho-v1"
  preserved-memory-map: !u64 0x116be4000
  memblock:
    fdt: !u64 0x117150000
)";

TEST(CorpusSource, CompilesToTheSameBytesAsTheBuilder) {
  auto c = compile_source(kDocs, "docs");
  ASSERT_TRUE(c.ok) << c.error;
  EXPECT_EQ(c.blob, fdt::test::docs_root());
  EXPECT_EQ(c.header.abi, "kho-v1");
  EXPECT_TRUE(c.header.expect_clean);
}

TEST(CorpusSource, HeaderExpectations) {
  auto h = parse_header("# ABI: kho-v3\n# EXPECT: kho_prop_len_u64 /memblock:blob-size\n"
                        "# EXPECT: fdt_x\n# EXPECT-NOT: fdt_truncated fdt_empty\n# ARGS: --endian big\n"
                        "root: {}\n# EXPECT: ignored_after_header\n");
  ASSERT_EQ(h.expect.size(), 2u);
  EXPECT_EQ(h.expect[0].rule, "kho_prop_len_u64");
  EXPECT_EQ(h.expect[0].node, "/memblock");
  EXPECT_EQ(h.expect[0].property, "blob-size");
  EXPECT_EQ(h.expect[1].node, "");
  EXPECT_EQ(h.expect_not, (std::vector<std::string>{"fdt_truncated", "fdt_empty"}));
  EXPECT_EQ(h.args, (std::vector<std::string>{"--endian", "big"}));
}

TEST(CorpusSource, ErrorsCarryLineAndColumn) {
  auto c = compile_source("root:\n  compatible: kho-v1\n", "x.kho.yaml");
  ASSERT_FALSE(c.ok);
  EXPECT_EQ(c.error.rfind("x.kho.yaml:2:", 0), 0u) << c.error;
  EXPECT_NE(c.error.find("needs a type tag"), std::string::npos);

  auto bad_num = compile_source("root:\n  a: !u32 0x100000000\n", "n");
  ASSERT_FALSE(bad_num.ok);
  EXPECT_NE(bad_num.error.find("does not fit"), std::string::npos);

  auto bad_yaml = compile_source("root: [\n", "y");
  EXPECT_FALSE(bad_yaml.ok);
  auto unknown = compile_source("rot: {}\n", "u");
  ASSERT_FALSE(unknown.ok);
  EXPECT_NE(unknown.error.find("unknown top-level key 'rot'"), std::string::npos);
  auto tag = compile_source("root:\n  a: !u16 1\n", "t");
  ASSERT_FALSE(tag.ok);
  EXPECT_NE(tag.error.find("unknown type tag '!u16'"), std::string::npos);
}

TEST(CorpusSource, RawOperations) {
  std::string base = std::string(kDocs);
  auto full = compile_source(base, "b");
  auto cut = compile_source(base + "raw:\n  - truncate-by: 40\n", "c");
  ASSERT_TRUE(cut.ok) << cut.error;
  EXPECT_EQ(cut.blob.size(), full.blob.size() - 40);
  auto shifted = compile_source(base + "raw:\n  - shift-struct: 2\n", "s");
  ASSERT_TRUE(shifted.ok);
  EXPECT_EQ(shifted.blob.size(), full.blob.size() + 2);
  auto rnd1 = compile_source("raw:\n  - replace: {random: 64, seed: 3}\n", "r");
  auto rnd2 = compile_source("raw:\n  - replace: {random: 64, seed: 3}\n", "r");
  ASSERT_TRUE(rnd1.ok);
  EXPECT_EQ(rnd1.blob.size(), 64u);
  EXPECT_EQ(rnd1.blob, rnd2.blob);  // deterministic
  auto padded = compile_source(base + "pad-to: 4096\n", "p");
  EXPECT_EQ(padded.blob.size(), 4096u);
  auto hdr = compile_source(base + "header:\n  version: 16\n", "h");
  EXPECT_EQ(hdr.blob[23], 16);
}

TEST(CorpusSource, ExpectationChecker) {
  SourceHeader h;
  h.expect.push_back({"kho_prop_len_u64", "/memblock", "fdt"});
  Report r;
  EXPECT_FALSE(check_expectations(h, r).empty());  // did not fire
  r.add({"kho_prop_len_u64", Level::error, "f", 0, "/memblock", "fdt", "m", {}, "kho"});
  EXPECT_TRUE(check_expectations(h, r).empty());
  r.add({"fdt_truncated", Level::error, "f", 0, "", "", "m", {}, "decode"});
  EXPECT_EQ(check_expectations(h, r).size(), 1u);  // unexpected extra rule
  SourceHeader wrong_place;
  wrong_place.expect.push_back({"kho_prop_len_u64", "/other", ""});
  Report r2;
  r2.add({"kho_prop_len_u64", Level::error, "f", 0, "/memblock", "fdt", "m", {}, "kho"});
  EXPECT_FALSE(check_expectations(wrong_place, r2).empty());
  SourceHeader clean;
  clean.expect_clean = true;
  EXPECT_FALSE(check_expectations(clean, r2).empty());
}

}  // namespace
}  // namespace khospec::conformance
