// The proof obligations of spec/kho.md, one function per family. Each query
// is named after its obligation; hypotheses are tracked assertions named by
// INV_* ID (or "pre: ..."), so non-vacuity failures print an unsat core of
// IDs and refutations list the goal IDs that are false in the model.
#include "spec/z3/obligations.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "model/kho/era.hpp"
#include "spec/sm.hpp"

namespace khospec::spec::z3enc {

namespace {

constexpr std::uint64_t kMB = 1ull << 20;
constexpr std::uint64_t kPageblock = 2 * kMB;  // CMA_MIN_ALIGNMENT_BYTES
constexpr std::uint64_t kLowLimit = 0xffffffffull;
constexpr unsigned kMaxPageOrder = 10;
constexpr std::uint32_t kKhoPageMagic = 0x4b484f50;  // "KHOP"

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

bool is_false(const z3::model& m, const expr& e) { return m.eval(e, true).is_false(); }
bool is_true(const z3::model& m, const expr& e) { return m.eval(e, true).is_true(); }
std::uint64_t val(const z3::model& m, const expr& e) { return u64(m.eval(e, true)); }

std::string file_name(const std::string& name) {
  std::string f;
  for (char ch : name) f += (ch == '/' || ch == '[' || ch == ']' || ch == '=' || ch == ' ') ? '_' : ch;
  return f;
}

void configure(Query& q, z3::solver& s) {
  z3::params p(q.c);
  p.set("timeout", q.opts.timeout_s * 1000u);
  s.set(p);
}

void dump(Query& q, z3::solver& s, const std::string& suffix = "") {
  if (q.opts.dump_smt2_dir.empty()) return;
  std::ofstream f(q.opts.dump_smt2_dir + "/" + file_name(q.name) + suffix + ".smt2");
  f << "; khospec prove: " << q.name << "\n" << s.to_smt2();
}

z3::solver mk_bv_solver(Query& q) {
  const char* t = std::getenv("KHOSPEC_SPEC_TACTIC");
  const std::string tac = t ? t : "qfbv";
  if (tac == "qfbv") return z3::solver(q.c, "QF_BV");
  if (tac == "bb")
    return (z3::tactic(q.c, "simplify") & z3::tactic(q.c, "propagate-values") & z3::tactic(q.c, "solve-eqs") &
            z3::tactic(q.c, "bit-blast") & z3::tactic(q.c, "sat"))
        .mk_solver();
  if (tac == "bb2")
    return (z3::tactic(q.c, "simplify") & z3::tactic(q.c, "propagate-values") & z3::tactic(q.c, "solve-eqs") &
            z3::tactic(q.c, "elim-uncnstr") & z3::tactic(q.c, "simplify") & z3::tactic(q.c, "bit-blast") &
            z3::tactic(q.c, "sat"))
        .mk_solver();
  return z3::tactic(q.c, tac.c_str()).mk_solver();
}

Outcome unknown_outcome(z3::solver& s) {
  Outcome o;
  o.reason = s.reason_unknown();
  o.verdict = (o.reason.find("timeout") != std::string::npos || o.reason.find("canceled") != std::string::npos)
                  ? Verdict::timeout
                  : Verdict::unknown;
  return o;
}

using Render = std::function<std::string(const z3::model&)>;

// One sub-query: hyps ∧ extra ∧ ¬goal. Times the check and remembers the
// slowest sub-query of the obligation (reported with the result).
double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

z3::check_result check_one(Query& q, z3::solver& s, const std::string& label) {
  const double c0 = thread_cpu();
  const auto t0 = std::chrono::steady_clock::now();
  const auto res = s.check();
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++q.subqueries;
  if (dt >= q.slowest_s) {
    q.slowest_s = dt;
    q.slowest = label;
  }
  if (std::getenv("KHOSPEC_SPEC_VERBOSE")) std::fprintf(stderr, "  %s %s: %.2fs (cpu %.2fs)\n", q.name.c_str(), label.c_str(), dt, thread_cpu() - c0);
  return res;
}

// Preservation-style query: hypotheses ∧ ¬goal, one query per goal (the
// per-goal queries are much cheaper than one big disjunction), and per case
// when `cases` is given: then every (goal, case) pair is its own query and
// one more query checks that the cases are exhaustive under the hypotheses.
// Cases are concrete shapes (a region count, say) that let the simplifier
// resolve the muxes before bit-blasting. UNSAT for every query = proved;
// the first SAT one is the counterexample, and every goal false in it is
// reported.
void append(Conj& a, const Conj& b) { a.insert(a.end(), b.begin(), b.end()); }

// Cases must cover every state the hypotheses allow: one query checks it.
std::optional<Outcome> check_exhaustive(Query& q, const Conj& hyps, const Conj& cases, const std::string& what) {
  z3::solver s = mk_bv_solver(q);
  configure(q, s);
  for (const auto& h : hyps) s.add(h.e);
  for (const auto& k : cases) s.add(!k.e);
  dump(q, s, ".cases" + what);
  const auto res = check_one(q, s, "cases exhaustive" + what);
  if (res == z3::unsat) return std::nullopt;
  Outcome o = res == z3::unknown ? unknown_outcome(s) : Outcome{Verdict::unknown, {}, {}, {}};
  o.reason += " (the case split" + what + " is not exhaustive)";
  return o;
}

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

Outcome prove_goals(Query& q, const Conj& hyps_in, const Conj& goals, const Render& render, const Conj& cases,
                    const Steps& steps) {
  // Steps first, in order. A refuted step is reported like a goal.
  Conj hyps = hyps_in;
  for (const auto& st : steps) {
    Outcome o = prove_goals(q, st.under ? *st.under : hyps, {st.fact}, render, {}, {});
    if (o.verdict != Verdict::proved) return o;
    if (st.instances.empty()) hyps.push_back(st.fact);
    append(hyps, st.instances);
  }
  // Untracked, on the QF_BV tactic (bit-blasting): tracked assertions would
  // force the incremental core, which is far slower on these queries.
  const char* only = std::getenv("KHOSPEC_SPEC_GOAL");
  if (!cases.empty() && !only)
    if (auto o = check_exhaustive(q, hyps, cases, "")) return *o;
  const Conj one_case = {{"", q.c.bool_val(true)}};
  for (std::size_t gi = 0; gi < goals.size(); ++gi) {
    if (only && goals[gi].id.substr(0, goals[gi].id.find(' ')) != only) continue;  // "ID (detail)" matches ID
    const Conj& all_cases = cases;
    for (std::size_t ci = 0; ci < (all_cases.empty() ? 1 : all_cases.size()); ++ci) {
      const Named& k = all_cases.empty() ? one_case[0] : all_cases[ci];
      z3::solver s = mk_bv_solver(q);
      configure(q, s);
      for (const auto& h : hyps) s.add(h.e);
      s.add(k.e);
      s.add(!goals[gi].e);
      std::string suffix = goals.size() > 1 ? "." + std::to_string(gi) : "";
      if (!all_cases.empty()) suffix += ".case" + std::to_string(ci);
      dump(q, s, suffix);
      const std::string label = goals[gi].id + (k.id.empty() ? "" : " [" + k.id + "]");
      switch (check_one(q, s, label)) {
        case z3::unsat: continue;
        case z3::sat: {
          Outcome o;
          o.verdict = Verdict::refuted;
          const z3::model m = s.get_model();
          for (const auto& g : goals)
            if (is_false(m, g.e) && std::find(o.failing.begin(), o.failing.end(), g.id) == o.failing.end())
              o.failing.push_back(g.id);
          o.counterexample = render ? render(m) : std::string{};
          return o;
        }
        case z3::unknown: {
          Outcome o = unknown_outcome(s);
          o.reason += " on goal " + label;
          return o;
        }
      }
    }
  }
  return {Verdict::proved, {}, {}, {}};
}
Outcome prove_goals(Query& q, const Conj& hyps, const Conj& goals, const Render& render, const Conj& cases) {
  return prove_goals(q, hyps, goals, render, cases, {});
}
Outcome prove_goals(Query& q, const Conj& hyps, const Conj& goals, const Render& render) {
  return prove_goals(q, hyps, goals, render, {});
}

// Non-vacuity (Serval check-sat?): SAT(∧ hyps). UNSAT = refuted, with the core.
Outcome check_sat(Query& q, const Conj& hyps) {
  z3::solver s(q.c);
  configure(q, s);
  for (const auto& h : hyps) s.add(h.e, h.id.c_str());
  dump(q, s);
  switch (check_one(q, s, "nonvacuous")) {
    case z3::sat: return {Verdict::proved, {}, {}, {}};
    case z3::unsat: {
      Outcome o;
      o.verdict = Verdict::refuted;
      const auto core = s.unsat_core();
      for (unsigned i = 0; i < core.size(); ++i) o.failing.push_back(core[i].to_string());
      o.counterexample = "  Inv ∧ Pre is unsatisfiable: the obligation would hold vacuously\n";
      return o;
    }
    case z3::unknown: break;
  }
  return unknown_outcome(s);
}

Conj tagged(const Conj& v, const std::string& suffix) {
  Conj o;
  for (const auto& n : v) o.push_back({n.id + suffix, n.e});
  return o;
}
// Strip the " (memory)"-style suffixes of tracked names: failing lists are IDs.
std::vector<std::string> ids_only(std::vector<std::string> v) {
  for (auto& s : v) {
    auto sp = s.find(' ');
    if (s.rfind("INV_", 0) == 0 && sp != std::string::npos) s = s.substr(0, sp);
    if (s.size() > 2 && s.front() == '|' && s.back() == '|') s = s.substr(1, s.size() - 2);
  }
  std::vector<std::string> o;
  for (auto& s : v)
    if (std::find(o.begin(), o.end(), s) == o.end()) o.push_back(s);
  return o;
}

std::string k_tag(unsigned k) { return "[k=" + std::to_string(k) + "]"; }

// ------------------------------------------------------------ memblock ---

// memblock_phys_alloc_range() composed: the search (mb_find) encoded, the
// reservation __memblock_reserve(addr, size, NUMA_NO_NODE, RSRV_KERN) as the
// add lemma on a fresh state NAME (the call's precondition assumes that the
// reservation fits, so the lemma applies). Adds the call's preconditions and
// the lemma's facts (when an address is found) to `hyps`.
struct AllocStep {
  expr found, best, addr;  // addr = If(found, best, 0)
  expr pre;                // the call's precondition (FindResult::pre)
  expr start, end;         // FindResult::start, end
  std::vector<FindCandidate> cands;  // FindResult::cands
  SymType after;     // the fresh state of the add lemma (meaningful when found)
  SymType reserved;  // the reserved array after the call: If(found, after, res)
};
expr is_candidate(z3::context& c, const expr& found, const expr& best, const std::vector<FindCandidate>& cands);
AllocStep alloc_step(z3::context& c, const std::string& name, const SymType& mem, const SymType& res, const expr& so,
                     const expr& size, const expr& align, const expr& start, const expr& end, const expr& x, Mutation mut,
                     Conj& hyps, bool abstract_search = false) {
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
                   const std::function<expr(const std::vector<expr>&)>& body) {
  std::vector<expr> v;
  z3::expr_vector vars(c);
  for (const auto& n : names) {
    v.push_back(c.bv_const(("lemma." + n).c_str(), 64));
    vars.push_back(v.back());
  }
  return {{{id, body(v)}, Conj{}, {}}, vars};
}

// lo <= a <= a + size <= hi: [a, a + size) lies in [lo, hi) and does not wrap.
expr fits_in(const expr& a, const expr& size, const expr& lo, const expr& hi) {
  return z3::ule(lo, a) && z3::ule(a, a + size) && z3::ule(a + size, hi);
}
expr in_range(const expr& x, const expr& a, const expr& size) { return z3::uge(x, a) && z3::ult(x - a, size); }

// The arithmetic of one search candidate (fit_top_down()): under the call's
// precondition a range that fits yields an address aligned to `align`,
// inside the free range [lo, hi) and the clamped [start, end).
Generic fit_lemma(z3::context& c) {
  return mk_generic(c, "INV_MEMBLOCK_SCRATCH_ONLY_ALLOC (every candidate: the range fits)",
                    {"lo", "hi", "start", "end", "size", "align"}, [&c](const std::vector<expr>& g) {
                      const FitArith f = fit_top_down(g[0], g[1], g[2], g[3], g[4], g[5]);
                      return z3::implies(find_pre(g[4], g[5]) && z3::ule(g[2], g[3]) && f.ok,
                                         fits_in(f.cand, g[4], g[0], g[1]) && fits_in(f.cand, g[4], g[2], g[3]) &&
                                             (f.cand & (g[5] - bv(c, 1))) == bv(c, 0));
                    });
}
// Its instances for every candidate of one allocation, appended to `step`.
void add_fit_instances(const Generic& fit, Step& step, const AllocStep& a, const expr& size, const expr& align,
                       const std::string& name) {
  for (const auto& k : a.cands)
    step.instances.push_back(fit.instance("INV_MEMBLOCK_SCRATCH_ONLY_ALLOC (" + name + k.where + ": the range fits)",
                                          {k.lo, k.hi, a.start, a.end, size, align}));
}
// A found address is one of the candidates.
expr is_candidate(z3::context& c, const expr& found, const expr& best, const std::vector<FindCandidate>& cands) {
  expr one_of = c.bool_val(false);
  for (const auto& k : cands) one_of = one_of || (k.ok && best == k.cand);
  return z3::implies(found, one_of);
}

struct MbCall {
  std::string op;     // add, reserve, remove, free, setclr_flag
  bool reserved_type; // operates on memblock.reserved
};

void memblock_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation mut) {
  const unsigned K = opts.k;
  const std::vector<MbCall> calls = {{"add", false}, {"reserve", true}, {"remove", false}, {"free", true},
                                     {"setclr_flag", false}};
  for (const auto& call : calls) {
    auto build = [call, K, mut](z3::context& c, Conj& hyps, Conj& goals, Render& render, Conj& cases) {
      const std::string tname = call.reserved_type ? "reserved" : "memory";
      SymType t = mk_type(c, tname, K);
      expr base = c.bv_const("base", 64), size = c.bv_const("size", 64);
      expr nid = c.bv_const("nid", 32), flags = c.bv_const("flags", 32), flag = c.bv_const("flag", 32);
      expr setb = c.bool_const("set"), x = c.bv_const("x", 64);
      append(hyps, memblock_state_inv(c, t));
      OpResult r{t, c.bool_val(true), bv(c, 0), c.bool_val(true), t, c.bool_val(false)};
      Conj inv_after;
      expr trans = c.bool_val(true);
      std::string trans_id;
      if (call.op == "add" || call.op == "reserve") {
        if (call.op == "reserve") {  // v6.16 memblock_reserve(): NUMA_NO_NODE, flags 0
          nid = bv(c, 0xffffffffu, 32);
          flags = bv(c, 0, 32);
        }
        r = mb_add(c, t, base, size, nid, flags, mut);
        inv_after = memblock_state_inv(c, r.next);
        trans = add_monotone(c, t, r.next, base, size, x);
        trans_id = "INV_MEMBLOCK_ADD_MONOTONE";
      } else if (call.op == "remove" || call.op == "free") {
        r = mb_remove(c, t, base, size);
        inv_after = memblock_state_inv(c, r.next);
      } else {
        auto rs = mb_setclr(c, t, base, size, true, flag, mut);
        auto rc = mb_setclr(c, t, base, size, false, flag, mut);
        const SymType n = ite_type(setb, rs.next, rc.next);
        inv_after = memblock_state_inv(c, n);  // If(setb, If(apply, Inv(S'), Inv(S)), ...): pushed by SymType::ite
        r = {n, z3::ite(setb, rs.pre, rc.pre), bv(c, 0), z3::ite(setb, rs.no_bug, rc.no_bug), n, c.bool_val(true)};
        trans = z3::ite(setb, setclr_flags_only(c, t, n, base, size, true, flag, x),
                        setclr_flags_only(c, t, n, base, size, false, flag, x));
        trans_id = "INV_MEMBLOCK_SETCLR_FLAGS_ONLY";
        // Set and clear are separate queries: each sees one normalization.
        cases = {{"set", setb}, {"clear", !setb}};
      }
      hyps.push_back({"pre: the result fits in " + std::to_string(K) + " slots (no doubling)", r.pre});
      append(goals, inv_after);
      goals.push_back({"INV_MEMBLOCK_NO_BUG", r.no_bug});
      if (!trans_id.empty()) {
        goals.push_back({trans_id, trans});
      }
      const SymType next = r.next;
      render = [=](const z3::model& m) {
        std::ostringstream o;
        o << "  call: memblock_" << call.op << "(base " << hex(val(m, base)) << ", size " << hex(val(m, size));
        if (call.op == "add") o << ", nid " << static_cast<std::int32_t>(val(m, nid)) << ", flags " << model::flags_to_string(static_cast<std::uint32_t>(val(m, flags)));
        if (call.op == "setclr_flag") o << ", " << (is_true(m, setb) ? "set " : "clear ") << model::flags_to_string(static_cast<std::uint32_t>(val(m, flag)));
        o << ")\n  before:\n" << render_type(tname, eval_type(m, t)) << "  after:\n" << render_type(tname, eval_type(m, next));
        if (!trans_id.empty()) o << "  witness address x = " << hex(val(m, x)) << "\n";
        return o.str();
      };
    };
    const std::string base_name = "memblock/" + call.op;
    std::vector<std::string> ids = {"INV_MEMBLOCK_CAPACITY", "INV_MEMBLOCK_REGION_BOUNDS", "INV_MEMBLOCK_SORTED_DISJOINT",
                                    "INV_MEMBLOCK_MERGED", "INV_MEMBLOCK_TOTAL"};
    out.push_back({{base_name + "/nonvacuous", "all", ObligationKind::nonvacuous, ids, false,
                    "Inv ∧ Pre(memblock_" + call.op + ") is satisfiable"},
                   [build](Query& q) {
                     Conj hyps, goals, cases;
                     Render r;
                     build(q.c, hyps, goals, r, cases);
                     return check_sat(q, hyps);
                   }});
    auto pids = ids;
    pids.push_back("INV_MEMBLOCK_NO_BUG");
    if (call.op == "add" || call.op == "reserve") pids.push_back("INV_MEMBLOCK_ADD_MONOTONE");
    if (call.op == "setclr_flag") pids.push_back("INV_MEMBLOCK_SETCLR_FLAGS_ONLY");
    out.push_back({{base_name + "/preserve" + k_tag(K), "all", ObligationKind::preserve, pids, false,
                    "Inv ∧ Pre ⇒ Inv(memblock_" + call.op + "(S)) on " + std::to_string(K) + " symbolic regions"},
                   [build](Query& q) {
                     Conj hyps, goals, cases;
                     Render r;
                     build(q.c, hyps, goals, r, cases);
                     return prove_goals(q, hyps, goals, r, cases, {});
                   }});
  }

  // memblock_phys_alloc_range() top-down, with or without scratch-only.
  // Non-vacuity on the fully encoded call (a real successful allocation);
  // preservation as find ∘ reserve: the search is encoded, the reservation is
  // the add lemma (memblock/add/preserve) on a fresh state.
  auto alloc_vars = [](z3::context& c, unsigned k) {
    struct V {
      SymType mem, res;
      expr so, size, align, start, end, x;
    };
    return V{mk_type(c, "memory", k), mk_type(c, "reserved", k), c.bool_const("scratch_only"), c.bv_const("size", 64),
             c.bv_const("align", 64),  c.bv_const("start", 64),   c.bv_const("end", 64),          c.bv_const("x", 64)};
  };
  out.push_back({{"memblock/alloc/nonvacuous", "all", ObligationKind::nonvacuous,
                  {"INV_MEMBLOCK_CAPACITY", "INV_MEMBLOCK_SORTED_DISJOINT", "INV_MEMBLOCK_MERGED", "INV_MEMBLOCK_TOTAL",
                   "INV_MEMBLOCK_REGION_BOUNDS"},
                  false, "Inv ∧ Pre(memblock_phys_alloc_range) is satisfiable, with a successful allocation"},
                 [K, mut, alloc_vars](Query& q) {
                   auto& c = q.c;
                   auto v = alloc_vars(c, K);
                   Conj hyps = tagged(memblock_state_inv(c, v.mem), " (memory)");
                   append(hyps, tagged(memblock_state_inv(c, v.res), " (reserved)"));
                   auto a = mb_alloc(c, v.mem, v.res, v.so, v.size, v.align, v.start, v.end, mut);
                   hyps.push_back({"pre: size > 0, align a power of two, the reservation fits", a.pre});
                   hyps.push_back({"pre: the allocation succeeds", a.addr != bv(c, 0)});
                   return check_sat(q, hyps);
                 }});
  out.push_back({{"memblock/alloc/preserve" + k_tag(K), "all", ObligationKind::preserve,
                  {"INV_MEMBLOCK_CAPACITY", "INV_MEMBLOCK_REGION_BOUNDS", "INV_MEMBLOCK_SORTED_DISJOINT",
                   "INV_MEMBLOCK_MERGED", "INV_MEMBLOCK_TOTAL", "INV_MEMBLOCK_SCRATCH_ONLY_ALLOC", "INV_MEMBLOCK_ADD_MONOTONE"},
                  false, "top-down allocation keeps the reserved array valid and, in scratch-only mode, stays in KHO_SCRATCH"},
                 [K, mut, alloc_vars](Query& q) {
                   auto& c = q.c;
                   auto v = alloc_vars(c, K);
                   Conj tables = tagged(memblock_state_inv(c, v.mem), " (memory)");  // Inv(memory), Inv(reserved)
                   append(tables, tagged(memblock_state_inv(c, v.res), " (reserved)"));
                   Conj hyps = tables;
                   const AllocStep a = alloc_step(c, "reserved'", v.mem, v.res, v.so, v.size, v.align, v.start, v.end, v.x, mut, hyps);
                   // Inv(If(found, S', S)): memblock_state_inv() states it as If(found, Inv(S'), Inv(S)) (SymType::ite).
                   Conj goals;
                   for (const auto& inv : memblock_state_inv(c, a.reserved)) goals.push_back(inv);
                   // INV_MEMBLOCK_SCRATCH_ONLY_ALLOC for every candidate range the
                   // search may return, then: a found address is one of them.
                   auto scratch_alloc_ok = [&](const expr& addr, const expr& size) {
                     return z3::implies(in_range(v.x, addr, size), !covered(c, v.res, v.x) &&
                                                z3::implies(v.so, covered(c, v.mem, v.x) &&
                                                                      (flags_at(c, v.mem, v.x) & bv(c, model::MEMBLOCK_KHO_SCRATCH, 32)) !=
                                                                          bv(c, 0, 32)));
                   };
                   // Three steps per candidate: the returned range lies in the free
                   // range, so x in it is in the free range (two generic lemmas of
                   // arithmetic, proved once over fresh variables and instantiated
                   // per candidate), and the free range has the property (the two
                   // region tables' invariants and the call's precondition only).
                   const Generic fit = fit_lemma(c);
                   const Generic inside = mk_generic(c, "INV_MEMBLOCK_SCRATCH_ONLY_ALLOC (every candidate: inside the free range)",
                                                     {"lo", "hi", "cand", "size", "x"}, [](const std::vector<expr>& g) {
                                                       return z3::implies(fits_in(g[2], g[3], g[0], g[1]) && in_range(g[4], g[2], g[3]),
                                                                          z3::uge(g[4], g[0]) && z3::ult(g[4], g[1]));
                                                     });
                   Steps steps = {fit.step, inside.step};
                   add_fit_instances(fit, steps[0], a, v.size, v.align, "");
                   Conj tables_pre = tables;
                   tables_pre.push_back({"pre: size > 0, align a power of two", a.pre});
                   for (const auto& k : a.cands) {
                     steps[1].instances.push_back(inside.instance("INV_MEMBLOCK_SCRATCH_ONLY_ALLOC (" + k.where + ": inside the free range)",
                                                                  {k.lo, k.hi, k.cand, v.size, v.x}));
                     steps.push_back({{"INV_MEMBLOCK_SCRATCH_ONLY_ALLOC (" + k.where + ": the free range)",
                                       z3::implies(k.ok && z3::uge(v.x, k.lo) && z3::ult(v.x, k.hi), scratch_alloc_ok(v.x, v.x + bv(c, 1)))},
                                      tables_pre, {}});
                     goals.push_back({"INV_MEMBLOCK_SCRATCH_ONLY_ALLOC (" + k.where + ")", z3::implies(k.ok, scratch_alloc_ok(k.cand, v.size))});
                   }
                   goals.push_back({"INV_MEMBLOCK_SCRATCH_ONLY_ALLOC (the result is a candidate)", is_candidate(c, a.found, a.best, a.cands)});
                   goals.push_back({"INV_MEMBLOCK_ADD_MONOTONE",
                                    z3::implies(a.found, add_monotone(c, v.res, a.after, a.best, v.size, v.x))});
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     std::ostringstream o;
                     o << "  call: memblock_phys_alloc_range(size " << hex(val(m, v.size)) << ", align " << hex(val(m, v.align))
                       << ", start " << hex(val(m, v.start)) << ", end " << hex(val(m, v.end)) << ") scratch_only="
                       << (is_true(m, v.so) ? "true" : "false") << " -> " << hex(val(m, a.addr)) << "\n"
                       << render_type("memory", eval_type(m, v.mem)) << "  reserved before:\n" << render_type("reserved", eval_type(m, v.res))
                       << "  reserved after:\n" << render_type("reserved", eval_type(m, a.reserved)) << "  witness address x = " << hex(val(m, v.x)) << "\n";
                     return o.str();
                   }, {}, steps);
                 }});
  out.back().info.assumes = {"memblock/add/preserve" + k_tag(K)};
}

