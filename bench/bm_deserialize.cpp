// Next-kernel deserialization, the dominant KHO boot cost (the first of the
// hot paths in docs/kernel-behaviour.md): every preserved block is memblock_reserve()d and
// memblock_reserved_mark_noinit()ed (kernel/kexec_handover.c
// deserialize_bitmap(), kho_preserved_memory_reserve()), one order at a time,
// ascending addresses -- the visit order of both wire formats.
//
// Three implementations of the same loop, same blocks, same starting array:
//   kernel      -- model/memblock_ref (scan from index 0 + memmove): Θ(n) per
//                  call, so Θ(N²) for scattered blocks; run up to a feasible N;
//   model_loop  -- the model's memblock_reserve + mark_noinit per block;
//   model_batch -- Memblock::memblock_reserve_batch(): sort + one merge pass.
// Layouts: contiguous (every block of the map) or scattered (every other
// block, so no two blocks merge and the reserved array grows by one region
// per block). Before timing, every implementation's reserved array must equal
// the batch result (the kernel one where it runs, the model loop always).
//
// The arrays are sized so that nobody doubles (the kernel would allocate the
// doubled arrays from scratch: that growth is reported as array_bytes, the
// PAGE_ALIGNed 24-byte-per-entry array the kernel would end with after
// doubling from 128 entries, next to the scratch the model's first kernel
// reserves for a 16 GiB machine -- over_scratch = 1 when it does not fit).
#include <algorithm>
#include <map>
#include <memory>
#include <tuple>

#include "bench/bench_common.hpp"
#include "model/kho/machine.hpp"
#include "model/memblock/memblock.hpp"
#include "model/memblock/memblock_ref.hpp"

