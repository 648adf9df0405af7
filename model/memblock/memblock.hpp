// Executable reference model of Linux memblock (mm/memblock.c), with the KHO
// scratch-only mode of v6.16+.
//
// The model keeps the same observable arrays as the kernel (regions, cnt, max,
// total_size, flags, nid, the points where memblock_double_array() runs and
// what it allocates) and the same return values, warnings and failure points.
// It differs from the kernel in *how* it finds and moves things: insertion
// points are found by binary search instead of a scan from index 0, and the
// array is stored as a RegionArray (model/memblock/region_array.hpp: chunks of at most
// 64 regions plus a prefix index) instead of one contiguous array, so an
// insert or erase anywhere moves at most one chunk, O(log n + 64 + n/64),
// where the kernel memmoves the whole tail. `max` still counts the kernel's
// slots; the model's storage is independent of it. See docs/model-memblock.md.
//
// Kernel WARN_ON conditions are recorded as MemblockEvent{warn}; BUG_ON/panic
// conditions put the model into an error state (failed()) and every later
// mutating call returns an error. The model never aborts or throws on input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "model/memblock/region_array.hpp"

namespace khospec::model {

inline constexpr phys_addr_t PHYS_ADDR_MAX = ~phys_addr_t{0};
inline constexpr int NUMA_NO_NODE = -1;

// include/linux/memblock.h: enum memblock_flags.
enum MemblockFlags : std::uint32_t {
  MEMBLOCK_NONE = 0x0,
  MEMBLOCK_HOTPLUG = 0x1,
  MEMBLOCK_MIRROR = 0x2,
  MEMBLOCK_NOMAP = 0x4,
  MEMBLOCK_DRIVER_MANAGED = 0x8,
  MEMBLOCK_RSRV_NOINIT = 0x10,
  MEMBLOCK_RSRV_KERN = 0x20,    // v6.16+
  MEMBLOCK_KHO_SCRATCH = 0x40,  // v6.16+
};

// include/linux/memblock.h: special end addresses for the allocators.
inline constexpr phys_addr_t MEMBLOCK_ALLOC_ANYWHERE = ~phys_addr_t{0};
inline constexpr phys_addr_t MEMBLOCK_ALLOC_ACCESSIBLE = 0;
inline constexpr phys_addr_t MEMBLOCK_ALLOC_NOLEAKTRACE = 1;
inline constexpr phys_addr_t MEMBLOCK_LOW_LIMIT = 0;

// Error codes returned by the model (kernel -errno values).
inline constexpr int MODEL_ENOMEM = -12;
inline constexpr int MODEL_EINVAL = -22;
// Model-only: the call does not exist in the selected era.
inline constexpr int MODEL_ENOSYS = -38;
// Model-only: the model is in the error state after a BUG/panic.
inline constexpr int MODEL_EFAULT = -14;

// Which kernel the model imitates. Only the documented differences are gated.
enum class Era {
  v6_12,  // reserve uses MAX_NUMNODES/flags 0; WARN_ON(flags != rgn->flags)
  v6_16,  // reserve uses NUMA_NO_NODE; allocations are RSRV_KERN; KHO scratch
};

std::string_view era_name(Era era);
std::string flags_to_string(std::uint32_t flags);  // "HOTPLUG|NOMAP", "NONE"

// struct memblock_region {base, size, flags, nid}: model/memblock/region_array.hpp.

enum class MemblockTypeId { memory, reserved, physmem };
std::string_view type_name(MemblockTypeId id);

// struct memblock_type. `regions` holds exactly cnt entries; slots beyond cnt
// read as zero (the kernel zeroes them), see at(). The kernel's contiguous
// array is stored as a RegionArray (chunks of <= 64 regions with an index):
// the same sequence, indices and comparisons, but O(log n + 64) insert/erase
// anywhere instead of a memmove of the tail.
struct MemblockType {
  MemblockTypeId id = MemblockTypeId::memory;
  RegionArray regions;
  std::uint64_t max = 0;
  phys_addr_t total_size = 0;
  // Where the region array lives: the static init array, or a doubled array
  // allocated from memblock at array_base (PAGE_ALIGN(max * 24) bytes).
  bool array_is_static = true;
  phys_addr_t array_base = 0;
  // What an empty slot reads as (regions[0] of an empty array has nid
  // MAX_NUMNODES, others are zero-filled).
  int empty_nid = 0;

