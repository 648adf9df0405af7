// Fixtures for the memblock model tests, mirroring the kernel simulator's
// tools/testing/memblock/tests/common.{c,h}: MEM_SIZE of "dummy physical
// memory", SMP_CACHE_BYTES = 32, NUMA=1 (NODES_SHIFT 4, 8 test nodes).
//
// Every fixture runs the model with self_check on, so the invariants are
// checked after every public operation; TearDown() fails the test on any
// violation that the test did not explicitly expect.
//
// Pictures in the test comments (drawn from each test's own values):
// - low addresses on the left; widths are not to scale, order and contact are.
// - a row framed by | ... | and +---+ is a memblock type, named on its right:
//   the ranges the test puts there and what the call under test leaves (rgn,
//   new); a dotted box (. :) is a part that call removes or frees.
// - an unframed box above it is the range the test adds, reserves, removes,
//   frees or asks for.
// - ^ marks an address: absolute (1G, 2K), PHYS_ADDR_MAX-relative (MAX-1M),
//   or, for tests on setup_memblock(), start/end = memblock_start_of_DRAM()/
//   memblock_end_of_DRAM(), MEM_SIZE (32K) apart.
// - NUMA tests (setup_numa_memblock(node_fractions)): +N is start + N; nodes
//   n0..n7 are memory.regions[0..7] of 8K, 2K, 4K, 4K, 2K, 2K, 8K and 2K
//   (n2 = [+10K, +14K), n6 = [+22K, +30K)); only the nodes that matter are
//   drawn, and "req" marks the requested node.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "model/memblock/memblock.hpp"

namespace khospec::model::testing {

inline constexpr phys_addr_t SZ_2 = 2, SZ_4 = 4, SZ_8 = 8, SZ_16 = 16, SZ_32 = 32, SZ_64 = 64,
                             SZ_128 = 128, SZ_256 = 256, SZ_512 = 512;
inline constexpr phys_addr_t SZ_1K = 1ULL << 10, SZ_2K = 2ULL << 10, SZ_4K = 4ULL << 10,
                             SZ_8K = 8ULL << 10, SZ_16K = 16ULL << 10, SZ_32K = 32ULL << 10,
                             SZ_64K = 64ULL << 10, SZ_128K = 128ULL << 10,
                             SZ_256K = 256ULL << 10, SZ_512K = 512ULL << 10;
inline constexpr phys_addr_t SZ_1M = 1ULL << 20, SZ_2M = 2ULL << 20, SZ_4M = 4ULL << 20,
                             SZ_8M = 8ULL << 20, SZ_16M = 16ULL << 20, SZ_32M = 32ULL << 20,
                             SZ_64M = 64ULL << 20, SZ_128M = 128ULL << 20,
                             SZ_256M = 256ULL << 20, SZ_512M = 512ULL << 20;
inline constexpr phys_addr_t SZ_1G = 1ULL << 30, SZ_2G = 2ULL << 30;

// tools/testing/memblock/tests/common.h
inline constexpr phys_addr_t MEM_SIZE = SZ_32K;
inline constexpr int NUMA_NODES = 8;
inline constexpr std::uint64_t INIT_MEMBLOCK_REGIONS = 128;
inline constexpr std::uint64_t INIT_MEMBLOCK_RESERVED_REGIONS = 128;
inline constexpr phys_addr_t SMP_CACHE_BYTES = 32;  // tools/include/linux/cache.h
inline constexpr phys_addr_t PAGE_SIZE = 4096;
inline constexpr int MAX_NUMNODES = 16;  // NUMA=1 builds with CONFIG_NODES_SHIFT=4
inline constexpr unsigned BASIS = 10000;
// The simulator malloc()s its dummy memory; the model puts it at a fixed,
// page-aligned address well away from the absolute addresses the tests use.
inline constexpr phys_addr_t DUMMY_PHYS_BASE = 0x10000000;

inline phys_addr_t page_align(phys_addr_t x) { return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }
inline phys_addr_t region_end(const MemblockRegion& r) { return r.base + r.size; }

struct region {
  phys_addr_t base = 0;
  phys_addr_t size = 0;
};

inline MemblockConfig kernel_test_config() {
  MemblockConfig cfg;
  cfg.era = Era::v6_16;
  cfg.smp_cache_bytes = SMP_CACHE_BYTES;
  cfg.page_size = PAGE_SIZE;
  cfg.max_numnodes = MAX_NUMNODES;
  cfg.self_check = true;
  return cfg;
}

class MemblockFixture : public ::testing::Test {
 protected:
  MemblockConfig cfg_ = kernel_test_config();
  Memblock mb{cfg_};
  std::set<std::string> expected_violations_;
  std::vector<InvariantViolation> past_log_;

  // Declare an invariant violation this test expects (a kernel quirk).
  void expect_violation(const std::string& id) { expected_violations_.insert(id); }

  // All violations seen so far (previous resets included).
  std::vector<InvariantViolation> all_violations() const {
    std::vector<InvariantViolation> v = past_log_;
    v.insert(v.end(), mb.invariant_log().begin(), mb.invariant_log().end());
    for (auto& x : mb.check_invariants()) v.push_back(x);
    return v;
  }