// ------------------------------------------------------------- scratch ---

std::vector<expr> le_bytes(const expr& v) {
  std::vector<expr> b;
  for (unsigned i = 0; i < 8; ++i) b.push_back(v.extract(8 * i + 7, 8 * i));
  return b;
}
expr le_load(const std::vector<expr>& b) {
  expr v = b[7];
  for (unsigned i = 7; i-- > 0;) v = z3::concat(v, b[i]);
  return v;
}

void scratch_family(std::vector<Obligation>& out, const ProveOptions& opts) {
  const unsigned K = opts.k;
  // kho_populate() in kernel N >= 2: memblock_add + memblock_mark_kho_scratch.
  out.push_back({{"scratch/populate/preserve" + k_tag(K), "all", ObligationKind::preserve,
                  {"INV_SCRATCH_IN_MEMORY", "INV_SCRATCH_STABLE", "INV_MEMBLOCK_SORTED_DISJOINT", "INV_MEMBLOCK_MERGED"},
                  false, "kho_populate(): each handed-over area becomes KHO_SCRATCH memory; the array round-trips"},
                 [K](Query& q) {
                   auto& c = q.c;
                   SymType mem = mk_type(c, "memory", K);
                   expr a = c.bv_const("scratch.addr", 64), s = c.bv_const("scratch.size", 64), x = c.bv_const("x", 64);
                   Conj hyps = memblock_state_inv(c, mem), goals;
                   hyps.push_back({"pre: the area does not wrap", z3::ule(a, ~s)});
                   // memblock_add(addr, size) then memblock_mark_kho_scratch(addr, size),
                   // both assumed to fit (pre), as lemmas on fresh states.
                   const Lemma add = add_lemma(c, "memory'", mem, a, s, x);  // nid MAX_NUMNODES, flags 0
                   const Lemma mark = setclr_lemma(c, "memory''", add.next, a, s, true, bv(c, model::MEMBLOCK_KHO_SCRATCH, 32), x);
                   append(hyps, add.facts);
                   append(hyps, mark.facts);
                   append(goals, memblock_state_inv(c, mark.next));
                   const expr in = z3::uge(x, a) && z3::ult(x - a, s);
                   goals.push_back({"INV_SCRATCH_IN_MEMORY",
                                    z3::implies(in, covered(c, mark.next, x) &&
                                                        (flags_at(c, mark.next, x) & bv(c, model::MEMBLOCK_KHO_SCRATCH, 32)) != bv(c, 0, 32))});
                   // struct kho_scratch {addr, size} copied as native-endian bytes by
                   // kho_fill_kimage and read back by kho_populate.
                   goals.push_back({"INV_SCRATCH_STABLE", le_load(le_bytes(a)) == a && le_load(le_bytes(s)) == s});
                   const SymType next = mark.next;
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     return "  scratch area [" + hex(val(m, a)) + ", +" + hex(val(m, s)) + ")\n  before:\n" +
                            render_type("memory", eval_type(m, mem)) + "  after add + mark:\n" +
                            render_type("memory", eval_type(m, next)) + "  witness x = " + hex(val(m, x)) + "\n";
                   });
                 }});
  out.back().info.assumes = {"memblock/add/preserve" + k_tag(K), "memblock/setclr_flag/preserve" + k_tag(K)};
  // kho_reserve_scratch() on a cold boot, one node: lowmem, global, node 0.
  const unsigned Ks = K;
  out.push_back({{"scratch/reserve/layout" + k_tag(Ks), "all", ObligationKind::preserve,
                  {"INV_SCRATCH_COUNT", "INV_SCRATCH_ALIGNED"},
                  false, "kho_reserve_scratch(): 2 + nodes areas, pageblock aligned, disjoint, lowmem below 4 GiB"},
                 [Ks](Query& q) {
                   auto& c = q.c;
                   SymType mem = mk_type(c, "memory", Ks), res = mk_type(c, "reserved", Ks);
                   const expr x = c.bv_const("x", 64);
                   Conj hyps = tagged(memblock_state_inv(c, mem), " (memory)");
                   append(hyps, tagged(memblock_state_inv(c, res), " (reserved)"));
                   const char* names[3] = {"lowmem", "global", "node0"};
                   std::vector<expr> addr, size;
                   SymType cur = res;
                   std::vector<SymType> curs = {res};  // reserved before each allocation, and after the last
                   // memblock/alloc/preserve, per allocation, with the search's result
                   // abstracted: "the result is a candidate", the candidates'
                   // arithmetic (the generic lemma, instantiated), the reservation's
                   // INV_MEMBLOCK_ADD_MONOTONE, and "the allocated range was free".
                   const Generic fit = fit_lemma(c);
                   Step fit_step = fit.step;
                   std::vector<Conj> found_facts(3);  // pre, candidate, fit instances
                   std::vector<Named> monotone, was_free;
                   auto pick = [](const Conj& v, const std::string& what) {
                     auto it = std::find_if(v.begin(), v.end(), [&](const Named& n) { return n.id.find(what) != std::string::npos; });
                     if (it == v.end()) throw std::logic_error("alloc_step() made no fact '" + what + "'");
                     return *it;
                   };
                   for (int i = 0; i < 3; ++i) {
                     size.push_back(c.bv_const((std::string(names[i]) + ".size").c_str(), 64));
                     Conj local;
                     const AllocStep al = alloc_step(c, std::string("reserved after ") + names[i], mem, cur, c.bool_val(false),
                                                     size.back(), bv(c, kPageblock), bv(c, 0), i == 0 ? bv(c, kLowLimit) : bv(c, 0),
                                                     x, Mutation::none, local, true);
                     const std::size_t first = fit_step.instances.size();
                     add_fit_instances(fit, fit_step, al, size.back(), bv(c, kPageblock), std::string(names[i]) + ": ");
                     found_facts[i] = {pick(local, "pre:"), pick(local, "the result is a candidate")};
                     found_facts[i].insert(found_facts[i].end(), fit_step.instances.begin() + first, fit_step.instances.end());
                     monotone.push_back(pick(local, "INV_MEMBLOCK_ADD_MONOTONE"));
                     was_free.push_back({std::string("lemma INV_MEMBLOCK_SCRATCH_ONLY_ALLOC (") + names[i] + ")",
                                         z3::implies(al.addr != bv(c, 0) && in_range(x, al.addr, size.back()), !covered(c, cur, x))});
                     append(hyps, local);
                     hyps.push_back(was_free.back());
                     addr.push_back(al.addr);
                     cur = al.reserved;
                     curs.push_back(cur);
                   }
                   // Each goal under only the facts it needs (bit-blasting the rest is
                   // most of the cost): an area's alignment and the lowmem limit from
                   // its own search; a pair's disjointness, at every address x, from
                   // the first area's extent, the reservations in between and the
                   // second allocation's "was free".
                   Steps steps = {fit_step};
                   std::vector<Named> aligned;
                   auto in = [&](int i) { return addr[i] != bv(c, 0) && in_range(x, addr[i], size[i]); };
                   for (int i = 0; i < 3; ++i) {
                     aligned.push_back({std::string("INV_SCRATCH_ALIGNED (") + names[i] + " aligned)",
                                        (addr[i] & bv(c, kPageblock - 1)) == bv(c, 0) &&
                                            z3::implies(addr[i] != bv(c, 0), z3::ule(addr[i], addr[i] + size[i]))});
                     steps.push_back({aligned.back(), found_facts[i], {}});
                   }
                   steps.push_back({{"INV_SCRATCH_COUNT", z3::implies(addr[0] != bv(c, 0), z3::ule(addr[0] + size[0], bv(c, kLowLimit)))},
                                    found_facts[0], {}});
                   // Coverage only (INV_MEMBLOCK_ADD_MONOTONE also speaks of flags):
                   // an area is reserved once allocated, and stays reserved.
                   std::vector<Named> covers, keeps;
                   for (int i = 0; i < 3; ++i) {
                     covers.push_back({std::string("INV_SCRATCH_ALIGNED (") + names[i] + " reserved by its allocation)",
                                       z3::implies(in(i), covered(c, curs[i + 1], x))});
                     steps.push_back({covers.back(), Conj{aligned[i], monotone[i]}, {}});
                     keeps.push_back({std::string("INV_SCRATCH_ALIGNED (") + names[i] + "'s reservation keeps what was reserved)",
                                      z3::implies(covered(c, curs[i], x), covered(c, curs[i + 1], x))});
                     steps.push_back({keeps.back(), Conj{monotone[i]}, {}});
                   }
                   for (int i = 0; i < 3; ++i)
                     for (int j = i + 1; j < 3; ++j) {
                       Conj under = {covers[i], was_free[j]};
                       for (int k = i + 1; k < j; ++k) under.push_back(keeps[k]);
                       steps.push_back({{std::string("INV_SCRATCH_ALIGNED (") + names[i] + " and " + names[j] + " disjoint)", !(in(i) && in(j))},
                                        under, {}});
                     }
                   const Conj goals;
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     std::string o = render_type("memory", eval_type(m, mem)) + render_type("reserved", eval_type(m, res));
                     for (int i = 0; i < 3; ++i)
                       o += std::string("  ") + names[i] + ": size " + hex(val(m, size[i])) + " at " + hex(val(m, addr[i])) + "\n";
                     return o + "  witness x = " + hex(val(m, x)) + "\n";
                   }, {}, steps);
                 }});
  out.back().info.assumes = {"memblock/alloc/preserve" + k_tag(Ks)};
  // The documented underflow (kho-model.md §2.1 obs): global goes negative.
  out.push_back({{"hazard/all/scratch_global_underflow", "all", ObligationKind::hazard,
                  {"HAZARD_SCRATCH_GLOBAL_UNDERFLOW", "INV_SCRATCH_COUNT"}, true,
                  "scratch_size_update(): global = round_up(R(any)*scale/100 - lowmem) wraps to 0 on small machines"},
                 [](Query& q) {
                   auto& c = q.c;
                   expr mem = c.bv_const("machine_memory", 64), rlow = c.bv_const("R_low", 64), rany = c.bv_const("R_any", 64);
                   const expr scale = bv(c, 200), al = bv(c, kPageblock);
                   auto round_up = [&](const expr& v) { return (v + al - bv(c, 1)) & ~(al - bv(c, 1)); };
                   const expr lowmem = round_up(rlow * scale / bv(c, 100));
                   const expr global = round_up(rany * scale / bv(c, 100) - lowmem);
                   Conj hyps = {{"pre: a small machine: 128 MiB <= memory <= 4 GiB, a multiple of 128 MiB",
                                 z3::ule(bv(c, 128 * kMB), mem) && z3::ule(mem, bv(c, 1ull << 32)) &&
                                     (mem & bv(c, (128 * kMB) - 1)) == bv(c, 0)},
                                {"pre: 0 < R(low) <= memory / 4", z3::ult(bv(c, 0), rlow) && z3::ule(rlow * bv(c, 4), mem)},
                                {"pre: all RSRV_KERN memory lies below 4 GiB, so R(any) = R(low)", rany == rlow}};
                   // The property the kernel needs: a KHO kernel gets a non-empty global area.
                   Conj goals = {{"HAZARD_SCRATCH_GLOBAL_UNDERFLOW", global != bv(c, 0)}};
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     std::ostringstream o;
                     o << "  machine memory " << hex(val(m, mem)) << " (" << val(m, mem) / kMB << " MiB), kho_scratch=200%\n"
                       << "  R(ARCH_LOW_ADDRESS_LIMIT) = " << hex(val(m, rlow)) << ", R(ANYWHERE) = " << hex(val(m, rany))
                       << " (all RSRV_KERN memory below 4 GiB)\n"
                       << "  lowmem = round_up(" << hex(val(m, rlow)) << " * 2, 2M) = " << hex(val(m, lowmem)) << "\n"
                       << "  global = round_up(" << hex(val(m, rany)) << " * 2 - lowmem, 2M) = "
                       << hex(val(m, rany * scale / bv(q.c, 100) - lowmem)) << " rounded -> " << hex(val(m, global))
                       << "  <- empty global scratch area (R(any) - lowmem underflows)\n";
                     return o.str();
                   });
                 }});
}