namespace khospec::bench {
namespace {

using namespace khospec::model;
using Ranges = std::vector<std::pair<phys_addr_t, phys_addr_t>>;

constexpr phys_addr_t kMapBase = phys_addr_t{4} << 30;
// Largest scattered N the quadratic kernel loop runs at (about 4 s per run).
constexpr std::int64_t kKernelScatteredMax = std::int64_t{1} << 16;

enum class Impl { kernel, model_loop, model_batch };
const char* impl_name(Impl i) {
  switch (i) {
    case Impl::kernel: return "kernel";
    case Impl::model_loop: return "model_loop";
    case Impl::model_batch: return "model_batch";
  }
  return "?";
}

// The first kernel's KHO scratch (sum of all areas) on a 16 GiB model machine
// with the default command line (scale 200 %): what the next kernel's
// reserved-array growth has to fit in.
std::uint64_t model_scratch_bytes() {
  static const std::uint64_t bytes = [] {
    Machine m(machine_with_ram(std::uint64_t{16} << 30));
    KernelConfig cfg;
    cfg.cmdline = "kho=on";
    Kernel& k = m.boot_cold(cfg);
    std::uint64_t total = 0;
    for (const auto& s : k.scratch()) total += s.size;
    return total;
  }();
  return bytes;
}

struct Fixture {
  unsigned order = 0;
  bool scattered = false;
  std::int64_t n = 0;
  Ranges blocks;
  std::unique_ptr<Memblock> proto;
  ref::RefType kproto;
  std::vector<MemblockRegion> golden;  // the batch result
  std::string error;
};

void kernel_loop(ref::RefType& t, const Ranges& blocks) {
  for (const auto& [b, s] : blocks) {
    ref::memblock_add_range(t, b, s, NUMA_NO_NODE, MEMBLOCK_NONE, true);  // memblock_reserve (v6.16)
    ref::memblock_setclr_flag(t, b, s, true, MEMBLOCK_RSRV_NOINIT);     // memblock_reserved_mark_noinit
  }
}
void model_loop(Memblock& m, const Ranges& blocks) {
  for (const auto& [b, s] : blocks) {
    m.memblock_reserve(b, s);
    m.memblock_reserved_mark_noinit(b, s);
  }
}

Fixture& fixture(unsigned order, bool scattered, std::int64_t n, Impl impl) {
  static std::unique_ptr<Fixture> cur;
  static Impl cur_impl = Impl::kernel;
  if (cur && cur->order == order && cur->scattered == scattered && cur->n == n && cur_impl == impl) return *cur;
  cur_impl = impl;
  cur.reset();
  cur = std::make_unique<Fixture>();
  Fixture& f = *cur;
  f.order = order;
  f.scattered = scattered;
  f.n = n;
  const phys_addr_t bs = phys_addr_t{4096} << order;
  for (std::int64_t i = 0; i < n; ++i)
    f.blocks.emplace_back(kMapBase + static_cast<phys_addr_t>(i) * bs * (scattered ? 2 : 1), bs);
  const std::uint64_t cap = pow2_at_least(2 * static_cast<std::uint64_t>(n) + 16);
  MemblockConfig cfg;
  cfg.self_check = false;
  cfg.init_reserved_regions = cap;
  f.proto = std::make_unique<Memblock>(cfg);
  Memblock& p = *f.proto;
  p.memblock_add(0, kMapBase + static_cast<phys_addr_t>(n) * bs * 2 + (phys_addr_t{1} << 30));
  p.memblock_reserve(0, 1 << 20);                   // x86 reserve_real_mode()
  p.memblock_reserve_kern(16 << 20, 32 << 20);      // the kernel image
  p.memblock_reserve(kMapBase - (64 << 20), 4096);  // the KHO FDT, just below the map
  f.kproto = ref::RefType(cap, cfg.max_numnodes);
  f.kproto.assign(p.reserved().regions);

  Memblock batch = p;
  batch.memblock_reserve_batch(f.blocks, true);
  f.golden = batch.reserved().regions;
  if (impl != Impl::kernel) {
    Memblock loop = p;
    model_loop(loop, f.blocks);
    if (loop.reserved().regions != f.golden)
      f.error = "model loop and batch reserved arrays differ (" + std::to_string(loop.reserved().cnt()) + " vs " +
                std::to_string(f.golden.size()) + " regions)";
  }
  if (f.error.empty() && impl == Impl::kernel) {
    ref::RefType k = f.kproto;
    kernel_loop(k, f.blocks);
    if (k.regions() != f.golden)
      f.error = "kernel loop and batch reserved arrays differ (" + std::to_string(k.cnt) + " vs " +
                std::to_string(f.golden.size()) + " regions)";
  }
  return f;
}

void BM_Deserialize(benchmark::State& state, Impl impl, unsigned order, bool scattered) {
  const std::int64_t n = state.range(0);
  Fixture& f = fixture(order, scattered, n, impl);
  if (!f.error.empty()) {
    fail(state, f.error);
    return;
  }
  std::uint64_t cnt = 0;
  for (auto _ : state) {
    if (impl == Impl::kernel) {
      ref::RefType k = f.kproto;
      kernel_loop(k, f.blocks);
      cnt = k.cnt;
    } else {
      Memblock m = *f.proto;
      if (impl == Impl::model_loop)
        model_loop(m, f.blocks);
      else
        m.memblock_reserve_batch(f.blocks, true);
      cnt = m.reserved().cnt();
    }
    benchmark::DoNotOptimize(cnt);
  }
  // The kernel's reserved array after doubling from 128 entries (isolate
  // keeps cnt + 2 <= max), allocated from scratch in a scratch-only boot.
  std::uint64_t max = 128;
  while (cnt + 2 > max) max *= 2;
  const double array_bytes = static_cast<double>((max * MEMBLOCK_REGION_BYTES + 4095) / 4096 * 4096);
  const double scratch = static_cast<double>(model_scratch_bytes());
  state.counters["blocks_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["map_bytes"] = static_cast<double>(n) * static_cast<double>(phys_addr_t{4096} << order) * (scattered ? 2 : 1);
  state.counters["reserved_regions"] = static_cast<double>(cnt);
  state.counters["array_bytes"] = array_bytes;
  state.counters["scratch_bytes"] = scratch;
  state.counters["over_scratch"] = array_bytes > scratch ? 1 : 0;
  state.SetComplexityN(n);
}

}  // namespace

void register_deserialize() {
  for (unsigned order : {0u, 9u}) {
    for (bool scattered : {false, true}) {
      for (Impl impl : {Impl::kernel, Impl::model_loop, Impl::model_batch}) {
        const std::string name = "BM_Kho_Deserialize/order:" + std::to_string(order) +
                                 (scattered ? "/layout:scattered" : "/layout:contiguous") + "/impl:" + impl_name(impl);
        auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_Deserialize, impl, order, scattered);
        b->ArgName("blocks")->Unit(benchmark::kMillisecond);
        // Order 0: 4 MiB .. 16 GiB of blocks; order 9: 1 GiB .. 1 TiB.
        std::int64_t lo = order == 0 ? 1 << 10 : 1 << 9;
        std::int64_t hi = order == 0 ? std::int64_t{1} << 22 : std::int64_t{1} << 19;
        if (impl == Impl::kernel && scattered) hi = std::min(hi, kKernelScatteredMax);
        if (impl == Impl::kernel && scattered)
          b->Complexity(benchmark::oNSquared);
        else if (impl == Impl::kernel)
          b->Complexity(benchmark::oN);
        else
          b->Complexity(benchmark::oNLogN);
        apply_sizes(b, sizes(lo, hi, 4), 0.05);
      }
    }
  }
}

}  // namespace khospec::bench
