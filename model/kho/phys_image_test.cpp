// PhysImage: the sparse page store every wire structure is written to.
// Untouched memory reads as zero; zero-filled whole pages are stored without
// contents but count as touched; page_view() agrees with touched() and
// page_data(); runs() lists touched pages as ascending contiguous runs.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "model/kho/phys_image.hpp"

namespace khospec::model {
namespace {

constexpr std::uint64_t kPage = PhysImage::kPageSize;

TEST(PhysImage, UntouchedReadsAsZero) {
  PhysImage img;
  EXPECT_EQ(img.read_u64(0x1234'5678), 0u);
  EXPECT_FALSE(img.touched(0x1234'5678));
  EXPECT_EQ(img.page_count(), 0u);
  const auto v = img.page_view(0x12345);
  EXPECT_FALSE(v.touched);
  EXPECT_EQ(v.data, nullptr);
}

TEST(PhysImage, PageViewAgreesWithTouchedAndPageData) {
  PhysImage img;
  img.fill(0x10000, kPage, 0);          // whole zero page: touched, no contents
  img.write_u64(0x20008, 0xdead'beef);  // stored contents
  img.fill(0x30010, 16, 0);             // partial zero fill: stored page
  for (std::uint64_t pfn : {0x10ull, 0x20ull, 0x30ull, 0x40ull}) {
    const auto v = img.page_view(pfn);
    EXPECT_EQ(v.touched, img.touched(pfn * kPage)) << pfn;
    EXPECT_EQ(v.data, img.page_data(pfn)) << pfn;
  }
  EXPECT_TRUE(img.page_view(0x10).touched);
  EXPECT_EQ(img.page_view(0x10).data, nullptr);
  ASSERT_NE(img.page_view(0x20).data, nullptr);
  EXPECT_EQ(img.page_view(0x20).data[8], 0xef);
  EXPECT_FALSE(img.page_view(0x40).touched);
}

TEST(PhysImage, WritesAcrossPagesAndRuns) {
  PhysImage img;
  std::vector<std::uint8_t> bytes(3 * kPage);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + 1);
  img.write(0x5000 + 100, bytes);  // pages 5..8
  img.write_u32(0x100000, 1);      // page 0x100
  img.fill(0x3000, kPage, 0);      // page 3
  EXPECT_EQ(img.read(0x5000 + 100, bytes.size()), bytes);
  EXPECT_EQ(img.page_count(), 6u);
  const auto runs = img.runs();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0], std::make_pair(phys_addr_t{0x3000}, phys_addr_t{0x4000}));
  EXPECT_EQ(runs[1], std::make_pair(phys_addr_t{0x5000}, phys_addr_t{0x9000}));
  EXPECT_EQ(runs[2], std::make_pair(phys_addr_t{0x100000}, phys_addr_t{0x101000}));
  // A read straddling a stored and an untouched page.
  const auto tail = img.read(0x9000 - 8, 16);
  for (std::size_t i = 8; i < 16; ++i) EXPECT_EQ(tail[i], 0);
}

TEST(PhysImage, RandomWritesMatchAFlatBuffer) {
  PhysImage img;
  std::vector<std::uint8_t> flat(64 * kPage, 0);
  std::mt19937_64 rng(42);
  for (int i = 0; i < 500; ++i) {
    const std::uint64_t at = rng() % (flat.size() - 64);
    const std::uint64_t v = rng();
    img.write_u64(at, v);
    for (int b = 0; b < 8; ++b) flat[at + static_cast<std::uint64_t>(b)] = static_cast<std::uint8_t>(v >> (8 * b));
  }
  EXPECT_EQ(img.read(0, flat.size()), flat);
  for (std::uint64_t pfn = 0; pfn < 64; ++pfn) {
    const auto v = img.page_view(pfn);
    if (!v.data) continue;
    for (std::uint64_t o = 0; o < kPage; ++o) ASSERT_EQ(v.data[o], flat[pfn * kPage + o]);
  }
}

}  // namespace
}  // namespace khospec::model

namespace khospec::model {
namespace {

// A page source stands in for memory the image has not stored (preflight's
// machine is the previous kernel's memory): read on first use, kept, and a
// partial write keeps the rest of the source's page.
TEST(PhysImageSource, PagesComeFromTheSourceOnFirstUse) {
  PhysImage img;
  int calls = 0;
  img.set_source([&](std::uint64_t pfn, std::uint8_t* page) {
    ++calls;
    if (pfn != 5) return false;
    for (std::size_t i = 0; i < PhysImage::kPageSize; ++i) page[i] = static_cast<std::uint8_t>(i);
    return true;
  });
  EXPECT_EQ(img.read_u32(5 * 4096 + 4), 0x07060504u);
  EXPECT_TRUE(img.touched(5 * 4096));
  EXPECT_EQ(img.read_u32(5 * 4096 + 8), 0x0b0a0908u);
  EXPECT_EQ(calls, 1);  // kept
  img.write_u32(5 * 4096 + 4, 0xdeadbeef);
  EXPECT_EQ(img.read_u32(5 * 4096), 0x03020100u);
  EXPECT_EQ(img.read_u32(5 * 4096 + 4), 0xdeadbeefu);
  EXPECT_EQ(img.read_u32(6 * 4096), 0u);  // the source has none: zeros, not touched
  EXPECT_FALSE(img.touched(6 * 4096));
  EXPECT_EQ(img.read_u32(6 * 4096 + 8), 0u);
  EXPECT_EQ(calls, 2);  // an absent page is asked once
}

// The fuzzers' finding (docs/fuzz.md): the digest of a 256 GiB preserved
// block walked every page of it; it now costs the pages stored in the range.
// Equal contents at equal offsets digest alike; a byte or a position differs.
TEST(PhysImage, DigestCostsTheStoredPagesNotTheRange) {
  const std::uint64_t base = 0x4000000000, len = 0x4000000000;  // 256 GiB
  PhysImage a, b;
  a.write_u32(base + 0x1000, 0x12345678);
  b.write_u32(base + 0x1000, 0x12345678);
  a.write_u32(base + len - 8, 1);
  b.write_u32(base + len - 8, 1);
  b.fill(base + 0x10000, 0x1000, 0);  // a stored page of zeros reads as zeros
  EXPECT_EQ(image_digest(a, base, len), image_digest(b, base, len));
  PhysImage moved;
  moved.write_u32(base + 0x2000, 0x12345678);
  moved.write_u32(base + len - 8, 1);
  EXPECT_NE(image_digest(a, base, len), image_digest(moved, base, len));
  b.write_u32(base + len - 8, 2);
  EXPECT_NE(image_digest(a, base, len), image_digest(b, base, len));
  // An unaligned range takes the part of a page inside it, as the page walk did.
  EXPECT_EQ(image_digest(a, base + 0x1000, 4), image_digest(b, base + 0x1000, 4));
  EXPECT_NE(image_digest(a, base + 0x1000, 4), image_digest(PhysImage{}, base + 0x1000, 4));
}

}  // namespace
}  // namespace khospec::model