// -------------------------------------------------------- preservation ---

struct PSet {
  std::vector<expr> valid, pfn, order;
  // Set by pset_insert(): slot i took the block (ins_pfn, ins_order) iff
  // take[i]; prev is the set before. pset_inv() then states Inv per slot as
  // If(take[i], Inv(block), Inv(prev slot)), the same formula with the muxes
  // pushed out (as SymType::ite does for memblock).
  std::vector<expr> take;
  std::vector<expr> prev_valid, prev_pfn, prev_order;
  std::vector<expr> ins;  // {pfn, order} when take is set
};
PSet mk_pset(z3::context& c, const std::string& p, unsigned n) {
  PSet s;
  for (unsigned i = 0; i < n; ++i) {
    const std::string pre = p + "[" + std::to_string(i) + "].";
    s.valid.push_back(c.bool_const((pre + "valid").c_str()));
    s.pfn.push_back(c.bv_const((pre + "pfn").c_str(), 64));
    s.order.push_back(c.bv_const((pre + "order").c_str(), 64));
  }
  return s;
}
expr pow2(z3::context& c, const expr& o) { return z3::shl(bv(c, 1), o); }
// Block well-formed: order <= 51, pfn aligned, inside the 52-bit pfn space.
expr block_ok(z3::context& c, const expr& pfn, const expr& o) {
  return z3::ule(o, bv(c, 51)) && (pfn & (pow2(c, o) - bv(c, 1))) == bv(c, 0) &&
         z3::ule(pfn, bv(c, 1ull << 52) - pow2(c, o));
}
expr overlaps(z3::context& c, const expr& pfn, const expr& o, const expr& a, const expr& s) {
  // [pfn << 12, (pfn + 2^o) << 12) ∩ [a, a + s) ≠ ∅
  const expr lo = z3::shl(pfn, bv(c, 12)), hi = z3::shl(pfn + pow2(c, o), bv(c, 12));
  return s != bv(c, 0) && z3::ult(lo, a + s) && z3::ult(a, hi);
}

