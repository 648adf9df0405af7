// Port of tools/testing/memblock/tests/alloc_nid_api.c (v6.16+ tree).
// Range checks run for memblock_alloc_try_nid, _try_nid_raw and (as
// alloc_exact_nid_api.c does) _exact_nid_raw; NUMA checks (CONFIG_NUMA, 8
// nodes) run for try_nid and try_nid_raw. Two NUMA checks expect an
// allocation to merge with a plain memblock_reserve(); that only holds before
// v6.16 (see the *_v6_16 tests and docs/model-memblock.md).
#include "model/memblock/memblock_test_util.hpp"

namespace khospec::model::testing {
namespace {

class MemblockAllocNid : public MemblockAllocFixture {};
class MemblockAllocNidGeneric : public MemblockAllocFixture {};
class MemblockAllocNidNuma : public MemblockAllocFixture {};
class MemblockAllocNidNumaGeneric : public MemblockAllocFixture {};
INSTANTIATE_TEST_SUITE_P(Flags, MemblockAllocNid, nid_flags_axis(), alloc_mode_name);
INSTANTIATE_TEST_SUITE_P(Modes, MemblockAllocNidGeneric, nid_flags_both_directions(),
                         alloc_mode_name);
INSTANTIATE_TEST_SUITE_P(Flags, MemblockAllocNidNuma, raw_axis(), alloc_mode_name);
INSTANTIATE_TEST_SUITE_P(Modes, MemblockAllocNidNumaGeneric, both_directions(), alloc_mode_name);

// ==== range checks ====================================================================

// Expect a region ending at max_addr.
TEST_P(MemblockAllocNid, alloc_nid_top_down_simple_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t size = SZ_128;
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM() + SMP_CACHE_BYTES * 2;
  const phys_addr_t max_addr = min_addr + SZ_512;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, max_addr - size);
  EXPECT_EQ(region_end(rsv(0)), max_addr);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Misaligned max_addr: expect an aligned region ending before it.
TEST_P(MemblockAllocNid, alloc_nid_top_down_end_misaligned_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t size = SZ_128, misalign = SZ_2;
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM() + SMP_CACHE_BYTES * 2;
  const phys_addr_t max_addr = min_addr + SZ_512 + misalign;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, max_addr - size - misalign);
  EXPECT_LT(region_end(rsv(0)), max_addr);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// The range is exactly the size: expect [min_addr, max_addr).
TEST_P(MemblockAllocNidGeneric, alloc_nid_exact_address_generic_check) {
  setup_memblock();
  const phys_addr_t size = SZ_1K;
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM() + SMP_CACHE_BYTES;
  const phys_addr_t max_addr = min_addr + size;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, min_addr);
  EXPECT_EQ(region_end(rsv(0)), max_addr);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Range too narrow: expect min_addr dropped and a region ending at max_addr.
TEST_P(MemblockAllocNid, alloc_nid_top_down_narrow_range_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t size = SZ_256;
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM() + SZ_512;
  const phys_addr_t max_addr = min_addr + SMP_CACHE_BYTES;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, max_addr - size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// max_addr too close to the start of memory: expect no allocation.
TEST_P(MemblockAllocNidGeneric, alloc_nid_low_max_generic_check) {
  setup_memblock();
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM();
  const phys_addr_t max_addr = min_addr + SMP_CACHE_BYTES;
  EXPECT_EQ(run_memblock_alloc_nid(SZ_1K, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
}

// min_addr right after a reserved r1: expect a merge with r1.
TEST_P(MemblockAllocNidGeneric, alloc_nid_min_reserved_generic_check) {
  setup_memblock();
  const phys_addr_t r1_size = SZ_128, r2_size = SZ_64, total = r1_size + r2_size;
  const phys_addr_t max_addr = mb.memblock_end_of_DRAM();
  const phys_addr_t min_addr = max_addr - r2_size;
  const phys_addr_t reserved_base = min_addr - r1_size;
  mb.memblock_reserve_kern(reserved_base, r1_size);
  ASSERT_NE(run_memblock_alloc_nid(r2_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, reserved_base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// max_addr right before a reserved r1: expect a merge with r1.
TEST_P(MemblockAllocNidGeneric, alloc_nid_max_reserved_generic_check) {
  setup_memblock();
  const phys_addr_t r1_size = SZ_64, r2_size = SZ_128, total = r1_size + r2_size;
  const phys_addr_t max_addr = mb.memblock_end_of_DRAM() - r1_size;
  const phys_addr_t min_addr = max_addr - r2_size;
  mb.memblock_reserve_kern(max_addr, r1_size);
  ASSERT_NE(run_memblock_alloc_nid(r2_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, min_addr);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// Reserved r2 and r1 at the borders with room between: expect a merge with r1.
TEST_P(MemblockAllocNid, alloc_nid_top_down_reserved_with_space_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t r3_size = SZ_64, gap_size = SMP_CACHE_BYTES;
  const region r1{mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES * 2, SMP_CACHE_BYTES};
  const region r2{r1.base - (r3_size + gap_size + SZ_128), SZ_128};
  const phys_addr_t total = r1.size + r2.size + r3_size;
  const phys_addr_t min_addr = r2.base + r2.size, max_addr = r1.base;
  mb.memblock_reserve_kern(r1.base, r1.size);
  mb.memblock_reserve_kern(r2.base, r2.size);
  ASSERT_NE(run_memblock_alloc_nid(r3_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(1).size, r1.size + r3_size);
  EXPECT_EQ(rsv(1).base, max_addr - r3_size);
  EXPECT_EQ(rsv(0).size, r2.size);
  EXPECT_EQ(rsv(0).base, r2.base);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// Gap between r2 and r1 equals the size: expect all three merged.
TEST_P(MemblockAllocNidGeneric, alloc_nid_reserved_full_merge_generic_check) {
  setup_memblock();
  const phys_addr_t r3_size = SZ_64;
  const region r1{mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES * 2, SMP_CACHE_BYTES};
  const region r2{r1.base - (r3_size + SZ_128), SZ_128};
  const phys_addr_t total = r1.size + r2.size + r3_size;
  const phys_addr_t min_addr = r2.base + r2.size, max_addr = r1.base;
  mb.memblock_reserve_kern(r1.base, r1.size);
  mb.memblock_reserve_kern(r2.base, r2.size);
  ASSERT_NE(run_memblock_alloc_nid(r3_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, r2.base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// Gap too small: expect min_addr dropped and a merge with r2 from below.
TEST_P(MemblockAllocNid, alloc_nid_top_down_reserved_no_space_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t r3_size = SZ_256, gap_size = SMP_CACHE_BYTES;
  const region r1{mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES * 2, SMP_CACHE_BYTES};
  const region r2{r1.base - (SZ_128 + gap_size), SZ_128};
  const phys_addr_t total = r1.size + r2.size + r3_size;
  const phys_addr_t min_addr = r2.base + r2.size, max_addr = r1.base;
  mb.memblock_reserve_kern(r1.base, r1.size);
  mb.memblock_reserve_kern(r2.base, r2.size);
  ASSERT_NE(run_memblock_alloc_nid(r3_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(1).size, r1.size);
  EXPECT_EQ(rsv(1).base, r1.base);
  EXPECT_EQ(rsv(0).size, r2.size + r3_size);
  EXPECT_EQ(rsv(0).base, r2.base - r3_size);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// Everything but a too-narrow range reserved: expect no allocation.
TEST_P(MemblockAllocNidGeneric, alloc_nid_reserved_all_generic_check) {
  setup_memblock();
  const phys_addr_t r3_size = SZ_256, gap_size = SMP_CACHE_BYTES;
  const region r1{mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES, SMP_CACHE_BYTES};
  const region r2{mb.memblock_start_of_DRAM(), MEM_SIZE - (r1.size + gap_size)};
  const phys_addr_t min_addr = r2.base + r2.size, max_addr = r1.base;
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  EXPECT_EQ(run_memblock_alloc_nid(r3_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
}

// max_addr above the end of memory: expect a region at the end of memory.
TEST_P(MemblockAllocNid, alloc_nid_top_down_cap_max_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t size = SZ_256;
  const phys_addr_t min_addr = mb.memblock_end_of_DRAM() - SZ_1K;
  const phys_addr_t max_addr = mb.memblock_end_of_DRAM() + SZ_256;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, mb.memblock_end_of_DRAM() - size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// min_addr below the start of memory: expect a region at the end of memory.
TEST_P(MemblockAllocNid, alloc_nid_top_down_cap_min_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t size = SZ_1K;
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM() - SZ_256;
  const phys_addr_t max_addr = mb.memblock_end_of_DRAM();
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, mb.memblock_end_of_DRAM() - size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Expect a region starting at min_addr.
TEST_P(MemblockAllocNid, alloc_nid_bottom_up_simple_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t size = SZ_128;
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM() + SMP_CACHE_BYTES * 2;
  const phys_addr_t max_addr = min_addr + SZ_512;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, min_addr);
  EXPECT_LT(region_end(rsv(0)), max_addr);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Misaligned min_addr: expect the next aligned address.
TEST_P(MemblockAllocNid, alloc_nid_bottom_up_start_misaligned_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t size = SZ_128, misalign = SZ_2;
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM() + misalign;
  const phys_addr_t max_addr = min_addr + SZ_512;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, min_addr + (SMP_CACHE_BYTES - misalign));
  EXPECT_LT(region_end(rsv(0)), max_addr);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Range too narrow: expect min_addr dropped and the start of memory.
TEST_P(MemblockAllocNid, alloc_nid_bottom_up_narrow_range_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t size = SZ_256;
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM() + SZ_512;
  const phys_addr_t max_addr = min_addr + SMP_CACHE_BYTES;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, mb.memblock_start_of_DRAM());
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Room between r2 and r1: expect a merge with r2.
TEST_P(MemblockAllocNid, alloc_nid_bottom_up_reserved_with_space_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t r3_size = SZ_64, gap_size = SMP_CACHE_BYTES;
  const region r1{mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES * 2, SMP_CACHE_BYTES};
  const region r2{r1.base - (r3_size + gap_size + SZ_128), SZ_128};
  const phys_addr_t total = r1.size + r2.size + r3_size;
  const phys_addr_t min_addr = r2.base + r2.size, max_addr = r1.base;
  mb.memblock_reserve_kern(r1.base, r1.size);
  mb.memblock_reserve_kern(r2.base, r2.size);
  ASSERT_NE(run_memblock_alloc_nid(r3_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(1).size, r1.size);
  EXPECT_EQ(rsv(1).base, max_addr);
  EXPECT_EQ(rsv(0).size, r2.size + r3_size);
  EXPECT_EQ(rsv(0).base, r2.base);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// Gap too small: expect min_addr dropped and a new region at the start.
TEST_P(MemblockAllocNid, alloc_nid_bottom_up_reserved_no_space_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t r3_size = SZ_256, gap_size = SMP_CACHE_BYTES;
  const region r1{mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES * 2, SMP_CACHE_BYTES};
  const region r2{r1.base - (SZ_128 + gap_size), SZ_128};
  const phys_addr_t total = r1.size + r2.size + r3_size;
  const phys_addr_t min_addr = r2.base + r2.size, max_addr = r1.base;
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  ASSERT_NE(run_memblock_alloc_nid(r3_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, r3_size);
  EXPECT_EQ(rsv(0).base, mb.memblock_start_of_DRAM());
  EXPECT_EQ(rsv(1).size, r2.size);
  EXPECT_EQ(rsv(1).base, r2.base);
  EXPECT_EQ(rsv(2).size, r1.size);
  EXPECT_EQ(rsv(2).base, r1.base);
  EXPECT_EQ(mb.reserved().cnt(), 3u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// max_addr above the end of memory: expect a region at min_addr.
TEST_P(MemblockAllocNid, alloc_nid_bottom_up_cap_max_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t size = SZ_256;
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM() + SZ_1K;
  const phys_addr_t max_addr = mb.memblock_end_of_DRAM() + SZ_256;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, min_addr);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// min_addr at the start of memory: expect a region there.
TEST_P(MemblockAllocNid, alloc_nid_bottom_up_cap_min_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t size = SZ_1K;
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM();
  const phys_addr_t max_addr = mb.memblock_end_of_DRAM() - SZ_256;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, mb.memblock_start_of_DRAM());
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// ==== NUMA checks =====================================================================

// Enough room in the requested node: expect the end (top-down) of that node.
TEST_P(MemblockAllocNidNuma, alloc_nid_top_down_numa_simple_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const int nid_req = 3;
  const MemblockRegion req_node = mem(nid_req);
  ASSERT_LE(SZ_4, req_node.size);
  const phys_addr_t size = req_node.size / SZ_4;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(),
                                   mb.memblock_end_of_DRAM(), nid_req), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, region_end(req_node) - size);
  EXPECT_LE(req_node.base, rsv(0).base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Requested node too small: expect the fallback to node 6 (top-down).
TEST_P(MemblockAllocNidNuma, alloc_nid_top_down_numa_small_node_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(1), exp_node = mem(6);
  const phys_addr_t size = SZ_2 * req_node.size;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(),
                                   mb.memblock_end_of_DRAM(), 1), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, region_end(exp_node) - size);
  EXPECT_LE(exp_node.base, rsv(0).base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Requested node fully reserved: expect node 6.
TEST_P(MemblockAllocNidNuma, alloc_nid_top_down_numa_node_reserved_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(2), exp_node = mem(6);
  const phys_addr_t size = req_node.size;
  mb.memblock_reserve(req_node.base, req_node.size);
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(),
                                   mb.memblock_end_of_DRAM(), 2), 0u);
  EXPECT_EQ(rsv(1).size, size);
  EXPECT_EQ(rsv(1).base, region_end(exp_node) - size);
  EXPECT_LE(exp_node.base, rsv(1).base);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, size + req_node.size);
}

// Requested node half reserved but with room: expect the end of that node.
TEST_P(MemblockAllocNidNuma, alloc_nid_top_down_numa_part_reserved_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(4);
  ASSERT_LE(SZ_8, req_node.size);
  const region r1{req_node.base, req_node.size / SZ_2};
  const phys_addr_t size = r1.size / SZ_4;
  mb.memblock_reserve(r1.base, r1.size);
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(),
                                   mb.memblock_end_of_DRAM(), 4), 0u);
  EXPECT_EQ(rsv(1).size, size);
  EXPECT_EQ(rsv(1).base, region_end(req_node) - size);
  EXPECT_LE(req_node.base, rsv(1).base);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, size + r1.size);
}

// Requested node lacks contiguous room: expect the last node (7).
TEST_P(MemblockAllocNidNuma, alloc_nid_top_down_numa_part_reserved_fallback_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(4), exp_node = mem(NUMA_NODES - 1);
  ASSERT_LE(SZ_4, req_node.size);
  const phys_addr_t size = req_node.size / SZ_2;
  const region r1{req_node.base + (size / SZ_2), size};
  mb.memblock_reserve(r1.base, r1.size);
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(),
                                   mb.memblock_end_of_DRAM(), 4), 0u);
  EXPECT_EQ(rsv(1).size, size);
  EXPECT_EQ(rsv(1).base, region_end(exp_node) - size);
  EXPECT_LE(exp_node.base, rsv(1).base);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, size + r1.size);
}

// Range spans the end of the requested node and node 3: expect min_addr
// dropped and a region ending at the end of the requested node.
TEST_P(MemblockAllocNidNuma, alloc_nid_top_down_numa_split_range_low_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(2);
  const phys_addr_t size = SZ_512;
  const phys_addr_t req_node_end = region_end(req_node);
  const phys_addr_t min_addr = req_node_end - SZ_256, max_addr = min_addr + size;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, 2), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, req_node_end - size);
  EXPECT_LE(req_node.base, rsv(0).base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Range spans node 2's end and the requested node 3: expect a region ending
// at the end of node 2.
TEST_P(MemblockAllocNidNuma, alloc_nid_top_down_numa_split_range_high_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion exp_node = mem(2);
  const phys_addr_t size = SZ_512;
  const phys_addr_t exp_node_end = region_end(exp_node);
  const phys_addr_t min_addr = exp_node_end - SZ_256, max_addr = min_addr + size;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, 3), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, exp_node_end - size);
  EXPECT_LE(exp_node.base, rsv(0).base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Requested node ends before a range spanning nodes 5/6: expect min_addr
// dropped and the end of the requested node.
TEST_P(MemblockAllocNidNuma, alloc_nid_top_down_numa_no_overlap_split_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(2), node2 = mem(6);
  const phys_addr_t size = SZ_512;
  const phys_addr_t min_addr = node2.base - SZ_256, max_addr = min_addr + size;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, 2), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, region_end(req_node) - size);
  EXPECT_LE(req_node.base, rsv(0).base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Requested node 0 below the range nodes 2..5: expect the end of node 5.
TEST_P(MemblockAllocNidNuma, alloc_nid_top_down_numa_no_overlap_low_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion min_node = mem(2), max_node = mem(5);
  const phys_addr_t size = SZ_64;
  const phys_addr_t min_addr = min_node.base, max_addr = region_end(max_node);
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, 0), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, max_addr - size);
  EXPECT_LE(max_node.base, rsv(0).base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Requested node 7 above the range nodes 2..5: expect the end of node 5.
TEST_P(MemblockAllocNidNuma, alloc_nid_top_down_numa_no_overlap_high_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion min_node = mem(2), max_node = mem(5);
  const phys_addr_t size = SZ_64;
  const phys_addr_t min_addr = min_node.base, max_addr = region_end(max_node);
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, 7), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, max_addr - size);
  EXPECT_LE(max_node.base, rsv(0).base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Enough room in the requested node: expect its start (bottom-up).
TEST_P(MemblockAllocNidNuma, alloc_nid_bottom_up_numa_simple_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(3);
  ASSERT_LE(SZ_4, req_node.size);
  const phys_addr_t size = req_node.size / SZ_4;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(),
                                   mb.memblock_end_of_DRAM(), 3), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, req_node.base);
  EXPECT_LE(region_end(rsv(0)), region_end(req_node));
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Requested node too small: expect the fallback to node 0 (bottom-up).
TEST_P(MemblockAllocNidNuma, alloc_nid_bottom_up_numa_small_node_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(1), exp_node = mem(0);
  const phys_addr_t size = SZ_2 * req_node.size;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(),
                                   mb.memblock_end_of_DRAM(), 1), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, exp_node.base);
  EXPECT_LE(region_end(rsv(0)), region_end(exp_node));
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Requested node fully reserved: expect node 0.
TEST_P(MemblockAllocNidNuma, alloc_nid_bottom_up_numa_node_reserved_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(2), exp_node = mem(0);
  const phys_addr_t size = req_node.size;
  mb.memblock_reserve(req_node.base, req_node.size);
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(),
                                   mb.memblock_end_of_DRAM(), 2), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, exp_node.base);
  EXPECT_LE(region_end(rsv(0)), region_end(exp_node));
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, size + req_node.size);
}

// Shared body of alloc_nid_bottom_up_numa_part_reserved_check: the allocation
// lands right after the plain memblock_reserve()d r1.
struct PartReservedOutcome {
  MemblockRegion req_node;
  region r1;
  phys_addr_t size;
};
PartReservedOutcome bottom_up_part_reserved(MemblockFixture& f, Memblock& mb,
                                            const std::function<phys_addr_t(phys_addr_t)>& alloc) {
  (void)f;
  const MemblockRegion req_node = mb.memory().at(4);
  const region r1{req_node.base, req_node.size / SZ_2};
  const phys_addr_t size = r1.size / SZ_4;
  mb.memblock_reserve(r1.base, r1.size);
  EXPECT_NE(alloc(size), 0u);
  return {req_node, r1, size};
}

// Kernel expectation: the new region merges with r1 into one region. That
// needs equal flags and nid, which holds in v6.12 (both MAX_NUMNODES, 0), so
// the check runs in the v6.12 era.
TEST_P(MemblockAllocNidNuma, alloc_nid_bottom_up_numa_part_reserved_check) {
  mb.set_era(Era::v6_12);
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const auto o = bottom_up_part_reserved(*this, mb, [&](phys_addr_t size) {
    return run_memblock_alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(),
                                  mb.memblock_end_of_DRAM(), 4);
  });
  const phys_addr_t total = o.size + o.r1.size;
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, o.req_node.base);
  EXPECT_LE(region_end(rsv(0)), region_end(o.req_node));
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// Same scenario on v6.16+: the allocation is __memblock_reserve(.., nid 4,
// RSRV_KERN) and r1 is (NUMA_NO_NODE, 0), so they stay two regions; the
// upstream check (unchanged since v6.16) expects one under NUMA=1.
TEST_P(MemblockAllocNidNuma, alloc_nid_bottom_up_numa_part_reserved_check_v6_16) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const auto o = bottom_up_part_reserved(*this, mb, [&](phys_addr_t size) {
    return run_memblock_alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(),
                                  mb.memblock_end_of_DRAM(), 4);
  });
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(rsv(0).base, o.r1.base);
  EXPECT_EQ(rsv(0).size, o.r1.size);
  EXPECT_EQ(rsv(0).nid, NUMA_NO_NODE);
  EXPECT_EQ(rsv(1).base, o.r1.base + o.r1.size);
  EXPECT_EQ(rsv(1).size, o.size);
  EXPECT_EQ(rsv(1).flags, MEMBLOCK_RSRV_KERN);
  EXPECT_EQ(rsv(1).nid, 4);
  EXPECT_EQ(mb.reserved().total_size, o.size + o.r1.size);
}

// Requested node lacks contiguous room: expect node 0.
TEST_P(MemblockAllocNidNuma, alloc_nid_bottom_up_numa_part_reserved_fallback_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(4), exp_node = mem(0);
  ASSERT_LE(SZ_4, req_node.size);
  const phys_addr_t size = req_node.size / SZ_2;
  const region r1{req_node.base + (size / SZ_2), size};
  mb.memblock_reserve(r1.base, r1.size);
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(),
                                   mb.memblock_end_of_DRAM(), 4), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, exp_node.base);
  EXPECT_LE(region_end(rsv(0)), region_end(exp_node));
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, size + r1.size);
}

// Range spans the requested node's end and node 3: expect the requested
// node's start.
TEST_P(MemblockAllocNidNuma, alloc_nid_bottom_up_numa_split_range_low_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(2);
  const phys_addr_t size = SZ_512;
  const phys_addr_t req_node_end = region_end(req_node);
  const phys_addr_t min_addr = req_node_end - SZ_256, max_addr = min_addr + size;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, 2), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, req_node.base);
  EXPECT_LE(region_end(rsv(0)), req_node_end);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Range spans node 2's end and the (too small) requested node 3: expect the
// start of node 0.
TEST_P(MemblockAllocNidNuma, alloc_nid_bottom_up_numa_split_range_high_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(3), exp_node = mem(0);
  const phys_addr_t size = SZ_512;
  const phys_addr_t exp_node_end = region_end(req_node);
  const phys_addr_t min_addr = req_node.base - SZ_256, max_addr = min_addr + size;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, 3), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, exp_node.base);
  EXPECT_LE(region_end(rsv(0)), exp_node_end);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Requested node ends before the range: expect its start.
TEST_P(MemblockAllocNidNuma, alloc_nid_bottom_up_numa_no_overlap_split_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(2), node2 = mem(6);
  const phys_addr_t size = SZ_512;
  const phys_addr_t min_addr = node2.base - SZ_256, max_addr = min_addr + size;
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, 2), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, req_node.base);
  EXPECT_LE(region_end(rsv(0)), region_end(req_node));
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Requested node 0 below the range nodes 2..5: expect min_addr (node 2).
TEST_P(MemblockAllocNidNuma, alloc_nid_bottom_up_numa_no_overlap_low_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion min_node = mem(2), max_node = mem(5);
  const phys_addr_t size = SZ_64;
  const phys_addr_t min_addr = min_node.base, max_addr = region_end(max_node);
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, 0), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, min_addr);
  EXPECT_LE(region_end(rsv(0)), region_end(min_node));
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Requested node 7 above the range nodes 2..5: expect min_addr (node 2).
TEST_P(MemblockAllocNidNuma, alloc_nid_bottom_up_numa_no_overlap_high_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion min_node = mem(2), max_node = mem(5);
  const phys_addr_t size = SZ_64;
  const phys_addr_t min_addr = min_node.base, max_addr = region_end(max_node);
  ASSERT_NE(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, 7), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, min_addr);
  EXPECT_LE(region_end(rsv(0)), region_end(min_node));
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Larger than any node: expect no allocation.
TEST_P(MemblockAllocNidNumaGeneric, alloc_nid_numa_large_region_generic_check) {
  setup_numa_memblock(node_fractions);
  EXPECT_EQ(run_memblock_alloc_nid(MEM_SIZE / SZ_2, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(),
                                   mb.memblock_end_of_DRAM(), 3), 0u);
}

// Shared body of alloc_nid_numa_reserved_full_merge_generic_check: node 6
// exactly fills the gap between plain reservations r2 and r1.
struct FullMergeOutcome {
  MemblockRegion req_node;
  region r1, r2;
  phys_addr_t size;
};
FullMergeOutcome numa_full_merge(Memblock& mb,
                                 const std::function<phys_addr_t(phys_addr_t, phys_addr_t,
                                                                 phys_addr_t, int)>& alloc) {
  const MemblockRegion req_node = mb.memory().at(6), next_node = mb.memory().at(7);
  const phys_addr_t size = req_node.size;
  const region r1{next_node.base, SZ_128};
  const region r2{r1.base - (size + SZ_128), SZ_128};
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  EXPECT_NE(alloc(size, r2.base + r2.size, r1.base, 6), 0u);
  return {req_node, r1, r2, size};
}

// Kernel expectation: all three merge into one region. Holds in v6.12 only
// (see alloc_nid_bottom_up_numa_part_reserved_check).
TEST_P(MemblockAllocNidNumaGeneric, alloc_nid_numa_reserved_full_merge_generic_check) {
  mb.set_era(Era::v6_12);
  setup_numa_memblock(node_fractions);
  const auto o = numa_full_merge(mb, [&](phys_addr_t s, phys_addr_t lo, phys_addr_t hi, int nid) {
    return run_memblock_alloc_nid(s, SMP_CACHE_BYTES, lo, hi, nid);
  });
  const phys_addr_t total = o.r1.size + o.r2.size + o.size;
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, o.r2.base);
  EXPECT_LE(rsv(0).base, o.req_node.base);
  EXPECT_LE(region_end(o.req_node), region_end(rsv(0)));
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// v6.16+: the RSRV_KERN/nid-6 allocation does not merge with r1/r2.
TEST_P(MemblockAllocNidNumaGeneric, alloc_nid_numa_reserved_full_merge_generic_check_v6_16) {
  setup_numa_memblock(node_fractions);
  const auto o = numa_full_merge(mb, [&](phys_addr_t s, phys_addr_t lo, phys_addr_t hi, int nid) {
    return run_memblock_alloc_nid(s, SMP_CACHE_BYTES, lo, hi, nid);
  });
  EXPECT_EQ(mb.reserved().cnt(), 3u);
  EXPECT_EQ(rsv(1).base, o.req_node.base);
  EXPECT_EQ(rsv(1).size, o.size);
  EXPECT_EQ(rsv(1).flags, MEMBLOCK_RSRV_KERN);
  EXPECT_EQ(rsv(1).nid, 6);
  EXPECT_EQ(mb.reserved().total_size, o.r1.size + o.r2.size + o.size);
}

// Free range split between nodes 6 and 7, everything else reserved,
// NUMA_NO_NODE: expect no allocation.
TEST_P(MemblockAllocNidNumaGeneric, alloc_nid_numa_split_all_reserved_generic_check) {
  setup_numa_memblock(node_fractions);
  const MemblockRegion next_node = mem(7);
  const phys_addr_t size = SZ_256;
  const region r2{next_node.base + SZ_128, mb.memblock_end_of_DRAM() - (next_node.base + SZ_128)};
  const region r1{mb.memblock_start_of_DRAM(), MEM_SIZE - (r2.size + size)};
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  EXPECT_EQ(run_memblock_alloc_nid(size, SMP_CACHE_BYTES, r1.base + r1.size, r2.base,
                                   NUMA_NO_NODE), 0u);
}

// memblock_alloc_node() on node 2: expect success and node 2 untouched.
TEST_P(MemblockAllocNidNumaGeneric, alloc_node_on_correct_nid) {
  setup_numa_memblock(node_fractions);
  ASSERT_NE(mb.memblock_alloc_node(SZ_512, SMP_CACHE_BYTES, 2), 0u);
  EXPECT_EQ(mem(2).nid, 2);
}

}  // namespace
}  // namespace khospec::model::testing
