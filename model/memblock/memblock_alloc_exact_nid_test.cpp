// Port of tools/testing/memblock/tests/alloc_exact_nid_api.c (v6.16+ tree):
// memblock_alloc_exact_nid_raw() never falls back to another node. The
// range checks this file also runs are the alloc_nid ones, instantiated in
// ExactRaw mode in memblock_alloc_nid_test.cpp. Citations name the file
// without its tools/testing/memblock/tests/ path. Pictures: legend in
// memblock_test_util.hpp.
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

// alloc_exact_nid_api.c alloc_exact_nid_top_down_numa_simple_check(), 6.16
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

// alloc_exact_nid_api.c alloc_exact_nid_top_down_numa_part_reserved_check(), 6.16
//
//  |     +---------------------------------+     |
//  |     |             n4 req              |     |  memory
//  +-----+---------------------------------+-----+
//  |     +---------------+         +-------+     |
//  |     |      r1       |         |  new  |     |  reserved
//  +-----+---------------+---------+-------+-----+
//        ^               ^         ^       ^
//        +18K            +19K      |       +20K
//                                  +20K-256
//
// r1 = [+18K, +19K), half of n4, is reserved (plain). Expect 256 bytes at the end of n4:
// [+20K-256, +20K) as regions[1]; cnt 2, total_size 1280.
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

// alloc_exact_nid_api.c alloc_exact_nid_top_down_numa_split_range_low_check(), 6.16
//
//  |   +-------------------------+-----------------+   |
//  |   |         n2 req          |       n3        |   |  memory
//  +---+-------------------------+-----------------+---+
//  |                 +-----------+                     |
//  |                 |    rgn    |                     |  reserved
//  +-----------------+-----------+---------------------+
//      ^             ^     ^     ^     ^
//      +10K          |     |     +14K  max_addr
//                    |     min_addr
//                    +14K-512
//
// min_addr = +14K-256, max_addr = +14K+256: only 256 bytes of n2 are in range.
// Expect min_addr dropped and 512 bytes at the end of n2: [+14K-512, +14K); cnt 1.
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

// alloc_exact_nid_api.c alloc_exact_nid_top_down_numa_no_overlap_split_check(), 6.16
//
//  |   +-------------+       +---------+---------------+   |
//  |   |   n2 req    |       |   n5    |      n6       |   |  memory
//  +---+-------------+-------+---------+---------------+---+
//  |         +-------+                                     |
//  |         |  rgn  |                                     |  reserved
//  +---------+-------+-------------------------------------+
//      ^     ^       ^             ^   ^   ^
//      +10K  |       +14K          |   |   max_addr
//            +14K-512              |   +22K
//                                  min_addr
//
// min_addr = +22K-256, max_addr = +22K+256 span n5 and n6; n2 ends below the range.
// Expect min_addr dropped and 512 bytes at the end of n2: [+14K-512, +14K); cnt 1.
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

// alloc_exact_nid_api.c alloc_exact_nid_top_down_numa_no_overlap_low_check(), 6.16
//
//  +-------------+   +-------+-------+-----+-------+     |
//  |   n0 req    |   |  n2   |  n3   | n4  |  n5   |     |  memory
//  +-------------+---+-------+-------+-----+-------+-----+
//  |       +-----+                                       |
//  |       | rgn |                                       |  reserved
//  +-------+-----+---------------------------------------+
//  ^       ^     ^   ^                             ^
//  start   |     +8K min_addr                      max_addr
//          +8K-64
//
// min_addr = +10K (n2), max_addr = +22K (end of n5); n0 is below the range and there is
// no node fallback. Expect min_addr dropped and 64 bytes at the end of n0:
// [+8K-64, +8K); cnt 1.
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

// alloc_exact_nid_api.c alloc_exact_nid_bottom_up_numa_simple_check(), 6.16
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

// alloc_exact_nid_api.c alloc_exact_nid_bottom_up_numa_part_reserved_check(), 6.16
//
//  |     +---------------------------------+     |
//  |     |             n4 req              |     |  memory
//  +-----+---------------------------------+-----+
//  |     +---------------+-------+               |
//  |     |      r1       |  new  |               |  reserved
//  +-----+---------------+-------+---------------+
//        ^               ^       ^         ^
//        +18K            +19K    +19K+256  +20K
//
// r1 = [+18K, +19K), half of n4, is reserved (plain). Kernel expectation: 256 bytes right
// after r1, merged with it: [+18K, +19K+256); cnt 1, total_size 1280.
// Runs in the v6.12 era (see memblock_alloc_nid_test.cpp).
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

