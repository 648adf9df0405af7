// memblock model: region arrays (add/remove/isolate/merge/double) and flags.
// Queries are in memblock_query.cpp, invariants in memblock_invariants.cpp,
// allocation, iteration and the buddy hand-off in memblock_alloc.cpp.
#include "model/memblock/memblock.hpp"

#include "core/parse.hpp"
#include "model/memblock/memblock_internal.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>

namespace khospec::model {

std::string_view era_name(Era era) { return era == Era::v6_12 ? "v6.12" : "v6.16"; }

std::string_view type_name(MemblockTypeId id) {
  switch (id) {
    case MemblockTypeId::memory: return "memory";
    case MemblockTypeId::reserved: return "reserved";
    case MemblockTypeId::physmem: return "physmem";
  }
  return "?";
}

std::string_view event_kind_name(MemblockEvent::Kind kind) {
  switch (kind) {
    case MemblockEvent::Kind::warn: return "WARN";
    case MemblockEvent::Kind::bug: return "BUG";
    case MemblockEvent::Kind::panic: return "PANIC";
    case MemblockEvent::Kind::log: return "LOG";
    case MemblockEvent::Kind::hazard: return "HAZARD";
  }
  return "?";
}

std::string flags_to_string(std::uint32_t flags) {
  static constexpr std::pair<std::uint32_t, const char*> kNames[] = {
      {MEMBLOCK_HOTPLUG, "HOTPLUG"},         {MEMBLOCK_MIRROR, "MIRROR"},
      {MEMBLOCK_NOMAP, "NOMAP"},             {MEMBLOCK_DRIVER_MANAGED, "DRIVER_MANAGED"},
      {MEMBLOCK_RSRV_NOINIT, "RSRV_NOINIT"}, {MEMBLOCK_RSRV_KERN, "RSRV_KERN"},
      {MEMBLOCK_KHO_SCRATCH, "KHO_SCRATCH"},
  };
  if (flags == MEMBLOCK_NONE) return "NONE";
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (flags & bit) {
      if (!out.empty()) out += '|';
      out += name;
      flags &= ~bit;
    }
  }
  if (flags) {
    if (!out.empty()) out += '|';
    out += hex(flags);
  }
  return out;
}

MemblockRegion MemblockType::at(std::size_t i) const {
  if (i < regions.size()) return regions[i];
  MemblockRegion empty;
  if (i == 0) empty.nid = empty_nid;
  return empty;
}

// ---- scope / events -----------------------------------------------------------

Memblock::Memblock(MemblockConfig cfg) : cfg_(cfg) {
  memory_.id = MemblockTypeId::memory;
  memory_.max = cfg_.init_memory_regions;
  reserved_.id = MemblockTypeId::reserved;
  reserved_.max = cfg_.init_reserved_regions;
  physmem_.id = MemblockTypeId::physmem;
  physmem_.max = cfg_.init_physmem_regions;
}

const MemblockType& Memblock::type(MemblockTypeId id) const {
  switch (id) {
    case MemblockTypeId::memory: return memory_;
    case MemblockTypeId::reserved: return reserved_;
    case MemblockTypeId::physmem: return physmem_;
  }
  return memory_;
}

MemblockType& Memblock::mut(MemblockTypeId id) {
  return const_cast<MemblockType&>(static_cast<const Memblock&>(*this).type(id));
}

std::size_t Memblock::warning_count() const {
  return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [](const auto& e) {
    return e.kind == MemblockEvent::Kind::warn;
  }));
}

void Memblock::warn(std::string_view function, std::string_view condition) {
  events_.push_back({MemblockEvent::Kind::warn, std::string(function), std::string(condition)});
}

void Memblock::bug(MemblockEvent::Kind kind, std::string_view function,
                   std::string_view condition) {
  events_.push_back({kind, std::string(function), std::string(condition)});
  if (!failed_) {
    failed_ = true;
    failure_ = std::string(event_kind_name(kind)) + " in " + std::string(function) + ": " +
               std::string(condition);
  }
}

