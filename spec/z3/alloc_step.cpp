// memblock_phys_alloc_range() as a composed proof step (families.hpp): the
// encoded search, the reservation as the add lemma, and the candidate
// arithmetic as a generic lemma (spec/kho.md §7, "Composition").
#include "spec/z3/families.hpp"

namespace khospec::spec::z3enc {

AllocStep alloc_step(z3::context& c, const std::string& name, const SymType& mem, const SymType& res, const expr& so,
                     const expr& size, const expr& align, const expr& start, const expr& end, const expr& x, Mutation mut,
                     Conj& hyps, bool abstract_search) {
  const FindResult f = mb_find(c, mem, res, so, size, align, start, end, mut);
  hyps.push_back({"pre: size > 0, align a power of two (" + name + ")", f.pre});
  expr found = f.found, best = f.best;
  if (abstract_search) {
    // The search's result as fresh values, tied to the candidates by what
    // memblock/alloc/preserve proves of it: the search's ite chain stays
    // out of the query.
    found = c.bool_const((name + ".found").c_str());
    best = c.bv_const((name + ".addr").c_str(), 64);
    hyps.push_back({"lemma INV_MEMBLOCK_SCRATCH_ONLY_ALLOC (" + name + ": the result is a candidate)",
                    is_candidate(c, found, best, f.cands)});
  }
  const Lemma l = add_lemma(c, name, res, best, size, x);
  for (const auto& fact : l.facts) hyps.push_back({fact.id, z3::implies(found, fact.e)});
  return {found, best, z3::ite(found, best, bv(c, 0)), f.pre, f.start, f.end, f.cands, l.next, ite_type(found, l.next, res)};
}

expr fits_in(const expr& a, const expr& size, const expr& lo, const expr& hi) {
  return z3::ule(lo, a) && z3::ule(a, a + size) && z3::ule(a + size, hi);
}

expr in_range(const expr& x, const expr& a, const expr& size) { return z3::uge(x, a) && z3::ult(x - a, size); }

Generic fit_lemma(z3::context& c) {
  return mk_generic(c, "INV_MEMBLOCK_SCRATCH_ONLY_ALLOC (every candidate: the range fits)",
                    {"lo", "hi", "start", "end", "size", "align"}, [&c](const std::vector<expr>& g) {
                      const FitArith f = fit_top_down(g[0], g[1], g[2], g[3], g[4], g[5]);
                      return z3::implies(find_pre(g[4], g[5]) && z3::ule(g[2], g[3]) && f.ok,
                                         fits_in(f.cand, g[4], g[0], g[1]) && fits_in(f.cand, g[4], g[2], g[3]) &&
                                             (f.cand & (g[5] - bv(c, 1))) == bv(c, 0));
                    });
}

void add_fit_instances(const Generic& fit, Step& step, const AllocStep& a, const expr& size, const expr& align,
                       const std::string& name) {
  for (const auto& k : a.cands)
    step.instances.push_back(fit.instance("INV_MEMBLOCK_SCRATCH_ONLY_ALLOC (" + name + k.where + ": the range fits)",
                                          {k.lo, k.hi, a.start, a.end, size, align}));
}

expr is_candidate(z3::context& c, const expr& found, const expr& best, const std::vector<FindCandidate>& cands) {
  expr one_of = c.bool_val(false);
  for (const auto& k : cands) one_of = one_of || (k.ok && best == k.cand);
  return z3::implies(found, one_of);
}

}  // namespace khospec::spec::z3enc
