// Every memblock invariant of spec/kho.md §2 shown to fire: each test starts
// from a clean state, plants one violation (a real kernel sequence where one
// reaches it, else straight into the region arrays through
// MemblockTestAccess), and checks that the runtime check reports exactly that
// INV_MEMBLOCK_* ID. spec/registry.cpp names these tests in its "fires"
// column.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "model/memblock/memblock.hpp"

namespace khospec::model {

// Test-only access to Memblock's region arrays (Memblock befriends it).
struct MemblockTestAccess {
  static MemblockType& type(Memblock& mb, MemblockTypeId id) { return mb.mut(id); }
};

namespace {

using Ids = std::set<std::string>;

Ids ids(const std::vector<InvariantViolation>& v) {
  Ids out;
  for (const auto& x : v) out.insert(x.id);
  return out;
}

constexpr phys_addr_t SZ_1M = 1u << 20;

// A memblock with RAM and two reservations, all invariants holding.
Memblock clean() {
  Memblock mb;
  mb.memblock_add(0, 64 * SZ_1M);
  mb.memblock_reserve(SZ_1M, SZ_1M);
  mb.memblock_reserve(8 * SZ_1M, SZ_1M);
  EXPECT_TRUE(mb.check_invariants().empty());
  EXPECT_TRUE(mb.invariant_log().empty());
  return mb;
}

// memblock_double_array() (mm/memblock.c) keeps max = INIT * 2^k >= cnt;
// here max no longer has that form.
TEST(MemblockInvariants, Capacity) {
  Memblock mb = clean();
  MemblockTestAccess::type(mb, MemblockTypeId::reserved).max = 100;
  EXPECT_EQ(ids(mb.check_invariants()), Ids{"INV_MEMBLOCK_CAPACITY"});
}

// memblock_add_range() ignores size 0 and caps base + size at
// PHYS_ADDR_MAX: no region is empty. A zero-size region is planted (and
// total_size left consistent).
TEST(MemblockInvariants, RegionBounds) {
  Memblock mb = clean();
  auto& t = MemblockTestAccess::type(mb, MemblockTypeId::reserved);
  t.regions[1].size = 0;
  t.total_size -= SZ_1M;
  EXPECT_EQ(ids(mb.check_invariants()), Ids{"INV_MEMBLOCK_REGION_BOUNDS"});
}

// memblock_merge_regions() BUG()s on overlapping neighbours: the arrays stay
// sorted and disjoint. Two reservations are made to overlap.
TEST(MemblockInvariants, SortedDisjoint) {
  Memblock mb = clean();
  auto& t = MemblockTestAccess::type(mb, MemblockTypeId::reserved);
  t.regions[0].size = 7 * SZ_1M + SZ_1M / 2;  // [1M, 8.5M) over [8M, 9M)
  t.total_size += 6 * SZ_1M + SZ_1M / 2;
  EXPECT_EQ(ids(mb.check_invariants()), Ids{"INV_MEMBLOCK_SORTED_DISJOINT"});
}

// memblock_merge_regions() joins exact neighbours with equal flags and nid;
// two such neighbours are left apart.
TEST(MemblockInvariants, Merged) {
  Memblock mb = clean();
  auto& t = MemblockTestAccess::type(mb, MemblockTypeId::reserved);
  t.regions[0].size = 7 * SZ_1M;  // [1M, 8M) next to [8M, 9M), same flags and nid
  t.total_size += 6 * SZ_1M;
  EXPECT_EQ(ids(mb.check_invariants()), Ids{"INV_MEMBLOCK_MERGED"});
}

// memblock_trim_memory() (mm/memblock.c, every release since 3.x) shrinks
// regions without updating total_size: a real kernel sequence that breaks
// the invariant.
TEST(MemblockInvariants, Total) {
  Memblock mb;
  mb.memblock_add(SZ_1M + 2, SZ_1M);
  ASSERT_TRUE(mb.check_invariants().empty());
  mb.memblock_trim_memory(4096);
  EXPECT_EQ(ids(mb.check_invariants()), Ids{"INV_MEMBLOCK_TOTAL"});
}

// The transition checks compare two states of a type. memblock_add_range()
// keeps what was covered and adds [base, base + size); an "after" state that
// dropped the added range is planted.
TEST(MemblockInvariants, AddMonotone) {
  Memblock mb = clean();
  const MemblockType before = mb.memory();
  ASSERT_EQ(mb.memblock_add(128 * SZ_1M, SZ_1M), 0);
  EXPECT_TRUE(check_add_monotone(before, mb.memory(), 128 * SZ_1M, SZ_1M).empty());
  EXPECT_EQ(ids(check_add_monotone(before, before, 128 * SZ_1M, SZ_1M)), Ids{"INV_MEMBLOCK_ADD_MONOTONE"});
}

// memblock_setclr_flag() changes only the flag, only inside the range; an
// "after" state whose flag changed outside it is planted.
TEST(MemblockInvariants, SetclrFlagsOnly) {
  Memblock mb = clean();
  const MemblockType before = mb.memory();
  ASSERT_EQ(mb.memblock_mark_hotplug(0, SZ_1M), 0);
  EXPECT_TRUE(check_setclr_flags_only(before, mb.memory(), 0, SZ_1M, MEMBLOCK_HOTPLUG).empty());
  EXPECT_EQ(ids(check_setclr_flags_only(before, mb.memory(), 32 * SZ_1M, SZ_1M, MEMBLOCK_HOTPLUG)),
            Ids{"INV_MEMBLOCK_SETCLR_FLAGS_ONLY"});
}

// The self-checks compare a window of each call, not the whole array: the
// regions the call overlaps and two neighbours each side. On a real call the
// windowed checks agree with the whole-array ones; a planted change inside the
// window fires; the window of a call among many regions stays small.
TEST(MemblockInvariants, WindowedChecksSeeWhatWholeArraysSee) {
  Memblock mb = clean();
  for (phys_addr_t i = 0; i < 64; ++i) ASSERT_EQ(mb.memblock_reserve(i * 2 * SZ_1M, SZ_1M), 0);
  const MemblockType before = mb.reserved();
  const MemblockWindow w = memblock_window(before, 40 * SZ_1M, 3 * SZ_1M);
  EXPECT_LE(w.part.cnt(), 6u);
  EXPECT_LE(w.span.lo, 40 * SZ_1M);
  EXPECT_GE(w.span.hi, 43 * SZ_1M);
  ASSERT_EQ(mb.memblock_reserve(40 * SZ_1M, 3 * SZ_1M), 0);  // joins [40M,41M) and [42M,43M)
  const MemblockType after_w = memblock_window_after(mb.reserved(), w.span);
  EXPECT_TRUE(check_add_monotone(w.part, after_w, 40 * SZ_1M, 3 * SZ_1M, w.span).empty());
  EXPECT_TRUE(check_add_monotone(before, mb.reserved(), 40 * SZ_1M, 3 * SZ_1M).empty());
  EXPECT_EQ(ids(check_add_monotone(w.part, w.part, 40 * SZ_1M, 3 * SZ_1M, w.span)),
            Ids{"INV_MEMBLOCK_ADD_MONOTONE"});
  const MemblockWindow f = memblock_window(mb.reserved(), 40 * SZ_1M, SZ_1M);
  ASSERT_EQ(mb.memblock_reserved_mark_noinit(40 * SZ_1M, SZ_1M), 0);
  const MemblockType flagged = memblock_window_after(mb.reserved(), f.span);
  EXPECT_TRUE(check_setclr_flags_only(f.part, flagged, 40 * SZ_1M, SZ_1M, MEMBLOCK_RSRV_NOINIT, f.span).empty());
  EXPECT_EQ(ids(check_setclr_flags_only(f.part, flagged, 44 * SZ_1M, SZ_1M, MEMBLOCK_RSRV_NOINIT, f.span)),
            Ids{"INV_MEMBLOCK_SETCLR_FLAGS_ONLY"});
  EXPECT_TRUE(mb.check_invariants().empty());
}

// choose_memblock_flags() (6.16+) returns MEMBLOCK_KHO_SCRATCH while
// scratch-only is on, so allocations come from scratch memory; an allocation
// outside it is planted.
TEST(MemblockInvariants, ScratchOnlyAlloc) {
  Memblock mb = clean();
  ASSERT_EQ(mb.memblock_mark_kho_scratch(32 * SZ_1M, 4 * SZ_1M), 0);
  const MemblockType reserved_before = mb.reserved();
  mb.memblock_set_kho_scratch_only();
  const phys_addr_t a = mb.memblock_phys_alloc(SZ_1M, SZ_1M);
  ASSERT_NE(a, 0u);
  EXPECT_TRUE(check_scratch_alloc(mb.memory(), reserved_before, a, SZ_1M).empty());
  EXPECT_EQ(ids(check_scratch_alloc(mb.memory(), reserved_before, 16 * SZ_1M, SZ_1M)),
            Ids{"INV_MEMBLOCK_SCRATCH_ONLY_ALLOC"});
}

// memblock_double_array() panics when resizing is not yet allowed
// (memblock_allow_resize() not called): a real sequence of 129 reservations.
TEST(MemblockInvariants, NoBug) {
  Memblock mb;
  for (phys_addr_t i = 0; i < 128; ++i) ASSERT_EQ(mb.memblock_reserve(i * 2 * 4096, 4096), 0);
  ASSERT_TRUE(mb.check_invariants().empty());
  EXPECT_NE(mb.memblock_reserve(SZ_1M * 1024, 4096), 0);
  EXPECT_EQ(ids(mb.check_invariants()), Ids{"INV_MEMBLOCK_NO_BUG"});
}

}  // namespace
}  // namespace khospec::model
