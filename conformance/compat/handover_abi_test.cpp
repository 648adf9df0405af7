// compat on real hand-overs (conformance/compat/handover_abi.hpp, inputs.hpp):
// the captures of a 6.16 (kho-v1) and a 7.3 (kho-v4) kernel, and every wrong
// input compat must explain instead of parsing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "conformance/compat/compat.hpp"
#include "conformance/compat/inputs.hpp"

namespace khospec::conformance {
namespace {

namespace fs = std::filesystem;

const fs::path kDumps = KHOSPEC_DUMPS_DIR;
const fs::path k616 = kDumps / "kho-v1-linux-6.16/reserve-mem-1-2stage/k1";
const fs::path k73 = kDumps / "kho-v4-linux-7.3/luo-memfd-2stage/k1";
const fs::path k73r = kDumps / "kho-v4-linux-7.3/reserve-mem-1-2stage/k1";

bool has_captures() { return fs::is_directory(k616) && fs::is_directory(k73); }

struct Run {
  std::optional<CompatResult> res;
  Report load;
  bool fired(std::string_view rule, std::string_view node = {}) const {
    for (const auto& c : res->changes)
      if (c.diag.rule == rule && (node.empty() || c.diag.node == node)) return true;
    return false;
  }
  std::string all() const {
    std::string s;
    for (const auto& d : load.diagnostics()) s += d.rule + ": " + d.message + "\n";
    if (res)
      for (const auto& c : res->changes) s += c.diag.rule + " " + c.diag.node + ":" + c.diag.property + " " + c.diag.message + "\n";
    return s;
  }
  std::string input_error() const {
    std::string s;
    for (const auto& d : load.diagnostics())
      if (d.rule == "compat_input_invalid") s += d.message + "\n";
    return s;
  }
};

Run compare(const fs::path& a, const fs::path& b, const std::string& ma = "", const std::string& mb = "") {
  CompatOptions o;
  o.old_memory = ma;
  o.new_memory = mb;
  Run r;
  r.res = compat_check_paths(a.string(), b.string(), o, r.load);
  return r;
}

std::string temp_file(const std::string& name, const std::string& bytes) {
  auto p = fs::temp_directory_path() / ("khospec-compat-real-" + name);
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

#define REQUIRE_CAPTURES() \
  if (!has_captures()) GTEST_FAIL() << "the real captures are missing: " << kDumps

// kho_populate() (kernel/liveupdate/kexec_handover.c, 7.3) compares the root
// compatible: a 6.16 kho-v1 hand-over is refused by 7.3's kho-v4 reader.
TEST(CompatReal, Linux616To73RootBumped) {
  REQUIRE_CAPTURES();
  auto r = compare(k616 / "out_fdt.dtb", k73 / "out_fdt.dtb");
  ASSERT_TRUE(r.res) << r.all();
  EXPECT_TRUE(r.fired("compat_version_bumped", "/")) << r.all();
  EXPECT_FALSE(r.fired("compat_break_without_version_bump")) << r.all();
  // kho-v1 children point with `fdt`, kho-v4 ones with `preserved-data` + `blob-size`.
  EXPECT_TRUE(r.fired("compat_property_removed", "/memblock")) << r.all();
  EXPECT_TRUE(r.fired("compat_required_added", "/memblock")) << r.all();
  EXPECT_GT(r.res->wire_count(), 0);
  // New clients of the 7.3 kernel: additions, not breaks.
  EXPECT_TRUE(r.fired("compat_node_added", "/LUO")) << r.all();
  EXPECT_TRUE(r.fired("compat_node_added", "/kexec-metadata")) << r.all();
}

// With the memory images the clients are followed: memblock-v1 is the same
// sub-FDT format on both kernels (mm/memblock.c reserve_mem_kho_revive(), 6.16
// and 7.3); LUO's luo_ser and kexec-metadata are new formats with new layouts.
TEST(CompatReal, Linux616To73WithMemoryFollowsClients) {
  REQUIRE_CAPTURES();
  auto r = compare(k616 / "out_fdt.dtb", k73 / "out_fdt.dtb", (k616 / "memory.elf").string(),
                   (k73 / "memory.elf").string());
  ASSERT_TRUE(r.res) << r.all();
  EXPECT_TRUE(r.fired("compat_version_bumped")) << r.all();
  bool memblock_changed = false, luo_added = false, meta_added = false, luo_layout = false;
  for (const auto& c : r.res->changes) {
    const std::string& m = c.diag.message;
    if (m.rfind("memblock-v1", 0) == 0) memblock_changed = true;
    if (c.diag.rule == "compat_format_added" && m.find("luo-v5 is new") != std::string::npos) luo_added = true;
    if (c.diag.rule == "compat_format_added" && m.find("kexec-metadata") != std::string::npos) meta_added = true;
    // The captured LUO has no session yet (sessions_pa 0), only its FLB header page.
    if (c.diag.rule == "compat_layout_added" && m.find("luo_flb_header_ser") != std::string::npos) luo_layout = true;
  }
  EXPECT_FALSE(memblock_changed) << r.all();
  EXPECT_TRUE(luo_added) << r.all();
  EXPECT_TRUE(meta_added) << r.all();
  EXPECT_TRUE(luo_layout) << r.all();
}

TEST(CompatReal, SameHandoverNoDifference) {
  REQUIRE_CAPTURES();
  for (bool memory : {false, true}) {
    const std::string m = memory ? (k73 / "memory.elf").string() : "";
    auto r = compare(k73 / "out_fdt.dtb", k73 / "out_fdt.dtb", m, m);
    ASSERT_TRUE(r.res) << r.all();
    EXPECT_TRUE(r.res->changes.empty()) << r.all();
  }
  auto r = compare(k616 / "out_fdt.dtb", k616 / "out_fdt.dtb", (k616 / "memory.elf").string(),
                   (k616 / "memory.elf").string());
  ASSERT_TRUE(r.res) << r.all();
  EXPECT_TRUE(r.res->changes.empty()) << r.all();
}

// Two 7.3 kernels, one with a LUO session: same root format, LUO is an addition
// (wire compatible: a reader ignores unknown children, kho_populate()).
TEST(CompatReal, Linux73To73LuoIsAnAddition) {
  REQUIRE_CAPTURES();
  auto r = compare(k73r / "out_fdt.dtb", k73 / "out_fdt.dtb", (k73r / "memory.elf").string(),
                   (k73 / "memory.elf").string());
  ASSERT_TRUE(r.res) << r.all();
  EXPECT_EQ(r.res->wire_count(), 0) << r.all();
  EXPECT_TRUE(r.fired("compat_node_added", "/LUO")) << r.all();
  EXPECT_FALSE(r.fired("compat_version_bumped")) << r.all();
}

TEST(CompatReal, SniffsEveryKind) {
  REQUIRE_CAPTURES();
  EXPECT_EQ(sniff_compat_input((k73 / "out_fdt.dtb").string()).kind, InputKind::kho_root);
  EXPECT_EQ(sniff_compat_input((k616 / "out_fdt.dtb").string()).kind, InputKind::kho_root);
  EXPECT_EQ(sniff_compat_input((k73 / "memory.elf").string()).kind, InputKind::elf_core);
  EXPECT_EQ(sniff_compat_input((k73 / "out_sub_fdt_memblock.dtb").string()).kind, InputKind::client_fdt);
  EXPECT_EQ(sniff_compat_input((k73 / "out_sub_blob_LUO.bin").string()).kind, InputKind::client_blob);
  EXPECT_EQ(sniff_compat_input(KHOSPEC_SOURCE_DIR "/schemas").kind, InputKind::schema_dir);
  EXPECT_EQ(sniff_compat_input(KHOSPEC_SOURCE_DIR "/schemas/kho/kho-v1.yaml").kind, InputKind::yaml_schema);
  EXPECT_EQ(sniff_compat_input("/nonexistent/x").kind, InputKind::missing);
  EXPECT_EQ(sniff_compat_input(temp_file("bin", std::string("\x01\x00\x02\x00zz", 6))).kind, InputKind::binary);
  EXPECT_EQ(sniff_compat_input(temp_file("j.json", "{\"a\": 1}")).kind, InputKind::json_dump);
  std::string bz(0x400, '\0');
  bz.replace(0x202, 4, "HdrS");
  EXPECT_EQ(sniff_compat_input(temp_file("bz", bz)).kind, InputKind::kernel_image);
  const fs::path dir = fs::temp_directory_path() / "khospec-compat-real-debugfs";
  fs::create_directories(dir);
  std::ofstream(dir / "fdt") << "x";
  EXPECT_EQ(sniff_compat_input(dir.string()).kind, InputKind::debugfs_dir);
}

// Each wrong input: a compat_input_invalid naming what was given and what to run.
TEST(CompatReal, WrongInputsExplainThemselves) {
  REQUIRE_CAPTURES();
  const std::string root = (k73 / "out_fdt.dtb").string();
  struct Case {
    std::string old_path, memory, says, run;
  };
  const std::vector<Case> cases = {
      {(k73 / "memory.elf").string(), "", "is an ELF core file", "--memory-old"},
      {(k73 / "out_sub_fdt_memblock.dtb").string(), "", "compatible 'memblock-v1'", "khospec validate"},
      {(k73 / "out_sub_blob_LUO.bin").string(), "", "KHO client blob (luo-v5)", "khospec validate"},
      {root, root, "not a memory image", "ELF core"},
      {KHOSPEC_SOURCE_DIR "/schemas/kho/kho-v1.yaml", (k73 / "memory.elf").string(), "follows a hand-over",
       "drop --memory-old"},
      {KHOSPEC_SOURCE_DIR "/schemas", "", "compares like with like", "khospec validate --as ERA"},
      {temp_file("bin2", std::string("\x01\x00\x1b[31m", 7)), "", "binary data (first bytes 01 00 1b", "two hand-overs"},
  };
  for (const auto& c : cases) {
    CompatOptions o;
    o.old_memory = c.memory;
    Report load;
    auto res = compat_check_paths(c.old_path, root, o, load);
    EXPECT_FALSE(res) << c.old_path;
    std::string msg;
    for (const auto& d : load.diagnostics()) {
      EXPECT_EQ(d.rule, "compat_input_invalid");
      msg += d.message;
    }
    EXPECT_NE(msg.find(c.says), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.run), std::string::npos) << msg;
    for (unsigned char ch : msg) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << "raw byte in: " << msg;
  }
}

// The reported bug: a binary FDT where a schema was expected reached the YAML
// parser and printed its NUL. Now no input puts a raw byte in a message.
TEST(CompatReal, BinaryNeverReachesYaml) {
  const std::string bin = temp_file("nul.yaml", std::string("a: \"\x00\x01\"\n", 9));
  Report load;
  auto res = compat_check_paths(bin, KHOSPEC_SOURCE_DIR "/schemas/kho/kho-v1.yaml", {}, load);
  EXPECT_FALSE(res);
  for (const auto& d : load.diagnostics()) {
    EXPECT_NE(d.rule, "schema_yaml_error") << d.message;
    for (unsigned char ch : d.message) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << d.message;
  }
}

TEST(CompatReal, EscapeNonprintable) {
  EXPECT_EQ(escape_nonprintable(std::string("a\0b\x1b", 4)), "a\\x00b\\x1b");
  EXPECT_EQ(escape_nonprintable("plain/path.dtb"), "plain/path.dtb");
  EXPECT_EQ(escape_nonprintable("\xff"), "\\xff");
}

}  // namespace
}  // namespace khospec::conformance
