// memblock obligations (spec/kho.md §2): non-vacuity and preservation of the
// state invariants for memblock_add/reserve/remove/free/setclr_flag on K
// symbolic regions, and memblock_phys_alloc_range() composed from the
// encoded search and the add lemma (alloc_step.cpp).
#include "spec/z3/families.hpp"

#include <sstream>
#include <string>
#include <vector>

namespace khospec::spec::z3enc {

namespace {

struct MbCall {
  std::string op;     // add, reserve, remove, free, setclr_flag
  bool reserved_type; // operates on memblock.reserved
};

}  // namespace

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

}  // namespace khospec::spec::z3enc