  std::uint64_t cnt() const { return regions.size(); }
  MemblockRegion at(std::size_t i) const;
};

// Kernel sizeof(struct memblock_region) on 64-bit NUMA builds.
inline constexpr phys_addr_t MEMBLOCK_REGION_BYTES = 24;

struct MemblockConfig {
  Era era = Era::v6_16;
  std::uint64_t init_memory_regions = 128;    // INIT_MEMBLOCK_MEMORY_REGIONS
  std::uint64_t init_reserved_regions = 128;  // INIT_MEMBLOCK_RESERVED_REGIONS
  std::uint64_t init_physmem_regions = 4;     // INIT_PHYSMEM_REGIONS
  phys_addr_t page_size = 4096;
  phys_addr_t smp_cache_bytes = 64;  // alignment used when align == 0
  int max_numnodes = 64;             // MAX_NUMNODES (x86-64 NODES_SHIFT=6)
  unsigned max_page_order = 10;      // MAX_PAGE_ORDER
  phys_addr_t arch_low_address_limit = 0xffffffffULL;
  bool movable_node = false;         // movable_node_is_enabled()
  bool mirrored_kernelcore = false;  // kernelcore=mirror (gates mark_mirror)
  // max_low_pfn for !CONFIG_HIGHMEM; ~0 means "no cap".
  std::uint64_t max_low_pfn = ~std::uint64_t{0};
  // Check every invariant after every public operation and record the
  // violations (invariant_log()). Costs O(n) per call.
#ifdef NDEBUG
  bool self_check = false;
#else
  bool self_check = true;
#endif
};

struct MemblockEvent {
  // hazard: raised by the model, not the kernel (what the kernel silently
  // does wrong there, e.g. hand out memory memblock itself still uses).
  enum class Kind { warn, bug, panic, log, hazard };
  Kind kind = Kind::warn;
  std::string function;  // kernel function that raises it
  std::string message;   // the kernel condition, e.g. "WARN_ON(nid != rgn->nid)"
};
std::string_view event_kind_name(MemblockEvent::Kind kind);

// One [start, end) range produced by __next_mem_range{,_rev}. Ranges can be
// empty (start == end) exactly where the kernel yields empty ranges.
struct MemRange {
  phys_addr_t start = 0;
  phys_addr_t end = 0;
  int nid = 0;
  bool operator==(const MemRange&) const = default;
};

// Result of memblock_free_all(): what the buddy allocator would receive.
// `count` chunks of one order back to back from `pfn`: a range's middle is a run of
// MAX_PAGE_ORDER chunks, so the result stays small for any amount of memory.
struct BuddyChunk {
  std::uint64_t pfn = 0;
  unsigned order = 0;
  std::uint64_t count = 1;
  bool operator==(const BuddyChunk&) const = default;
};
struct FreeAllResult {
  std::vector<BuddyChunk> chunks;  // __free_pages_memory() chunks, in order, runs merged
  std::uint64_t pages = 0;         // sum of 2^order
  // Page ranges [start_pfn, end_pfn) whose struct pages were initialised and
  // marked PageReserved by memmap_init_reserved_pages().
  std::vector<std::pair<std::uint64_t, std::uint64_t>> reserved_pfn_ranges;
  // Reserved regions skipped because they carry MEMBLOCK_RSRV_NOINIT.
  std::vector<MemblockRegion> noinit_regions;
};

struct InvariantViolation {
  std::string id;      // INV_MEMBLOCK_*
  std::string detail;  // human-readable
};

// The model. Function names are the kernel's; addresses are physical.
class Memblock {
 public:
  explicit Memblock(MemblockConfig cfg = {});

  // ---- state ----------------------------------------------------------
  const MemblockConfig& config() const { return cfg_; }
  Era era() const { return cfg_.era; }
  void set_era(Era era) { cfg_.era = era; }
  void set_mirrored_kernelcore(bool on) { cfg_.mirrored_kernelcore = on; }
  void set_movable_node(bool on) { cfg_.movable_node = on; }
  const MemblockType& memory() const { return memory_; }
  const MemblockType& reserved() const { return reserved_; }
  const MemblockType& physmem() const { return physmem_; }
  const MemblockType& type(MemblockTypeId id) const;
  bool bottom_up() const { return bottom_up_; }
  phys_addr_t current_limit() const { return current_limit_; }
  bool kho_scratch_only() const { return kho_scratch_only_; }
  bool can_resize() const { return can_resize_; }
  bool system_has_some_mirror() const { return system_has_some_mirror_; }
  bool freed_to_buddy() const { return freed_to_buddy_; }

