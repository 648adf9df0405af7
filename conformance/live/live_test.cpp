// The --live adapters, on fake directory trees (one per kernel era).
#include "conformance/live/live.hpp"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "conformance/live/kcore.hpp"
#include "conformance/live/kcore_test_util.hpp"

#include "fdt/test_util.hpp"

namespace khospec::conformance {
namespace {

using namespace khospec::conformance::test;

namespace fs = std::filesystem;

struct FakeRoot {
  fs::path dir;
  explicit FakeRoot(const std::string& name) {
    dir = fs::temp_directory_path() / ("khospec-live-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~FakeRoot() { fs::remove_all(dir); }
  void file(const std::string& rel, const std::vector<std::uint8_t>& bytes) {
    fs::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  void text(const std::string& rel, const std::string& t) { file(rel, std::vector<std::uint8_t>(t.begin(), t.end())); }
};

TEST(Live, DebugfsOutWithSubFdtsAndScratch) {
  FakeRoot root("debugfs");
  root.file("sys/kernel/debug/kho/out/fdt", fdt::test::docs_root());
  root.file("sys/kernel/debug/kho/out/sub_fdts/memblock", fdt::test::docs_root());
  root.text("sys/kernel/debug/kho/out/sub_fdts/kexec-metadata", "\x01\x00\x00\x00" "7.3.4");  // not an FDT: skipped
  root.text("sys/kernel/debug/kho/out/scratch_phys", "0x76400000\n0x7f400000\n0x62000000\n");
  root.text("sys/kernel/debug/kho/out/scratch_len", "0x6c00000\n0x0\n0x14400000\n");
  LiveSource src;
  Report r;
  std::string err;
  ASSERT_TRUE(read_live(root.dir.string(), "out", 1 << 20, src, r, err)) << err;
  EXPECT_EQ(src.era, "debugfs");
  ASSERT_EQ(src.blobs.size(), 2u);
  EXPECT_EQ(src.blobs[0].name, "debugfs:kho/out/fdt");
  EXPECT_TRUE(src.blobs[0].root);
  EXPECT_EQ(src.blobs[1].name, "debugfs:kho/out/sub_fdts/memblock");
  ASSERT_TRUE(src.scratch);
  ASSERT_EQ(src.scratch->size(), 3u);
  EXPECT_EQ((*src.scratch)[1].size, 0u);  // the real zero-size global area
  EXPECT_EQ(src.scratch_files.first, "scratch_phys");
  EXPECT_TRUE(r.has("kho_live_source"));
  EXPECT_EQ(r.count(Level::error), 0u);
}

// 7.4-rc1 ("Rename 'KHO scratch' to 'KHO boot memory'") names the scratch
// files out/bootmem_phys and out/bootmem_len (kexec_handover_debugfs.c).
TEST(Live, SevenFourBootMemoryFiles) {
  FakeRoot root("bootmem");
  root.file("sys/kernel/debug/kho/out/fdt", fdt::test::docs_root());
  root.text("sys/kernel/debug/kho/out/bootmem_phys", "0x76400000\n0x62000000\n");
  root.text("sys/kernel/debug/kho/out/bootmem_len", "0x6c00000\n0x14400000\n");
  LiveSource src;
  Report r;
  std::string err;
  ASSERT_TRUE(read_live(root.dir.string(), "out", 1 << 20, src, r, err)) << err;
  ASSERT_TRUE(src.scratch);
  ASSERT_EQ(src.scratch->size(), 2u);
  EXPECT_EQ((*src.scratch)[1].addr, 0x62000000u);
  EXPECT_EQ(src.scratch_files.first, "bootmem_phys");
  EXPECT_EQ(src.scratch_files.second, "bootmem_len");
  // A tree with neither name has no scratch.
  FakeRoot none("noscratch");
  none.file("sys/kernel/debug/kho/out/fdt", fdt::test::docs_root());
  LiveSource s2;
  ASSERT_TRUE(read_live(none.dir.string(), "out", 1 << 20, s2, r, err)) << err;
  EXPECT_FALSE(s2.scratch);
}

// The same root with another compatible ("kho-v1" -> "kho-v9"): a second root.
std::vector<std::uint8_t> other_root(std::vector<std::uint8_t> b) {
  const std::string from = "kho-v1";
  auto it = std::search(b.begin(), b.end(), from.begin(), from.end());
  EXPECT_NE(it, b.end());
  if (it != b.end()) it[5] = '9';
  return b;
}

std::vector<std::uint8_t> prefix(const std::vector<std::uint8_t>& b, std::size_t n) { return {b.begin(), b.begin() + n}; }

TEST(LiveKcore, TruncatedDebugfsRootIsReadFromMemoryThroughKhoOut) {
  // 7.3: debugfs out/fdt keeps the root's size at kho_init() (kho_debugfs_fdt_add()).
  const auto fdt = fdt::test::docs_root();
  FakeRoot root("kcore-trunc");
  root.file("sys/kernel/debug/kho/out/fdt", prefix(fdt, 0x40));
  root.file("proc/kcore", machine({{0x1f5000, fdt}}, 0x1f5000));
  root.text("proc/kallsyms", kallsyms());
  LiveSource src;
  Report r;
  std::string err;
  ASSERT_TRUE(read_live(root.dir.string(), "out", 1 << 20, src, r, err)) << err;
  ASSERT_EQ(src.blobs.size(), 1u);
  EXPECT_TRUE(src.blobs[0].root);
  EXPECT_EQ(src.blobs[0].bytes, fdt);
  EXPECT_EQ(src.blobs[0].name, "kcore:debugfs:kho/out/fdt@0x1f5000");
  ASSERT_TRUE(src.fdt_phys);
  EXPECT_EQ(*src.fdt_phys, 0x1f5000u);
  ASSERT_TRUE(src.memory);
  EXPECT_TRUE(r.has("kho_live_debugfs_truncated"));
  EXPECT_EQ(r.count(Level::error), 0u);
  EXPECT_EQ(r.count(Level::warning), 0u);
}

TEST(LiveKcore, KhoBootedKernelRootComesFromMemoryNotTheIncomingOne) {
  // 7.3 kho_init() adds no out/fdt on a KHO-booted kernel; the incoming root is
  // still in memory (preserved), so a scan must not take it for the outgoing one.
  const auto out_fdt = fdt::test::docs_root();
  const auto in_fdt = other_root(out_fdt);
  FakeRoot root("kcore-scan");
  root.file("sys/kernel/debug/kho/in/fdt", in_fdt);
  root.text("sys/kernel/debug/kho/out/scratch_phys", "0x1000\n");
  root.file("proc/kcore", machine({{0x100000, in_fdt}, {0x3b8000, out_fdt}}, 0x3b8000));
  // kallsyms first: the pointer decides, even with two roots in memory.
  root.text("proc/kallsyms", kallsyms());
  LiveSource a;
  Report ra;
  std::string err;
  ASSERT_TRUE(read_live(root.dir.string(), "out", 1 << 20, a, ra, err)) << err;
  ASSERT_EQ(a.blobs.size(), 1u);
  EXPECT_EQ(a.blobs[0].bytes, out_fdt);
  EXPECT_TRUE(ra.has("kho_live_root_from_memory"));
  EXPECT_FALSE(ra.has("kho_live_no_fdt"));
  // Without kallsyms: the scan finds both roots and leaves out in/fdt.
  std::filesystem::remove(root.dir / "proc/kallsyms");
  LiveSource b;
  Report rb;
  ASSERT_TRUE(read_live(root.dir.string(), "out", 1 << 20, b, rb, err)) << err;
  ASSERT_EQ(b.blobs.size(), 1u);
  EXPECT_EQ(*b.fdt_phys, 0x3b8000u);
  const auto& d = rb.diagnostics();
  EXPECT_TRUE(std::any_of(d.begin(), d.end(), [](const Diagnostic& x) {
    return x.rule == "kho_live_root_from_memory" && x.message.find("by scanning memory") != std::string::npos;
  }));
}

TEST(LiveKcore, TwoCandidateRootsWithoutKallsymsAreNotGuessed) {
  const auto fdt = fdt::test::docs_root();
  const auto other = other_root(fdt);
  FakeRoot root("kcore-ambiguous");
  root.file("sys/kernel/debug/kho/out/fdt", prefix(fdt, 0x40));
  root.file("proc/kcore", machine({{0x100000, other}, {0x3b8000, fdt}}, 0));
  LiveSource src;
  Report r;
  std::string err;
  ASSERT_TRUE(read_live(root.dir.string(), "out", 1 << 20, src, r, err)) << err;
  EXPECT_TRUE(src.blobs.empty());  // the truncated prefix is not validated as a broken FDT
  EXPECT_TRUE(r.has("kho_live_debugfs_truncated"));
  EXPECT_TRUE(r.has("kho_live_unverified"));
  const auto& d = r.diagnostics();
  EXPECT_TRUE(std::any_of(d.begin(), d.end(), [](const Diagnostic& x) {
    return x.rule == "kho_live_unverified" && x.message.find("found 2 KHO root FDTs (0x100000, 0x3b8000)") != std::string::npos;
  }));
}

TEST(LiveKcore, WholeDebugfsRootIsFollowedInMemoryWhenItMatches) {
  const auto fdt = fdt::test::docs_root();
  FakeRoot root("kcore-whole");
  root.file("sys/kernel/debug/kho/out/fdt", fdt);
  root.file("proc/kcore", machine({{0x1f5000, fdt}}, 0x1f5000));
  root.text("proc/kallsyms", kallsyms());
  LiveSource src;
  Report r;
  std::string err;
  ASSERT_TRUE(read_live(root.dir.string(), "out", 1 << 20, src, r, err)) << err;
  ASSERT_EQ(src.blobs.size(), 1u);
  EXPECT_EQ(src.blobs[0].name, "debugfs:kho/out/fdt");  // debugfs stays the source of the root
  ASSERT_TRUE(src.memory);
  EXPECT_EQ(*src.fdt_phys, 0x1f5000u);
  // Memory holding another root than debugfs: nothing is followed.
  root.file("proc/kcore", machine({{0x1f5000, other_root(fdt)}}, 0x1f5000));
  LiveSource src2;
  Report r2;
  ASSERT_TRUE(read_live(root.dir.string(), "out", 1 << 20, src2, r2, err)) << err;
  EXPECT_FALSE(src2.memory);
  ASSERT_EQ(src2.blobs.size(), 1u);
}

TEST(LiveKcore, KallsymsLookup) {
  EXPECT_EQ(kallsyms_lookup(kallsyms(), "kho_out"), std::optional<std::uint64_t>(kKhoOut));
  EXPECT_FALSE(kallsyms_lookup(kallsyms(), "kho_ou"));
  EXPECT_FALSE(kallsyms_lookup("0000000000000000 b kho_out\n", "kho_out"));  // kptr_restrict
  EXPECT_FALSE(kallsyms_lookup("zz b kho_out\n", "kho_out"));
}

TEST(Live, KhoBootedSevenThreeHasNoOutFdt) {
  // Linux 7.3: kho_init() skips out/fdt when an incoming FDT exists; without
  // /proc/kcore the root cannot be read from memory either.
  FakeRoot root("noout");
  root.text("sys/kernel/debug/kho/out/scratch_phys", "0x1000\n");
  root.text("sys/kernel/debug/kho/out/scratch_len", "0x1000\n");
  root.file("sys/kernel/debug/kho/in/fdt", fdt::test::docs_root());
  LiveSource src;
  Report r;
  std::string err;
  ASSERT_TRUE(read_live(root.dir.string(), "out", 1 << 20, src, r, err));
  EXPECT_TRUE(r.has("kho_live_no_fdt"));
  EXPECT_TRUE(src.blobs.empty());
  LiveSource in;
  Report r2;
  ASSERT_TRUE(read_live(root.dir.string(), "in", 1 << 20, in, r2, err));
  ASSERT_EQ(in.blobs.size(), 1u);
  EXPECT_EQ(in.blobs[0].name, "debugfs:kho/in/fdt");
}

TEST(Live, RfcSysfsAdapter) {
  FakeRoot root("rfc");
  root.file("sys/kernel/kho/dt", fdt::test::docs_root());
  root.file("sys/firmware/kho/dt", fdt::test::docs_root());
  LiveSource out, in;
  Report r;
  std::string err;
  ASSERT_TRUE(read_live(root.dir.string(), "out", 1 << 20, out, r, err));
  EXPECT_EQ(out.era, "rfc-sysfs");
  ASSERT_EQ(out.blobs.size(), 1u);
  EXPECT_EQ(out.blobs[0].name, "sysfs:out/dt");
  ASSERT_TRUE(read_live(root.dir.string(), "in", 1 << 20, in, r, err));
  EXPECT_EQ(in.blobs.size(), 1u);
}

TEST(Live, NoInterfaceIsAnIoError) {
  FakeRoot root("none");
  LiveSource src;
  Report r;
  std::string err;
  EXPECT_FALSE(read_live(root.dir.string(), "out", 1 << 20, src, r, err));
  EXPECT_NE(err.find("kho=on"), std::string::npos);
  EXPECT_FALSE(read_live(root.dir.string(), "sideways", 1 << 20, src, r, err));
}

}  // namespace
}  // namespace khospec::conformance
