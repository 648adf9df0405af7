// The encodings of KHO's clients (spec/kho.md §8) as exact bit-vector
// theorems: test_kho's folios_info entry `phys | order` (lib/test_kho.c,
// the u64 array it keeps in a kho_vmalloc area), memfd's folio entry
// `pfn:52 flags:12` (include/linux/kho/abi/memfd.h, 6.19) and the slot
// layout of a kho_block set (kernel/liveupdate/kho_block.c, 7.2). Each term
// restates model/kho/luo_encoding.hpp (or clients.cpp for test_kho), whose
// runtime checks carry the same IDs.
#include "spec/z3/families.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "model/kho/luo_encoding.hpp"

namespace khospec::spec::z3enc {

namespace {

constexpr std::uint64_t kPageMask = ~std::uint64_t{0xfff};  // PAGE_MASK, 4 KiB pages
constexpr std::uint64_t kNrPageOrders = 11;                 // NR_PAGE_ORDERS (MAX_PAGE_ORDER 10)

// The obligation and, from the same hypotheses, its non-vacuity check.
void exact_and_nonvacuous(std::vector<Obligation>& out, const std::string& name, const std::string& nonvacuous,
                          std::vector<std::string> ids,
                          const std::string& summary,
                          std::function<void(z3::context&, Conj&, Conj&, Render&)> build) {
  out.push_back({{name, "all", ObligationKind::exact, ids, false, summary}, [build](Query& q) {
                   Conj hyps, goals;
                   Render r;
                   build(q.c, hyps, goals, r);
                   return prove_goals(q, hyps, goals, r);
                 }});
  out.push_back({{nonvacuous, "all", ObligationKind::nonvacuous, ids, false, "the hypotheses of " + name + " are satisfiable"},
                 [build](Query& q) {
                   Conj hyps, goals;
                   Render r;
                   build(q.c, hyps, goals, r);
                   return check_sat(q, hyps);
                 }});
}

}  // namespace

void luo_family(std::vector<Obligation>& out, const ProveOptions&, Mutation mut) {
  // test_kho: folios_info[i] = virt_to_phys(folio_address(folio)) | order;
  // the next kernel reads order = e & ~PAGE_MASK, phys = e & PAGE_MASK.
  exact_and_nonvacuous(
      out, "luo/folio_info_entry/exact", "luo/folio_info_entry/nonvacuous", {"INV_FOLIO_INFO_ENTRY_EXACT"},
      "test_kho's `phys | order` decodes back to the folio and its order, and every entry re-encodes to itself",
      [mut](z3::context& c, Conj& hyps, Conj& goals, Render& r) {
        expr phys = c.bv_const("phys", 64), o = c.bv_const("order", 64), e = c.bv_const("entry", 64);
        const expr stored = mut == Mutation::folio_info_pfn_not_phys ? z3::lshr(phys, bv(c, 12)) : phys;
        const expr enc = stored | o;
        auto dec_phys = [&](const expr& x) { return x & bv(c, kPageMask); };
        auto dec_order = [&](const expr& x) { return x & bv(c, ~kPageMask); };
        hyps = {{"pre: order < NR_PAGE_ORDERS", z3::ult(o, bv(c, kNrPageOrders))},
                {"pre: the folio is aligned to its order",
                 (phys & (z3::shl(bv(c, 1), bv(c, 12) + o) - bv(c, 1))) == bv(c, 0)},
                {"pre: a real folio (phys != 0)", phys != bv(c, 0)}};
        goals = {{"INV_FOLIO_INFO_ENTRY_EXACT",
                  dec_phys(enc) == phys && dec_order(enc) == o && enc != bv(c, 0) &&
                      (dec_phys(e) | dec_order(e)) == e}};
        r = [=](const z3::model& m) {
          return "  phys " + hex(val(m, phys)) + " order " + std::to_string(val(m, o)) + " -> entry " + hex(val(m, enc)) +
                 " -> phys " + hex(val(m, dec_phys(enc))) + " order " + std::to_string(val(m, dec_order(enc))) + "\n";
        };
      });

  // memfd_luo_folio_ser { u64 pfn:52; u64 flags:12; u64 index; }: the first
  // word, as GCC lays out the bitfields on little-endian x86-64.
  exact_and_nonvacuous(
      out, "luo/memfd_folio_entry/exact", "luo/memfd_folio_entry/nonvacuous",
      {"INV_MEMFD_FOLIO_ENTRY_EXACT", "INV_MEMFD_RESTORED_CONTENT"},
      "pfn | flags << 52 decodes back exactly when pfn < 2^52 and flags < 2^12, and every word re-encodes to itself",
      [mut](z3::context& c, Conj& hyps, Conj& goals, Render& r) {
        using model::MEMFD_FOLIO_PFN_BITS;
        expr pfn = c.bv_const("pfn", 64), fl = c.bv_const("flags", 64), w = c.bv_const("word", 64);
        const unsigned shift = mut == Mutation::memfd_folio_flags_shift_off_by_one ? MEMFD_FOLIO_PFN_BITS - 1 : MEMFD_FOLIO_PFN_BITS;
        auto enc = [&](const expr& p, const expr& f) {
          return (p & bv(c, model::MEMFD_FOLIO_PFN_MASK)) | z3::shl(f & bv(c, model::MEMFD_FOLIO_FLAGS_MASK), bv(c, shift));
        };
        auto dec_pfn = [&](const expr& x) { return x & bv(c, model::MEMFD_FOLIO_PFN_MASK); };
        auto dec_flags = [&](const expr& x) { return z3::lshr(x, bv(c, MEMFD_FOLIO_PFN_BITS)); };
        const expr word = enc(pfn, fl);
        hyps = {{"pre: pfn fits 52 bits", z3::ult(pfn, z3::shl(bv(c, 1), bv(c, MEMFD_FOLIO_PFN_BITS)))},
                {"pre: flags fit 12 bits", z3::ule(fl, bv(c, model::MEMFD_FOLIO_FLAGS_MASK))},
                {"pre: the flags memfd_luo writes (DIRTY, UPTODATE)",
                 (fl & ~bv(c, model::MEMFD_LUO_FOLIO_DIRTY | model::MEMFD_LUO_FOLIO_UPTODATE)) == bv(c, 0)}};
        // The folio the next kernel restores is the one preserved (its
        // content is then INV_KHO_PRESERVED_CONTENT_INTACT's); the flags
        // come back, and every word is one entry's.
        goals = {{"INV_MEMFD_RESTORED_CONTENT", dec_pfn(word) == pfn},
                 {"INV_MEMFD_FOLIO_ENTRY_EXACT", dec_flags(word) == fl && enc(dec_pfn(w), dec_flags(w)) == w}};
        r = [=](const z3::model& m) {
          return "  pfn " + hex(val(m, pfn)) + " flags " + hex(val(m, fl)) + " -> word " + hex(val(m, word)) + " -> pfn " +
                 hex(val(m, dec_pfn(word))) + " flags " + hex(val(m, dec_flags(word))) + "\n";
        };
      });

  // kho_block_set_it_reserve_entry(): entry i of an e-byte set is slot
  // i mod c of block i / c, c = (KHO_BLOCK_SIZE - 16) / e, and that block's
  // count becomes (i mod c) + 1; kho_block_set_grow() links ceil(n / c)
  // blocks, at most KHO_MAX_BLOCKS. Per entry size the sets use:
  // luo_file_ser (64) and luo_session_ser (80).
  for (std::uint64_t esz : {model::LUO_FILE_SER_SIZE, model::LUO_SESSION_SER_SIZE}) {
    exact_and_nonvacuous(
        out, "luo/kho_block/layout[e=" + std::to_string(esz) + "]", "luo/kho_block/nonvacuous[e=" + std::to_string(esz) + "]", {"INV_KHO_BLOCK_CHAIN_VALID"},
        "entries map one-to-one onto in-block slots past the header, slots never overlap, counts stay in [1, c], "
        "n entries need ceil(n / c) <= KHO_MAX_BLOCKS blocks",
        [esz, mut](z3::context& c, Conj& hyps, Conj& goals, Render& r) {
          const std::uint64_t cpb = model::kho_block_count_per_block(esz) +
                                    (mut == Mutation::kho_block_count_per_block_off_by_one ? 1 : 0);
          const std::uint64_t hdr = model::KHO_BLOCK_HEADER_SIZE, blk = model::KHO_BLOCK_SIZE;
          const std::uint64_t cap = cpb * model::KHO_MAX_BLOCKS;
          expr i = c.bv_const("i", 64), j = c.bv_const("j", 64), n = c.bv_const("n", 64);
          expr b = c.bv_const("block", 64), k = c.bv_const("k", 64);
          const expr E = bv(c, esz), C = bv(c, cpb);
          // x / c and x % c by their definition (x = q * c + r, r < c), q and
          // r 32-bit so the 64-bit product cannot wrap (x < c * 2^32 covers
          // every x the preconditions allow): division terms in the goals
          // would trip Z3's model evaluation over its division-by-zero
          // interpretation, and 64-bit dividers are slow to bit-blast.
          auto divmod = [&](const expr& x, const std::string& name) {
            expr q = c.bv_const((name + ".block").c_str(), 32), rem = c.bv_const((name + ".slot").c_str(), 32);
            const expr q64 = z3::zext(q, 32), r64 = z3::zext(rem, 32);
            hyps.push_back({"def: " + name + " = block * c + slot, slot < c", x == q64 * C + r64 && z3::ult(r64, C)});
            return std::pair{q64, r64};
          };
          hyps = {{"pre: i < n", z3::ult(i, n)},
                  {"pre: j < n", z3::ult(j, n)},
                  {"pre: n <= c * KHO_MAX_BLOCKS", z3::ule(n, bv(c, cap))},
                  {"pre: block < KHO_MAX_BLOCKS", z3::ult(b, bv(c, model::KHO_MAX_BLOCKS))},
                  {"pre: k < c", z3::ult(k, C)}};
          const auto [bi, si] = divmod(i, "i");
          const auto [bj, sj] = divmod(j, "j");
          const auto [bx, sx] = divmod(b * C + k, "block*c+k");
          const auto [blocks, unused] = divmod(n + C - bv(c, 1), "n+c-1");  // DIV_ROUND_UP(n, c)
          (void)unused;
          auto off = [&](const expr& slot) { return bv(c, hdr) + slot * E; };
          const expr bounded = z3::uge(off(si), bv(c, hdr)) && z3::ule(off(si) + E, bv(c, blk)) && z3::ult(bi, blocks) &&
                               z3::ule(blocks, bv(c, model::KHO_MAX_BLOCKS));
          const expr injective = z3::implies(i != j, bi != bj || off(si) != off(sj));
          const expr disjoint =
              z3::implies(i != j && bi == bj, z3::ule(off(si) + E, off(sj)) || z3::ule(off(sj) + E, off(si)));
          const expr onto = bx == b && off(sx) == bv(c, hdr) + k * E;
          const expr count = si + bv(c, 1);
          const expr count_ok = z3::uge(count, bv(c, 1)) && z3::ule(count, bv(c, model::kho_block_count_per_block(esz)));
          // One query each (prove_goals), all under the one ID.
          goals = {{"INV_KHO_BLOCK_CHAIN_VALID", bounded},
                   {"INV_KHO_BLOCK_CHAIN_VALID", injective},
                   {"INV_KHO_BLOCK_CHAIN_VALID", disjoint},
                   {"INV_KHO_BLOCK_CHAIN_VALID", onto},
                   {"INV_KHO_BLOCK_CHAIN_VALID", count_ok}};
          // The slots are computed here from the model's integers: evaluating
          // the division terms in a model trips Z3 over its division-by-zero
          // interpretation.
          r = [=](const z3::model& m) {
            auto slot = [&](std::uint64_t x) {
              return "entry " + std::to_string(x) + " -> block " + std::to_string(x / cpb) + " offset " +
                     std::to_string(hdr + (x % cpb) * esz) + " (+" + std::to_string(esz) + ")";
            };
            return "  n " + std::to_string(val(m, n)) + ", c " + std::to_string(cpb) + ": " + slot(val(m, i)) + "; " +
                   slot(val(m, j)) + "\n";
          };
        });
  }
}

}  // namespace khospec::spec::z3enc