struct Areas {
  std::vector<expr> a, s;
};
Areas mk_areas(z3::context& c, unsigned n) {
  Areas r;
  for (unsigned i = 0; i < n; ++i) {
    r.a.push_back(c.bv_const(("scratch[" + std::to_string(i) + "].addr").c_str(), 64));
    r.s.push_back(c.bv_const(("scratch[" + std::to_string(i) + "].size").c_str(), 64));
  }
  return r;
}
expr areas_ok(z3::context& c, const Areas& ar) {
  expr e = c.bool_val(true);
  for (std::size_t i = 0; i < ar.a.size(); ++i) e = e && z3::ule(ar.a[i], ~ar.s[i]);
  return e;
}
expr in_scratch(z3::context& c, const Areas& ar, const expr& pfn, const expr& o) {
  expr e = c.bool_val(false);
  for (std::size_t i = 0; i < ar.a.size(); ++i) e = e || overlaps(c, pfn, o, ar.a[i], ar.s[i]);
  return e;
}

Conj pset_inv(z3::context& c, const PSet& p, const Areas& ar, bool scratch_check, bool restorable) {
  struct SlotInv {
    expr aligned, disjoint, restore;
  };
  auto slot = [&](const expr& valid, const expr& pfn, const expr& o) {
    return SlotInv{z3::implies(valid, block_ok(c, pfn, o)), z3::implies(valid, !in_scratch(c, ar, pfn, o)),
                   z3::implies(valid, z3::ule(o, bv(c, kMaxPageOrder)))};
  };
  expr aligned = c.bool_val(true), disjoint = c.bool_val(true), restore = c.bool_val(true);
  for (std::size_t i = 0; i < p.valid.size(); ++i) {
    SlotInv e = slot(p.valid[i], p.pfn[i], p.order[i]);
    if (!p.take.empty()) {
      const SlotInv a = slot(c.bool_val(true), p.ins[0], p.ins[1]), b = slot(p.prev_valid[i], p.prev_pfn[i], p.prev_order[i]);
      e = {z3::ite(p.take[i], a.aligned, b.aligned), z3::ite(p.take[i], a.disjoint, b.disjoint),
           z3::ite(p.take[i], a.restore, b.restore)};
    }
    aligned = aligned && e.aligned;
    disjoint = disjoint && e.disjoint;
    restore = restore && e.restore;
  }
  Conj v = {{"INV_PRESERVED_ALIGNED", aligned}};
  if (scratch_check) v.push_back({"INV_SCRATCH_PRESERVED_DISJOINT", disjoint});
  if (restorable) v.push_back({"INV_PRESERVED_ORDER_RESTORABLE", restore});
  return v;
}
expr pset_disjoint(z3::context& c, const PSet& p) {
  expr pair = c.bool_val(true);
  for (std::size_t i = 0; i < p.valid.size(); ++i)
    for (std::size_t j = i + 1; j < p.valid.size(); ++j) {
      const expr lo_i = p.pfn[i], hi_i = p.pfn[i] + pow2(c, p.order[i]);
      const expr lo_j = p.pfn[j], hi_j = p.pfn[j] + pow2(c, p.order[j]);
      pair = pair && z3::implies(p.valid[i] && p.valid[j], z3::ule(hi_i, lo_j) || z3::ule(hi_j, lo_i));
    }
  return pair;
}

// __kho_preserve_order() on a bounded set: the block goes to the first free
// slot (no change when it is already there).
PSet pset_insert(z3::context& c, const PSet& p, const expr& go, const expr& pfn, const expr& o, expr& has_room) {
  expr present = c.bool_val(false), earlier_full = c.bool_val(true);
  for (std::size_t i = 0; i < p.valid.size(); ++i) present = present || (p.valid[i] && p.pfn[i] == pfn && p.order[i] == o);
  PSet n;
  has_room = present;
  for (std::size_t i = 0; i < p.valid.size(); ++i) {
    const expr take = go && !present && !p.valid[i] && earlier_full;
    has_room = has_room || !p.valid[i];
    n.valid.push_back(p.valid[i] || take);
    n.pfn.push_back(z3::ite(take, pfn, p.pfn[i]));
    n.order.push_back(z3::ite(take, o, p.order[i]));
    n.take.push_back(take);
    earlier_full = earlier_full && p.valid[i];
  }
  n.prev_valid = p.valid;
  n.prev_pfn = p.pfn;
  n.prev_order = p.order;
  n.ins = {pfn, o};
  return n;
}

std::string render_pset(const z3::model& m, const std::string& title, const PSet& p) {
  std::string o = "  " + title + ":";
  bool any = false;
  for (std::size_t i = 0; i < p.valid.size(); ++i) {
    if (!is_true(m, p.valid[i])) continue;
    any = true;
    const auto pfn = val(m, p.pfn[i]), ord = val(m, p.order[i]);
    o += "\n    (pfn " + hex(pfn) + ", order " + std::to_string(ord) + ") phys [" + hex(pfn << 12) + ", " +
         hex((pfn + (1ull << (ord & 63))) << 12) + ")";
  }
  return o + (any ? "\n" : " none\n");
}
std::string render_areas(const z3::model& m, const Areas& ar) {
  std::string o = "  scratch areas:";
  for (std::size_t i = 0; i < ar.a.size(); ++i)
    o += " [" + hex(val(m, ar.a[i])) + ", " + hex(val(m, ar.a[i]) + val(m, ar.s[i])) + ")";
  return o + "\n";
}