  // Events (WARN/BUG/panic/log) in the order the kernel would raise them.
  const std::vector<MemblockEvent>& events() const { return events_; }
  std::size_t warning_count() const;
  void clear_events() { events_.clear(); }
  // BUG_ON/panic reached: the kernel would have stopped here.
  bool failed() const { return failed_; }
  const std::string& failure() const { return failure_; }

  // ---- configuration calls (include/linux/memblock.h) -----------------
  void memblock_set_bottom_up(bool enable) { bottom_up_ = enable; }
  bool memblock_bottom_up() const { return bottom_up_; }
  void memblock_set_current_limit(phys_addr_t limit) { current_limit_ = limit; }
  phys_addr_t memblock_get_current_limit() const { return current_limit_; }
  void memblock_allow_resize() { can_resize_ = true; }
  // v6.16+ (CONFIG_MEMBLOCK_KHO_SCRATCH); no-ops in the v6.12 era.
  void memblock_set_kho_scratch_only();
  void memblock_clear_kho_scratch_only();

  // ---- adding and removing (return 0 or -errno) ------------------------
  int memblock_add(phys_addr_t base, phys_addr_t size);
  int memblock_add_node(phys_addr_t base, phys_addr_t size, int nid, std::uint32_t flags);
  int memblock_remove(phys_addr_t base, phys_addr_t size);
  int memblock_reserve(phys_addr_t base, phys_addr_t size);
  int memblock_reserve_kern(phys_addr_t base, phys_addr_t size);  // v6.16+
  int __memblock_reserve(phys_addr_t base, phys_addr_t size, int nid, std::uint32_t flags);
  int memblock_phys_free(phys_addr_t base, phys_addr_t size);
  int memblock_free(phys_addr_t base, phys_addr_t size) { return memblock_phys_free(base, size); }
  int memblock_physmem_add(phys_addr_t base, phys_addr_t size);
  int memblock_set_node(phys_addr_t base, phys_addr_t size, MemblockTypeId type, int nid);

  // Batch form of the next kernel's deserialization loop
  //   for each (base, size): memblock_reserve(base, size);
  //                          if (mark_noinit) memblock_reserved_mark_noinit(base, size);
  // (kernel/kexec_handover.c deserialize_bitmap() / kho_preserved_memory_reserve()).
  // The result -- reserved array, cnt, max, total_size, events, failed() -- is
  // identical to that loop; the return value counts the ranges for which
  // either call returned nonzero, as the loop's callers do.
  // Ranges that overlap nothing already reserved and nothing else in their
  // segment, while the array cannot need doubling, are sorted and merged into
  // the array in one pass: O(k log k + n) instead of the loop's O(k (log n +
  // n)) in the model and Θ(k n) in the kernel. Every other range (an overlap,
  // a point where the kernel would double the array, the error state) runs
  // the loop's two calls at exactly its position in the sequence, so
  // warnings, doubling and its failures happen as in the loop.
  int memblock_reserve_batch(const std::vector<std::pair<phys_addr_t, phys_addr_t>>& ranges,
                             bool mark_noinit);

  // ---- flags ------------------------------------------------------------
  int memblock_mark_hotplug(phys_addr_t base, phys_addr_t size);
  int memblock_clear_hotplug(phys_addr_t base, phys_addr_t size);
  int memblock_mark_mirror(phys_addr_t base, phys_addr_t size);
  int memblock_mark_nomap(phys_addr_t base, phys_addr_t size);
  int memblock_clear_nomap(phys_addr_t base, phys_addr_t size);
  int memblock_reserved_mark_noinit(phys_addr_t base, phys_addr_t size);
  int memblock_reserved_mark_kern(phys_addr_t base, phys_addr_t size);  // v6.16+
  int memblock_mark_kho_scratch(phys_addr_t base, phys_addr_t size);    // v6.16+
  int memblock_clear_kho_scratch(phys_addr_t base, phys_addr_t size);   // v6.16+

