// Shared plumbing of khospec_bench: smoke mode, error accounting, helpers.
//
// Smoke mode (KHOSPEC_BENCH_SMOKE=1, the ctest case `bench/smoke`) registers
// every benchmark with its smallest size only and one iteration, so CI builds
// and runs each benchmark once -- including the equality checks in setup --
// and never looks at timings.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace khospec::bench {

bool smoke();
// SkipWithError plus a process-wide count: main() exits nonzero when any
// benchmark failed its setup or equality check.
void fail(benchmark::State& state, const std::string& why);
int failures();

// Sizes lo, lo*mult, ... <= hi; in smoke mode only {lo}.
std::vector<std::int64_t> sizes(std::int64_t lo, std::int64_t hi, std::int64_t mult);
// Applies one Arg per size and the iteration policy: MinTime(min_time), or
// one iteration in smoke mode.
void apply_sizes(benchmark::internal::Benchmark* b, const std::vector<std::int64_t>& ns, double min_time);
void apply_timing(benchmark::internal::Benchmark* b, double min_time);

// Smallest 128 * 2^k >= x: a memblock array capacity (INIT_MEMBLOCK_*_REGIONS
// doubled), used to pre-size arrays so that no side doubles while timed.
inline std::uint64_t pow2_at_least(std::uint64_t x) {
  std::uint64_t p = 128;
  while (p < x) p *= 2;
  return p;
}

// Registration functions of each file (called by main before Initialize).
void register_memblock();
void register_deserialize();
void register_memtrack();
void register_validate();

}  // namespace khospec::bench
