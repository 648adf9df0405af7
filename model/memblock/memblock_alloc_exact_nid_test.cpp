// Port of tools/testing/memblock/tests/alloc_exact_nid_api.c (v6.16+ tree):
// memblock_alloc_exact_nid_raw() never falls back to another node. The
// range checks this file also runs are the alloc_nid ones, instantiated in
// ExactRaw mode in memblock_alloc_nid_test.cpp.
#include "model/memblock/memblock_test_util.hpp"

namespace khospec::model::testing {
namespace {

class MemblockAllocExactNid : public MemblockAllocFixture {
 protected:
  phys_addr_t exact(phys_addr_t size, phys_addr_t min_addr, phys_addr_t max_addr, int nid) {
    return mb.memblock_alloc_exact_nid_raw(size, SMP_CACHE_BYTES, min_addr, max_addr, nid);
  }
  phys_addr_t exact_all(phys_addr_t size, int nid) {
    return exact(size, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid);
  }
};
class MemblockAllocExactNidGeneric : public MemblockAllocExactNid {};
INSTANTIATE_TEST_SUITE_P(ExactRaw, MemblockAllocExactNid,
                         ::testing::Values(AllocMode{false, true, true}), alloc_mode_name);
INSTANTIATE_TEST_SUITE_P(ExactRaw, MemblockAllocExactNidGeneric,
                         ::testing::Values(AllocMode{false, true, true}, AllocMode{true, true, true}),
                         alloc_mode_name);

TEST_P(MemblockAllocExactNid, alloc_exact_nid_top_down_numa_simple_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(3);
  ASSERT_LE(SZ_4, req_node.size);
  const phys_addr_t size = req_node.size / SZ_4;
  ASSERT_NE(exact_all(size, 3), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, region_end(req_node) - size);
  EXPECT_LE(req_node.base, rsv(0).base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

TEST_P(MemblockAllocExactNid, alloc_exact_nid_top_down_numa_part_reserved_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(4);
  ASSERT_LE(SZ_8, req_node.size);
  const region r1{req_node.base, req_node.size / SZ_2};
  const phys_addr_t size = r1.size / SZ_4;
  mb.memblock_reserve(r1.base, r1.size);
  ASSERT_NE(exact_all(size, 4), 0u);
  EXPECT_EQ(rsv(1).size, size);
  EXPECT_EQ(rsv(1).base, region_end(req_node) - size);
  EXPECT_LE(req_node.base, rsv(1).base);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, size + r1.size);
}

TEST_P(MemblockAllocExactNid, alloc_exact_nid_top_down_numa_split_range_low_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(2);
  const phys_addr_t size = SZ_512, req_node_end = region_end(req_node);
  const phys_addr_t min_addr = req_node_end - SZ_256;
  ASSERT_NE(exact(size, min_addr, min_addr + size, 2), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, req_node_end - size);
  EXPECT_LE(req_node.base, rsv(0).base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

TEST_P(MemblockAllocExactNid, alloc_exact_nid_top_down_numa_no_overlap_split_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(2), node2 = mem(6);
  const phys_addr_t size = SZ_512, min_addr = node2.base - SZ_256;
  ASSERT_NE(exact(size, min_addr, min_addr + size, 2), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, region_end(req_node) - size);
  EXPECT_LE(req_node.base, rsv(0).base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Requested node 0 outside the range: no node fallback, but min_addr is
// dropped; expect the end of node 0.
TEST_P(MemblockAllocExactNid, alloc_exact_nid_top_down_numa_no_overlap_low_check) {
  set_top_down();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(0), min_node = mem(2), max_node = mem(5);
  const phys_addr_t size = SZ_64;
  ASSERT_NE(exact(size, min_node.base, region_end(max_node), 0), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, region_end(req_node) - size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

TEST_P(MemblockAllocExactNid, alloc_exact_nid_bottom_up_numa_simple_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(3);
  ASSERT_LE(SZ_4, req_node.size);
  const phys_addr_t size = req_node.size / SZ_4;
  ASSERT_NE(exact_all(size, 3), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, req_node.base);
  EXPECT_LE(region_end(rsv(0)), region_end(req_node));
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Kernel expectation: merge with the plain reservation r1 (v6.12 semantics;
// see memblock_alloc_nid_test.cpp).
TEST_P(MemblockAllocExactNid, alloc_exact_nid_bottom_up_numa_part_reserved_check) {
  mb.set_era(Era::v6_12);
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(4);
  ASSERT_LE(SZ_8, req_node.size);
  const region r1{req_node.base, req_node.size / SZ_2};
  const phys_addr_t size = r1.size / SZ_4, total = size + r1.size;
  mb.memblock_reserve(r1.base, r1.size);
  ASSERT_NE(exact_all(size, 4), 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, req_node.base);
  EXPECT_LE(region_end(rsv(0)), region_end(req_node));
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// v6.16+: RSRV_KERN and nid 4 keep the allocation apart from r1.
TEST_P(MemblockAllocExactNid, alloc_exact_nid_bottom_up_numa_part_reserved_check_v6_16) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(4);
  const region r1{req_node.base, req_node.size / SZ_2};
  const phys_addr_t size = r1.size / SZ_4;
  mb.memblock_reserve(r1.base, r1.size);
  ASSERT_NE(exact_all(size, 4), 0u);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(rsv(1).base, r1.base + r1.size);
  EXPECT_EQ(rsv(1).flags, MEMBLOCK_RSRV_KERN);
  EXPECT_EQ(rsv(1).nid, 4);
}

TEST_P(MemblockAllocExactNid, alloc_exact_nid_bottom_up_numa_split_range_low_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(2);
  const phys_addr_t size = SZ_512, req_node_end = region_end(req_node);
  const phys_addr_t min_addr = req_node_end - SZ_256;
  ASSERT_NE(exact(size, min_addr, min_addr + size, 2), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, req_node.base);
  EXPECT_LE(region_end(rsv(0)), req_node_end);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

TEST_P(MemblockAllocExactNid, alloc_exact_nid_bottom_up_numa_no_overlap_split_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(2), node2 = mem(6);
  const phys_addr_t size = SZ_512, min_addr = node2.base - SZ_256;
  ASSERT_NE(exact(size, min_addr, min_addr + size, 2), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, req_node.base);
  EXPECT_LE(region_end(rsv(0)), region_end(req_node));
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

TEST_P(MemblockAllocExactNid, alloc_exact_nid_bottom_up_numa_no_overlap_low_check) {
  set_bottom_up();
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(0), min_node = mem(2), max_node = mem(5);
  const phys_addr_t size = SZ_64;
  ASSERT_NE(exact(size, min_node.base, region_end(max_node), 0), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, req_node.base);
  EXPECT_LE(region_end(rsv(0)), region_end(req_node));
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// Requested node too small and no fallback: expect no allocation.
TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_small_node_generic_check) {
  setup_numa_memblock(node_fractions);
  EXPECT_EQ(exact_all(SZ_2 * mem(1).size, 1), 0u);
}

TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_node_reserved_generic_check) {
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(2);
  mb.memblock_reserve(req_node.base, req_node.size);
  EXPECT_EQ(exact_all(req_node.size, 2), 0u);
}

TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_part_reserved_fail_generic_check) {
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(4);
  ASSERT_LE(SZ_4, req_node.size);
  const phys_addr_t size = req_node.size / SZ_2;
  mb.memblock_reserve(req_node.base + (size / SZ_2), size);
  EXPECT_EQ(exact_all(size, 4), 0u);
}

TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_split_range_high_generic_check) {
  setup_numa_memblock(node_fractions);
  const phys_addr_t size = SZ_512, min_addr = mem(3).base - SZ_256;
  EXPECT_EQ(exact(size, min_addr, min_addr + size, 3), 0u);
}

TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_no_overlap_high_generic_check) {
  setup_numa_memblock(node_fractions);
  EXPECT_EQ(exact(SZ_64, mem(2).base, region_end(mem(5)), 7), 0u);
}

TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_large_region_generic_check) {
  setup_numa_memblock(node_fractions);
  EXPECT_EQ(exact_all(MEM_SIZE / SZ_2, 3), 0u);
}

// Kernel expectation: all three merge (v6.12 semantics).
TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_reserved_full_merge_generic_check) {
  mb.set_era(Era::v6_12);
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(6), next_node = mem(7);
  const phys_addr_t size = req_node.size;
  const region r1{next_node.base, SZ_128};
  const region r2{r1.base - (size + SZ_128), SZ_128};
  const phys_addr_t total = r1.size + r2.size + size;
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  ASSERT_NE(exact(size, r2.base + r2.size, r1.base, 6), 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, r2.base);
  EXPECT_LE(rsv(0).base, req_node.base);
  EXPECT_LE(region_end(req_node), region_end(rsv(0)));
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// v6.16+: three regions.
TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_reserved_full_merge_generic_check_v6_16) {
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(6), next_node = mem(7);
  const phys_addr_t size = req_node.size;
  const region r1{next_node.base, SZ_128};
  const region r2{r1.base - (size + SZ_128), SZ_128};
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  ASSERT_NE(exact(size, r2.base + r2.size, r1.base, 6), 0u);
  EXPECT_EQ(mb.reserved().cnt(), 3u);
  EXPECT_EQ(rsv(1).base, req_node.base);
  EXPECT_EQ(rsv(1).nid, 6);
}

TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_split_all_reserved_generic_check) {
  setup_numa_memblock(node_fractions);
  const MemblockRegion next_node = mem(7);
  const phys_addr_t size = SZ_256;
  const region r2{next_node.base + SZ_128, mb.memblock_end_of_DRAM() - (next_node.base + SZ_128)};
  const region r1{mb.memblock_start_of_DRAM(), MEM_SIZE - (r2.size + size)};
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  EXPECT_EQ(exact(size, r1.base + r1.size, r2.base, NUMA_NO_NODE), 0u);
}

}  // namespace
}  // namespace khospec::model::testing
