// Preserved-set tracking (model/kho/mem_track): preserve N blocks, serialize
// (kho-v1 bitmap formats), and walk the map back (kho_mem_deserialize(), what
// the next kernel does before reserving), in the three formats:
//   bitmap512   -- 6.16 xarray of 512-byte bitmaps + khoser_mem_chunk list;
//   bitmap_page -- 6.18/6.19 xarray of page bitmaps + chunk list;
//   radix       -- kho-v2+ stateless radix tree (no serialization step).
// Blocks are 4 KiB (order 0) or 2 MiB (order 9) and physically contiguous
// (dense bitmaps), up to 64 GiB at order 0 and 1 TiB at order 9.
//
// Two walks of the same map:
//   model      -- kho_mem_deserialize(): one (phys, order) per block;
//   model_runs -- kho_mem_walk(): maximal runs (phys, order, count), what a
//                 batch reserve consumes; the visitor only sums them.
// They are compared, in the same run, with a plain scan of the same number of
// bitmap bytes held in ordinary memory:
//   plain_popcount  -- popcount over the bytes (the memory-bandwidth limit
//                      named by the benchmarks issue; the target for model_runs);
//   plain_enumerate -- for_each_set_bit over the bytes writing (phys, order)
//                      to a vector (the limit for a walk that lists blocks).
// Equality before timing: the walk returns exactly the preserved set, the runs
// expand to exactly that set, and the plain scans count the same blocks.
//
// BM_KhoTrack_WalkScattered: the same pairs on sparse maps, one block every
// 64 pages (order 0: one bit per bitmap word) or every 20 MiB (about one
// block per 512-byte bitmap at order 0), where the walk is bound by runs and
// bitmap headers rather than by words. The plain scans there cover the bits
// of the whole spanned range (what a flat bitmap of that memory would hold).
#include <algorithm>
#include <bit>
#include <memory>

#include "bench/bench_common.hpp"
#include "model/kho/mem_track.hpp"
#include "model/kho/phys_image.hpp"

namespace khospec::bench {
namespace {

using namespace khospec::model;

constexpr phys_addr_t kDataBase = phys_addr_t{1} << 36;  // preserved blocks from 64 GiB up
constexpr phys_addr_t kMetaBase = phys_addr_t{1} << 46;  // tracker metadata far above

// A bump allocator: never reuses memory, so untouched pages read as zero.
class BumpAllocator : public PageAllocator {
 public:
  phys_addr_t alloc(std::uint64_t bytes, std::uint64_t align) override {
    next_ = (next_ + align - 1) & ~(align - 1);
    const phys_addr_t a = next_;
    next_ += bytes;
    return a;
  }
  void free(phys_addr_t, std::uint64_t) override {}

