// vmalloc chunk lists (kho_preserve_vmalloc) and kho_block chains: writers,
// readers and their rejections of corrupt images (docs/kernel-abi.md §5.1, §5.2).
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

// ============================ vmalloc chunks (kernel-abi.md §5.1) ============================

std::vector<phys_addr_t> data_blocks(std::size_t n, unsigned order) {
  std::vector<phys_addr_t> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(0x2'0000'0000 + (std::uint64_t{i} << (12 + order)) * 3);
  return v;
}

TEST(KhoVmalloc, RoundTripAndChunkBoundaries) {
  struct Case {
    std::size_t n;
    unsigned order;
    std::size_t chunks;
  };
  // A chunk is chained as soon as the previous one fills, so 511 blocks take
  // two chunks (the second empty).
  for (const Case c : {Case{1, 0, 1}, Case{510, 0, 1}, Case{511, 0, 2}, Case{512, 0, 2}, Case{1022, 0, 3},
                       Case{1023, 0, 3}, Case{100, 2, 1}, Case{511, 9, 2}}) {
    SCOPED_TRACE(c.n);
    PhysImage img;
    TestAllocator a;
    KhoVmalloc v;
    const auto blocks = data_blocks(c.n, c.order);
    const auto chunks = kho_vmalloc_write(img, a, blocks, c.order, KHO_VMALLOC_ALLOC | KHO_VMALLOC_HUGE_VMAP, &v);
    ASSERT_TRUE(chunks);
    EXPECT_EQ(chunks->size(), c.chunks);
    EXPECT_EQ(v.first, chunks->front());
    EXPECT_EQ(v.total_pages, c.n << c.order);
    EXPECT_EQ(v.order, c.order);
    for (std::size_t i = 0; i + 1 < chunks->size(); ++i) EXPECT_EQ(img.read_u64((*chunks)[i]), (*chunks)[i + 1]);
    EXPECT_EQ(img.read_u64(chunks->back()), 0u);
    std::vector<DecodeIssue> issues;
    EXPECT_EQ(kho_vmalloc_read(img, v, &issues), blocks);
    EXPECT_TRUE(issues.empty()) << issues_text(issues);
  }
}

TEST(KhoVmalloc, StructLayout) {
  PhysImage img;
  const KhoVmalloc v{0x680000, 0x12345678, 0x3, 0x9};
  kho_vmalloc_store(img, 0x100, v);
  EXPECT_EQ(img.read_u64(0x100), 0x680000u);
  EXPECT_EQ(img.read_u32(0x108), 0x12345678u);
  EXPECT_EQ(img.read(0x10c, 4), (std::vector<std::uint8_t>{0x3, 0, 0x9, 0}));
  const KhoVmalloc w = kho_vmalloc_load(img, 0x100);
  EXPECT_EQ(w.first, v.first);
  EXPECT_EQ(w.total_pages, v.total_pages);
  EXPECT_EQ(w.flags, v.flags);
  EXPECT_EQ(w.order, v.order);
}

TEST(KhoVmalloc, EnomemFreesEveryChunk) {
  for (long ok = 0; ok < 3; ++ok) {
    PhysImage img;
    TestAllocator a;
    a.allow(ok);
    KhoVmalloc v{};
    EXPECT_EQ(kho_vmalloc_write(img, a, data_blocks(1200, 0), 0, KHO_VMALLOC_ALLOC, &v), std::nullopt);
    EXPECT_TRUE(a.live().empty());
    EXPECT_TRUE(a.bad_frees().empty());
    EXPECT_EQ(v.first, 0u);
  }
}

