// Validation cost: libfdt's fdt_check_full() alone against khospec's full
// validation of the same blob (conformance::validate(): container checks --
// which include fdt_check_full --, typed decoding, ABI detection, schema and
// cross-reference checks), a batch of 10,000 dumps, and the end-to-end
// `khospec validate FILE` process.
//
// validate() reaches its verdict and every diagnostic on the in-place decode
// (fdt::FlatTree: views into the checked blob); the owning fdt::Tree is only
// built when a consumer calls Validation::tree() (`khospec dump`, JSON tree
// output). BM_Validate_Schema therefore times everything validate() does --
// container checks, decode, ABI detection, schema and cross-reference rules,
// the Report -- but not a tree nobody asks for (BM_Cli_Validate runs the CLI,
// which does not ask for it either for `validate`).
//
// The blobs are the KHO root FDTs the model's kernels write just before
// kexec in every era (model/kho), so they are real hand-overs with
// sub-blobs (reserve_mem, test_kho). Before timing, fdt_check_full() must
// accept each blob and validate() must report no error; the CLI must exit
// with the same status as the in-process validation.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

extern "C" {
#include <libfdt.h>
}

#include "bench/bench_common.hpp"
#include "conformance/validate/validate.hpp"
#include "model/kho/machine.hpp"

extern char** environ;

namespace khospec::bench {
namespace {

using namespace khospec::model;
using khospec::registry::EraId;
namespace cf = khospec::conformance;

struct Blob {
  std::string era;
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint64_t> aligned;  // 8-byte aligned copy for libfdt
  std::string path;                    // written for the CLI
  std::string error;
};

Blob make_blob(EraId era) {
  Blob b;
  b.era = std::string(era_name(era));
  Machine m(machine_with_ram(std::uint64_t{4} << 30));
  KernelConfig c;
  c.era = era;
  c.cmdline = "kho=on reserve_mem=4M:4096:trace reserve_mem=12K:4096:small";
  c.test_kho = true;
  Kernel& k = m.boot_cold(c);
  if (k.era().finalize == FinalizeModel::notifier_abort && k.out_state() != OutState::finalized)
    k.debugfs_finalize_write(1);
  if (k.era().finalize == FinalizeModel::refresh) k.kho_finalize();
  b.bytes = k.debugfs_out_fdt();
  if (b.bytes.empty()) {
    b.error = "the model wrote no FDT for " + b.era;
    return b;
  }
  b.aligned.assign(b.bytes.size() / 8 + 1, 0);
  std::memcpy(b.aligned.data(), b.bytes.data(), b.bytes.size());
  return b;
}

const std::vector<Blob>& blobs() {
  static const std::vector<Blob> all = [] {
    std::vector<Blob> v;
    for (EraId e : khospec::registry::era_ids()) v.push_back(make_blob(e));
    const auto dir = std::filesystem::temp_directory_path() / ("khospec-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    // Removed at exit (static destruction).
    static const struct Cleanup {
      std::filesystem::path p;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove_all(p, ec);
      }
    } cleanup{dir};
    for (auto& b : v) {
      b.path = (dir / (b.era + ".fdt")).string();
      std::ofstream(b.path, std::ios::binary).write(reinterpret_cast<const char*>(b.bytes.data()),
                                                    static_cast<std::streamsize>(b.bytes.size()));
    }
    return v;
  }();
  return all;
}

int check_full(const Blob& b) { return fdt_check_full(b.aligned.data(), b.bytes.size()); }

std::size_t validate_errors(const Blob& b, int* exit_code = nullptr) {
  Report report;
  cf::ValidateOptions o;
  o.read.file = b.era;
  const cf::Validation v = cf::validate(b.bytes, nullptr, o, report);
  benchmark::DoNotOptimize(v.abi.size());
  if (exit_code) *exit_code = report.exit_code();
  return report.count(Level::error);
}

// Equality before timing: both accept the blob.
bool check(benchmark::State& state, const Blob& b) {
  if (!b.error.empty()) {
    fail(state, b.error);
    return false;
  }
  if (int r = check_full(b)) {
    fail(state, b.era + ": fdt_check_full() = " + std::to_string(r));
    return false;
  }
  if (std::size_t e = validate_errors(b)) {
    fail(state, b.era + ": validate() reports " + std::to_string(e) + " error(s) on the model's own FDT");
    return false;
  }
  return true;
}

// The ratio itself, measured paired: each iteration times a batch of
// fdt_check_full() calls and then a batch of validate() calls on the same blob,
// so both sides see the same machine (on a shared host the speed of a core
// drifts over seconds, which two separately timed benchmarks do not share).
// Counters: the per-call cost of each side and validate / check_full.
void BM_Paired(benchmark::State& state, std::size_t i) {
  const Blob& b = blobs()[i];
  if (!check(state, b)) return;
  constexpr int kBatch = 32;
  double cf_secs = 0, va_secs = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < kBatch; ++k) {
      const int r = check_full(b);
      benchmark::DoNotOptimize(r);
    }
    const auto t1 = std::chrono::steady_clock::now();
    for (int k = 0; k < kBatch; ++k) {
      const std::size_t e = validate_errors(b);
      benchmark::DoNotOptimize(e);
    }
    const auto t2 = std::chrono::steady_clock::now();
    cf_secs += std::chrono::duration<double>(t1 - t0).count();
    va_secs += std::chrono::duration<double>(t2 - t1).count();
    state.SetIterationTime(std::chrono::duration<double>(t2 - t0).count());
  }
  const double calls = static_cast<double>(state.iterations()) * kBatch;
  state.counters["check_full_ns"] = cf_secs * 1e9 / calls;
  state.counters["validate_ns"] = va_secs * 1e9 / calls;
  state.counters["validate_over_check_full"] = cf_secs > 0 ? va_secs / cf_secs : 0;
  state.counters["blob_bytes"] = static_cast<double>(b.bytes.size());
}

