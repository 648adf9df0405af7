// The run-producing preserved-set walk (kho_mem_walk()):
//   - unit tests of the word paths (all-ones words, zero words, runs across
//     words, bitmaps and chunks, order changes, blocks wrapping past 2^64,
//     unaligned bitmaps, radix leaf 0);
//   - RapidCheck properties: on random preserved sets (sparse, dense, mixed
//     orders, near bitmap / leaf / chunk boundaries) in every format, the runs
//     expanded equal kho_mem_deserialize() and the old per-bit reader
//     (mem_track_ref_test_util.hpp) block for block, and the runs are maximal;
//     on corrupted maps (byte flips, pointers redirected to other metadata,
//     rewritten headers) all three report the same blocks and the same issues.
// The seed is fixed for ctest (RC_PARAMS) and printed; RC_PARAMS overrides it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <string>
#include <utility>

#include "model/kho/mem_track.hpp"
#include "model/kho/mem_track_ref_test_util.hpp"
#include "model/kho/mem_track_test_util.hpp"
#include "core/rc_run.hpp"

namespace khospec::model {
namespace {

constexpr std::uint64_t kPage = PhysImage::kPageSize;
constexpr std::uint64_t kAllOnes = ~std::uint64_t{0};

using IssueList = std::vector<std::pair<std::string, phys_addr_t>>;
IssueList issue_list(const std::vector<DecodeIssue>& v) {
  IssueList out;
  for (const auto& i : v) out.emplace_back(i.what, i.at);
  return out;
}

std::string format_name(MemMapFormat f) {
  switch (f) {
    case MemMapFormat::bitmap512: return "Bitmap512";
    case MemMapFormat::bitmap_page: return "BitmapPage";
    case MemMapFormat::radix: return "Radix";
  }
  return "?";
}

// Runs are non-empty, never wrap past 2^64, and are maximal: no run could
// extend the one before it.
::testing::AssertionResult runs_well_formed(const std::vector<PreservedRun>& runs) {
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    if (r.count == 0) return ::testing::AssertionFailure() << "empty run " << i;
    const unsigned shift = r.order + KHO_PAGE_SHIFT;
    using U128 = unsigned __int128;
    const U128 last = static_cast<U128>(r.phys) + (static_cast<U128>(r.count - 1) << shift);
    if (last > ~std::uint64_t{0})
      return ::testing::AssertionFailure() << "run " << i << " wraps past 2^64";
    if (i > 0) {
      const auto& p = runs[i - 1];
      const U128 pend = static_cast<U128>(p.phys) + (static_cast<U128>(p.count) << (p.order + KHO_PAGE_SHIFT));
      if (p.order == r.order && pend == r.phys)
        return ::testing::AssertionFailure() << "run " << i << " continues run " << i - 1 << " (not maximal)";
    }
  }
  return ::testing::AssertionSuccess();
}

struct WalkResult {
  std::vector<PreservedRun> runs;
  std::vector<PreservedBlock> blocks;  // kho_mem_deserialize()
  std::vector<PreservedBlock> ref;     // the per-bit reference reader
  IssueList run_issues, block_issues, ref_issues;
};

WalkResult walk_all(const PhysImage& img, MemMapFormat fmt, phys_addr_t map) {
  WalkResult w;
  std::vector<DecodeIssue> a, b, c;
  w.runs = kho_mem_runs(img, fmt, map, &a);
  w.blocks = kho_mem_deserialize(img, fmt, map, &b);
  w.ref = testutil::reference_deserialize(img, fmt, map, &c);
  w.run_issues = issue_list(a);
  w.block_issues = issue_list(b);
  w.ref_issues = issue_list(c);
  return w;
}

// Runs expanded == kho_mem_deserialize() == reference, issues alike.
void expect_agree(const PhysImage& img, MemMapFormat fmt, phys_addr_t map) {
  const auto w = walk_all(img, fmt, map);
  EXPECT_EQ(kho_expand_runs(w.runs), w.ref);
  EXPECT_EQ(w.blocks, w.ref);
  EXPECT_EQ(w.run_issues, w.ref_issues);
  EXPECT_EQ(w.block_issues, w.ref_issues);
  EXPECT_TRUE(runs_well_formed(w.runs));
}

// A hand-made kho-v1 map: chunks (page-aligned from 0x10000) of entries
// {phys_start, bitmap}; bitmaps filled word by word.
struct HandMap {
  explicit HandMap(MemMapFormat f) : fmt(f) {}
  MemMapFormat fmt;
  PhysImage img;
  phys_addr_t next_chunk = 0x10000;
  phys_addr_t next_bitmap = 0x100000;
  phys_addr_t head = 0, last = 0;

