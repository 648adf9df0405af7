// The --live adapters, on fake directory trees (one per kernel era).
#include "conformance/live/live.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fdt/test_util.hpp"

namespace khospec::conformance {
namespace {

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

TEST(Live, KhoBootedSevenThreeHasNoOutFdt) {
  // Linux 7.3: kho_init() skips out/fdt when an incoming FDT exists.
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