void Memblock::log(std::string_view function, std::string message) {
  events_.push_back({MemblockEvent::Kind::log, std::string(function), std::move(message)});
}

void Memblock::check_array_overlap(phys_addr_t base, phys_addr_t size, std::string_view function) {
  for (const MemblockType* t : {&memory_, &reserved_}) {
    if (t->array_is_static) continue;
    const phys_addr_t a = t->array_base, b = a + page_align(t->max * MEMBLOCK_REGION_BYTES);
    if (base < b && a < base + size)
      events_.push_back({MemblockEvent::Kind::hazard, std::string(function),
                         "the allocation [" + hex(base) + ", " + hex(base + size) + ") overlaps memblock's own " +
                             std::string(type_name(t->id)) + " array [" + hex(a) + ", " + hex(b) +
                             "), whose reservation was freed: the caller now owns memblock's table (the model "
                             "keeps no memory contents; the kernel's tables are undefined from here)"});
  }
}

void Memblock::record(std::vector<InvariantViolation> v, std::string_view op) {
  for (auto& x : v) {
    x.detail = "after " + std::string(op) + ": " + x.detail;
    invariant_log_.push_back(std::move(x));
  }
}

phys_addr_t Memblock::page_align(phys_addr_t x) const {
  return (x + cfg_.page_size - 1) & ~(cfg_.page_size - 1);
}

// ---- KHO scratch-only mode ----------------------------------------------------------

// mm/memblock.c memblock_set_kho_scratch_only() (v6.16, CONFIG_MEMBLOCK_KHO_SCRATCH)
void Memblock::memblock_set_kho_scratch_only() {
  if (era_16()) kho_scratch_only_ = true;
}

void Memblock::memblock_clear_kho_scratch_only() {
  if (era_16()) kho_scratch_only_ = false;
}

// mm/memblock.c choose_memblock_flags(): scratch-only beats mirror (v6.16).
std::uint32_t Memblock::choose_memblock_flags() const {
  if (kho_scratch_only_) return MEMBLOCK_KHO_SCRATCH;
  return system_has_some_mirror_ ? MEMBLOCK_MIRROR : MEMBLOCK_NONE;
}

// ---- region array primitives --------------------------------------------------------

// mm/memblock.c memblock_insert_region(): BUG_ON(type->cnt >= type->max).
void Memblock::insert_region(MemblockType& t, std::size_t idx, const MemblockRegion& r) {
  if (t.cnt() >= t.max) {
    bug(MemblockEvent::Kind::bug, "memblock_insert_region", "BUG_ON(type->cnt >= type->max)");
    return;
  }
  t.total_size += r.size;
  t.regions.insert(idx, r);
}

// mm/memblock.c memblock_remove_region(): an emptied array reads as
// {0, 0, 0, MAX_NUMNODES} and WARNs if total_size did not reach 0 (v6.12+).
void Memblock::remove_region(MemblockType& t, std::size_t idx) {
  t.total_size -= t.regions[idx].size;
  t.regions.erase(idx);
  if (t.regions.empty()) {
    if (t.total_size != 0) warn("memblock_remove_region", "WARN_ON(type->total_size != 0)");
    t.empty_nid = cfg_.max_numnodes;
  }
}

