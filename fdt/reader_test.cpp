#include "fdt/reader.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "fdt/builder.hpp"
#include "fdt/test_util.hpp"
#include "fdt/tree.hpp"

extern "C" {
#include <libfdt.h>
}

namespace khospec::fdt {
namespace {

Report open_report(const std::vector<std::uint8_t>& bytes, bool* ok = nullptr, std::size_t cap = 64u << 20) {
  Report r;
  ReadOptions o;
  o.file = "t.dtb";
  o.max_size = cap;
  Blob b = Blob::open(bytes, o, r);
  if (ok) *ok = b.ok();
  return r;
}

void set_be32(std::vector<std::uint8_t>& b, std::size_t off, std::uint32_t v) {
  b[off] = static_cast<std::uint8_t>(v >> 24);
  b[off + 1] = static_cast<std::uint8_t>(v >> 16);
  b[off + 2] = static_cast<std::uint8_t>(v >> 8);
  b[off + 3] = static_cast<std::uint8_t>(v);
}

TEST(Reader, DocsExampleIsClean) {
  bool ok = false;
  Report r = open_report(test::docs_root(), &ok);
  EXPECT_TRUE(ok);
  EXPECT_TRUE(r.empty());
}

TEST(Reader, EmptyInput) {
  bool ok = true;
  Report r = open_report({}, &ok);
  EXPECT_FALSE(ok);
  ASSERT_EQ(r.diagnostics().size(), 1u);
  EXPECT_EQ(r.diagnostics()[0].rule, "fdt_empty");
  EXPECT_EQ(r.diagnostics()[0].offset, 0u);
}

// fuzz/validate: a version-3 blob that passes fdt_check_header() but makes
// libfdt 1.6.1's fdt_check_full() dereference NULL. Versions below 16 are
// refused before libfdt walks them.
TEST(Reader, PreVersion16IsRefusedBeforeLibfdtWalksIt) {
  const std::vector<std::uint8_t> v3 = {
      0xd0, 0x0d, 0xfe, 0xed, 0x00, 0x00, 0x00, 0xc4, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0xa0, 0x00,
      0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x24, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0xf6, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
      0x6b, 0x68, 0x6f, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x19, 0x6b,
      0x68, 0x6f, 0x2d, 0x76, 0x31, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00,
      0x00, 0x04, 0x00, 0x40, 0xbe, 0x16, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x6d, 0x65, 0x6d,
      0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x15, 0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
      0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x66, 0x64, 0x74, 0x00, 0x70, 0x72, 0x65, 0x73, 0x65, 0x72,
      0x76, 0x65, 0x64, 0x2d, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x2d, 0x6d, 0x61, 0x70, 0x00, 0x63, 0x6f,
      0x6d, 0x70, 0x61, 0x74, 0x69, 0x62, 0x6c, 0x65, 0x00};
  ASSERT_EQ(v3.size(), 196u);
  bool ok = true;
  Report r = open_report(v3, &ok);
  EXPECT_FALSE(ok);
  ASSERT_TRUE(r.has("fdt_bad_version"));
  EXPECT_NE(r.diagnostics()[0].message.find("version 3 predates 16"), std::string::npos) << r.diagnostics()[0].message;
}

TEST(Reader, SizeCapAppliesToBufferAndTotalsize) {
  auto blob = test::docs_root();
  EXPECT_TRUE(open_report(blob, nullptr, 64).has("fdt_too_large"));
  blob.resize(4096);
  set_be32(blob, 4, 0x4000000);
  Report r = open_report(blob, nullptr, 1 << 20);
  EXPECT_TRUE(r.has("fdt_too_large"));
  EXPECT_EQ(r.diagnostics()[0].offset, 4u);  // totalsize field
}

TEST(Reader, TotalsizeBeyondBufferNamesTheLibfdtError) {
  auto blob = test::docs_root();
  blob.pop_back();
  Report r = open_report(blob);
  ASSERT_TRUE(r.has("fdt_truncated"));
  EXPECT_NE(r.diagnostics()[0].message.find("FDT_ERR_TRUNCATED"), std::string::npos);
}

TEST(Reader, PaddingAfterTotalsizeIsFine) {
  auto blob = test::docs_root();
  blob.resize(4096, 0);  // the root FDT inside its preserved page
  bool ok = false;
  EXPECT_TRUE(open_report(blob, &ok).empty());
  EXPECT_TRUE(ok);
}

TEST(Reader, MisalignedStructStopsBeforeLibfdtWalks) {
  auto blob = test::docs_root();
  std::uint32_t off = fdt_off_dt_struct(blob.data());
  blob.insert(blob.begin() + off, 2, 0);
  set_be32(blob, 4, static_cast<std::uint32_t>(blob.size()));
  set_be32(blob, 8, off + 2);
  set_be32(blob, 12, fdt_off_dt_strings(test::docs_root().data()) + 2);
  bool ok = true;
  Report r = open_report(blob, &ok);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(r.has("fdt_misaligned_struct"));
  EXPECT_TRUE(r.has("fdt_misaligned_strings"));
  EXPECT_FALSE(r.has("fdt_bad_structure"));  // prerequisite failed: no cascade
}

TEST(Reader, TwoRootsAndNamedRoot) {
  Builder two;
  two.begin_node("").prop_u32("a", 1).end_node().begin_node("").end_node();
  Report r = open_report(two.finish());
  EXPECT_TRUE(r.has("fdt_two_roots"));

  Builder named;
  named.begin_node("kho").prop_string("compatible", "kho-v1").end_node();
  Report r2 = open_report(named.finish());
  ASSERT_TRUE(r2.has("fdt_named_root"));
  EXPECT_NE(r2.diagnostics()[0].message.find("'kho'"), std::string::npos);
}

TEST(Reader, PropertyAfterSubnodeIsInvisibleToLibfdt) {
  Builder b;
  b.begin_node("").begin_node("memblock").end_node().prop_u64("late", 1).end_node();
  auto blob = b.finish();
  // libfdt itself does not find it -- which is exactly why it is a finding.
  EXPECT_EQ(fdt_getprop(blob.data(), 0, "late", nullptr), nullptr);
  bool ok = false;
  Report r = open_report(blob, &ok);
  EXPECT_TRUE(r.has("fdt_property_after_subnode"));
  EXPECT_TRUE(ok);
}

TEST(Reader, NonEmptyReservationMapIsAWarning) {
  Builder b;
  b.add_reservemap_entry(0x1000, 0x1000).begin_node("").end_node();
  Report r = open_report(b.finish());
  ASSERT_TRUE(r.has("fdt_rsvmap_not_empty"));
  EXPECT_EQ(r.exit_code(), exit_clean);
  EXPECT_EQ(r.exit_code(true), exit_findings);
}

TEST(Reader, ErrorNamesComeFromLibfdt) {
  EXPECT_EQ(fdt_err_name(-FDT_ERR_TRUNCATED), "FDT_ERR_TRUNCATED");
  EXPECT_EQ(fdt_err_name(FDT_ERR_BADMAGIC), "FDT_ERR_BADMAGIC");
  EXPECT_EQ(fdt_err_name(-999), "FDT_ERR_(999)");
}

// Robustness: every prefix and every single-byte corruption of a valid blob is
// either accepted or rejected with a finding -- never a crash (run under ASan).
TEST(Reader, EveryPrefixIsDiagnosed) {
  auto blob = test::docs_root();
  for (std::size_t n = 0; n < blob.size(); ++n) {
    std::vector<std::uint8_t> cut(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(n));
    bool ok = true;
    Report r = open_report(cut, &ok);
    EXPECT_FALSE(ok) << "prefix of " << n << " bytes accepted";
    EXPECT_GT(r.count(Level::error), 0u) << n;
  }
}

TEST(Reader, EverySingleByteCorruptionIsSafe) {
  auto blob = test::docs_root();
  std::mt19937 rng(2026);  // fixed seed: reproducible
  std::printf("seed=2026\n");
  for (std::size_t i = 0; i < blob.size(); ++i) {
    for (std::uint8_t v : {std::uint8_t{0}, std::uint8_t{0xff}, static_cast<std::uint8_t>(rng())}) {
      auto bad = blob;
      bad[i] = v;
      Report r;
      ReadOptions o;
      Blob b = Blob::open(bad, o, r);
      if (b.ok()) {
        DecodeOptions d;
        decode_tree(b, d, r);  // must not crash either
      } else {
        EXPECT_GT(r.count(Level::error), 0u) << "rejected without an error at byte " << i;
      }
    }
  }
}

// open() calls fdt_check_full() only when its own walk (fdt_check_full()'s
// loop over fdt_next_tag() and fdt_get_string()) fails: the two verdicts must
// agree on every corrupted blob. A blob open() accepts is one libfdt accepts,
// and a blob libfdt accepts gets no structure finding from open() (beyond
// the two roots / named root libfdt 1.6.1 does not look for).
TEST(Reader, WalkVerdictEqualsFdtCheckFull) {
  const std::vector<std::vector<std::uint8_t>> bases = {test::docs_root()};
  std::mt19937 rng(7);  // fixed seed: reproducible
  std::printf("seed=7\n");
  std::size_t accepted = 0, rejected = 0;
  auto check = [&](const std::vector<std::uint8_t>& bad, const std::string& what) {
    Report r;
    ReadOptions o;
    Blob b = Blob::open(bad, o, r);
    std::vector<std::uint64_t> aligned((bad.size() + 7) / 8 + 1, 0);
    if (!bad.empty()) std::memcpy(aligned.data(), bad.data(), bad.size());
    const int lib = fdt_check_full(aligned.data(), bad.size());
    if (b.ok()) {
      ++accepted;
      EXPECT_EQ(lib, 0) << what << ": open() accepted a blob fdt_check_full() rejects (" << fdt_err_name(lib) << ")";
      // The decode open() builds during its walk is the one read_flat() reads again.
      Report r2;
      FlatTree built;
      Blob b2 = Blob::open(bad, o, r2, &built);
      const FlatTree read = read_flat(b);
      EXPECT_EQ(built.nodes.size(), read.nodes.size()) << what;
      EXPECT_EQ(built.props.size(), read.props.size()) << what;
      for (std::size_t i = 0; i < std::min(built.props.size(), read.props.size()); ++i)
        EXPECT_TRUE(built.props[i].name == read.props[i].name && built.props[i].offset == read.props[i].offset &&
                    built.props[i].raw.size() == read.props[i].raw.size())
            << what << ": property " << i;
    } else {
      ++rejected;
    }
    if (lib == 0 && !r.has("fdt_two_roots") && !r.has("fdt_named_root")) {
      for (const char* rule : {"fdt_bad_structure", "fdt_bad_name_offset"})
        EXPECT_FALSE(r.has(rule)) << what << ": " << rule << " on a blob fdt_check_full() accepts";
    }
  };
  for (const auto& blob : bases) {
    for (std::size_t i = 0; i < blob.size(); ++i)
      for (std::uint8_t v : {std::uint8_t{0}, std::uint8_t{0xff}, static_cast<std::uint8_t>(rng()), std::uint8_t{0x01}}) {
        auto bad = blob;
        bad[i] = v;
        check(bad, "byte " + std::to_string(i) + " = " + std::to_string(v));
      }
    for (int k = 0; k < 2000; ++k) {  // a few bytes at once
      auto bad = blob;
      for (int j = 0; j < 3; ++j) bad[rng() % bad.size()] = static_cast<std::uint8_t>(rng());
      check(bad, "multi-byte corruption #" + std::to_string(k));
    }
  }
  // Both verdicts occur (the corruptions reach the walk, not only the header).
  std::printf("accepted %zu, rejected %zu\n", accepted, rejected);
  EXPECT_GT(accepted, 0u);
  EXPECT_GT(rejected, 0u);
}

}  // namespace
}  // namespace khospec::fdt
