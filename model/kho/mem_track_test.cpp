// Preserved-memory trackers (docs/kernel-behaviour.md §4, §6):
// radix keys and tree, kho-v1 bitmaps and chunk lists, the greedy split, and
// the readers' handling of corrupt images (vmalloc chunk lists and kho_block
// chains: mem_track_vmalloc_block_test.cpp). The real-capture comparisons are in mem_track_dump_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <set>

#include "model/kho/mem_track.hpp"
#include "model/kho/mem_track_test_util.hpp"
#include "model/memblock/memblock.hpp"

namespace khospec::model {
namespace {

using testutil::TestAllocator;
using testutil::clone;
using testutil::has_issue;
using testutil::issues_text;
constexpr std::uint64_t kPage = PhysImage::kPageSize;

std::uint64_t pfn_of(phys_addr_t phys) { return phys >> KHO_PAGE_SHIFT; }

std::vector<PreservedBlock> by_key(std::vector<PreservedBlock> v) {
  std::sort(v.begin(), v.end(), [](const PreservedBlock& a, const PreservedBlock& b) {
    return kho_radix_encode_key(a.phys, a.order) < kho_radix_encode_key(b.phys, b.order);
  });
  return v;
}
std::vector<PreservedBlock> by_order_phys(std::vector<PreservedBlock> v) {
  std::sort(v.begin(), v.end(), [](const PreservedBlock& a, const PreservedBlock& b) {
    return a.order != b.order ? a.order < b.order : a.phys < b.phys;
  });
  return v;
}




// ============================ radix keys (kernel-abi.md §4) ================================

// Worked examples of kho_radix_encode_key() (kernel/liveupdate/kexec_handover.c,
// 7.1): key, L5..L1 indices, leaf bit.
TEST(KhoRadixKey, WorkedExamples) {
  struct Row {
    phys_addr_t phys;
    unsigned order;
    std::uint64_t key;
    unsigned idx[5];  // L5, L4, L3, L2, L1
    unsigned bit;
  };
  const Row rows[] = {
      {0x1'2345'6000, 0, 0x10000000123456, {2, 0, 0, 0, 36}, 0x3456},
      {0x4'0000'0000, 9, 0x80000002000, {0, 2, 0, 0, 0}, 0x2000},
      {0x4000'0000, 18, 0x400000001, {0, 0, 2, 0, 0}, 1},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.phys);
    const std::uint64_t key = kho_radix_encode_key(r.phys, r.order);
    EXPECT_EQ(key, r.key);
    for (unsigned level = 5; level >= 1; --level) EXPECT_EQ(kho_radix_table_index(key, level), r.idx[5 - level]);
    EXPECT_EQ(kho_radix_bitmap_index(key), r.bit);
    EXPECT_EQ(kho_radix_decode_key(key), (PreservedBlock{r.phys, r.order}));
  }
}

// The 7.3 README's observed top-level use: L5 index 2 = order 0, 1 = order 1,
// 0 = orders >= 2; L4 index 1 << (10 - order) for orders 2..10; order 14 at L3.
TEST(KhoRadixKey, ObservedTopLevelIndices) {
  EXPECT_EQ(kho_radix_table_index(kho_radix_encode_key(0x1f5000, 0), 5), 2u);
  EXPECT_EQ(kho_radix_table_index(kho_radix_encode_key(0x1f6000, 1), 5), 1u);
  for (unsigned order = 2; order <= 10; ++order) {
    const std::uint64_t key = kho_radix_encode_key(0x7cc00000, order);
    EXPECT_EQ(kho_radix_table_index(key, 5), 0u);
    EXPECT_EQ(kho_radix_table_index(key, 4), 1u << (10 - order)) << order;
  }
  const std::uint64_t k14 = kho_radix_encode_key(0x4000000, 14);
  EXPECT_EQ(kho_radix_table_index(k14, 5), 0u);
  EXPECT_EQ(kho_radix_table_index(k14, 4), 0u);
  EXPECT_EQ(kho_radix_table_index(k14, 3), 32u);
}

TEST(KhoRadixKey, Constants) {
  // KHO_TREE_MAX_DEPTH = DIV_ROUND_UP(52 - 15, 9) + 1.
  EXPECT_EQ(KHO_TREE_MAX_DEPTH, (KHO_ORDER_0_LOG2 - KHO_BITMAP_SIZE_LOG2 + KHO_TABLE_SIZE_LOG2 - 1) /
                                        KHO_TABLE_SIZE_LOG2 + 1);
  EXPECT_EQ(KHOSER_BITMAP_SIZE, (kPage - 16) / 16);
  EXPECT_EQ(KHO_VMALLOC_SIZE, (kPage - 8) / 8);
  EXPECT_EQ(kho_preserve_bits(MemMapFormat::bitmap512), 4096u);
  EXPECT_EQ(kho_preserve_bits(MemMapFormat::bitmap_page), 32768u);
  EXPECT_EQ(kho_preserve_bits(MemMapFormat::radix), 0u);
}

TEST(KhoRadixKey, EncodeDecodeBijectionSweep) {
  // Deterministic sweep (the property test randomizes): every order 0..51
  // with aligned addresses near 0, near the top of the order's range, and
  // a mixed pattern; the key's order bit is at 52 - order and bits 63:53 are 0.
  for (unsigned order = 0; order <= KHO_MAX_WIRE_ORDER; ++order) {
    const unsigned shift = KHO_PAGE_SHIFT + order;
    const std::uint64_t top = ~std::uint64_t{0} >> shift << shift;  // highest aligned address
    for (const std::uint64_t phys : {std::uint64_t{0}, std::uint64_t{1} << shift, top,
                                     std::uint64_t{0x5a5a'5a5a'5a5a'5a5a} >> shift << shift}) {
      const std::uint64_t key = kho_radix_encode_key(phys, order);
      ASSERT_TRUE(kho_radix_key_valid(key));
      EXPECT_EQ(std::bit_width(key), static_cast<int>(KHO_ORDER_0_LOG2 - order + 1));
      EXPECT_EQ(kho_radix_decode_key(key), (PreservedBlock{phys, order})) << order << " " << phys;
      EXPECT_LT(kho_radix_table_index(key, 5), 4u);
    }
  }
}

TEST(KhoRadixKey, InvalidKeys) {
  EXPECT_FALSE(kho_radix_key_valid(0));                       // fls64 0
  EXPECT_FALSE(kho_radix_key_valid(1));                       // order 52: shift 64
  EXPECT_FALSE(kho_radix_key_valid(std::uint64_t{1} << 53));  // order -1
  EXPECT_TRUE(kho_radix_key_valid(2));                        // order 51
  EXPECT_TRUE(kho_radix_key_valid(std::uint64_t{1} << 52));   // order 0 @ 0
  EXPECT_EQ(kho_radix_decode_key(0).order, 64u);
  EXPECT_EQ(kho_radix_encode_key(0, 52), 0u);
}

// ============================ radix tree (kernel-abi.md §4) ================================

const std::vector<PreservedBlock> kMixed = {
    {0x1f5000, 0},       {0x1fc000, 0},         {0x7f29f000, 0},     {0x1'2345'6000, 0}, {0x7f29c000, 1},
    {0x7f398000, 2},     {0x7f390000, 3},       {0x7f380000, 4},     {0x7f2a0000, 5},    {0x7f2c0000, 6},
    {0x7f300000, 7},     {0x7cc00000, 9},       {0x7ce00000, 9},     {0x7d000000, 9},    {0x4000'0000, 18},
    {0x4'0000'0000, 9},  {0x8000000, 14},       {0x7d000000, 10},  // same range at two orders (invariant 20)
};

TEST(KhoRadixTree, BuildThenWalkRoundTrip) {
  PhysImage img;
  TestAllocator a;
  MemTrack t(MemMapFormat::radix, img, a);
  ASSERT_NE(t.radix_root(), 0u);
  for (const auto& b : kMixed) ASSERT_EQ(t.preserve_order(pfn_of(b.phys), b.order), 0);
  for (const auto& b : kMixed) EXPECT_TRUE(t.is_preserved(pfn_of(b.phys), b.order));
  EXPECT_FALSE(t.is_preserved(pfn_of(0x1f6000), 0));
  EXPECT_FALSE(t.is_preserved(pfn_of(0x1f5000), 1));

  std::vector<DecodeIssue> issues;
  const auto walked = kho_mem_deserialize(img, MemMapFormat::radix, t.radix_root(), &issues);
  EXPECT_TRUE(issues.empty()) << issues_text(issues);
  EXPECT_EQ(walked, by_key(kMixed));
  // Ascending keys = higher orders first.
  for (std::size_t i = 1; i < walked.size(); ++i) EXPECT_GE(walked[i - 1].order, walked[i].order);
  EXPECT_EQ(walked.front().order, 18u);
  EXPECT_EQ(t.blocks(), by_order_phys(kMixed));
  EXPECT_EQ(t.serialize(), t.radix_root());  // stateless: the root is the map

  // Every node is one page, none of them is preserved, each path has depth 6.
  const auto md = t.metadata();
  EXPECT_EQ(md.size(), a.live().size());
  for (const auto& [addr, len] : md) {
    EXPECT_EQ(len, kPage);
    EXPECT_EQ(addr % kPage, 0u);
    EXPECT_FALSE(t.is_preserved(pfn_of(addr), 0));
  }
  // Re-preserving changes nothing (no new nodes).
  const auto calls = a.calls();
  for (const auto& b : kMixed) ASSERT_EQ(t.preserve_order(pfn_of(b.phys), b.order), 0);
  EXPECT_EQ(a.calls(), calls);
}

TEST(KhoRadixTree, SharedUpperLevels) {
  // Two order-0 pages in the same 128 MiB window share all six pages; a page
  // in another L1 window needs only a new leaf.
  PhysImage img;
  TestAllocator a;
  MemTrack t(MemMapFormat::radix, img, a);
  ASSERT_EQ(t.preserve_order(0x100, 0), 0);
  EXPECT_EQ(a.live().size(), 6u);
  ASSERT_EQ(t.preserve_order(0x101, 0), 0);
  EXPECT_EQ(a.live().size(), 6u);
  ASSERT_EQ(t.preserve_order(0x8000, 0), 0);  // key bit 15: next L1 entry
  EXPECT_EQ(a.live().size(), 7u);
  ASSERT_EQ(t.preserve_order(0x100, 1), 0);  // order 1: a new L4 chain
  EXPECT_EQ(a.live().size(), 12u);
}

TEST(KhoRadixTree, UnpreserveLeavesEmptyLeavesThatDecodeToNothing) {
  PhysImage img;
  TestAllocator a;
  MemTrack t(MemMapFormat::radix, img, a);
  ASSERT_EQ(t.preserve_order(pfn_of(0x7f300000), 7), 0);
  ASSERT_EQ(t.preserve_order(pfn_of(0x1f5000), 0), 0);
  const auto md = t.metadata();
  t.unpreserve_order(pfn_of(0x7f300000), 7);
  t.unpreserve_order(pfn_of(0x1f5000), 0);
  t.unpreserve_order(pfn_of(0x9999000), 0);  // never preserved: path missing, no-op
  t.unpreserve_order(pfn_of(0x1f6000), 0);   // path present, bit clear: no-op
  EXPECT_EQ(t.metadata(), md);               // kho_radix_del_page() never frees nodes
  EXPECT_TRUE(a.freed().empty());
  std::vector<DecodeIssue> issues;
  EXPECT_TRUE(kho_mem_deserialize(img, MemMapFormat::radix, t.radix_root(), &issues).empty());
  EXPECT_TRUE(issues.empty()) << issues_text(issues);
  EXPECT_TRUE(t.blocks().empty());
}

TEST(KhoRadixTree, EnomemFreesTheNewBranchAndUnlinksItAtTheRoot) {
  PhysImage img;
  TestAllocator a;
  MemTrack t(MemMapFormat::radix, img, a);
  const phys_addr_t root = t.radix_root();
  a.allow(2);  // L4 and L3 succeed, L2 fails
  EXPECT_EQ(t.preserve_order(pfn_of(0x1f5000), 0), MODEL_ENOMEM);
  EXPECT_EQ(a.freed().size(), 2u);
  EXPECT_TRUE(a.bad_frees().empty());
  EXPECT_EQ(a.live().size(), 1u);  // the root only
  for (std::uint64_t i = 0; i < 512; ++i) EXPECT_EQ(img.read_u64(root + i * 8), 0u) << i;
  EXPECT_EQ(t.metadata().size(), 1u);
  EXPECT_TRUE(kho_mem_deserialize(img, MemMapFormat::radix, root, nullptr).empty());
}

TEST(KhoRadixTree, EnomemUnlinksAtAnInnerAnchor) {
  PhysImage img;
  TestAllocator a;
  MemTrack t(MemMapFormat::radix, img, a);
  ASSERT_EQ(t.preserve_order(pfn_of(0x1f5000), 0), 0);  // root + 5
  const auto before = t.metadata();
  // pfn 1 << 24: the key differs from 0x1f5000's only in bits 32:24, the L2
  // table index. Existing L5, L4, L3 and L2 nodes; new L1 table and leaf.
  const phys_addr_t far = std::uint64_t{1} << 36;
  const std::uint64_t key = kho_radix_encode_key(far, 0);
  ASSERT_EQ(kho_radix_table_index(key, 3), 0u);
  ASSERT_NE(kho_radix_table_index(key, 2), 0u);
  a.allow(1);  // the new L1 table is allocated, its leaf is not
  EXPECT_EQ(t.preserve_order(pfn_of(far), 0), MODEL_ENOMEM);
  EXPECT_EQ(a.freed().size(), 1u);
  EXPECT_EQ(t.metadata(), before);
  std::vector<DecodeIssue> issues;
  EXPECT_EQ(kho_mem_deserialize(img, MemMapFormat::radix, t.radix_root(), &issues),
            (std::vector<PreservedBlock>{{0x1f5000, 0}}));
  EXPECT_TRUE(issues.empty());
  // The L2 node has exactly one child again; with memory the preserve works.
  a.allow(-1);
  EXPECT_EQ(t.preserve_order(pfn_of(far), 0), 0);
  EXPECT_TRUE(t.is_preserved(pfn_of(far), 0));
}

TEST(KhoRadixTree, NoRootMeansEinval) {
  PhysImage img;
  TestAllocator a;
  a.allow(0);
  MemTrack t(MemMapFormat::radix, img, a);
  EXPECT_EQ(t.radix_root(), 0u);
  EXPECT_EQ(t.preserve_order(1, 0), MODEL_EINVAL);  // WARN_ON_ONCE(!tree->root)
  t.unpreserve_order(1, 0);
  EXPECT_FALSE(t.is_preserved(1, 0));
  EXPECT_TRUE(t.blocks().empty());
}

TEST(KhoRadixTree, ModelGuardsOnOrderAndAlignment) {
  PhysImage img;
  TestAllocator a;
  MemTrack t(MemMapFormat::radix, img, a);
  EXPECT_EQ(t.preserve_order(0, 52), MODEL_EINVAL);
  EXPECT_EQ(t.preserve_order(3, 1), MODEL_EINVAL);  // not naturally aligned
  EXPECT_EQ(t.preserve_order(std::uint64_t{1} << 52, 0), MODEL_EINVAL);
  EXPECT_EQ(t.preserve_order(0, 51), 0);  // the whole 2^63-byte space
  EXPECT_EQ(t.blocks(), (std::vector<PreservedBlock>{{0, 51}}));
}

TEST(KhoRadixTree, DestroyFreesEverythingButTheRoot) {
  PhysImage img;
  TestAllocator a;
  MemTrack t(MemMapFormat::radix, img, a);
  for (const auto& b : kMixed) ASSERT_EQ(t.preserve_order(pfn_of(b.phys), b.order), 0);
  t.destroy();
  EXPECT_EQ(a.live().size(), 1u);
  EXPECT_TRUE(a.bad_frees().empty());
  EXPECT_TRUE(t.blocks().empty());
  ASSERT_EQ(t.preserve_order(pfn_of(0x1f5000), 0), 0);
  EXPECT_EQ(t.blocks(), (std::vector<PreservedBlock>{{0x1f5000, 0}}));
}

// A hand-built radix image: root -> ... with `path` (L5..L1 indices) to a leaf.
struct RadixImage {
  PhysImage img;
  phys_addr_t root = 0x10000;
  phys_addr_t next = 0x20000;
  phys_addr_t chain(const std::vector<unsigned>& path) {
    img.fill(root, kPage, 0);
    phys_addr_t node = root;
    for (const unsigned idx : path) {
      const phys_addr_t child = next;
      next += kPage;
      img.fill(child, kPage, 0);
      img.write_u64(node + idx * 8, child);
      node = child;
    }
    return node;  // the leaf
  }
};

TEST(KhoRadixDecode, CorruptImagesAreBoundedIssues) {
  {  // L5 index 4: no order bit.
    RadixImage r;
    const phys_addr_t leaf = r.chain({4, 0, 0, 0, 0});
    r.img.write_u64(leaf, 1);
    std::vector<DecodeIssue> issues;
    EXPECT_TRUE(kho_mem_deserialize(r.img, MemMapFormat::radix, r.root, &issues).empty());
    EXPECT_TRUE(has_issue(issues, "encodes no order")) << issues_text(issues);
  }
  {  // All-zero path: leaf bits 0 and 1 are keys 0 and 1 (no valid order).
    RadixImage r;
    const phys_addr_t leaf = r.chain({0, 0, 0, 0, 0});
    r.img.write_u64(leaf, 0b111);
    std::vector<DecodeIssue> issues;
    EXPECT_EQ(kho_mem_deserialize(r.img, MemMapFormat::radix, r.root, &issues),
              (std::vector<PreservedBlock>{kho_radix_decode_key(2)}));
    EXPECT_EQ(issues.size(), 2u) << issues_text(issues);
  }
  {  // A table entry pointing back at the root (cycle), one unaligned, one outside.
    RadixImage r;
    const phys_addr_t leaf = r.chain({2, 0, 0, 0, 0});
    r.img.write_u64(leaf, 1);
    const phys_addr_t l4 = r.img.read_u64(r.root + 16);
    r.img.write_u64(l4 + 8, r.root);
    r.img.write_u64(l4 + 16, 0x20008);
    r.img.write_u64(l4 + 24, 0x7777'0000'0000);
    std::vector<DecodeIssue> issues;
    EXPECT_EQ(kho_mem_deserialize(r.img, MemMapFormat::radix, r.root, &issues),
              (std::vector<PreservedBlock>{{0, 0}}));
    EXPECT_TRUE(has_issue(issues, "reached twice")) << issues_text(issues);
    EXPECT_TRUE(has_issue(issues, "not page-aligned")) << issues_text(issues);
    EXPECT_TRUE(has_issue(issues, "outside the image")) << issues_text(issues);
  }
  {  // Root outside the image; root 0 is an empty map.
    PhysImage img;
    std::vector<DecodeIssue> issues;
    EXPECT_TRUE(kho_mem_deserialize(img, MemMapFormat::radix, 0x5000, &issues).empty());
    EXPECT_EQ(issues.size(), 1u);
    issues.clear();
    EXPECT_TRUE(kho_mem_deserialize(img, MemMapFormat::radix, 0, &issues).empty());
    EXPECT_TRUE(issues.empty());
  }
  {  // An L4 node whose 512 entries all point to itself: without the
    // visited set the walk would be 512^4 table reads.
    PhysImage img;
    const phys_addr_t root = 0x40000, node = 0x41000;
    img.fill(root, kPage, 0);
    img.write_u64(root + 16, node);
    for (std::uint64_t i = 0; i < 512; ++i) img.write_u64(node + i * 8, node);
    std::vector<DecodeIssue> issues;
    EXPECT_TRUE(kho_mem_deserialize(img, MemMapFormat::radix, root, &issues).empty());
    EXPECT_EQ(issues.size(), 512u);
  }
}

// ===================== kho-v1 bitmaps and chunk lists (kernel-abi.md §3) =============

struct Chunk {
  phys_addr_t next;
  std::uint32_t order, num;
  std::vector<std::pair<std::uint64_t, phys_addr_t>> elms;
};
Chunk read_chunk(const PhysImage& img, phys_addr_t c) {
  Chunk k{img.read_u64(c), img.read_u32(c + 8), img.read_u32(c + 12), {}};
  for (std::uint32_t i = 0; i < k.num && i < KHOSER_BITMAP_SIZE; ++i)
    k.elms.emplace_back(img.read_u64(c + 16 + i * 16), img.read_u64(c + 24 + i * 16));
  return k;
}
std::vector<Chunk> read_list(const PhysImage& img, phys_addr_t head) {
  std::vector<Chunk> out;
  for (phys_addr_t c = head; c && out.size() < 100; c = out.back().next) out.push_back(read_chunk(img, c));
  return out;
}

class BitmapFormats : public ::testing::TestWithParam<MemMapFormat> {};

TEST_P(BitmapFormats, SizesAndPhysStartFormula) {
  const MemMapFormat fmt = GetParam();
  const std::uint64_t bits = kho_preserve_bits(fmt);
  const std::uint64_t bytes = bits / 8;
  PhysImage img;
  TestAllocator a;
  MemTrack t(fmt, img, a);
  // 6.16 capture: order 0 @ 0x7f4ed000 -> bitmap index 0x7f, phys_start 0x7f000000.
  ASSERT_EQ(t.preserve_order(0x7f4ed, 0), 0);
  ASSERT_EQ(t.preserve_order(pfn_of(0x1b0000000), 4), 0);
  ASSERT_EQ(t.preserve_order(pfn_of(0x7d000000), 10), 0);
  ASSERT_EQ(a.log().size(), 3u);
  for (const auto& [addr, len] : a.log()) {
    EXPECT_EQ(len, bytes);
    EXPECT_EQ(addr % bytes, 0u);  // kzalloc(512) / get_zeroed_page alignment
  }
  const auto head = t.serialize();
  ASSERT_TRUE(head);
  const auto list = read_list(img, *head);
  ASSERT_EQ(list.size(), 3u);
  const std::pair<unsigned, phys_addr_t> want[] = {{0, 0x7f4ed000}, {4, 0x1b0000000}, {10, 0x7d000000}};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto [order, phys] = want[i];
    EXPECT_EQ(list[i].order, order);
    ASSERT_EQ(list[i].num, 1u);
    const std::uint64_t idx = (phys >> 12 >> order) / bits;
    EXPECT_EQ(list[i].elms[0].first, (idx * bits) << (order + 12));
    EXPECT_EQ(list[i].elms[0].first % (bits << (order + 12)), 0u);
  }
  if (fmt == MemMapFormat::bitmap512) {
    EXPECT_EQ(list[0].elms[0].first, 0x7f000000u);   // 16 MiB windows at order 0
    EXPECT_EQ(list[1].elms[0].first, 0x1b0000000u);  // the 6 GiB run's order-4 element
  } else {
    EXPECT_EQ(list[0].elms[0].first, 0x78000000u);  // 128 MiB windows at order 0
    EXPECT_EQ(list[1].elms[0].first, 0x180000000u);
  }
  EXPECT_EQ(t.blocks(), (std::vector<PreservedBlock>{{0x7f4ed000, 0}, {0x1b0000000, 4}, {0x7d000000, 10}}));
  std::vector<DecodeIssue> issues;
  EXPECT_EQ(kho_mem_deserialize(img, fmt, *head, &issues), t.blocks());
  EXPECT_TRUE(issues.empty()) << issues_text(issues);
}

TEST_P(BitmapFormats, ChunkCapacity255GivesSeveralChunksPerOrder) {
  const MemMapFormat fmt = GetParam();
  const std::uint64_t window = kho_preserve_bits(fmt);  // pages per order-0 bitmap
  PhysImage img;
  TestAllocator a;
  MemTrack t(fmt, img, a);
  std::vector<PreservedBlock> want;
  for (std::uint64_t i = 0; i < 600; ++i) {  // 600 order-0 bitmaps, in reverse
    const std::uint64_t pfn = (599 - i) * window + i % 7;
    ASSERT_EQ(t.preserve_order(pfn, 0), 0);
  }
  for (std::uint64_t i = 0; i < 600; ++i) want.push_back({(i * window + (599 - i) % 7) << 12, 0});
  ASSERT_EQ(t.preserve_order(pfn_of(0x40000000), 3), 0);
  want.push_back({0x40000000, 3});
  const auto head = t.serialize();
  ASSERT_TRUE(head);
  const auto list = read_list(img, *head);
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0].num, 255u);
  EXPECT_EQ(list[1].num, 255u);
  EXPECT_EQ(list[2].num, 90u);
  EXPECT_EQ(list[3].num, 1u);
  EXPECT_EQ(list[0].order, 0u);
  EXPECT_EQ(list[2].order, 0u);
  EXPECT_EQ(list[3].order, 3u);
  EXPECT_EQ(list[3].next, 0u);
  std::uint64_t prev = 0;
  for (std::size_t c = 0; c < 3; ++c)
    for (const auto& [start, bm] : list[c].elms) {
      EXPECT_TRUE(prev == 0 || start > prev);  // entries ascend by bitmap index
      prev = start;
    }
  std::vector<DecodeIssue> issues;
  EXPECT_EQ(kho_mem_deserialize(img, fmt, *head, &issues), want);
  EXPECT_TRUE(issues.empty()) << issues_text(issues);
  EXPECT_EQ(t.metadata().size(), 601u + 4u);
}

TEST_P(BitmapFormats, NothingPreservedSerializesToZero) {
  PhysImage img;
  TestAllocator a;
  MemTrack t(GetParam(), img, a);
  EXPECT_EQ(t.serialize(), std::optional<phys_addr_t>{0});
  EXPECT_EQ(a.calls(), 0);
  EXPECT_EQ(t.serialized_head(), 0u);
  EXPECT_TRUE(kho_mem_deserialize(img, GetParam(), 0, nullptr).empty());
}

TEST_P(BitmapFormats, EnomemDuringSerializeLeaksNothing) {
  const MemMapFormat fmt = GetParam();
  const std::uint64_t window = kho_preserve_bits(fmt);
  for (long ok_chunks = 0; ok_chunks < 4; ++ok_chunks) {
    SCOPED_TRACE(ok_chunks);
    PhysImage img;
    TestAllocator a;
    MemTrack t(fmt, img, a);
    for (std::uint64_t i = 0; i < 300; ++i) ASSERT_EQ(t.preserve_order(i * window, 0), 0);  // 2 chunks
    ASSERT_EQ(t.preserve_order(0x200, 9), 0);
    ASSERT_EQ(t.preserve_order(0x400, 10), 0);  // 4 chunks in all
    const auto live = a.live();
    a.allow(ok_chunks);
    EXPECT_EQ(t.serialize(), std::nullopt);
    EXPECT_EQ(a.live(), live);  // every new chunk freed, bitmaps kept
    EXPECT_EQ(a.freed().size(), static_cast<std::size_t>(ok_chunks));
    EXPECT_EQ(t.serialized_head(), 0u);
    a.allow(-1);
    const auto head = t.serialize();
    ASSERT_TRUE(head);
    EXPECT_EQ(kho_mem_deserialize(img, fmt, *head, nullptr), t.blocks());
  }
}

TEST_P(BitmapFormats, EnomemForABitmapKeepsTheOrderAsAnEmptyChunk) {
  // __kho_preserve_order(): the kho_mem_phys of the order is created before
  // the bitmap allocation fails, and kho_mem_serialize() gives every order
  // present its chunk, even with no bitmap in it.
  PhysImage img;
  TestAllocator a;
  MemTrack t(GetParam(), img, a);
  a.allow(0);
  EXPECT_EQ(t.preserve_order(0x10, 4), MODEL_ENOMEM);
  EXPECT_FALSE(t.is_preserved(0x10, 4));
  a.allow(-1);
  const auto head = t.serialize();
  ASSERT_TRUE(head);
  ASSERT_NE(*head, 0u);
  const auto list = read_list(img, *head);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].order, 4u);
  EXPECT_EQ(list[0].num, 0u);
  EXPECT_TRUE(kho_mem_deserialize(img, GetParam(), *head, nullptr).empty());
}

TEST_P(BitmapFormats, FreeSerializedAndDestroy) {
  PhysImage img;
  TestAllocator a;
  MemTrack t(GetParam(), img, a);
  for (const auto& b : kMixed) ASSERT_EQ(t.preserve_order(pfn_of(b.phys), b.order), 0);
  const std::size_t bitmaps = a.live().size();
  ASSERT_TRUE(t.serialize());
  const std::size_t chunks = a.live().size() - bitmaps;
  EXPECT_EQ(chunks, 12u);  // one per order: 0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 14, 18
  t.free_serialized();
  EXPECT_EQ(t.serialized_head(), 0u);
  EXPECT_EQ(a.live().size(), bitmaps);
  EXPECT_EQ(t.metadata().size(), bitmaps);
  EXPECT_EQ(t.blocks(), by_order_phys(kMixed));  // bitmaps stay

  ASSERT_TRUE(t.serialize());
  t.destroy();  // kho_abort(): bitmaps, orders and the chunk list
  EXPECT_TRUE(a.live().empty());
  EXPECT_TRUE(a.bad_frees().empty());
  EXPECT_TRUE(t.blocks().empty());
  EXPECT_TRUE(t.metadata().empty());
  EXPECT_EQ(t.serialize(), std::optional<phys_addr_t>{0});
  ASSERT_EQ(t.preserve_order(1, 0), 0);
  EXPECT_EQ(t.blocks(), (std::vector<PreservedBlock>{{0x1000, 0}}));
}

TEST_P(BitmapFormats, ReserializeFreesThePreviousListAfterTheNewOne) {
  // 6.19 kho_finalize(): kho_mem_serialize() then kho_update_memory_map().
  PhysImage img;
  TestAllocator a;
  MemTrack t(GetParam(), img, a);
  ASSERT_EQ(t.preserve_order(1, 0), 0);
  const auto first = t.serialize();
  ASSERT_EQ(t.preserve_order(0x400, 10), 0);
  const auto second = t.serialize();
  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, *second);
  EXPECT_EQ(a.freed(), (std::vector<phys_addr_t>{*first}));
  EXPECT_EQ(t.serialized_head(), *second);
  EXPECT_EQ(kho_mem_deserialize(img, GetParam(), *second, nullptr),
            (std::vector<PreservedBlock>{{0x1000, 0}, {0x400000, 10}}));
}

