// Port of tools/testing/memblock/tests/alloc_helpers_api.c (v6.16+ tree):
// memblock_alloc_from() with a minimal address.
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

// Aligned min_addr: expect the region exactly at min_addr.
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

// Misaligned min_addr: expect the closest aligned address above it.
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

// min_addr too close to the end: expect the min_addr retry (0) to win.
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

// Nothing free above min_addr: expect the block right below the reserved
// region, merged with it.
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

// min_addr too close to the end, bottom-up: expect the start of memory.
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

// Nothing free above min_addr, bottom-up: expect the start of memory.
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
