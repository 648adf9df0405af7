// memblock region-array benchmarks: the kernel's algorithm (model/memblock_ref,
// a scan from index 0 plus memmove, mm/memblock.c) against the model
// (model/memblock/memblock.cpp: binary search for the first region ending above base,
// insert/erase in a chunked RegionArray that moves at most one 64-region
// chunk instead of the tail, merge of the touched window only).
//
// Shape of every op benchmark: an array of N regions (4 KiB every 16 KiB) is
// built once; each iteration times M operations on it (and undoes them,
// at that size, M <= min(N/4, 256), in one of four patterns:
//   ascending  -- above every region, ascending (kernel: full scan, no move);
//   descending -- below every region, descending (kernel: no scan, full move);
//   random     -- at random holes / regions (half scan, half move);
//   adjacent   -- touching an existing region (reserve/add merge into it;
//                 remove/isolate span two neighbours).
// Every iteration times 256 operations (256 / M rounds, each undone untimed
// afterwards, so the array size stays N): time per iteration / 256 is the
// cost of one call at N regions. Both sides run the same M operations once in
// setup and must leave identical region arrays (and isolate outputs), and
// the undo must restore both; otherwise the benchmark fails.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>

#include "bench/bench_common.hpp"
#include "model/memblock/memblock.hpp"
#include "model/memblock/memblock_ref.hpp"

namespace khospec::bench {
namespace {

using namespace khospec::model;
using Ranges = std::vector<std::pair<phys_addr_t, phys_addr_t>>;

constexpr phys_addr_t kSz = 4096;
constexpr phys_addr_t kStride = 16384;
constexpr phys_addr_t kBase = phys_addr_t{1} << 40;

enum class Op { reserve, add, remove, isolate };
enum class Pattern { ascending, descending, random, adjacent };

const char* op_name(Op o) {
  switch (o) {
    case Op::reserve: return "Reserve";
    case Op::add: return "Add";
    case Op::remove: return "Remove";
    case Op::isolate: return "Isolate";
  }
  return "?";
}
const char* pattern_name(Pattern p) {
  switch (p) {
    case Pattern::ascending: return "ascending";
    case Pattern::descending: return "descending";
    case Pattern::random: return "random";
    case Pattern::adjacent: return "adjacent";
  }
  return "?";
}

std::vector<std::int64_t> sample(std::int64_t count, std::int64_t m, std::mt19937_64& rng) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(count));
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(static_cast<std::size_t>(std::min(m, count)));
  return all;
}

std::string describe(const std::vector<MemblockRegion>& a, const std::vector<MemblockRegion>& b) {
  std::ostringstream o;
  o << "kernel has " << a.size() << " regions, model " << b.size();
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (!(a[i] == b[i])) {
      o << "; first difference at [" << i << "]: base 0x" << std::hex << a[i].base << " vs 0x" << b[i].base;
      break;
    }
  return o.str();
}

struct Fixture {
  Op op;
  Pattern pattern;
  std::int64_t n = 0;
  MemblockTypeId tid = MemblockTypeId::reserved;
  int nid = NUMA_NO_NODE;
  Memblock model;
  ref::RefType kernel;
  Ranges ops;
  Ranges undo;        // restores the array after `ops` (not timed)
  std::string error;  // non-empty: the equality check failed
  explicit Fixture(MemblockConfig cfg) : model(cfg) {}
};

MemblockConfig config_for(std::uint64_t cap) {
  MemblockConfig cfg;
  cfg.self_check = false;  // the invariant check is O(n) per call; tests run it
  cfg.init_memory_regions = cap;
  cfg.init_reserved_regions = cap;
  return cfg;
}

// Operations per round: a power of two <= n / 4 (distinct positions), at most
// 256; an iteration runs 256 / M rounds, so every iteration times 256 ops.
constexpr std::int64_t kOpsPerIter = 256;
std::int64_t ops_for(std::int64_t n) {
  std::int64_t m = 1;
  while (m * 2 <= n / 4 && m * 2 <= kOpsPerIter) m *= 2;
  return m;
}

