#include "cli/cli.hpp"
#include "cli/test_util.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fdt/test_util.hpp"

namespace khospec::cli {
namespace {

using testing::Result;
using testing::run_cli;

std::string temp_file(const std::string& name, const std::vector<std::uint8_t>& bytes) {
  auto p = std::filesystem::temp_directory_path() / ("khospec-cli-test-" + name);
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                            static_cast<std::streamsize>(bytes.size()));
  return p.string();
}

TEST(Cli, VersionAndHelp) {
  auto v = run_cli({"-V"});
  EXPECT_EQ(v.rc, 0);
  EXPECT_EQ(v.out.rfind("khospec ", 0), 0u);
  auto h = run_cli({"--help"});
  EXPECT_EQ(h.rc, 0);
  EXPECT_NE(h.out.find("Exit codes: 0 clean, 100 findings, 1 usage/IO/internal error."), std::string::npos);
  auto ch = run_cli({"dump", "--help"});
  EXPECT_EQ(ch.rc, 0);
  EXPECT_NE(ch.out.find("--offsets"), std::string::npos);
}

TEST(Cli, UsageErrorsExitOne) {
  EXPECT_EQ(run_cli({}).rc, 1);
  EXPECT_EQ(run_cli({"frobnicate"}).rc, 1);
  EXPECT_EQ(run_cli({"dump"}).rc, 1);
  EXPECT_EQ(run_cli({"-f", "xml", "dump", "x"}).rc, 1);
  EXPECT_EQ(run_cli({"dump", "--nope", "x"}).rc, 1);
  EXPECT_EQ(run_cli({"--endian", "middle", "dump", "x"}).rc, 1);
  EXPECT_EQ(run_cli({"--max-size", "lots", "dump", "x"}).rc, 1);
  auto missing = run_cli({"dump", "/nonexistent/khospec/file"});
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos);
}

TEST(Cli, DumpPrintsNativeDecodedValues) {
  auto path = temp_file("docs.dtb", fdt::test::docs_root());
  auto r = run_cli({"dump", path});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("preserved-memory-map = 0x116be4000 (u64)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fdt = 0x117150000 (u64)"), std::string::npos);
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(Cli, DumpJsonAndOptionsAfterTheCommand) {
  auto path = temp_file("docs2.dtb", fdt::test::docs_root());
  auto r = run_cli({"dump", path, "--format=json", "--offsets"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out.rfind("{\n  \"format_version\": 1,", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\"hex\": \"0x116be4000\""), std::string::npos);
  EXPECT_NE(r.out.find("\"diagnostics\": []"), std::string::npos);
}

TEST(Cli, DumpFromStdin) {
  auto b = fdt::test::docs_root();
  auto r = run_cli({"dump", "-"}, std::string(b.begin(), b.end()));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("0x116be4000"), std::string::npos);
}

