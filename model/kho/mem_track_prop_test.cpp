// RapidCheck properties of the preserved-memory trackers:
//   - radix keys: decode(encode(phys, order)) == (phys, order) for every
//     aligned phys and order 0..51 (INV_RADIX_KEY_BIJECTIVE), indices in
//     range, the order bit at 52 - order;
//   - every format: a random sequence of preserve / unpreserve matches a plain
//     set; serialize + kho_mem_deserialize gives that set in the kernel's
//     visit order (invariants 22, 30);
//   - the greedy split covers exactly with naturally aligned blocks (21).
//
// The seed is fixed for ctest (RC_PARAMS in the test's ENVIRONMENT, or the
// default below when run by hand) and printed; RC_PARAMS overrides it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <iostream>
#include <set>
#include <sstream>

#include "model/kho/mem_track.hpp"
#include "model/kho/mem_track_test_util.hpp"

namespace khospec::model {
namespace {

constexpr const char* kDefaultParams = "seed=7152634931052398861 max_success=300";

// Pins RC_PARAMS when unset (so a hand run is reproducible too) and prints
// the configuration RapidCheck will use.
rc::detail::TestParams params() {
  if (!std::getenv("RC_PARAMS")) setenv("RC_PARAMS", kDefaultParams, 0);
  const rc::detail::TestParams p = rc::detail::configuration().testParams;
  std::cout << "RapidCheck seed=" << p.seed << " max_success=" << p.maxSuccess << " max_size=" << p.maxSize
            << " (reproduce: RC_PARAMS=\"seed=" << p.seed << " max_success=" << p.maxSuccess << "\")"
            << std::endl;
  return p;
}

template <typename F>
void run(const char* id, F&& property) {
  const auto p = params();
  rc::detail::TestMetadata md;
  md.id = id;
  md.description = id;
  const auto result = rc::detail::checkTestable(std::forward<F>(property), md, p);
  std::ostringstream msg;
  rc::detail::printResultMessage(result, msg);
  EXPECT_TRUE(result.template is<rc::detail::SuccessResult>()) << msg.str();
}

TEST(KhoMemTrackProp, RadixKeyBijection) {
  run("KhoMemTrackProp/RadixKeyBijection", [] {
    const unsigned order = *rc::gen::inRange(0u, KHO_MAX_WIRE_ORDER + 1);
    const std::uint64_t raw = *rc::gen::arbitrary<std::uint64_t>();
    const unsigned shift = KHO_PAGE_SHIFT + order;
    const phys_addr_t phys = raw >> shift << shift;
    const std::uint64_t key = kho_radix_encode_key(phys, order);
    RC_ASSERT(kho_radix_key_valid(key));
    RC_ASSERT(std::bit_width(key) == static_cast<int>(KHO_ORDER_0_LOG2 + 1 - order));
    RC_ASSERT(kho_radix_decode_key(key) == (PreservedBlock{phys, order}));
    RC_ASSERT(kho_radix_table_index(key, 5) < 4u);
    for (unsigned level = 1; level < KHO_TREE_MAX_DEPTH; ++level) RC_ASSERT(kho_radix_table_index(key, level) < 512u);
    // Distinct (phys, order) pairs get distinct keys.
    const unsigned order2 = *rc::gen::inRange(0u, KHO_MAX_WIRE_ORDER + 1);
    const unsigned shift2 = KHO_PAGE_SHIFT + order2;
    const phys_addr_t phys2 = *rc::gen::arbitrary<std::uint64_t>() >> shift2 << shift2;
    RC_ASSERT((kho_radix_encode_key(phys2, order2) == key) == (phys2 == phys && order2 == order));
  });
}

struct Op {
  bool preserve;
  std::uint64_t pfn;
  unsigned order;
};

// Small address space so that operations collide, several bitmaps/leaves and
// orders 0..12 (above MAX_PAGE_ORDER included).
rc::Gen<Op> gen_op() {
  return rc::gen::map(rc::gen::tuple(rc::gen::weightedOneOf<bool>({{3, rc::gen::just(true)}, {1, rc::gen::just(false)}}),
                                     rc::gen::inRange<std::uint64_t>(0, 1u << 20), rc::gen::inRange(0u, 13u),
                                     rc::gen::inRange(0, 4)),
                      [](const std::tuple<bool, std::uint64_t, unsigned, int>& t) {
                        const auto& [p, raw, order, far] = t;
                        // Occasionally far away (another L2/L3 subtree, another 16 GiB window).
                        const std::uint64_t base = far == 0 ? (std::uint64_t{1} << 30) : 0;
                        return Op{p, ((raw + base) >> order) << order, order};
                      });
}

void tracker_vs_set(MemMapFormat fmt) {
  const auto ops = *rc::gen::container<std::vector<Op>>(gen_op());
  PhysImage img;
  testutil::TestAllocator alloc;
  MemTrack t(fmt, img, alloc);
  std::set<std::pair<unsigned, phys_addr_t>> ref;  // (order, phys)
  for (const auto& op : ops) {
    if (op.preserve) {
      RC_ASSERT(t.preserve_order(op.pfn, op.order) == 0);
      ref.insert({op.order, op.pfn << KHO_PAGE_SHIFT});
    } else {
      t.unpreserve_order(op.pfn, op.order);
      ref.erase({op.order, op.pfn << KHO_PAGE_SHIFT});
    }
    RC_ASSERT(t.is_preserved(op.pfn, op.order) == op.preserve);
  }
  std::vector<PreservedBlock> want;
  for (const auto& [order, phys] : ref) want.push_back({phys, order});
  RC_ASSERT(t.blocks() == want);  // (order, phys)

  const auto head = t.serialize();
  RC_ASSERT(head.has_value());
  std::vector<DecodeIssue> issues;
  auto got = kho_mem_deserialize(img, fmt, *head, &issues);
  RC_ASSERT(issues.empty());
  if (fmt == MemMapFormat::radix) {
    std::sort(want.begin(), want.end(), [](const PreservedBlock& a, const PreservedBlock& b) {
      return kho_radix_encode_key(a.phys, a.order) < kho_radix_encode_key(b.phys, b.order);
    });
  }
  RC_ASSERT(got == want);  // chunk order (orders ascending) or key order
  // No metadata page is preserved, and every allocation is accounted for.
  std::uint64_t md_bytes = 0;
  for (const auto& [addr, len] : t.metadata()) md_bytes += len;
  std::uint64_t live_bytes = 0;
  for (const auto& [addr, len] : alloc.live()) live_bytes += len;
  RC_ASSERT(md_bytes == live_bytes);
}

TEST(KhoMemTrackProp, Bitmap512TrackerMatchesASet) {
  run("KhoMemTrackProp/Bitmap512", [] { tracker_vs_set(MemMapFormat::bitmap512); });
}
TEST(KhoMemTrackProp, BitmapPageTrackerMatchesASet) {
  run("KhoMemTrackProp/BitmapPage", [] { tracker_vs_set(MemMapFormat::bitmap_page); });
}
TEST(KhoMemTrackProp, RadixTrackerMatchesASet) {
  run("KhoMemTrackProp/Radix", [] { tracker_vs_set(MemMapFormat::radix); });
}

TEST(KhoMemTrackProp, SplitRangeCoversExactly) {
  run("KhoMemTrackProp/SplitRange", [] {
    const std::uint64_t start = *rc::gen::inRange<std::uint64_t>(0, std::uint64_t{1} << 40);
    const std::uint64_t n = *rc::gen::inRange<std::uint64_t>(1, std::uint64_t{1} << 24);
    const auto blocks = kho_split_range(start, n);
    std::uint64_t pfn = start;
    for (const auto& b : blocks) {
      RC_ASSERT(b.phys == pfn << KHO_PAGE_SHIFT);
      RC_ASSERT(pfn % (std::uint64_t{1} << b.order) == 0u);
      pfn += std::uint64_t{1} << b.order;
    }
    RC_ASSERT(pfn == start + n);
    RC_ASSERT(blocks.size() <= std::max<std::size_t>(1, 2 * static_cast<std::size_t>(std::bit_width(n - 1))));
  });
}

}  // namespace
}  // namespace khospec::model