void run_kernel(ref::RefType& t, const Fixture& fx, std::vector<int>* iso) {
  for (const auto& [b, s] : fx.ops) {
    switch (fx.op) {
      case Op::reserve:
      case Op::add: ref::memblock_add_range(t, b, s, fx.nid, MEMBLOCK_NONE, true); break;
      case Op::remove: ref::memblock_remove_range(t, b, s); break;
      case Op::isolate: {
        int st = 0, en = 0;
        ref::memblock_isolate_range(t, b, s, &st, &en);
        benchmark::DoNotOptimize(st);
        benchmark::DoNotOptimize(en);
        if (iso) iso->insert(iso->end(), {st, en});
        break;
      }
    }
  }
}

void run_model(Memblock& m, const Fixture& fx, std::vector<int>* iso) {
  for (const auto& [b, s] : fx.ops) {
    switch (fx.op) {
      case Op::reserve: m.memblock_reserve(b, s); break;
      case Op::add: m.memblock_add(b, s); break;
      case Op::remove: m.memblock_phys_free(b, s); break;
      case Op::isolate: {
        int st = 0, en = 0;
        m.memblock_isolate_range(fx.tid, b, s, &st, &en);
        benchmark::DoNotOptimize(st);
        benchmark::DoNotOptimize(en);
        if (iso) iso->insert(iso->end(), {st, en});
        break;
      }
    }
  }
}

// Undo, not timed: reserve/add -> remove the range (a merged range splits
// off again); remove -> reserve/add the removed regions back; isolate ->
// setclr_flag(flag 0), whose merge pass joins the split pieces again.
void undo_kernel(ref::RefType& t, const Fixture& fx) {
  for (const auto& [b, s] : fx.undo) {
    switch (fx.op) {
      case Op::reserve:
      case Op::add: ref::memblock_remove_range(t, b, s); break;
      case Op::remove: ref::memblock_add_range(t, b, s, fx.nid, MEMBLOCK_NONE, true); break;
      case Op::isolate: ref::memblock_setclr_flag(t, b, s, true, 0); break;
    }
  }
}
void undo_model(Memblock& m, const Fixture& fx) {
  for (const auto& [b, s] : fx.undo) {
    switch (fx.op) {
      case Op::reserve:
      case Op::add: m.memblock_remove_range(fx.tid, b, s); break;
      case Op::remove: m.memblock_add_range(fx.tid, b, s, fx.nid, MEMBLOCK_NONE); break;
      case Op::isolate: m.memblock_setclr_flag(fx.tid, b, s, true, 0); break;
    }
  }
}

