// The solver façade of the obligations (spec/z3/query.hpp): how a query is
// run (tactic, per-query timeout, --dump-smt2, timing of every sub-query),
// how the solver's answer becomes a verdict (failing goal IDs, unsat core,
// rendered counterexample) and how one obligation runs in its own context.
#include "spec/z3/query.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <set>

#include "model/memblock/memblock.hpp"

namespace khospec::spec::z3enc {

namespace {

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

// QF_BV (bit-blasting) unless KHOSPEC_SPEC_TACTIC names another tactic
// (for experiments on a slow query).
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

double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// One sub-query: hyps ∧ extra ∧ ¬goal. Times the check and remembers the
// slowest sub-query of the obligation (reported with the result).
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

// The 64-bit constants a query's assertions mention (the counterexample's
// free values).
void collect_consts(const expr& e, std::set<unsigned>& seen, std::vector<expr>& out) {
  if (!seen.insert(e.id()).second) return;
  const bool narrow = e.is_const() && e.is_bv() && (e.decl().name().str().find("nid") != std::string::npos ||
                                                    e.decl().name().str().find("flags") != std::string::npos);
  if (e.is_const() && e.is_bv() && (e.get_sort().bv_size() == 64 || narrow) && e.decl().decl_kind() == Z3_OP_UNINTERPRETED) {
    out.push_back(e);
    return;
  }
  if (e.is_app())
    for (unsigned i = 0; i < e.num_args(); ++i) collect_consts(e.arg(i), seen, out);
}

// What a kernel can produce (x86-64 and arm64: MAX_PHYSMEM_BITS <= 52, 4 KiB
// pages): every address and size below 2^52, a page frame number below 2^40,
// a scratch area page-aligned (kho_reserve_scratch() allocates whole pages),
// a node id NUMA_NO_NODE or below MAX_NUMNODES (1024), region flags the
// kernel defines (a reserved region only RSRV_NOINIT and RSRV_KERN).
// A counterexample is searched for there first; a bound the query itself
// contradicts (an -errno as u64) simply leaves that model unused.
expr kernel_producible(z3::context& c, const std::vector<expr>& consts) {
  expr e = c.bool_val(true);
  for (const auto& k : consts) {
    const std::string n = k.decl().name().str();
    const unsigned w = k.get_sort().bv_size();
    if (n.find("nid") != std::string::npos) e = e && (k == c.bv_val(-1, w) || z3::ult(k, c.bv_val(1024, w)));
    else if (n.find("flags") != std::string::npos) {
      const unsigned known = n.rfind("reserved[", 0) == 0 ? model::MEMBLOCK_RSRV_NOINIT | model::MEMBLOCK_RSRV_KERN
                                                          : 2 * model::MEMBLOCK_KHO_SCRATCH - 1;
      e = e && (k & c.bv_val(~known, w)) == c.bv_val(0, w);
    }
    else if (n.find("pfn") != std::string::npos) e = e && z3::ult(k, c.bv_val(std::uint64_t{1} << 40, 64));
    else e = e && z3::ult(k, c.bv_val(std::uint64_t{1} << 52, 64));
    if (n.rfind("scratch[", 0) == 0) e = e && (k & c.bv_val(0xfffu, 64)) == c.bv_val(0u, 64);
  }
  return e;
}

// The solver's model, or one inside kernel_producible() when one exists.
z3::model kernel_model(Query& q, z3::solver& s, std::string& note) {
  std::set<unsigned> seen;
  std::vector<expr> consts;
  const z3::expr_vector as = s.assertions();
  for (unsigned i = 0; i < as.size(); ++i) collect_consts(as[i], seen, consts);
  const z3::model first = s.get_model();
  s.push();
  s.add(kernel_producible(q.c, consts));
  const auto res = check_one(q, s, "kernel-producible counterexample");
  if (res == z3::sat) {
    z3::model m = s.get_model();
    unsigned kept = 1;
    for (const auto& p : q.prefer) {
      s.push();
      s.add(p);
      if (check_one(q, s, "preferred counterexample") != z3::sat) {
        s.pop();
        continue;
      }
      m = s.get_model();
      ++kept;
    }
    for (unsigned i = 0; i < kept; ++i) s.pop();
    return m;
  }
  s.pop();
  note = "  (no counterexample has every address below 2^52 and page-aligned scratch: this one lies outside\n"
         "   what a kernel produces)\n";
  return first;
}

}  // namespace

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
          std::string note;
          const z3::model m = kernel_model(q, s, note);
          for (const auto& g : goals)
            if (is_false(m, g.e) && std::find(o.failing.begin(), o.failing.end(), g.id) == o.failing.end())
              o.failing.push_back(g.id);
          o.counterexample = note + (render ? render(m) : std::string{});
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

ObligationResult run_one(const Obligation& ob, const ProveOptions& opts) {
  ObligationResult r;
  r.info = ob.info;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    z3::context c;
    Query q{c, opts, ob.info.name, 0, 0, {}, {}};
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