void preserve_family(std::vector<Obligation>& out, const ProveOptions&, Mutation mut) {
  const unsigned NP = 2;  // preserved-set slots (an op touches one block; two make overlap visible)
  enum class Op { folio, pages_chunk, unpreserve, finalize, abort, refresh };
  struct Spec {
    Op op;
    std::string name;
  };
  for (auto era : model::kAllEras) {
    const auto& tr = model::era_traits(era);
    const std::string en(tr.name);
    // The debug scratch check (CONFIG_KEXEC_HANDOVER_DEBUG) exists from 6.18.
    const bool check = tr.debug_scratch_check;
    std::vector<Spec> ops = {{Op::folio, "preserve_folio"}, {Op::pages_chunk, tr.preserve_pages ? "preserve_pages" : "preserve_phys"}};
    if (tr.unpreserve_api) ops.push_back({Op::unpreserve, "unpreserve"});
    if (tr.finalize == model::FinalizeModel::notifier_abort) {
      ops.push_back({Op::finalize, "finalize"});
      ops.push_back({Op::abort, "abort"});
    } else if (tr.finalize == model::FinalizeModel::refresh) {
      ops.push_back({Op::refresh, "finalize"});
    }
    for (const auto& sp : ops) {
      const bool folio = sp.op == Op::folio;
      auto build = [=](z3::context& c, Conj& hyps, Conj& goals, Render& render, bool want_check) {
        PSet p = mk_pset(c, "P", NP);
        Areas ar = mk_areas(c, 2);
        expr finalized = c.bool_val(false);
        if (tr.finalize != model::FinalizeModel::none) finalized = c.bool_const("finalized");
        expr pfn = c.bv_const("pfn", 64), o = c.bv_const("order", 64), end = c.bv_const("end_pfn", 64);
        expr fail = c.bool_const("notifier_fails");
        hyps.push_back({"pre: scratch areas do not wrap", areas_ok(c, ar)});
        append(hyps, pset_inv(c, p, ar, want_check, folio));
        PSet n = p;
        expr ret = bv(c, 0);
        if (sp.op == Op::folio || sp.op == Op::pages_chunk) {
          if (folio) {
            hyps.push_back({"pre: a folio: order <= MAX_PAGE_ORDER, naturally aligned", z3::ule(o, bv(c, kMaxPageOrder)) && block_ok(c, pfn, o)});
          } else {
            // One chunk of the greedy split of [pfn, end).
            hyps.push_back({"pre: pfn < end <= 2^52", z3::ult(pfn, end) && z3::ule(end, bv(c, 1ull << 52))});
            o = umin(ctz64(c, pfn), fls64(c, end - pfn) - bv(c, 1));
          }
          const expr busy = tr.busy_when_finalized ? finalized : c.bool_val(false);
          const bool scratch_check = want_check && mut != Mutation::preserve_scratch_check_dropped;
          // The tracker refuses orders above KHO_MAX_WIRE_ORDER (51) with -EINVAL.
          const expr einval = z3::ugt(o, bv(c, 51)) || (scratch_check ? in_scratch(c, ar, pfn, o) : c.bool_val(false));
          expr room = c.bool_val(true);
          n = pset_insert(c, p, !busy && !einval, pfn, o, room);
          hyps.push_back({"pre: the bounded set has room", room});
          ret = z3::ite(busy, bv(c, static_cast<std::uint64_t>(-16)), z3::ite(einval, bv(c, static_cast<std::uint64_t>(-22)), bv(c, 0)));
        } else if (sp.op == Op::unpreserve) {
          for (std::size_t i = 0; i < NP; ++i) n.valid[i] = p.valid[i] && !(p.pfn[i] == pfn && p.order[i] == o);
        } else if (sp.op == Op::finalize || sp.op == Op::abort) {
          // kho_abort() (also on a failed finalize) destroys the whole tracker.
          const expr wipe = sp.op == Op::abort ? c.bool_val(true) : (fail && !finalized);
          for (std::size_t i = 0; i < NP; ++i) n.valid[i] = p.valid[i] && !wipe;
        }
        append(goals, pset_inv(c, n, ar, want_check, folio));
        render = [=](const z3::model& m) {
          std::string s = render_areas(m, ar) + render_pset(m, "preserved before", p);
          if (sp.op != Op::finalize && sp.op != Op::abort && sp.op != Op::refresh)
            s += "  call: " + sp.name + "(pfn " + hex(val(m, pfn)) + ", order " + std::to_string(val(m, o)) + ") -> " +
                 std::to_string(static_cast<std::int64_t>(val(m, ret))) + "\n";
          return s + render_pset(m, "preserved after", n);
        };
      };
      std::vector<std::string> ids = {"INV_PRESERVED_ALIGNED"};
      if (check) ids.push_back("INV_SCRATCH_PRESERVED_DISJOINT");
      if (folio) ids.push_back("INV_PRESERVED_ORDER_RESTORABLE");
      out.push_back({{"kho/" + sp.name + "/preserve[" + en + "]", en, ObligationKind::preserve, ids, false,
                      sp.name + " keeps the preserved set aligned" + std::string(check ? " and out of scratch (debug check on)" : "")},
                     [build, check](Query& q) {
                       Conj hyps, goals;
                       Render r;
                       build(q.c, hyps, goals, r, check);
                       return prove_goals(q, hyps, goals, r);
                     }});
      if (sp.op == Op::folio) {
        out.push_back({{"kho/preserve_folio/nonvacuous[" + en + "]", en, ObligationKind::nonvacuous, ids, false,
                        "Inv ∧ Pre(kho_preserve_folio) is satisfiable"},
                       [build, check](Query& q) {
                         Conj hyps, goals;
                         Render r;
                         build(q.c, hyps, goals, r, check);
                         return check_sat(q, hyps);
                       }});
      }
      // Hazards on the same operations.
      if (sp.op == Op::folio && era == model::KhoEra::v6_16) {
        out.push_back({{"hazard/v6.16/preserve_in_scratch", en, ObligationKind::hazard,
                        {"INV_SCRATCH_PRESERVED_DISJOINT", "HAZARD_RESERVE_MEM_IN_SCRATCH"}, true,
                        "6.16 has no scratch-overlap check: a folio inside scratch is preserved"},
                       {}});
        out.back().run = [NP](Query& q) {
          auto& c = q.c;
          PSet p = mk_pset(c, "P", NP);
          Areas ar = mk_areas(c, 2);
          expr pfn = c.bv_const("pfn", 64), o = c.bv_const("order", 64);
          Conj hyps = {{"pre: scratch areas do not wrap", areas_ok(c, ar)},
                       {"pre: a folio", z3::ule(o, bv(c, kMaxPageOrder)) && block_ok(c, pfn, o)}};
          append(hyps, pset_inv(c, p, ar, true, true));
          expr room = c.bool_val(true);
          PSet n = pset_insert(c, p, c.bool_val(true), pfn, o, room);  // 6.16: no check
          hyps.push_back({"pre: room", room});
          Conj goals = pset_inv(c, n, ar, true, true);
          return prove_goals(q, hyps, goals, [=](const z3::model& m) {
            return render_areas(m, ar) + "  call: kho_preserve_folio(pfn " + hex(val(m, pfn)) + ", order " +
                   std::to_string(val(m, o)) + ") -> 0 (6.16: no kho_scratch_overlap())\n" + render_pset(m, "preserved after", n);
          });
        };
      }
      if (sp.op == Op::pages_chunk && era == model::KhoEra::v6_16) {
        out.push_back({{"hazard/v6.16/order_above_max", en, ObligationKind::hazard, {"INV_PRESERVED_ORDER_RESTORABLE"}, true,
                        "the greedy split of kho_preserve_phys() yields orders above MAX_PAGE_ORDER"},
                       [](Query& q) {
                         auto& c = q.c;
                         expr pfn = c.bv_const("pfn", 64), end = c.bv_const("end_pfn", 64);
                         Conj hyps = {{"pre: pfn < end <= 2^52", z3::ult(pfn, end) && z3::ule(end, bv(c, 1ull << 52))}};
                         const expr o = umin(ctz64(c, pfn), fls64(c, end - pfn) - bv(c, 1));
                         Conj goals = {{"INV_PRESERVED_ORDER_RESTORABLE", z3::ule(o, bv(c, kMaxPageOrder))}};
                         return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                           return "  kho_preserve_phys(" + hex(val(m, pfn) << 12) + ", " + hex((val(m, end) - val(m, pfn)) << 12) +
                                  ")\n  first chunk: (pfn " + hex(val(m, pfn)) + ", order " + std::to_string(val(m, o)) +
                                  ") > MAX_PAGE_ORDER " + std::to_string(kMaxPageOrder) + ": kho_restore_folio() refuses it\n";
                         });
                       }});
      }
    }
  }
  out.push_back({{"hazard/all/preserved_overlap", "all", ObligationKind::hazard, {"INV_PRESERVED_DISJOINT"}, true,
                  "nothing stops the same memory being preserved at two orders"},
                 [NP](Query& q) {
                   auto& c = q.c;
                   PSet p = mk_pset(c, "P", NP);
                   Areas ar = mk_areas(c, 2);
                   expr pfn = c.bv_const("pfn", 64), o = c.bv_const("order", 64);
                   Conj hyps = {{"pre: areas", areas_ok(c, ar)}, {"pre: a folio", z3::ule(o, bv(c, kMaxPageOrder)) && block_ok(c, pfn, o)},
                                {"pre: outside scratch", !in_scratch(c, ar, pfn, o)}};
                   append(hyps, pset_inv(c, p, ar, true, true));
                   hyps.push_back({"INV_PRESERVED_DISJOINT", pset_disjoint(c, p)});
                   expr room = c.bool_val(true);
                   PSet n = pset_insert(c, p, c.bool_val(true), pfn, o, room);
                   hyps.push_back({"pre: room", room});
                   Conj goals = {{"INV_PRESERVED_DISJOINT", pset_disjoint(c, n)}};
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     return render_pset(m, "preserved before", p) + "  call: kho_preserve_folio(pfn " + hex(val(m, pfn)) +
                            ", order " + std::to_string(val(m, o)) + ") -> 0\n" + render_pset(m, "preserved after", n);
                   });
                 }});
}

// --------------------------------------------------- next-kernel window ---