  // ---- allocation (return the physical address, 0 on failure) ----------
  phys_addr_t memblock_find_in_range_node(phys_addr_t size, phys_addr_t align, phys_addr_t start,
                                          phys_addr_t end, int nid, std::uint32_t flags);
  phys_addr_t memblock_find_in_range(phys_addr_t start, phys_addr_t end, phys_addr_t size,
                                     phys_addr_t align);
  phys_addr_t memblock_alloc_range_nid(phys_addr_t size, phys_addr_t align, phys_addr_t start,
                                       phys_addr_t end, int nid, bool exact_nid);
  phys_addr_t memblock_phys_alloc_range(phys_addr_t size, phys_addr_t align, phys_addr_t start,
                                        phys_addr_t end);
  phys_addr_t memblock_phys_alloc(phys_addr_t size, phys_addr_t align);
  phys_addr_t memblock_phys_alloc_try_nid(phys_addr_t size, phys_addr_t align, int nid);
  // The memblock_alloc*() family returns virtual addresses in the kernel; the
  // model returns the physical address (zeroing is not modelled).
  phys_addr_t memblock_alloc_try_nid(phys_addr_t size, phys_addr_t align, phys_addr_t min_addr,
                                     phys_addr_t max_addr, int nid);
  phys_addr_t memblock_alloc_try_nid_raw(phys_addr_t size, phys_addr_t align,
                                         phys_addr_t min_addr, phys_addr_t max_addr, int nid);
  phys_addr_t memblock_alloc_exact_nid_raw(phys_addr_t size, phys_addr_t align,
                                           phys_addr_t min_addr, phys_addr_t max_addr, int nid);
  phys_addr_t memblock_alloc(phys_addr_t size, phys_addr_t align);
  phys_addr_t memblock_alloc_raw(phys_addr_t size, phys_addr_t align);
  phys_addr_t memblock_alloc_from(phys_addr_t size, phys_addr_t align, phys_addr_t min_addr);
  phys_addr_t memblock_alloc_low(phys_addr_t size, phys_addr_t align);
  phys_addr_t memblock_alloc_node(phys_addr_t size, phys_addr_t align, int nid);

  // ---- queries ------------------------------------------------------------
  bool memblock_overlaps_region(MemblockTypeId type, phys_addr_t base, phys_addr_t size) const;
  bool memblock_is_memory(phys_addr_t addr) const;
  bool memblock_is_reserved(phys_addr_t addr) const;
  bool memblock_is_map_memory(phys_addr_t addr) const;
  bool memblock_is_region_memory(phys_addr_t base, phys_addr_t size) const;
  bool memblock_is_region_reserved(phys_addr_t base, phys_addr_t size) const;
  phys_addr_t memblock_phys_mem_size() const { return memory_.total_size; }
  phys_addr_t memblock_reserved_size() const { return reserved_.total_size; }
  phys_addr_t memblock_reserved_kern_size(phys_addr_t limit, int nid) const;  // v6.16+
  phys_addr_t memblock_start_of_DRAM() const;
  phys_addr_t memblock_end_of_DRAM() const;
  bool numa_valid_node(int nid) const { return nid >= 0 && nid < cfg_.max_numnodes; }

  // ---- trimming -------------------------------------------------------------
  void memblock_trim_memory(phys_addr_t align);

  // ---- iteration --------------------------------------------------------------
  // __for_each_mem_range{,_rev}(type_a, type_b, nid, flags): the ranges of
  // type_a not covered by type_b (type_b absent: type_a regions themselves),
  // with should_skip_region() applied to memblock.memory only. `fn` returns
  // false to stop early.
  void for_each_mem_range_generic(MemblockTypeId type_a, std::optional<MemblockTypeId> type_b,
                                  int nid, std::uint32_t flags, bool reverse,
                                  const std::function<bool(const MemRange&)>& fn) const;
  // The same walk with any callable `bool(const MemRange&)`, called directly
  // (no std::function per range).
  template <class Fn>
    requires std::is_invocable_r_v<bool, Fn&, const MemRange&>
  void for_each_mem_range_generic(MemblockTypeId type_a, std::optional<MemblockTypeId> type_b,
                                  int nid, std::uint32_t flags, bool reverse, Fn&& fn) const {
    walk_ranges(type_a, type_b ? &*type_b : nullptr, nid, flags, reverse, fn);
  }
  // for_each_mem_range(): memory regions, NUMA_NO_NODE,
  // MEMBLOCK_HOTPLUG | MEMBLOCK_DRIVER_MANAGED.
  std::vector<MemRange> for_each_mem_range(bool reverse = false) const;
  // for_each_free_mem_range{,_reverse}(nid, flags): memory \ reserved.
  std::vector<MemRange> for_each_free_mem_range(int nid, std::uint32_t flags,
                                                bool reverse = false) const;
  const RegionArray& for_each_reserved_mem_region() const {
    return reserved_.regions;
  }

