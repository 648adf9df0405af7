#include "conformance/memmap/memmap.hpp"

#include <gtest/gtest.h>

#include "conformance/corpus/corpus_source.hpp"
#include "conformance/schema/schema.hpp"

namespace khospec::conformance {
namespace {

// docs/kernel-abi.md §4 worked examples (4 KiB pages).
TEST(Radix, KeyEncodingMatchesTheWorkedExamples) {
  EXPECT_EQ(radix_encode(0x123456000, 0), 0x10000000123456u);
  EXPECT_EQ(radix_encode(0x400000000, 9), 0x80000002000u);
  EXPECT_EQ(radix_encode(0x40000000, 18), 0x400000001u);
  for (auto [phys, order] : {std::pair<std::uint64_t, unsigned>{0x123456000, 0}, {0x400000000, 9},
                             {0x40000000, 18}, {0x7ce00000, 9}, {0x1f5000, 0}}) {
    std::uint64_t p = 0;
    unsigned o = 99;
    ASSERT_TRUE(radix_decode(radix_encode(phys, order), p, o));
    EXPECT_EQ(p, phys);
    EXPECT_EQ(o, order);
  }
  std::uint64_t p;
  unsigned o;
  EXPECT_FALSE(radix_decode(0, p, o));
  EXPECT_FALSE(radix_decode(std::uint64_t{1} << 60, p, o));  // above the order-0 marker
}

// Builds a corpus source's memory image and decodes it.
MapDecode decode(const std::string& yaml, bool radix, Report& r, MapOptions mo = {}) {
  auto c = compile_source(yaml, "test");
  EXPECT_TRUE(c.ok) << c.error;
  auto img = MemoryImage::from_bytes(c.memory, std::nullopt, "mem", r);
  MapSite site{"x"};
  return radix ? decode_radix(img, 0x1f4000, mo, site, r) : decode_v1_chunks(img, 0x15f000, mo, site, r);
}

TEST(Chunks, RoundTripThroughTheGenerator) {
  Report r;
  auto d = decode(R"(root: {compatible: !string "kho-v1"}
memory:
  chunks: {head: 0x15f000, pool: 0x400000, blocks: [[0x3de000, 0], [0x3df000, 0], [0x7d000000, 10], [0x7f5ee000, 1]]}
)", false, r);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(d.complete);
  std::vector<PreservedBlock> want = {{0x3de000, 0}, {0x3df000, 0}, {0x7d000000, 10}, {0x7f5ee000, 1}};
  EXPECT_EQ(d.blocks, want);
  EXPECT_NE(d.format.find("512-byte"), std::string::npos);
}

TEST(Chunks, ManyEntriesChainChunksOfOneOrder) {
  // 300 bitmaps of order 0 (one block per 16 MiB): two chunks (255 + 45 entries).
  std::string blocks;
  for (int i = 0; i < 300; ++i) blocks += (i ? ", " : "") + std::string("[") + std::to_string(std::uint64_t(i) << 24) + ", 0]";
  Report r;
  auto d = decode("root: {compatible: !string \"kho-v1\"}\nmemory:\n  chunks: {head: 0x15f000, pool: 0x400000, blocks: [" +
                      blocks + "]}\n", false, r);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(d.blocks.size(), 300u);
  EXPECT_EQ(d.metadata_pages.size(), 2u + 300u);  // 2 chunk pages + 300 bitmaps
}

TEST(Chunks, BitmapSizeFromEvidence) {
  Report r;
  // Page bitmaps: order-0 block at 0x7f000000 is bit 0x7f00 of bitmap 0 (past bit 4095).
  auto d = decode(R"(root: {compatible: !string "kho-v1"}
memory:
  chunks: {head: 0x15f000, pool: 0x400000, bitmap: page, blocks: [[0x3de000, 0], [0x7f000000, 0]]}
)", false, r);
  EXPECT_TRUE(r.empty());
  EXPECT_NE(d.format.find("PAGE_SIZE"), std::string::npos);
  std::vector<PreservedBlock> want = {{0x3de000, 0}, {0x7f000000, 0}};
  EXPECT_EQ(d.blocks, want);
  // Forcing 512-byte bitmaps on it loses the high bit and flags phys_start? No: phys_start 0 is aligned;
  // the decode simply differs, which is why the size matters.
  Report r2;
  MapOptions forced;
  forced.v1_bitmap = BitmapSize::b512;
  auto d2 = decode(R"(root: {compatible: !string "kho-v1"}
memory:
  chunks: {head: 0x15f000, pool: 0x400000, bitmap: page, blocks: [[0x3de000, 0], [0x7f000000, 0]]}
)", false, r2, forced);
  EXPECT_EQ(d2.blocks.size(), 1u);
}

TEST(Radix, RoundTripThroughTheGenerator) {
  Report r;
  auto d = decode(R"(root: {compatible: !string "kho-v4"}
memory:
  radix: {root: 0x1f4000, pool: 0x200000, blocks: [[0x1f5000, 0], [0x7ce00000, 9], [0x74000000, 14], [0x70000000, 16]]}
)", true, r);
  std::vector<PreservedBlock> want = {{0x1f5000, 0}, {0x70000000, 16}, {0x74000000, 14}, {0x7ce00000, 9}};
  EXPECT_EQ(d.blocks, want);
  // Orders 14 and 16 (7.3 writes them for large reserve_mem ranges): 7.3's
  // kho_preserved_memory_reserve() reserves them and kho_restore_pages()
  // restores them, so a radix map is clean.
  EXPECT_FALSE(r.has("kho_map_order_above_max"));
  EXPECT_EQ(r.count(Level::error), 0u);
  EXPECT_EQ(r.count(Level::warning), 0u);
}

// The same order in a 6.16 chunk list: kho_restore_folio() of 6.16-6.19
// refuses it (the model's INV_PRESERVED_ORDER_RESTORABLE).
TEST(Chunks, OrderAboveMaxWarns) {
  Report r;
  auto d = decode(R"(root: {compatible: !string "kho-v1"}
memory:
  chunks: {head: 0x15f000, pool: 0x400000, bitmap: 512, blocks: [[0x1000000, 12]]}
)", false, r);
  ASSERT_EQ(d.blocks.size(), 1u);
  EXPECT_TRUE(r.has("kho_map_order_above_max"));
}

TEST(Coverage, CoveredUnionOfBlocks) {
  std::vector<PreservedBlock> b = {{0x7ce00000, 9}, {0x7d000000, 9}};
  EXPECT_TRUE(covered(b, 0x7ce00000, 0x400000));
  EXPECT_TRUE(covered(b, 0x7cf00000, 0x1000));
  EXPECT_FALSE(covered(b, 0x7ce00000, 0x400001));
  EXPECT_FALSE(covered(b, 0x7cd00000, 0x1000));
  EXPECT_TRUE(covered(b, 0x1234, 0));
}

// The decoder's constants are the layouts the schemas describe.
TEST(Layouts, DecoderConstantsMatchTheLayoutSchemas) {
  const auto& set = SchemaSet::builtin();
  auto chunk = set.layout("khoser_mem_chunk");
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->size, kPageSize);
  ASSERT_EQ(chunk->fields.size(), 4u);
  EXPECT_EQ(chunk->fields[1].name, "order");
  EXPECT_EQ(chunk->fields[1].offset, 8u);
  EXPECT_EQ(chunk->fields[2].offset, 12u);
  EXPECT_EQ(chunk->fields[3].offset, kChunkHdrSize);
  EXPECT_EQ(chunk->fields[3].size, kChunkEntrySize);
  EXPECT_EQ(chunk->fields[3].count, kChunkCapacity);
  auto node = set.layout("kho_radix_node");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->fields[0].count, std::uint64_t{1} << kRadixTableLog2);
  auto leaf = set.layout("kho_radix_leaf");
  ASSERT_TRUE(leaf);
  EXPECT_EQ(leaf->fields[0].count * 64, std::uint64_t{1} << kRadixBitmapLog2);
  auto md = set.layout("kho_kexec_metadata");
  ASSERT_TRUE(md);
  EXPECT_EQ(md->size, 73u);
  auto b512 = set.layout("kho_mem_phys_bits_512");
  ASSERT_TRUE(b512);
  EXPECT_EQ(b512->size, 512u);
}

}  // namespace
}  // namespace khospec::conformance
