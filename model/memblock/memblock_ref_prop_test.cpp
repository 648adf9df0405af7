// Equality of the model with the kernel's algorithm, and of the batch
// reservation with the per-range loop (the identities the benchmarks rely on;
// bench/ re-checks them on its own inputs before timing).
//  - MemblockRef.ModelEqualsKernelAlgorithm: random sequences of add_range /
//    remove_range / isolate_range / setclr_flag on memory and reserved, both
//    eras, random flags and nids: after every step the model's region array,
//    total_size, isolate outputs and WARN count equal the reference
//    functions' (model/memblock/memblock_ref.hpp, the mm/memblock.c scan + memmove).
//  - MemblockBatch.*: memblock_reserve_batch() equals the loop
//    "memblock_reserve; memblock_reserved_mark_noinit" (reserved and memory
//    arrays, max, total_size, events, failed(), return value), including
//    overlaps, duplicates, adjacency, unsorted input and array doubling in the
//    middle of the batch (small initial arrays); and without doubling it
//    equals the kernel reference too.
// Seeds are fixed and printed (rc_run_property); RC_PARAMS overrides them.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <sstream>

#include "core/rc_run.hpp"
#include "model/memblock/memblock.hpp"
#include "model/memblock/memblock_ref.hpp"

namespace khospec::model {
namespace {

constexpr phys_addr_t kPage = 4096;
constexpr phys_addr_t kBase = 0x100000;
constexpr int kPages = 64;

std::string dump(const RegionArray& r) {
  std::ostringstream o;
  for (const auto& x : r)
    o << "[" << std::hex << x.base << "+" << x.size << " f" << x.flags << std::dec << " n" << x.nid << "] ";
  return o.str();
}

struct Op {
  int kind;  // 0 add, 1 remove, 2 isolate, 3 setclr
  bool reserved;
  int page, pages;
  int nid;
  std::uint32_t flags;
  bool set;
};

rc::Gen<Op> gen_op() {
  return rc::gen::apply(
      [](int kind, bool rsv, int page, int pages, int nid_pick, int flag_pick, bool set) {
        static constexpr std::uint32_t kFlags[] = {MEMBLOCK_NONE, MEMBLOCK_NONE, MEMBLOCK_HOTPLUG,
                                                   MEMBLOCK_NOMAP, MEMBLOCK_RSRV_NOINIT, MEMBLOCK_RSRV_KERN,
                                                   MEMBLOCK_KHO_SCRATCH};
        static constexpr int kNids[] = {NUMA_NO_NODE, 0, 1, 64};
        return Op{kind, rsv, page, pages, kNids[nid_pick], kFlags[flag_pick], set};
      },
      rc::gen::inRange(0, 4), rc::gen::arbitrary<bool>(), rc::gen::inRange(0, kPages),
      rc::gen::inRange(0, 17), rc::gen::inRange(0, 4), rc::gen::inRange(0, 7), rc::gen::arbitrary<bool>());
}

// Runs one operation on the model and on the kernel reference (same type).
void apply_op(Memblock& mb, ref::RefType& rt, const Op& op, bool era16, ref::RefWarnings& w) {
  const MemblockTypeId tid = op.reserved ? MemblockTypeId::reserved : MemblockTypeId::memory;
  const phys_addr_t base = kBase + static_cast<phys_addr_t>(op.page) * kPage;
  const phys_addr_t size = static_cast<phys_addr_t>(op.pages) * kPage;
  switch (op.kind) {
    case 0:
      RC_ASSERT(mb.memblock_add_range(tid, base, size, op.nid, op.flags) == 0);
      ref::memblock_add_range(rt, base, size, op.nid, op.flags, era16, &w);
      break;
    case 1:
      RC_ASSERT(mb.memblock_remove_range(tid, base, size) == 0);
      ref::memblock_remove_range(rt, base, size, &w);
      break;
    case 2: {
      int ms = -1, me = -1, rs = -2, re = -2;
      RC_ASSERT(mb.memblock_isolate_range(tid, base, size, &ms, &me) == 0);
      ref::memblock_isolate_range(rt, base, size, &rs, &re);
      RC_ASSERT(ms == rs);
      RC_ASSERT(me == re);
      break;
    }
    default:
      RC_ASSERT(mb.memblock_setclr_flag(tid, base, size, op.set, op.flags ? op.flags : MEMBLOCK_HOTPLUG) == 0);
      ref::memblock_setclr_flag(rt, base, size, op.set, op.flags ? op.flags : MEMBLOCK_HOTPLUG);
      break;
  }
}

// One operation on both sides, then the arrays, sizes, capacities, warning
// counts and the RegionArray's own structure must agree.
void step_both(Memblock& mb, ref::RefType& rmem, ref::RefType& rrsv, const Op& op, bool era16, ref::RefWarnings& w) {
  const MemblockTypeId tid = op.reserved ? MemblockTypeId::reserved : MemblockTypeId::memory;
  ref::RefType& rt = op.reserved ? rrsv : rmem;
  apply_op(mb, rt, op, era16, w);
  const auto& mt = mb.type(tid);
  if (mt.regions != rt.regions()) RC_FAIL("model " + dump(mt.regions) + "\nkernel " + dump(rt.regions()));
  const std::string st = mt.regions.check_structure();
  if (!st.empty()) RC_FAIL("RegionArray structure: " + st);
  RC_ASSERT(mt.total_size == rt.total_size);
  RC_ASSERT(mt.max == rt.max);
  RC_ASSERT(mb.warning_count() == w.nid + w.flags + w.total);
}

TEST(MemblockRef, ModelEqualsKernelAlgorithm) {
  testutil::rc_run_property("MemblockRef.ModelEqualsKernelAlgorithm", "seed=1844674407 max_success=400 max_size=120",
                            [](bool era16) {
    MemblockConfig cfg;
    cfg.era = era16 ? Era::v6_16 : Era::v6_12;
    cfg.init_memory_regions = cfg.init_reserved_regions = 256;  // never doubles (<= 64 regions)
    cfg.self_check = false;
    Memblock mb(cfg);
    ref::RefType rmem(256, cfg.max_numnodes), rrsv(256, cfg.max_numnodes);
    ref::RefWarnings w;
    const auto ops = *rc::gen::container<std::vector<Op>>(gen_op());
    for (const auto& op : ops) step_both(mb, rmem, rrsv, op, era16, w);
    RC_ASSERT(mb.memory().regions == rmem.regions());
    RC_ASSERT(mb.reserved().regions == rrsv.regions());
    // No invariant_log() check here: a bare memblock_isolate_range() leaves
    // split, mergeable neighbours (INV_MEMBLOCK_MERGED) in the kernel too.
  });
}

// The same identity on arrays of hundreds of regions, so that the model's
// RegionArray spans many chunks (kChunk = 64) and operations split, merge and
// erase across chunk boundaries: both sides start from the same 300-700
// scattered regions (mixed flags and nids) and run random operations over a
// 2048-page window, some of them hundreds of pages wide.
TEST(MemblockRef, ModelEqualsKernelAlgorithmManyChunks) {
  testutil::rc_run_property("MemblockRef.ModelEqualsKernelAlgorithmManyChunks",
                            "seed=1844674407 max_success=400 max_size=120", [](bool era16) {
    constexpr int kWide = 2048;
    MemblockConfig cfg;
    cfg.era = era16 ? Era::v6_16 : Era::v6_12;
    cfg.init_memory_regions = cfg.init_reserved_regions = 4096;  // never doubles (<= 2048 regions)
    cfg.self_check = false;
    Memblock mb(cfg);
    ref::RefType rmem(4096, cfg.max_numnodes), rrsv(4096, cfg.max_numnodes);
    ref::RefWarnings w;
    const int prefill = *rc::gen::inRange(300, 700);
    const int stride = kWide / prefill;
    for (int i = 0; i < prefill; ++i) {
      const phys_addr_t base = kBase + static_cast<phys_addr_t>(i * stride) * kPage;
      const std::uint32_t fl = (i % 5 == 0) ? MEMBLOCK_HOTPLUG : MEMBLOCK_NONE;
      const int nid = i % 7 == 0 ? 1 : 0;
      for (auto* rt : {&rmem, &rrsv}) ref::memblock_add_range(*rt, base, kPage, nid, fl, era16, &w);
      mb.memblock_add_range(MemblockTypeId::memory, base, kPage, nid, fl);
      mb.memblock_add_range(MemblockTypeId::reserved, base, kPage, nid, fl);
    }
    RC_ASSERT(mb.memory().regions == rmem.regions());
    const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::apply(
        [](Op op, int page, int wide, int pages) {
          op.page = page;
          if (wide == 0) op.pages = pages;  // spans several chunks
          return op;
        },
        gen_op(), rc::gen::inRange(0, kWide), rc::gen::inRange(0, 8), rc::gen::inRange(0, 400)));
    for (const auto& op : ops) step_both(mb, rmem, rrsv, op, era16, w);
    // The free-range walks over multi-chunk arrays equal the kernel's cursor walk.
    for (bool rev : {false, true}) {
      std::vector<MemRange> want;
      std::uint64_t idx = rev ? ~std::uint64_t{0} : 0;
      phys_addr_t s0 = 0, e0 = 0;
      int nid = 0;
      while (rev ? ref::next_free_mem_range_rev(rmem, rrsv, NUMA_NO_NODE, MEMBLOCK_NONE, &idx, &s0, &e0, &nid)
                 : ref::next_free_mem_range(rmem, rrsv, NUMA_NO_NODE, MEMBLOCK_NONE, &idx, &s0, &e0, &nid))
        want.push_back({s0, e0, nid});
      RC_ASSERT(mb.for_each_free_mem_range(NUMA_NO_NODE, MEMBLOCK_NONE, rev) == want);
    }
  });
}

using Ranges = std::vector<std::pair<phys_addr_t, phys_addr_t>>;

// A machine with memory to double into, some reservations with mixed flags
// and nids, and a batch of ranges (some overlapping, some adjacent, unsorted).
struct BatchCase {
  Era era;
  std::uint64_t init_reserved;
  Ranges pre;                 // (base, size) pairs reserved first
  std::vector<int> pre_kind;  // 0 reserve, 1 reserve_kern, 2 noinit reserve, 3 nid 1
  Ranges batch;
  bool noinit;
};

rc::Gen<BatchCase> gen_case() {
  return rc::gen::apply(
      [](bool era16, int init_pick, std::vector<std::pair<int, int>> pre, std::vector<int> kinds,
         std::vector<std::pair<int, int>> batch, bool noinit) {
        BatchCase c;
        c.era = era16 ? Era::v6_16 : Era::v6_12;
        c.init_reserved = init_pick ? 256 : 8;
        for (auto [p, n] : pre) c.pre.emplace_back(kBase + static_cast<phys_addr_t>(p) * kPage, static_cast<phys_addr_t>(n) * kPage);
        for (std::size_t i = 0; i < c.pre.size(); ++i) c.pre_kind.push_back(i < kinds.size() ? kinds[i] : 0);
        for (auto [p, n] : batch) c.batch.emplace_back(kBase + static_cast<phys_addr_t>(p) * kPage, static_cast<phys_addr_t>(n) * kPage);
        c.noinit = noinit;
        return c;
      },
      rc::gen::arbitrary<bool>(), rc::gen::inRange(0, 2),
      rc::gen::container<std::vector<std::pair<int, int>>>(
          rc::gen::pair(rc::gen::inRange(0, 256), rc::gen::inRange(0, 4))),
      rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 4)),
      rc::gen::container<std::vector<std::pair<int, int>>>(
          rc::gen::pair(rc::gen::inRange(0, 256), rc::gen::inRange(0, 3))),
      rc::gen::arbitrary<bool>());
}

