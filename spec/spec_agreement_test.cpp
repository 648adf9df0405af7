// Agreement between the C++ model and the spec (spec/kho.md §7 item 5):
// RapidCheck generates concrete states and operations, the model runs its
// step, the spec step is evaluated by Z3 on the same constants
// (simplify), and the results must be equal. Every invariant ID is checked
// on the way, by the model's runtime checks and by the spec's encoding.
// Seeds are fixed and printed (override with RC_PARAMS).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <map>
#include <set>

#include "model/kho/machine.hpp"
#include "core/rc_run.hpp"
#include "model/memblock/memblock.hpp"
#include "spec/sm.hpp"
#include "spec/z3/enc.hpp"

namespace khospec::spec {
namespace {

using namespace z3enc;
using model::Memblock;
using model::MemblockTypeId;

constexpr unsigned K = 6;

std::uint64_t cv(const expr& e) { return u64(e.simplify()); }
bool ct(const expr& e) { return e.simplify().is_true(); }

model::MemblockType concrete(const SymType& t) {
  model::MemblockType o;
  const auto cnt = cv(t.cnt);
  for (unsigned i = 0; i < K && i < cnt; ++i)
    o.regions.push_back({cv(t.r[i].base), cv(t.r[i].size()), static_cast<std::uint32_t>(cv(t.r[i].flags)),
                         static_cast<int>(static_cast<std::int32_t>(static_cast<std::uint32_t>(cv(t.r[i].nid))))});
  o.total_size = cv(t.total);
  return o;
}

// The memblock state invariants of spec/kho.md §2.2 by ID, on a concrete array.
void check_spec_state_inv(z3::context& c, const model::MemblockType& t, const std::string& where) {
  static const std::set<std::string> ids = {"INV_MEMBLOCK_CAPACITY", "INV_MEMBLOCK_REGION_BOUNDS",
                                            "INV_MEMBLOCK_SORTED_DISJOINT", "INV_MEMBLOCK_MERGED", "INV_MEMBLOCK_TOTAL"};
  for (const auto& n : memblock_state_inv(c, const_type(c, t, K))) {
    RC_ASSERT(ids.count(n.id) == 1u);
    if (!ct(n.e)) RC_FAIL(where + ": spec invariant " + n.id + " fails on\n" + render_type("t", t));
  }
}

void same_regions(const model::MemblockType& spec, const model::MemblockType& mod, const std::string& what) {
  if (spec.regions != mod.regions || spec.total_size != mod.total_size)
    RC_FAIL(what + ": spec and model differ\nspec:\n" + render_type("spec", spec) + "model:\n" + render_type("model", mod));
}

// Probe addresses for the transition invariants: every region edge and the range edges.
std::vector<std::uint64_t> probes(const model::MemblockType& a, const model::MemblockType& b, std::uint64_t base,
                                  std::uint64_t size) {
  std::vector<std::uint64_t> x = {base, base + size - 1, base + size, base ? base - 1 : 0};
  for (const auto* t : {&a, &b})
    for (const auto& r : t->regions) x.insert(x.end(), {r.base, r.base + r.size - 1, r.base + r.size});
  return x;
}

TEST(SpecAgreement, MemblockOps) {
  testutil::rc_run_property("SpecAgreement/MemblockOps", "seed=2026112107 max_success=150 max_size=40", [] {
    z3::context c;
    model::MemblockConfig cfg;
    cfg.era = model::Era::v6_16;
    Memblock mb(cfg);
    const auto nops = *rc::gen::inRange(1, 24);
    for (int step = 0; step < nops; ++step) {
      const int kind = *rc::gen::inRange(0, 6);
      const std::uint64_t base = 0x100000 + 0x1000 * *rc::gen::inRange<std::uint64_t>(0, 48);
      const std::uint64_t size = 0x1000 * *rc::gen::inRange<std::uint64_t>(1, 16);
      const bool on_reserved = kind == 1 || kind == 3;
      const MemblockTypeId tid = on_reserved ? MemblockTypeId::reserved : MemblockTypeId::memory;
      const auto before = mb.type(tid);
      if (before.cnt() > K) return;
      const SymType sb = const_type(c, before, K);
      const expr b = bv(c, base), s = bv(c, size);
      OpResult r{sb, c.bool_val(true), bv(c, 0), c.bool_val(true), sb, c.bool_val(false)};
      int ret = 0;
      std::string what;
      if (kind == 0) {  // memblock_add_node
        const int nid = *rc::gen::inRange(0, 2);
        const std::uint32_t flags = *rc::gen::element(0u, 0u, std::uint32_t{model::MEMBLOCK_HOTPLUG}, std::uint32_t{model::MEMBLOCK_NOMAP});
        r = mb_add(c, sb, b, s, bv(c, static_cast<std::uint32_t>(nid), 32), bv(c, flags, 32));
        if (!ct(r.pre)) continue;
        ret = mb.memblock_add_node(base, size, nid, flags);
        what = "memblock_add_node";
        for (auto x : probes(before, mb.type(tid), base, size))
          RC_ASSERT(ct(add_monotone(c, sb, const_type(c, mb.type(tid), K), b, s, bv(c, x))));  // INV_MEMBLOCK_ADD_MONOTONE
      } else if (kind == 1) {  // memblock_reserve
        r = mb_add(c, sb, b, s, bv(c, 0xffffffffu, 32), bv(c, 0, 32));
        if (!ct(r.pre)) continue;
        ret = mb.memblock_reserve(base, size);
        what = "memblock_reserve";
      } else if (kind == 2 || kind == 3) {  // memblock_remove / memblock_phys_free
        r = mb_remove(c, sb, b, s);
        if (!ct(r.pre)) continue;
        ret = kind == 2 ? mb.memblock_remove(base, size) : mb.memblock_phys_free(base, size);
        what = kind == 2 ? "memblock_remove" : "memblock_phys_free";
      } else if (kind == 4) {  // memblock_setclr_flag on memory
        const bool set = *rc::gen::arbitrary<bool>();
        const std::uint32_t flag = *rc::gen::element(std::uint32_t{model::MEMBLOCK_HOTPLUG}, std::uint32_t{model::MEMBLOCK_NOMAP},
                                                     std::uint32_t{model::MEMBLOCK_KHO_SCRATCH});
        r = mb_setclr(c, sb, b, s, set, bv(c, flag, 32));
        if (!ct(r.pre)) continue;
        ret = mb.memblock_setclr_flag(tid, base, size, set, flag);
        what = std::string("memblock_setclr_flag ") + (set ? "set" : "clear");
        for (auto x : probes(before, mb.type(tid), base, size))  // INV_MEMBLOCK_SETCLR_FLAGS_ONLY
          RC_ASSERT(ct(setclr_flags_only(c, sb, const_type(c, mb.type(tid), K), b, s, set, bv(c, flag, 32), bv(c, x))));
      } else {  // memblock_phys_alloc_range, maybe in scratch-only mode
        const bool so = *rc::gen::arbitrary<bool>();
        if (so) mb.memblock_set_kho_scratch_only();
        else mb.memblock_clear_kho_scratch_only();
        const auto mem = mb.memory(), res = mb.reserved();
        if (mem.cnt() > K || res.cnt() > K) return;
        const std::uint64_t align = 0x1000ull << *rc::gen::inRange(0, 4);
        auto a = mb_alloc(c, const_type(c, mem, K), const_type(c, res, K), c.bool_val(so), s, bv(c, align), bv(c, 0), bv(c, 0));
        if (!ct(a.pre)) continue;
        const auto got = mb.memblock_phys_alloc_range(size, align, 0, model::MEMBLOCK_ALLOC_ACCESSIBLE);
        RC_ASSERT(got == cv(a.addr));
        same_regions(concrete(a.reserved), mb.reserved(), "memblock_phys_alloc_range");
        if (so && got) RC_ASSERT(model::check_scratch_alloc(mem, res, got, size).empty());  // INV_MEMBLOCK_SCRATCH_ONLY_ALLOC
        RC_ASSERT(ct(a.no_bug));
        check_spec_state_inv(c, mb.reserved(), "alloc");
        continue;
      }
      RC_ASSERT(ret == static_cast<int>(static_cast<std::int64_t>(cv(r.ret))));
      same_regions(concrete(r.next), mb.type(tid), what);
      RC_ASSERT(ct(r.no_bug));  // INV_MEMBLOCK_NO_BUG
      check_spec_state_inv(c, mb.type(tid), what);
    }
    RC_ASSERT(!mb.failed());
    RC_ASSERT(mb.check_invariants().empty());
    RC_ASSERT(mb.invariant_log().empty());
  });
}

TEST(SpecAgreement, SplitAndKeys) {
  testutil::rc_run_property("SpecAgreement/SplitAndKeys", "seed=2026112108 max_success=300", [] {
    z3::context c;
    // INV_PRESERVED_SPLIT_EXACT: the model's split is the spec's step sequence.
    const std::uint64_t start = *rc::gen::inRange<std::uint64_t>(0, 1ull << 40);
    const std::uint64_t n = *rc::gen::inRange<std::uint64_t>(1, 1ull << 20);
    const auto blocks = model::kho_split_range(start, n);
    RC_ASSERT(model::kho_split_exact(start, n, blocks));
    std::uint64_t p = start;
    for (const auto& b : blocks) {
      RC_ASSERT(b.phys == p << 12);
      RC_ASSERT(b.order == cv(split_order(c, bv(c, p), bv(c, start + n))));
      p += 1ull << b.order;
    }
    // INV_RADIX_KEY_BIJECTIVE / INV_RADIX_TREE_SHAPE: model encode == spec encode, and back.
    const unsigned o = *rc::gen::inRange(0u, 52u);
    const std::uint64_t phys = (*rc::gen::arbitrary<std::uint64_t>() >> (12 + o)) << (12 + o);
    const auto key = model::kho_radix_encode_key(phys, o);
    RC_ASSERT(key == cv(radix_key(c, bv(c, phys), bv(c, o))));
    RC_ASSERT(model::kho_radix_decode_key(key) == (model::PreservedBlock{phys, o}));
    std::uint64_t rebuilt = model::kho_radix_bitmap_index(key);
    for (unsigned level = 1; level < model::KHO_TREE_MAX_DEPTH; ++level)
      rebuilt |= std::uint64_t{model::kho_radix_table_index(key, level)} << ((level - 1) * 9 + 15);
    RC_ASSERT(rebuilt == key);
    // INV_KHO_MAP_DECODES: the bitmap position of (pfn, o) decodes back (both sizes).
    for (std::uint64_t bits : {4096ull, 32768ull}) {
      const std::uint64_t pfn = phys >> 12;
      const std::uint64_t idx = (pfn >> o) / bits, bit = (pfn >> o) % bits;
      RC_ASSERT(((idx * bits) << (o + 12)) + (bit << (o + 12)) == phys);
    }
  });
}

TEST(SpecAgreement, StateMachine) {
  // Row by row: spec/sm.cpp (from spec/kho.md §5) equals model/kho/state_machine.cpp.
  // Together with the BMC obligations this carries INV_FINALIZED_MAP_EXACT and
  // INV_MAP_FRESH_AT_KEXEC from the spec to the model.
  using model::OutEvent;
  using model::OutState;
  for (auto era : registry::era_ids()) {
    const auto& tr = registry::era(era);
    for (OutState s : {OutState::disabled, OutState::idle, OutState::finalized})
      for (OutEvent e : {OutEvent::debugfs_write_1, OutEvent::debugfs_write_0, OutEvent::finalize_call, OutEvent::preserve,
                         OutEvent::unpreserve, OutEvent::kexec_load}) {
        auto sp = spec_transition(tr, s, e);
        auto mo = model::find_transition(tr, s, e);
        SCOPED_TRACE(std::string(tr.name) + " " + std::string(model::out_state_name(s)) + " " +
                     std::string(model::out_event_name(e)));
        ASSERT_EQ(sp.has_value(), mo.has_value());
        if (!sp) continue;
        EXPECT_EQ(sp->effect, mo->effect);
        EXPECT_EQ(sp->ret, mo->ret);
        EXPECT_EQ(sp->on_success, mo->on_success);
        EXPECT_EQ(sp->on_failure, mo->on_failure);
      }
  }
}

model::KernelConfig kcfg(registry::EraId era) {
  model::KernelConfig c;
  c.era = era;
  c.cmdline = "kho=on";
  c.release = "model";
  c.debug = true;  // CONFIG_KEXEC_HANDOVER_DEBUG where it exists (6.18+)
  return c;
}

// Random preserve calls on the lifecycle model: the return value is the
// spec's (spec_transition for -EBUSY, the debug scratch check for -EINVAL),
// and INV_PRESERVED_ALIGNED, INV_SCRATCH_PRESERVED_DISJOINT (debug),
// INV_PRESERVED_ORDER_RESTORABLE and INV_PRESERVED_DISJOINT stay clean.
TEST(SpecAgreement, PreserveOps) {
  testutil::rc_run_property("SpecAgreement/PreserveOps", "seed=2026112109 max_success=40", [] {
    const auto era = *rc::gen::elementOf(std::vector<registry::EraId>(registry::era_ids().begin(), registry::era_ids().end()));
    const auto& tr = registry::era(era);
    model::Machine m(model::machine_with_ram(512ull << 20));
    auto& k = m.boot_cold(kcfg(era));
    RC_ASSERT(k.kho_enabled());
    const int n = *rc::gen::inRange(1, 8);
    for (int i = 0; i < n; ++i) {
      const unsigned order = *rc::gen::inRange(0u, 11u);
      const bool in_scratch = *rc::gen::arbitrary<bool>() && !k.scratch().empty();
      model::phys_addr_t p = 0;
      if (in_scratch) {
        const auto& a = k.scratch()[0];
        if (a.size < (4096ull << order)) continue;
        p = a.addr;  // a folio-aligned address inside scratch (areas are 2 MiB aligned)
      } else {
        p = k.alloc_pages(order);
        RC_ASSERT(p != 0u);
      }
      auto row = spec_transition(tr, k.out_state(), model::OutEvent::preserve);
      RC_ASSERT(row.has_value());
      const bool overlap = in_scratch;
      const int expect = row->effect == model::Effect::none ? row->ret : (tr.debug_scratch_check && overlap ? -22 : 0);
      if (!tr.debug_scratch_check && overlap) continue;  // 6.16: the hazard (hazard/v6.16/preserve_in_scratch)
      RC_ASSERT(k.kho_preserve_folio(p, order) == expect);
    }
    k.check_invariants();
    for (const auto& f : k.findings())
      for (const char* id : {"INV_PRESERVED_ALIGNED", "INV_SCRATCH_PRESERVED_DISJOINT", "INV_PRESERVED_ORDER_RESTORABLE",
                             "INV_PRESERVED_DISJOINT"})
        if (f.id == id) RC_FAIL(f.id + ": " + f.detail);
  });
}

// Whole chains: preserve, finalize the way the era needs, kexec, restore
// twice. None of the hand-over invariants may fire in any kernel.
TEST(SpecAgreement, KernelChains) {
  testutil::rc_run_property("SpecAgreement/KernelChains", "seed=2026112110 max_success=24", [] {
    const auto era = *rc::gen::elementOf(std::vector<registry::EraId>(registry::era_ids().begin(), registry::era_ids().end()));
    const auto& tr = registry::era(era);
    model::Machine m(model::machine_with_ram(512ull << 20));
    auto* k = &m.boot_cold(kcfg(era));
    std::set<model::PreservedBlock> want;
    const int n = *rc::gen::inRange(1, 6);
    for (int i = 0; i < n; ++i) {
      const unsigned order = *rc::gen::inRange(0u, 10u);
      const auto p = k->alloc_pages(order);
      RC_ASSERT(p != 0u);
      RC_ASSERT(k->kho_preserve_folio(p, order) == 0);
      want.insert({p, order});
    }
    const std::uint64_t pages = *rc::gen::inRange<std::uint64_t>(1, 64);
    const auto range = k->alloc_pages(6);
    if (tr.preserve_pages) {
      RC_ASSERT(k->kho_preserve_pages(range, pages) == 0);
    } else {
      RC_ASSERT(k->kho_preserve_phys(range, pages * 4096) == 0);
    }
    for (const auto& b : model::kho_split_range(range / 4096, pages)) want.insert(b);
    if (tr.finalize == registry::FinalizeModel::notifier_abort) RC_ASSERT(k->debugfs_finalize_write(1) == 0);
    if (tr.finalize == registry::FinalizeModel::refresh) RC_ASSERT(k->kho_finalize() == 0);
    RC_ASSERT(k->kexec_file_load() == 0);
    auto* next = m.kexec(kcfg(era));
    RC_ASSERT(next != nullptr);
    std::set<model::PreservedBlock> got(next->incoming_blocks().begin(), next->incoming_blocks().end());
    for (const auto& b : want) RC_ASSERT(got.count(b) == 1u);  // INV_KHO_HANDOVER_COMPLETE
    for (const auto& b : want) {
      if (b.order > 10) continue;
      unsigned o = 0;
      RC_ASSERT(next->kho_restore_folio(b.phys, &o));
      if (tr.restore_once) RC_ASSERT(!next->kho_restore_folio(b.phys, &o));  // INV_RESTORE_ONCE
    }
    static const char* ids[] = {
        "INV_SCRATCH_COUNT", "INV_SCRATCH_ALIGNED", "INV_SCRATCH_STABLE", "INV_SCRATCH_IN_MEMORY",
        "INV_SCRATCH_ONLY_WINDOW", "INV_KEXEC_SEGMENTS_IN_SCRATCH", "INV_METADATA_OUTSIDE_SCRATCH",
        "INV_FINALIZED_MAP_EXACT", "INV_MAP_FRESH_AT_KEXEC", "INV_WINDOW_NO_ALLOC_OVER_PRESERVED",
        "INV_KHO_PRESERVED_RESERVED", "INV_CMA_BEFORE_BUDDY", "INV_BUDDY_DISJOINT_PRESERVED", "INV_RESTORE_ONCE",
        "INV_KHO_HANDOVER_COMPLETE", "INV_KHO_PRESERVED_CONTENT_INTACT", "INV_KHO_MAP_DECODES",
        "INV_PRESERVED_SPLIT_EXACT"};
    next->check_invariants();
    for (const auto& f : m.all_findings())
      for (const char* id : ids)
        if (f.id == id && f.level == "error") RC_FAIL(f.id + ": " + f.detail);
  });
}

}  // namespace
}  // namespace khospec::spec
