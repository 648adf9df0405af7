// Internal: the obligation table (spec/z3/obligations.cpp, one family per
// spec/z3/obl_*.cpp) and how one obligation runs (spec/z3/query.cpp). The
// mutation tests build the same obligations over a planted bug.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "spec/prove.hpp"
#include "spec/z3/enc.hpp"

namespace khospec::spec::z3enc {

struct Outcome {
  Verdict verdict = Verdict::unknown;
  std::vector<std::string> failing;
  std::string counterexample;
  std::string reason;
};

struct Query {
  z3::context& c;
  const ProveOptions& opts;
  std::string name;
  // Filled by the sub-queries: how many ran and the slowest one.
  unsigned subqueries = 0;
  double slowest_s = 0;
  std::string slowest;
  // What a counterexample should show when it can: tried in order once a
  // refutation is found (after kernel_producible()), each kept if satisfiable.
  std::vector<z3::expr> prefer;
};

struct Obligation {
  ObligationInfo info;
  std::function<Outcome(Query&)> run;
};

std::vector<Obligation> build_obligations(const ProveOptions& opts, Mutation m = Mutation::none);
// Run one obligation in a fresh context (timeouts and --dump-smt2 honoured).
ObligationResult run_one(const Obligation& ob, const ProveOptions& opts);

}  // namespace khospec::spec::z3enc