// alloc_exact_nid_api.c alloc_exact_nid_bottom_up_numa_part_reserved_check(), 6.16
// Layout as drawn above. v6.16+: expect the new [+19K, +19K+256) (nid 4, RSRV_KERN) to
// stay apart from r1: two regions.
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

// alloc_exact_nid_api.c alloc_exact_nid_bottom_up_numa_split_range_low_check(), 6.16
//
//  |   +-------------------------+-----------------+   |
//  |   |         n2 req          |       n3        |   |  memory
//  +---+-------------------------+-----------------+---+
//  |   +---------+                                     |
//  |   |   rgn   |                                     |  reserved
//  +---+---------+-------------------------------------+
//      ^         ^         ^     ^     ^
//      +10K      +10K+512  |     +14K  max_addr
//                          min_addr
//
// min_addr = +14K-256, max_addr = +14K+256: only 256 bytes of n2 are in range.
// Expect min_addr dropped and 512 bytes at the start of n2: [+10K, +10K+512); cnt 1.
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

// alloc_exact_nid_api.c alloc_exact_nid_bottom_up_numa_no_overlap_split_check(), 6.16
//
//  |   +---------------+     +---------+---------------+   |
//  |   |    n2 req     |     |   n5    |      n6       |   |  memory
//  +---+---------------+-----+---------+---------------+---+
//  |   +-------+                                           |
//  |   |  rgn  |                                           |  reserved
//  +---+-------+-------------------------------------------+
//      ^       ^       ^           ^   ^   ^
//      +10K    |       +14K        |   |   max_addr
//              +10K+512            |   +22K
//                                  min_addr
//
// min_addr = +22K-256, max_addr = +22K+256 span n5 and n6; n2 ends below the range.
// Expect min_addr dropped and 512 bytes at the start of n2: [+10K, +10K+512); cnt 1.
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

// alloc_exact_nid_api.c alloc_exact_nid_bottom_up_numa_no_overlap_low_check(), 6.16
//
//  +-------------+   +-------+-------+-----+-------+     |
//  |   n0 req    |   |  n2   |  n3   | n4  |  n5   |     |  memory
//  +-------------+---+-------+-------+-----+-------+-----+
//  +-----+                                               |
//  | rgn |                                               |  reserved
//  +-----+-----------------------------------------------+
//  ^     ^       ^   ^                             ^
//  start +64     +8K min_addr                      max_addr
//
// min_addr = +10K (n2), max_addr = +22K (end of n5); n0 is below the range and there is
// no node fallback. Expect min_addr dropped and 64 bytes at the start of n0:
// [start, +64); cnt 1.
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

// alloc_exact_nid_api.c alloc_exact_nid_numa_small_node_generic_check(), 6.16
//
//        +-----------------+
//        |       new       |  4K
//        +-----------------+
//  |         +-------+                     |
//  |         |n1 req |                     |  memory
//  +---------+-------+---------------------+
//            ^       ^
//            +8K     +10K
//
// n1 is 2K and there is no node fallback. Expect no allocation of 4K, in both
// directions.
TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_small_node_generic_check) {
  setup_numa_memblock(node_fractions);
  EXPECT_EQ(exact_all(SZ_2 * mem(1).size, 1), 0u);
}

// alloc_exact_nid_api.c alloc_exact_nid_numa_node_reserved_generic_check(), 6.16
//
//  |         +-------------+               |
//  |         |   n2 req    |               |  memory
//  +---------+-------------+---------------+
//  |         +-------------+               |
//  |         |  reserved   |               |  reserved
//  +---------+-------------+---------------+
//            ^             ^
//            +10K          +14K
//
// n2 is fully reserved (plain). Expect no allocation of 4K on n2, in both directions.
TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_node_reserved_generic_check) {
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(2);
  mb.memblock_reserve(req_node.base, req_node.size);
  EXPECT_EQ(exact_all(req_node.size, 2), 0u);
}

// alloc_exact_nid_api.c alloc_exact_nid_numa_part_reserved_fail_generic_check(), 6.16
//
//  |     +-------------------------+       |
//  |     |         n4 req          |       |  memory
//  +-----+-------------------------+-------+
//  |           +-----------+               |
//  |           |    r1     |               |  reserved
//  +-----------+-----------+---------------+
//        ^     ^           ^       ^
//        +18K  +18K+512    |       +20K
//                          +19K+512
//
// r1 leaves two 512-byte holes in n4. Expect no allocation of 1K, in both directions.
TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_part_reserved_fail_generic_check) {
  setup_numa_memblock(node_fractions);
  const MemblockRegion req_node = mem(4);
  ASSERT_LE(SZ_4, req_node.size);
  const phys_addr_t size = req_node.size / SZ_2;
  mb.memblock_reserve(req_node.base + (size / SZ_2), size);
  EXPECT_EQ(exact_all(size, 4), 0u);
}