Memblock prepared(const BatchCase& c) {
  MemblockConfig cfg;
  cfg.era = c.era;
  cfg.init_reserved_regions = c.init_reserved;
  cfg.self_check = true;
  Memblock mb(cfg);
  mb.memblock_add(0x10000000, 0x10000000);  // room for doubled arrays, far above the ranges
  mb.memblock_add(0, 0x2000000);
  mb.memblock_allow_resize();
  for (std::size_t i = 0; i < c.pre.size(); ++i) {
    const auto [b, s] = c.pre[i];
    switch (c.pre_kind[i]) {
      case 0: mb.memblock_reserve(b, s); break;
      case 1: mb.__memblock_reserve(b, s, NUMA_NO_NODE, MEMBLOCK_RSRV_KERN); break;
      case 2: mb.memblock_reserve(b, s); mb.memblock_reserved_mark_noinit(b, s); break;
      default: mb.__memblock_reserve(b, s, 1, MEMBLOCK_NONE); break;
    }
  }
  mb.clear_events();
  mb.clear_invariant_log();
  return mb;
}

void expect_same(const Memblock& a, const Memblock& b) {
  RC_ASSERT(a.reserved().regions == b.reserved().regions);
  RC_ASSERT(a.reserved().max == b.reserved().max);
  RC_ASSERT(a.reserved().total_size == b.reserved().total_size);
  RC_ASSERT(a.reserved().array_base == b.reserved().array_base);
  RC_ASSERT(a.memory().regions == b.memory().regions);
  RC_ASSERT(a.failed() == b.failed());
  RC_ASSERT(a.events().size() == b.events().size());
  for (std::size_t i = 0; i < a.events().size(); ++i) {
    RC_ASSERT(a.events()[i].kind == b.events()[i].kind);
    RC_ASSERT(a.events()[i].function == b.events()[i].function);
    RC_ASSERT(a.events()[i].message == b.events()[i].message);
  }
}