void window_family(std::vector<Obligation>& out, const ProveOptions& opts) {
  const unsigned K = opts.k;
  // Item 24 from 13 and 18: a scratch-only allocation never hits a block
  // preserved outside scratch.
  out.push_back({{"kho/window/no_alloc_over_preserved" + k_tag(K), "all", ObligationKind::preserve,
                  {"INV_WINDOW_NO_ALLOC_OVER_PRESERVED", "INV_KHO_PRESERVED_CONTENT_INTACT"}, false,
                  "scratch-only allocations avoid every block preserved outside scratch"},
                 [K](Query& q) {
                   auto& c = q.c;
                   // Only coverage and flags of memory at x are used, so the region
                   // tables' own invariants are not needed as hypotheses.
                   SymType mem = mk_type(c, "memory", K);
                   Areas ar = mk_areas(c, 2);
                   // The preserved block as its byte range [lo, hi): only its
                   // disjointness from scratch matters (any such range, so the
                   // 2^order shifts stay out of the query).
                   expr lo = c.bv_const("block.lo", 64), hi = c.bv_const("block.hi", 64), x = c.bv_const("x", 64);
                   expr size = c.bv_const("size", 64);
                   Conj hyps = {{"pre: areas do not wrap", areas_ok(c, ar)}};
                   expr outside = c.bool_val(true);
                   for (std::size_t i = 0; i < 2; ++i)
                     outside = outside && !(ar.s[i] != bv(c, 0) && z3::ult(lo, ar.a[i] + ar.s[i]) && z3::ult(ar.a[i], hi));
                   hyps.push_back({"INV_SCRATCH_PRESERVED_DISJOINT", outside});
                   // KHO_SCRATCH memory is exactly what kho_populate() marked: inside the areas.
                   expr in_area = c.bool_val(false);
                   for (std::size_t i = 0; i < 2; ++i) in_area = in_area || (z3::uge(x, ar.a[i]) && z3::ult(x, ar.a[i] + ar.s[i]));
                   hyps.push_back({"INV_SCRATCH_IN_MEMORY",
                                   z3::implies(covered(c, mem, x) && (flags_at(c, mem, x) & bv(c, model::MEMBLOCK_KHO_SCRATCH, 32)) != bv(c, 0, 32), in_area)});
                   // Only where the allocation lies matters, and memblock/alloc/preserve
                   // proves that for every result of the search: the address is a fresh
                   // value constrained by that lemma.
                   struct {
                     expr found, best;
                   } a{c.bool_const("allocated"), c.bv_const("addr", 64)};
                   const expr in_alloc = a.found && z3::uge(x, a.best) && z3::ult(x - a.best, size);
                   hyps.push_back({"lemma INV_MEMBLOCK_SCRATCH_ONLY_ALLOC",
                                   z3::implies(in_alloc, covered(c, mem, x) &&
                                                             (flags_at(c, mem, x) & bv(c, model::MEMBLOCK_KHO_SCRATCH, 32)) != bv(c, 0, 32))});
                   const expr in_block = z3::uge(x, lo) && z3::ult(x, hi);
                   Conj goals = {{"INV_WINDOW_NO_ALLOC_OVER_PRESERVED", !(in_alloc && in_block)}};
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     return render_type("memory", eval_type(m, mem)) + render_areas(m, ar) + "  allocation at " +
                            hex(val(m, a.best)) + " size " + hex(val(m, size)) + " overlaps preserved [" + hex(val(m, lo)) + ", " +
                            hex(val(m, hi)) + ") at " + hex(val(m, x)) + "\n";
                   });
                 }});
  out.back().info.assumes = {"memblock/alloc/preserve" + k_tag(K)};
  // Item 25: deserialization reserves and marks NOINIT every preserved block.
  auto deser = [K](Query& q, bool hazard) {
    auto& c = q.c;
    SymType res = mk_type(c, "reserved", K);
    expr pfn = c.bv_const("pfn", 64), o = c.bv_const("order", 64), x = c.bv_const("x", 64);
    Conj hyps = memblock_state_inv(c, res);
    hyps.push_back({"INV_PRESERVED_ALIGNED", block_ok(c, pfn, o)});
    hyps.push_back({"pre: the block ends below PHYS_ADDR_MAX (memblock_cap_size)", z3::ult(pfn + pow2(c, o), bv(c, 1ull << 52))});
    const expr base = z3::shl(pfn, bv(c, 12)), size = z3::shl(pow2(c, o), bv(c, 12));
    const expr in = z3::uge(x, base) && z3::ult(x - base, size);
    if (!hazard) {
      // Both calls succeed (pre): memblock_reserve() then
      // memblock_reserved_mark_noinit(), as lemmas on fresh states.
      const Lemma r = add_lemma(c, "reserved'", res, base, size, x);
      const Lemma n = setclr_lemma(c, "reserved''", r.next, base, size, true, bv(c, model::MEMBLOCK_RSRV_NOINIT, 32), x);
      append(hyps, r.facts);
      append(hyps, n.facts);
      Conj goals = {{"INV_KHO_PRESERVED_RESERVED",
                     z3::implies(in, covered(c, n.next, x) &&
                                         (flags_at(c, n.next, x) & bv(c, model::MEMBLOCK_RSRV_NOINIT, 32)) != bv(c, 0, 32))}};
      append(goals, memblock_state_inv(c, n.next));
      const SymType after = n.next;
      return prove_goals(q, hyps, goals, [=](const z3::model& m) {
        return "  deserialize (pfn " + hex(val(m, pfn)) + ", order " + std::to_string(val(m, o)) + ")\n  reserved before:\n" +
               render_type("reserved", eval_type(m, res)) + "  reserved after:\n" + render_type("reserved", eval_type(m, after)) +
               "  not reserved with RSRV_NOINIT: " + hex(val(m, x)) + "\n";
      });
    }
    // The hazard: the kernel ignores both return values, so the failing
    // calls must be encoded (a failed reserve leaves the state unchanged).
    auto r = mb_add(c, res, base, size, bv(c, 0xffffffffu, 32), bv(c, 0, 32));
    auto n = mb_setclr(c, r.next, base, size, true, bv(c, model::MEMBLOCK_RSRV_NOINIT, 32));
    Conj goals = {{"INV_KHO_PRESERVED_RESERVED",
                   z3::implies(in, covered(c, n.next, x) &&
                                       (flags_at(c, n.next, x) & bv(c, model::MEMBLOCK_RSRV_NOINIT, 32)) != bv(c, 0, 32))}};
    const SymType after = n.next;
    return prove_goals(q, hyps, goals, [=](const z3::model& m) {
      return "  deserialize (pfn " + hex(val(m, pfn)) + ", order " + std::to_string(val(m, o)) + "): memblock_reserve(" +
             hex(val(m, base)) + ", " + hex(val(m, size)) + ") -> " + (is_true(m, r.pre) ? "0" : "-ENOMEM (return value ignored)") +
             "; memblock_mark_noinit() -> " + (is_true(m, n.pre) ? "0" : "-ENOMEM (return value ignored)") +
             "\n  reserved before:\n" + render_type("reserved", eval_type(m, res)) + "  reserved after:\n" +
             render_type("reserved", eval_type(m, after)) + "  not reserved with RSRV_NOINIT: " + hex(val(m, x)) + "\n";
    });
  };
  out.push_back({{"kho/deserialize/reserved" + k_tag(K), "all", ObligationKind::preserve,
                  {"INV_KHO_PRESERVED_RESERVED", "INV_MEMBLOCK_MERGED"}, false,
                  "kho_mem_deserialize(): every block ends up reserved with RSRV_NOINIT"},
                 [deser](Query& q) { return deser(q, false); }});
  out.back().info.assumes = {"memblock/add/preserve" + k_tag(K), "memblock/setclr_flag/preserve" + k_tag(K)};
  out.push_back({{"hazard/all/deserialize_enomem" + k_tag(K), "all", ObligationKind::hazard,
                  {"INV_KHO_PRESERVED_RESERVED"}, true,
                  "memblock_reserve() failing with -ENOMEM during deserialization leaves a preserved block unreserved"},
                 [deser](Query& q) { return deser(q, true); }});
  // Item 27: memblock_free_all() frees (memory \ reserved) only.
  out.push_back({{"kho/free_all/buddy_disjoint" + k_tag(K), "all", ObligationKind::preserve,
                  {"INV_BUDDY_DISJOINT_PRESERVED", "INV_KHO_PRESERVED_CONTENT_INTACT"}, false,
                  "memblock_free_all() never hands a reserved preserved block to buddy"},
                 [K](Query& q) {
                   auto& c = q.c;
                   SymType mem = mk_type(c, "memory", K), res = mk_type(c, "reserved", K);
                   expr pfn = c.bv_const("pfn", 64), o = c.bv_const("order", 64), x = c.bv_const("x", 64);
                   Conj hyps = tagged(memblock_state_inv(c, mem), " (memory)");
                   append(hyps, tagged(memblock_state_inv(c, res), " (reserved)"));
                   hyps.push_back({"INV_PRESERVED_ALIGNED", block_ok(c, pfn, o)});
                   const expr in_block = z3::uge(x, z3::shl(pfn, bv(c, 12))) && z3::ult(x, z3::shl(pfn + pow2(c, o), bv(c, 12)));
                   hyps.push_back({"INV_KHO_PRESERVED_RESERVED", z3::implies(in_block, covered(c, res, x))});
                   const expr fl = flags_at(c, mem, x);
                   const expr freed = covered(c, mem, x) && !covered(c, res, x) &&
                                      (fl & bv(c, model::MEMBLOCK_NOMAP | model::MEMBLOCK_DRIVER_MANAGED, 32)) == bv(c, 0, 32);
                   Conj goals = {{"INV_BUDDY_DISJOINT_PRESERVED", !(freed && in_block)}};
                   return prove_goals(q, hyps, goals, {});
                 }});
  // Item 19: metadata pages come from buddy (unmovable), never from CMA pageblocks.
  out.push_back({{"kho/metadata/outside_scratch", "all", ObligationKind::preserve,
                  {"INV_METADATA_OUTSIDE_SCRATCH", "INV_CMA_BEFORE_BUDDY"}, false,
                  "bitmaps, chunks and radix nodes (unmovable pages) never lie in scratch"},
                 [](Query& q) {
                   auto& c = q.c;
                   Areas ar = mk_areas(c, 2);
                   expr page = c.bv_const("page", 64);
                   Conj hyps = {{"pre: areas do not wrap and end below 2^63", areas_ok(c, ar)}};
                   for (std::size_t i = 0; i < 2; ++i) hyps.push_back({"pre: areas end below 2^63", z3::ult(ar.a[i] + ar.s[i], bv(c, 1ull << 63))});
                   // kho_release_scratch(): outward pageblock rounding marks MIGRATE_CMA.
                   expr cma = c.bool_val(false);
                   const expr pb = page & ~bv(c, kPageblock - 1);
                   for (std::size_t i = 0; i < 2; ++i) {
                     const expr lo = ar.a[i] & ~bv(c, kPageblock - 1);
                     const expr hi = (ar.a[i] + ar.s[i] + bv(c, kPageblock - 1)) & ~bv(c, kPageblock - 1);
                     cma = cma || (ar.s[i] != bv(c, 0) && z3::uge(pb, lo) && z3::ult(pb, hi));
                   }
                   hyps.push_back({"pre: an unmovable allocation never comes from a MIGRATE_CMA pageblock", !cma});
                   hyps.push_back({"pre: a page", (page & bv(c, 4095)) == bv(c, 0)});
                   expr in = c.bool_val(false);
                   for (std::size_t i = 0; i < 2; ++i) in = in || (z3::uge(page, ar.a[i]) && z3::ult(page - ar.a[i], ar.s[i]));
                   Conj goals = {{"INV_METADATA_OUTSIDE_SCRATCH", !in}};
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) { return render_areas(m, ar) + "  page " + hex(val(m, page)) + "\n"; });
                 }});
  // Item 15: kho_locate_mem_hole() places each segment inside one area.
  out.push_back({{"kho/kexec/segments_in_scratch", "all", ObligationKind::preserve, {"INV_KEXEC_SEGMENTS_IN_SCRATCH"}, false,
                  "kho_locate_mem_hole(): a placed segment lies inside one scratch area, else -EADDRNOTAVAIL"},
                 [](Query& q) {
                   auto& c = q.c;
                   Areas ar = mk_areas(c, 2);
                   expr sz = c.bv_const("memsz", 64), align = c.bv_const("align", 64);
                   Conj hyps = {{"pre: areas do not wrap", areas_ok(c, ar)},
                                {"pre: memsz > 0, align a power of two", sz != bv(c, 0) && align != bv(c, 0) && (align & (align - bv(c, 1))) == bv(c, 0)}};
                   // Top-down in each area, the first area that fits wins.
                   expr found = c.bool_val(false), mem = bv(c, 0);
                   for (std::size_t i = 0; i < 2; ++i) {
                     const expr end = ar.a[i] + ar.s[i];
                     const expr cand = (end - sz) & ~(align - bv(c, 1));
                     const expr ok = z3::uge(ar.s[i], sz) && z3::uge(cand, ar.a[i]);
                     mem = z3::ite(!found && ok, cand, mem);
                     found = found || ok;
                   }
                   expr inside = c.bool_val(false);
                   for (std::size_t i = 0; i < 2; ++i)
                     inside = inside || (z3::uge(mem, ar.a[i]) && z3::ule(mem + sz, ar.a[i] + ar.s[i]) && z3::ule(mem, mem + sz));
                   Conj goals = {{"INV_KEXEC_SEGMENTS_IN_SCRATCH", z3::implies(found, inside)}};
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) { return render_areas(m, ar) + "  segment at " + hex(val(m, mem)) + "\n"; });
                 }});
}

// ------------------------------------------------------------ encodings ---

