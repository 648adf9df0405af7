// Model behaviour the kernel simulator does not check directly: era-specific
// WARN_ON conditions, BUG/panic as an error state, iteration skip rules and
// empty ranges, the buddy hand-off chunks, and scale (binary-search inserts).
#include <chrono>

#include "model/memblock/memblock_test_util.hpp"

namespace khospec::model::testing {
namespace {

class MemblockMisc : public MemblockFixture {};

// v6.12: WARN_ON(flags != rgn->flags) when a new piece lies below a region
// with other flags; v6.16 only warns for non-NONE flags.
TEST_F(MemblockMisc, add_range_flags_warn_depends_on_era) {
  // A reserve (flags 0) over an RSRV_KERN region with a gap below it.
  mb.memblock_reserve_kern(SZ_1M, SZ_1M);
  mb.memblock_reserve(SZ_512K, SZ_1M);
  EXPECT_EQ(mb.warning_count(), 0u);
  // reserve_kern over a plain region: v6.16 warns (flags != NONE, differs).
  mb.memblock_reserve(SZ_16M, SZ_1M);
  mb.memblock_reserve_kern(SZ_8M, SZ_16M);
  ASSERT_EQ(mb.warning_count(), 1u);
  EXPECT_EQ(mb.events()[0].message, "WARN_ON(flags != MEMBLOCK_NONE && flags != rgn->flags)");

  Memblock old(kernel_test_config());
  old.set_era(Era::v6_12);
  old.memblock_add_node(SZ_1M, SZ_1M, MAX_NUMNODES, MEMBLOCK_HOTPLUG);
  old.memblock_add(SZ_512K, SZ_1M);  // flags 0 below a HOTPLUG region
  ASSERT_EQ(old.warning_count(), 1u);
  EXPECT_EQ(old.events()[0].message, "WARN_ON(flags != rgn->flags)");
  EXPECT_TRUE(old.invariant_log().empty());
}

// A piece inserted below a region of another node WARNs (CONFIG_NUMA), once
// per pass: with the counting pass (cnt * 2 + 1 > max) it fires twice.
TEST_F(MemblockMisc, add_range_nid_warn_each_pass) {
  mb.memblock_add_node(SZ_1M, SZ_1M, 1, MEMBLOCK_NONE);
  mb.memblock_add_node(SZ_512K, SZ_1M, 2, MEMBLOCK_NONE);
  EXPECT_EQ(mb.warning_count(), 1u);
  // Fill memory so that the next add needs the counting pass.
  for (phys_addr_t i = 0; i < 63; ++i) mb.memblock_add(SZ_1G + i * SZ_2M, SZ_1M);
  ASSERT_GT(mb.memory().cnt() * 2 + 1, mb.memory().max);
  mb.clear_events();
  mb.memblock_add_node(SZ_256K, SZ_512K, 3, MEMBLOCK_NONE);  // below node 2's region
  EXPECT_EQ(mb.warning_count(), 2u);
}

// Doubling without memblock_allow_resize() panics: the model enters its
// error state, later calls fail, and INV_MEMBLOCK_NO_BUG reports it.
TEST_F(MemblockMisc, double_array_without_resize_panics) {
  expect_violation("INV_MEMBLOCK_NO_BUG");
  for (std::uint64_t i = 0; i < INIT_MEMBLOCK_REGIONS; ++i)
    ASSERT_EQ(mb.memblock_reserve(i * SZ_64K, SZ_4K), 0);
  EXPECT_NE(mb.memblock_reserve(SZ_1G, SZ_4K), 0);
  ASSERT_TRUE(mb.failed());
  EXPECT_EQ(mb.events().back().kind, MemblockEvent::Kind::panic);
  EXPECT_EQ(mb.memblock_add(SZ_2G, SZ_1M), MODEL_EFAULT);
  EXPECT_EQ(mb.memblock_phys_alloc(SZ_4K, PAGE_SIZE), 0u);
  bool reported = false;
  for (const auto& v : mb.check_invariants()) reported |= v.id == "INV_MEMBLOCK_NO_BUG";
  EXPECT_TRUE(reported);
  mb.clear_invariant_log();
  past_log_.clear();
  // TearDown must not flag the expected state as a test failure.
  mb = Memblock(cfg_);
}

// Removing everything after a trim leaves a stale total_size: the kernel
// WARNs in memblock_remove_region().
TEST_F(MemblockMisc, remove_after_trim_warns_total_size) {
  expect_violation("INV_MEMBLOCK_TOTAL");
  mb.memblock_add(SZ_1M + 2, SZ_1M);
  mb.memblock_trim_memory(PAGE_SIZE);
  mb.memblock_remove(0, SZ_1G);
  ASSERT_EQ(mb.memory().cnt(), 0u);
  ASSERT_EQ(mb.warning_count(), 1u);
  EXPECT_EQ(mb.events()[0].function, "memblock_remove_region");
  EXPECT_NE(mb.memory().total_size, 0u);
}

// should_skip_region(): NOMAP/DRIVER_MANAGED need permission, MIRROR and
// KHO_SCRATCH are requirements, nid filters, reserved is never skipped.
TEST_F(MemblockMisc, free_range_iteration_skip_rules) {
  mb.memblock_add_node(0x100000, 0x100000, 0, MEMBLOCK_NONE);
  mb.memblock_add_node(0x200000, 0x100000, 0, MEMBLOCK_NOMAP);
  mb.memblock_add_node(0x300000, 0x100000, 1, MEMBLOCK_KHO_SCRATCH);
  mb.memblock_add_node(0x400000, 0x100000, 1, MEMBLOCK_DRIVER_MANAGED);
  mb.memblock_reserve(0x180000, 0x10000);
  using V = std::vector<MemRange>;
  EXPECT_EQ(mb.for_each_free_mem_range(NUMA_NO_NODE, MEMBLOCK_NONE),
            (V{{0x100000, 0x180000, 0}, {0x190000, 0x200000, 0}, {0x300000, 0x400000, 1}}));
  EXPECT_EQ(mb.for_each_free_mem_range(NUMA_NO_NODE, MEMBLOCK_NONE, true),
            (V{{0x300000, 0x400000, 1}, {0x190000, 0x200000, 0}, {0x100000, 0x180000, 0}}));
  EXPECT_EQ(mb.for_each_free_mem_range(NUMA_NO_NODE, MEMBLOCK_NOMAP).size(), 4u);
  EXPECT_EQ(mb.for_each_free_mem_range(1, MEMBLOCK_KHO_SCRATCH),
            (V{{0x300000, 0x400000, 1}}));
  EXPECT_EQ(mb.for_each_free_mem_range(0, MEMBLOCK_DRIVER_MANAGED).size(), 2u);
  // for_each_mem_range(): memory only, NOMAP skipped.
  EXPECT_EQ(mb.for_each_mem_range().size(), 3u);
  // movable_node skips HOTPLUG memory unless asked for it.
  mb.memblock_mark_hotplug(0x100000, 0x100000);
  EXPECT_EQ(mb.for_each_free_mem_range(NUMA_NO_NODE, MEMBLOCK_NONE).size(), 3u);
  mb.set_movable_node(true);
  EXPECT_EQ(mb.for_each_free_mem_range(NUMA_NO_NODE, MEMBLOCK_NONE).size(), 1u);
  EXPECT_EQ(mb.for_each_free_mem_range(NUMA_NO_NODE, MEMBLOCK_HOTPLUG).size(), 3u);
}

// Two adjacent reserved regions that cannot merge leave an empty gap; the
// kernel iterator yields it as an empty range, and so does the model.
TEST_F(MemblockMisc, free_range_iteration_yields_empty_gap) {
  mb.memblock_add(0x100000, 0x100000);
  mb.memblock_reserve(0x140000, 0x10000);
  mb.memblock_reserve_kern(0x150000, 0x10000);
  using V = std::vector<MemRange>;
  EXPECT_EQ(mb.for_each_free_mem_range(NUMA_NO_NODE, MEMBLOCK_NONE),
            (V{{0x100000, 0x140000, MAX_NUMNODES},
               {0x150000, 0x150000, MAX_NUMNODES},
               {0x160000, 0x200000, MAX_NUMNODES}}));
}

// __free_pages_memory(): naturally aligned chunks of at most MAX_PAGE_ORDER,
// free memory only, NOMAP skipped.
TEST_F(MemblockMisc, free_all_chunks) {
  mb.memblock_add(0x1000, 0x1ff000);      // pfn 1 .. 0x200
  mb.memblock_add(0x800000, 0x800000);    // pfn 0x800 .. 0x1000
  mb.memblock_mark_nomap(0xc00000, 0x400000);
  mb.memblock_reserve(0x100000, 0x2000);  // pfn 0x100, 0x101
  const FreeAllResult r = mb.memblock_free_all();
  std::vector<BuddyChunk> expect;
  auto emit = [&](std::uint64_t s, std::uint64_t e) {
    while (s < e) {
      unsigned o = s ? std::min(10u, static_cast<unsigned>(__builtin_ctzll(s))) : 10u;
      while (s + (1ULL << o) > e) --o;
      expect.push_back({s, o});
      s += 1ULL << o;
    }
  };
  emit(1, 0x100);
  emit(0x102, 0x200);
  emit(0x800, 0xc00);
  std::vector<BuddyChunk> got;  // the runs, one chunk each
  for (const auto& c : r.chunks)
    for (std::uint64_t i = 0; i < c.count; ++i) got.push_back({c.pfn + (i << c.order), c.order});
  EXPECT_EQ(got, expect);
  EXPECT_EQ(r.pages, (0x100 - 1) + (0x200 - 0x102) + 0x400u);
  EXPECT_EQ(expect.front(), (BuddyChunk{1, 0}));
  EXPECT_EQ(expect.back(), (BuddyChunk{0x800, 10}));
}

// A range's middle is one run of MAX_PAGE_ORDER chunks: memory as large as a
// memblock region can be (memblock_cap_size()) is a handful of runs, not 2^41
// chunks (the memblock_replay fuzz target's timeout).
TEST_F(MemblockMisc, free_all_of_huge_memory_is_a_few_runs) {
  mb.memblock_add(0x101000, PHYS_ADDR_MAX);
  const FreeAllResult r = mb.memblock_free_all();
  EXPECT_LE(r.chunks.size(), 2u * 10 + 1);
  std::uint64_t pages = 0, pfn = 0x101;
  for (const auto& c : r.chunks) {
    EXPECT_EQ(c.pfn, pfn);
    EXPECT_EQ(c.pfn % (std::uint64_t{1} << c.order), 0u);  // naturally aligned
    EXPECT_TRUE(c.count == 1 || c.order == 10);
    pages += c.count << c.order;
    pfn += c.count << c.order;
  }
  EXPECT_EQ(pages, r.pages);
  EXPECT_EQ(pfn, PHYS_ADDR_MAX / PAGE_SIZE);  // to the last whole page
  EXPECT_TRUE(mb.freed_to_buddy());
}

TEST_F(MemblockMisc, queries) {
  mb.memblock_add(SZ_1M, SZ_1M);
  mb.memblock_mark_nomap(SZ_1M + SZ_512K, SZ_512K);
  mb.memblock_reserve_kern(SZ_1M, SZ_4K);
  mb.__memblock_reserve(SZ_1M + SZ_8K, SZ_4K, 3, MEMBLOCK_RSRV_KERN);
  EXPECT_TRUE(mb.memblock_is_memory(SZ_1M));
  EXPECT_FALSE(mb.memblock_is_memory(SZ_2M));
  EXPECT_TRUE(mb.memblock_is_map_memory(SZ_1M));
  EXPECT_FALSE(mb.memblock_is_map_memory(SZ_1M + SZ_512K));
  EXPECT_TRUE(mb.memblock_is_region_memory(SZ_1M, SZ_512K));
  EXPECT_FALSE(mb.memblock_is_region_memory(SZ_1M + SZ_256K, SZ_512K));
  EXPECT_TRUE(mb.memblock_is_reserved(SZ_1M + SZ_4K - 1));
  EXPECT_FALSE(mb.memblock_is_reserved(SZ_1M + SZ_4K));
  EXPECT_TRUE(mb.memblock_is_region_reserved(SZ_1M + SZ_4K, SZ_8K));
  EXPECT_EQ(mb.memblock_reserved_kern_size(PHYS_ADDR_MAX, NUMA_NO_NODE), SZ_8K);
  EXPECT_EQ(mb.memblock_reserved_kern_size(PHYS_ADDR_MAX, 3), SZ_4K);
  EXPECT_EQ(mb.memblock_reserved_kern_size(SZ_1M + SZ_2K, NUMA_NO_NODE), SZ_2K);
  EXPECT_EQ(mb.memblock_start_of_DRAM(), SZ_1M);
  EXPECT_EQ(mb.memblock_end_of_DRAM(), SZ_2M);
}

// physmem (CONFIG_HAVE_MEMBLOCK_PHYS_MAP) starts with 4 slots and doubles
// through memblock like the other types; the new array is reserved.
TEST_F(MemblockMisc, physmem_add_doubles) {
  mb.memblock_add(SZ_1G, SZ_1G);
  mb.memblock_allow_resize();
  for (phys_addr_t i = 0; i < 5; ++i) ASSERT_EQ(mb.memblock_physmem_add(i * SZ_2M, SZ_1M), 0);
  EXPECT_EQ(mb.physmem().cnt(), 5u);
  EXPECT_EQ(mb.physmem().max, 8u);
  EXPECT_EQ(mb.physmem().at(4).nid, MAX_NUMNODES);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, PAGE_SIZE);
  EXPECT_EQ(rsv(0).base, mb.physmem().array_base);
}

// Scale: 2^17 reservations in ascending order (the kernel's worst case for
// its scan from index 0) plus allocations between them. The model finds each
// insertion point by binary search, so this stays fast.
TEST(MemblockScale, ascending_reserve_storm) {
  MemblockConfig cfg;
  cfg.self_check = false;
  Memblock mb(cfg);
  mb.memblock_allow_resize();
  constexpr std::uint64_t kN = 1u << 17;
  mb.memblock_add(0x100000000ULL, kN * 2 * PAGE_SIZE + SZ_64M);
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < kN; ++i)
    ASSERT_EQ(mb.memblock_reserve(0x100000000ULL + i * 2 * PAGE_SIZE, PAGE_SIZE), 0);
  EXPECT_EQ(mb.reserved().cnt(), kN + 1);  // + the doubled array itself
  EXPECT_EQ(mb.reserved().max, 1u << 18);
  for (int i = 0; i < 64; ++i) ASSERT_NE(mb.memblock_phys_alloc(PAGE_SIZE, PAGE_SIZE), 0u);
  const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "2^17 reserves + 64 allocs: " << secs << " s\n";
  EXPECT_TRUE(mb.check_invariants().empty());
}

}  // namespace
}  // namespace khospec::model::testing