  // ---- hand-off ---------------------------------------------------------------
  // memblock_free_all(): clears scratch-only (v6.16), clears HOTPLUG, sets
  // reserved nids, and hands (memory \ reserved) to buddy in naturally aligned
  // chunks of at most MAX_PAGE_ORDER. RSRV_NOINIT regions are not initialised.
  FreeAllResult memblock_free_all();

  // ---- invariants ---------------------------------------------------------------
  // State invariants (spec/kho.md §2.2, items 1-5 and 8) on memory, reserved and
  // physmem. Transition invariants (6, 7, 13) are checked by the functions
  // below and, with config().self_check, after every operation.
  std::vector<InvariantViolation> check_invariants() const;
  // Violations recorded by self_check since construction (or clear).
  const std::vector<InvariantViolation>& invariant_log() const { return invariant_log_; }
  void clear_invariant_log() { invariant_log_.clear(); }

  // Internal region-array operations, exposed for tests and benchmarks.
  int memblock_add_range(MemblockTypeId type, phys_addr_t base, phys_addr_t size, int nid,
                         std::uint32_t flags);
  int memblock_remove_range(MemblockTypeId type, phys_addr_t base, phys_addr_t size);
  int memblock_isolate_range(MemblockTypeId type, phys_addr_t base, phys_addr_t size,
                             int* start_rgn, int* end_rgn);
  int memblock_setclr_flag(MemblockTypeId type, phys_addr_t base, phys_addr_t size, bool set,
                           std::uint32_t flag);
  std::uint32_t choose_memblock_flags() const;

 private:
  MemblockType& mut(MemblockTypeId id);
  bool era_16() const { return cfg_.era == Era::v6_16; }
  void warn(std::string_view function, std::string_view condition);
  void bug(MemblockEvent::Kind kind, std::string_view function, std::string_view condition);
  void log(std::string_view function, std::string message);
  // An allocation over the live memory or reserved array (its reservation
  // was freed by a caller): a HAZARD event naming the array.
  void check_array_overlap(phys_addr_t base, phys_addr_t size, std::string_view function);
  phys_addr_t page_align(phys_addr_t x) const;

  void insert_region(MemblockType& t, std::size_t idx, const MemblockRegion& r);
  void remove_region(MemblockType& t, std::size_t idx);
  void merge_regions(MemblockType& t, long start_rgn, long end_rgn);
  int double_array(MemblockTypeId type, phys_addr_t new_area_start, phys_addr_t new_area_size);
  bool should_skip_region(MemblockTypeId type, const MemblockRegion& m, int nid,
                          std::uint32_t flags) const;
  // for_each_mem_range_generic() with a direct callback (memblock_alloc.cpp).
  template <class Fn>
  void walk_ranges(MemblockTypeId type_a, const MemblockTypeId* type_b, int nid,
                   std::uint32_t flags, bool reverse, Fn&& fn) const;
  phys_addr_t find_range_bottom_up(phys_addr_t start, phys_addr_t end, phys_addr_t size,
                                   phys_addr_t align, int nid, std::uint32_t flags) const;
  phys_addr_t find_range_top_down(phys_addr_t start, phys_addr_t end, phys_addr_t size,
                                  phys_addr_t align, int nid, std::uint32_t flags) const;
  phys_addr_t alloc_internal(phys_addr_t size, phys_addr_t align, phys_addr_t min_addr,
                             phys_addr_t max_addr, int nid, bool exact_nid);
  int reserve_for_alloc(phys_addr_t found, phys_addr_t size, int nid, bool any_node);
  int search(const MemblockType& t, phys_addr_t addr) const;

  // self_check plumbing: a Scope marks one public call; the outermost one
  // checks the invariants when it ends.
  class Scope;
  friend class Scope;
  // Test-only hook (memblock_inv_test.cpp): tests plant violations in the
  // region arrays to show each state check fires.
  friend struct MemblockTestAccess;
  void record(std::vector<InvariantViolation> v, std::string_view op);

