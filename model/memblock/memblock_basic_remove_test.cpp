// Port of tools/testing/memblock/tests/basic_api.c (v6.16+ tree), remove,
// free, bottom-up, trim, overlaps and set_node (add and reserve:
// memblock_basic_test.cpp). Pictures: legend in memblock_test_util.hpp.
#include "model/memblock/memblock_test_util.hpp"

namespace khospec::model::testing {
namespace {

class MemblockBasicRemove : public MemblockFixture {};

// ---- memblock_remove ---------------------------------------------------------------

// tools/testing/memblock/tests/basic_api.c memblock_remove_simple_check(), 6.16
//
//  |   .......         +-------------------+   |
//  |   : r1  :         |        r2         |   |  memory
//  +---+-----+---------+-------------------+---+
//      ^     ^         ^                   ^
//      2K    6K        128K                128K+4M
//
// r1 is removed (dotted). Expect r2 alone, as regions[0]; cnt 1, total_size 4M.
TEST_F(MemblockBasicRemove, memblock_remove_simple_check) {
  const region r1{SZ_2K, SZ_4K}, r2{SZ_128K, SZ_4M};
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_add(r2.base, r2.size);
  mb.memblock_remove(r1.base, r1.size);
  EXPECT_EQ(mem(0).base, r2.base);
  EXPECT_EQ(mem(0).size, r2.size);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, r2.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_remove_absent_check(), 6.16
//
//                      +-----------------------+
//                      |          r2           |  removed, never added
//                      +-----------------------+
//  |   +-------+                                   |
//  |   |  r1   |                                   |  memory
//  +---+-------+-----------------------------------+
//      ^       ^       ^                       ^
//      512K    512K+4M 64M                     1G+64M
//
// Expect r1 untouched; cnt 1, total_size 4M.
TEST_F(MemblockBasicRemove, memblock_remove_absent_check) {
  const region r1{SZ_512K, SZ_4M}, r2{SZ_64M, SZ_1G};
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_remove(r2.base, r2.size);
  EXPECT_EQ(mem(0).base, r1.base);
  EXPECT_EQ(mem(0).size, r1.size);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, r1.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_remove_overlap_top_check(), 6.16
//
//        +-------------------+
//        |        r2         |  removed
//        +-------------------+
//  |               ..........+---------+   |
//  |               :   r1    |   rgn   |   |  memory
//  +---------------+---------+---------+---+
//        ^         ^         ^         ^
//        16M       32M       48M       64M
//
// Expect only the overlap [32M, 48M) gone: rgn [48M, 64M); cnt 1, total_size 16M.
TEST_F(MemblockBasicRemove, memblock_remove_overlap_top_check) {
  const region r1{SZ_32M, SZ_32M}, r2{SZ_16M, SZ_32M};
  const phys_addr_t total = (r1.base + r1.size) - (r2.base + r2.size);
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_remove(r2.base, r2.size);
  EXPECT_EQ(mem(0).base, r1.base + r2.base);
  EXPECT_EQ(mem(0).size, total);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_remove_overlap_bottom_check(), 6.16
//
//                      +-----------------------------+
//                      |             r2              |  removed
//                      +-----------------------------+
//  |   +---------------+..........                       |
//  |   |      rgn      |   r1    :                       |  memory
//  +---+---------------+---------+-----------------------+
//      ^               ^         ^                   ^
//      2M              32M       66M                 288M
//
// Expect only the overlap [32M, 66M) gone: rgn [2M, 32M); cnt 1, total_size 30M.
TEST_F(MemblockBasicRemove, memblock_remove_overlap_bottom_check) {
  const region r1{SZ_2M, SZ_64M}, r2{SZ_32M, SZ_256M};
  const phys_addr_t total = r2.base - r1.base;
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_remove(r2.base, r2.size);
  EXPECT_EQ(mem(0).base, r1.base);
  EXPECT_EQ(mem(0).size, total);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_remove_within_check(), 6.16
//
//                      +-----+
//                      | r2  |  removed
//                      +-----+
//  |   +---------------+.....+---------------+   |
//  |   |     rgn1      | r1  |     rgn2      |   |  memory
//  +---+---------------+-----+---------------+---+
//      ^               ^     ^               ^
//      1M              16M   17M             33M
//
// Expect r1 split in two: rgn1 [1M, 16M) and rgn2 [17M, 33M); cnt 2, total_size 31M.
TEST_F(MemblockBasicRemove, memblock_remove_within_check) {
  const region r1{SZ_1M, SZ_32M}, r2{SZ_16M, SZ_1M};
  const phys_addr_t r1_size = r2.base - r1.base;
  const phys_addr_t r2_size = (r1.base + r1.size) - (r2.base + r2.size);
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_remove(r2.base, r2.size);
  EXPECT_EQ(mem(0).base, r1.base);
  EXPECT_EQ(mem(0).size, r1_size);
  EXPECT_EQ(mem(1).base, r2.base + r2.size);
  EXPECT_EQ(mem(1).size, r2_size);
  EXPECT_EQ(mb.memory().cnt(), 2u);
  EXPECT_EQ(mb.memory().total_size, r1_size + r2_size);
}

// tools/testing/memblock/tests/basic_api.c memblock_remove_only_region_check(), 6.16
// Removing the only region: expect an empty array whose slot 0 reads 0/0.
TEST_F(MemblockBasicRemove, memblock_remove_only_region_check) {
  const region r1{SZ_2K, SZ_4K};
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_remove(r1.base, r1.size);
  EXPECT_EQ(mem(0).base, 0u);
  EXPECT_EQ(mem(0).size, 0u);
  EXPECT_EQ(mb.memory().cnt(), 0u);
  EXPECT_EQ(mb.memory().total_size, 0u);
}

// tools/testing/memblock/tests/basic_api.c memblock_remove_near_max_check(), 6.16
//
//                              +---------------+
//                              |      r2       |  2M, past PHYS_ADDR_MAX
//                              +---------------+
//  |                 +---------+........
//  |                 |   rgn   |  r1   :  memory
//  +-----------------+---------+-------+
//                    ^         ^       ^
//                    MAX-2M    MAX-1M  PHYS_ADDR_MAX
//
// r1 = [PHYS_ADDR_MAX-2M, PHYS_ADDR_MAX). Expect only [r2.base, PHYS_ADDR_MAX) gone:
// rgn [PHYS_ADDR_MAX-2M, PHYS_ADDR_MAX-1M); cnt 1, total_size 1M.
TEST_F(MemblockBasicRemove, memblock_remove_near_max_check) {
  const region r1{PHYS_ADDR_MAX - SZ_2M, SZ_2M}, r2{PHYS_ADDR_MAX - SZ_1M, SZ_2M};
  const phys_addr_t total = r1.size - (PHYS_ADDR_MAX - r2.base);
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_remove(r2.base, r2.size);
  EXPECT_EQ(mem(0).base, r1.base);
  EXPECT_EQ(mem(0).size, total);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_remove_overlap_two_check(), 6.16
//
//                +-----------------------+
//                |          r3           |  removed
//                +-----------------------+
//  |     +-------+........       ........+-----------+   |
//  |     | rgn1  |  r1   :       :  r2   |   rgn2    |   |  memory
//  +-----+-------+-------+-------+-------+-----------+---+
//        ^       ^       ^       ^       ^           ^
//        16M     32M     48M     64M     96M         128M
//
// r1 = [16M, 48M), r2 = [64M, 128M). Expect both overlaps gone: rgn1 [16M, 32M) and
// rgn2 [96M, 128M); cnt 2, total_size 48M.
TEST_F(MemblockBasicRemove, memblock_remove_overlap_two_check) {
  const region r1{SZ_16M, SZ_32M}, r2{SZ_64M, SZ_64M}, r3{SZ_32M, SZ_64M};
  const phys_addr_t r3_end = r3.base + r3.size;
  const phys_addr_t new_r1_size = r3.base - r1.base;
  const phys_addr_t new_r2_size = (r2.base + r2.size) - r3_end;
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_add(r2.base, r2.size);
  mb.memblock_remove(r3.base, r3.size);
  EXPECT_EQ(mem(0).base, r1.base);
  EXPECT_EQ(mem(0).size, new_r1_size);
  EXPECT_EQ(mem(1).base, r3_end);
  EXPECT_EQ(mem(1).size, new_r2_size);
  EXPECT_EQ(mb.memory().cnt(), 2u);
  EXPECT_EQ(mb.memory().total_size, new_r1_size + new_r2_size);
}

// ---- memblock_free (memblock_phys_free) ------------------------------------------------

// tools/testing/memblock/tests/basic_api.c memblock_free_simple_check(), 6.16
//
//  |     .........           +-------+     |
//  |     :  r1   :           |  r2   |     |  reserved
//  +-----+-------+-----------+-------+-----+
//        ^       ^           ^       ^
//        4M      5M          8M      9M
//
// r1 is freed (dotted). Expect r2 alone, as regions[0]; cnt 1, total_size 1M.
TEST_F(MemblockBasicRemove, memblock_free_simple_check) {
  const region r1{SZ_4M, SZ_1M}, r2{SZ_8M, SZ_1M};
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  mb.memblock_free(r1.base, r1.size);
  EXPECT_EQ(rsv(0).base, r2.base);
  EXPECT_EQ(rsv(0).size, r2.size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, r2.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_free_absent_check(), 6.16
//
//                      +-----------------------+
//                      |          r2           |  freed, never reserved
//                      +-----------------------+
//  |   +-------+                                   |
//  |   |  r1   |                                   |  reserved
//  +---+-------+-----------------------------------+
//      ^       ^       ^                       ^
//      2M      2M+8K   16M                     144M
//
// Expect r1 untouched; cnt 1, total_size 8K.
TEST_F(MemblockBasicRemove, memblock_free_absent_check) {
  const region r1{SZ_2M, SZ_8K}, r2{SZ_16M, SZ_128M};
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_free(r2.base, r2.size);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(rsv(0).size, r1.size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, r1.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_free_overlap_top_check(), 6.16
//
//      +---------+
//      |   r2    |  freed
//      +---------+
//  |         ....+-----------------------------+   |
//  |         :r1 |             rgn             |   |  reserved
//  +---------+---+-----------------------------+---+
//      ^     ^   ^                             ^
//      1M    8M  9M                            40M
//
// Expect only the overlap [8M, 9M) freed: rgn [9M, 40M); cnt 1, total_size 31M.
TEST_F(MemblockBasicRemove, memblock_free_overlap_top_check) {
  const region r1{SZ_8M, SZ_32M}, r2{SZ_1M, SZ_8M};
  const phys_addr_t total = (r1.size + r1.base) - (r2.base + r2.size);
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_free(r2.base, r2.size);
  EXPECT_EQ(rsv(0).base, r2.base + r2.size);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_free_overlap_bottom_check(), 6.16
//
//                          +-------------------+
//                          |        r2         |  freed
//                          +-------------------+
//  |   +-------------------+........               |
//  |   |        rgn        |  r1   :               |  reserved
//  +---+-------------------+-------+---------------+
//      ^                   ^       ^           ^
//      8M                  32M     40M         64M
//
// Expect only the overlap [32M, 40M) freed: rgn [8M, 32M); cnt 1, total_size 24M.
TEST_F(MemblockBasicRemove, memblock_free_overlap_bottom_check) {
  const region r1{SZ_8M, SZ_32M}, r2{SZ_32M, SZ_32M};
  const phys_addr_t total = r2.base - r1.base;
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_free(r2.base, r2.size);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_free_within_check(), 6.16
//
//                  +-----+
//                  | r2  |  freed
//                  +-----+
//  |   +-----------+.....+---------------+   |
//  |   |   rgn1    | r1  |     rgn2      |   |  reserved
//  +---+-----------+-----+---------------+---+
//      ^           ^     ^               ^
//      1M          4M    5M              9M
//
// Expect r1 split in two: rgn1 [1M, 4M) and rgn2 [5M, 9M); cnt 2, total_size 7M.
TEST_F(MemblockBasicRemove, memblock_free_within_check) {
  const region r1{SZ_1M, SZ_8M}, r2{SZ_4M, SZ_1M};
  const phys_addr_t r1_size = r2.base - r1.base;
  const phys_addr_t r2_size = (r1.base + r1.size) - (r2.base + r2.size);
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_free(r2.base, r2.size);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(rsv(0).size, r1_size);
  EXPECT_EQ(rsv(1).base, r2.base + r2.size);
  EXPECT_EQ(rsv(1).size, r2_size);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, r1_size + r2_size);
}

// tools/testing/memblock/tests/basic_api.c memblock_free_only_region_check(), 6.16
TEST_F(MemblockBasicRemove, memblock_free_only_region_check) {
  const region r1{SZ_2K, SZ_4K};
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_free(r1.base, r1.size);
  EXPECT_EQ(rsv(0).base, 0u);
  EXPECT_EQ(rsv(0).size, 0u);
  EXPECT_EQ(mb.reserved().cnt(), 0u);
  EXPECT_EQ(mb.reserved().total_size, 0u);
}

// tools/testing/memblock/tests/basic_api.c memblock_phys_free_near_max_check(), 6.16
//
//                              +---------------+
//                              |      r2       |  2M, past PHYS_ADDR_MAX
//                              +---------------+
//  |                 +---------+........
//  |                 |   rgn   |  r1   :  reserved
//  +-----------------+---------+-------+
//                    ^         ^       ^
//                    MAX-2M    MAX-1M  PHYS_ADDR_MAX
//
// r1 = [PHYS_ADDR_MAX-2M, PHYS_ADDR_MAX). Expect only [r2.base, PHYS_ADDR_MAX) freed:
// rgn [PHYS_ADDR_MAX-2M, PHYS_ADDR_MAX-1M); cnt 1, total_size 1M.
TEST_F(MemblockBasicRemove, memblock_free_near_max_check) {
  const region r1{PHYS_ADDR_MAX - SZ_2M, SZ_2M}, r2{PHYS_ADDR_MAX - SZ_1M, SZ_2M};
  const phys_addr_t total = r1.size - (PHYS_ADDR_MAX - r2.base);
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_free(r2.base, r2.size);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_free_overlap_two_check(), 6.16
//
//                +-----------------------+
//                |          r3           |  freed
//                +-----------------------+
//  |     +-------+........       ........+-----------+   |
//  |     | rgn1  |  r1   :       :  r2   |   rgn2    |   |  reserved
//  +-----+-------+-------+-------+-------+-----------+---+
//        ^       ^       ^       ^       ^           ^
//        16M     32M     48M     64M     96M         128M
//
// r1 = [16M, 48M), r2 = [64M, 128M). Expect both overlaps freed: rgn1 [16M, 32M) and
// rgn2 [96M, 128M); cnt 2, total_size 48M.
TEST_F(MemblockBasicRemove, memblock_free_overlap_two_check) {
  const region r1{SZ_16M, SZ_32M}, r2{SZ_64M, SZ_64M}, r3{SZ_32M, SZ_64M};
  const phys_addr_t r3_end = r3.base + r3.size;
  const phys_addr_t new_r1_size = r3.base - r1.base;
  const phys_addr_t new_r2_size = (r2.base + r2.size) - r3_end;
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  mb.memblock_free(r3.base, r3.size);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(rsv(0).size, new_r1_size);
  EXPECT_EQ(rsv(1).base, r3_end);
  EXPECT_EQ(rsv(1).size, new_r2_size);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, new_r1_size + new_r2_size);
}

// ---- bottom-up toggles ------------------------------------------------------------------

// tools/testing/memblock/tests/basic_api.c memblock_set_bottom_up_check(), 6.16
TEST_F(MemblockBasicRemove, memblock_set_bottom_up_check) {
  mb.memblock_set_bottom_up(false);
  EXPECT_FALSE(mb.bottom_up());
  mb.memblock_set_bottom_up(true);
  EXPECT_TRUE(mb.bottom_up());
}

// tools/testing/memblock/tests/basic_api.c memblock_bottom_up_check(), 6.16
TEST_F(MemblockBasicRemove, memblock_bottom_up_check) {
  mb.memblock_set_bottom_up(false);
  EXPECT_EQ(mb.memblock_bottom_up(), mb.bottom_up());
  EXPECT_FALSE(mb.memblock_bottom_up());
  mb.memblock_set_bottom_up(true);
  EXPECT_EQ(mb.memblock_bottom_up(), mb.bottom_up());
  EXPECT_TRUE(mb.memblock_bottom_up());
}

// ---- memblock_trim_memory -----------------------------------------------------------------

// tools/testing/memblock/tests/basic_api.c memblock_trim_memory_aligned_check(), 6.16
TEST_F(MemblockBasicRemove, memblock_trim_memory_aligned_check) {
  const phys_addr_t alignment = SMP_CACHE_BYTES;
  const region r{alignment, alignment * 4};
  reset_memblock_regions();
  mb.memblock_add(r.base, r.size);
  mb.memblock_trim_memory(alignment);
  EXPECT_EQ(mem(0).base, r.base);
  EXPECT_EQ(mem(0).size, r.size);
  EXPECT_EQ(mb.memory().cnt(), 1u);
}

// tools/testing/memblock/tests/basic_api.c memblock_trim_memory_too_small_check(), 6.16
//
//  |     +---------------+       .........         |
//  |     |      r1       |       :  r2   :         |  memory
//  +-----+---------------+-------+-------+---------+
//        ^               ^       ^       ^     ^
//        32              96      128     158   160
//
// Alignment 32: r1 = [32, 96) is aligned, r2 = [128, 158) ends 2 bytes short of 160.
// Expect r2 removed (nothing aligned is left of it) and r1 kept; cnt 1.
TEST_F(MemblockBasicRemove, memblock_trim_memory_too_small_check) {
  const phys_addr_t alignment = SMP_CACHE_BYTES;
  const region r1{alignment, alignment * 2}, r2{alignment * 4, alignment - SZ_2};
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_add(r2.base, r2.size);
  mb.memblock_trim_memory(alignment);
  EXPECT_EQ(mem(0).base, r1.base);
  EXPECT_EQ(mem(0).size, r1.size);
  EXPECT_EQ(mb.memory().cnt(), 1u);
}

// tools/testing/memblock/tests/basic_api.c memblock_trim_memory_unaligned_base_check(), 6.16
//
//  |     +---------------+       ......+---------+   |
//  |     |      r1       |       :     |   r2    |   |  memory
//  +-----+---------------+-------+-----+---------+---+
//        ^               ^       ^     ^         ^
//        32              96      130   160       192
//
// Alignment 32: r1 = [32, 96); r2 = [130, 192) starts 2 bytes past 128.
// Expect r1 kept and r2 trimmed at the base to [160, 192); cnt 2.
// The kernel test does not check total_size, and the kernel does not update it when
// trimming: the model reports that as INV_MEMBLOCK_TOTAL.
TEST_F(MemblockBasicRemove, memblock_trim_memory_unaligned_base_check) {
  expect_violation("INV_MEMBLOCK_TOTAL");
  const phys_addr_t alignment = SMP_CACHE_BYTES, offset = SZ_2;
  const region r1{alignment, alignment * 2}, r2{alignment * 4 + offset, alignment * 2 - offset};
  const phys_addr_t new_r2_base = r2.base + (alignment - offset);
  const phys_addr_t new_r2_size = r2.size - (alignment - offset);
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_add(r2.base, r2.size);
  mb.memblock_trim_memory(alignment);
  EXPECT_EQ(mem(0).base, r1.base);
  EXPECT_EQ(mem(0).size, r1.size);
  EXPECT_EQ(mem(1).base, new_r2_base);
  EXPECT_EQ(mem(1).size, new_r2_size);
  EXPECT_EQ(mb.memory().cnt(), 2u);
  EXPECT_EQ(mb.memory().total_size, r1.size + r2.size);  // stale, as in the kernel
}

// tools/testing/memblock/tests/basic_api.c memblock_trim_memory_unaligned_end_check(), 6.16
//
//  |     +---------------+       +---------+......   |
//  |     |      r1       |       |   r2    |     :   |  memory
//  +-----+---------------+-------+---------+-----+---+
//        ^               ^       ^         ^     ^
//        32              96      128       160   190
//
// Alignment 32: r1 = [32, 96); r2 = [128, 190) ends 2 bytes short of 192.
// Expect r1 kept and r2 trimmed at the end to [128, 160); cnt 2.
// total_size goes stale as above (INV_MEMBLOCK_TOTAL).
TEST_F(MemblockBasicRemove, memblock_trim_memory_unaligned_end_check) {
  expect_violation("INV_MEMBLOCK_TOTAL");
  const phys_addr_t alignment = SMP_CACHE_BYTES, offset = SZ_2;
  const region r1{alignment, alignment * 2}, r2{alignment * 4, alignment * 2 - offset};
  const phys_addr_t new_r2_size = r2.size - (alignment - offset);
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_add(r2.base, r2.size);
  mb.memblock_trim_memory(alignment);
  EXPECT_EQ(mem(0).base, r1.base);
  EXPECT_EQ(mem(0).size, r1.size);
  EXPECT_EQ(mem(1).base, r2.base);
  EXPECT_EQ(mem(1).size, new_r2_size);
  EXPECT_EQ(mb.memory().cnt(), 2u);
}

// ---- memblock_overlaps_region ---------------------------------------------------------------

// tools/testing/memblock/tests/basic_api.c memblock_overlaps_region_check(), 6.16
TEST_F(MemblockBasicRemove, memblock_overlaps_region_check) {
  const region r{SZ_1G, SZ_4M};
  const auto M = MemblockTypeId::memory;
  reset_memblock_regions();
  mb.memblock_add(r.base, r.size);
  // Far away
  EXPECT_FALSE(mb.memblock_overlaps_region(M, SZ_1M, SZ_1M));
  EXPECT_FALSE(mb.memblock_overlaps_region(M, SZ_2G, SZ_1M));
  // Neighbour
  EXPECT_FALSE(mb.memblock_overlaps_region(M, SZ_1G - SZ_1M, SZ_1M));
  EXPECT_FALSE(mb.memblock_overlaps_region(M, SZ_1G + SZ_4M, SZ_1M));
  // Partial overlap
  EXPECT_TRUE(mb.memblock_overlaps_region(M, SZ_1G - SZ_1M, SZ_2M));
  EXPECT_TRUE(mb.memblock_overlaps_region(M, SZ_1G + SZ_2M, SZ_2M));
  // Total overlap
  EXPECT_TRUE(mb.memblock_overlaps_region(M, SZ_1G, SZ_4M));
  EXPECT_TRUE(mb.memblock_overlaps_region(M, SZ_1G - SZ_2M, SZ_8M));
  EXPECT_TRUE(mb.memblock_overlaps_region(M, SZ_1G + SZ_1M, SZ_1M));
}

// ---- memblock_set_node (CONFIG_NUMA) ----------------------------------------------------------

// tools/testing/memblock/tests/basic_api.c memblock_set_node_check(), 6.16
// Split memory into node 0 and 1, reserve 126 regions (the last across the
// node boundary), then copy memory nids onto reserved, repeating while the
// reserved array doubles. Expect every reserved nid valid: 1 for the last
// region, 0 for all others.
TEST_F(MemblockBasicRemove, memblock_set_node_check) {
  reset_memblock_regions();
  mb.memblock_allow_resize();
  mb.memblock_add(dummy_physical_memory_base(), MEM_SIZE);
  const phys_addr_t start = mb.memblock_start_of_DRAM();
  const phys_addr_t half = mb.memblock_phys_mem_size() / 2;
  mb.memblock_set_node(start, half, MemblockTypeId::memory, 0);
  mb.memblock_set_node(start + half, half, MemblockTypeId::memory, 1);
  ASSERT_EQ(mb.memory().cnt(), 2u);
  EXPECT_EQ(mem(0).base, start);
  EXPECT_EQ(mem(0).size, half);
  EXPECT_EQ(mem(0).nid, 0);
  EXPECT_EQ(mem(1).base, start + half);
  EXPECT_EQ(mem(1).size, half);
  EXPECT_EQ(mem(1).nid, 1);

  for (phys_addr_t i = 0; i < 125; ++i) mb.memblock_reserve(start + SZ_16 * i, SZ_8);
  mb.memblock_reserve(start + half - SZ_8, SZ_16);

  for (;;) {
    const std::uint64_t max_reserved = mb.reserved().max;
    for (std::size_t k = 0; k < mb.memory().cnt(); ++k) {
      const MemblockRegion m = mem(k);
      mb.memblock_set_node(m.base, m.size, MemblockTypeId::reserved, m.nid);
    }
    if (max_reserved == mb.reserved().max) break;
  }
  EXPECT_EQ(mb.reserved().max, INIT_MEMBLOCK_RESERVED_REGIONS * 2);
  const auto& rs = mb.reserved().regions;
  for (std::size_t k = 0; k < rs.size(); ++k) {
    EXPECT_TRUE(mb.numa_valid_node(rs[k].nid)) << k;
    EXPECT_EQ(rs[k].nid, k + 1 == rs.size() ? 1 : 0) << k;
  }
}

}  // namespace
}  // namespace khospec::model::testing