void encoding_family(std::vector<Obligation>& out, Mutation mut) {
  out.push_back({{"kho/radix_key/bijective", "all", ObligationKind::exact, {"INV_RADIX_KEY_BIJECTIVE"}, false,
                  "(1 << (52 - order)) | (phys >> (12 + order)) is a bijection from aligned blocks onto valid keys"},
                 [](Query& q) {
                   auto& c = q.c;
                   expr phys = c.bv_const("phys", 64), o = c.bv_const("order", 64), key = c.bv_const("key", 64);
                   auto encode = [&](const expr& p, const expr& ord) {
                     return z3::shl(bv(c, 1), bv(c, 52) - ord) | z3::lshr(p, bv(c, 12) + ord);
                   };
                   auto dec_order = [&](const expr& k) { return bv(c, 53) - fls64(c, k); };
                   auto dec_phys = [&](const expr& k) { return z3::shl(k, bv(c, 12) + dec_order(k)); };
                   auto valid = [&](const expr& k) { return z3::uge(fls64(c, k), bv(c, 2)) && z3::ule(fls64(c, k), bv(c, 53)); };
                   const expr aligned = z3::ule(o, bv(c, 51)) && (phys & (z3::shl(bv(c, 1), bv(c, 12) + o) - bv(c, 1))) == bv(c, 0);
                   const expr k1 = encode(phys, o);
                   Conj goals = {{"INV_RADIX_KEY_BIJECTIVE",
                                  z3::implies(aligned, valid(k1) && dec_order(k1) == o && dec_phys(k1) == phys) &&
                                      z3::implies(valid(key), encode(dec_phys(key), dec_order(key)) == key &&
                                                                  z3::ule(dec_order(key), bv(c, 51)))}};
                   return prove_goals(q, {}, goals, [=](const z3::model& m) {
                     return "  phys " + hex(val(m, phys)) + " order " + std::to_string(val(m, o)) + " -> key " + hex(val(m, k1)) +
                            "; key " + hex(val(m, key)) + "\n";
                   });
                 }});
  out.push_back({{"kho/radix_tree/shape", "all", ObligationKind::exact, {"INV_RADIX_TREE_SHAPE"}, false,
                  "a valid key is exactly its 5 table indices (9 bits) and its leaf bit (15 bits): depth 6"},
                 [](Query& q) {
                   auto& c = q.c;
                   expr key = c.bv_const("key", 64);
                   const expr valid = z3::uge(fls64(c, key), bv(c, 2)) && z3::ule(fls64(c, key), bv(c, 53));
                   expr rebuilt = key & bv(c, 0x7fff);
                   for (unsigned level = 1; level <= 5; ++level) {
                     const unsigned sh = (level - 1) * 9 + 15;
                     const expr idx = z3::lshr(key, bv(c, sh)) & bv(c, 511);
                     rebuilt = rebuilt | z3::shl(idx, bv(c, sh));
                   }
                   Conj goals = {{"INV_RADIX_TREE_SHAPE", z3::implies(valid, rebuilt == key)}};
                   return prove_goals(q, {}, goals, [=](const z3::model& m) { return "  key " + hex(val(m, key)) + "\n"; });
                 }});
  for (std::uint64_t bits : {4096ull, 32768ull}) {
    out.push_back({{"kho/bitmap/bijective[bits=" + std::to_string(bits) + "]", bits == 4096 ? "v6.16" : "all",
                    ObligationKind::exact, {"INV_KHO_MAP_DECODES", "INV_FINALIZED_MAP_EXACT"}, false,
                    "bit (pfn >> order) % BITS of bitmap (pfn >> order) / BITS, phys_start = (index * BITS) << (order + 12), decodes back"},
                   [bits](Query& q) {
                     auto& c = q.c;
                     expr pfn = c.bv_const("pfn", 64), o = c.bv_const("order", 64);
                     const expr ok = block_ok(c, pfn, o);
                     const expr idx = z3::udiv(z3::lshr(pfn, o), bv(c, bits));
                     const expr bit = z3::urem(z3::lshr(pfn, o), bv(c, bits));
                     const expr phys_start = z3::shl(idx * bv(c, bits), o + bv(c, 12));
                     const expr decoded = phys_start + z3::shl(bit, o + bv(c, 12));
                     Conj goals = {{"INV_KHO_MAP_DECODES", z3::implies(ok, decoded == z3::shl(pfn, bv(c, 12)) && z3::ult(bit, bv(c, bits)))}};
                     return prove_goals(q, {}, goals, [=](const z3::model& m) {
                       return "  (pfn " + hex(val(m, pfn)) + ", order " + std::to_string(val(m, o)) + ") -> index " + hex(val(m, idx)) +
                              " bit " + hex(val(m, bit)) + " -> phys " + hex(val(m, decoded)) + "\n";
                     });
                   }});
  }
  // The greedy split, one step over 64 bits (induction gives exact cover,
  // alignment and no overlap for every range), plus the phase lemmas that
  // bound the block count.
  out.push_back({{"kho/split/cover", "all", ObligationKind::exact, {"INV_PRESERVED_SPLIT_EXACT", "INV_PRESERVED_ALIGNED"}, false,
                  "each greedy step is aligned, advances, and never passes the end (64-bit, every range)"},
                 [mut](Query& q) {
                   auto& c = q.c;
                   expr p = c.bv_const("pfn", 64), e = c.bv_const("end", 64);
                   const expr ilog = fls64(c, e - p) - bv(c, 1) + (mut == Mutation::split_order_off_by_one ? bv(c, 1) : bv(c, 0));
                   const expr o = umin(ctz64(c, p), ilog);
                   const expr step = pow2(c, o);
                   Conj hyps = {{"pre: pfn < end", z3::ult(p, e)}};
                   Conj goals = {{"INV_PRESERVED_ALIGNED", (p & (step - bv(c, 1))) == bv(c, 0)},
                                 {"INV_PRESERVED_SPLIT_EXACT", z3::ule(step, e - p) && step != bv(c, 0)}};
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     return "  at pfn " + hex(val(m, p)) + " end " + hex(val(m, e)) + ": order " + std::to_string(val(m, o)) +
                            " covers [" + hex(val(m, p)) + ", " + hex(val(m, p + step)) + ")\n";
                   });
                 }});
  out.push_back({{"kho/split/bound", "all", ObligationKind::exact, {"INV_PRESERVED_SPLIT_EXACT"}, false,
                  "orders rise strictly while ctz-limited, then fall strictly: at most 2*floor(log2 n) + 1 blocks"},
                 [](Query& q) {
                   auto& c = q.c;
                   expr p = c.bv_const("pfn", 64), e = c.bv_const("end", 64);
                   auto order = [&](const expr& at) { return umin(ctz64(c, at), fls64(c, e - at) - bv(c, 1)); };
                   const expr o = order(p), p2 = p + pow2(c, o), o2 = order(p2);
                   const expr desc = o == fls64(c, e - p) - bv(c, 1);
                   const expr desc2 = o2 == fls64(c, e - p2) - bv(c, 1);
                   Conj hyps = {{"pre: pfn < end", z3::ult(p, e)}, {"pre: a next step exists", z3::ult(p2, e)}};
                   Conj goals = {{"INV_PRESERVED_SPLIT_EXACT",
                                  z3::implies(desc, z3::ult(o2, o) && desc2) && z3::implies(!desc, z3::ugt(o2, o) || desc2)}};
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     return "  pfn " + hex(val(m, p)) + " end " + hex(val(m, e)) + ": orders " + std::to_string(val(m, o)) + ", " +
                            std::to_string(val(m, o2)) + "\n";
                   });
                 }});
  // Exhaustive over 8-bit pfns: the loop ends exactly at the end within
  // max(1, 2*floor(log2 n)) blocks (the bound of kho-model.md §5 item 21).
  out.push_back({{"kho/split/bounded[w=8]", "all", ObligationKind::exact, {"INV_PRESERVED_SPLIT_EXACT"}, false,
                  "for every 8-bit range the split ends exactly at the end in at most max(1, 2*floor(log2 n)) blocks"},
                 [](Query& q) {
                   auto& c = q.c;
                   const unsigned W = 10;  // 8-bit pfns with headroom for the sum
                   expr s = c.bv_const("start", W), n = c.bv_const("n", W);
                   auto ctz = [&](const expr& v) {
                     expr r = c.bv_val(W, W);
                     for (unsigned i = W; i-- > 0;) r = z3::ite(v.extract(i, i) == c.bv_val(1, 1), c.bv_val(i, W), r);
                     return r;
                   };
                   const expr e = s + n;
                   expr p = s, count = c.bv_val(0, W);
                   const unsigned steps = 2 * 8 + 1;
                   for (unsigned i = 0; i < steps; ++i) {
                     const expr live = z3::ult(p, e);
                     const expr o = umin(ctz(p), fls64(c, e - p) - c.bv_val(1, W));
                     p = z3::ite(live, p + z3::shl(c.bv_val(1, W), o), p);
                     count = count + z3::ite(live, c.bv_val(1, W), c.bv_val(0, W));
                   }
                   const expr bound = z3::ite(z3::ule(n, c.bv_val(1, W)), c.bv_val(1, W),
                                              c.bv_val(2, W) * (fls64(c, n) - c.bv_val(1, W)));
                   Conj hyps = {{"pre: 0 < n, start + n < 2^8", z3::ult(c.bv_val(0, W), n) && z3::ult(e, c.bv_val(1u << 8, W)) &&
                                                                   z3::ult(s, c.bv_val(1u << 8, W)) && z3::ult(n, c.bv_val(1u << 8, W))}};
                   Conj goals = {{"INV_PRESERVED_SPLIT_EXACT", p == e && z3::ule(count, bound)}};
                   // One case per bit length of n (so the bound is a constant in each).
                   Conj cases;
                   for (unsigned b = 1; b <= 8; ++b)
                     cases.push_back({"n in [" + std::to_string(1u << (b - 1)) + ", " + std::to_string(1u << b) + ")",
                                      z3::uge(n, c.bv_val(1u << (b - 1), W)) && z3::ult(n, c.bv_val(1u << b, W))});
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     return "  start " + hex(val(m, s)) + " n " + hex(val(m, n)) + ": " + std::to_string(val(m, count)) + " blocks, ends at " +
                            hex(val(m, p)) + "\n";
                   }, cases);
                 }});
  // Item 28: restore clears page->private (6.18+), so a second restore fails.
  for (auto era : model::kAllEras) {
    const auto& tr = model::era_traits(era);
    if (!tr.restore_once) continue;
    const std::string en(tr.name);
    out.push_back({{"kho/restore/once[" + en + "]", en, ObligationKind::exact, {"INV_RESTORE_ONCE"}, false,
                    "kho_restore_page(): success clears page->private, so a second restore fails"},
                   [](Query& q) {
                     auto& c = q.c;
                     expr priv = c.bv_const("page.private", 64);
                     auto ok = [&](const expr& pv) {
                       return pv.extract(63, 32) == c.bv_val(kKhoPageMagic, 32) &&
                              z3::ule(pv.extract(31, 0), c.bv_val(kMaxPageOrder, 32));
                     };
                     const expr after = z3::ite(ok(priv), bv(c, 0), priv);
                     Conj goals = {{"INV_RESTORE_ONCE", z3::implies(ok(priv), !ok(after))}};
                     return prove_goals(q, {}, goals, [=](const z3::model& m) { return "  private " + hex(val(m, priv)) + "\n"; });
                   }});
  }
}

// ------------------------------------------------ finalization machine ---

// Abstract preserved blocks for the state machine: U distinct blocks, each
// a bit of P (the tracker) and of the serialized map.
constexpr unsigned kU = 3;
enum Ev : unsigned { EV_W1, EV_W0, EV_FIN, EV_PRES, EV_UNPRES, EV_LOAD, EV_REBOOT, EV_LUO_REBOOT, EV_N };
const char* ev_name(unsigned e) {
  static const char* n[] = {"echo 1 > finalize", "echo 0 > finalize", "kho_finalize()", "preserve", "unpreserve",
                            "kexec_file_load", "kexec -e", "liveupdate_reboot() (finalize + kexec -e)"};
  return e < EV_N ? n[e] : "?";
}
enum MapSt : unsigned { MAP_NONE, MAP_VALID, MAP_FREED };

struct SmState {
  expr out, P, map, mapst, loaded, done;  // out: 0 disabled 1 idle 2 finalized; loaded: 0/1 plain/2 kho
};

struct SmMode {
  bool notifier_failures = false;
  bool plain_reboot = true;   // kexec -e without LUO's re-finalize
  bool luo_reboot = false;
};