// alloc_exact_nid_api.c alloc_exact_nid_numa_split_range_high_generic_check(), 6.16
//
//  |   +-------------------------+-----------------+   |
//  |   |           n2            |     n3 req      |   |  memory
//  +---+-------------------------+-----------------+---+
//      ^                   ^     ^     ^           ^
//      +10K                |     +14K  max_addr    +18K
//                          min_addr
//
// min_addr = +14K-256, max_addr = +14K+256: only 256 bytes of n3 are below max_addr.
// Expect no allocation of 512 bytes (n2 is not an option), in both directions.
TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_split_range_high_generic_check) {
  setup_numa_memblock(node_fractions);
  const phys_addr_t size = SZ_512, min_addr = mem(3).base - SZ_256;
  EXPECT_EQ(exact(size, min_addr, min_addr + size, 3), 0u);
}

// alloc_exact_nid_api.c alloc_exact_nid_numa_no_overlap_high_generic_check(), 6.16
//
//  |   +-------+-------+-----+-------+       +---------+
//  |   |  n2   |  n3   | n4  |  n5   |       | n7 req  |  memory
//  +---+-------+-------+-----+-------+-------+---------+
//      ^                             ^       ^
//      min_addr                      |       +30K
//                                    max_addr
//
// min_addr = +10K (n2), max_addr = +22K (end of n5); n7 is above the range. Expect no
// allocation of 64 bytes, in both directions.
TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_no_overlap_high_generic_check) {
  setup_numa_memblock(node_fractions);
  EXPECT_EQ(exact(SZ_64, mem(2).base, region_end(mem(5)), 7), 0u);
}

// alloc_exact_nid_api.c alloc_exact_nid_numa_large_region_generic_check(), 6.16
//
//      +-------------------------------+
//      |              new              |  MEM_SIZE / 2 = 16K
//      +-------------------------------+
//  +-----------+-----+-------+-------+-----+-----+-----------+-----+
//  |   n0 8K   |n1 2K| n2 4K | n3 4K |n4 2K|n5 2K|   n6 8K   |n7 2K|  memory
//  +-----------+-----+-------+-------+-----+-----+-----------+-----+
//
// 16K is more than any node holds (8K at most). Expect no allocation, in both
// directions.
TEST_P(MemblockAllocExactNidGeneric, alloc_exact_nid_numa_large_region_generic_check) {
  setup_numa_memblock(node_fractions);
  EXPECT_EQ(exact_all(MEM_SIZE / SZ_2, 3), 0u);
}

// alloc_exact_nid_api.c alloc_exact_nid_numa_reserved_full_merge_generic_check(), 6.16
//
//  |   +-----------+-----------------------+-------------+
//  |   |    n5     |        n6 req         |     n7      |  memory
//  +---+-----------+-----------------------+-------------+
//  |         +-----+-----------------------+-----+       |
//  |         | r2  |          new          | r1  |       |  reserved
//  +---------+-----+-----------------------+-----+-------+
//            ^     ^                       ^     ^
//            |     min_addr                |     +30K+128
//            +22K-128                      max_addr
//
// r2 = [+22K-128, +22K), r1 = [+30K, +30K+128) (plain); [min_addr, max_addr) is all of
// n6 (8K). Kernel expectation: the new 8K merged with both, [+22K-128, +30K+128); cnt 1,
// total_size 8K+256.
// Runs in the v6.12 era.
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

// alloc_exact_nid_api.c alloc_exact_nid_numa_reserved_full_merge_generic_check(), 6.16
// Layout as drawn above. v6.16+: expect three regions, the new [+22K, +30K) (nid 6) as
// regions[1].
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

// alloc_exact_nid_api.c alloc_exact_nid_numa_split_all_reserved_generic_check(), 6.16
//
//                                    +-------+
//                                    |  new  |  256
//                                    +-------+
//  |                   +-----------------+-----------+
//  |                   |       n6        |    n7     |  memory
//  +-------------------+-----------------+-----------+
//  +---------------------------------+       +-------+
//  |               r1                |       |  r2   |  reserved
//  +---------------------------------+-------+-------+
//  ^                                 ^   ^   ^       ^
//  start                             |   |   |       end
//                                    |   |   max_addr
//                                    |   +30K
//                                    min_addr
//
// r1 = [start, +30K-128), r2 = [+30K+128, end) (plain): the only free 256 bytes,
// [min_addr, max_addr), straddle n6 and n7. Expect no allocation with NUMA_NO_NODE, in
// both directions.
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
