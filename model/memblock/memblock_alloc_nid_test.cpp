// Port of tools/testing/memblock/tests/alloc_nid_api.c (v6.16+ tree), its
// range checks (the NUMA checks are in memblock_alloc_nid_numa_test.cpp).
// Range checks run for memblock_alloc_try_nid, _try_nid_raw and (as
// alloc_exact_nid_api.c does) _exact_nid_raw; NUMA checks (CONFIG_NUMA, 8
// nodes) run for try_nid and try_nid_raw. Two NUMA checks expect an
// allocation to merge with a plain memblock_reserve(); that only holds before
// v6.16 (see the *_v6_16 tests and docs/model-memblock.md). Pictures: legend
// in memblock_test_util.hpp.
#include "model/memblock/memblock_test_util.hpp"

namespace khospec::model::testing {
namespace {

class MemblockAllocNid : public MemblockAllocFixture {};
class MemblockAllocNidGeneric : public MemblockAllocFixture {};
INSTANTIATE_TEST_SUITE_P(Flags, MemblockAllocNid, nid_flags_axis(), alloc_mode_name);
INSTANTIATE_TEST_SUITE_P(Modes, MemblockAllocNidGeneric, nid_flags_both_directions(),
                         alloc_mode_name);

// ==== range checks ====================================================================

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_simple_check(), 6.16
//
//  |                           +-----------+       |
//  |                           |    rgn    |       |  reserved
//  +---------------------------+-----------+-------+
//          ^                   ^           ^
//          min_addr            |           max_addr
//                              max_addr-128
//
// min_addr = start+64, max_addr = min_addr+512. Expect 128 bytes ending at max_addr:
// [max_addr-128, max_addr); cnt 1, total_size 128.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_end_misaligned_check(), 6.16
//
//  |                         +-----------+           |
//  |                         |    rgn    |           |  reserved
//  +-------------------------+-----------+-----------+
//          ^                 ^           ^   ^
//          min_addr          start+448   |   max_addr
//                                        start+576
//
// min_addr = start+64, max_addr = min_addr+512+2 (not aligned). Expect 128 aligned bytes
// ending 2 bytes below max_addr: [start+448, start+576); cnt 1, total_size 128.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_exact_address_generic_check(), 6.16
//
//  |     +-----------------------------+       |
//  |     |             rgn             |       |  reserved
//  +-----+-----------------------------+-------+
//        ^                             ^
//        min_addr                      max_addr
//
// min_addr = start+32, max_addr = min_addr+1K: the range is exactly the size. Expect
// rgn = [min_addr, max_addr); cnt 1, total_size 1K. Both directions.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_narrow_range_check(), 6.16
//
//  |       +---------------------------+           |
//  |       |            rgn            |           |  reserved
//  +-------+---------------------------+-----------+
//          ^                     ^     ^
//          start+288             |     max_addr
//                                min_addr
//
// min_addr = start+512, max_addr = min_addr+32: too narrow for 256 bytes. Expect min_addr
// dropped and 256 bytes ending at max_addr: [start+288, start+544); cnt 1.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_low_max_generic_check(), 6.16
//
//  +-------------------+
//  |        new        |  1K
//  +-------------------+
//  |                                       |
//  |                                       |  memory
//  +---------------------------------------+
//  ^     ^
//  |     max_addr = start+32
//  min_addr = start
//
// Nothing of 1K fits below max_addr. Expect no allocation, in both directions.
TEST_P(MemblockAllocNidGeneric, alloc_nid_low_max_generic_check) {
  setup_memblock();
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM();
  const phys_addr_t max_addr = min_addr + SMP_CACHE_BYTES;
  EXPECT_EQ(run_memblock_alloc_nid(SZ_1K, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0u);
}

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_min_reserved_generic_check(), 6.16
//
//  |         +-------------------+-------------+
//  |         |        r1         |     rgn     |  reserved
//  +---------+-------------------+-------------+
//            ^                   ^             ^
//            end-192             |             max_addr = end
//                                min_addr = end-64
//
// r1 = [end-192, end-64) (RSRV_KERN) ends at min_addr. Expect the 64 bytes in
// [min_addr, max_addr), merged with r1: [end-192, end); cnt 1, total_size 192.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_max_reserved_generic_check(), 6.16
//
//  |         +-------------------+-------------+
//  |         |        rgn        |     r1      |  reserved
//  +---------+-------------------+-------------+
//            ^                   ^             ^
//            min_addr = end-192  |             end
//                                max_addr = end-64
//
// r1 = [end-64, end) (RSRV_KERN) starts at max_addr. Expect the 128 bytes in
// [min_addr, max_addr), merged with r1: [end-192, end); cnt 1, total_size 192.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_reserved_with_space_check(), 6.16
//
//  |   +-----------+       +-----------+-------+             |
//  |   |    r2     |       |    rgn    |  r1   |             |  reserved
//  +---+-----------+-------+-----------+-------+-------------+
//      ^           ^       ^           ^       ^             ^
//      end-288     |       end-128     |       end-32        end
//                  min_addr            max_addr
//
// r1 = [end-64, end-32), r2 = [end-288, end-160) (RSRV_KERN); min_addr = end-160,
// max_addr = end-64 leave 96 free bytes. Expect 64 bytes at the top, merged with r1:
// [end-128, end-32) as regions[1]; r2 unchanged; cnt 2, total_size 224.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_reserved_full_merge_generic_check(), 6.16
//
//  |   +-----------+-----------+-------+             |
//  |   |    r2     |    new    |  r1   |             |  reserved
//  +---+-----------+-----------+-------+-------------+
//      ^           ^           ^       ^             ^
//      end-256     min_addr    |       end-32        end
//                              max_addr
//
// r1 = [end-64, end-32), r2 = [end-256, end-128) (RSRV_KERN); the 64-byte gap between
// them is [min_addr, max_addr). Expect all three merged: [end-256, end-32); cnt 1,
// total_size 224. Both directions.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_reserved_no_space_check(), 6.16
//
//  |   +-----------------+---------+     +-----+             |
//  |   |       new       |   r2    |     | r1  |             |  reserved
//  +---+-----------------+---------+-----+-----+-------------+
//      ^                 ^         ^     ^     ^             ^
//      end-480           end-224   |     |     end-32        end
//                                  |     max_addr
//                                  min_addr
//
// r1 = [end-64, end-32), r2 = [end-224, end-96) (RSRV_KERN); min_addr = end-96 and
// max_addr = end-64 leave 32 bytes, too few for 256. Expect min_addr dropped and the
// 256 bytes below r2, merged with it: [end-480, end-96); r1 unchanged; cnt 2,
// total_size 416.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_reserved_all_generic_check(), 6.16
//
//                                +-------------+
//                                |     new     |  256
//                                +-------------+
//  +---------------------------------+     +---------+
//  |               r2                |     |   r1    |  reserved
//  +---------------------------------+-----+---------+
//  ^                                 ^     ^         ^
//  start                             |     max_addr  end
//                                    min_addr
//
// r2 = [start, end-64), r1 = [end-32, end) (plain); min_addr = end-64, max_addr = end-32.
// Expect no allocation of 256 bytes, in both directions.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_cap_max_check(), 6.16
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_top_down_cap_min_check(), 6.16
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_simple_check(), 6.16
//
//  |       +-----------+                           |
//  |       |    rgn    |                           |  reserved
//  +-------+-----------+---------------------------+
//          ^           ^                   ^
//          min_addr    min_addr+128        max_addr
//
// min_addr = start+64, max_addr = min_addr+512. Expect 128 bytes starting at min_addr,
// ending below max_addr; cnt 1, total_size 128.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_start_misaligned_check(), 6.16
//
//  |         +-------------+                         |
//  |         |     rgn     |                         |  reserved
//  +---------+-------------+-------------------------+
//      ^     ^             ^                 ^
//      |     start+32      start+160         max_addr
//      min_addr
//
// min_addr = start+2 (not aligned), max_addr = min_addr+512. Expect 128 bytes at the
// next aligned address: [start+32, start+160); cnt 1, total_size 128.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_narrow_range_check(), 6.16
//
//  +---------------------+                         |
//  |         rgn         |                         |  reserved
//  +---------------------+-------------------------+
//  ^                     ^         ^     ^
//  start                 start+256 |     max_addr
//                                  min_addr
//
// min_addr = start+512, max_addr = min_addr+32: too narrow for 256 bytes. Expect min_addr
// dropped and 256 bytes at the start of memory: [start, start+256); cnt 1.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_reserved_with_space_check(), 6.16
//
//  |   +-----------+-----------+       +-------+             |
//  |   |    r2     |    rgn    |       |  r1   |             |  reserved
//  +---+-----------+-----------+-------+-------+-------------+
//      ^           ^           ^       ^       ^             ^
//      end-288     min_addr    end-96  |       end-32        end
//                                      max_addr
//
// r1 = [end-64, end-32), r2 = [end-288, end-160) (RSRV_KERN); min_addr = end-160,
// max_addr = end-64. Expect 64 bytes at min_addr, merged with r2: [end-288, end-96) as
// regions[0]; r1 unchanged; cnt 2, total_size 224.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_reserved_no_space_check(), 6.16
//
//  +-----------+           +---------+     +-----+             |
//  |    new    |           |   r2    |     | r1  |             |  reserved
//  +-----------+-----------+---------+-----+-----+-------------+
//  ^           ^           ^         ^     ^     ^             ^
//  start       start+256   end-224   |     |     end-32        end
//                                    |     max_addr
//                                    min_addr
//
// r1 = [end-64, end-32), r2 = [end-224, end-96) (plain); min_addr = end-96 and
// max_addr = end-64 leave 32 bytes, too few for 256. Expect min_addr dropped and a
// separate region at the start: [start, start+256), then r2, r1; cnt 3, total_size 416.
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_cap_max_check(), 6.16
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

// tools/testing/memblock/tests/alloc_nid_api.c alloc_nid_bottom_up_cap_min_check(), 6.16
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

}  // namespace
}  // namespace khospec::model::testing