// mm/memblock.c memblock_merge_regions(type, start_rgn, end_rgn): merges
// neighbours in [start_rgn - 1, end_rgn] with exact adjacency, equal nid and
// equal flags. Done as one compaction pass instead of a memmove per merge.
void Memblock::merge_regions(MemblockType& t, long start_rgn, long end_rgn) {
  if (t.regions.empty()) return;
  const long first = start_rgn ? start_rgn - 1 : 0;
  const long last = std::min<long>(end_rgn, static_cast<long>(t.cnt()) - 1);
  if (first >= last) return;
  auto& r = t.regions;
  auto w = static_cast<std::size_t>(first);
  auto wi = r.iter_at(w);
  auto ki = wi;
  for (auto k = static_cast<std::size_t>(first) + 1; k <= static_cast<std::size_t>(last); ++k) {
    ++ki;
    MemblockRegion& cur = *wi;
    const MemblockRegion next = *ki;
    if (cur.end() != next.base || cur.nid != next.nid || cur.flags != next.flags) {
      if (cur.end() > next.base) {
        bug(MemblockEvent::Kind::bug, "memblock_merge_regions",
            "BUG_ON(this->base + this->size > next->base)");
        return;
      }
      ++w;
      ++wi;
      *wi = next;
    } else {
      cur.size += next.size;
    }
  }
  r.erase(w + 1, static_cast<std::size_t>(last) + 1);
}

// mm/memblock.c memblock_double_array(): the new array (2*max entries,
// PAGE_ALIGNed) comes from memblock itself under choose_memblock_flags(), so
// in scratch-only mode it lands in scratch. For the reserved array the range
// being reserved is avoided (first above it, then below it).
int Memblock::double_array(MemblockTypeId tid, phys_addr_t new_area_start,
                           phys_addr_t new_area_size) {
  MemblockType& t = mut(tid);
  if (!can_resize_) {
    bug(MemblockEvent::Kind::panic, "memblock_double_array",
        "panic(\"memblock: cannot resize " + std::string(type_name(tid)) + " array\")");
    return -1;
  }
  const phys_addr_t old_size = t.max * MEMBLOCK_REGION_BYTES;
  const phys_addr_t new_size = old_size << 1;
  const phys_addr_t old_alloc_size = page_align(old_size);
  const phys_addr_t new_alloc_size = page_align(new_size);

  if (tid != MemblockTypeId::reserved) new_area_start = new_area_size = 0;

  phys_addr_t addr = memblock_find_in_range(new_area_start + new_area_size, current_limit_,
                                            new_alloc_size, cfg_.page_size);
  if (!addr && new_area_size)
    addr = memblock_find_in_range(0, std::min(new_area_start, current_limit_), new_alloc_size,
                                  cfg_.page_size);
  if (!addr) {
    log("memblock_double_array", "memblock: Failed to double " + std::string(type_name(tid)) +
                                     " array from " + std::to_string(t.max) + " to " +
                                     std::to_string(t.max * 2) + " entries !");
    return -1;
  }

  // Switch to the new array before reserving it: the reserved array itself
  // may be the full one.
  const bool old_static = t.array_is_static;
  const phys_addr_t old_base = t.array_base;
  t.max <<= 1;
  t.array_is_static = false;
  t.array_base = addr;

  if (!old_static) {
    memblock_phys_free(old_base, old_alloc_size);
  } else if (tid == MemblockTypeId::physmem) {
    // The kernel only recognises the memory/reserved init arrays as static,
    // so it memblock_free()s the static physmem array (an address in the
    // kernel image the model does not know).
    log("memblock_double_array", "static physmem array passed to memblock_free (not modelled)");
  }

  const int r = era_16() ? memblock_reserve_kern(addr, new_alloc_size)
                         : memblock_reserve(addr, new_alloc_size);
  if (r) {
    bug(MemblockEvent::Kind::bug, "memblock_double_array",
        era_16() ? "BUG_ON(memblock_reserve_kern(addr, new_alloc_size))"
                 : "BUG_ON(memblock_reserve(addr, new_alloc_size))");
    return -1;
  }
  return 0;
}

// ---- add_range ----------------------------------------------------------------------