std::unique_ptr<Fixture> build(Op op, Pattern p, std::int64_t n) {
  const std::int64_t m = ops_for(n);
  const std::uint64_t cap = pow2_at_least(2 * static_cast<std::uint64_t>(n + 2 * m) + 8);
  auto fx = std::make_unique<Fixture>(config_for(cap));
  fx->op = op;
  fx->pattern = p;
  fx->n = n;
  fx->tid = op == Op::add ? MemblockTypeId::memory : MemblockTypeId::reserved;
  fx->nid = op == Op::add ? fx->model.config().max_numnodes : NUMA_NO_NODE;  // memblock_add / reserve (v6.16)
  for (std::int64_t i = 0; i < n; ++i) {
    const phys_addr_t b = kBase + static_cast<phys_addr_t>(i) * kStride;
    if (op == Op::add)
      fx->model.memblock_add(b, kSz);
    else
      fx->model.memblock_reserve(b, kSz);
  }
  fx->kernel = ref::RefType(cap, fx->model.config().max_numnodes);
  fx->kernel.assign(fx->model.type(fx->tid).regions);

  std::mt19937_64 rng(0x6b686f + static_cast<std::uint64_t>(n));
  auto at = [](std::int64_t h) { return kBase + static_cast<phys_addr_t>(h) * kStride; };
  std::vector<std::int64_t> idx;
  switch (p) {
    case Pattern::ascending:
      for (std::int64_t i = 0; i < m; ++i) idx.push_back(op == Op::reserve || op == Op::add ? n + i : n - m + i);
      break;
    case Pattern::descending:
      for (std::int64_t i = 0; i < m; ++i) idx.push_back(op == Op::reserve || op == Op::add ? -1 - i : m - 1 - i);
      break;
    case Pattern::random:
      idx = sample(op == Op::reserve || op == Op::add ? n - 1 : n, m, rng);
      break;
    case Pattern::adjacent:
      if (op == Op::reserve || op == Op::add) {
        idx = sample(n, m, rng);
      } else {
        idx = sample(n / 2, m, rng);
        for (auto& h : idx) h *= 2;
      }
      break;
  }
  for (auto h : idx) {
    switch (op) {
      case Op::reserve:
      case Op::add:
        if (p == Pattern::adjacent)
          fx->ops.emplace_back(at(h) + kSz, kSz);  // touches region h from above: merges
        else if (p == Pattern::random)
          fx->ops.emplace_back(at(h) + 2 * kSz, kSz);  // the middle of hole h
        else
          fx->ops.emplace_back(at(h), kSz);  // beyond either end of the array
        break;
      case Op::remove:
        if (p == Pattern::adjacent)
          fx->ops.emplace_back(at(h), kStride + kSz);  // regions h and h+1 and the hole
        else
          fx->ops.emplace_back(at(h), kSz);
        break;
      case Op::isolate:
        if (p == Pattern::adjacent)
          fx->ops.emplace_back(at(h) + kSz / 2, kStride);  // splits h and h+1
        else
          fx->ops.emplace_back(at(h) + kSz / 4, kSz / 2);  // splits h twice
        break;
    }
  }

  for (const auto& [b, sz] : fx->ops) {
    if (op == Op::remove && p == Pattern::adjacent) {  // two regions, not the hole
      fx->undo.emplace_back(b, kSz);
      fx->undo.emplace_back(b + kStride, kSz);
    } else {
      fx->undo.emplace_back(b, sz);
    }
  }

  // Equality before timing: same operations, same arrays.
  ref::RefType k = fx->kernel;
  Memblock md = fx->model;
  std::vector<int> iso_k, iso_m;
  run_kernel(k, *fx, &iso_k);
  run_model(md, *fx, &iso_m);
  const auto& mr = md.type(fx->tid);
  if (k.regions() != mr.regions)
    fx->error = std::string("region arrays differ: ") + describe(k.regions(), mr.regions);
  else if (k.total_size != mr.total_size)
    fx->error = "total_size differs";
  else if (iso_k != iso_m)
    fx->error = "isolate outputs differ";
  else if (md.failed())
    fx->error = "model failed: " + md.failure();
  if (fx->error.empty()) {  // and the undo restores both arrays
    undo_kernel(k, *fx);
    undo_model(md, *fx);
    if (k.regions() != fx->kernel.regions() || md.type(fx->tid).regions != fx->model.type(fx->tid).regions)
      fx->error = "undo does not restore the array";
  }
  return fx;
}

// One fixture alive at a time (the large ones are hundreds of MiB).
Fixture& fixture(Op op, Pattern p, std::int64_t n) {
  static std::unique_ptr<Fixture> cur;
  if (!cur || cur->op != op || cur->pattern != p || cur->n != n) {
    cur.reset();
    cur = build(op, p, n);
  }
  return *cur;
}

