// Preservation obligations (spec/kho.md §4), per era: kho_preserve_folio(),
// one chunk of kho_preserve_phys/pages(), unpreserve, finalize and abort keep
// the preserved set aligned (and out of scratch where the debug check
// exists); plus the hazards on the same operations.
#include "spec/z3/families.hpp"

#include <string>
#include <vector>

#include "model/kho/era.hpp"

namespace khospec::spec::z3enc {

void preserve_family(std::vector<Obligation>& out, const ProveOptions&, Mutation mut) {
  const unsigned NP = 2;  // preserved-set slots (an op touches one block; two make overlap visible)
  enum class Op { folio, pages_chunk, unpreserve, finalize, abort, refresh };
  struct Spec {
    Op op;
    std::string name;
  };
  for (auto era : registry::era_ids()) {
    const auto& tr = registry::era(era);
    const std::string en(tr.name);
    // The debug scratch check (CONFIG_KEXEC_HANDOVER_DEBUG) exists from 6.18.
    const bool check = tr.debug_scratch_check;
    std::vector<Spec> ops = {{Op::folio, "preserve_folio"}, {Op::pages_chunk, tr.preserve_pages ? "preserve_pages" : "preserve_phys"}};
    if (tr.unpreserve_api) ops.push_back({Op::unpreserve, "unpreserve"});
    if (tr.finalize == registry::FinalizeModel::notifier_abort) {
      ops.push_back({Op::finalize, "finalize"});
      ops.push_back({Op::abort, "abort"});
    } else if (tr.finalize == registry::FinalizeModel::refresh) {
      ops.push_back({Op::refresh, "finalize"});
    }
    for (const auto& sp : ops) {
      const bool folio = sp.op == Op::folio;
      auto build = [=](z3::context& c, Conj& hyps, Conj& goals, Render& render, bool want_check) {
        PSet p = mk_pset(c, "P", NP);
        Areas ar = mk_areas(c, 2);
        expr finalized = c.bool_val(false);
        if (tr.finalize != registry::FinalizeModel::none) finalized = c.bool_const("finalized");
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
      if (sp.op == Op::folio && era == registry::EraId::v6_16) {
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
      if (sp.op == Op::pages_chunk && era == registry::EraId::v6_16) {
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

}  // namespace khospec::spec::z3enc