TEST_P(BitmapFormats, StaleMapAfterTheLastSerialize) {
  // 6.19 kho_finalize() (docs/kernel-behaviour.md §5): a new bit in an
  // existing bitmap reaches the next kernel, a new bitmap or a new order
  // does not.
  PhysImage img;
  TestAllocator a;
  MemTrack t(GetParam(), img, a);
  ASSERT_EQ(t.preserve_order(1, 0), 0);
  const auto head = t.serialize();
  ASSERT_TRUE(head);
  ASSERT_EQ(t.preserve_order(2, 0), 0);                            // same bitmap
  ASSERT_EQ(t.preserve_order(kho_preserve_bits(GetParam()), 0), 0);  // new bitmap
  ASSERT_EQ(t.preserve_order(4, 2), 0);                            // new order
  EXPECT_EQ(kho_mem_deserialize(img, GetParam(), *head, nullptr),
            (std::vector<PreservedBlock>{{0x1000, 0}, {0x2000, 0}}));
  EXPECT_EQ(t.blocks().size(), 4u);
}

TEST_P(BitmapFormats, UnpreserveClearsTheBitAndKeepsTheBitmap) {
  PhysImage img;
  TestAllocator a;
  MemTrack t(GetParam(), img, a);
  ASSERT_EQ(t.preserve_order(0x200, 9), 0);
  ASSERT_EQ(t.preserve_order(0x1000, 0), 0);
  t.unpreserve_order(0x200, 9);
  t.unpreserve_order(0x400, 10);  // no such order: no-op
  t.unpreserve_order(0x1000 + 20 * kho_preserve_bits(GetParam()), 0);  // no such bitmap: no-op
  EXPECT_FALSE(t.is_preserved(0x200, 9));
  EXPECT_TRUE(t.is_preserved(0x1000, 0));
  EXPECT_EQ(t.metadata().size(), 2u);
  const auto head = t.serialize();
  ASSERT_TRUE(head);
  const auto list = read_list(img, *head);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].num, 1u);  // the empty order-9 bitmap is still listed
  EXPECT_EQ(kho_mem_deserialize(img, GetParam(), *head, nullptr),
            (std::vector<PreservedBlock>{{0x1000000, 0}}));
}

