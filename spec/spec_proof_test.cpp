// One ctest case per proof obligation (label `proof`): proved, or refuted
// when it is a documented hazard. The bounds come from default_options();
// the ASan build reduces them through KHOSPEC_SPEC_K / KHOSPEC_SPEC_BMC
// (set by spec/CMakeLists.txt) and each test prints the bounds it used.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
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

TEST_P(Proof, AsSpecified) {
  ProveOptions o = default_options();
  o.only = GetParam().name;
  o.run_lemmas = false;  // each lemma an obligation assumes is its own test case
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