 private:
  phys_addr_t next_ = kMetaBase;
};

const char* fmt_name(MemMapFormat f) {
  switch (f) {
    case MemMapFormat::bitmap512: return "bitmap512";
    case MemMapFormat::bitmap_page: return "bitmap_page";
    case MemMapFormat::radix: return "radix";
  }
  return "?";
}

struct Tracked {
  PhysImage image;
  BumpAllocator alloc;
  std::unique_ptr<MemTrack> track;
  phys_addr_t map = 0;
};

// n blocks of 2^order pages, `stride` blocks apart (1: contiguous).
int preserve_all(Tracked& t, MemMapFormat fmt, unsigned order, std::int64_t n, std::uint64_t stride = 1) {
  t.track = std::make_unique<MemTrack>(fmt, t.image, t.alloc);
  const std::uint64_t pfn0 = kDataBase >> 12;
  for (std::int64_t i = 0; i < n; ++i)
    if (int r = t.track->preserve_order(pfn0 + ((static_cast<std::uint64_t>(i) * stride) << order), order)) return r;
  return 0;
}

// One prepared map at a time (order 0 at 2^24 blocks holds 2 MiB of bitmaps
// plus a 256 MiB decoded list).
struct WalkFixture {
  MemMapFormat fmt{};
  unsigned order = 0;
  std::int64_t n = 0;
  std::uint64_t stride = 1;
  Tracked t;
  std::vector<PreservedBlock> want;  // the preserved set, sorted
  std::string error;
};

WalkFixture& walk_fixture(MemMapFormat fmt, unsigned order, std::int64_t n, std::uint64_t stride) {
  static std::unique_ptr<WalkFixture> cur;
  if (cur && cur->fmt == fmt && cur->order == order && cur->n == n && cur->stride == stride) return *cur;
  cur.reset();
  cur = std::make_unique<WalkFixture>();
  WalkFixture& f = *cur;
  f.fmt = fmt;
  f.order = order;
  f.n = n;
  f.stride = stride;
  if (preserve_all(f.t, fmt, order, n, stride)) {
    f.error = "preserve failed";
    return f;
  }
  if (fmt == MemMapFormat::radix) {
    f.t.map = f.t.track->radix_root();
  } else {
    auto head = f.t.track->serialize();
    if (!head) {
      f.error = "serialize failed";
      return f;
    }
    f.t.map = *head;
  }
  std::vector<DecodeIssue> issues;
  auto got = kho_mem_deserialize(f.t.image, fmt, f.t.map, &issues);
  std::sort(got.begin(), got.end());
  f.want = f.t.track->blocks();
  std::sort(f.want.begin(), f.want.end());
  if (!issues.empty() || got != f.want || static_cast<std::int64_t>(got.size()) != n)
    f.error = std::string("walk of the ") + fmt_name(fmt) + " map does not return the preserved set (" +
              std::to_string(got.size()) + " of " + std::to_string(n) + " blocks, " + std::to_string(issues.size()) +
              " issues)";
  return f;
}

// The runs must expand to exactly the preserved set (and be maximal for a
// contiguous set: one run per order).
std::string check_runs(const WalkFixture& f) {
  std::vector<DecodeIssue> issues;
  const auto runs = kho_mem_runs(f.t.image, f.fmt, f.t.map, &issues);
  auto got = kho_expand_runs(runs);
  std::sort(got.begin(), got.end());
  if (!issues.empty() || got != f.want)
    return std::string("runs of the ") + fmt_name(f.fmt) + " map do not expand to the preserved set (" +
           std::to_string(got.size()) + " of " + std::to_string(f.n) + " blocks, " + std::to_string(issues.size()) +
           " issues)";
  if (f.stride == 1 && runs.size() != 1) return "a contiguous set walks as " + std::to_string(runs.size()) + " runs";
  return {};
}

// The limit must be the hardware's: the default x86-64 target compiles
// std::popcount to a libgcc call per word, several times slower than POPCNT,
// which would flatter every walk measured against it. Use POPCNT whenever the
// CPU has it (every x86-64 server since 2008), the portable loop otherwise.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("popcnt"))) std::uint64_t popcount_scan_popcnt(const std::uint64_t* w, std::size_t n) {
  std::uint64_t c0 = 0, c1 = 0;  // two accumulators: the adds are not the bottleneck
  std::size_t i = 0;
  for (; i + 1 < n; i += 2) {
    c0 += static_cast<std::uint64_t>(__builtin_popcountll(w[i]));
    c1 += static_cast<std::uint64_t>(__builtin_popcountll(w[i + 1]));
  }
  if (i < n) c0 += static_cast<std::uint64_t>(__builtin_popcountll(w[i]));
  return c0 + c1;
}
#endif

bool popcount_is_hardware() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("popcnt");
#else
  return false;
#endif
}

std::uint64_t popcount_scan(const std::vector<std::uint64_t>& words) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (popcount_is_hardware()) return popcount_scan_popcnt(words.data(), words.size());
#endif
  std::uint64_t c = 0;
  for (std::uint64_t w : words) c += static_cast<std::uint64_t>(std::popcount(w));
  return c;
}

// ceil(n * stride / 64) words holding n set bits, `stride` bits apart.
std::vector<std::uint64_t> plain_words(std::int64_t n, std::uint64_t stride) {
  const std::uint64_t bits = static_cast<std::uint64_t>(n) * stride;
  std::vector<std::uint64_t> words(static_cast<std::size_t>((bits + 63) / 64), 0);
  if (stride == 1) {
    std::fill(words.begin(), words.end(), ~std::uint64_t{0});
    if (bits % 64) words.back() = (std::uint64_t{1} << (bits % 64)) - 1;
    return words;
  }
  for (std::uint64_t b = 0; b < bits; b += stride) words[b / 64] |= std::uint64_t{1} << (b % 64);
  return words;
}

std::vector<PreservedBlock> enumerate_scan(const std::vector<std::uint64_t>& words, unsigned order) {
  std::vector<PreservedBlock> out;
  const unsigned shift = order + 12;
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::uint64_t w = words[i];
    while (w) {
      const auto bit = static_cast<std::uint64_t>(std::countr_zero(w));
      out.push_back({kDataBase + ((i * 64 + bit) << shift), order});
      w &= w - 1;
    }
  }
  return out;
}