void BM_MemblockOp(benchmark::State& state, Op op, Pattern p, bool kernel) {
  const std::int64_t n = state.range(0);
  Fixture& fx = fixture(op, p, n);
  if (!fx.error.empty()) {
    fail(state, std::string(op_name(op)) + "/" + pattern_name(p) + "/" + std::to_string(n) + ": " + fx.error);
    return;
  }
  const auto m = static_cast<std::int64_t>(fx.ops.size());
  const std::int64_t rounds = kOpsPerIter / m;
  ref::RefType work_k = fx.kernel;
  Memblock work_m = fx.model;
  // At N <= 10^3 a call costs a few hundred ns and the ratio is the target
  // ("never slower"): every round of this side is followed by the same round
  // of the other, so the ratio (kernel_over_model) is measured paired, both
  // sides on the same machine state (a shared host's core speed drifts over
  // seconds). The benchmark's own time is still this side's alone.
  const bool paired = n <= 1000;
  double own = 0, other = 0;
  auto timed = [&](bool k) {
    const auto t0 = std::chrono::steady_clock::now();
    if (k)
      run_kernel(work_k, fx, nullptr);
    else
      run_model(work_m, fx, nullptr);
    const auto t1 = std::chrono::steady_clock::now();
    if (k)
      undo_kernel(work_k, fx);
    else
      undo_model(work_m, fx);
    return std::chrono::duration<double>(t1 - t0).count();
  };
  for (auto _ : state) {
    double secs = 0;
    for (std::int64_t r = 0; r < rounds; ++r) {
      secs += timed(kernel);
      if (paired) other += timed(!kernel);
    }
    own += secs;
    const std::uint64_t cnt = kernel ? work_k.cnt : work_m.type(fx.tid).cnt();
    benchmark::DoNotOptimize(cnt);
    state.SetIterationTime(secs);
  }
  state.counters["ops_per_s"] = benchmark::Counter(static_cast<double>(rounds * m), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ops_per_iter"] = static_cast<double>(rounds * m);
  if (paired && own > 0 && other > 0) state.counters["kernel_over_model"] = kernel ? own / other : other / own;
  state.SetComplexityN(n);
}

// ---- top-down allocation with many holes, and the free-range walk -----------

struct HolesFixture {
  std::int64_t n = 0;
  Memblock model{config_for(128)};
  ref::RefType mem, rsv;
  std::string error;
};

// memory [kBase - 1 MiB, kBase + n * 16 KiB); reserved: n regions of 4 KiB
// every 16 KiB. A 64 KiB top-down allocation walks past n 12 KiB holes and
// lands below kBase.
HolesFixture& holes(std::int64_t n) {
  static std::unique_ptr<HolesFixture> cur;
  if (cur && cur->n == n) return *cur;
  cur.reset();
  cur = std::make_unique<HolesFixture>();
  HolesFixture& h = *cur;
  h.n = n;
  const std::uint64_t cap = pow2_at_least(2 * static_cast<std::uint64_t>(n) + 8);
  h.model = Memblock(config_for(cap));
  h.model.memblock_add(kBase - (1u << 20), (1u << 20) + static_cast<phys_addr_t>(n) * kStride);
  for (std::int64_t i = 0; i < n; ++i) h.model.memblock_reserve(kBase + static_cast<phys_addr_t>(i) * kStride, kSz);
  h.mem = ref::RefType(cap);
  h.mem.assign(h.model.memory().regions);
  h.rsv = ref::RefType(cap);
  h.rsv.assign(h.model.reserved().regions);
  return h;
}

constexpr phys_addr_t kAllocSize = 64 << 10;

phys_addr_t kernel_alloc(const HolesFixture& h) {
  // memblock_find_in_range_node(): start = max(0, PAGE_SIZE), end = ANYWHERE.
  return ref::find_range_top_down(h.mem, h.rsv, 4096, MEMBLOCK_ALLOC_ANYWHERE, kAllocSize, 4096, NUMA_NO_NODE,
                                  MEMBLOCK_NONE);
}
phys_addr_t model_alloc(HolesFixture& h) {
  return h.model.memblock_find_in_range_node(kAllocSize, 4096, 0, MEMBLOCK_ALLOC_ANYWHERE, NUMA_NO_NODE,
                                             MEMBLOCK_NONE);
}

void BM_AllocTopDown(benchmark::State& state, bool kernel) {
  HolesFixture& h = holes(state.range(0));
  const phys_addr_t want = kBase - kAllocSize;
  const phys_addr_t k = kernel_alloc(h), m = model_alloc(h);
  if (k != want || m != want) {
    fail(state, "top-down allocation differs: kernel 0x" + std::to_string(k) + " model 0x" + std::to_string(m));
    return;
  }
  for (auto _ : state) {
    const phys_addr_t found = kernel ? kernel_alloc(h) : model_alloc(h);
    benchmark::DoNotOptimize(found);
  }
  state.counters["holes_per_s"] =
      benchmark::Counter(static_cast<double>(state.range(0)), benchmark::Counter::kIsIterationInvariantRate);
  state.SetComplexityN(state.range(0));
}

struct Walk {
  std::uint64_t count = 0;
  phys_addr_t bytes = 0;
  bool operator==(const Walk&) const = default;
};

Walk kernel_walk(const HolesFixture& h) {
  Walk w;
  std::uint64_t i = 0;
  phys_addr_t s = 0, e = 0;
  while (ref::next_free_mem_range(h.mem, h.rsv, NUMA_NO_NODE, MEMBLOCK_NONE, &i, &s, &e, nullptr)) {
    ++w.count;
    w.bytes += e - s;
  }
  return w;
}
Walk model_walk(const HolesFixture& h) {
  Walk w;
  h.model.for_each_mem_range_generic(MemblockTypeId::memory, MemblockTypeId::reserved, NUMA_NO_NODE, MEMBLOCK_NONE,
                                     false, [&](const MemRange& r) {
                                       ++w.count;
                                       w.bytes += r.end - r.start;
                                       return true;
                                     });
  return w;
}

void BM_FreeRanges(benchmark::State& state, bool kernel) {
  HolesFixture& h = holes(state.range(0));
  const Walk k = kernel_walk(h), m = model_walk(h);
  if (!(k == m) || k.count != static_cast<std::uint64_t>(state.range(0)) + 1) {
    fail(state, "free-range walks differ: kernel " + std::to_string(k.count) + " ranges, model " +
                    std::to_string(m.count));
    return;
  }
  for (auto _ : state) {
    const Walk w = kernel ? kernel_walk(h) : model_walk(h);
    benchmark::DoNotOptimize(w.bytes);
  }
  state.counters["ranges_per_s"] =
      benchmark::Counter(static_cast<double>(k.count), benchmark::Counter::kIsIterationInvariantRate);
  state.SetComplexityN(state.range(0));
}

}  // namespace