// mm/memblock.c memblock_add_range(): two passes. Pieces of [base, base+size)
// not covered by existing regions are inserted with the caller's nid/flags;
// overlapped regions keep their own flags and nid; then the touched window is
// merged. The first pass only counts (and doubles the array) when
// cnt * 2 + 1 > max. The scan starts at the first overlapping region (binary
// search) instead of index 0; the pieces are the same.
int Memblock::memblock_add_range(MemblockTypeId tid, phys_addr_t base, phys_addr_t size, int nid,
                                 std::uint32_t flags) {
  if (failed_) return MODEL_EFAULT;
  Scope scope(*this, "memblock_add_range");
  const phys_addr_t obase = base;
  size = std::min(size, PHYS_ADDR_MAX - base);  // memblock_cap_size()
  const phys_addr_t end = base + size;
  if (!size) return 0;

  {
    MemblockType& t = mut(tid);
    if (t.regions.empty()) {  // kernel: type->regions[0].size == 0
      if (t.total_size) warn("memblock_add_range", "WARN_ON(type->cnt != 0 || type->total_size)");
      t.regions.push_back({base, size, flags, nid});
      t.total_size = size;
      return 0;
    }
  }

  MemblockType& t = mut(tid);
  bool insert = t.cnt() * 2 + 1 <= t.max;
  struct Piece {
    std::size_t before;  // index of the existing region the piece precedes
    phys_addr_t base, end;
  };
  std::vector<Piece> pieces;

  for (;;) {  // kernel: repeat:
    pieces.clear();
    auto& r = t.regions;
    const auto it = r.lower_bound_end(base);  // the first region ending above base
    if (insert && (it.at_end() || it->base >= end)) {
      // Fast path: nothing overlaps [base, end), so the kernel's scan yields
      // exactly one piece, inserted at `first`, no WARN_ON is evaluated, and
      // memblock_merge_regions(first, first + 1) can only join it with its
      // left and/or right neighbour. Doing that merge in place gives the same
      // array without the kernel's insert-then-merge memmoves: O(log n) when
      // the range touches a neighbour with equal flags and nid, else one
      // RegionArray insert (O(log n + 64 + n/64) where the kernel memmoves
      // the tail), and no temporary buffers.
      MemblockRegion* lft = it.at_begin() ? nullptr : &*std::prev(it);
      MemblockRegion* rgt = it.at_end() ? nullptr : &*it;
      const bool left = lft && lft->end() == base && lft->nid == nid && lft->flags == flags;
      const bool right = rgt && rgt->base == end && rgt->nid == nid && rgt->flags == flags;
      if (left && right) {
        lft->size += size + rgt->size;
        r.erase_one(it);
      } else if (left) {
        lft->size += size;
      } else if (right) {
        rgt->base = base;
        rgt->size += size;
      } else {
        // memblock_insert_region(): the kernel memmoves the whole tail; the
        // RegionArray moves at most one chunk.
        r.insert_before(it, MemblockRegion{base, size, flags, nid});
      }
      t.total_size += size;
      return 0;
    }
    const std::size_t first = it.index();
    std::size_t idx = first;
    phys_addr_t cur = base;
    auto jt = it;
    for (; idx < t.cnt(); ++idx, ++jt) {
      const MemblockRegion& rgn = *jt;
      if (rgn.base >= end) break;
      if (rgn.end() <= cur) continue;
      if (rgn.base > cur) {
        // Both passes evaluate these WARN_ONs, as in the kernel.
        if (nid != rgn.nid) warn("memblock_add_range", "WARN_ON(nid != memblock_get_region_node(rgn))");
        if (era_16()) {
          if (flags != MEMBLOCK_NONE && flags != rgn.flags)
            warn("memblock_add_range", "WARN_ON(flags != MEMBLOCK_NONE && flags != rgn->flags)");
        } else if (flags != rgn.flags) {
          warn("memblock_add_range", "WARN_ON(flags != rgn->flags)");
        }
        pieces.push_back({idx, cur, rgn.base});
      }
      cur = std::min(rgn.end(), end);
    }
    if (cur < end) pieces.push_back({idx, cur, end});
    if (pieces.empty()) return 0;

    if (!insert) {
      const std::uint64_t nr_new = pieces.size();
      while (mut(tid).cnt() + nr_new > mut(tid).max)
        if (double_array(tid, obase, size) < 0) return MODEL_ENOMEM;
      insert = true;
      continue;  // goto repeat
    }

    if (t.cnt() + pieces.size() > t.max) {
      bug(MemblockEvent::Kind::bug, "memblock_insert_region", "BUG_ON(type->cnt >= type->max)");
      return MODEL_EFAULT;
    }
    // Splice the pieces into [first, idx): the window is rewritten in place
    // and only the extra regions are inserted.
    std::vector<MemblockRegion> slice;
    slice.reserve(idx - first + pieces.size());
    long start_rgn = -1, end_rgn = -1;
    std::size_t p = 0;
    phys_addr_t added = 0;
    auto emit_pieces_before = [&](std::size_t k) {
      while (p < pieces.size() && pieces[p].before == k) {
        const long at = static_cast<long>(first + slice.size());
        if (start_rgn == -1) start_rgn = at;
        end_rgn = at + 1;
        slice.push_back({pieces[p].base, pieces[p].end - pieces[p].base, flags, nid});
        added += pieces[p].end - pieces[p].base;
        ++p;
      }
    };
    for (std::size_t k = first; k < idx; ++k) {
      emit_pieces_before(k);
      slice.push_back(t.regions[k]);
    }
    emit_pieces_before(idx);
    // slice[0, idx - first) overwrites [first, idx); the rest is inserted.
    const std::size_t keep = idx - first;
    auto out = t.regions.iter_at(first);
    for (std::size_t k = 0; k < keep; ++k, ++out) *out = slice[k];
    t.regions.insert(idx, slice.begin() + static_cast<std::ptrdiff_t>(keep), slice.end());
    t.total_size += added;
    merge_regions(t, start_rgn, end_rgn);
    return 0;
  }
}