TEST_P(BitmapFormats, CorruptChunkListsAreBoundedIssues) {
  const MemMapFormat fmt = GetParam();
  PhysImage img;
  TestAllocator a;
  MemTrack t(fmt, img, a);
  ASSERT_EQ(t.preserve_order(1, 0), 0);
  ASSERT_EQ(t.preserve_order(0x400, 10), 0);
  const phys_addr_t head = *t.serialize();
  const auto list = read_list(img, head);
  ASSERT_EQ(list.size(), 2u);
  const phys_addr_t second = list[0].next;
  const auto decode = [&](PhysImage& im, std::vector<DecodeIssue>& issues) {
    return kho_mem_deserialize(im, fmt, head, &issues);
  };
  {  // cycle: the last chunk points back at the first
    PhysImage im = clone(img);
    im.write_u64(second, head);
    std::vector<DecodeIssue> issues;
    EXPECT_EQ(decode(im, issues).size(), 2u);
    EXPECT_TRUE(has_issue(issues, "cycle")) << issues_text(issues);
  }
  {  // self loop
    PhysImage im = clone(img);
    im.write_u64(head, head);
    std::vector<DecodeIssue> issues;
    EXPECT_EQ(decode(im, issues).size(), 1u);
    EXPECT_TRUE(has_issue(issues, "cycle"));
  }
  {  // num_elms above 255: read 255 (all but the first are zero entries)
    PhysImage im = clone(img);
    im.write_u32(head + 12, 300);
    std::vector<DecodeIssue> issues;
    EXPECT_EQ(decode(im, issues).size(), 2u);
    EXPECT_TRUE(has_issue(issues, "exceeds capacity"));
    EXPECT_TRUE(has_issue(issues, "null or outside"));
  }
  {  // order 64 (and 52): chunk skipped
    for (const std::uint32_t order : {64u, 52u, 0xffffffffu}) {
      PhysImage im = clone(img);
      im.write_u32(head + 8, order);
      std::vector<DecodeIssue> issues;
      EXPECT_EQ(decode(im, issues), (std::vector<PreservedBlock>{{0x400000, 10}}));
      EXPECT_TRUE(has_issue(issues, "too large"));
    }
  }
  {  // pointers outside the image: next and bitmap
    PhysImage im = clone(img);
    im.write_u64(second, 0x7700'0000'0000);
    im.write_u64(head + 24, 0x6600'0000'0000);
    std::vector<DecodeIssue> issues;
    EXPECT_EQ(decode(im, issues), (std::vector<PreservedBlock>{{0x400000, 10}}));
    EXPECT_TRUE(has_issue(issues, "khoser_mem_chunk points outside the image"));
    EXPECT_TRUE(has_issue(issues, "bitmap pointer"));
    std::vector<DecodeIssue> none;
    EXPECT_TRUE(kho_mem_deserialize(im, fmt, 0x5500'0000'0000, &none).empty());
    EXPECT_EQ(none.size(), 1u);
  }
  {  // phys_start not a multiple of the bitmap coverage: reported, decoded
    PhysImage im = clone(img);
    im.write_u64(head + 16, 0x1000);
    std::vector<DecodeIssue> issues;
    EXPECT_EQ(decode(im, issues).front(), (PreservedBlock{0x2000, 0}));
    EXPECT_TRUE(has_issue(issues, "coverage"));
  }
}