TEST(MemblockBatch, EqualsPerRangeLoop) {
  testutil::rc_run_property("MemblockBatch.EqualsPerRangeLoop", "seed=2718281828 max_success=400 max_size=150",
                            [] {
    const BatchCase c = *gen_case();
    for (std::size_t i = 0; i < c.pre.size(); ++i)
      RC_LOG() << "pre kind " << c.pre_kind[i] << " " << std::hex << c.pre[i].first << "+" << c.pre[i].second << std::dec << "\n";
    for (const auto& [b, s] : c.batch) RC_LOG() << "batch " << std::hex << b << "+" << s << std::dec << "\n";
    RC_LOG() << "noinit " << c.noinit << " init " << c.init_reserved << "\n";
    Memblock loop = prepared(c);
    Memblock batch = prepared(c);
    int failed = 0;
    for (const auto& [b, s] : c.batch) {
      const int r1 = loop.memblock_reserve(b, s);
      const int r2 = c.noinit ? loop.memblock_reserved_mark_noinit(b, s) : 0;
      if (r1 || r2) ++failed;
    }
    RC_ASSERT(batch.memblock_reserve_batch(c.batch, c.noinit) == failed);
    if (loop.reserved().regions != batch.reserved().regions)
      RC_FAIL("loop " + dump(loop.reserved().regions) + "\nbatch " + dump(batch.reserved().regions));
    RC_TAG(loop.reserved().max > c.init_reserved ? "doubled" : "no doubling");
    expect_same(loop, batch);
    RC_ASSERT(batch.invariant_log().empty());
  });
}

