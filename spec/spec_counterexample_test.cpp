// Counterexamples a kernel could produce (issue 21): every hazard's refutation
// shows addresses below 2^52 (MAX_PHYSMEM_BITS), page-aligned scratch and
// flags the kernel defines; a state-machine hazard's trace ends with what the
// next kernel revives and loses, as `khospec simulate` explains it.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "spec/prove.hpp"

namespace khospec::spec {
namespace {

std::vector<ObligationResult> hazards() {
  ProveOptions o = default_options();
  o.only = "hazard/*";
  o.jobs = 2;
  return run_obligations(o);
}

TEST(SpecCounterexample, HazardsShowWhatAKernelCanProduce) {
  const auto results = hazards();
  ASSERT_GE(results.size(), 8u);
  const std::regex number("0x([0-9a-f]+)");
  const std::regex area(R"(\[(0x[0-9a-f]+|0), (0x[0-9a-f]+|0)\))");
  for (const auto& r : results) {
    SCOPED_TRACE(r.info.name + ":\n" + r.counterexample);
    EXPECT_EQ(r.verdict, Verdict::refuted);
    EXPECT_TRUE(r.as_expected);
    EXPECT_EQ(r.counterexample.find("outside\n   what a kernel produces"), std::string::npos);
    for (std::sregex_iterator it(r.counterexample.begin(), r.counterexample.end(), number), end; it != end; ++it)
      EXPECT_LE((*it)[1].length(), 13u) << (*it)[0];  // <= 52 bits
    const auto scratch = r.counterexample.find("scratch areas:");
    if (scratch != std::string::npos) {
      const std::string line = r.counterexample.substr(scratch, r.counterexample.find('\n', scratch) - scratch);
      for (std::sregex_iterator it(line.begin(), line.end(), area), end; it != end; ++it)
        for (int i = 1; i <= 2; ++i) EXPECT_EQ(std::stoull((*it)[i].str(), nullptr, 16) % 4096, 0u) << line;
    }
    EXPECT_EQ(r.counterexample.find("|0x"), std::string::npos) << "a flag the kernel does not define";
    EXPECT_EQ(r.counterexample.find("nid -"), r.counterexample.find("nid -1")) << "a node id below -1";
  }
}

TEST(SpecCounterexample, StaleMapTraceSaysWhatTheNextKernelLoses) {
  ProveOptions o = default_options();
  o.only = "hazard/v6.19/stale_map";
  const auto results = run_obligations(o);
  ASSERT_EQ(results.size(), 1u);
  const std::string& cx = results[0].counterexample;
  // As `simulate stale-map`: preserve, finalize, a change after it, kexec.
  EXPECT_NE(cx.find("echo 1 > finalize -> ret 0"), std::string::npos) << cx;
  EXPECT_NE(cx.find("kexec -e -> ret 0"), std::string::npos) << cx;
  EXPECT_EQ(cx.find("refused step"), std::string::npos) << cx;
  const std::regex lost(R"(consequence: the next kernel revives \{[B0-9,]*\} \(the map as last serialized\); preserved but lost: \{B[0-9])");
  EXPECT_TRUE(std::regex_search(cx, lost)) << cx;
}

}  // namespace
}  // namespace khospec::spec
