// Traceability (spec/kho.md §7): every INV_* ID of the registry has at least
// one Z3 obligation (or a reason in obligations_pending()), a runtime check
// in the model sources, a test that shows
// that check firing on a planted violation (and is a ctest case), a property
// test that names it, and a line in spec/kho.md; every INV_* the model emits
// is in the registry. Fails with the list of what is missing.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "spec/prove.hpp"
#include "spec/registry.hpp"

namespace khospec::spec {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

bool is_test(const fs::path& p) { return p.filename().string().find("_test") != std::string::npos; }

std::vector<std::string> sources(const fs::path& dir, bool tests) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const auto ext = e.path().extension();
    if (ext != ".cpp" && ext != ".hpp") continue;
    if (is_test(e.path()) != tests) continue;
    out.push_back(slurp(e.path()));
  }
  return out;
}

TEST(SpecRegistry, EveryInvariantIsTraced) {
  const fs::path root = KHOSPEC_SOURCE_DIR;
  const auto runtime = sources(root / "model", false);
  std::vector<std::string> props;
  for (const char* d : {"model", "spec"})
    for (auto& s : sources(root / d, true))
      if (s.find("rapidcheck") != std::string::npos) props.push_back(s);
  const std::string kho_md = slurp(root / "spec" / "kho.md");
  const auto obs = list_obligations(default_options());
  std::vector<std::string> missing;
  std::set<std::string> ids;
  for (const auto& inv : invariants()) {
    ids.insert(inv.id);
    bool ob = false, rt = false, pt = false;
    for (const auto& o : obs)
      for (const auto& id : o.invariants) ob = ob || id == inv.id;
    for (const auto& s : runtime) rt = rt || s.find(inv.id) != std::string::npos;
    for (const auto& s : props) pt = pt || s.find(inv.id) != std::string::npos;
    const bool pending = obligation_pending(inv.id) != nullptr;
    if (!ob && !pending) missing.push_back(std::string(inv.id) + ": no Z3 obligation");
    if (ob && pending)
      missing.push_back(std::string(inv.id) + ": has a Z3 obligation now; remove it from obligations_pending()");
    if (!rt) missing.push_back(std::string(inv.id) + ": no runtime check in model/");
    if (!pt) missing.push_back(std::string(inv.id) + ": no property test names it");
    if (kho_md.find(inv.id) == std::string::npos) missing.push_back(std::string(inv.id) + ": not in spec/kho.md");
  }
  // Every invariant ID the model reports is registered.
  const std::regex re("INV_[A-Z0-9_]*[A-Z0-9]");
  for (const auto& s : runtime)
    for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it)
      if (!ids.count(it->str()) && it->str() != "INV_MEMBLOCK") missing.push_back(it->str() + ": used in model/ but not registered");
  std::string all;
  for (const auto& m : missing) all += "  " + m + "\n";
  EXPECT_TRUE(missing.empty()) << "traceability gaps:\n" << all;
}

// "path: Suite.Name" -> {path, Suite, Name}; empty strings when malformed.
struct TestRef {
  std::string path, suite, name;
};
TestRef parse_ref(const char* s) {
  static const std::regex re(R"(^([^:]+): ([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$)");
  std::cmatch m;
  if (!s || !std::regex_match(s, m, re)) return {};
  return {m[1].str(), m[2].str(), m[3].str()};
}

// The text of one gtest test case: the comment block right above its
// TEST(...) line and its body (up to the next TEST or the end of the file).
std::string test_text(const std::string& src, const TestRef& t) {
  const std::regex head("TEST(_F|_P)?\\(\\s*" + t.suite + "\\s*,\\s*" + t.name + "\\s*\\)");
  std::smatch m;
  if (!std::regex_search(src, m, head)) return {};
  const std::size_t at = static_cast<std::size_t>(m.position(0));
  std::size_t from = src.rfind("\n}\n", at);
  from = from == std::string::npos ? 0 : from + 3;
  std::size_t to = src.find("\nTEST", at + 1);
  if (to == std::string::npos) to = src.size();
  return src.substr(from, to - from);
}