// ---- isolate / remove / setclr ------------------------------------------------------------

// mm/memblock.c memblock_isolate_range(): makes sure no region crosses base or
// base+size (at most two splits, pieces keep flags/nid) and returns the index
// range of the regions inside. Never merges.
int Memblock::memblock_isolate_range(MemblockTypeId tid, phys_addr_t base, phys_addr_t size,
                                     int* start_rgn, int* end_rgn) {
  size = std::min(size, PHYS_ADDR_MAX - base);
  const phys_addr_t end = base + size;
  *start_rgn = *end_rgn = 0;
  if (!size) return 0;

  MemblockType& t = mut(tid);
  while (t.cnt() + 2 > t.max)
    if (double_array(tid, base, size) < 0) return MODEL_ENOMEM;

  // The scan starts at the first region ending above base (every region
  // before it is one the kernel `continue`s past) and keeps an iterator in
  // step with idx: a split inserts before it and the iterator follows the
  // element it was on, so no index is looked up again.
  auto it = t.regions.lower_bound_end(base);
  if (it.at_end()) return 0;
  std::size_t idx = it.index();
  while (!it.at_end()) {
    MemblockRegion& rgn = *it;
    const phys_addr_t rbase = rgn.base;
    const phys_addr_t rend = rgn.end();
    if (rbase >= end) break;
    if (rbase < base || rend > end) {
      // Crossing base: the lower part goes in front, continue with the
      // upper part. Crossing end: split there and re-examine the lower part.
      const phys_addr_t cut = rbase < base ? base : end;
      MemblockRegion low = rgn;
      low.size = cut - rbase;
      rgn.base = cut;
      rgn.size -= low.size;
      if (t.cnt() >= t.max) {  // memblock_insert_region(); unreachable after the doubling above
        t.total_size -= low.size;
        bug(MemblockEvent::Kind::bug, "memblock_insert_region", "BUG_ON(type->cnt >= type->max)");
        return MODEL_EFAULT;
      }
      it = t.regions.insert_keep(it, low);  // `it` stays on the upper part
      if (rbase < base) {
        ++idx;
      } else {
        --it;
      }
      continue;
    }
    if (!*end_rgn) *start_rgn = static_cast<int>(idx);
    *end_rgn = static_cast<int>(idx) + 1;
    ++idx;
    ++it;
  }
  return 0;
}