std::string format_name(const ::testing::TestParamInfo<MemMapFormat>& p) {
  return p.param == MemMapFormat::bitmap512 ? "Bitmap512" : "BitmapPage";
}
INSTANTIATE_TEST_SUITE_P(Kho, BitmapFormats,
                         ::testing::Values(MemMapFormat::bitmap512, MemMapFormat::bitmap_page), format_name);

TEST(KhoBitmap, ModelGuards) {
  PhysImage img;
  TestAllocator a;
  MemTrack t(MemMapFormat::bitmap512, img, a);
  EXPECT_EQ(t.preserve_order(1, 1), MODEL_EINVAL);
  EXPECT_EQ(t.preserve_order(0, 52), MODEL_EINVAL);
  EXPECT_EQ(a.calls(), 0);
  EXPECT_EQ(t.radix_root(), 0u);
}

// ============================ greedy split (kernel-behaviour.md §4, spec §5 item 21) ================

TEST(KhoSplitRange, ExactCoverAlignmentAndBound) {
  for (std::uint64_t start = 0; start < 260; ++start) {
    for (std::uint64_t n = 1; n < 260; ++n) {
      const auto blocks = kho_split_range(start, n);
      std::uint64_t pfn = start;
      for (const auto& b : blocks) {
        ASSERT_EQ(b.phys, pfn << 12);
        ASSERT_EQ(pfn % (std::uint64_t{1} << b.order), 0u);
        const unsigned ctz = pfn ? static_cast<unsigned>(std::countr_zero(pfn)) : 64;
        ASSERT_EQ(b.order, std::min(ctz, static_cast<unsigned>(std::bit_width(start + n - pfn)) - 1));
        pfn += std::uint64_t{1} << b.order;
      }
      ASSERT_EQ(pfn, start + n);
      const unsigned ceil_log2 = static_cast<unsigned>(std::bit_width(n - 1));
      ASSERT_LE(blocks.size(), std::max(1u, 2 * ceil_log2)) << start << "+" << n;
    }
  }
  EXPECT_TRUE(kho_split_range(5, 0).empty());
  EXPECT_TRUE(kho_split_range(~std::uint64_t{0}, 2).empty());  // wraps
}

