// Boot order (spec/kho.md §6): bounded model checking of cold and KHO boots
// for the scratch-only window and CMA-before-buddy.
#include "spec/z3/families.hpp"

#include <string>
#include <vector>

namespace khospec::spec::z3enc {

void boot_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation) {
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

}  // namespace khospec::spec::z3enc
