// Port of tools/testing/memblock/tests/alloc_api.c (v6.16+ tree, which uses
// memblock_reserve_kern() where a merge with the RSRV_KERN allocation is
// expected). Direction-specific checks run with TEST_F_NONE and TEST_F_RAW;
// the *_generic_check ones also run top-down and bottom-up, as the kernel's
// run_top_down()/run_bottom_up() wrappers do. The simulator's
// assert_mem_content() (zeroed vs raw memory) has no model counterpart.
// Pictures: legend in memblock_test_util.hpp.
#include "model/memblock/memblock_test_util.hpp"

namespace khospec::model::testing {
namespace {

class MemblockAlloc : public MemblockAllocFixture {};
class MemblockAllocGeneric : public MemblockAllocFixture {};
INSTANTIATE_TEST_SUITE_P(Flags, MemblockAlloc, raw_axis(), alloc_mode_name);
INSTANTIATE_TEST_SUITE_P(Modes, MemblockAllocGeneric, both_directions(), alloc_mode_name);

// tools/testing/memblock/tests/alloc_api.c alloc_top_down_simple_check(), 6.16
// Expect an aligned region at the end of memory.
TEST_P(MemblockAlloc, alloc_top_down_simple_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t size = SZ_2;
  const phys_addr_t expected_start = mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES;
  const phys_addr_t p = run_memblock_alloc(size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, expected_start);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// tools/testing/memblock/tests/alloc_api.c alloc_top_down_disjoint_check(), 6.16
//
//  |         +---------+             +-----+     |
//  |         |  rgn2   |             | r1  |     |  reserved
//  +---------+---------+-------------+-----+-----+
//            ^         ^             ^     ^
//            end-64    end-48        end-2 end
//
// r1 = [end-2, end) is reserved first; 16 bytes are then allocated with 64-byte alignment.
// Expect a separate rgn2 [end-64, end-48) as regions[0], r1 unchanged as regions[1];
// cnt 2, total_size 18.
TEST_P(MemblockAlloc, alloc_top_down_disjoint_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t r2_size = SZ_16, alignment = SMP_CACHE_BYTES * 2;
  const region r1{mb.memblock_end_of_DRAM() - SZ_2, SZ_2};
  const phys_addr_t expected_start = mb.memblock_end_of_DRAM() - alignment;
  mb.memblock_reserve(r1.base, r1.size);
  const phys_addr_t p = run_memblock_alloc(r2_size, alignment);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(1).size, r1.size);
  EXPECT_EQ(rsv(1).base, r1.base);
  EXPECT_EQ(rsv(0).size, r2_size);
  EXPECT_EQ(rsv(0).base, expected_start);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, r1.size + r2_size);
}

// tools/testing/memblock/tests/alloc_api.c alloc_top_down_before_check(), 6.16
//
//  |     +-------+-------------------------+
//  |     |  r1   |           new           |  reserved
//  +-----+-------+-------------------------+
//        ^       ^                         ^
//        end-544 end-512                   end
//
// r1 (32 bytes, RSRV_KERN) ends where the 512 free bytes at the top begin. Expect the
// new 512 bytes there, merged with r1: [end-544, end); cnt 1, total_size 544.
TEST_P(MemblockAlloc, alloc_top_down_before_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t r1_size = SMP_CACHE_BYTES, r2_size = SZ_512;
  const phys_addr_t total = r1_size + r2_size;
  mb.memblock_reserve_kern(mb.memblock_end_of_DRAM() - total, r1_size);
  const phys_addr_t p = run_memblock_alloc(r2_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, mb.memblock_end_of_DRAM() - total);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/alloc_api.c alloc_top_down_after_check(), 6.16
//
//  |     +-------------------+-----+             |
//  |     |        new        | r1  |             |  reserved
//  +-----+-------------------+-----+-------------+
//        ^                   ^     ^             ^
//        end-544             |     end-24        end
//                            end-32
//
// r1 = [end-32, end-24) (RSRV_KERN); the 24 bytes above it are too few for 512.
// Expect the new block right below r1, merged: [end-544, end-24); cnt 1, total_size 520.
TEST_P(MemblockAlloc, alloc_top_down_after_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t r2_size = SZ_512;
  const region r1{mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES, SZ_8};
  const phys_addr_t total = r1.size + r2_size;
  mb.memblock_reserve_kern(r1.base, r1.size);
  const phys_addr_t p = run_memblock_alloc(r2_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, r1.base - r2_size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/alloc_api.c alloc_top_down_second_fit_check(), 6.16
//
//  |   +-------------+---------+           +---------------+
//  |   |     new     |   r2    |           |      r1       |  reserved
//  +---+-------------+---------+-----------+---------------+
//      ^             ^         ^           ^               ^
//      end-2K        end-1K    end-768     end-512         end
//
// r1 = [end-512, end), r2 = [end-1K, end-768) (RSRV_KERN); the 256-byte gap is too small
// for 1K. Expect the new 1K below r2, merged with it: [end-2K, end-768), r1 unchanged;
// cnt 2, total_size 1792.
TEST_P(MemblockAlloc, alloc_top_down_second_fit_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t r3_size = SZ_1K;
  const region r1{mb.memblock_end_of_DRAM() - SZ_512, SZ_512};
  const region r2{r1.base - SZ_512, SZ_256};
  const phys_addr_t total = r1.size + r2.size + r3_size;
  mb.memblock_reserve_kern(r1.base, r1.size);
  mb.memblock_reserve_kern(r2.base, r2.size);
  const phys_addr_t p = run_memblock_alloc(r3_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, r2.size + r3_size);
  EXPECT_EQ(rsv(0).base, r2.base - r3_size);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/alloc_api.c alloc_in_between_generic_check(), 6.16
//
//  |   +-----------------+---------+-----------------+   |
//  |   |       r2        |   new   |       r1        |   |  reserved
//  +---+-----------------+---------+-----------------+---+
//  ^   ^                 ^         ^                 ^   ^
//  |   start+32          |         end-16352         |   end
//  start                 start+16352                 end-32
//
// r1 and r2 are 16320 bytes each (RSRV_KERN), leaving 32 free bytes at each end and a
// 64-byte gap between them. Expect the 64-byte block in that gap and all three merged:
// [start+32, end-32); cnt 1, total_size 32704. Both directions.
TEST_P(MemblockAllocGeneric, alloc_in_between_generic_check) {
  setup_memblock();
  const phys_addr_t gap_size = SMP_CACHE_BYTES, r3_size = SZ_64;
  const phys_addr_t rgn_size = (MEM_SIZE - (2 * gap_size + r3_size)) / 2;
  const region r1{mb.memblock_end_of_DRAM() - (gap_size + rgn_size), rgn_size};
  const region r2{mb.memblock_start_of_DRAM() + gap_size, rgn_size};
  const phys_addr_t total = r1.size + r2.size + r3_size;
  mb.memblock_reserve_kern(r1.base, r1.size);
  mb.memblock_reserve_kern(r2.base, r2.size);
  const phys_addr_t p = run_memblock_alloc(r3_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, r1.base - r2.size - r3_size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/alloc_api.c alloc_small_gaps_generic_check(), 6.16
//
//      +-----------+
//      |    new    |  1K
//      +-----------+
//  |   +-----------+   +-----------+   +-----------+   +-----+
//  |   |    1K     |   |    1K     |   |    1K     |   | ... |  reserved
//  +---+-----------+---+-----------+---+-----------+---+-----+
//  ^   ^           ^   ^
//  |   start+256   |   start+1536
//  start           start+1280
//
// 1K reserved every 1280 bytes from start+256 up to the end: every free gap is 256 bytes.
// Expect no allocation of 1K, in both directions.
TEST_P(MemblockAllocGeneric, alloc_small_gaps_generic_check) {
  setup_memblock();
  const phys_addr_t region_size = SZ_1K, gap_size = SZ_256;
  phys_addr_t region_end = mb.memblock_start_of_DRAM();
  while (region_end < mb.memblock_end_of_DRAM()) {
    mb.memblock_reserve(region_end + gap_size, region_size);
    region_end += gap_size + region_size;
  }
  EXPECT_EQ(run_memblock_alloc(region_size, SMP_CACHE_BYTES), 0u);
}

// tools/testing/memblock/tests/alloc_api.c alloc_all_reserved_generic_check(), 6.16
// All memory reserved: expect no allocation.
TEST_P(MemblockAllocGeneric, alloc_all_reserved_generic_check) {
  setup_memblock();
  mb.memblock_reserve(mb.memblock_start_of_DRAM(), MEM_SIZE);
  EXPECT_EQ(run_memblock_alloc(SZ_256, SMP_CACHE_BYTES), 0u);
}

// tools/testing/memblock/tests/alloc_api.c alloc_no_space_generic_check(), 6.16
//
//                                        +-----------+
//                                        |    new    |  1K
//                                        +-----------+
//  +-------------------------------------+     |
//  |              reserved               |     |  memory
//  +-------------------------------------+-----+
//  ^                                     ^     ^
//  start                                 |     end
//                                        end-256
//
// All but the last 256 bytes reserved. Expect no allocation of 1K, in both directions.
TEST_P(MemblockAllocGeneric, alloc_no_space_generic_check) {
  setup_memblock();
  const phys_addr_t available_size = SZ_256;
  mb.memblock_reserve(mb.memblock_start_of_DRAM(), MEM_SIZE - available_size);
  EXPECT_EQ(run_memblock_alloc(SZ_1K, SMP_CACHE_BYTES), 0u);
}

// tools/testing/memblock/tests/alloc_api.c alloc_limited_space_generic_check(), 6.16
//
//  +-------------------------------+-----------+
//  |           reserved            |    new    |  reserved
//  +-------------------------------+-----------+
//  ^                               ^           ^
//  start                           end-256     end
//
// All but the last 256 bytes reserved (RSRV_KERN). Expect the 256-byte block there,
// merged into one region covering all memory [start, end); cnt 1, total_size 32K.
TEST_P(MemblockAllocGeneric, alloc_limited_space_generic_check) {
  setup_memblock();
  const phys_addr_t available_size = SZ_256;
  mb.memblock_reserve_kern(mb.memblock_start_of_DRAM(), MEM_SIZE - available_size);
  const phys_addr_t p = run_memblock_alloc(available_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, MEM_SIZE);
  EXPECT_EQ(rsv(0).base, mb.memblock_start_of_DRAM());
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, MEM_SIZE);
}

// tools/testing/memblock/tests/alloc_api.c alloc_no_memory_generic_check(), 6.16
// No memory registered: expect no allocation and nothing reserved.
TEST_P(MemblockAllocGeneric, alloc_no_memory_generic_check) {
  reset_memblock_regions();
  EXPECT_EQ(run_memblock_alloc(SZ_1K, SMP_CACHE_BYTES), 0u);
  EXPECT_EQ(rsv(0).size, 0u);
  EXPECT_EQ(rsv(0).base, 0u);
  EXPECT_EQ(mb.reserved().total_size, 0u);
}

// tools/testing/memblock/tests/alloc_api.c alloc_too_large_generic_check(), 6.16
//
//  +---------------------------------------+
//  |                  new                  |  MEM_SIZE + 2
//  +---------------------------------------+
//  |                                     |
//  |                                     |  memory (MEM_SIZE, all free)
//  +-------------------------------------+
//  ^                                     ^
//  start                                 end
//
// Expect no allocation and an empty reserved array (regions[0] reads 0/0, total_size 0),
// in both directions.
TEST_P(MemblockAllocGeneric, alloc_too_large_generic_check) {
  setup_memblock();
  EXPECT_EQ(run_memblock_alloc(MEM_SIZE + SZ_2, SMP_CACHE_BYTES), 0u);
  EXPECT_EQ(rsv(0).size, 0u);
  EXPECT_EQ(rsv(0).base, 0u);
  EXPECT_EQ(mb.reserved().total_size, 0u);
}

// tools/testing/memblock/tests/alloc_api.c alloc_bottom_up_simple_check(), 6.16
// Expect an aligned region at the start of memory.
TEST_P(MemblockAlloc, alloc_bottom_up_simple_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t p = run_memblock_alloc(SZ_2, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, SZ_2);
  EXPECT_EQ(rsv(0).base, mb.memblock_start_of_DRAM());
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, SZ_2);
}

// tools/testing/memblock/tests/alloc_api.c alloc_bottom_up_disjoint_check(), 6.16
//
//  |   +-----+               +---------+         |
//  |   | r1  |               |  rgn2   |         |  reserved
//  +---+-----+---------------+---------+---------+
//  ^   ^     ^               ^         ^
//  |   |     start+4         start+64  start+80
//  |   start+2
//  start
//
// r1 = [start+2, start+4) is reserved first; 16 bytes are then allocated with 64-byte
// alignment. Expect r1 unchanged as regions[0] and a separate rgn2 [start+64, start+80)
// as regions[1]; cnt 2, total_size 18.
TEST_P(MemblockAlloc, alloc_bottom_up_disjoint_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t r2_size = SZ_16, alignment = SMP_CACHE_BYTES * 2;
  const region r1{mb.memblock_start_of_DRAM() + SZ_2, SZ_2};
  const phys_addr_t expected_start = mb.memblock_start_of_DRAM() + alignment;
  mb.memblock_reserve(r1.base, r1.size);
  const phys_addr_t p = run_memblock_alloc(r2_size, alignment);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, r1.size);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(rsv(1).size, r2_size);
  EXPECT_EQ(rsv(1).base, expected_start);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, r1.size + r2_size);
}

// tools/testing/memblock/tests/alloc_api.c alloc_bottom_up_before_check(), 6.16
//
//  +-------------------------+-------+         |
//  |           new           |  r2   |         |  reserved
//  +-------------------------+-------+---------+
//  ^                         ^       ^         ^
//  start                     |       start+640 end
//                            start+512
//
// r2 = [start+512, start+640) (RSRV_KERN). Expect the new 512 bytes at the start, merged
// with r2: [start, start+640); cnt 1, total_size 640.
TEST_P(MemblockAlloc, alloc_bottom_up_before_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t r1_size = SZ_512, r2_size = SZ_128, total = r1_size + r2_size;
  mb.memblock_reserve_kern(mb.memblock_start_of_DRAM() + r1_size, r2_size);
  const phys_addr_t p = run_memblock_alloc(r1_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, mb.memblock_start_of_DRAM());
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/alloc_api.c alloc_bottom_up_after_check(), 6.16
//
//  |     +-------+---------------------+         |
//  |     |  r1   |         new         |         |  reserved
//  +-----+-------+---------------------+---------+
//  ^     ^       ^                     ^
//  start |       start+96              start+608
//        start+32
//
// r1 = [start+32, start+96) (RSRV_KERN); the 32 bytes below it are too few for 512.
// Expect the new block right after r1, merged: [start+32, start+608); cnt 1,
// total_size 576.
TEST_P(MemblockAlloc, alloc_bottom_up_after_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t r2_size = SZ_512;
  const region r1{mb.memblock_start_of_DRAM() + SMP_CACHE_BYTES, SZ_64};
  const phys_addr_t total = r1.size + r2_size;
  mb.memblock_reserve_kern(r1.base, r1.size);
  const phys_addr_t p = run_memblock_alloc(r2_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/alloc_api.c alloc_bottom_up_second_fit_check(), 6.16
//
//  +-------------+           +-------+---------------+       |
//  |     r1      |           |  r2   |      new      |       |  reserved
//  +-------------+-----------+-------+---------------+-------+
//  ^             ^           ^       ^               ^
//  start         start+512   |       start+1280      start+2304
//                            start+1K
//
// r1 = [start, start+512), r2 = [start+1K, start+1280) (RSRV_KERN); the 512-byte gap is
// too small for 1K. Expect the new 1K after r2, merged with it: [start+1K, start+2304)
// as regions[1], r1 unchanged; cnt 2, total_size 1792.
TEST_P(MemblockAlloc, alloc_bottom_up_second_fit_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t r3_size = SZ_1K;
  const region r1{mb.memblock_start_of_DRAM(), SZ_512};
  const region r2{r1.base + r1.size + SZ_512, SZ_256};
  const phys_addr_t total = r1.size + r2.size + r3_size;
  mb.memblock_reserve_kern(r1.base, r1.size);
  mb.memblock_reserve_kern(r2.base, r2.size);
  const phys_addr_t p = run_memblock_alloc(r3_size, SMP_CACHE_BYTES);
  ASSERT_NE(p, 0u);
  EXPECT_EQ(rsv(1).size, r2.size + r3_size);
  EXPECT_EQ(rsv(1).base, r2.base);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

}  // namespace
}  // namespace khospec::model::testing
