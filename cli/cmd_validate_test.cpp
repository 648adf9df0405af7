// khospec validate / schema / rules through the CLI frame (-W, -E, --baseline,
// --live with a fake root, JSON, exit codes).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.hpp"
#include "fdt/builder.hpp"
#include "fdt/test_util.hpp"

namespace khospec::cli {
namespace {

namespace fs = std::filesystem;

struct Result {
  int rc;
  std::string out, err;
};

Result run_cli(std::vector<std::string> args, const std::string& in = "") {
  std::ostringstream out, err;
  std::istringstream is(in);
  int rc = run(args, out, err, is);
  return {rc, out.str(), err.str()};
}

std::string temp(const std::string& name, const std::vector<std::uint8_t>& bytes) {
  auto p = fs::temp_directory_path() / ("khospec-validate-test-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return p.string();
}

// A kho-v1 root with an unknown extra property (a warning) and a null subtree (an error).
std::vector<std::uint8_t> findings_blob() {
  fdt::Builder b;
  b.begin_node("")
      .prop_string("compatible", "kho-v1")
      .prop_u64("preserved-memory-map", 0x15f000)
      .prop_u32("extra", 1)
      .begin_node("memblock")
      .prop_u64("fdt", 0)
      .end_node()
      .end_node();
  return b.finish();
}

TEST(ValidateCli, CleanDocsExampleExitsZero) {
  auto p = temp("docs.dtb", fdt::test::docs_root());
  auto r = run_cli({"validate", p});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("kho-v1 (schema https://khospec.dev/schemas/kho/kho-v1.yaml#)"), std::string::npos) << r.out;
  auto s = run_cli({"validate", "-"}, [] { auto b = fdt::test::docs_root(); return std::string(b.begin(), b.end()); }());
  EXPECT_EQ(s.rc, 0) << s.err;
}

TEST(ValidateCli, WarningAndErrorControl) {
  auto p = temp("findings.dtb", findings_blob());
  auto r = run_cli({"validate", p});
  EXPECT_EQ(r.rc, 100);
  EXPECT_NE(r.err.find("error (kho_blob_null): /memblock:fdt:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("warning (schema_unknown_property): /:extra:"), std::string::npos) << r.err;
  // Demote the error: only a warning is left -> 0, or 100 with --werror.
  EXPECT_EQ(run_cli({"validate", "-W", "kho_blob_null", p}).rc, 0);
  EXPECT_EQ(run_cli({"validate", "-Wkho_blob_null", "--werror", p}).rc, 100);
  auto off = run_cli({"validate", "-W", "no-kho_blob_null", "-W", "no-schema_unknown_property", p});
  EXPECT_EQ(off.rc, 0) << off.err;
  EXPECT_EQ(off.err.find("kho_blob_null"), std::string::npos);
  // Promote the warning to an error.
  auto e = run_cli({"validate", "-W", "no-kho_blob_null", "-E", "schema_unknown_property", p});
  EXPECT_EQ(e.rc, 100);
  EXPECT_NE(e.err.find("error (schema_unknown_property)"), std::string::npos);
  EXPECT_EQ(run_cli({"validate", "--exit-zero", p}).rc, 0);
  EXPECT_EQ(run_cli({"validate", "-W", "no-such_rule", p}).rc, 1);
  EXPECT_EQ(run_cli({"validate", "-E", p}).rc, 1);  // -E needs a value: p is consumed, no FILE left
}

TEST(ValidateCli, BaselineRoundTrip) {
  auto p = temp("findings2.dtb", findings_blob());
  auto base = fs::temp_directory_path() / ("khospec-baseline-cli-" + std::to_string(::getpid()));
  auto w = run_cli({"validate", "--write-baseline", base.string(), p});
  EXPECT_EQ(w.rc, 0) << w.err;
  auto r = run_cli({"validate", "--baseline", base.string(), p});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(run_cli({"validate", "--baseline", "/nonexistent/baseline", p}).rc, 1);
  fs::remove(base);
}

// A baseline matches the file, not the spelling of its path: written with
// ./x/a.dtb, read with the absolute path, from another directory, or the same
// bytes under another name (content hash); other bytes under the name do not match.
TEST(ValidateCli, BaselineMatchesTheFileNotItsSpelling) {
  const fs::path top = fs::temp_directory_path() / ("khospec-baseline-paths-" + std::to_string(::getpid()));
  fs::create_directories(top / "x");
  fs::create_directories(top / "elsewhere");
  const auto bytes = findings_blob();
  std::ofstream(top / "x/a.dtb", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  fs::copy_file(top / "x/a.dtb", top / "elsewhere/renamed.dtb");
  const fs::path was = fs::current_path();
  fs::current_path(top);
  auto w = run_cli({"validate", "--write-baseline", "base/accepted.txt", "./x/a.dtb"});
  EXPECT_EQ(w.rc, 1) << "the baseline's directory does not exist yet";
  fs::create_directories(top / "base");
  w = run_cli({"validate", "--write-baseline", "base/accepted.txt", "./x/a.dtb"});
  EXPECT_EQ(w.rc, 0) << w.err;
  std::ifstream in(top / "base/accepted.txt");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("\t../x/a.dtb\t"), std::string::npos) << "relative to the baseline: " << text.str();
  EXPECT_NE(text.str().find("\tfnv1a64:"), std::string::npos) << text.str();
  const std::string base = (top / "base/accepted.txt").string();
  EXPECT_EQ(run_cli({"validate", "--baseline", base, (top / "x/a.dtb").string()}).rc, 0) << "absolute path";
  EXPECT_EQ(run_cli({"validate", "--baseline", base, "x//a.dtb"}).rc, 0) << "unnormalised path";
  fs::current_path(top / "elsewhere");
  EXPECT_EQ(run_cli({"validate", "--baseline", base, "../x/a.dtb"}).rc, 0) << "from another directory";
  EXPECT_EQ(run_cli({"validate", "--baseline", base, "renamed.dtb"}).rc, 0) << "same bytes, another name";
  std::string blob(bytes.begin(), bytes.end());
  EXPECT_EQ(run_cli({"validate", "--baseline", base, "-"}, blob).rc, 0) << "same bytes on stdin";
  // Other bytes under another name match nothing.
  auto other = bytes;
  other.back() ^= 1;
  std::ofstream(top / "elsewhere/other.dtb", std::ios::binary)
      .write(reinterpret_cast<const char*>(other.data()), static_cast<std::streamsize>(other.size()));
  EXPECT_EQ(run_cli({"validate", "--baseline", base, "other.dtb"}).rc, 100);
  fs::current_path(was);
  fs::remove_all(top);
}

TEST(ValidateCli, JsonReport) {
  auto p = temp("findings3.dtb", findings_blob());
  auto r = run_cli({"-f", "json", "validate", p});
  EXPECT_EQ(r.rc, 100);
  EXPECT_NE(r.out.find("\"command\": \"validate\""), std::string::npos);
  EXPECT_NE(r.out.find("\"abi\": \"kho-v1\""), std::string::npos);
  EXPECT_NE(r.out.find("\"rule\": \"kho_blob_null\""), std::string::npos);
  EXPECT_NE(r.out.find("\"property\": \"fdt\""), std::string::npos);
}

TEST(ValidateCli, UsageErrors) {
  auto p = temp("docs2.dtb", fdt::test::docs_root());
  EXPECT_EQ(run_cli({"validate"}).rc, 1);
  EXPECT_EQ(run_cli({"validate", "--abi", "kho-v7", p}).rc, 1);
  EXPECT_EQ(run_cli({"validate", "--memory-base", "0x1000", p}).rc, 1);
  EXPECT_EQ(run_cli({"validate", "--memory", "/nonexistent/core", p}).rc, 1);
  EXPECT_EQ(run_cli({"validate", "--scratch", "nonsense", p}).rc, 1);
  EXPECT_EQ(run_cli({"validate", "--kho-v1-bitmap", "1k", p}).rc, 1);
  EXPECT_EQ(run_cli({"validate", "--live", "out", p}).rc, 1);
  EXPECT_EQ(run_cli({"dump", "--scratch", "0x0+0x1000", p}).rc, 1);
}

TEST(ValidateCli, LiveOnAFakeDebugfsTree) {
  auto root = fs::temp_directory_path() / ("khospec-live-cli-" + std::to_string(::getpid()));
  fs::create_directories(root / "sys/kernel/debug/kho/out/sub_fdts");
  auto write = [](const fs::path& p, const std::vector<std::uint8_t>& b) {
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  };
  write(root / "sys/kernel/debug/kho/out/fdt", fdt::test::docs_root());
  fdt::Builder mb;
  mb.begin_node("").prop_string("compatible", "memblock-v1").end_node();
  write(root / "sys/kernel/debug/kho/out/sub_fdts/memblock", mb.finish());
  std::ofstream(root / "sys/kernel/debug/kho/out/scratch_phys") << "0x76400000\n0x7f400000\n";
  std::ofstream(root / "sys/kernel/debug/kho/out/scratch_len") << "0x6c00000\n0x0\n";
  auto r = run_cli({"-v", "validate", "--live", "out", "--root", root.string()});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("debugfs:kho/out/fdt: kho-v1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("debugfs:kho/out/sub_fdts/memblock: memblock-v1"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("info (kho_live_source)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("info (kho_scratch_zero_size)"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli({"validate", "--live", "in", "--root", root.string()}).rc, 1);  // no in/ side
  fs::remove_all(root);
}

TEST(ValidateCli, SchemaAndRulesCommands) {
  EXPECT_EQ(run_cli({"schema", "lint"}).rc, 0);
  auto l = run_cli({"schema", "list"});
  EXPECT_EQ(l.rc, 0);
  EXPECT_NE(l.out.find("schemas/kho/kho-v4.yaml\tkho-v4"), std::string::npos) << l.out;
  EXPECT_EQ(run_cli({"schema"}).rc, 1);
  EXPECT_EQ(run_cli({"schema", "lint", "/nonexistent/schema.yaml"}).rc, 1);
  auto md = run_cli({"rules", "--markdown"});
  EXPECT_EQ(md.rc, 0);
  EXPECT_NE(md.out.find("| `kho_map_cycle` | error |"), std::string::npos);
  auto j = run_cli({"-f", "json", "rules"});
  EXPECT_NE(j.out.find("\"id\": \"fdt_empty\""), std::string::npos);
  auto h = run_cli({"validate", "--help"});
  EXPECT_NE(h.out.find("-W VALUE"), std::string::npos) << h.out;
}

}  // namespace
}  // namespace khospec::cli
