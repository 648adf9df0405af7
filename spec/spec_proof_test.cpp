// One ctest case per proof obligation (label `proof`): proved, or refuted
// when it is a documented hazard. The bounds come from default_options();
// the ASan build reduces them through KHOSPEC_SPEC_K / KHOSPEC_SPEC_BMC
// (set by spec/CMakeLists.txt) and each test prints the bounds it used.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <set>

#include "spec/prove.hpp"

namespace khospec::spec {
namespace {

// Names without the bounds ("[k=4]"), so the ASan build's reduced bounds
// keep the same ctest names.
std::string test_name(std::string n) {
  for (auto p = n.find("[k="); p != std::string::npos; p = n.find("[k=")) n.erase(p, n.find(']', p) - p + 1);
  std::string o;
  for (char ch : n) o += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return o;
}

class Proof : public ::testing::TestWithParam<ObligationInfo> {};

}  // namespace

// Readable parameter in test listings and failures.
void PrintTo(const ObligationInfo& i, std::ostream* os) { *os << i.name; }

namespace {

// Obligations too slow for a CI test at the default bounds, with why. They
// are NOT checked here: the test says so loudly and skips (ctest lists them
// as skipped, never as passed). spec/kho.md §7 "Measured" gives their times.
const std::map<std::string, std::string> kOverBudget = {
    {"memblock/setclr_flag/preserve",
     "INV_MEMBLOCK_SETCLR_FLAGS_ONLY takes 20-70 s of solver CPU per case, past the 60 s per-query budget under load"},
    {"memblock/alloc/preserve",
     "proved by `khospec prove` (31 queries, each under 25 s), but about 160 s of solver CPU in all: too slow for CI"},
    {"scratch/reserve/layout",
     "proved by `khospec prove`, but its INV_SCRATCH_ALIGNED query takes about 40 s of CPU and can pass 60 s under CI load"}};

TEST_P(Proof, AsSpecified) {
  ProveOptions o = default_options();
  o.only = GetParam().name;
  o.run_lemmas = false;  // each lemma an obligation assumes is its own test case
  const std::string stem = GetParam().name.substr(0, GetParam().name.find('['));
  if (kOverBudget.count(stem) && !std::getenv("KHOSPEC_SPEC_ALL"))
    GTEST_SKIP() << "NOT PROVED HERE: " << GetParam().name << ": " << kOverBudget.at(stem)
                 << " (set KHOSPEC_SPEC_ALL=1 to run it anyway)";
  std::cout << "bounds: k=" << o.k << " bmc=" << o.bmc_steps << " (defaults 2 and 6"
            << (o.k != 2 || o.bmc_steps != 6 ? "; REDUCED for this build" : "") << ")\n";
  auto all = run_obligations(o);
  const ObligationResult* r = nullptr;
  for (const auto& x : all)
    if (x.info.name == GetParam().name) r = &x;
  ASSERT_NE(r, nullptr);
  std::cout << result_line(*r) << "\n" << r->counterexample;
  EXPECT_TRUE(r->as_expected) << result_line(*r) << "\n" << r->counterexample;
  if (r->info.expect_refuted) {
    // A hazard must be refuted for the documented reason.
    bool named = false;
    for (const auto& id : r->failing)
      for (const auto& want : r->info.invariants) named = named || id == want;
    EXPECT_TRUE(named) << "the refutation does not name " << r->info.invariants.front();
    EXPECT_FALSE(r->counterexample.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Spec, Proof, ::testing::ValuesIn(list_obligations(default_options())),
                         [](const ::testing::TestParamInfo<ObligationInfo>& i) { return test_name(i.param.name); });

}  // namespace
}  // namespace khospec::spec
