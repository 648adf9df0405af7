// spec/kho.md §2 (memblock) as Z3 terms over bounded region arrays.
#include <cstdio>
#include <functional>
#include <sstream>
#include <unordered_map>

#include "spec/z3/enc.hpp"

namespace khospec::spec::z3enc {

namespace {

constexpr std::uint64_t kMax = ~std::uint64_t{0};

expr b8(z3::context& c, unsigned v) { return c.bv_val(v, 8); }

}  // namespace

SymType mk_type(z3::context& c, const std::string& prefix, unsigned K) {
  SymType t{{}, c.bv_const((prefix + ".cnt").c_str(), 8), c.bv_const((prefix + ".total").c_str(), 64), nullptr};
  for (unsigned i = 0; i < K; ++i) {
    const std::string p = prefix + "[" + std::to_string(i) + "].";
    t.r.push_back({c.bv_const((p + "base").c_str(), 64), c.bv_const((p + "end").c_str(), 64),
                   c.bv_const((p + "flags").c_str(), 32), c.bv_const((p + "nid").c_str(), 32)});
  }
  return t;
}

SymType const_type(z3::context& c, const model::MemblockType& t, unsigned K) {
  SymType s{{}, b8(c, static_cast<unsigned>(t.cnt())), bv(c, t.total_size), nullptr};
  for (unsigned i = 0; i < K; ++i) {
    model::MemblockRegion r = i < t.cnt() ? t.regions[i] : model::MemblockRegion{0, 0, 0, 0};
    s.r.push_back({bv(c, r.base), bv(c, r.base + r.size), bv(c, r.flags, 32),
                   bv(c, static_cast<std::uint32_t>(r.nid), 32)});
  }
  return s;
}

expr slot_valid(const SymType& t, unsigned i) { return z3::ult(t.cnt.ctx().bv_val(i, 8), t.cnt); }

namespace {

// P(t_1, ..., t_n) with P pushed into the muxes of its terms:
// P(If(c, a, b), ...) = If(c, P(a, ...), P(b, ...)), recursively (a
// normalized slot's base is a mux over pieces, a piece's base is umax(...)).
// The same value, but the solver then compares the leaves themselves, which
// also occur on the other side of a goal, instead of proving a comparator on
// muxed inputs equal to muxed comparators (a miter, hard for SAT). Along one
// path an ite whose condition is already decided takes that branch, so two
// slots muxed by the same piece choice compare only matching pieces. Past
// kPushBudget leaves (larger K) P is applied to the terms unpushed.
constexpr unsigned kPushBudget = 1u << 12;
struct Pusher {
  struct OverBudget {};
  const std::vector<expr>& terms;
  const std::function<expr(const std::vector<expr>&)>& p;
  std::vector<expr> leaves;
  std::unordered_map<unsigned, bool> path;
  unsigned budget = kPushBudget;