  // common.c reset_memblock_regions(): fresh arrays; bottom_up, current_limit
  // and the resize permission survive, as in the simulator.
  void reset_memblock_regions() {
    past_log_.insert(past_log_.end(), mb.invariant_log().begin(), mb.invariant_log().end());
    const bool bottom_up = mb.bottom_up();
    const bool resize = mb.can_resize();
    const phys_addr_t limit = mb.current_limit();
    const Era era = mb.era();
    mb = Memblock(cfg_);
    mb.set_era(era);
    mb.memblock_set_bottom_up(bottom_up);
    mb.memblock_set_current_limit(limit);
    if (resize) mb.memblock_allow_resize();
  }
  // common.c reset_memblock_attributes()
  void reset_memblock_attributes() {
    mb.memblock_set_bottom_up(false);
    mb.memblock_set_current_limit(MEMBLOCK_ALLOC_ANYWHERE);
  }
  // common.c setup_memblock()
  void setup_memblock() {
    reset_memblock_regions();
    mb.memblock_add(dummy_physical_memory_base(), MEM_SIZE);
  }
  // common.c setup_numa_memblock(): node i gets node_fracs[i]/BASIS of
  // MEM_SIZE, flagged HOTPLUG (movable_node is off in the simulator).
  void setup_numa_memblock(const unsigned (&node_fracs)[NUMA_NODES]) {
    reset_memblock_regions();
    phys_addr_t base = dummy_physical_memory_base();
    const std::uint32_t flags = mb.config().movable_node ? MEMBLOCK_NONE : MEMBLOCK_HOTPLUG;
    for (int i = 0; i < NUMA_NODES; ++i) {
      const phys_addr_t size = MEM_SIZE * node_fracs[i] / BASIS;
      mb.memblock_add_node(base, size, i, flags);
      base += size;
    }
  }
  static phys_addr_t dummy_physical_memory_base() { return DUMMY_PHYS_BASE; }

  MemblockRegion mem(std::size_t i) const { return mb.memory().at(i); }
  MemblockRegion rsv(std::size_t i) const { return mb.reserved().at(i); }

  void TearDown() override {
    for (const auto& v : all_violations())
      EXPECT_TRUE(expected_violations_.count(v.id)) << v.id << ": " << v.detail;
    EXPECT_FALSE(mb.failed()) << mb.failure();
  }
};

// Allocation direction and the TEST_F_RAW axis of the kernel alloc tests.
// `exact` selects memblock_alloc_exact_nid_raw() (TEST_F_EXACT | TEST_F_RAW).
struct AllocMode {
  bool bottom_up = false;
  bool raw = false;
  bool exact = false;
};
inline std::string alloc_mode_name(const ::testing::TestParamInfo<AllocMode>& info) {
  return std::string(info.param.bottom_up ? "BottomUp" : "TopDown") +
         (info.param.exact ? "ExactRaw" : info.param.raw ? "Raw" : "");
}

class MemblockAllocFixture : public MemblockFixture,
                             public ::testing::WithParamInterface<AllocMode> {
 protected:
  void SetUp() override { mb.memblock_set_bottom_up(GetParam().bottom_up); }
  // run_memblock_alloc(): memblock_alloc() or memblock_alloc_raw(); the model
  // does not track memory contents, so both return the same address.
  phys_addr_t run_memblock_alloc(phys_addr_t size, phys_addr_t align) {
    return GetParam().raw ? mb.memblock_alloc_raw(size, align) : mb.memblock_alloc(size, align);
  }
  // run_memblock_alloc_nid(): memblock_alloc_try_nid{,_raw}().
  phys_addr_t run_memblock_alloc_nid(phys_addr_t size, phys_addr_t align, phys_addr_t min_addr,
                                     phys_addr_t max_addr, int nid) {
    if (GetParam().exact) return mb.memblock_alloc_exact_nid_raw(size, align, min_addr, max_addr, nid);
    return GetParam().raw ? mb.memblock_alloc_try_nid_raw(size, align, min_addr, max_addr, nid)
                          : mb.memblock_alloc_try_nid(size, align, min_addr, max_addr, nid);
  }
  // Direction-specific kernel checks pin the direction themselves.
  void set_top_down() { mb.memblock_set_bottom_up(false); }
  void set_bottom_up() { mb.memblock_set_bottom_up(true); }
};

// Instantiation helpers: directional checks run with both TEST_F_NONE and
// TEST_F_RAW; generic checks also run top-down and bottom-up.
inline auto raw_axis() {
  return ::testing::Values(AllocMode{false, false}, AllocMode{false, true});
}
inline auto both_directions() {
  return ::testing::Values(AllocMode{false, false}, AllocMode{true, false}, AllocMode{false, true},
                           AllocMode{true, true});
}
// memblock_alloc_nid range checks run for try_nid, try_nid_raw and (from
// alloc_exact_nid_api.c) exact_nid_raw.
inline auto nid_flags_axis() {
  return ::testing::Values(AllocMode{false, false, false}, AllocMode{false, true, false},
                           AllocMode{false, true, true});
}
inline auto nid_flags_both_directions() {
  return ::testing::Values(AllocMode{false, false, false}, AllocMode{true, false, false},
                           AllocMode{false, true, false}, AllocMode{true, true, false},
                           AllocMode{false, true, true}, AllocMode{true, true, true});
}
// alloc_nid_api.c node fractions (basis points of MEM_SIZE).
inline constexpr unsigned node_fractions[NUMA_NODES] = {2500, 625, 1250, 1250, 625, 625, 2500, 625};

}  // namespace khospec::model::testing
