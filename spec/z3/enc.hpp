// Internal to spec/: the Z3 encodings of spec/kho.md. z3++.h appears only in
// spec/z3/*.cpp and in the spec tests; the public API (spec/prove.hpp,
// spec/registry.hpp) is z3-free.
//
// Style (spec/kho.md, introduction and §2.3): every operation is Pre(op)(S, args)
// plus a next state, and the spec step is If(pre, S', S) (Hyperkernel);
// invariants are flat lists of (INV_* ID, conjunct) added as tracked
// assertions so that unsat cores and counterexamples name them.
#pragma once

#include <z3++.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/memblock/memblock.hpp"

namespace khospec::spec::z3enc {

using z3::expr;

// One named conjunct: an invariant (INV_*), a precondition ("pre: ...") or a
// hazard property (HAZARD_*).
struct Named {
  std::string id;
  expr e;
};
using Conj = std::vector<Named>;

inline expr bv(z3::context& c, std::uint64_t v, unsigned w = 64) { return c.bv_val(v, w); }
inline expr umax(const expr& a, const expr& b) { return z3::ite(z3::uge(a, b), a, b); }
inline expr umin(const expr& a, const expr& b) { return z3::ite(z3::ule(a, b), a, b); }
inline expr all_of(z3::context& c, const Conj& v) {
  z3::expr_vector ev(c);
  for (const auto& n : v) ev.push_back(n.e);
  return z3::mk_and(ev);
}

// ---- memblock -------------------------------------------------------------
// A memblock_type with a bounded number K of region slots: base and end
// (= base + size, so comparisons need no adder) as 64-bit bit-vectors,
// flags and nid as 32-bit ones (nid two's complement, NUMA_NO_NODE =
// 0xffffffff), cnt as an 8-bit count. Slots >= cnt are meaningless. total
// is memblock_type.total_size. A region with size > 0 that does not wrap
// is exactly base < end (INV_MEMBLOCK_REGION_BOUNDS).
struct SymRegion {
  expr base, end, flags, nid;
  expr size() const { return end - base; }
};
struct SymIte;
struct SymType {
  std::vector<SymRegion> r;
  expr cnt;    // bv8
  expr total;  // bv64
  // Set by ite_type(): this state is If(cond, a, b) slot by slot. The
  // queries (covered, flags_at, nid_at, memblock_state_inv) then push the ite
  // out, If(cond, P(a), P(b)): the same formula, but P over muxed slots
  // makes the solver prove comparators on muxed inputs equal to muxed
  // comparators (a miter, hard for SAT) whenever P(a) or P(b) also occurs.
  std::shared_ptr<const SymIte> ite;
  unsigned K() const { return static_cast<unsigned>(r.size()); }
};
struct SymIte {
  expr cond;
  SymType a, b;
};
// A piece of a region array under construction (sorted by construction).
struct Piece {
  expr valid, base, end, flags, nid;
};

SymType mk_type(z3::context& c, const std::string& prefix, unsigned K);
SymType const_type(z3::context& c, const model::MemblockType& t, unsigned K);
// If(cond, a, b) slot by slot.
SymType ite_type(const expr& cond, const SymType& a, const SymType& b);
expr slot_valid(const SymType& t, unsigned i);
// Memblock state invariants (spec/kho.md §2.2, items 1-5) for one array.
Conj memblock_state_inv(z3::context& c, const SymType& t);
// Coverage and attribute queries at address x.
expr covered(z3::context& c, const SymType& t, const expr& x);
expr flags_at(z3::context& c, const SymType& t, const expr& x);
expr nid_at(z3::context& c, const SymType& t, const expr& x);
// The region array made of `pieces` (merged like memblock_merge_regions when
// `merge`), in K slots; `fits` is false when more than K regions result.
struct Normalized {
  SymType t;
  expr fits;
  expr sorted;  // the pieces were sorted and disjoint (no BUG_ON in merge)
};
Normalized normalize(z3::context& c, const std::vector<Piece>& pieces, unsigned K, bool merge);

// Planted bugs for the mutation tests (spec-side copies of the operations).
enum class Mutation {
  none,
  merge_ignores_flags,   // memblock_merge_regions() without the flags test
  add_split_off_by_one,  // add: a gap piece ends one byte into the next region
  setclr_split_off_by_one,  // setclr_flag: the inside piece ends one byte past the end
  alloc_scratch_check_dropped,  // should_skip_region() forgets KHO_SCRATCH
  preserve_scratch_check_dropped,  // kho_preserve_*: debug scratch check missing
  split_order_off_by_one,  // greedy split uses ilog2(n) + 1
  folio_info_pfn_not_phys,  // test_kho stores pfn | order instead of phys | order
  memfd_folio_flags_shift_off_by_one,  // memfd folio flags at bit 51, not 52
  kho_block_count_per_block_off_by_one,  // one entry more per block than fits
};

struct OpResult {
  SymType next;  // If(apply, S', S) already applied
  expr pre;      // the call's precondition (including "fits in K")
  expr ret;      // return value (bv64: 0 / -errno, or the address for alloc)
  expr no_bug;   // INV_MEMBLOCK_NO_BUG: merge sees sorted pieces, nothing overflows
  SymType norm;  // S' (the normalized array, meaningful when apply)
  expr apply;    // the step changes the state: next = If(apply, norm, S)
};

// mm/memblock.c memblock_add_range() (v6.16): gaps get (nid, flags), existing
// regions win, then merge.
OpResult mb_add(z3::context& c, const SymType& t, const expr& base, const expr& size, const expr& nid,
                const expr& flags, Mutation m = Mutation::none);
// memblock_remove_range(): isolate + delete, never merges.
OpResult mb_remove(z3::context& c, const SymType& t, const expr& base, const expr& size);
// memblock_setclr_flag(): isolate, OR / AND-NOT `flag`, merge.
OpResult mb_setclr(z3::context& c, const SymType& t, const expr& base, const expr& size, bool set,
                   const expr& flag, Mutation m = Mutation::none);
// memblock_find_in_range_node() top-down with choose_memblock_flags(): the
// highest fit of `size` at `align` in (memory \ reserved) within [start, end).
// The arithmetic of one free range [lo, hi) (__memblock_find_range_top_down):
// clamp to [start, end), round_down(this_end - size, align); `ok` is the
// arithmetic part of "the range fits" (non-empty, room for size, the
// rounded address not below the clamped start).
struct FitArith {
  expr ok, cand;
};
FitArith fit_top_down(const expr& lo, const expr& hi, const expr& start, const expr& end, const expr& size,
                      const expr& align);
// size > 0 and align a power of two.
expr find_pre(const expr& size, const expr& align);
struct FindCandidate {
  std::string where;  // "memory[i] below reserved[j]"
  expr ok, cand;      // the range fits there; the address it would return
  expr lo, hi;        // the free range [lo, hi) = memory[i] ∩ the gap below reserved[j]
};
struct FindResult {
  expr found, best;
  expr pre;  // find_pre(size, align)
  expr start, end;  // the clamped [start, end) every candidate's fit_top_down() saw
  // Every candidate; best is the highest ok one, so a property of every ok
  // candidate is one of best (and a goal about one candidate never mentions
  // the search's ite chain).
  std::vector<FindCandidate> cands;
};
FindResult mb_find(z3::context& c, const SymType& memory, const SymType& reserved, const expr& scratch_only,
                   const expr& size, const expr& align, const expr& start, const expr& end,
                   Mutation m = Mutation::none);
// memblock_phys_alloc_range(size, align, start, end): mb_find, then
// __memblock_reserve(found, size, NUMA_NO_NODE, RSRV_KERN), both encoded.
struct AllocResult {
  SymType reserved;
  expr pre, addr, no_bug;
};
AllocResult mb_alloc(z3::context& c, const SymType& memory, const SymType& reserved, const expr& scratch_only,
                     const expr& size, const expr& align, const expr& start, const expr& end,
                     Mutation m = Mutation::none);

// Transition invariants (spec/kho.md §2.3, items 6, 7) at a free address x.
expr add_monotone(z3::context& c, const SymType& before, const SymType& after, const expr& base,
                  const expr& size, const expr& x);
expr setclr_flags_only(z3::context& c, const SymType& before, const SymType& after, const expr& base,
                       const expr& size, bool set, const expr& flag, const expr& x);

// Composition (assume-guarantee): memblock/add/preserve proves, for every
// state, base, size, nid and flags whose result fits, that the result S'
// satisfies the state invariants and INV_MEMBLOCK_ADD_MONOTONE at every x;
// memblock/setclr_flag/preserve the same with INV_MEMBLOCK_SETCLR_FLAGS_ONLY.
// An operation made of such steps takes each result as a fresh state NAME
// constrained by those facts at the query's x (an obligation using them
// lists the lemma obligation in ObligationInfo::assumes).
struct Lemma {
  SymType next;
  Conj facts;
};
Lemma add_lemma(z3::context& c, const std::string& name, const SymType& before, const expr& base, const expr& size,
                const expr& x);
Lemma setclr_lemma(z3::context& c, const std::string& name, const SymType& before, const expr& base, const expr& size,
                   bool set, const expr& flag, const expr& x);

// ctz64 (64 for 0) and fls64 (0 for 0; any width) as ite chains.
expr ctz64(z3::context& c, const expr& v);
expr fls64(z3::context& c, const expr& v);
// The greedy split order at pfn p with end e: min(ctz(p), fls(e - p) - 1).
inline expr split_order(z3::context& c, const expr& p, const expr& e) { return umin(ctz64(c, p), fls64(c, e - p) - bv(c, 1)); }
// The radix key (kho-v2+).
inline expr radix_key(z3::context& c, const expr& phys, const expr& o) {
  return z3::shl(bv(c, 1), bv(c, 52) - o) | z3::lshr(phys, bv(c, 12) + o);
}

// ---- preserved blocks and scratch areas (spec/kho.md §3, §4; kho_enc.cpp) ----
// MAX_PAGE_ORDER on x86-64 (include/linux/mmzone.h): the largest folio.
constexpr unsigned kMaxPageOrder = 10;

// 2^o as a 64-bit term.
inline expr pow2(z3::context& c, const expr& o) { return z3::shl(bv(c, 1), o); }
// Block (pfn, o) well formed: o <= 51, pfn aligned, inside the 52-bit pfn space.
expr block_ok(z3::context& c, const expr& pfn, const expr& o);
// [pfn << 12, (pfn + 2^o) << 12) meets the non-empty byte range [a, a + s).
expr overlaps(z3::context& c, const expr& pfn, const expr& o, const expr& a, const expr& s);

// The scratch areas (struct kho_scratch {addr, size}) as free 64-bit terms.
struct Areas {
  std::vector<expr> a, s;
};
Areas mk_areas(z3::context& c, unsigned n);
expr areas_ok(z3::context& c, const Areas& ar);  // no area wraps
expr in_scratch(z3::context& c, const Areas& ar, const expr& pfn, const expr& o);

// The preserved set P in a bounded number of slots.
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
PSet mk_pset(z3::context& c, const std::string& p, unsigned n);
// INV_PRESERVED_ALIGNED, plus INV_SCRATCH_PRESERVED_DISJOINT when
// `scratch_check` and INV_PRESERVED_ORDER_RESTORABLE when `restorable`.
Conj pset_inv(z3::context& c, const PSet& p, const Areas& ar, bool scratch_check, bool restorable);
// INV_PRESERVED_DISJOINT: the blocks are pairwise disjoint.
expr pset_disjoint(z3::context& c, const PSet& p);
// __kho_preserve_order() on a bounded set: the block goes to the first free
// slot when `go` (no change when it is already there); `has_room` is false
// when the bounded set is full.
PSet pset_insert(z3::context& c, const PSet& p, const expr& go, const expr& pfn, const expr& o, expr& has_room);

// Concrete values back from a Z3 model (or from simplify() on constants).
std::uint64_t u64(const expr& e);
inline std::uint64_t val(const z3::model& m, const expr& e) { return u64(m.eval(e, true)); }
inline bool is_true(const z3::model& m, const expr& e) { return m.eval(e, true).is_true(); }
inline bool is_false(const z3::model& m, const expr& e) { return m.eval(e, true).is_false(); }
std::string hex(std::uint64_t v);  // "0x1f", "0"
model::MemblockType eval_type(const z3::model& m, const SymType& t);
std::string render_type(const std::string& name, const model::MemblockType& t);
std::string render_pset(const z3::model& m, const std::string& title, const PSet& p);
std::string render_areas(const z3::model& m, const Areas& ar);

}  // namespace khospec::spec::z3enc
