// Next-kernel obligations (spec/kho.md §6): the scratch-only window never
// allocates over a preserved block, deserialization reserves every block,
// memblock_free_all() never frees one, metadata and kexec segments stay
// where they must (items 15, 19, 24, 25, 27).
#include "spec/z3/families.hpp"

#include <string>
#include <vector>

namespace khospec::spec::z3enc {

void window_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation) {
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

}  // namespace khospec::spec::z3enc