// Each invariant names a test that shows its runtime check firing: the test
// exists in the named file and names the ID; where no model state can
// violate the invariant, the registry says why and so does the test.
TEST(SpecRegistry, EveryInvariantHasAFiringTest) {
  const fs::path root = KHOSPEC_SOURCE_DIR;
  std::vector<std::string> missing;
  for (const auto& inv : invariants()) {
    const TestRef t = parse_ref(inv.fires);
    if (t.path.empty()) {
      missing.push_back(std::string(inv.id) + ": fires is not \"path: Suite.Name\"");
      continue;
    }
    if (!fs::exists(root / t.path)) {
      missing.push_back(std::string(inv.id) + ": " + t.path + " does not exist");
      continue;
    }
    const std::string text = test_text(slurp(root / t.path), t);
    if (text.empty()) {
      missing.push_back(std::string(inv.id) + ": no TEST(" + t.suite + ", " + t.name + ") in " + t.path);
      continue;
    }
    if (text.find(inv.id) == std::string::npos)
      missing.push_back(std::string(inv.id) + ": " + t.suite + "." + t.name + " does not name the ID");
    // The comment may wrap: compare with "//" and line breaks folded to spaces.
    const std::string flat = std::regex_replace(text, std::regex(R"(\s*\n\s*(//)?\s*)"), " ");
    if (inv.no_violating_state && flat.find("no model state") == std::string::npos)
      missing.push_back(std::string(inv.id) + ": " + t.suite + "." + t.name +
                        " does not say that no model state violates it");
  }
  std::string all;
  for (const auto& m : missing) all += "  " + m + "\n";
  EXPECT_TRUE(missing.empty()) << "invariants without a firing test:\n" << all;
}

// ... and each of those tests is a ctest case of this build tree (a target
// that was not built shows up as NAME_NOT_BUILT and fails this test).
TEST(SpecRegistry, EveryFiringTestIsACtestCase) {
  const std::string cmd = std::string("\"") + KHOSPEC_CTEST_COMMAND + "\" --test-dir \"" + KHOSPEC_BINARY_DIR + "\" -N 2>&1";
  std::FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr) << cmd;
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << cmd << "\n" << out;
  std::set<std::string> cases;
  static const std::regex line(R"(Test +#[0-9]+: ([^\s]+))");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator(); ++it)
    cases.insert((*it)[1].str());
  ASSERT_FALSE(cases.empty()) << out;
  for (const auto& inv : invariants()) {
    const TestRef t = parse_ref(inv.fires);
    const std::string want = t.suite + "." + t.name;
    bool found = false;
    for (const auto& c : cases)
      found = found || c == want || (c.size() > want.size() && c.ends_with("/" + want));
    EXPECT_TRUE(found) << inv.id << ": " << want << " is not a ctest case (is its test target built?)";
  }
}

// The runtime-check column names real sources, and one of them emits the ID.
TEST(SpecRegistry, RuntimeCheckSourcesNameTheId) {
  const fs::path root = KHOSPEC_SOURCE_DIR;
  static const std::regex path(R"((model|spec|crosscheck)/[A-Za-z0-9_/]+\.cpp)");
  for (const auto& inv : invariants()) {
    const std::string rc = inv.runtime_check;
    bool any = false, emits = false;
    for (auto it = std::sregex_iterator(rc.begin(), rc.end(), path); it != std::sregex_iterator(); ++it) {
      any = true;
      const fs::path f = root / it->str();
      ASSERT_TRUE(fs::exists(f)) << inv.id << ": " << f;
      emits = emits || slurp(f).find(inv.id) != std::string::npos;
    }
    EXPECT_TRUE(any) << inv.id << ": runtime check names no source: " << rc;
    EXPECT_TRUE(emits) << inv.id << ": none of " << rc << " contains the ID";
  }
}

// A composed obligation assumes lemmas proved by other obligations: each
// must exist at the same bounds and come earlier in the list (so it is
// started first and its verdict is final when the dependent's is folded).
TEST(SpecRegistry, AssumedLemmasComeFirst) {
  const auto obs = list_obligations(default_options());
  std::size_t composed = 0;
  for (std::size_t i = 0; i < obs.size(); ++i)
    for (const auto& a : obs[i].assumes) {
      ++composed;
      std::size_t at = obs.size();
      for (std::size_t j = 0; j < obs.size(); ++j)
        if (obs[j].name == a) at = j;
      EXPECT_LT(at, i) << obs[i].name << " assumes " << a << ", which is not an earlier obligation";
    }
  EXPECT_GE(composed, 5u);  // alloc, populate, layout, window, deserialize
}

// The verdict fold: proved from an unproved lemma is not proved.
TEST(SpecRegistry, UnprovedLemmaFoldsIntoTheResult) {
  ObligationResult r, lemma;
  r.info.name = "composed";
  r.verdict = Verdict::proved;
  r.as_expected = true;
  lemma.info.name = "lemma";
  lemma.verdict = Verdict::proved;
  fold_lemma(r, lemma);
  EXPECT_EQ(r.verdict, Verdict::proved);
  lemma.verdict = Verdict::timeout;
  fold_lemma(r, lemma);
  EXPECT_EQ(r.verdict, Verdict::unknown);
  EXPECT_FALSE(r.as_expected);
  EXPECT_NE(r.reason.find("assumes lemma, which is timeout"), std::string::npos) << r.reason;
}

TEST(SpecRegistry, ObligationNamesAreUnique) {
  std::set<std::string> seen;
  for (const auto& o : list_obligations(default_options())) EXPECT_TRUE(seen.insert(o.name).second) << o.name;
}

}  // namespace
}  // namespace khospec::spec
