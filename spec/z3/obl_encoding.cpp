// Exact bit-vector theorems (spec/kho.md §4): the radix key and tree shape,
// the bitmap encodings, the greedy split (one step over 64 bits, the order
// lemma, an exhaustive 8-bit check) and restore-once.
#include "spec/z3/families.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "model/kho/era.hpp"

namespace khospec::spec::z3enc {

namespace {

constexpr std::uint32_t kKhoPageMagic = 0x4b484f50;  // "KHOP", the high half of page->private (6.18+)

}  // namespace

void encoding_family(std::vector<Obligation>& out, const ProveOptions&, Mutation mut) {
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
  // max(1, 2*floor(log2 n)) blocks (the bound of spec/kho.md §4, item 21).
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
  for (auto era : registry::era_ids()) {
    const auto& tr = registry::era(era);
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

}  // namespace khospec::spec::z3enc