  expr term(const expr& e) {
    if (!e.is_app() || e.decl().decl_kind() != Z3_OP_ITE) {
      leaves.push_back(e);
      expr r = leaves.size() == terms.size() ? leaf() : term(terms[leaves.size()]);
      leaves.pop_back();
      return r;
    }
    const unsigned cid = e.arg(0).id();
    if (auto it = path.find(cid); it != path.end()) return term(it->second ? e.arg(1) : e.arg(2));
    path[cid] = true;
    expr t = term(e.arg(1));
    path[cid] = false;
    expr f = term(e.arg(2));
    path.erase(cid);
    return z3::ite(e.arg(0), t, f);
  }
  expr leaf() {
    if (budget-- == 0) throw OverBudget{};
    return p(leaves);
  }
};
expr pushed(const std::vector<expr>& terms, const std::function<expr(const std::vector<expr>&)>& p) {
  try {
    Pusher ps{terms, p, {}, {}};
    return ps.term(terms[0]);
  } catch (const Pusher::OverBudget&) {
    return p(terms);
  }
}
template <class F>
expr cmp_pushed(const expr& a, const expr& b, const F& cmp) {
  return pushed({a, b}, [&](const std::vector<expr>& l) { return cmp(l[0], l[1]); });
}

// a == b with both sides pushed into their muxes (flags and nid at x of a
// normalized array against those of the array before).
expr eq_pushed(const expr& a, const expr& b) {
  return cmp_pushed(a, b, [](const expr& l, const expr& r) { return l == r; });
}

// x in slot i: slot_valid, base <= x < end, each comparison pushed into the
// muxes of its term.
expr in_slot(const SymType& t, unsigned i, const expr& x) {
  z3::context& c = x.ctx();
  const expr valid = pushed({t.cnt}, [&](const std::vector<expr>& n) { return z3::ult(c.bv_val(i, 8), n[0]); });
  return valid && cmp_pushed(t.r[i].base, t.r[i].end, [&](const expr& b, const expr& e) { return z3::uge(x, b) && z3::ult(x, e); });
}

}  // namespace

Conj memblock_state_inv(z3::context& c, const SymType& t) {
  if (t.ite) {
    const Conj a = memblock_state_inv(c, t.ite->a), b = memblock_state_inv(c, t.ite->b);
    Conj v;
    for (std::size_t i = 0; i < a.size(); ++i) v.push_back({a[i].id, z3::ite(t.ite->cond, a[i].e, b[i].e)});
    return v;
  }
  const unsigned K = t.K();
  z3::expr_vector bounds(c), sorted(c), merged(c);
  expr sum = bv(c, 0);
  for (unsigned i = 0; i < K; ++i) {
    const auto& r = t.r[i];
    // item 2: size > 0 and base + size <= PHYS_ADDR_MAX
    bounds.push_back(z3::implies(slot_valid(t, i), cmp_pushed(r.base, r.end, [](const expr& a, const expr& b) { return z3::ult(a, b); })));  // size > 0, no wrap
    sum = sum + z3::ite(slot_valid(t, i), r.size(), bv(c, 0));
    if (i + 1 < K) {
      const auto& n = t.r[i + 1];
      // item 3: sorted and disjoint
      sorted.push_back(z3::implies(slot_valid(t, i + 1), cmp_pushed(r.end, n.base, [](const expr& a, const expr& b) { return z3::ule(a, b); })));
      // item 4: no exactly adjacent neighbours with equal flags and nid
      merged.push_back(z3::implies(slot_valid(t, i + 1),
                                   !(r.end == n.base && r.flags == n.flags && r.nid == n.nid)));
    }
  }
  Conj v;
  v.push_back({"INV_MEMBLOCK_CAPACITY", z3::ule(t.cnt, b8(c, K))});  // item 1 (bounded: cnt <= K)
  v.push_back({"INV_MEMBLOCK_REGION_BOUNDS", z3::mk_and(bounds)});
  v.push_back({"INV_MEMBLOCK_SORTED_DISJOINT", sorted.empty() ? c.bool_val(true) : z3::mk_and(sorted)});
  v.push_back({"INV_MEMBLOCK_MERGED", merged.empty() ? c.bool_val(true) : z3::mk_and(merged)});
  v.push_back({"INV_MEMBLOCK_TOTAL", t.total == sum});  // item 5
  return v;
}

expr covered(z3::context& c, const SymType& t, const expr& x) {
  if (t.ite) return z3::ite(t.ite->cond, covered(c, t.ite->a, x), covered(c, t.ite->b, x));
  expr e = c.bool_val(false);
  for (unsigned i = 0; i < t.K(); ++i) e = e || in_slot(t, i, x);
  return e;
}

expr flags_at(z3::context& c, const SymType& t, const expr& x) {
  if (t.ite) return z3::ite(t.ite->cond, flags_at(c, t.ite->a, x), flags_at(c, t.ite->b, x));
  expr e = bv(c, 0, 32);
  for (unsigned i = t.K(); i-- > 0;) e = z3::ite(in_slot(t, i, x), t.r[i].flags, e);
  return e;
}

expr nid_at(z3::context& c, const SymType& t, const expr& x) {
  if (t.ite) return z3::ite(t.ite->cond, nid_at(c, t.ite->a, x), nid_at(c, t.ite->b, x));
  expr e = bv(c, 0, 32);
  for (unsigned i = t.K(); i-- > 0;) e = z3::ite(in_slot(t, i, x), t.r[i].nid, e);
  return e;
}

SymType ite_type(const expr& cond, const SymType& a, const SymType& b) {
  SymType o{{}, z3::ite(cond, a.cnt, b.cnt), z3::ite(cond, a.total, b.total), nullptr};
  for (unsigned i = 0; i < a.K(); ++i)
    o.r.push_back({z3::ite(cond, a.r[i].base, b.r[i].base), z3::ite(cond, a.r[i].end, b.r[i].end),
                   z3::ite(cond, a.r[i].flags, b.r[i].flags), z3::ite(cond, a.r[i].nid, b.r[i].nid)});
  o.ite = std::make_shared<const SymIte>(SymIte{cond, a, b});
  return o;
}

namespace {

Normalized normalize_impl(z3::context& c, const std::vector<Piece>& p, unsigned K, bool merge, bool check_flags) {
  const std::size_t n = p.size();
  std::vector<expr> start, ext;
  expr any_prev = c.bool_val(false);
  expr last_end = bv(c, 0), last_flags = bv(c, 0, 32), last_nid = bv(c, 0, 32);
  z3::expr_vector sorted(c);
  std::vector<expr> joins;
  for (std::size_t j = 0; j < n; ++j) {
    // memblock_merge_regions(): this piece continues the previous region when
    // exactly adjacent with equal nid and flags.
    expr same = last_end == p[j].base && last_nid == p[j].nid;
    if (check_flags) same = same && last_flags == p[j].flags;
    expr jn = merge ? (p[j].valid && any_prev && same) : c.bool_val(false);
    joins.push_back(jn);
    // BUG_ON(this->base + this->size > next->base)
    sorted.push_back(z3::implies(p[j].valid && any_prev, z3::ule(last_end, p[j].base)));
    start.push_back(p[j].valid && !jn);
    any_prev = any_prev || p[j].valid;
    last_end = z3::ite(p[j].valid, p[j].end, last_end);
    last_flags = z3::ite(p[j].valid, p[j].flags, last_flags);
    last_nid = z3::ite(p[j].valid, p[j].nid, last_nid);
  }
  ext.assign(n, bv(c, 0));
  expr next_exists = c.bool_val(false), next_joins = c.bool_val(false), next_ext = bv(c, 0);
  for (std::size_t j = n; j-- > 0;) {
    ext[j] = z3::ite(next_exists && next_joins, next_ext, p[j].end);
    next_exists = next_exists || p[j].valid;
    next_joins = z3::ite(p[j].valid, joins[j], next_joins);
    next_ext = z3::ite(p[j].valid, ext[j], next_ext);
  }
  // Output positions one-hot (at[j][r]: piece j is the (r+1)-th region
  // start; r = K means it does not fit): a SAT-friendly prefix count.
  std::vector<std::vector<expr>> at;
  std::vector<expr> cur(K + 1, c.bool_val(false));
  cur[0] = c.bool_val(true);
  expr over = c.bool_val(false);  // more than K starts so far
  for (std::size_t j = 0; j < n; ++j) {
    at.push_back(cur);
    std::vector<expr> nxt(K + 1, c.bool_val(false));
    for (unsigned r = 0; r <= K; ++r) nxt[r] = z3::ite(start[j], r == 0 ? c.bool_val(false) : cur[r - 1], cur[r]);
    over = over || (start[j] && cur[K]);
    cur = nxt;
  }
  expr count = b8(c, K);
  for (unsigned r = K; r-- > 0;) count = z3::ite(cur[r], b8(c, r), count);
  SymType out{{}, z3::ite(over, b8(c, K + 1), count), bv(c, 0), nullptr};
  expr total = bv(c, 0);
  for (unsigned r = 0; r < K; ++r) {
    expr base = bv(c, 0), end = bv(c, 0), flags = bv(c, 0, 32), nid = bv(c, 0, 32);
    for (std::size_t j = n; j-- > r;) {
      expr hit = start[j] && at[j][r];
      base = z3::ite(hit, p[j].base, base);
      end = z3::ite(hit, ext[j], end);
      flags = z3::ite(hit, p[j].flags, flags);
      nid = z3::ite(hit, p[j].nid, nid);
    }
    out.r.push_back({base, end, flags, nid});
    // Stated like INV_MEMBLOCK_TOTAL (slot r valid iff r < cnt): total_size
    // is the sum of the sizes of the normalized regions.
    total = total + z3::ite(z3::ult(b8(c, r), out.cnt), end - base, bv(c, 0));
  }
  out.total = total;
  return {out, !over, z3::mk_and(sorted)};
}

expr rend(const SymRegion& r) { return r.end; }

}  // namespace

Normalized normalize(z3::context& c, const std::vector<Piece>& pieces, unsigned K, bool merge) {
  return normalize_impl(c, pieces, K, merge, true);
}

OpResult mb_add(z3::context& c, const SymType& t, const expr& base, const expr& size_in, const expr& nid,
                const expr& flags, Mutation m) {
  const unsigned K = t.K();
  const expr size = umin(size_in, ~base);  // memblock_cap_size()
  const expr end = base + size;
  std::vector<Piece> pieces;
  for (unsigned i = 0; i <= K; ++i) {
    // The gap before slot i (after slot i-1), clipped to [base, end).
    const expr exists = i == 0 ? c.bool_val(true) : slot_valid(t, i - 1);
    const expr lo = i == 0 ? bv(c, 0) : rend(t.r[i - 1]);
    expr hi = end;
    if (i < K) {
      expr rb = m == Mutation::add_split_off_by_one ? t.r[i].base + bv(c, 1) : t.r[i].base;
      hi = z3::ite(slot_valid(t, i), umin(end, rb), end);
    }
    const expr gs = umax(base, lo);
    pieces.push_back({exists && size != bv(c, 0) && z3::ult(gs, hi), gs, hi, flags, nid});
    if (i < K)
      pieces.push_back({slot_valid(t, i), t.r[i].base, rend(t.r[i]), t.r[i].flags, t.r[i].nid});
  }
  auto n = normalize_impl(c, pieces, K, true, m != Mutation::merge_ignores_flags);
  const expr pre = n.fits;  // bounded: the result fits in K slots (no doubling)
  return {ite_type(pre, n.t, t), pre, z3::ite(pre, bv(c, 0), bv(c, static_cast<std::uint64_t>(-12))), n.sorted, n.t, pre};
}

OpResult mb_remove(z3::context& c, const SymType& t, const expr& base, const expr& size_in) {
  const unsigned K = t.K();
  const expr size = umin(size_in, ~base);
  const expr end = base + size;
  std::vector<Piece> pieces;
  for (unsigned i = 0; i < K; ++i) {
    const auto& r = t.r[i];
    const expr lo_end = umin(rend(r), base);
    const expr hi_start = umax(r.base, end);
    pieces.push_back({slot_valid(t, i) && z3::ult(r.base, lo_end), r.base, lo_end, r.flags, r.nid});
    pieces.push_back({slot_valid(t, i) && z3::ult(hi_start, rend(r)), hi_start, rend(r), r.flags, r.nid});
  }
  auto n = normalize_impl(c, pieces, K, false, true);
  const expr pre = n.fits;  // isolate adds at most one region net
  const expr apply = pre && size != bv(c, 0);
  return {ite_type(apply, n.t, t), pre, z3::ite(pre, bv(c, 0), bv(c, static_cast<std::uint64_t>(-12))), n.sorted, n.t, apply};
}

OpResult mb_setclr(z3::context& c, const SymType& t, const expr& base, const expr& size_in, bool set,
                   const expr& flag, Mutation m) {
  const unsigned K = t.K();
  const expr size = umin(size_in, ~base);
  const expr end = base + size;
  // The planted bug splits the inside piece one byte past the end, so it
  // overlaps the upper piece.
  const expr cut = m == Mutation::setclr_split_off_by_one ? end + bv(c, 1) : end;
  std::vector<Piece> pieces;
  for (unsigned i = 0; i < K; ++i) {
    const auto& r = t.r[i];
    const expr lo_end = umin(rend(r), base);
    const expr mid_s = umax(r.base, base), mid_e = umin(rend(r), cut);
    const expr hi_s = umax(r.base, end);
    const expr nf = set ? (r.flags | flag) : (r.flags & ~flag);
    pieces.push_back({slot_valid(t, i) && z3::ult(r.base, lo_end), r.base, lo_end, r.flags, r.nid});
    pieces.push_back({slot_valid(t, i) && z3::ult(mid_s, mid_e), mid_s, mid_e, nf, r.nid});
    pieces.push_back({slot_valid(t, i) && z3::ult(hi_s, rend(r)), hi_s, rend(r), r.flags, r.nid});
  }
  auto n = normalize_impl(c, pieces, K, true, true);
  const expr pre = n.fits;
  const expr apply = pre && size != bv(c, 0);
  return {ite_type(apply, n.t, t), pre, z3::ite(pre, bv(c, 0), bv(c, static_cast<std::uint64_t>(-12))), n.sorted, n.t, apply};
}

FindResult mb_find(z3::context& c, const SymType& mem, const SymType& res, const expr& scratch_only,
                   const expr& size, const expr& align, const expr& start_in, const expr& end_in, Mutation m) {
  // memblock_find_in_range_node(): start = max(start, PAGE_SIZE); an end of
  // ACCESSIBLE/NOLEAKTRACE means current_limit (ANYWHERE); end = max(start, end).
  const expr start = umax(start_in, bv(c, 4096));
  const expr end0 = z3::ite(z3::ule(end_in, bv(c, 1)), bv(c, kMax), end_in);
  const expr end = umax(start, end0);
  expr found = c.bool_val(false), best = bv(c, 0);
  std::vector<FindCandidate> cands;
  for (unsigned i = 0; i < mem.K(); ++i) {
    const auto& r = mem.r[i];
    // should_skip_region() for flags = choose_memblock_flags():
    expr skip = (r.flags & bv(c, model::MEMBLOCK_NOMAP, 32)) != bv(c, 0, 32) ||         // permission
                (r.flags & bv(c, model::MEMBLOCK_DRIVER_MANAGED, 32)) != bv(c, 0, 32);  // permission
    if (m != Mutation::alloc_scratch_check_dropped)  // requirement in scratch-only mode
      skip = skip || (scratch_only && (r.flags & bv(c, model::MEMBLOCK_KHO_SCRATCH, 32)) == bv(c, 0, 32));
    for (unsigned j = 0; j <= res.K(); ++j) {
      const expr exists = j == 0 ? c.bool_val(true) : slot_valid(res, j - 1);
      const expr gs = j == 0 ? bv(c, 0) : rend(res.r[j - 1]);
      const expr ge = j < res.K() ? z3::ite(slot_valid(res, j), res.r[j].base, bv(c, kMax)) : bv(c, kMax);
      const expr rs = umax(r.base, gs), re = umin(rend(r), ge);
      const FitArith fit = fit_top_down(rs, re, start, end, size, align);
      const expr ok = slot_valid(mem, i) && !skip && exists && fit.ok;
      best = z3::ite(ok && (!found || z3::ugt(fit.cand, best)), fit.cand, best);
      found = found || ok;
      cands.push_back({"memory[" + std::to_string(i) + "] below reserved[" + std::to_string(j) + "]", ok, fit.cand, rs, re});
    }
  }
  return {found, best, find_pre(size, align), start, end, cands};
}

FitArith fit_top_down(const expr& rs, const expr& re, const expr& start, const expr& end, const expr& size,
                      const expr& align) {
  z3::context& c = rs.ctx();
  // clamp(this_start/this_end, start, end)
  const expr ts = umin(umax(rs, start), end), te = umin(umax(re, start), end);
  const expr cand = (te - size) & ~(align - bv(c, 1));  // round_down(this_end - size, align)
  return {z3::ult(rs, re) && z3::uge(te, size) && z3::uge(cand, ts), cand};
}

expr find_pre(const expr& size, const expr& align) {
  z3::context& c = size.ctx();
  return size != bv(c, 0) &&                                              // a non-empty request
         align != bv(c, 0) && (align & (align - bv(c, 1))) == bv(c, 0);  // power-of-two alignment
}

AllocResult mb_alloc(z3::context& c, const SymType& mem, const SymType& res, const expr& scratch_only,
                     const expr& size, const expr& align, const expr& start, const expr& end, Mutation m) {
  const FindResult f = mb_find(c, mem, res, scratch_only, size, align, start, end, m);
  // __memblock_reserve(found, size, NUMA_NO_NODE, MEMBLOCK_RSRV_KERN)
  auto add = mb_add(c, res, f.best, size, bv(c, 0xffffffffu, 32), bv(c, model::MEMBLOCK_RSRV_KERN, 32));
  const expr pre = f.pre && z3::implies(f.found, add.pre);  // the reservation fits in K slots
  return {ite_type(f.found && add.pre, add.next, res), pre, z3::ite(f.found, f.best, bv(c, 0)),
          z3::implies(f.found, add.no_bug)};
}

Lemma add_lemma(z3::context& c, const std::string& name, const SymType& before, const expr& base, const expr& size,
                const expr& x) {
  Lemma l{mk_type(c, name, before.K()), {}};
  for (const auto& n : memblock_state_inv(c, l.next)) l.facts.push_back({"lemma " + n.id + " (" + name + ")", n.e});
  l.facts.push_back({"lemma INV_MEMBLOCK_ADD_MONOTONE (" + name + ")", add_monotone(c, before, l.next, base, size, x)});
  return l;
}

Lemma setclr_lemma(z3::context& c, const std::string& name, const SymType& before, const expr& base, const expr& size,
                   bool set, const expr& flag, const expr& x) {
  Lemma l{mk_type(c, name, before.K()), {}};
  for (const auto& n : memblock_state_inv(c, l.next)) l.facts.push_back({"lemma " + n.id + " (" + name + ")", n.e});
  l.facts.push_back({"lemma INV_MEMBLOCK_SETCLR_FLAGS_ONLY (" + name + ")",
                     setclr_flags_only(c, before, l.next, base, size, set, flag, x)});
  return l;
}

expr add_monotone(z3::context& c, const SymType& before, const SymType& after, const expr& base,
                  const expr& size_in, const expr& x) {
  const expr size = umin(size_in, ~base);
  const expr in = z3::uge(x, base) && z3::ult(x, base + size);
  const expr was = covered(c, before, x), now = covered(c, after, x);
  return now == (was || in) &&
         z3::implies(was, eq_pushed(flags_at(c, after, x), flags_at(c, before, x)) &&
                              eq_pushed(nid_at(c, after, x), nid_at(c, before, x)));
}

expr setclr_flags_only(z3::context& c, const SymType& before, const SymType& after, const expr& base,
                       const expr& size_in, bool set, const expr& flag, const expr& x) {
  const expr size = umin(size_in, ~base);
  const expr in = z3::uge(x, base) && z3::ult(x, base + size);
  const expr was = covered(c, before, x), now = covered(c, after, x);
  const expr f = flags_at(c, before, x);
  const expr expect = z3::ite(in, set ? (f | flag) : (f & ~flag), f);
  return now == was &&
         z3::implies(was, eq_pushed(nid_at(c, after, x), nid_at(c, before, x)) && eq_pushed(flags_at(c, after, x), expect));
}

// ctz64 (64 for 0) and ilog2 (fls - 1) as ite chains.
expr ctz64(z3::context& c, const expr& v) {
  expr r = bv(c, 64);
  for (unsigned i = 64; i-- > 0;) r = z3::ite(v.extract(i, i) == c.bv_val(1, 1), bv(c, i), r);
  return r;
}
expr fls64(z3::context& c, const expr& v) {
  const unsigned w = v.get_sort().bv_size();
  expr r = c.bv_val(0, w);
  for (unsigned i = 0; i < w; ++i) r = z3::ite(v.extract(i, i) == c.bv_val(1, 1), c.bv_val(i + 1, w), r);
  return r;
}

std::uint64_t u64(const expr& e) {
  std::uint64_t v = 0;
  if (e.is_numeral()) e.is_numeral_u64(v);
  return v;
}

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

model::MemblockType eval_type(const z3::model& m, const SymType& t) {
  model::MemblockType o;
  const auto cnt = u64(m.eval(t.cnt, true));
  for (unsigned i = 0; i < t.K() && i < cnt; ++i) {
    model::MemblockRegion r;
    r.base = u64(m.eval(t.r[i].base, true));
    r.size = u64(m.eval(t.r[i].end, true)) - r.base;
    r.flags = static_cast<std::uint32_t>(u64(m.eval(t.r[i].flags, true)));
    r.nid = static_cast<int>(static_cast<std::int32_t>(static_cast<std::uint32_t>(u64(m.eval(t.r[i].nid, true)))));
    o.regions.push_back(r);
  }
  o.total_size = u64(m.eval(t.total, true));
  o.max = cnt > t.K() ? cnt : t.K();
  return o;
}

std::string render_type(const std::string& name, const model::MemblockType& t) {
  std::ostringstream o;
  o << "  " << name << ": cnt=" << t.cnt() << " total_size=" << hex(t.total_size) << "\n";
  for (std::size_t i = 0; i < t.regions.size(); ++i) {
    const auto& r = t.regions[i];
    o << "    [" << i << "] [" << hex(r.base) << ", " << hex(r.base + r.size) << ") "
      << model::flags_to_string(r.flags) << " nid " << r.nid << "\n";
  }
  return o.str();
}

}  // namespace khospec::spec::z3enc