// mm/memblock.c memblock_remove_range(): isolate, then drop the regions inside.
int Memblock::memblock_remove_range(MemblockTypeId tid, phys_addr_t base, phys_addr_t size) {
  if (failed_) return MODEL_EFAULT;
  Scope scope(*this, "memblock_remove_range");
  {
    // Fast path: no region crosses base or base + size, so the kernel's
    // isolate only finds the regions inside (no split, no index), which are
    // then removed: one erase of a run of adjacent regions, found without
    // an index lookup. Only when isolate would not double the array.
    MemblockType& t = mut(tid);
    const phys_addr_t sz = std::min(size, PHYS_ADDR_MAX - base);
    const phys_addr_t end = base + sz;
    if (sz && t.cnt() + 2 <= t.max) {
      auto first = t.regions.lower_bound_end(base);
      if (first.at_end() || first->base >= end) return 0;  // nothing inside
      if (first->base >= base) {
        auto last = first;
        phys_addr_t removed = 0;
        while (!last.at_end() && last->end() <= end) {
          removed += last->size;
          ++last;
        }
        if (last.at_end() || last->base >= end) {
          t.total_size -= removed;
          t.regions.erase_between(first, last);
          if (t.regions.empty()) {
            if (t.total_size != 0) warn("memblock_remove_region", "WARN_ON(type->total_size != 0)");
            t.empty_nid = cfg_.max_numnodes;
          }
          return 0;
        }
      }
    }
  }
  int start_rgn = 0, end_rgn = 0;
  const int ret = memblock_isolate_range(tid, base, size, &start_rgn, &end_rgn);
  if (ret) return ret;
  MemblockType& t = mut(tid);
  if (end_rgn <= start_rgn) return 0;
  // Equivalent to memblock_remove_region() from end_rgn - 1 down to start_rgn.
  auto it = t.regions.iter_at(static_cast<std::size_t>(start_rgn));
  for (int i = start_rgn; i < end_rgn; ++i, ++it) t.total_size -= it->size;
  t.regions.erase(static_cast<std::size_t>(start_rgn), static_cast<std::size_t>(end_rgn));
  if (t.regions.empty()) {
    if (t.total_size != 0) warn("memblock_remove_region", "WARN_ON(type->total_size != 0)");
    t.empty_nid = cfg_.max_numnodes;
  }
  return 0;
}

// mm/memblock.c memblock_setclr_flag(): parts of the range no region covers
// are ignored; the touched window is merged afterwards.
int Memblock::memblock_setclr_flag(MemblockTypeId tid, phys_addr_t base, phys_addr_t size,
                                   bool set, std::uint32_t flag) {
  if (failed_) return MODEL_EFAULT;
  Scope scope(*this, "memblock_setclr_flag");
  std::optional<MemblockWindow> before;
  if (cfg_.self_check && scope.outer()) before = memblock_window(type(tid), base, size);
  int start_rgn = 0, end_rgn = 0;
  const int ret = memblock_isolate_range(tid, base, size, &start_rgn, &end_rgn);
  if (ret) return ret;
  MemblockType& t = mut(tid);
  for (int i = start_rgn; i < end_rgn; ++i) {
    auto& r = t.regions[static_cast<std::size_t>(i)];
    r.flags = set ? (r.flags | flag) : (r.flags & ~flag);
  }
  merge_regions(t, start_rgn, end_rgn);
  if (before && before->part.max == t.max)
    record(check_setclr_flags_only(before->part, memblock_window_after(t, before->span), base, size, flag,
                                   before->span),
           "memblock_setclr_flag");
  return 0;
}

