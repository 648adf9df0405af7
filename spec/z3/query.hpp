// Internal to spec/z3: the solver façade of the obligation families
// (spec/z3/query.cpp). An obligation states hypotheses and goals as named
// conjuncts; prove_goals() and check_sat() run the queries (tactic, per-query
// timeout, --dump-smt2, timing) and turn the solver's answer into an Outcome,
// with a counterexample rendered by the obligation's Render.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "spec/z3/enc.hpp"
#include "spec/z3/obligations.hpp"

namespace khospec::spec::z3enc {

// Renders a counterexample (a model of hyps ∧ ¬goal) as domain objects.
using Render = std::function<std::string(const z3::model&)>;

inline void append(Conj& a, const Conj& b) { a.insert(a.end(), b.begin(), b.end()); }
// The same conjuncts, each name with `suffix` (" (memory)", " (reserved)").
inline Conj tagged(const Conj& v, const std::string& suffix) {
  Conj o;
  for (const auto& n : v) o.push_back({n.id + suffix, n.e});
  return o;
}
// "[k=K]": the bound in an obligation's name.
inline std::string k_tag(unsigned k) { return "[k=" + std::to_string(k) + "]"; }

// A step of a proof: proved, then assumed by the steps and goals after it
// (A and A ⇒ B prove B). By default it is proved under the hypotheses and
// the steps before it; `under` names a smaller set instead (none for a
// formula that is valid on its own, like "x in [cand, cand + size) and that
// range in [lo, hi) put x in [lo, hi)"): bit-blasting hypotheses a step
// does not need is most of what such a query costs.
//
// A generic step is a lemma over fresh variables (valid, so `under` is
// empty), proved once; the rest then assume its `instances` (the same
// formula with terms for the variables, via substitute()) instead of the
// lemma itself.
struct Step {
  Named fact;
  std::optional<Conj> under;
  Conj instances;
};
using Steps = std::vector<Step>;

// A generic lemma: a formula over fresh 64-bit variables, proved once as a
// Step (valid on its own), then assumed through its instances (the formula
// with terms for the variables).
struct Generic {
  Step step;
  z3::expr_vector vars;
  Named instance(const std::string& id, const std::vector<expr>& terms) const {
    z3::expr_vector to(vars.ctx());
    for (const auto& t : terms) to.push_back(t);
    expr e = step.fact.e;
    return {id, e.substitute(vars, to)};
  }
};
Generic mk_generic(z3::context& c, const std::string& id, const std::vector<std::string>& names,
                   const std::function<expr(const std::vector<expr>&)>& body);

// Preservation-style query: hypotheses ∧ ¬goal, one query per goal (the
// per-goal queries are much cheaper than one big disjunction), and per case
// when `cases` is given: then every (goal, case) pair is its own query and
// one more query checks that the cases are exhaustive under the hypotheses.
// Cases are concrete shapes (a region count, say) that let the simplifier
// resolve the muxes before bit-blasting. `steps` are proved first, in order.
// UNSAT for every query = proved; the first SAT one is the counterexample,
// and every goal false in it is reported.
Outcome prove_goals(Query& q, const Conj& hyps, const Conj& goals, const Render& render, const Conj& cases = {},
                    const Steps& steps = {});

// Non-vacuity (Serval's check-sat?): SAT(∧ hyps). UNSAT = refuted, with the
// unsat core of hypothesis names.
Outcome check_sat(Query& q, const Conj& hyps);

}  // namespace khospec::spec::z3enc
