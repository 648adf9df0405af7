// The rule registry's contract, across every conformance rule family: each
// rule has an example that fires it (corpus sources for validate rules, compat
// cases for compat rules), good files fire nothing, and -W/-E/baselines work.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "conformance/compat/compat.hpp"
#include "conformance/corpus/corpus_source.hpp"
#include "conformance/validate/validate.hpp"
#include "core/file.hpp"
#include "core/rules.hpp"

namespace khospec::conformance {
namespace {

namespace fs = std::filesystem;

// Runs one corpus source the way `khospec validate` does (ARGS + memory image).
Report run_source(const fs::path& p) {
  auto c = compile_source(read_text_file(p), p.string());
  EXPECT_TRUE(c.ok) << c.error;
  ValidateOptions vo;
  vo.read.file = p.string();
  std::optional<std::uint64_t> base;
  std::string err;
  EXPECT_TRUE(apply_validate_args(c.header.args, vo, base, err)) << p << ": " << err;
  Report r;
  std::optional<MemoryImage> img;
  if (c.has_memory) img = MemoryImage::from_bytes(c.memory, base, p.string() + ".mem", r);
  validate(c.blob, img ? &*img : nullptr, vo, r);
  return r;
}

std::vector<fs::path> corpus_files(const char* kind) {
  const auto v = corpus_sources((fs::path(KHOSPEC_SOURCE_DIR) / "conformance/corpus").string(), std::string(kind) == "good");
  return {v.begin(), v.end()};
}

// The contract: every registry rule has a bad file that fires it, and no
// good file fires anything; every rule any corpus file fires is registered.
TEST(RuleRegistry, EveryRuleHasAnExampleThatFiresIt) {
  std::set<std::string> ids;
  for (const auto& r : rules()) {
    EXPECT_TRUE(ids.insert(std::string(r.id)).second) << "duplicate rule " << r.id;
    const fs::path ex = fs::path(KHOSPEC_SOURCE_DIR) / std::string(r.example);
    ASSERT_TRUE(fs::exists(ex)) << r.id << ": example " << r.example << " does not exist";
    const std::string e(r.example);
    Report rep;
    if (e.size() > 9 && e.substr(e.size() - 9) == ".kho.yaml") {
      rep = run_source(ex);
    } else if (e.rfind("schemas/tests/", 0) == 0) {
      // Lint inputs: the file's directory tree (for relative $refs) plus the built-in schemas.
      std::vector<SchemaSource> src;
      const fs::path dir = e.find("kernel-6.16") != std::string::npos
                               ? fs::path(KHOSPEC_SOURCE_DIR) / "schemas/tests/kernel-6.16"
                               : ex;
      if (fs::is_directory(dir)) {
        for (const auto& f : fs::recursive_directory_iterator(dir))
          if (f.path().extension() == ".yaml")
            src.push_back({fs::relative(f.path(), KHOSPEC_SOURCE_DIR).string(), read_text_file(f.path())});
      } else {
        src.push_back({e, read_text_file(ex)});
      }
      for (const auto& b : SchemaSet::builtin_sources()) src.push_back(b);
      auto set = SchemaSet::load(src, rep);
      set.lint(rep);
      Report only;
      for (const auto& d : rep.diagnostics())
        if (d.file.rfind(e, 0) == 0) only.add(d);
      rep = only;
    } else if (e.rfind("conformance/compat/cases/", 0) == 0) {
      // A compat case: OLD and NEW (plus an optional allow-list) in the example's directory.
      AllowList allow;
      CompatOptions o;
      if (fs::exists(ex / "allow.yaml")) {
        std::string err;
        ASSERT_TRUE(parse_allow_list(read_text_file(ex / "allow.yaml"), "allow.yaml", allow, err)) << err;
        o.allow = &allow;
      }
      Report load;
      auto res = compat_check_paths((ex / "old").string(), (ex / "new").string(), o, load);
      rep = load;
      if (res) rep.append(res->report);
    } else {
      // A unit test covers it (live rules): the test source must exercise the rule.
      EXPECT_NE(read_text_file(ex).find(std::string(r.id)), std::string::npos) << r.id << " not exercised by " << e;
      continue;
    }
    EXPECT_TRUE(rep.has(r.id)) << r.id << " does not fire on its example " << e;
    if (e.find("-fail") == std::string::npos && e.find("kernel-6.16") == std::string::npos)
      ADD_FAILURE() << r.id << ": example " << e << " is not a -fail file";
  }
}

// docs/rules.md gives each rule's reason: the consequence its level stands for.
TEST(RuleRegistry, EveryRuleSaysWhyItHasItsLevel) {
  for (const auto& r : rules()) EXPECT_FALSE(r.reason.empty()) << r.id << " has no reason (core/rule_reasons.cpp)";
}

TEST(RuleRegistry, GoodFilesAreSilentAndEveryFiredRuleIsRegistered) {
  for (const auto& p : corpus_files("good")) {
    Report r = run_source(p);
    for (const auto& d : r.diagnostics()) ADD_FAILURE() << p << ": " << d.rule << " fired on a good file";
  }
  for (const auto& p : corpus_files("bad")) {
    Report r = run_source(p);
    for (const auto& d : r.diagnostics()) EXPECT_NE(find_rule(d.rule), nullptr) << p << ": unregistered " << d.rule;
  }
}

TEST(RuleRegistry, PrerequisitesSuppressDependentChecks) {
  Report r;
  r.add({"fdt_truncated", Level::error, "x", 4, "", "", "m", {}, "decode"});
  EXPECT_TRUE(prereq_failed("kho_prop_len_u64", r));
  EXPECT_TRUE(prereq_failed("schema_required", r));
  EXPECT_FALSE(prereq_failed("fdt_truncated", r));
  Report w;
  w.add({"fdt_rsvmap_not_empty", Level::warning, "x", 4, "", "", "m", {}, "decode"});
  EXPECT_FALSE(prereq_failed("schema_required", w));  // warnings do not suppress
}

TEST(RuleRegistry, WarningAndErrorControlAndBaseline) {
  Report in;
  in.add({"schema_unknown_property", Level::warning, "f.dtb", 4, "/", "x", "m", {}, "schema"});
  in.add({"kho_map_overlap", Level::warning, "f.dtb", 4, "/", "preserved-memory-map", "m", {}, "kho"});
  in.add({"kho_blob_null", Level::error, "f.dtb", 4, "/memblock", "fdt", "m", {}, "kho"});
  RuleConfig c;
  std::string err;
  ASSERT_TRUE(c.apply_w("no-schema_unknown_property", err));
  ASSERT_TRUE(c.apply_e("kho_map_overlap", err));
  ASSERT_TRUE(c.apply_w("kho_blob_null", err));
  EXPECT_FALSE(c.apply_w("no-such_rule", err));
  EXPECT_FALSE(c.apply_e("nofamily:*", err));
  Report out = c.filter(in);
  ASSERT_EQ(out.diagnostics().size(), 2u);
  EXPECT_EQ(out.diagnostics()[0].rule, "kho_map_overlap");
  EXPECT_EQ(out.diagnostics()[0].level, Level::error);
  EXPECT_EQ(out.diagnostics()[1].level, Level::warning);
  RuleConfig fam;
  ASSERT_TRUE(fam.apply_w("no-map:*", err));
  EXPECT_FALSE(fam.filter(in).has("kho_map_overlap"));

  const auto path = (fs::temp_directory_path() / ("khospec-baseline-" + std::to_string(::getpid()))).string();
  ASSERT_TRUE(RuleConfig{}.write_baseline(path, in, err)) << err;
  RuleConfig b;
  ASSERT_TRUE(b.load_baseline(path, err)) << err;
  EXPECT_TRUE(b.filter(in).empty());
  std::ofstream(path) << "not a baseline line\n";
  RuleConfig bad;
  EXPECT_FALSE(bad.load_baseline(path, err));
  fs::remove(path);
}

}  // namespace
}  // namespace khospec::conformance
