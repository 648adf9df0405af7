// khospec_bench: Google Benchmark suite of the memory-map paths (see
// bench/README.md and docs/bench.md). Each pair -- the kernel's algorithm and
// the model's -- checks that both produce the same result before timing;
// a mismatch is SkipWithError and makes the process exit 1.
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "bench/bench_common.hpp"

namespace khospec::bench {

namespace {
std::atomic<int> g_failures{0};
}

bool smoke() {
  static const bool on = [] {
    const char* e = std::getenv("KHOSPEC_BENCH_SMOKE");
    return e && *e && std::strcmp(e, "0") != 0;
  }();
  return on;
}

void fail(benchmark::State& state, const std::string& why) {
  ++g_failures;
  std::cerr << "khospec_bench: " << why << std::endl;
  state.SkipWithError(why.c_str());
}

int failures() { return g_failures.load(); }

std::vector<std::int64_t> sizes(std::int64_t lo, std::int64_t hi, std::int64_t mult) {
  std::vector<std::int64_t> out;
  for (std::int64_t n = lo; n <= hi; n *= mult) {
    out.push_back(n);
    if (smoke()) break;
  }
  return out;
}

void apply_timing(benchmark::internal::Benchmark* b, double min_time) {
  if (smoke())
    b->Iterations(1);
  else
    b->MinTime(min_time);
}

void apply_sizes(benchmark::internal::Benchmark* b, const std::vector<std::int64_t>& ns, double min_time) {
  for (auto n : ns) b->Arg(n);
  apply_timing(b, min_time);
}

}  // namespace khospec::bench

int main(int argc, char** argv) {
  using namespace khospec::bench;
  register_memblock();
  register_deserialize();
  register_memtrack();
  register_validate();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (failures()) {
    std::cerr << "khospec_bench: " << failures() << " benchmark(s) failed their equality check or setup\n";
    return 1;
  }
  return 0;
}
