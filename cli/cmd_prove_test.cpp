// `prove` through both paths: in-process (cmd_prove_in_process, as
// khospec-prove and the Python module run it) and the real khospec binary,
// which runs khospec-prove (cmd_prove.cpp). Same bytes, same exit codes.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.hpp"

namespace khospec::cli {
namespace {

namespace fs = std::filesystem;

struct Result {
  int rc;
  std::string out, err;
};

Result in_process(const std::vector<std::string>& args, bool with_override = true) {
  std::ostringstream out, err;
  std::istringstream in;
  std::vector<CommandOverride> ov;
  if (with_override) ov.push_back({"prove", cmd_prove_in_process});
  const int rc = run(args, out, err, in, ov);
  return {rc, out.str(), err.str()};
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

fs::path scratch_dir(const std::string& tag) {
  const auto* t = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path d = fs::temp_directory_path() /
               ("khospec-prove-cli-" + std::string(t->name()) + "-" + tag + "-" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

// Run a program (stdin /dev/null); `env` is "NAME=VALUE ..." for env(1).
Result spawn(const std::string& bin, const std::vector<std::string>& args, const std::string& env = "") {
  const fs::path d = scratch_dir("spawn");
  std::string cmd = env.empty() ? "" : "/usr/bin/env " + env + " ";
  cmd += quote(bin);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote((d / "out").string()) + " 2>" + quote((d / "err").string()) + " </dev/null";
  const int st = std::system(cmd.c_str());
  Result r{WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(d / "out"), slurp(d / "err")};
  fs::remove_all(d);
  return r;
}

Result khospec(const std::vector<std::string>& args, const std::string& env = "") { return spawn(KHOSPEC_BIN, args, env); }

const std::vector<std::string> kFast = {"--only", "kho/radix_tree/shape"};  // one obligation, well under a second

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(ProveCli, InProcessRunsTheObligations) {
  auto r = in_process(with({"prove"}, kFast));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("kho/radix_tree/shape: proved"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 obligations: 1 proved, 0 expected hazards refuted, 0 unexpected"), std::string::npos) << r.out;
}

// --list and --trace are deterministic: khospec, khospec-prove and the
// in-process path print the same bytes.
TEST(ProveCli, KhospecPrintsWhatKhospecProvePrints) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"-f", "json", "prove", "--list", "--era", "v6.16"},
                                                                 {"prove", "--list", "--only", "hazard/*"},
                                                                 {"prove", "--trace"},
                                                                 {"prove", "--help"}}) {
    const auto via = khospec(args), direct = spawn(KHOSPEC_PROVE_BIN, args), here = in_process(args);
    EXPECT_EQ(via.rc, 0) << via.err;
    EXPECT_FALSE(via.out.empty());
    EXPECT_EQ(via.out, direct.out) << args[0];
    EXPECT_EQ(via.out, here.out) << args[0];
    EXPECT_EQ(via.err, here.err);
  }
}

TEST(ProveCli, KhospecRunsTheObligationsWithTheSameExitCodes) {
  auto ok = khospec(with({"prove"}, kFast));
  EXPECT_EQ(ok.rc, 0) << ok.err;
  EXPECT_NE(ok.out.find("kho/radix_tree/shape: proved"), std::string::npos) << ok.out;
  // A goal filter that names no goal makes the result unknown: exit 100,
  // and the environment and --exit-zero reach the helper.
  auto bad = khospec(with({"prove"}, kFast), "KHOSPEC_SPEC_GOAL=NO_SUCH_GOAL");
  EXPECT_EQ(bad.rc, 100) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("kho/radix_tree/shape: unknown"), std::string::npos) << bad.out;
  EXPECT_EQ(khospec(with({"--exit-zero", "prove"}, kFast), "KHOSPEC_SPEC_GOAL=NO_SUCH_GOAL").rc, 0);
  // Usage errors: exit 1 with the in-process message, byte for byte.
  for (const auto& args : std::vector<std::vector<std::string>>{{"prove", "--era", "v9.9"},
                                                                 {"prove", "--only", "no/such/obligation"},
                                                                 {"prove", "--timeout", "0"},
                                                                 {"prove", "stray"},
                                                                 {"prove", "--", "-stray"}}) {
    const auto via = khospec(args), here = in_process(args);
    EXPECT_EQ(via.rc, 1) << args[1];
    EXPECT_EQ(here.rc, 1) << args[1];
    EXPECT_EQ(via.err, here.err);
    EXPECT_NE(via.err.find("khospec: error: "), std::string::npos) << via.err;
  }
}

TEST(ProveCli, CommonOptionsReachTheHelper) {
  // -q: no per-obligation line, only the summary.
  auto q = khospec(with({"-q", "prove"}, kFast));
  EXPECT_EQ(q.rc, 0);
  EXPECT_EQ(q.out.find("kho/radix_tree/shape: proved"), std::string::npos) << q.out;
  EXPECT_EQ(q.out.rfind("1 obligations: 1 proved", 0), 0u) << q.out;
  // -f json -o FILE: the document goes to the file, nothing to stdout.
  const fs::path d = scratch_dir("output");
  const auto file = (d / "prove.json").string();
  auto j = khospec(with({"-f", "json", "-o", file, "prove"}, kFast));
  EXPECT_EQ(j.rc, 0) << j.err;
  EXPECT_EQ(j.out, "");
  const std::string doc = slurp(file);
  EXPECT_NE(doc.find("\"verdict\": \"proved\""), std::string::npos) << doc;
  EXPECT_NE(doc.find("\"summary\""), std::string::npos) << doc;
  // The envelope every command's document opens with (docs/cli.md "JSON output").
  EXPECT_EQ(doc.rfind("{\n  \"format_version\": 1,\n  \"tool\": \"khospec ", 0), 0u) << doc;
  EXPECT_NE(doc.find("\"command\": \"prove\",\n  \"ok\": true"), std::string::npos) << doc;
  fs::remove_all(d);
}

// Without khospec-prove, `prove` says which program is missing (JSON too).
TEST(ProveCli, MissingHelperIsAClearError) {
  // This test program has no khospec-prove beside it, and PATH has none.
  ASSERT_EQ(setenv("PATH", "/nonexistent/khospec-test", 1), 0);
  auto t = in_process({"prove", "--list"}, false);
  EXPECT_EQ(t.rc, 1);
  EXPECT_NE(t.err.find("khospec: error: prove runs the program khospec-prove"), std::string::npos) << t.err;
  EXPECT_EQ(t.out, "");
  auto j = in_process({"-f", "json", "prove", "--list"}, false);
  EXPECT_EQ(j.rc, 1);
  EXPECT_NE(j.out.find("\"command\": \"prove\""), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"ok\": false"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"message\": \"prove runs the program khospec-prove"), std::string::npos) << j.out;
  EXPECT_NE(j.err.find("khospec-prove"), std::string::npos);
  // The real binary, alone in a directory (a hard link keeps /proc/self/exe there).
  const fs::path d = fs::path(KHOSPEC_BIN).parent_path() / ("prove-cli-test-alone-" + std::to_string(getpid()));
  fs::create_directories(d);
  std::error_code ec;
  fs::create_hard_link(KHOSPEC_BIN, d / "khospec", ec);
  if (ec) fs::copy_file(KHOSPEC_BIN, d / "khospec", ec);
  ASSERT_FALSE(ec) << ec.message();
  auto alone = spawn((d / "khospec").string(), {"-f", "json", "prove", "--list"}, "PATH=/nonexistent/khospec-test");
  EXPECT_EQ(alone.rc, 1);
  EXPECT_NE(alone.out.find("\"message\": \"prove runs the program khospec-prove"), std::string::npos) << alone.out;
  EXPECT_NE(alone.err.find("neither next to khospec (" + d.string() + ") nor in PATH"), std::string::npos) << alone.err;
  // Other commands do not need it.
  EXPECT_EQ(spawn((d / "khospec").string(), {"--version"}, "PATH=/nonexistent/khospec-test").rc, 0);
  fs::remove_all(d);
}

}  // namespace
}  // namespace khospec::cli
