// Proof that the proofs can fail: planted bugs in spec-side copies of the
// operations must be refuted, naming the invariant they break.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "spec/z3/obligations.hpp"

namespace khospec::spec {
namespace {

using z3enc::Mutation;

struct Case {
  const char* label;
  Mutation m;
  const char* obligation;                 // name prefix
  std::vector<std::string> expect_any;    // one of these IDs must be named
};

class Mutant : public ::testing::TestWithParam<Case> {};

TEST_P(Mutant, IsRefuted) {
  const Case& tc = GetParam();
  ProveOptions o = default_options();
  o.k = 2;  // small bounds: a refutation needs only a small witness
  o.bmc_steps = 4;
  o.timeout_s = 60;
  const z3enc::Obligation* ob = nullptr;
  auto obs = z3enc::build_obligations(o, tc.m);
  for (const auto& x : obs)
    if (x.info.name.rfind(tc.obligation, 0) == 0) ob = &x;
  ASSERT_NE(ob, nullptr) << tc.obligation;
  // Only the goal the bug should break (the other goals of the obligation
  // are covered by spec_proof_test).
  setenv("KHOSPEC_SPEC_GOAL", tc.expect_any.front().c_str(), 1);
  auto r = z3enc::run_one(*ob, o);
  std::cout << "mutation " << tc.label << ": " << result_line(r) << "\n" << r.counterexample;
  ASSERT_EQ(r.verdict, Verdict::refuted) << result_line(r);
  bool named = false;
  for (const auto& id : r.failing)
    for (const auto& want : tc.expect_any) named = named || id == want;
  EXPECT_TRUE(named) << "failing IDs: " << result_line(r);
  EXPECT_FALSE(r.counterexample.empty());
  // The same goal without the bug is not refuted (proved, or over budget).
  auto clean = z3enc::build_obligations(o);
  for (const auto& x : clean) {
    if (x.info.name == ob->info.name) {
      const auto c = z3enc::run_one(x, o);
      std::cout << "without the bug: " << result_line(c) << "\n";
      EXPECT_NE(c.verdict, Verdict::refuted) << c.counterexample;
    }
  }
  unsetenv("KHOSPEC_SPEC_GOAL");
}

INSTANTIATE_TEST_SUITE_P(
    Planted, Mutant,
    ::testing::Values(
        Case{"merge_ignores_flags", Mutation::merge_ignores_flags, "memblock/add/preserve", {"INV_MEMBLOCK_ADD_MONOTONE"}},
        Case{"add_split_off_by_one", Mutation::add_split_off_by_one, "memblock/add/preserve",
             {"INV_MEMBLOCK_SORTED_DISJOINT", "INV_MEMBLOCK_NO_BUG"}},
        Case{"setclr_split_off_by_one", Mutation::setclr_split_off_by_one, "memblock/setclr_flag/preserve",
             {"INV_MEMBLOCK_NO_BUG", "INV_MEMBLOCK_SORTED_DISJOINT"}},
        Case{"alloc_scratch_check_dropped", Mutation::alloc_scratch_check_dropped, "memblock/alloc/preserve",
             {"INV_MEMBLOCK_SCRATCH_ONLY_ALLOC"}},
        Case{"preserve_scratch_check_dropped", Mutation::preserve_scratch_check_dropped,
             "kho/preserve_folio/preserve[v6.18]", {"INV_SCRATCH_PRESERVED_DISJOINT"}},
        Case{"split_order_off_by_one", Mutation::split_order_off_by_one, "kho/split/cover", {"INV_PRESERVED_SPLIT_EXACT"}},
        Case{"folio_info_pfn_not_phys", Mutation::folio_info_pfn_not_phys, "luo/folio_info_entry/exact",
             {"INV_FOLIO_INFO_ENTRY_EXACT"}},
        Case{"memfd_folio_flags_shift_off_by_one", Mutation::memfd_folio_flags_shift_off_by_one,
             "luo/memfd_folio_entry/exact", {"INV_MEMFD_FOLIO_ENTRY_EXACT"}},
        Case{"kho_block_count_per_block_off_by_one", Mutation::kho_block_count_per_block_off_by_one,
             "luo/kho_block/layout[e=64]", {"INV_KHO_BLOCK_CHAIN_VALID"}}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.label); });

}  // namespace
}  // namespace khospec::spec