  std::uint64_t nwords() const { return kho_preserve_bits(fmt) / 64; }
  phys_addr_t chunk(std::uint32_t order) {
    const phys_addr_t c = next_chunk;
    next_chunk += kPage;
    img.fill(c, kPage, 0);
    img.write_u32(c + 8, order);
    if (last) img.write_u64(last, c);
    if (!head) head = c;
    last = c;
    return c;
  }
  // Appends an entry to chunk c with the given leading words (rest zero).
  phys_addr_t entry(phys_addr_t c, std::uint64_t phys_start, const std::vector<std::uint64_t>& words) {
    const phys_addr_t bm = next_bitmap;
    next_bitmap += kho_preserve_bits(fmt) / 8;
    img.fill(bm, kho_preserve_bits(fmt) / 8, 0);
    for (std::size_t i = 0; i < words.size(); ++i) img.write_u64(bm + i * 8, words[i]);
    const std::uint32_t n = img.read_u32(c + 12);
    img.write_u64(c + 16 + std::uint64_t{n} * 16, phys_start);
    img.write_u64(c + 24 + std::uint64_t{n} * 16, bm);
    img.write_u32(c + 12, n + 1);
    return bm;
  }
  std::vector<PreservedRun> runs() const {
    std::vector<DecodeIssue> issues;
    auto r = kho_mem_runs(img, fmt, head, &issues);
    EXPECT_TRUE(issues.empty());
    return r;
  }
};

class WalkWords : public ::testing::TestWithParam<MemMapFormat> {};

TEST_P(WalkWords, AllOnesWordsMakeOneRun) {
  HandMap m{GetParam()};
  m.entry(m.chunk(0), 0x4000'0000, {kAllOnes, kAllOnes, kAllOnes});
  EXPECT_EQ(m.runs(), (std::vector<PreservedRun>{{0x4000'0000, 0, 192}}));
  expect_agree(m.img, m.fmt, m.head);
}

TEST_P(WalkWords, ZeroWordClosesTheRun) {
  HandMap m{GetParam()};
  m.entry(m.chunk(0), 0, {kAllOnes, 0, kAllOnes});
  EXPECT_EQ(m.runs(), (std::vector<PreservedRun>{{0, 0, 64}, {128 * kPage, 0, 64}}));
  expect_agree(m.img, m.fmt, m.head);
}

TEST_P(WalkWords, RunsCrossWordBoundariesInMixedWords) {
  HandMap m{GetParam()};
  // bits 60..63 | 64..66, then 69, then 127 | 128..191 | 192.
  m.entry(m.chunk(9), 0, {0xF000'0000'0000'0000, 0x8000'0000'0000'0027, kAllOnes, 1});
  const std::uint64_t b = kPage << 9;
  EXPECT_EQ(m.runs(), (std::vector<PreservedRun>{{60 * b, 9, 7}, {69 * b, 9, 1}, {127 * b, 9, 66}}));
  expect_agree(m.img, m.fmt, m.head);
}

// The 64-word stretch fast path: a stretch whose first word is all ones but
// whose 64th word has a hole must fall back to word-by-word, and stretches of
// ones open and extend runs exactly like single words. Needs >= 128 words
// (page bitmaps); 512-byte bitmaps take the same path once per bitmap.
TEST_P(WalkWords, SixtyFourWordStretches) {
  HandMap m{GetParam()};
  std::vector<std::uint64_t> w(std::min<std::uint64_t>(m.nwords(), 192), kAllOnes);
  w[63] = ~std::uint64_t{1} << 1 | 1;  // bit 1 of word 63 clear: a hole at bit 63*64+1
  if (w.size() > 128) w[128] = 0;      // a zero word after the second stretch
  m.entry(m.chunk(0), 0, w);
  std::vector<PreservedRun> want = {{0, 0, 63 * 64 + 1}};
  if (w.size() > 128)
    want.push_back({(63 * 64 + 2) * kPage, 0, 128 * 64 - (63 * 64 + 2)}),
        want.push_back({129 * 64 * kPage, 0, (w.size() - 129) * 64});
  else
    want.push_back({(63 * 64 + 2) * kPage, 0, w.size() * 64 - (63 * 64 + 2)});
  EXPECT_EQ(m.runs(), want);
  expect_agree(m.img, m.fmt, m.head);
}

TEST_P(WalkWords, AlternatingBitsAreSingleBlockRuns) {
  HandMap m{GetParam()};
  m.entry(m.chunk(0), 0, {0x5555'5555'5555'5555, 0xAAAA'AAAA'AAAA'AAAA});
  const auto runs = m.runs();
  ASSERT_EQ(runs.size(), 64u);
  for (std::size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i], (PreservedRun{(2 * i + (i >= 32)) * kPage, 0, 1}));
  expect_agree(m.img, m.fmt, m.head);
}

TEST_P(WalkWords, FullBitmapsMergeAcrossEntriesAndChunks) {
  HandMap m{GetParam()};
  const std::uint64_t n = m.nwords();
  const std::uint64_t bits = kho_preserve_bits(m.fmt);
  const std::vector<std::uint64_t> full(n, kAllOnes);
  const phys_addr_t c = m.chunk(0);
  m.entry(c, 0, full);
  m.entry(c, bits * kPage, full);
  m.entry(m.chunk(0), 2 * bits * kPage, full);  // same order, next chunk
  EXPECT_EQ(m.runs(), (std::vector<PreservedRun>{{0, 0, 3 * bits}}));
  expect_agree(m.img, m.fmt, m.head);
}

TEST_P(WalkWords, OrderChangeOrGapSplitsRuns) {
  HandMap m{GetParam()};
  const std::uint64_t bits = kho_preserve_bits(m.fmt);
  std::vector<std::uint64_t> tail(m.nwords(), 0);
  tail.back() = kAllOnes;
  const phys_addr_t c = m.chunk(0);
  m.entry(c, 0, tail);                   // ends at bits * 4 KiB
  m.entry(c, 2 * bits * kPage, {2});     // after a gap: block 2 * bits + 1
  // Order 1 starting where that block ends: adjacent memory, another order.
  m.entry(m.chunk(1), 2 * bits * kPage, {2});
  EXPECT_EQ(m.runs(), (std::vector<PreservedRun>{{(bits - 64) * kPage, 0, 64},
                                                 {(2 * bits + 1) * kPage, 0, 1},
                                                 {(2 * bits + 2) * kPage, 1, 1}}));
  expect_agree(m.img, m.fmt, m.head);
}

TEST_P(WalkWords, BlocksWrappingPast2To64AreNeverMerged) {
  HandMap m{GetParam()};
  const phys_addr_t c = m.chunk(0);
  // phys_start near the top: the bitmap's blocks wrap to address 0 and up.
  m.entry(c, ~std::uint64_t{0} - 3 * kPage + 1, {kAllOnes});
  // A huge order: every other block wraps.
  m.entry(m.chunk(51), 0, {0xFF});
  const auto w = walk_all(m.img, m.fmt, m.head);
  EXPECT_EQ(kho_expand_runs(w.runs), w.ref);
  EXPECT_TRUE(runs_well_formed(w.runs));
  EXPECT_EQ(w.run_issues, w.ref_issues);
  EXPECT_FALSE(w.ref_issues.empty());  // phys_start not a multiple of the coverage
  EXPECT_GE(w.runs.size(), 3u);
}

TEST_P(WalkWords, UnalignedAndZeroPageBitmaps) {
  HandMap m{GetParam()};
  const phys_addr_t c = m.chunk(0);
  const phys_addr_t bm = m.entry(c, 0, {kAllOnes});
  // Re-point the entry 8 bytes in (straddling two pages for page bitmaps).
  m.img.write_u64(c + 24, bm + 8);
  m.img.write_u64(bm + 8, 0x0F0F);
  m.entry(c, 1ull << 40, {});  // a bitmap page that is touched but all zeros
  expect_agree(m.img, m.fmt, m.head);
}

INSTANTIATE_TEST_SUITE_P(Walk, WalkWords, ::testing::Values(MemMapFormat::bitmap512, MemMapFormat::bitmap_page),
                         [](const auto& param_info) {
                           return param_info.param == MemMapFormat::bitmap512 ? std::string("Bitmap512")
                                                                        : std::string("BitmapPage");
                         });

TEST(WalkRadix, FullLeavesMergeAndLeafZeroGoesBitByBit) {
  PhysImage img;
  testutil::TestAllocator alloc;
  MemTrack t(MemMapFormat::radix, img, alloc);
  // Two full leaves of order 0 back to back, one block after a gap.
  const std::uint64_t pfn0 = std::uint64_t{1} << 30;
  for (std::uint64_t i = 0; i < 2 * 32768; ++i) ASSERT_EQ(t.preserve_order(pfn0 + i, 0), 0);
  ASSERT_EQ(t.preserve_order(pfn0 + 2 * 32768 + 5, 0), 0);
  // Orders 38..51 share leaf 0.
  for (unsigned order : {38u, 40u, 51u}) ASSERT_EQ(t.preserve_order(0, order), 0);
  ASSERT_EQ(t.preserve_order(std::uint64_t{1} << 38, 38), 0);
  std::vector<DecodeIssue> issues;
  const auto runs = kho_mem_runs(img, MemMapFormat::radix, t.radix_root(), &issues);
  EXPECT_TRUE(issues.empty());
  EXPECT_EQ(runs, (std::vector<PreservedRun>{{0, 51, 1},
                                             {0, 40, 1},
                                             {0, 38, 2},
                                             {pfn0 * kPage, 0, 2 * 32768},
                                             {(pfn0 + 2 * 32768 + 5) * kPage, 0, 1}}));
  expect_agree(img, MemMapFormat::radix, t.radix_root());
  // Invalid keys 0 and 1 in leaf 0 are issues in both readers.
  phys_addr_t node = t.radix_root();
  for (int level = 5; level > 0; --level) node = img.read_u64(node);
  img.write_u64(node, img.read_u64(node) | 3);
  expect_agree(img, MemMapFormat::radix, t.radix_root());
  issues.clear();
  kho_mem_runs(img, MemMapFormat::radix, t.radix_root(), &issues);
  EXPECT_EQ(issues.size(), 2u);
}

// ============================ properties =====================================

constexpr const char* kDefaultParams = "seed=7152634931052398861 max_success=200";

// A stretch of `count` blocks of one order, `stride` apart (1: dense).
struct Segment {
  unsigned order;
  std::uint64_t first;  // pfn >> order
  std::uint64_t count;
  std::uint64_t stride;
};

// Bits per bitmap or per radix leaf: boundaries the segments like to straddle.
std::uint64_t unit_bits(MemMapFormat fmt) {
  return fmt == MemMapFormat::radix ? std::uint64_t{1} << KHO_BITMAP_SIZE_LOG2 : kho_preserve_bits(fmt);
}

rc::Gen<Segment> gen_segment(MemMapFormat fmt) {
  const std::uint64_t unit = unit_bits(fmt);
  const auto order = rc::gen::weightedOneOf<unsigned>({{6, rc::gen::just(0u)},
                                                      {3, rc::gen::just(9u)},
                                                      {3, rc::gen::inRange(1u, 13u)},
                                                      {1, rc::gen::element(18u, 30u, 38u, 40u, 45u, 51u)}});
  // Near a bitmap / leaf boundary (k units +- 100), or anywhere below 2^24.
  const auto first = rc::gen::oneOf(
      rc::gen::map(rc::gen::pair(rc::gen::inRange<std::uint64_t>(0, 300), rc::gen::inRange<std::int64_t>(-100, 100)),
                   [unit](const std::pair<std::uint64_t, std::int64_t>& p) {
                     const std::int64_t v = static_cast<std::int64_t>(p.first * unit) + p.second;
                     return static_cast<std::uint64_t>(v < 0 ? 0 : v);
                   }),
      rc::gen::inRange<std::uint64_t>(0, std::uint64_t{1} << 24));
  const auto count = rc::gen::weightedOneOf<std::uint64_t>({{4, rc::gen::inRange<std::uint64_t>(1, 10)},
                                                           {3, rc::gen::inRange<std::uint64_t>(1, 400)},
                                                           {1, rc::gen::inRange<std::uint64_t>(unit - 70, unit + 200)}});
  const auto stride = rc::gen::weightedOneOf<std::uint64_t>({{4, rc::gen::just(std::uint64_t{1})},
                                                            {1, rc::gen::inRange<std::uint64_t>(2, 70)},
                                                            // one block per bitmap: many bitmaps, several chunks
                                                            {1, rc::gen::just(unit)}});
  return rc::gen::map(rc::gen::tuple(order, first, count, stride),
                      [](const std::tuple<unsigned, std::uint64_t, std::uint64_t, std::uint64_t>& t) {
                        auto [o, f, c, s] = t;
                        // Keep pfn < 2^52 (the trackers refuse more) and the set small.
                        const std::uint64_t limit = std::uint64_t{1} << (52 - KHO_PAGE_SHIFT - std::min(o, 38u));
                        f %= limit;
                        if (s > 1) c = std::min<std::uint64_t>(c, 300);
                        c = std::min(c, (limit - f + s - 1) / s);
                        return Segment{o, f, std::max<std::uint64_t>(c, 1), s};
                      });
}

struct Built {
  PhysImage img;
  testutil::TestAllocator alloc;
  std::unique_ptr<MemTrack> track;
  phys_addr_t map = 0;
  std::set<PreservedBlock> want;
};

// Preserves the segments (then unpreserves a few blocks: empty words and
// bitmaps appear) and serializes.
void build(Built& b, MemMapFormat fmt, const std::vector<Segment>& segs, const std::vector<std::size_t>& drops) {
  b.track = std::make_unique<MemTrack>(fmt, b.img, b.alloc);
  std::vector<PreservedBlock> all;
  for (const auto& s : segs) {
    for (std::uint64_t i = 0; i < s.count; ++i) {
      const std::uint64_t pfn = (s.first + i * s.stride) << s.order;
      if (pfn >> (52 - KHO_PAGE_SHIFT) || (pfn >> s.order) != s.first + i * s.stride) break;
      RC_ASSERT(b.track->preserve_order(pfn, s.order) == 0);
      b.want.insert({pfn << KHO_PAGE_SHIFT, s.order});
      all.push_back({pfn << KHO_PAGE_SHIFT, s.order});
    }
  }
  for (std::size_t d : drops) {
    if (all.empty()) break;
    const auto blk = all[d % all.size()];
    b.track->unpreserve_order(blk.phys >> KHO_PAGE_SHIFT, blk.order);
    b.want.erase(blk);
  }
  const auto head = b.track->serialize();
  RC_ASSERT(head.has_value());
  b.map = *head;
}

void runs_match_reference(MemMapFormat fmt) {
  const auto segs = *rc::gen::resize(12, rc::gen::container<std::vector<Segment>>(gen_segment(fmt)));
  const auto drops = *rc::gen::resize(20, rc::gen::container<std::vector<std::size_t>>(rc::gen::arbitrary<std::size_t>()));
  Built b;
  build(b, fmt, segs, drops);
  const auto w = walk_all(b.img, fmt, b.map);
  RC_CLASSIFY(w.runs.size() < w.ref.size(), "runs merge blocks");
  RC_ASSERT(w.ref_issues.empty());
  RC_ASSERT(w.run_issues.empty());
  RC_ASSERT(w.block_issues.empty());
  RC_ASSERT(kho_expand_runs(w.runs) == w.ref);  // the documented visit order
  RC_ASSERT(w.blocks == w.ref);
  RC_ASSERT(std::set<PreservedBlock>(w.ref.begin(), w.ref.end()) == b.want);
  RC_ASSERT(w.ref.size() == b.want.size());
  RC_ASSERT(static_cast<bool>(runs_well_formed(w.runs)));
}

// One corruption of a metadata object (chunk, bitmap, radix node).
struct Mutation {
  int kind;             // 0 byte flip, 1 u64 := another metadata address, 2 u32 := random, 3 u64 := random
  std::size_t object;   // index into metadata(), modulo
  std::uint64_t offset; // modulo the object's length
  std::uint64_t value;
};

void corrupted_maps_agree(MemMapFormat fmt) {
  const auto segs = *rc::gen::resize(5, rc::gen::container<std::vector<Segment>>(gen_segment(fmt)));
  Built b;
  build(b, fmt, segs, {});
  const auto md = b.track->metadata();
  if (md.empty()) return;
  const auto muts = *rc::gen::resize(
      8, rc::gen::nonEmpty(rc::gen::container<std::vector<Mutation>>(rc::gen::construct<Mutation>(
             rc::gen::inRange(0, 4), rc::gen::arbitrary<std::size_t>(), rc::gen::arbitrary<std::uint64_t>(),
             rc::gen::arbitrary<std::uint64_t>()))));
  for (const auto& m : muts) {
    const auto& [addr, len] = md[m.object % md.size()];
    switch (m.kind) {
      case 0: {
        const phys_addr_t a = addr + m.offset % len;
        const std::uint8_t flipped = static_cast<std::uint8_t>(b.img.read(a, 1)[0] ^ (1u << (m.value % 8)));
        b.img.write(a, std::span<const std::uint8_t>(&flipped, 1));
        break;
      }
      case 1: {
        // Another metadata object, or a few bytes into one: cycles, shared
        // subtrees, unaligned pointers, chunks used as bitmaps.
        const auto& [to, to_len] = md[m.value % md.size()];
        b.img.write_u64(addr + m.offset % len / 8 * 8, to + ((m.value >> 32) % 4 == 0 ? (m.value >> 40) % to_len : 0));
        break;
      }
      case 2:
        // Header fields: order (+8) and num_elms (+12), small or wild values.
        b.img.write_u32(addr + 8 + (m.offset % 2) * 4,
                        static_cast<std::uint32_t>(m.value % 2 ? m.value % 300 : m.value >> 32));
        break;
      default:
        b.img.write_u64(addr + m.offset % len / 8 * 8, m.value);
        break;
    }
  }
  const auto w = walk_all(b.img, fmt, b.map);
  RC_CLASSIFY(!w.ref_issues.empty(), "issues reported");
  RC_CLASSIFY(w.ref.size() != b.want.size(), "decoded set changed");
  RC_ASSERT(kho_expand_runs(w.runs) == w.ref);
  RC_ASSERT(w.blocks == w.ref);
  RC_ASSERT(w.run_issues == w.ref_issues);
  RC_ASSERT(w.block_issues == w.ref_issues);
  RC_ASSERT(static_cast<bool>(runs_well_formed(w.runs)));
}

class KhoMemWalkProp : public ::testing::TestWithParam<MemMapFormat> {};

TEST_P(KhoMemWalkProp, RunsMatchTheReference) {
  khospec::testutil::rc_run_property("mem_track/walk/" + format_name(GetParam()), kDefaultParams,
                            [fmt = GetParam()] { runs_match_reference(fmt); });
}

TEST_P(KhoMemWalkProp, CorruptedMapsAgree) {
  khospec::testutil::rc_run_property("mem_track/walk_corrupt/" + format_name(GetParam()), kDefaultParams,
                            [fmt = GetParam()] { corrupted_maps_agree(fmt); });
}

INSTANTIATE_TEST_SUITE_P(Walk, KhoMemWalkProp,
                         ::testing::Values(MemMapFormat::bitmap512, MemMapFormat::bitmap_page, MemMapFormat::radix),
                         [](const auto& param_info) { return format_name(param_info.param); });

}  // namespace
}  // namespace khospec::model