TEST(Cli, FindingsExitHundredWithDtcStyleLine) {
  auto b = fdt::test::docs_root();
  b.resize(b.size() - 8);
  auto path = temp_file("cut.dtb", b);
  auto r = run_cli({"dump", path});
  EXPECT_EQ(r.rc, 100);
  EXPECT_NE(r.err.find(path + "@0x4: error (fdt_truncated): totalsize 0x"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\thint: "), std::string::npos);
  EXPECT_EQ(run_cli({"--exit-zero", "dump", path}).rc, 0);
}

TEST(Cli, WarningsOnlyFailWithWerror) {
  fdt::Builder bld;
  bld.add_reservemap_entry(0x1000, 0x1000).begin_node("").end_node();
  auto path = temp_file("rsv.dtb", bld.finish());
  EXPECT_EQ(run_cli({"dump", path}).rc, 0);
  EXPECT_EQ(run_cli({"--werror", "dump", path}).rc, 100);
  auto q = run_cli({"-q", "dump", path});
  EXPECT_TRUE(q.err.empty());  // -q hides warnings
  EXPECT_TRUE(q.out.empty());
}

TEST(Cli, OutputFile) {
  auto in = temp_file("docs3.dtb", fdt::test::docs_root());
  auto out = (std::filesystem::temp_directory_path() / "khospec-cli-test-out.json").string();
  auto r = run_cli({"-o", out, "-f", "json", "dump", in});
  EXPECT_EQ(r.rc, 0);
  EXPECT_TRUE(r.out.empty());
  std::ifstream f(out);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(s.find("\"command\": \"dump\""), std::string::npos);
  EXPECT_EQ(run_cli({"-o", "/nonexistent/dir/x", "dump", in}).rc, 1);
}

TEST(Cli, DemoIsCleanAndShowsBothBlobs) {
  auto r = run_cli({"demo"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("preserved-memory-map = 0x116be4000 (u64)"), std::string::npos);
  EXPECT_NE(r.out.find("start = 0x46bc00000 (u64)"), std::string::npos);
  EXPECT_NE(r.out.find("size = 0x4000000 (u64)"), std::string::npos);
  EXPECT_NE(r.out.find("result: clean"), std::string::npos);
  auto j = run_cli({"demo", "-f", "json"});
  EXPECT_EQ(j.rc, 0);
  EXPECT_NE(j.out.find("\"command\": \"demo\""), std::string::npos);
  EXPECT_EQ(run_cli({"demo", "extra"}).rc, 1);
}

TEST(Cli, MemblockReplayFromStdin) {
  auto r = run_cli({"memblock", "replay", "-"}, "add 0x1000 0x4000\nreserve 0x2000 0x1000\ndump\n");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("memory[0]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reserved[0]"), std::string::npos);
  auto bad = run_cli({"memblock", "replay", "-"}, "add 0x1000\n");
  EXPECT_EQ(bad.rc, 1);
  EXPECT_NE(bad.err.find(":1:"), std::string::npos) << bad.err;
  EXPECT_EQ(run_cli({"memblock", "frob"}).rc, 1);
  auto help = run_cli({"memblock", "replay", "--help"});
  EXPECT_EQ(help.rc, 0);
  EXPECT_NE(help.out.find("Trace calls"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("  add_node BASE SIZE NID [FLAGS]\n"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("  alloc_try_nid SIZE ALIGN MIN MAX NID\n"), std::string::npos) << help.out;
}

// compat / model abi-dump / validate --as: misuse is exit 1 with a message
// naming the fix; the JSON form carries the categories.
TEST(Cli, CompatUsageAndJson) {
  EXPECT_EQ(run_cli({"compat"}).rc, 1);
  EXPECT_EQ(run_cli({"compat", "a.yaml"}).rc, 1);
  auto d = run_cli({"compat", "--direction", "sideways", "a", "b"});
  EXPECT_EQ(d.rc, 1);
  EXPECT_NE(d.err.find("--direction must be both, forward or backward"), std::string::npos) << d.err;
  EXPECT_EQ(run_cli({"compat", "--markdown", "a", "b"}).rc, 1);
  EXPECT_EQ(run_cli({"compat", "--matrix", "a"}).rc, 1);
  auto missing = run_cli({"compat", "/nonexistent/a.yaml", "/nonexistent/b.yaml"});
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.err.find("compat_input_invalid"), std::string::npos) << missing.err;
  EXPECT_EQ(run_cli({"model"}).rc, 1);
  EXPECT_EQ(run_cli({"model", "abi-dump"}).rc, 1);
  EXPECT_EQ(run_cli({"model", "abi-dump", "--era", "v9"}).rc, 1);
  auto dump = run_cli({"model", "abi-dump", "--era", "kho-v3"});
  EXPECT_EQ(dump.rc, 0);
  EXPECT_NE(dump.out.find("\"abi_dump_version\": 1"), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("\"blob-size\""), std::string::npos);
  const std::string src = KHOSPEC_SOURCE_DIR;
  auto j = run_cli({"-f", "json", "compat", src + "/schemas/kho/kho-v1.yaml", src + "/schemas/kho/kho-v2.yaml"});
  EXPECT_EQ(j.rc, 100);
  EXPECT_NE(j.out.find("\"summary\""), std::string::npos);
  EXPECT_NE(j.out.find("\"type\": \"wire\""), std::string::npos) << j.out;
  auto m = run_cli({"-f", "json", "compat", "--matrix"});
  EXPECT_EQ(m.rc, 0);
  EXPECT_NE(m.out.find("\"all_agree\": true"), std::string::npos);
  EXPECT_EQ(run_cli({"validate", "--as", "v5.10", "x.dtb"}).rc, 1);
}

}  // namespace
}  // namespace khospec::cli