TEST(KhoVmalloc, ReaderRejections) {
  PhysImage img;
  TestAllocator a;
  KhoVmalloc v;
  const auto chunks = kho_vmalloc_write(img, a, data_blocks(600, 0), 0, KHO_VMALLOC_ALLOC, &v);
  ASSERT_TRUE(chunks);
  const auto rejects = [&](const PhysImage& im, KhoVmalloc w, const std::string& why) {
    std::vector<DecodeIssue> issues;
    EXPECT_EQ(kho_vmalloc_read(im, w, &issues), std::nullopt) << why;
    EXPECT_TRUE(has_issue(issues, why)) << issues_text(issues);
  };
  KhoVmalloc w = v;
  w.flags = 0x4;
  rejects(img, w, "unsupported flags");
  w = v;
  w.total_pages = 599;  // one block too many
  rejects(img, w, "more pages than total_pages");
  w.total_pages = 601;
  rejects(img, w, "pages listed");
  w = v;
  w.order = 1;  // 600 x 2 pages > 600
  rejects(img, w, "more pages than total_pages");
  w.order = 60;
  rejects(img, w, "too large");
  w = v;
  w.total_pages = 0;
  rejects(img, w, "empty area");
  {
    PhysImage im = clone(img);
    im.write_u64((*chunks)[1], (*chunks)[0]);  // cycle
    w = v;
    w.total_pages = 0xffffffff;
    rejects(im, w, "cycle");
  }
  {
    PhysImage im = clone(img);
    im.write_u64((*chunks)[0], 0x7000'0000'0000);
    rejects(im, v, "outside the image");
  }
  {
    PhysImage im = clone(img);
    im.write_u64((*chunks)[0] + 8, 0x123);
    rejects(im, v, "not page-aligned");
  }
}

// ============================ kho_block chains (kernel-abi.md §5.2) ==========================

std::vector<std::vector<std::uint8_t>> entries(std::size_t n, std::size_t size) {
  std::vector<std::vector<std::uint8_t>> v(n, std::vector<std::uint8_t>(size));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < size; ++j) v[i][j] = static_cast<std::uint8_t>(i * 31 + j + 1);
  return v;
}

TEST(KhoBlock, RoundTripAndCapacity) {
  struct Case {
    std::size_t entry_size, n, blocks;
  };
  // count_per_block = (4096 - 16) / entry_size: 8 -> 510, 32 -> 127, 80 -> 51, 4080 -> 1.
  for (const Case c : {Case{8, 510, 1}, Case{8, 511, 2}, Case{32, 127, 1}, Case{32, 128, 2}, Case{80, 1, 1},
                       Case{80, 103, 3}, Case{4080, 3, 3}, Case{24, 0, 0}}) {
    SCOPED_TRACE(std::to_string(c.entry_size) + " x " + std::to_string(c.n));
    PhysImage img;
    TestAllocator a;
    const auto in = entries(c.n, c.entry_size);
    const auto blocks = kho_block_write(img, a, in, c.entry_size);
    ASSERT_TRUE(blocks);
    ASSERT_EQ(blocks->size(), c.blocks);
    const std::uint64_t cpb = (kPage - 16) / c.entry_size;
    for (std::size_t b = 0; b < blocks->size(); ++b) {
      EXPECT_EQ(img.read_u64((*blocks)[b]), b + 1 < blocks->size() ? (*blocks)[b + 1] : 0);
      EXPECT_EQ(img.read_u64((*blocks)[b] + 8), std::min<std::uint64_t>(cpb, c.n - b * cpb));
    }
    std::vector<DecodeIssue> issues;
    EXPECT_EQ(kho_block_read(img, blocks->empty() ? 0 : blocks->front(), c.entry_size, &issues), in);
    EXPECT_TRUE(issues.empty()) << issues_text(issues);
  }
  PhysImage img;
  TestAllocator a;
  EXPECT_EQ(kho_block_write(img, a, entries(1, 4081), 4081), std::nullopt);  // no entry fits
  EXPECT_EQ(kho_block_write(img, a, entries(1, 8), 16), std::nullopt);      // wrong entry size
  EXPECT_EQ(kho_block_write(img, a, {}, 0), std::nullopt);
  EXPECT_EQ(a.calls(), 0);
}