  MemblockConfig cfg_;
  MemblockType memory_;
  MemblockType reserved_;
  MemblockType physmem_;
  bool bottom_up_ = false;
  phys_addr_t current_limit_ = MEMBLOCK_ALLOC_ANYWHERE;
  bool kho_scratch_only_ = false;
  bool can_resize_ = false;
  bool system_has_some_mirror_ = false;
  bool freed_to_buddy_ = false;
  bool warned_slab_ = false;
  bool failed_ = false;
  std::string failure_;
  int depth_ = 0;  // nesting of public calls (self_check runs at depth 0)
  std::vector<MemblockEvent> events_;
  std::vector<InvariantViolation> invariant_log_;
};

// ---- transition invariants (spec/kho.md §2.3, items 6, 7, 13) -----------------

// The address span [lo, hi) a self-check compares (default: everything).
struct CheckSpan {
  phys_addr_t lo = 0;
  phys_addr_t hi = PHYS_ADDR_MAX;
};
// INV_MEMBLOCK_ADD_MONOTONE: coverage(after) = coverage(before) ∪ [base, base+size),
// and every part covered before keeps its flags and nid (within `span`).
std::vector<InvariantViolation> check_add_monotone(const MemblockType& before,
                                                   const MemblockType& after, phys_addr_t base,
                                                   phys_addr_t size, CheckSpan span = {});
// INV_MEMBLOCK_SETCLR_FLAGS_ONLY: coverage and nids unchanged; flags change only
// inside [base, base+size), and only in `flag` (within `span`).
std::vector<InvariantViolation> check_setclr_flags_only(const MemblockType& before,
                                                        const MemblockType& after,
                                                        phys_addr_t base, phys_addr_t size,
                                                        std::uint32_t flag, CheckSpan span = {});
// What the self-checks of one call on [base, base+size) compare: the regions it
// overlaps and two neighbours each side (isolation splits the former, merging
// joins the latter), and the span they cover. Whole-array snapshots made every
// call O(n log n), so a hand-over of a million blocks took hours.
struct MemblockWindow {
  MemblockType part;  // the window's regions, `t`'s other fields
  CheckSpan span;
};
MemblockWindow memblock_window(const MemblockType& t, phys_addr_t base, phys_addr_t size);
// The regions of `t` that meet `span` (the same call's window after it ran).
MemblockType memblock_window_after(const MemblockType& t, CheckSpan span);
// INV_MEMBLOCK_SCRATCH_ONLY_ALLOC: [addr, addr+size) lies inside memory regions
// flagged KHO_SCRATCH and outside `reserved_before`.
std::vector<InvariantViolation> check_scratch_alloc(const MemblockType& memory,
                                                    const MemblockType& reserved_before,
                                                    phys_addr_t addr, phys_addr_t size);

// ---- the free-range walk (inline: the allocators and callers' callbacks) ----

// mm/memblock.c should_skip_region(): only memblock.memory is ever skipped.
inline bool Memblock::should_skip_region(MemblockTypeId tid, const MemblockRegion& m, int nid,
                                  std::uint32_t flags) const {
  if (tid != MemblockTypeId::memory) return false;
  if (numa_valid_node(nid) && nid != m.nid) return true;
  if (cfg_.movable_node && (m.flags & MEMBLOCK_HOTPLUG) && !(flags & MEMBLOCK_HOTPLUG)) return true;
  if ((flags & MEMBLOCK_MIRROR) && !(m.flags & MEMBLOCK_MIRROR)) return true;
  if (!(flags & MEMBLOCK_NOMAP) && (m.flags & MEMBLOCK_NOMAP)) return true;
  if (!(flags & MEMBLOCK_DRIVER_MANAGED) && (m.flags & MEMBLOCK_DRIVER_MANAGED)) return true;
  // v6.16: in KHO scratch-only mode only KHO_SCRATCH memory qualifies.
  if ((flags & MEMBLOCK_KHO_SCRATCH) && !(m.flags & MEMBLOCK_KHO_SCRATCH)) return true;
  return false;
}

// mm/memblock.c __next_mem_range() / __next_mem_range_rev(): a two-pointer walk
// over type_a regions and the gaps of type_b (gap j is [end(b[j-1]) or 0,
// base(b[j]) or PHYS_ADDR_MAX)), advancing whichever side ends first. The
// walk keeps iterators into both arrays (O(1) amortized per step) and calls
// `fn` directly (no std::function on the allocators' path).
template <class Fn>
inline void Memblock::walk_ranges(MemblockTypeId type_a, const MemblockTypeId* type_b, int nid,
                           std::uint32_t flags, bool reverse, Fn&& fn) const {
  const RegionArray& a = type(type_a).regions;
  const RegionArray* b = type_b ? &type(*type_b).regions : nullptr;
  const std::size_t bcnt = b ? b->size() : 0;

  if (!reverse) {
    auto ia = a.begin();
    const auto ea = a.end();
    // Gap ib of b: [prev_end, ib < bcnt ? bj->base : PHYS_ADDR_MAX).
    std::size_t ib = 0;
    RegionArray::const_iterator bj;
    if (b) bj = b->begin();
    phys_addr_t prev_end = 0;
    auto next_gap = [&] {
      if (ib < bcnt) {
        prev_end = bj->end();
        ++bj;
      }
      ++ib;
    };
    // should_skip_region() is evaluated once per type_a region, not once per
    // range it yields (the kernel re-evaluates it on every call).
    bool checked = false;
    for (;;) {
      bool have = false;
      MemRange out;
      while (!have && ia != ea) {
        const MemblockRegion& m = *ia;
        if (!checked && should_skip_region(type_a, m, nid, flags)) {
          ++ia;
          continue;
        }
        checked = true;
        if (!b) {
          out = MemRange{m.base, m.end(), m.nid};
          have = true;
          ++ia;
          checked = false;
          break;
        }
        const phys_addr_t m_end = m.end();
        for (; ib < bcnt + 1; next_gap()) {
          const phys_addr_t r_start = prev_end;
          const phys_addr_t r_end = ib < bcnt ? bj->base : PHYS_ADDR_MAX;
          if (r_start >= m_end) break;
          if (m.base < r_end) {
            out = MemRange{std::max(m.base, r_start), std::min(m_end, r_end), m.nid};
            have = true;
            if (m_end <= r_end) {
              ++ia;
              checked = false;
            } else {
              next_gap();
            }
            break;
          }
        }
        if (!have) {
          ++ia;
          checked = false;
        }
      }
      if (!have || !fn(out)) return;
    }
  }

  // Reverse: region ia of a (an iterator to it while ia >= 0) and gap ib of
  // b: [ib ? bp->end() : 0, next_base), bp pointing at b[ib - 1].
  long ia = static_cast<long>(a.size()) - 1;
  RegionArray::const_iterator ait = ia >= 0 ? std::prev(a.end()) : a.end();
  bool checked = false;  // should_skip_region() passed for region ia
  auto prev_a = [&] {
    if (ia > 0) --ait;
    --ia;
    checked = false;
  };
  long ib = static_cast<long>(bcnt);
  RegionArray::const_iterator bp;
  if (b && bcnt) bp = std::prev(b->end());
  phys_addr_t next_base = PHYS_ADDR_MAX;
  auto prev_gap = [&] {
    if (ib > 0) {
      next_base = bp->base;
      if (ib > 1) --bp;
    }
    --ib;
  };
  for (;;) {
    bool have = false;
    MemRange out;
    while (!have && ia >= 0) {
      const MemblockRegion& m = *ait;
      if (!checked && should_skip_region(type_a, m, nid, flags)) {
        prev_a();
        continue;
      }
      checked = true;
      if (!b) {
        out = MemRange{m.base, m.end(), m.nid};
        have = true;
        prev_a();
        break;
      }
      const phys_addr_t m_end = m.end();
      for (; ib >= 0; prev_gap()) {
        const phys_addr_t r_start = ib ? bp->end() : 0;
        const phys_addr_t r_end = next_base;
        if (r_end <= m.base) break;
        if (m_end > r_start) {
          out = MemRange{std::max(m.base, r_start), std::min(m_end, r_end), m.nid};
          have = true;
          if (m.base >= r_start)
            prev_a();
          else
            prev_gap();
          break;
        }
      }
      if (!have) prev_a();
    }
    if (!have || !fn(out)) return;
  }
}

}  // namespace khospec::model
