// `khospec kimage` on synthetic images (conformance/kimage/kimage_testdata.hpp):
// text, --option, --config, and the exit codes of every error path.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.hpp"
#include "cli/test_util.hpp"
#include "conformance/kimage/kimage_testdata.hpp"

namespace khospec::cli {
namespace {

using namespace conformance::testdata;
using conformance::Compression;

using testing::Result;
using testing::run_cli;

std::string temp_file(const std::string& name, const Bytes& bytes) {
  auto p = std::filesystem::temp_directory_path() / ("khospec-kimage-test-" + name);
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                            static_cast<std::streamsize>(bytes.size()));
  return p.string();
}

TEST(KimageCli, TextShowsReleaseAndKhoOptions) {
  auto r = run_cli({"kimage", temp_file("bz", bzimage_of(Compression::zstd))});
  EXPECT_EQ(r.rc, exit_clean) << r.err;
  EXPECT_NE(r.out.find("bzImage (x86), zstd-compressed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("release   7.3.4 (7.3)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CONFIG_KEXEC_HANDOVER=y"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CONFIG_LIVEUPDATE_MEMFD=n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sections  unknown"), std::string::npos) << r.out;
}

TEST(KimageCli, OptionQueriesAndWholeConfig) {
  std::string f = temp_file("vm", vmlinux(kernel_body(), 4096));
  auto r = run_cli({"kimage", f, "--option", "TEST_KEXEC_HANDOVER", "--option", "CONFIG_NR_CPUS"});
  EXPECT_EQ(r.rc, exit_clean) << r.err;
  EXPECT_NE(r.out.find("CONFIG_TEST_KEXEC_HANDOVER=m"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CONFIG_NR_CPUS=64"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("CONFIG_LIVEUPDATE="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no .liveupdate_* section"), std::string::npos) << r.out;
  auto c = run_cli({"kimage", f, "--config"});
  EXPECT_EQ(c.rc, exit_clean);
  EXPECT_EQ(c.out, kConfig);
}

TEST(KimageCli, ConfigNotEmbeddedNamesIkconfig) {
  std::string f = temp_file("noikcfg", bzimage_of(Compression::gzip, kernel_body("7.3.4", false)));
  auto shown = run_cli({"kimage", f});
  EXPECT_EQ(shown.rc, exit_clean);
  EXPECT_NE(shown.out.find("not embedded"), std::string::npos) << shown.out;
  auto asked = run_cli({"kimage", f, "--option", "KEXEC_HANDOVER"});
  EXPECT_EQ(asked.rc, exit_error);
  EXPECT_NE(asked.err.find("config_not_embedded"), std::string::npos) << asked.err;
  EXPECT_NE(asked.err.find("CONFIG_IKCONFIG=y"), std::string::npos) << asked.err;
}

TEST(KimageCli, ErrorsExitOneInTextAndJson) {
  Bytes full = bzimage_of(Compression::xz);
  std::string cut = temp_file("cut", Bytes(full.begin(), full.end() - 100));
  auto t = run_cli({"kimage", cut});
  EXPECT_EQ(t.rc, exit_error);
  EXPECT_NE(t.err.find("truncated"), std::string::npos) << t.err;
  auto j = run_cli({"-f", "json", "kimage", cut});
  EXPECT_EQ(j.rc, exit_error);
  EXPECT_NE(j.out.find("\"ok\": false"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"kind\": \"truncated\""), std::string::npos) << j.out;
  auto text = run_cli({"kimage", temp_file("text", bytes_of(std::string(300, 't')))});
  EXPECT_EQ(text.rc, exit_error);
  EXPECT_NE(text.err.find("not_kernel_image"), std::string::npos) << text.err;
  EXPECT_EQ(run_cli({"kimage"}).rc, exit_error);
  EXPECT_EQ(run_cli({"kimage", "/nonexistent/bzImage"}).rc, exit_error);
}

}  // namespace
}  // namespace khospec::cli
