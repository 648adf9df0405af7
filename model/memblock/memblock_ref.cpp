// Kernel reference algorithms for memblock (see memblock_ref.hpp). Each
// function follows the steps of the mm/memblock.c function it names (v6.16),
// including where the kernel scans from index 0 and where it memmoves.
#include "model/memblock/memblock_ref.hpp"

#include <algorithm>
#include <cstring>

namespace khospec::model::ref {

namespace {

// Stands in for memblock_double_array(): capacity only (see the header).
void grow(RefType& t) {
  t.max *= 2;
  t.slots.resize(t.max);
}

// mm/memblock.c memblock_insert_region(): memmove the tail up by one slot.
void insert_region(RefType& t, std::uint64_t idx, phys_addr_t base, phys_addr_t size, int nid,
                   std::uint32_t flags) {
  MemblockRegion* rgn = t.slots.data() + idx;
  std::memmove(static_cast<void*>(rgn + 1), rgn, (t.cnt - idx) * sizeof(*rgn));
  rgn->base = base;
  rgn->size = size;
  rgn->flags = flags;
  rgn->nid = nid;
  t.cnt++;
  t.total_size += size;
}

// mm/memblock.c memblock_remove_region(): memmove the tail down by one slot;
// an emptied array reads as {0, 0, 0, MAX_NUMNODES}.
void remove_region(RefType& t, std::uint64_t r, RefWarnings* w) {
  t.total_size -= t.slots[r].size;
  std::memmove(static_cast<void*>(t.slots.data() + r), t.slots.data() + r + 1,
               (t.cnt - (r + 1)) * sizeof(MemblockRegion));
  t.cnt--;
  if (t.cnt == 0) {
    if (t.total_size != 0 && w) w->total++;
    t.slots[0] = MemblockRegion{0, 0, MEMBLOCK_NONE, t.max_numnodes};
  }
}

// mm/memblock.c memblock_merge_regions(type, start_rgn, end_rgn): one memmove
// per merged pair.
void merge_regions(RefType& t, std::uint64_t start_rgn, std::uint64_t end_rgn) {
  std::uint64_t i = start_rgn ? start_rgn - 1 : 0;
  if (t.cnt == 0) return;
  end_rgn = std::min(end_rgn, t.cnt - 1);
  while (i < end_rgn) {
    MemblockRegion* self = &t.slots[i];
    MemblockRegion* next = &t.slots[i + 1];
    if (self->base + self->size != next->base || self->nid != next->nid || self->flags != next->flags) {
      // BUG_ON(this->base + this->size > next->base): the model reports it;
      // the reference never reaches it on sorted, disjoint input.
      i++;
      continue;
    }
    self->size += next->size;
    std::memmove(static_cast<void*>(next), next + 1, (t.cnt - (i + 2)) * sizeof(*next));
    t.cnt--;
    end_rgn--;
  }
}

phys_addr_t cap_size(phys_addr_t base, phys_addr_t size) { return std::min(size, PHYS_ADDR_MAX - base); }

}  // namespace

RefType::RefType(std::uint64_t capacity, int numnodes)
    : slots(capacity), max(capacity), max_numnodes(numnodes) {
  if (!slots.empty()) slots[0].nid = numnodes;
}

std::vector<MemblockRegion> RefType::regions() const {
  return {slots.begin(), slots.begin() + static_cast<std::ptrdiff_t>(cnt)};
}

void RefType::assign(const std::vector<MemblockRegion>& regions) {
  while (max < regions.size()) grow(*this);
  std::copy(regions.begin(), regions.end(), slots.begin());
  cnt = regions.size();
  total_size = 0;
  for (const auto& r : regions) total_size += r.size;
  if (cnt == 0) slots[0] = MemblockRegion{0, 0, MEMBLOCK_NONE, max_numnodes};
}

// mm/memblock.c memblock_add_range(): (v6.16)
//  - empty array: write regions[0];
//  - when cnt * 2 + 1 > max, a first pass only counts the new pieces and
//    doubles the array until they fit, then the scan repeats and inserts;
//  - each pass scans from index 0: regions ending at or below base are
//    skipped with `continue`, the scan stops at the first region starting at
//    or above end; a gap below an overlapping region becomes a new region
//    (WARN_ONs on nid/flags), the rest above the last one is inserted last;
//  - then memblock_merge_regions() over the inserted window.
int memblock_add_range(RefType& t, phys_addr_t base, phys_addr_t size, int nid, std::uint32_t flags,
                       bool era_16, RefWarnings* w) {
  const phys_addr_t obase = base;
  size = cap_size(base, size);
  const phys_addr_t end = base + size;
  if (!size) return 0;

  if (t.slots[0].size == 0) {
    t.slots[0] = MemblockRegion{base, size, flags, nid};
    t.cnt = 1;
    t.total_size = size;
    return 0;
  }

  bool insert = t.cnt * 2 + 1 <= t.max;
  std::int64_t start_rgn = -1, end_rgn = 0;
  for (;;) {  // repeat:
    base = obase;
    std::uint64_t nr_new = 0;
    std::uint64_t idx = 0;
    for (; idx < t.cnt; idx++) {
      const MemblockRegion* rgn = &t.slots[idx];
      const phys_addr_t rbase = rgn->base;
      const phys_addr_t rend = rbase + rgn->size;
      if (rbase >= end) break;
      if (rend <= base) continue;
      if (rbase > base) {
        if (w && nid != rgn->nid) w->nid++;
        if (w && (era_16 ? (flags != MEMBLOCK_NONE && flags != rgn->flags) : flags != rgn->flags)) w->flags++;
        nr_new++;
        if (insert) {
          if (start_rgn == -1) start_rgn = static_cast<std::int64_t>(idx);
          end_rgn = static_cast<std::int64_t>(idx) + 1;
          insert_region(t, idx++, base, rbase - base, nid, flags);
        }
      }
      base = std::min(rend, end);
    }
    if (base < end) {
      nr_new++;
      if (insert) {
        if (start_rgn == -1) start_rgn = static_cast<std::int64_t>(idx);
        end_rgn = static_cast<std::int64_t>(idx) + 1;
        insert_region(t, idx, base, end - base, nid, flags);
      }
    }
    if (!nr_new) return 0;
    if (!insert) {
      while (t.cnt + nr_new > t.max) grow(t);
      insert = true;
      continue;
    }
    merge_regions(t, static_cast<std::uint64_t>(start_rgn), static_cast<std::uint64_t>(end_rgn));
    return 0;
  }
}

// mm/memblock.c memblock_isolate_range(): (v6.16) make room for two more
// regions, then scan from index 0 and split the regions crossing base (keep
// going with the upper part) or end (re-examine the lower part).
int memblock_isolate_range(RefType& t, phys_addr_t base, phys_addr_t size, int* start_rgn, int* end_rgn) {
  size = cap_size(base, size);
  const phys_addr_t end = base + size;
  *start_rgn = *end_rgn = 0;
  if (!size) return 0;
  while (t.cnt + 2 > t.max) grow(t);

  for (std::int64_t idx = 0; idx < static_cast<std::int64_t>(t.cnt); idx++) {
    MemblockRegion* rgn = &t.slots[static_cast<std::uint64_t>(idx)];
    const phys_addr_t rbase = rgn->base;
    const phys_addr_t rend = rbase + rgn->size;
    if (rbase >= end) break;
    if (rend <= base) continue;
    if (rbase < base) {
      rgn->base = base;
      rgn->size -= base - rbase;
      t.total_size -= base - rbase;
      insert_region(t, static_cast<std::uint64_t>(idx), rbase, base - rbase, rgn->nid, rgn->flags);
    } else if (rend > end) {
      rgn->base = end;
      rgn->size -= end - rbase;
      t.total_size -= end - rbase;
      insert_region(t, static_cast<std::uint64_t>(idx--), rbase, end - rbase, rgn->nid, rgn->flags);
    } else {
      if (!*end_rgn) *start_rgn = static_cast<int>(idx);
      *end_rgn = static_cast<int>(idx) + 1;
    }
  }
  return 0;
}

// mm/memblock.c memblock_remove_range(): isolate, then remove the regions
// inside from the last one down, one memmove each.
int memblock_remove_range(RefType& t, phys_addr_t base, phys_addr_t size, RefWarnings* w) {
  int start_rgn = 0, end_rgn = 0;
  const int ret = memblock_isolate_range(t, base, size, &start_rgn, &end_rgn);
  if (ret) return ret;
  for (int i = end_rgn - 1; i >= start_rgn; i--) remove_region(t, static_cast<std::uint64_t>(i), w);
  return 0;
}

// mm/memblock.c memblock_setclr_flag(): isolate, set or clear the flag on the
// regions inside, merge the window.
int memblock_setclr_flag(RefType& t, phys_addr_t base, phys_addr_t size, bool set, std::uint32_t flag) {
  int start_rgn = 0, end_rgn = 0;
  const int ret = memblock_isolate_range(t, base, size, &start_rgn, &end_rgn);
  if (ret) return ret;
  for (int i = start_rgn; i < end_rgn; i++) {
    MemblockRegion& r = t.slots[static_cast<std::uint64_t>(i)];
    r.flags = set ? (r.flags | flag) : (r.flags & ~flag);
  }
  merge_regions(t, static_cast<std::uint64_t>(start_rgn), static_cast<std::uint64_t>(end_rgn));
  return 0;
}

// mm/memblock.c should_skip_region() for memblock.memory (movable_node off).
bool should_skip_memory_region(const MemblockRegion& m, int nid, std::uint32_t flags, int max_numnodes) {
  if (nid >= 0 && nid < max_numnodes && nid != m.nid) return true;
  if ((flags & MEMBLOCK_MIRROR) && !(m.flags & MEMBLOCK_MIRROR)) return true;
  if (!(flags & MEMBLOCK_NOMAP) && (m.flags & MEMBLOCK_NOMAP)) return true;
  if (!(flags & MEMBLOCK_DRIVER_MANAGED) && (m.flags & MEMBLOCK_DRIVER_MANAGED)) return true;
  if ((flags & MEMBLOCK_KHO_SCRATCH) && !(m.flags & MEMBLOCK_KHO_SCRATCH)) return true;
  return false;
}

// mm/memblock.c __next_mem_range(): for each memory region, walk the gaps of
// reserved (gap j = [end(b[j-1]) or 0, base(b[j]) or PHYS_ADDR_MAX)) until one
// intersects; the side that ends first advances.
bool next_free_mem_range(const RefType& mem, const RefType& rsv, int nid, std::uint32_t flags,
                         std::uint64_t* idx, phys_addr_t* out_start, phys_addr_t* out_end, int* out_nid,
                         int max_numnodes) {
  std::int64_t idx_a = static_cast<std::int64_t>(*idx & 0xffffffffu);
  std::int64_t idx_b = static_cast<std::int64_t>(*idx >> 32);
  for (; idx_a < static_cast<std::int64_t>(mem.cnt); idx_a++) {
    const MemblockRegion* m = &mem.slots[static_cast<std::uint64_t>(idx_a)];
    const phys_addr_t m_start = m->base;
    const phys_addr_t m_end = m->base + m->size;
    if (should_skip_memory_region(*m, nid, flags, max_numnodes)) continue;
    for (; idx_b < static_cast<std::int64_t>(rsv.cnt) + 1; idx_b++) {
      const MemblockRegion* r = rsv.slots.data() + idx_b;
      const phys_addr_t r_start = idx_b ? r[-1].base + r[-1].size : 0;
      const phys_addr_t r_end = idx_b < static_cast<std::int64_t>(rsv.cnt) ? r->base : PHYS_ADDR_MAX;
      if (r_start >= m_end) break;
      if (m_start < r_end) {
        *out_start = std::max(m_start, r_start);
        *out_end = std::min(m_end, r_end);
        if (out_nid) *out_nid = m->nid;
        if (m_end <= r_end)
          idx_a++;
        else
          idx_b++;
        *idx = static_cast<std::uint32_t>(idx_a) | static_cast<std::uint64_t>(idx_b) << 32;
        return true;
      }
    }
  }
  *idx = ~std::uint64_t{0};
  return false;
}

// mm/memblock.c __next_mem_range_rev(): the same walk from the top.
bool next_free_mem_range_rev(const RefType& mem, const RefType& rsv, int nid, std::uint32_t flags,
                             std::uint64_t* idx, phys_addr_t* out_start, phys_addr_t* out_end, int* out_nid,
                             int max_numnodes) {
  std::int64_t idx_a, idx_b;
  if (*idx == ~std::uint64_t{0}) {
    idx_a = static_cast<std::int64_t>(mem.cnt) - 1;
    idx_b = static_cast<std::int64_t>(rsv.cnt);
  } else {
    idx_a = static_cast<std::int32_t>(*idx & 0xffffffffu);
    idx_b = static_cast<std::int32_t>(*idx >> 32);
  }
  for (; idx_a >= 0; idx_a--) {
    const MemblockRegion* m = &mem.slots[static_cast<std::uint64_t>(idx_a)];
    const phys_addr_t m_start = m->base;
    const phys_addr_t m_end = m->base + m->size;
    if (should_skip_memory_region(*m, nid, flags, max_numnodes)) continue;
    for (; idx_b >= 0; idx_b--) {
      const MemblockRegion* r = rsv.slots.data() + idx_b;
      const phys_addr_t r_start = idx_b ? r[-1].base + r[-1].size : 0;
      const phys_addr_t r_end = idx_b < static_cast<std::int64_t>(rsv.cnt) ? r->base : PHYS_ADDR_MAX;
      if (r_end <= m_start) break;
      if (m_end > r_start) {
        *out_start = std::max(m_start, r_start);
        *out_end = std::min(m_end, r_end);
        if (out_nid) *out_nid = m->nid;
        if (m_start >= r_start)
          idx_a--;
        else
          idx_b--;
        *idx = static_cast<std::uint32_t>(idx_a) | static_cast<std::uint64_t>(static_cast<std::uint32_t>(idx_b)) << 32;
        return true;
      }
    }
  }
  *idx = ~std::uint64_t{0};
  return false;
}

// mm/memblock.c __memblock_find_range_top_down(): clamp each free range,
// place the candidate at its top, aligned down; first fit wins.
phys_addr_t find_range_top_down(const RefType& mem, const RefType& rsv, phys_addr_t start, phys_addr_t end,
                                phys_addr_t size, phys_addr_t align, int nid, std::uint32_t flags,
                                int max_numnodes) {
  std::uint64_t i = ~std::uint64_t{0};
  phys_addr_t this_start = 0, this_end = 0;
  while (next_free_mem_range_rev(mem, rsv, nid, flags, &i, &this_start, &this_end, nullptr, max_numnodes)) {
    this_start = std::clamp(this_start, start, end);
    this_end = std::clamp(this_end, start, end);
    if (this_end < size) continue;
    const phys_addr_t cand = (this_end - size) & ~(align - 1);
    if (cand >= this_start) return cand;
  }
  return 0;
}

}  // namespace khospec::model::ref