// mm/memblock.c memblock_set_node(): like setclr_flag, but for the nid.
int Memblock::memblock_set_node(phys_addr_t base, phys_addr_t size, MemblockTypeId tid, int nid) {
  if (failed_) return MODEL_EFAULT;
  Scope scope(*this, "memblock_set_node");
  int start_rgn = 0, end_rgn = 0;
  const int ret = memblock_isolate_range(tid, base, size, &start_rgn, &end_rgn);
  if (ret) return ret;
  MemblockType& t = mut(tid);
  for (int i = start_rgn; i < end_rgn; ++i) t.regions[static_cast<std::size_t>(i)].nid = nid;
  merge_regions(t, start_rgn, end_rgn);
  return 0;
}

// ---- public wrappers --------------------------------------------------------------------

namespace {
// Runs an add_range-style call and, at the outermost level with self_check,
// verifies INV_MEMBLOCK_ADD_MONOTONE when the array was not doubled (doubling
// the reserved array legitimately reserves the new array as well).
template <class Fn>
int checked_add(Memblock& mb, bool self_check, MemblockTypeId tid, phys_addr_t base,
                phys_addr_t size, std::vector<InvariantViolation>& out, Fn&& fn) {
  if (!self_check) return fn();
  const MemblockWindow before = memblock_window(mb.type(tid), base, size);
  const int ret = fn();
  const MemblockType& after = mb.type(tid);
  if (ret == 0 && !mb.failed() && after.max == before.part.max) {
    auto v = check_add_monotone(before.part, memblock_window_after(after, before.span), base, size, before.span);
    out.insert(out.end(), v.begin(), v.end());
  }
  return ret;
}
}  // namespace

#define KHOSPEC_ADD(tid, base, size, nid, flags, opname)                                 \
  do {                                                                                   \
    if (failed_) return MODEL_EFAULT;                                                    \
    if (!cfg_.self_check) return memblock_add_range(tid, base, size, nid, flags);        \
    const bool outer = depth_ == 0;                                                      \
    std::vector<InvariantViolation> v;                                                   \
    const int ret = checked_add(*this, cfg_.self_check && outer, tid, base, size, v,     \
                                [&] { return memblock_add_range(tid, base, size, nid, flags); }); \
    if (!v.empty()) record(std::move(v), opname);                                        \
    return ret;                                                                          \
  } while (0)

// mm/memblock.c memblock_add(): memory, MAX_NUMNODES, flags 0.
int Memblock::memblock_add(phys_addr_t base, phys_addr_t size) {
  KHOSPEC_ADD(MemblockTypeId::memory, base, size, cfg_.max_numnodes, MEMBLOCK_NONE, "memblock_add");
}

// mm/memblock.c memblock_add_node().
int Memblock::memblock_add_node(phys_addr_t base, phys_addr_t size, int nid, std::uint32_t flags) {
  KHOSPEC_ADD(MemblockTypeId::memory, base, size, nid, flags, "memblock_add_node");
}

// mm/memblock.c memblock_reserve(): v6.12 adds with MAX_NUMNODES, v6.16 is
// __memblock_reserve(base, size, NUMA_NO_NODE, 0).
int Memblock::memblock_reserve(phys_addr_t base, phys_addr_t size) {
  const int nid = era_16() ? NUMA_NO_NODE : cfg_.max_numnodes;
  KHOSPEC_ADD(MemblockTypeId::reserved, base, size, nid, MEMBLOCK_NONE, "memblock_reserve");
}

// include/linux/memblock.h memblock_reserve_kern() (v6.16+).
int Memblock::memblock_reserve_kern(phys_addr_t base, phys_addr_t size) {
  if (!era_16()) return MODEL_ENOSYS;
  KHOSPEC_ADD(MemblockTypeId::reserved, base, size, NUMA_NO_NODE, MEMBLOCK_RSRV_KERN,
              "memblock_reserve_kern");
}