TEST(KhoSplitRange, OrdersAboveMaxPageOrder) {
  // 8 MiB at an 8 MiB-aligned address: one order-11 block (real behaviour;
  // kho_restore_folio() refuses it, 6.16-7.0).
  EXPECT_EQ(kho_split_range(pfn_of(0x7d800000), 2048), (std::vector<PreservedBlock>{{0x7d800000, 11}}));
  // 8 MiB at a 4 MiB (not 8 MiB) aligned address: two order-10 blocks.
  EXPECT_EQ(kho_split_range(pfn_of(0x7d400000), 2048),
            (std::vector<PreservedBlock>{{0x7d400000, 10}, {0x7d800000, 10}}));
  // 64 MiB aligned: order 14, as seen in a 7.3 capture.
  EXPECT_EQ(kho_split_range(pfn_of(0x4000000), 1 << 14), (std::vector<PreservedBlock>{{0x4000000, 14}}));
}

TEST(KhoSplitRange, CapturedReserveMemSplits) {
  // 7.3 reserve-mem-4: /oops [0x7f29f000+0x100000] -> o0,5,6,7,4,3,2,1,0.
  std::vector<unsigned> orders;
  for (const auto& b : kho_split_range(pfn_of(0x7f29f000), 0x100)) orders.push_back(b.order);
  EXPECT_EQ(orders, (std::vector<unsigned>{0, 5, 6, 7, 4, 3, 2, 1, 0}));
  // 6.16 reserve-mem-4: /oops [0x7f4f0000+0x100000] -> o4,7,6,5,4; /small -> o0,1.
  orders.clear();
  for (const auto& b : kho_split_range(pfn_of(0x7f4f0000), 0x100)) orders.push_back(b.order);
  EXPECT_EQ(orders, (std::vector<unsigned>{4, 7, 6, 5, 4}));
  EXPECT_EQ(kho_split_range(pfn_of(0x7f4ed000), 3),
            (std::vector<PreservedBlock>{{0x7f4ed000, 0}, {0x7f4ee000, 1}}));
  // 7.3 reserve-mem-1: 4 MiB only 2 MiB-aligned -> two order-9 blocks.
  EXPECT_EQ(kho_split_range(pfn_of(0x7ce00000), 1024),
            (std::vector<PreservedBlock>{{0x7ce00000, 9}, {0x7d000000, 9}}));
}

}  // namespace
}  // namespace khospec::model