// Bytes processed = the bitmap bytes of n blocks `stride` apart, ceil(n * stride / 64) words.
void walk_counters(benchmark::State& state, std::int64_t n, std::uint64_t stride = 1) {
  const auto bitmap_bytes = static_cast<std::int64_t>((static_cast<std::uint64_t>(n) * stride + 63) / 64 * 8);
  state.SetBytesProcessed(state.iterations() * bitmap_bytes);
  state.counters["blocks_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bitmap_bytes"] = static_cast<double>(bitmap_bytes);
  state.SetComplexityN(n);
}

void BM_Walk(benchmark::State& state, MemMapFormat fmt, unsigned order, std::uint64_t stride) {
  const std::int64_t n = state.range(0);
  WalkFixture& f = walk_fixture(fmt, order, n, stride);
  if (!f.error.empty()) {
    fail(state, f.error);
    return;
  }
  for (auto _ : state) {
    auto blocks = kho_mem_deserialize(f.t.image, fmt, f.t.map, nullptr);
    benchmark::DoNotOptimize(blocks.data());
  }
  walk_counters(state, n, stride);
}

// kho_mem_walk(): the visitor sums the runs (a batch reserve would take each).
void BM_WalkRuns(benchmark::State& state, MemMapFormat fmt, unsigned order, std::uint64_t stride) {
  const std::int64_t n = state.range(0);
  WalkFixture& f = walk_fixture(fmt, order, n, stride);
  std::string error = f.error.empty() ? check_runs(f) : f.error;
  if (!error.empty()) {
    fail(state, error);
    return;
  }
  std::uint64_t runs = 0;
  for (auto _ : state) {
    std::uint64_t blocks = 0;
    runs = 0;
    kho_mem_walk(
        f.t.image, fmt, f.t.map,
        [&](const PreservedRun& r) {
          blocks += r.count;
          ++runs;
        },
        nullptr);
    benchmark::DoNotOptimize(blocks);
    benchmark::DoNotOptimize(runs);
  }
  walk_counters(state, n, stride);
  state.counters["runs"] = static_cast<double>(runs);
}

// The plain scans over ceil(n * stride / 64) words holding exactly n set bits.
void BM_PlainScan(benchmark::State& state, unsigned order, bool enumerate, std::uint64_t stride) {
  const std::int64_t n = state.range(0);
  const std::vector<std::uint64_t> words = plain_words(n, stride);
  if (popcount_scan(words) != static_cast<std::uint64_t>(n) ||
      enumerate_scan(words, order).size() != static_cast<std::size_t>(n)) {
    fail(state, "plain scan does not count the preserved blocks");
    return;
  }
  for (auto _ : state) {
    if (enumerate) {
      auto blocks = enumerate_scan(words, order);
      benchmark::DoNotOptimize(blocks.data());
    } else {
      const std::uint64_t count = popcount_scan(words);
      benchmark::DoNotOptimize(count);
    }
  }
  walk_counters(state, n, stride);
  if (!enumerate) state.counters["hw_popcnt"] = popcount_is_hardware() ? 1 : 0;
}

void BM_Preserve(benchmark::State& state, MemMapFormat fmt, unsigned order) {
  const std::int64_t n = state.range(0);
  std::uint64_t metadata = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto t = std::make_unique<Tracked>();
    state.ResumeTiming();
    if (preserve_all(*t, fmt, order, n)) {
      fail(state, "preserve failed");
      return;
    }
    state.PauseTiming();
    if (metadata == 0) {
      for (const auto& [a, len] : t->track->metadata()) metadata += len;
      if (t->track->blocks().size() != static_cast<std::size_t>(n)) {
        fail(state, "tracker does not hold the preserved set");
        return;
      }
    }
    t.reset();
    state.ResumeTiming();
  }
  state.counters["blocks_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["metadata_bytes"] = static_cast<double>(metadata);
  state.SetComplexityN(n);
}

void BM_Serialize(benchmark::State& state, MemMapFormat fmt, unsigned order) {
  const std::int64_t n = state.range(0);
  Tracked t;
  if (preserve_all(t, fmt, order, n)) {
    fail(state, "preserve failed");
    return;
  }
  for (auto _ : state) {
    auto head = t.track->serialize();
    if (!head) {
      fail(state, "serialize failed");
      return;
    }
    benchmark::DoNotOptimize(*head);
    state.PauseTiming();
    t.track->free_serialized();
    state.ResumeTiming();
  }
  state.counters["blocks_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  state.SetComplexityN(n);
}

}  // namespace