void BM_CheckFull(benchmark::State& state, std::size_t i) {
  const Blob& b = blobs()[i];
  if (!check(state, b)) return;
  for (auto _ : state) {
    const int r = check_full(b);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(b.bytes.size()));
  state.counters["blob_bytes"] = static_cast<double>(b.bytes.size());
}

void BM_Schema(benchmark::State& state, std::size_t i) {
  const Blob& b = blobs()[i];
  if (!check(state, b)) return;
  for (auto _ : state) {
    const std::size_t errors = validate_errors(b);
    benchmark::DoNotOptimize(errors);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(b.bytes.size()));
  state.counters["blob_bytes"] = static_cast<double>(b.bytes.size());
}

// 10,000 dumps (the era blobs in turn) per iteration.
void BM_Batch(benchmark::State& state) {
  const auto& all = blobs();
  for (const auto& b : all)
    if (!check(state, b)) return;
  const std::int64_t dumps = state.range(0);
  std::int64_t bytes = 0;
  for (auto _ : state) {
    std::size_t errors = 0;
    for (std::int64_t d = 0; d < dumps; ++d) {
      const Blob& b = all[static_cast<std::size_t>(d) % all.size()];
      errors += validate_errors(b);
      bytes += static_cast<std::int64_t>(b.bytes.size());
    }
    benchmark::DoNotOptimize(errors);
  }
  state.SetBytesProcessed(bytes);
  state.counters["dumps_per_s"] = benchmark::Counter(static_cast<double>(dumps), benchmark::Counter::kIsIterationInvariantRate);
}

int run_cli(const std::string& path) {
  const std::string exe = KHOSPEC_CLI_PATH;
  std::string a0 = exe, a1 = "validate", a2 = path;
  char* argv[] = {a0.data(), a1.data(), a2.data(), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// End-to-end: process start, read, validate, render, exit (wall time).
void BM_Cli(benchmark::State& state, std::size_t i) {
  const Blob& b = blobs()[i];
  if (!check(state, b)) return;
  int want = 0;
  validate_errors(b, &want);
  if (const int got = run_cli(b.path); got != want) {
    fail(state, std::string("khospec validate ") + b.path + " exited " + std::to_string(got) + ", expected " +
                    std::to_string(want) + " (" KHOSPEC_CLI_PATH ")");
    return;
  }
  for (auto _ : state) {
    const int r = run_cli(b.path);
    benchmark::DoNotOptimize(r);
  }
}

}  // namespace

void register_validate() {
  for (std::size_t i = 0; i < khospec::registry::era_ids().size(); ++i) {
    const std::string era(khospec::registry::era_name(khospec::registry::era_ids()[i]));
    auto* c = benchmark::RegisterBenchmark(("BM_Fdt_CheckFull/era:" + era).c_str(), BM_CheckFull, i);
    auto* s = benchmark::RegisterBenchmark(("BM_Validate_Schema/era:" + era).c_str(), BM_Schema, i);
    auto* e = benchmark::RegisterBenchmark(("BM_Cli_Validate/era:" + era).c_str(), BM_Cli, i);
    c->Unit(benchmark::kMicrosecond);
    s->Unit(benchmark::kMicrosecond);
    e->Unit(benchmark::kMillisecond)->UseRealTime();
    apply_timing(c, 0.05);
    apply_timing(s, 0.05);
    auto* pr = benchmark::RegisterBenchmark(("BM_Validate_Paired/era:" + era).c_str(), BM_Paired, i);
    pr->UseManualTime()->Unit(benchmark::kMicrosecond);
    apply_timing(pr, 0.3);
    apply_timing(e, 0.1);
  }
  auto* b = benchmark::RegisterBenchmark("BM_Validate_Batch", BM_Batch);
  b->ArgName("dumps")->Arg(smoke() ? 100 : 10000)->Unit(benchmark::kMillisecond);
  apply_timing(b, 0.05);
}

}  // namespace khospec::bench