TEST(MemblockBatch, EqualsKernelAlgorithmWithoutDoubling) {
  testutil::rc_run_property("MemblockBatch.EqualsKernelAlgorithm", "seed=3141592653 max_success=300 max_size=120",
                            [] {
    BatchCase c = *gen_case();
    c.init_reserved = 1024;  // > 2 * (pre + batch) regions: neither side doubles
    Memblock batch = prepared(c);
    ref::RefType rrsv(1024, batch.config().max_numnodes);
    rrsv.assign(batch.reserved().regions);
    const int nid = c.era == Era::v6_16 ? NUMA_NO_NODE : batch.config().max_numnodes;
    for (const auto& [b, s] : c.batch) {
      ref::memblock_add_range(rrsv, b, s, nid, MEMBLOCK_NONE, c.era == Era::v6_16);
      if (c.noinit) ref::memblock_setclr_flag(rrsv, b, s, true, MEMBLOCK_RSRV_NOINIT);
    }
    batch.memblock_reserve_batch(c.batch, c.noinit);
    RC_ASSERT(batch.reserved().regions == rrsv.regions());
    RC_ASSERT(batch.reserved().total_size == rrsv.total_size);
  });
}

// The deserialization shape at a size the property test does not reach:
// 20,000 scattered and 20,000 contiguous order-0 blocks, each order visited in
// ascending address order, against the loop.
TEST(MemblockBatch, LargeScatteredAndContiguousMaps) {
  for (phys_addr_t stride : {2 * kPage, kPage}) {
    MemblockConfig cfg;
    cfg.self_check = false;
    Memblock loop(cfg), batch(cfg);
    for (Memblock* m : {&loop, &batch}) {
      m->memblock_add(0, phys_addr_t{64} << 30);
      m->memblock_reserve(0, 1 << 20);
      m->memblock_reserve_kern(16 << 20, 32 << 20);
      m->memblock_allow_resize();
      m->memblock_set_kho_scratch_only();
      m->memblock_add(phys_addr_t{60} << 30, phys_addr_t{1} << 30);
      m->memblock_mark_kho_scratch(phys_addr_t{60} << 30, phys_addr_t{1} << 30);
    }
    Ranges blocks;
    for (int i = 0; i < 20000; ++i) blocks.emplace_back((phys_addr_t{1} << 30) + static_cast<phys_addr_t>(i) * stride, kPage);
    for (const auto& [b, s] : blocks) {
      loop.memblock_reserve(b, s);
      loop.memblock_reserved_mark_noinit(b, s);
    }
    EXPECT_EQ(batch.memblock_reserve_batch(blocks, true), 0);
    EXPECT_EQ(loop.reserved().regions, batch.reserved().regions);
    EXPECT_EQ(loop.reserved().max, batch.reserved().max);
    EXPECT_EQ(loop.reserved().array_base, batch.reserved().array_base);
    EXPECT_EQ(loop.reserved().total_size, batch.reserved().total_size);
    EXPECT_EQ(loop.events().size(), batch.events().size());
    EXPECT_FALSE(batch.failed());
  }
}

}  // namespace
}  // namespace khospec::model
