// Port of tools/testing/memblock/tests/alloc_helpers_api.c (v6.16+ tree):
// memblock_alloc_from() with a minimal address. Pictures: legend in
// memblock_test_util.hpp.
#include "model/memblock/memblock_test_util.hpp"

namespace khospec::model::testing {
namespace {

class MemblockAllocFrom : public MemblockAllocFixture {};
class MemblockAllocFromGeneric : public MemblockAllocFixture {};
INSTANTIATE_TEST_SUITE_P(Default, MemblockAllocFrom, ::testing::Values(AllocMode{}),
                         alloc_mode_name);
INSTANTIATE_TEST_SUITE_P(Directions, MemblockAllocFromGeneric,
                         ::testing::Values(AllocMode{false, false}, AllocMode{true, false}),
                         alloc_mode_name);

// tools/testing/memblock/tests/alloc_helpers_api.c alloc_from_simple_generic_check(), 6.16
//
//  |                     +---------+       |
//  |                     |   rgn   |       |  reserved
//  +---------------------+---------+-------+
//                        ^         ^       ^
//                        |         end-16  end
//                        min_addr = end-32
//
// Aligned min_addr. Expect the 16 bytes exactly at min_addr: [end-32, end-16); cnt 1,
// total_size 16. Both directions.
TEST_P(MemblockAllocFromGeneric, alloc_from_simple_generic_check) {
  setup_memblock();
  const phys_addr_t size = SZ_16;
  const phys_addr_t min_addr = mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES;
  ASSERT_NE(mb.memblock_alloc_from(size, SMP_CACHE_BYTES, min_addr), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, min_addr);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// tools/testing/memblock/tests/alloc_helpers_api.c alloc_from_misaligned_generic_check(), 6.16
//
//  |                               +-----------+
//  |                               |    rgn    |  reserved
//  +-------------------------------+-----------+
//                        ^         ^           ^
//                        |         end-32      end
//                        min_addr = end-63
//
// min_addr is 1 byte past a 32-byte boundary. Expect the 32 bytes at the next aligned
// address above it: [end-32, end); cnt 1, total_size 32. Both directions.
TEST_P(MemblockAllocFromGeneric, alloc_from_misaligned_generic_check) {
  setup_memblock();
  const phys_addr_t size = SZ_32;
  const phys_addr_t min_addr = mb.memblock_end_of_DRAM() - (SMP_CACHE_BYTES * 2 - 1);
  ASSERT_NE(mb.memblock_alloc_from(size, SMP_CACHE_BYTES, min_addr), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// tools/testing/memblock/tests/alloc_helpers_api.c alloc_from_top_down_high_addr_check(), 6.16
//
//  |                   +-------------------+
//  |                   |        rgn        |  reserved
//  +-------------------+-------------------+
//                      ^         ^         ^
//                      end-32    |         end
//                                min_addr = end-16
//
// Only 16 bytes lie above min_addr. Expect the 32 bytes anyway, min_addr dropped:
// [end-32, end); cnt 1, total_size 32.
TEST_P(MemblockAllocFrom, alloc_from_top_down_high_addr_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t size = SZ_32;
  const phys_addr_t min_addr = mb.memblock_end_of_DRAM() - SZ_16;
  ASSERT_NE(mb.memblock_alloc_from(size, SMP_CACHE_BYTES, min_addr), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// tools/testing/memblock/tests/alloc_helpers_api.c alloc_from_top_down_no_space_above_check(), 6.16
//
//  |     +---------------+-----+                 |
//  |     |      new      | r2  |                 |  reserved
//  +-----+---------------+-----+-----------------+
//        ^               ^     ^                 ^
//        end-128         |     end-62            end
//                        min_addr = end-64
//
// r2 = [end-64, end-62) (RSRV_KERN); the 62 bytes above it cannot hold 64 aligned bytes.
// Expect min_addr dropped and the 64 bytes right below r2, merged: [end-128, end-62);
// cnt 1, total_size 66.
TEST_P(MemblockAllocFrom, alloc_from_top_down_no_space_above_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t r1_size = SZ_64, r2_size = SZ_2, total = r1_size + r2_size;
  const phys_addr_t min_addr = mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES * 2;
  mb.memblock_reserve_kern(min_addr, r2_size);
  ASSERT_NE(mb.memblock_alloc_from(r1_size, SMP_CACHE_BYTES, min_addr), 0u);
  EXPECT_EQ(rsv(0).base, min_addr - r1_size);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/alloc_helpers_api.c alloc_from_top_down_min_addr_cap_check(), 6.16
// min_addr below the start of memory: expect the block at the start, merged.
TEST_P(MemblockAllocFrom, alloc_from_top_down_min_addr_cap_check) {
  set_top_down();
  setup_memblock();
  const phys_addr_t r1_size = SZ_64;
  const phys_addr_t start_addr = mb.memblock_start_of_DRAM();
  const phys_addr_t min_addr = start_addr - SMP_CACHE_BYTES * 3;
  mb.memblock_reserve_kern(start_addr + r1_size, MEM_SIZE - r1_size);
  ASSERT_NE(mb.memblock_alloc_from(r1_size, SMP_CACHE_BYTES, min_addr), 0u);
  EXPECT_EQ(rsv(0).base, start_addr);
  EXPECT_EQ(rsv(0).size, MEM_SIZE);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, MEM_SIZE);
}

// tools/testing/memblock/tests/alloc_helpers_api.c alloc_from_bottom_up_high_addr_check(), 6.16
//
//  +---------+                                 |
//  |   rgn   |                                 |  reserved
//  +---------+---------------------------------+
//  ^         ^                       ^         ^
//  start     start+32                |         end
//                                    min_addr = end-8
//
// Only 8 bytes lie above min_addr. Expect min_addr dropped and the 32 bytes at the start
// of memory: [start, start+32); cnt 1, total_size 32.
TEST_P(MemblockAllocFrom, alloc_from_bottom_up_high_addr_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t size = SZ_32;
  const phys_addr_t min_addr = mb.memblock_end_of_DRAM() - SZ_8;
  ASSERT_NE(mb.memblock_alloc_from(size, SMP_CACHE_BYTES, min_addr), 0u);
  EXPECT_EQ(rsv(0).size, size);
  EXPECT_EQ(rsv(0).base, mb.memblock_start_of_DRAM());
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, size);
}

// tools/testing/memblock/tests/alloc_helpers_api.c alloc_from_bottom_up_no_space_above_check(), 6.16
//
//  +-------+   +---------------------------------+     |
//  |  rgn  |   |               r2                |     |  reserved
//  +-------+---+---------------------------------+-----+
//  ^       ^   ^   ^                             ^     ^
//  start   |   |   min_addr = start+128          |     end
//          |   start+96                          end-32
//          start+64
//
// r2 = [start+96, end-32) (plain reserve); only 32 bytes are free above min_addr.
// Expect min_addr dropped and the 64 bytes at the start, not merged with r2:
// [start, start+64); cnt 2, total_size 32704.
TEST_P(MemblockAllocFrom, alloc_from_bottom_up_no_space_above_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t r1_size = SZ_64;
  const phys_addr_t min_addr = mb.memblock_start_of_DRAM() + SZ_128;
  const phys_addr_t r2_size = mb.memblock_end_of_DRAM() - min_addr;
  mb.memblock_reserve(min_addr - SMP_CACHE_BYTES, r2_size);
  ASSERT_NE(mb.memblock_alloc_from(r1_size, SMP_CACHE_BYTES, min_addr), 0u);
  EXPECT_EQ(rsv(0).base, mb.memblock_start_of_DRAM());
  EXPECT_EQ(rsv(0).size, r1_size);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, r1_size + r2_size);
}

// tools/testing/memblock/tests/alloc_helpers_api.c alloc_from_bottom_up_min_addr_cap_check(), 6.16
// min_addr below the start of memory, bottom-up: expect the start of memory.
TEST_P(MemblockAllocFrom, alloc_from_bottom_up_min_addr_cap_check) {
  set_bottom_up();
  setup_memblock();
  const phys_addr_t r1_size = SZ_64;
  const phys_addr_t start_addr = mb.memblock_start_of_DRAM();
  const phys_addr_t min_addr = start_addr - SMP_CACHE_BYTES * 3;
  ASSERT_NE(mb.memblock_alloc_from(r1_size, SMP_CACHE_BYTES, min_addr), 0u);
  EXPECT_EQ(rsv(0).base, start_addr);
  EXPECT_EQ(rsv(0).size, r1_size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, r1_size);
}

}  // namespace
}  // namespace khospec::model::testing
