// Port of tools/testing/memblock/tests/alloc_nid_api.c (v6.16+ tree), its
// NUMA checks (CONFIG_NUMA, 8 nodes), run for try_nid and try_nid_raw. Two
// checks expect an allocation to merge with a plain memblock_reserve(); that
// only holds before v6.16 (see the *_v6_16 tests and docs/model-memblock.md).
// Pictures: legend in memblock_test_util.hpp.
#include "model/memblock/memblock_test_util.hpp"

namespace khospec::model::testing {
namespace {

class MemblockAllocNidNuma : public MemblockAllocFixture {};
class MemblockAllocNidNumaGeneric : public MemblockAllocFixture {};
INSTANTIATE_TEST_SUITE_P(Flags, MemblockAllocNidNuma, raw_axis(), alloc_mode_name);
INSTANTIATE_TEST_SUITE_P(Modes, MemblockAllocNidNumaGeneric, both_directions(), alloc_mode_name);

// ==== NUMA checks =====================================================================

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_numa_simple_check(), 6.16
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_numa_small_node_check(), 6.16
//
//  |       +-------+         +-------------------+     |
//  |       |n1 req |         |        n6         |     |  memory
//  +-------+-------+---------+-------------------+-----+
//  |                                   +---------+     |
//  |                                   |   rgn   |     |  reserved
//  +-----------------------------------+---------+-----+
//          ^       ^         ^         ^         ^
//          +8K     +10K      +22K      +26K      +30K
//
// n1 (2K) cannot hold 4K. Expect the NUMA_NO_NODE fallback to take the end of n6, the
// highest node with room (n7 is 2K): [+26K, +30K); cnt 1, total_size 4K.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_numa_node_reserved_check(), 6.16
//
//  |       +-----------+       +-------------------+     |
//  |       |  n2 req   |       |        n6         |     |  memory
//  +-------+-----------+-------+-------------------+-----+
//  |       +-----------+                 +---------+     |
//  |       | reserved  |                 |   new   |     |  reserved
//  +-------+-----------+-----------------+---------+-----+
//          ^           ^       ^         ^         ^
//          +10K        +14K    +22K      +26K      +30K
//
// n2 is fully reserved (plain). Expect 4K at the end of n6 after the fallback:
// [+26K, +30K) as regions[1]; cnt 2, total_size 8K.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_numa_part_reserved_check(), 6.16
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_numa_part_reserved_fallback_check(), 6.16
//
//  |   +---------------------+         +---------------+
//  |   |       n4 req        |         |      n7       |  memory
//  +---+---------------------+---------+---------------+
//  |         +---------+                       +-------+
//  |         |   r1    |                       |  new  |  reserved
//  +---------+---------+-----------------------+-------+
//      ^     ^         ^     ^         ^       ^       ^
//      +18K  +18K+512  |     +20K      +30K    +31K    +32K
//                      +19K+512
//
// r1 = [+18K+512, +19K+512) leaves two 512-byte holes in n4, too small for 1K. Expect
// the fallback to the end of the last node, n7: [+31K, +32K) as regions[1]; cnt 2,
// total_size 2K.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_numa_split_range_low_check(), 6.16
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_numa_split_range_high_check(), 6.16
//
//  |   +-------------------------+-----------------+   |
//  |   |           n2            |     n3 req      |   |  memory
//  +---+-------------------------+-----------------+---+
//  |                 +-----------+                     |
//  |                 |    rgn    |                     |  reserved
//  +-----------------+-----------+---------------------+
//      ^             ^     ^     ^     ^
//      +10K          |     |     +14K  max_addr
//                    |     min_addr
//                    +14K-512
//
// min_addr = +14K-256, max_addr = +14K+256: only 256 bytes of n3 are in range, and none
// below it. Expect min_addr dropped and, after the fallback, 512 bytes at the end of n2:
// [+14K-512, +14K); cnt 1.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_numa_no_overlap_split_check(), 6.16
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_numa_no_overlap_low_check(), 6.16
//
//  +---------+   +-------+-------+-----+-------+     |
//  | n0 req  |   |  n2   |  n3   | n4  |  n5   |     |  memory
//  +---------+---+-------+-------+-----+-------+-----+
//  |                                     +-----+     |
//  |                                     | rgn |     |  reserved
//  +-------------------------------------+-----+-----+
//  ^         ^   ^                       ^     ^
//  start     +8K min_addr                |     max_addr
//                                        +22K-64
//
// min_addr = +10K (n2), max_addr = +22K (end of n5); n0 is below the range. Expect the
// NUMA_NO_NODE fallback to the top of the range: [+22K-64, +22K) in n5; cnt 1.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_numa_no_overlap_high_check(), 6.16
//
//  |   +-------+-------+-----+-------+       +---------+
//  |   |  n2   |  n3   | n4  |  n5   |       | n7 req  |  memory
//  +---+-------+-------+-----+-------+-------+---------+
//  |                           +-----+                 |
//  |                           | rgn |                 |  reserved
//  +---------------------------+-----+-----------------+
//      ^                       ^     ^       ^
//      min_addr                |     |       +30K
//                              |     max_addr
//                              +22K-64
//
// min_addr = +10K (n2), max_addr = +22K (end of n5); n7 is above the range. Expect the
// NUMA_NO_NODE fallback to the top of the range: [+22K-64, +22K) in n5; cnt 1.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_numa_simple_check(), 6.16
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_numa_small_node_check(), 6.16
//
//  +-------------------+-------+       |
//  |        n0         |n1 req |       |  memory
//  +-------------------+-------+-------+
//  +---------+                         |
//  |   rgn   |                         |  reserved
//  +---------+-------------------------+
//  ^         ^         ^       ^
//  start     +4K       +8K     +10K
//
// n1 (2K) cannot hold 4K. Expect the fallback to take the start of n0, the lowest node
// with room: [start, +4K); cnt 1, total_size 4K.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_numa_node_reserved_check(), 6.16
//
//  +-------------------+     +---------+     |
//  |        n0         |     | n2 req  |     |  memory
//  +-------------------+-----+---------+-----+
//  +---------+               +---------+     |
//  |   new   |               |reserved |     |  reserved
//  +---------+---------------+---------+-----+
//  ^         ^         ^     ^         ^
//  start     +4K       +8K   +10K      +14K
//
// n2 is fully reserved (plain). Expect 4K at the start of n0 after the fallback:
// [start, +4K) as regions[0]; cnt 2, total_size 8K.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_numa_part_reserved_check(), 6.16
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
// That needs equal flags and nid, which holds in v6.12 (both MAX_NUMNODES, 0), so the
// check runs in the v6.12 era.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_numa_part_reserved_check(), 6.16
// Layout as drawn above. On v6.16+ the allocation is __memblock_reserve(.., nid 4,
// RSRV_KERN) and r1 is (NUMA_NO_NODE, 0): expect them to stay two regions, the new one
// [+19K, +19K+256) as regions[1]; total_size 1280. The upstream check (unchanged since
// v6.16) expects one under NUMA=1.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_numa_part_reserved_fallback_check(), 6.16
//
//  +---------------+     +---------------------+     |
//  |      n0       |     |       n4 req        |     |  memory
//  +---------------+-----+---------------------+-----+
//  +-------+                   +---------+           |
//  |  new  |                   |   r1    |           |  reserved
//  +-------+-------------------+---------+-----------+
//  ^       ^             ^     ^         ^     ^
//  start   +1K           +18K  +18K+512  |     +20K
//                                        +19K+512
//
// r1 = [+18K+512, +19K+512) leaves two 512-byte holes in n4, too small for 1K. Expect
// the fallback to the start of n0: [start, +1K) as regions[0]; cnt 2, total_size 2K.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_numa_split_range_low_check(), 6.16
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_numa_split_range_high_check(), 6.16
//
//  +-------------+   +-------------+-------------+   |
//  |     n0      |   |     n2      |   n3 req    |   |  memory
//  +-------------+---+-------------+-------------+---+
//  +-------+                                         |
//  |  rgn  |                                         |  reserved
//  +-------+-----------------------------------------+
//  ^       ^                   ^   ^   ^
//  start   +512                |   |   max_addr
//                              |   +14K
//                              min_addr
//
// min_addr = +14K-256, max_addr = +14K+256: only 256 bytes of n3 are below max_addr.
// Expect min_addr dropped and, after the fallback, 512 bytes at the start of n0:
// [start, +512); cnt 1.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_numa_no_overlap_split_check(), 6.16
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_numa_no_overlap_low_check(), 6.16
//
//  +---------+   +-------+-------+-----+-------+     |
//  | n0 req  |   |  n2   |  n3   | n4  |  n5   |     |  memory
//  +---------+---+-------+-------+-----+-------+-----+
//  |             +-----+                             |
//  |             | rgn |                             |  reserved
//  +-------------+-----+-----------------------------+
//  ^         ^   ^     ^                       ^
//  start     +8K |     +10K+64                 max_addr
//                min_addr
//
// min_addr = +10K (n2), max_addr = +22K (end of n5); n0 is below the range. Expect the
// NUMA_NO_NODE fallback to min_addr: [+10K, +10K+64) in n2; cnt 1.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_numa_no_overlap_high_check(), 6.16
//
//  |   +-------+-------+-----+-------+       +---------+
//  |   |  n2   |  n3   | n4  |  n5   |       | n7 req  |  memory
//  +---+-------+-------+-----+-------+-------+---------+
//  |   +-----+                                         |
//  |   | rgn |                                         |  reserved
//  +---+-----+-----------------------------------------+
//      ^     ^                       ^       ^
//      |     +10K+64                 |       +30K
//      min_addr                      max_addr
//
// min_addr = +10K (n2), max_addr = +22K (end of n5); n7 is above the range. Expect the
// NUMA_NO_NODE fallback to min_addr: [+10K, +10K+64) in n2; cnt 1.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_numa_large_region_generic_check(), 6.16
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_numa_reserved_full_merge_generic_check(), 6.16
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
// Holds in v6.12 only (see alloc_nid_bottom_up_numa_part_reserved_check).
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_numa_reserved_full_merge_generic_check(), 6.16
// Layout as drawn above. v6.16+: expect three regions, r2, the new [+22K, +30K)
// (nid 6, RSRV_KERN) and r1; total_size 8K+256.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_numa_split_all_reserved_generic_check(), 6.16
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_node_on_correct_nid(), 6.16
// memblock_alloc_node() on node 2: expect success and node 2 untouched.
TEST_P(MemblockAllocNidNumaGeneric, alloc_node_on_correct_nid) {
  setup_numa_memblock(node_fractions);
  ASSERT_NE(mb.memblock_alloc_node(SZ_512, SMP_CACHE_BYTES, 2), 0u);
  EXPECT_EQ(mem(2).nid, 2);
}

}  // namespace
}  // namespace khospec::model::testing
