// memblock_double_array() (mm/memblock.c, the same in 6.12 and 7.3) for the
// reserved array: the new array is looked for above the area being reserved,
// then below it; the second lookup's end is min(new_area_start, current_limit),
// and an end of 0 is MEMBLOCK_ALLOC_ACCESSIBLE, which
// memblock_find_in_range_node() reads as current_limit. For an area that
// starts at physical 0 the second lookup therefore spans [PAGE_SIZE, limit],
// the area itself included. testdata/double-array-*.trace hold the same cases
// with the kernel's own answers (scripts/memblock-oracle).
#include "model/memblock/memblock_test_util.hpp"

namespace khospec::model::testing {
namespace {

class MemblockDoubleArray : public MemblockFixture, public ::testing::WithParamInterface<Era> {
 protected:
  // 16 MiB of memory from 1 MiB, and 128 reserved regions (a full array)
  // over [8 MiB, 17 MiB) with a 4 KiB gap after each (so they stay apart):
  // no two free pages in a row above 8 MiB, all other free memory in
  // [1 MiB, 8 MiB). The new array needs two pages.
  void fill() {
    mb.set_era(GetParam());
    mb.memblock_allow_resize();
    ASSERT_EQ(mb.memblock_add(0x100000, 0x1000000), 0);
    mb.memblock_set_current_limit(0x1100000);
    for (phys_addr_t i = 0; i < 128; ++i) {
      ASSERT_EQ(mb.memblock_reserve(0x800000 + i * 0x12000, 0x11000), 0);
    }
    ASSERT_EQ(mb.reserved().cnt(), 128u);
    ASSERT_EQ(mb.reserved().max, 128u);
  }
};

// The array doubles into the area being reserved (top-down: its last two
// pages), and the reservation succeeds and covers it.
TEST_P(MemblockDoubleArray, reservation_at_zero_doubles_inside_the_area) {
  fill();
  EXPECT_EQ(mb.memblock_reserve(0, 0x800000), 0);
  EXPECT_EQ(mb.reserved().max, 256u);
  EXPECT_EQ(mb.reserved().array_base, 0x7fe000u);
  // 6.12: the new array is reserved plainly and everything from 0 merges
  // with the first region after the area. 6.16+: memblock_reserve_kern()
  // gives the array MEMBLOCK_RSRV_KERN, so it stays an island of its own.
  EXPECT_EQ(mb.reserved().cnt(), GetParam() == Era::v6_12 ? 128u : 130u);
  EXPECT_EQ(mb.reserved().total_size, 0x800000u + 128 * 0x11000u);
}

// The same reservation from 1 MiB: the second lookup ends at 1 MiB, below
// all memory, so the doubling fails and the reservation is -ENOMEM.
TEST_P(MemblockDoubleArray, reservation_above_zero_excludes_the_area) {
  fill();
  EXPECT_EQ(mb.memblock_reserve(0x100000, 0x700000), MODEL_ENOMEM);
  EXPECT_EQ(mb.reserved().max, 128u);
  EXPECT_EQ(mb.reserved().cnt(), 128u);
}

// A caller frees the reservation of the doubled reserved array; the next
// allocation gets that very memory, which the kernel then zeroes
// (memblock_alloc_try_nid()), its own table with it. The model keeps no
// memory contents and says so with a HAZARD event at that allocation
// (testdata/alloc-over-freed-array.trace: the kernel's table is zeros after).
TEST_P(MemblockDoubleArray, allocation_over_the_freed_array_is_a_hazard) {
  fill();
  ASSERT_EQ(mb.memblock_reserve(0, 0x800000), 0);
  const phys_addr_t array = mb.reserved().array_base;
  const std::size_t before = mb.events().size();
  ASSERT_EQ(mb.memblock_phys_free(array, 0x2000), 0);
  mb.memblock_set_bottom_up(false);
  EXPECT_EQ(mb.memblock_alloc_try_nid(0x2000, 0x1000, array, array + 0x2000, NUMA_NO_NODE), array);
  ASSERT_EQ(mb.events().size(), before + 1);
  EXPECT_EQ(mb.events().back().kind, MemblockEvent::Kind::hazard);
  EXPECT_NE(mb.events().back().message.find("reserved array"), std::string::npos);
  EXPECT_FALSE(mb.failed());  // the kernel raises nothing here
}

INSTANTIATE_TEST_SUITE_P(Eras, MemblockDoubleArray, ::testing::Values(Era::v6_12, Era::v6_16),
                         [](const ::testing::TestParamInfo<Era>& p) { return p.param == Era::v6_12 ? "v6_12" : "v6_16"; });

}  // namespace
}  // namespace khospec::model::testing
