#include "fdt/builder.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "fdt/test_util.hpp"

extern "C" {
#include <libfdt.h>
}

namespace khospec::fdt {
namespace {

TEST(Builder, DocsExampleIsValidLibfdtBlob) {
  auto blob = test::docs_root();
  ASSERT_FALSE(blob.empty());
  ASSERT_EQ(fdt_check_full(blob.data(), blob.size()), 0);
  EXPECT_EQ(fdt_totalsize(blob.data()), blob.size());
  EXPECT_EQ(fdt_version(blob.data()), 17u);
  EXPECT_EQ(fdt_num_mem_rsv(blob.data()), 0);
}

TEST(Builder, U64IsNativeLittleEndianNotBigEndianCells) {
  auto blob = test::docs_root();
  int len = 0;
  const auto* v = static_cast<const std::uint8_t*>(fdt_getprop(blob.data(), 0, "preserved-memory-map", &len));
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(len, 8);
  // dtc shows <0x40be16 0x1000000>: the BE32 reading of LE bytes 00 40 be 16 01 00 00 00.
  const std::uint8_t want[8] = {0x00, 0x40, 0xbe, 0x16, 0x01, 0x00, 0x00, 0x00};
  EXPECT_EQ(std::memcmp(v, want, 8), 0);
}

TEST(Builder, BigEndianProducerWritesBigEndianValues) {
  auto blob = test::docs_root(Endian::big);
  int len = 0;
  const auto* v = static_cast<const std::uint8_t*>(fdt_getprop(blob.data(), 0, "preserved-memory-map", &len));
  ASSERT_EQ(len, 8);
  const std::uint8_t want[8] = {0x00, 0x00, 0x00, 0x01, 0x16, 0xbe, 0x40, 0x00};
  EXPECT_EQ(std::memcmp(v, want, 8), 0);
}

TEST(Builder, KeepsKernelPropertyAndNodeOrder) {
  auto blob = test::docs_root();
  const void* f = blob.data();
  int off = fdt_first_property_offset(f, 0);
  const char* name = nullptr;
  int len = 0;
  fdt_getprop_by_offset(f, off, &name, &len);
  EXPECT_STREQ(name, "compatible");
  EXPECT_EQ(len, 7);  // "kho-v1" plus NUL, as fdt_property_string() writes it
  off = fdt_next_property_offset(f, off);
  fdt_getprop_by_offset(f, off, &name, &len);
  EXPECT_STREQ(name, "preserved-memory-map");
  EXPECT_EQ(fdt_next_property_offset(f, off), -FDT_ERR_NOTFOUND);
  EXPECT_STREQ(fdt_get_name(f, fdt_first_subnode(f, 0), nullptr), "memblock");
}

TEST(Builder, GrowsPastInitialCapacity) {
  Builder b(64);
  b.begin_node("");
  std::vector<std::uint64_t> many(2000, 0x1000);
  b.prop_u64_array("folios_info", many);
  b.end_node();
  auto blob = b.finish();
  ASSERT_EQ(b.error(), 0);
  EXPECT_EQ(fdt_check_full(blob.data(), blob.size()), 0);
  EXPECT_GT(blob.size(), 16000u);
}

TEST(Builder, FixedPageBufferFailsLikeTheKernel) {
  // kho_finalize() uses fdt_create(fdt, PAGE_SIZE): a full root fails with NOSPACE.
  Builder b(4096, Endian::little, /*grow=*/false);
  b.begin_node("");
  std::vector<std::uint8_t> big(5000, 0xab);
  b.prop_bytes("x", big);
  b.end_node();
  auto blob = b.finish();
  EXPECT_TRUE(blob.empty());
  EXPECT_EQ(b.error(), -FDT_ERR_NOSPACE);
}

TEST(Builder, ReservationEntriesLandInTheMap) {
  Builder b;
  b.add_reservemap_entry(0x1000, 0x2000);
  b.begin_node("").end_node();
  auto blob = b.finish();
  ASSERT_EQ(fdt_num_mem_rsv(blob.data()), 1);
  std::uint64_t a = 0, s = 0;
  fdt_get_mem_rsv(blob.data(), 0, &a, &s);
  EXPECT_EQ(a, 0x1000u);
  EXPECT_EQ(s, 0x2000u);
}

}  // namespace
}  // namespace khospec::fdt