void register_memtrack() {
  for (unsigned order : {0u, 9u}) {
    // Order 0: 16 MiB .. 64 GiB; order 9: 1 GiB .. 1 TiB.
    const auto ns = order == 0 ? sizes(1 << 12, std::int64_t{1} << 24, 16) : sizes(1 << 9, 1 << 19, 4);
    const std::string o = "/order:" + std::to_string(order);
    for (MemMapFormat fmt : {MemMapFormat::bitmap512, MemMapFormat::bitmap_page, MemMapFormat::radix}) {
      const std::string f = std::string("/format:") + fmt_name(fmt);
      auto* p = benchmark::RegisterBenchmark(("BM_KhoTrack_Preserve" + f + o).c_str(), BM_Preserve, fmt, order);
      p->ArgName("blocks")->Unit(benchmark::kMillisecond)->Complexity(benchmark::oN);
      apply_sizes(p, ns, 0.05);
      if (fmt != MemMapFormat::radix) {
        auto* s = benchmark::RegisterBenchmark(("BM_KhoTrack_Serialize" + f + o).c_str(), BM_Serialize, fmt, order);
        s->ArgName("blocks")->Unit(benchmark::kMicrosecond)->Complexity(benchmark::oN);
        apply_sizes(s, ns, 0.05);
      }
      auto* w = benchmark::RegisterBenchmark(("BM_KhoTrack_Walk" + f + o + "/impl:model").c_str(), BM_Walk, fmt,
                                             order, std::uint64_t{1});
      w->ArgName("blocks")->Unit(benchmark::kMicrosecond)->Complexity(benchmark::oN);
      apply_sizes(w, ns, 0.05);
      auto* r = benchmark::RegisterBenchmark(("BM_KhoTrack_Walk" + f + o + "/impl:model_runs").c_str(), BM_WalkRuns,
                                             fmt, order, std::uint64_t{1});
      r->ArgName("blocks")->Unit(benchmark::kMicrosecond)->Complexity(benchmark::oN);
      apply_sizes(r, ns, 0.05);
    }
    for (bool enumerate : {false, true}) {
      auto* w = benchmark::RegisterBenchmark(
          ("BM_KhoTrack_Walk/format:plain" + o + (enumerate ? "/impl:plain_enumerate" : "/impl:plain_popcount")).c_str(),
          BM_PlainScan, order, enumerate, std::uint64_t{1});
      w->ArgName("blocks")->Unit(benchmark::kMicrosecond)->Complexity(benchmark::oN);
      apply_sizes(w, ns, 0.05);
    }
  }

  // Scattered maps (own family, so the contiguous rows keep their names):
  // every 64 pages at order 0 (up to 2^20 blocks, 8 MiB of bitmap words) and
  // every 20 MiB at orders 0 and 9 (up to 2^16 blocks, 1.25 TiB spanned).
  struct Layout {
    const char* name;
    unsigned order;
    std::uint64_t stride;  // in blocks
    std::int64_t max_n;
  };
  for (const Layout& l : {Layout{"every_64_pages", 0, 64, std::int64_t{1} << 20},
                          Layout{"every_20_MiB", 0, 5120, std::int64_t{1} << 16},
                          Layout{"every_20_MiB", 9, 10, std::int64_t{1} << 16}}) {
    const auto ns = sizes(1 << 8, l.max_n, 16);
    const std::string ol = "/order:" + std::to_string(l.order) + "/layout:" + l.name;
    for (MemMapFormat fmt : {MemMapFormat::bitmap512, MemMapFormat::bitmap_page, MemMapFormat::radix}) {
      const std::string f = std::string("/format:") + fmt_name(fmt);
      auto* w = benchmark::RegisterBenchmark(("BM_KhoTrack_WalkScattered" + f + ol + "/impl:model").c_str(), BM_Walk,
                                             fmt, l.order, l.stride);
      w->ArgName("blocks")->Unit(benchmark::kMicrosecond)->Complexity(benchmark::oN);
      apply_sizes(w, ns, 0.05);
      auto* r = benchmark::RegisterBenchmark(("BM_KhoTrack_WalkScattered" + f + ol + "/impl:model_runs").c_str(),
                                             BM_WalkRuns, fmt, l.order, l.stride);
      r->ArgName("blocks")->Unit(benchmark::kMicrosecond)->Complexity(benchmark::oN);
      apply_sizes(r, ns, 0.05);
    }
    for (bool enumerate : {false, true}) {
      auto* w = benchmark::RegisterBenchmark(("BM_KhoTrack_WalkScattered/format:plain" + ol +
                                              (enumerate ? "/impl:plain_enumerate" : "/impl:plain_popcount"))
                                                 .c_str(),
                                             BM_PlainScan, l.order, enumerate, l.stride);
      w->ArgName("blocks")->Unit(benchmark::kMicrosecond)->Complexity(benchmark::oN);
      apply_sizes(w, ns, 0.05);
    }
  }
}

}  // namespace khospec::bench