void register_memblock() {
  const auto ns = sizes(100, 1000000, 10);
  for (Op op : {Op::reserve, Op::add, Op::remove, Op::isolate}) {
    for (Pattern p : {Pattern::ascending, Pattern::descending, Pattern::random, Pattern::adjacent}) {
      for (bool kernel : {true, false}) {
        const std::string name = std::string("BM_Memblock_") + op_name(op) + "/pattern:" + pattern_name(p) +
                                 "/impl:" + (kernel ? "kernel" : "model");
        auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_MemblockOp, op, p, kernel);
        b->ArgName("regions")->UseManualTime()->Unit(benchmark::kNanosecond);
        // Kernel: O(n) scan and/or O(n) memmove per call. Model: O(log n)
        // search plus a RegionArray insert/erase (one chunk of <= 64 regions
        // and n/64 prefix counts): O(log n) up to that small linear term.
        b->Complexity(kernel ? benchmark::oN : benchmark::oLogN);
        // 10 ms of timed calls: the untimed undo can cost 1000x the timed
        // calls (adjacent merges are O(log n) in the model, their undo O(n)).
        apply_sizes(b, ns, 0.01);
      }
    }
  }
  for (bool kernel : {true, false}) {
    const char* impl = kernel ? "kernel" : "model";
    auto* a = benchmark::RegisterBenchmark((std::string("BM_Memblock_AllocTopDown/impl:") + impl).c_str(),
                                           BM_AllocTopDown, kernel);
    a->ArgName("holes")->Unit(benchmark::kMicrosecond)->Complexity(benchmark::oN);
    apply_sizes(a, sizes(100, 1000000, 10), 0.05);
    auto* f = benchmark::RegisterBenchmark((std::string("BM_Memblock_FreeRanges/impl:") + impl).c_str(),
                                           BM_FreeRanges, kernel);
    f->ArgName("holes")->Unit(benchmark::kMicrosecond)->Complexity(benchmark::oN);
    apply_sizes(f, sizes(100, 1000000, 10), 0.05);
  }
}

}  // namespace khospec::bench