// mm/memblock.c __memblock_reserve() (v6.16; the model also allows it in v6.12).
int Memblock::__memblock_reserve(phys_addr_t base, phys_addr_t size, int nid, std::uint32_t flags) {
  KHOSPEC_ADD(MemblockTypeId::reserved, base, size, nid, flags, "__memblock_reserve");
}

// mm/memblock.c memblock_physmem_add(): physmem, MAX_NUMNODES, flags 0.
int Memblock::memblock_physmem_add(phys_addr_t base, phys_addr_t size) {
  KHOSPEC_ADD(MemblockTypeId::physmem, base, size, cfg_.max_numnodes, MEMBLOCK_NONE,
              "memblock_physmem_add");
}

#undef KHOSPEC_ADD

int Memblock::memblock_remove(phys_addr_t base, phys_addr_t size) {
  return memblock_remove_range(MemblockTypeId::memory, base, size);
}

// mm/memblock.c memblock_phys_free(): removal from reserved; the memory is not
// given back to buddy.
int Memblock::memblock_phys_free(phys_addr_t base, phys_addr_t size) {
  return memblock_remove_range(MemblockTypeId::reserved, base, size);
}

int Memblock::memblock_mark_hotplug(phys_addr_t base, phys_addr_t size) {
  return memblock_setclr_flag(MemblockTypeId::memory, base, size, true, MEMBLOCK_HOTPLUG);
}
int Memblock::memblock_clear_hotplug(phys_addr_t base, phys_addr_t size) {
  return memblock_setclr_flag(MemblockTypeId::memory, base, size, false, MEMBLOCK_HOTPLUG);
}
// mm/memblock.c memblock_mark_mirror(): a no-op unless kernelcore=mirror;
// otherwise it also makes allocations prefer MIRROR memory.
int Memblock::memblock_mark_mirror(phys_addr_t base, phys_addr_t size) {
  if (failed_) return MODEL_EFAULT;
  if (!cfg_.mirrored_kernelcore) return 0;
  system_has_some_mirror_ = true;
  return memblock_setclr_flag(MemblockTypeId::memory, base, size, true, MEMBLOCK_MIRROR);
}
int Memblock::memblock_mark_nomap(phys_addr_t base, phys_addr_t size) {
  return memblock_setclr_flag(MemblockTypeId::memory, base, size, true, MEMBLOCK_NOMAP);
}
int Memblock::memblock_clear_nomap(phys_addr_t base, phys_addr_t size) {
  return memblock_setclr_flag(MemblockTypeId::memory, base, size, false, MEMBLOCK_NOMAP);
}
int Memblock::memblock_reserved_mark_noinit(phys_addr_t base, phys_addr_t size) {
  return memblock_setclr_flag(MemblockTypeId::reserved, base, size, true, MEMBLOCK_RSRV_NOINIT);
}
int Memblock::memblock_reserved_mark_kern(phys_addr_t base, phys_addr_t size) {
  if (!era_16()) return MODEL_ENOSYS;
  return memblock_setclr_flag(MemblockTypeId::reserved, base, size, true, MEMBLOCK_RSRV_KERN);
}
int Memblock::memblock_mark_kho_scratch(phys_addr_t base, phys_addr_t size) {
  if (!era_16()) return MODEL_ENOSYS;
  return memblock_setclr_flag(MemblockTypeId::memory, base, size, true, MEMBLOCK_KHO_SCRATCH);
}
int Memblock::memblock_clear_kho_scratch(phys_addr_t base, phys_addr_t size) {
  if (!era_16()) return MODEL_ENOSYS;
  return memblock_setclr_flag(MemblockTypeId::memory, base, size, false, MEMBLOCK_KHO_SCRATCH);
}

}  // namespace khospec::model