TEST(KhoBlock, EnomemFreesEveryBlock) {
  PhysImage img;
  TestAllocator a;
  a.allow(2);
  EXPECT_EQ(kho_block_write(img, a, entries(200, 80), 80), std::nullopt);
  EXPECT_TRUE(a.live().empty());
  EXPECT_EQ(a.freed().size(), 2u);
  EXPECT_TRUE(a.bad_frees().empty());
}

TEST(KhoBlock, ReaderRejections) {
  PhysImage img;
  TestAllocator a;
  const auto blocks = kho_block_write(img, a, entries(120, 32), 32);  // 127 per block
  ASSERT_TRUE(blocks && blocks->size() == 1);
  const auto two = kho_block_write(img, a, entries(200, 32), 32);
  ASSERT_TRUE(two && two->size() == 2);
  const auto rejects = [&](const PhysImage& im, phys_addr_t head, const std::string& why) {
    std::vector<DecodeIssue> issues;
    EXPECT_EQ(kho_block_read(im, head, 32, &issues), std::nullopt) << why;
    EXPECT_TRUE(has_issue(issues, why)) << issues_text(issues);
  };
  {
    PhysImage im = clone(img);
    im.write_u64((*two)[1] + 8, 0);
    rejects(im, two->front(), "invalid entry count: 0");
  }
  {
    PhysImage im = clone(img);
    im.write_u64(blocks->front() + 8, 128);
    rejects(im, blocks->front(), "invalid entry count: 128");
  }
  {
    PhysImage im = clone(img);
    im.write_u64((*two)[1], two->front());
    rejects(im, two->front(), "cycle");
    im.write_u64(two->front(), two->front());
    rejects(im, two->front(), "cycle");
  }
  {
    PhysImage im = clone(img);
    im.write_u64((*two)[1], 0x7000'0000'0000);
    rejects(im, two->front(), "outside the image");
  }
  // The head is already read with entry size 32; with 4000 only 1 fits.
  std::vector<DecodeIssue> issues;
  EXPECT_EQ(kho_block_read(img, blocks->front(), 4000, &issues), std::nullopt);
  EXPECT_EQ(kho_block_read(img, 0, 32, &issues), (std::vector<std::vector<std::uint8_t>>{}));
  EXPECT_EQ(kho_block_read(img, blocks->front(), 0, &issues), std::nullopt);
}

TEST(KhoBlock, AtMostKhoMaxBlocks) {
  // 10001 chained blocks of one 8-byte entry: rejected from the head, and the
  // 10000 from the second block on are accepted.
  PhysImage img;
  const phys_addr_t base = 0x100000;
  for (std::uint64_t i = 0; i <= KHO_MAX_BLOCKS; ++i) {
    const phys_addr_t b = base + i * kPage;
    img.write_u64(b, i < KHO_MAX_BLOCKS ? b + kPage : 0);
    img.write_u64(b + 8, 1);
    img.write_u64(b + 16, i);
  }
  std::vector<DecodeIssue> issues;
  EXPECT_EQ(kho_block_read(img, base, 8, &issues), std::nullopt);
  EXPECT_TRUE(has_issue(issues, "KHO_MAX_BLOCKS")) << issues_text(issues);
  issues.clear();
  const auto got = kho_block_read(img, base + kPage, 8, &issues);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), KHO_MAX_BLOCKS);
  EXPECT_TRUE(issues.empty());
  // Writing more than KHO_MAX_BLOCKS blocks fails (-ENOSPC) before allocating.
  TestAllocator a;
  EXPECT_EQ(kho_block_write(img, a, entries(KHO_MAX_BLOCKS + 1, 4080), 4080), std::nullopt);
  EXPECT_EQ(a.calls(), 0);
}

}  // namespace
}  // namespace khospec::model
