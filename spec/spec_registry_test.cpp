// Traceability (spec/kho.md §7): every INV_* ID of the registry has at least
// one Z3 obligation, a runtime check in the model sources, a property test
// that names it, and a line in spec/kho.md; every INV_* the model emits is
// in the registry. Fails with the list of what is missing.
#include <gtest/gtest.h>

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
    if (!ob) missing.push_back(std::string(inv.id) + ": no Z3 obligation");
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