void sm_family(std::vector<Obligation>& out, const ProveOptions& opts) {
  const unsigned steps = opts.bmc_steps;
  auto bmc = [steps](Query& q, const model::EraTraits& tr, SmMode mode, const std::string& prop) -> Outcome {
    auto& c = q.c;
    using model::OutEvent;
    using model::OutState;
    auto b8v = [&](unsigned v) { return c.bv_val(v, 8); };
    auto bu = [&](unsigned v) { return c.bv_val(v, kU); };
    std::vector<SmState> st;
    std::vector<expr> ev, blk, fail, ret, viol;
    st.push_back({c.bv_const("out0", 8), bu(0), bu(0), b8v(MAP_NONE), b8v(0), c.bool_val(false)});
    Conj hyps = {{"pre: KHO starts IDLE (or DISABLED where preserve still works)",
                  st[0].out == b8v(1) || (tr.finalize == model::FinalizeModel::notifier_abort && st[0].out == b8v(0))}};
    const bool stateless = tr.finalize == model::FinalizeModel::none;
    expr bad = c.bool_val(false);
    for (unsigned t = 0; t < steps; ++t) {
      const SmState& s = st.back();
      expr e = c.bv_const(("ev" + std::to_string(t)).c_str(), 8);
      expr b = c.bv_const(("blk" + std::to_string(t)).c_str(), kU);
      expr f = c.bool_const(("notifier_fails" + std::to_string(t)).c_str());
      ev.push_back(e);
      blk.push_back(b);
      fail.push_back(f);
      hyps.push_back({"pre: step " + std::to_string(t) + " is an event", z3::ult(e, b8v(EV_N))});
      hyps.push_back({"pre: one block per call", b != bu(0) && (b & (b - bu(1))) == bu(0)});
      if (!mode.notifier_failures) hyps.push_back({"pre: notifiers succeed", !f});
      if (!mode.plain_reboot) hyps.push_back({"pre: LUO reboots only", e != b8v(EV_REBOOT)});
      if (!mode.luo_reboot) hyps.push_back({"pre: no LUO", e != b8v(EV_LUO_REBOOT)});
      // Default: nothing changes.
      expr cur = s.out, P = s.P, map = s.map, mapst = s.mapst, loaded = s.loaded, r = bv(c, 0);
      const OutEvent evs[] = {OutEvent::debugfs_write_1, OutEvent::debugfs_write_0, OutEvent::finalize_call,
                              OutEvent::preserve, OutEvent::unpreserve, OutEvent::kexec_load};
      for (unsigned ei = 0; ei < 6; ++ei) {
        for (OutState from : {OutState::disabled, OutState::idle, OutState::finalized}) {
          auto row = spec_transition(tr, from, evs[ei]);
          const expr here = !s.done && e == b8v(ei) && s.out == b8v(static_cast<unsigned>(from));
          if (!row) {
            r = z3::ite(here, bv(c, static_cast<std::uint64_t>(-2)), r);
            continue;
          }
          expr nout = b8v(static_cast<unsigned>(row->on_success)), nP = P, nmap = map, nst = mapst, nl = loaded;
          expr nret = bv(c, static_cast<std::uint64_t>(static_cast<std::int64_t>(row->ret)));
          switch (row->effect) {
            case model::Effect::none: break;
            case model::Effect::finalize:  // failure -> internal kho_abort(): tracker wiped
              nout = z3::ite(f, b8v(static_cast<unsigned>(row->on_failure)), nout);
              nP = z3::ite(f, bu(0), s.P);
              nmap = z3::ite(f, bu(0), s.P);
              nst = z3::ite(f, b8v(MAP_FREED), b8v(MAP_VALID));
              nret = z3::ite(f, bv(c, static_cast<std::uint64_t>(-22)), nret);
              break;
            case model::Effect::abort:  // tracker and map freed; ABORT notifier may fail
              nout = z3::ite(f, b8v(static_cast<unsigned>(row->on_failure)), nout);
              nP = bu(0);
              nmap = bu(0);
              nst = b8v(MAP_FREED);
              nret = z3::ite(f, bv(c, static_cast<std::uint64_t>(-22)), nret);
              break;
            case model::Effect::refresh:
              nmap = s.P;
              nst = b8v(MAP_VALID);
              break;
            case model::Effect::mutate:
              nP = evs[ei] == OutEvent::unpreserve ? (s.P & ~b) : (s.P | b);
              break;
            case model::Effect::load_with_kho: nl = b8v(2); break;
            case model::Effect::load_plain: nl = b8v(1); break;
          }
          cur = z3::ite(here, nout, cur);
          P = z3::ite(here, nP, P);
          map = z3::ite(here, nmap, map);
          mapst = z3::ite(here, nst, mapst);
          loaded = z3::ite(here, nl, loaded);
          r = z3::ite(here, nret, r);
        }
      }
      // kexec -e (optionally through LUO, which re-finalizes first).
      const expr luo = !s.done && e == b8v(EV_LUO_REBOOT) && s.loaded != b8v(0);
      const expr reboot = (!s.done && e == b8v(EV_REBOOT) && s.loaded != b8v(0)) || luo;
      const expr rmap = z3::ite(luo, s.P, s.map), rst = z3::ite(luo, b8v(MAP_VALID), s.mapst);
      const expr kho = reboot && s.loaded == b8v(2);
      const expr complete = stateless ? c.bool_val(true) : (s.P == bu(0) || (rst == b8v(MAP_VALID) && rmap == s.P));
      const expr fresh = stateless ? c.bool_val(true) : (rst == b8v(MAP_VALID) && rmap == s.P);
      map = z3::ite(luo, s.P, map);
      mapst = z3::ite(luo, b8v(MAP_VALID), mapst);
      cur = z3::ite(luo, b8v(2), cur);
      const expr done = s.done || reboot;
      // Properties of this step.
      expr v = c.bool_val(false);
      if (prop == "INV_FINALIZED_MAP_EXACT")
        v = cur == b8v(2) && !(mapst == b8v(MAP_VALID) && map == P);
      else if (prop == "INV_KHO_HANDOVER_COMPLETE")
        v = kho && !complete;
      else if (prop == "INV_KHO_HANDOVER_COMPLETE/finalized")
        v = kho && s.out == b8v(2) && !complete;
      else if (prop == "INV_MAP_FRESH_AT_KEXEC")
        v = kho && !fresh;
      viol.push_back(v);
      bad = bad || v;
      ret.push_back(r);
      st.push_back({cur, P, map, mapst, loaded, done});
    }
    std::string id = prop.substr(0, prop.find('/'));
    Conj goals = {{id, !bad}};
    std::vector<SmState> states = st;
    return prove_goals(q, hyps, goals, [=, &tr](const z3::model& m) {
      std::ostringstream o;
      auto set_str = [&](const expr& v) {
        const auto x = val(m, v);
        std::string s = "{";
        for (unsigned i = 0; i < kU; ++i)
          if (x >> i & 1) s += std::string(s.size() > 1 ? "," : "") + "B" + std::to_string(i);
        return s + "}";
      };
      static const char* outn[] = {"DISABLED", "IDLE", "FINALIZED"};
      static const char* mapn[] = {"none", "valid", "freed (dangling)"};
      auto state_str = [&](const SmState& s) {
        const auto ou = val(m, s.out), ms = val(m, s.mapst), ld = val(m, s.loaded);
        return std::string(ou < 3 ? outn[ou] : "?") + " P=" + set_str(s.P) + " map=" + (ms < 3 ? mapn[ms] : "?") +
               (ms == MAP_VALID ? set_str(s.map) : "") + " image=" + (ld == 0 ? "none" : ld == 1 ? "plain" : "with KHO");
      };
      o << "  era " << tr.name << ", blocks B0..B" << kU - 1 << " (abstract preserved blocks)\n";
      o << "  state 0: " << state_str(states[0]) << "\n";
      for (unsigned t = 0; t < ev.size(); ++t) {
        const auto e = val(m, ev[t]);
        std::string what = ev_name(static_cast<unsigned>(e));
        if (e == EV_PRES || e == EV_UNPRES) what += "(" + set_str(blk[t]).substr(1, 2) + ")";
        if ((e == EV_W0 || e == EV_W1) && is_true(m, fail[t])) what += " with a failing notifier";
        o << "  " << t + 1 << ". " << what << " -> ret " << static_cast<std::int64_t>(val(m, ret[t])) << "; "
          << state_str(states[t + 1]) << "\n";
        if (is_true(m, viol[t])) {
          o << "  violated here: " << prop << "\n";
          break;
        }
      }
      return o.str();
    });
  };
  for (auto era : model::kAllEras) {
    const auto& tr = model::era_traits(era);
    const std::string en(tr.name);
    const std::string tag = "[k=" + std::to_string(steps) + "]";
    if (tr.finalize == model::FinalizeModel::notifier_abort) {
      out.push_back({{"sm/" + en + "/bmc" + tag, en, ObligationKind::bmc, {"INV_FINALIZED_MAP_EXACT"}, false,
                      "with notifiers that succeed, FINALIZED always means a valid map equal to P"},
                     [bmc, tr](Query& q) { return bmc(q, tr, SmMode{false, true, false}, "INV_FINALIZED_MAP_EXACT"); }});
      out.push_back({{"sm/" + en + "/handover" + tag, en, ObligationKind::bmc, {"INV_KHO_HANDOVER_COMPLETE"}, false,
                      "kexec -e while FINALIZED (notifiers succeed) hands over exactly P"},
                     [bmc, tr](Query& q) { return bmc(q, tr, SmMode{false, true, false}, "INV_KHO_HANDOVER_COMPLETE/finalized"); }});
    } else if (tr.finalize == model::FinalizeModel::refresh) {
      out.push_back({{"sm/" + en + "/bmc" + tag, en, ObligationKind::bmc, {"INV_MAP_FRESH_AT_KEXEC", "INV_KHO_HANDOVER_COMPLETE"}, false,
                      "rebooting through LUO (re-finalize, then kexec) always hands over a fresh map"},
                     [bmc, tr](Query& q) { return bmc(q, tr, SmMode{false, false, true}, "INV_MAP_FRESH_AT_KEXEC"); }});
    } else {
      out.push_back({{"sm/" + en + "/bmc" + tag, en, ObligationKind::bmc, {"INV_KHO_HANDOVER_COMPLETE"}, false,
                      "stateless KHO hands over the live set at every kexec"},
                     [bmc, tr](Query& q) { return bmc(q, tr, SmMode{false, true, false}, "INV_KHO_HANDOVER_COMPLETE"); }});
    }
  }
  const auto& t616 = model::era_traits(model::KhoEra::v6_16);
  const auto& t619 = model::era_traits(model::KhoEra::v6_19);
  out.push_back({{"hazard/v6.16/abort_dangling_map", "v6.16", ObligationKind::hazard, {"INV_FINALIZED_MAP_EXACT", "HAZARD_ABORT_DANGLING_MAP"}, true,
                  "echo 0 > finalize with a failing ABORT notifier stays FINALIZED with the map freed"},
                 [bmc, t616](Query& q) { return bmc(q, t616, SmMode{true, true, false}, "INV_FINALIZED_MAP_EXACT"); }});
  out.push_back({{"hazard/v6.16/unfinalized_load", "v6.16", ObligationKind::hazard, {"INV_KHO_HANDOVER_COMPLETE"}, true,
                  "6.16 attaches the unwritten FDT when loading before finalize: the next kernel gets nothing"},
                 [bmc, t616](Query& q) { return bmc(q, t616, SmMode{false, true, false}, "INV_KHO_HANDOVER_COMPLETE"); }});
  out.push_back({{"hazard/v6.19/stale_map", "v6.19", ObligationKind::hazard, {"INV_MAP_FRESH_AT_KEXEC", "INV_KHO_HANDOVER_COMPLETE"}, true,
                  "changes after the last finalize reach the next kernel only if something re-finalizes"},
                 [bmc, t619](Query& q) { return bmc(q, t619, SmMode{false, true, false}, "INV_MAP_FRESH_AT_KEXEC"); }});
}

// ------------------------------------------------------------ boot order ---

void boot_family(std::vector<Obligation>& out, const ProveOptions& opts) {
  const unsigned steps = opts.bmc_steps;
  out.push_back({{"boot/bmc[k=" + std::to_string(steps) + "]", "all", ObligationKind::bmc,
                  {"INV_SCRATCH_ONLY_WINDOW", "INV_CMA_BEFORE_BUDDY"}, false,
                  "cold and KHO boots: scratch-only exactly between populate and free_all; scratch is CMA before buddy sees it"},
                 [steps](Query& q) {
                   auto& c = q.c;
                   // phase: 0 cold, 1 populated, 2 deserialized, 3 buddy, 4 running
                   enum : unsigned { POPULATE, EARLY_ALLOC, MEMORY_INIT, FREE_ALL, KHO_INIT, NEV };
                   static const char* names[] = {"kho_populate", "memblock_alloc", "kho_memory_init", "memblock_free_all", "kho_init"};
                   expr phase = c.bv_val(0, 8), so = c.bool_val(false), cma = c.bool_val(false), in_buddy = c.bool_val(false);
                   expr reserved = c.bool_val(false);  // scratch memblock-reserved (cold boot)
                   expr kho = c.bool_const("kho_boot"), bad = c.bool_val(false);
                   std::vector<expr> evs;
                   Conj hyps;
                   for (unsigned t = 0; t < steps; ++t) {
                     expr e = c.bv_const(("ev" + std::to_string(t)).c_str(), 8);
                     evs.push_back(e);
                     auto is = [&](unsigned v) { return e == c.bv_val(v, 8); };
                     auto ph = [&](unsigned v) { return phase == c.bv_val(v, 8); };
                     hyps.push_back({"pre: event " + std::to_string(t) + " in boot order",
                                     (is(POPULATE) && kho && ph(0)) || (is(EARLY_ALLOC) && z3::ule(phase, c.bv_val(2, 8))) ||
                                         (is(MEMORY_INIT) && (ph(1) || (!kho && ph(0)))) || (is(FREE_ALL) && ph(2)) ||
                                         (is(KHO_INIT) && ph(3))});
                     // kho_populate: scratch-only on. kho_memory_init: KHO boot ->
                     // kho_release_scratch (CMA) + deserialize; cold -> kho_reserve_scratch.
                     // memblock_free_all: scratch-only off, free (memory \ reserved).
                     // kho_init (cold): init_cma_reserved_pageblock, then free to buddy.
                     const expr nso = z3::ite(is(POPULATE), c.bool_val(true), z3::ite(is(FREE_ALL), c.bool_val(false), so));
                     const expr ncma = cma || (is(MEMORY_INIT) && kho) || (is(KHO_INIT) && !kho);
                     const expr nres = z3::ite(is(MEMORY_INIT) && !kho, c.bool_val(true), reserved);
                     const expr nbuddy = in_buddy || (is(FREE_ALL) && !nres) || (is(KHO_INIT) && !kho);
                     const expr nphase = z3::ite(is(POPULATE), c.bv_val(1, 8),
                                                 z3::ite(is(MEMORY_INIT), c.bv_val(2, 8),
                                                         z3::ite(is(FREE_ALL), c.bv_val(3, 8), z3::ite(is(KHO_INIT), c.bv_val(4, 8), phase))));
                     so = nso;
                     cma = ncma;
                     reserved = nres;
                     in_buddy = nbuddy;
                     phase = nphase;
                     const expr window = kho && (phase == c.bv_val(1, 8) || phase == c.bv_val(2, 8));
                     bad = bad || (window != so) || (in_buddy && !cma);
                   }
                   Conj goals = {{"INV_SCRATCH_ONLY_WINDOW", !bad}, {"INV_CMA_BEFORE_BUDDY", !bad}};
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     std::string o = std::string("  ") + (is_true(m, kho) ? "KHO boot:" : "cold boot:");
                     for (const auto& e : evs) {
                       const auto v = val(m, e);
                       o += std::string(" ") + (v < NEV ? names[v] : "?");
                     }
                     return o + "\n";
                   });
                 }});
}

}  // namespace

std::vector<Obligation> build_obligations(const ProveOptions& opts, Mutation m) {
  std::vector<Obligation> out;
  memblock_family(out, opts, m);
  scratch_family(out, opts);
  preserve_family(out, opts, m);
  window_family(out, opts);
  encoding_family(out, m);
  sm_family(out, opts);
  boot_family(out, opts);
  return out;
}

ObligationResult run_one(const Obligation& ob, const ProveOptions& opts) {
  ObligationResult r;
  r.info = ob.info;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    z3::context c;
    Query q{c, opts, ob.info.name, 0, 0, {}};
    Outcome o = ob.run(q);
    r.verdict = o.verdict;
    r.failing = ids_only(o.failing);
    r.counterexample = o.counterexample;
    r.reason = o.reason;
    r.subqueries = q.subqueries;
    // KHOSPEC_SPEC_GOAL (the mutation tests) naming no goal must not pass.
    if (const char* g = std::getenv("KHOSPEC_SPEC_GOAL"); g && q.subqueries == 0 && r.verdict == Verdict::proved) {
      r.verdict = Verdict::unknown;
      r.reason = std::string("KHOSPEC_SPEC_GOAL=") + g + " names no goal of this obligation";
    }
    r.slowest_seconds = q.slowest_s;
    r.slowest = q.slowest;
  } catch (const z3::exception& e) {
    r.verdict = Verdict::unknown;
    r.reason = std::string("z3 error: ") + e.msg();
  } catch (const std::exception& e) {
    r.verdict = Verdict::unknown;
    r.reason = std::string("internal error: ") + e.what();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.as_expected = ob.info.expect_refuted ? r.verdict == Verdict::refuted : r.verdict == Verdict::proved;
  return r;
}

}  // namespace khospec::spec::z3enc
