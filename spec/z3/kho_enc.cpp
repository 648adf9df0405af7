// spec/kho.md §3-§4 as Z3 terms: preserved blocks (pfn, order), the
// bounded preserved set P and the scratch areas (declared in enc.hpp).
#include <string>

#include "spec/z3/enc.hpp"

namespace khospec::spec::z3enc {

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

expr block_ok(z3::context& c, const expr& pfn, const expr& o) {
  return z3::ule(o, bv(c, 51)) && (pfn & (pow2(c, o) - bv(c, 1))) == bv(c, 0) &&
         z3::ule(pfn, bv(c, 1ull << 52) - pow2(c, o));
}

expr overlaps(z3::context& c, const expr& pfn, const expr& o, const expr& a, const expr& s) {
  // [pfn << 12, (pfn + 2^o) << 12) ∩ [a, a + s) ≠ ∅
  const expr lo = z3::shl(pfn, bv(c, 12)), hi = z3::shl(pfn + pow2(c, o), bv(c, 12));
  return s != bv(c, 0) && z3::ult(lo, a + s) && z3::ult(a, hi);
}

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

}  // namespace khospec::spec::z3enc
