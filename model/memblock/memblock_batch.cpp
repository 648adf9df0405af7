// memblock model: the batch reservation used for the next kernel's
// deserialization of preserved memory (see memblock_reserve_batch() in
// memblock.hpp). Identity with the per-range loop rests on three facts:
//  1. the loop keeps a merged array merged (INV_MEMBLOCK_MERGED), so its
//     result is the unique canonical array of the pointwise coverage map;
//  2. a range that overlaps nothing gets exactly one new region {base, size,
//     0, reserve nid} from memblock_reserve (no WARN_ON can fire: they are
//     only evaluated below an overlapping region), and mark_noinit then only
//     ORs RSRV_NOINIT into that range;
//  3. no doubling happens while cnt + 3 <= max before a range (add_range
//     needs cnt + 1 <= max, isolate cnt' + 2 <= max with cnt' <= cnt + 1),
//     and a range adds at most one region net.
// So a segment of such ranges is applied as: sort, merge with the array,
// canonical merge pass. Anything else falls back to the loop's two calls at
// its position. memblock_ref_prop_test and memblock_batch_test check the
// identity on random inputs against the loop (and the loop against the
// kernel reference algorithm).
#include <algorithm>

#include "model/memblock/memblock.hpp"
#include "model/memblock/memblock_internal.hpp"

namespace khospec::model {

namespace {

bool is_merged(const RegionArray& r) {
  if (r.empty()) return true;
  auto it = r.begin();
  const MemblockRegion* prev = &*it;
  for (++it; it != r.end(); ++it) {
    const MemblockRegion& cur = *it;
    if (prev->size == 0 || prev->end() > cur.base) return false;
    if (prev->end() == cur.base && prev->flags == cur.flags && prev->nid == cur.nid) return false;
    prev = &cur;
  }
  return true;
}

}  // namespace

int Memblock::memblock_reserve_batch(const std::vector<std::pair<phys_addr_t, phys_addr_t>>& ranges,
                                     bool mark_noinit) {
  int failed = 0;
  auto one = [&](phys_addr_t base, phys_addr_t size) {
    const int r1 = memblock_reserve(base, size);
    const int r2 = mark_noinit ? memblock_reserved_mark_noinit(base, size) : 0;
    if (r1 || r2) ++failed;
  };
  if (failed_ || !is_merged(reserved_.regions)) {
    for (const auto& [base, size] : ranges) one(base, size);
    return failed;
  }

  Scope scope(*this, "memblock_reserve_batch");
  const int nid = era_16() ? NUMA_NO_NODE : cfg_.max_numnodes;
  const std::uint32_t flags = mark_noinit ? MEMBLOCK_RSRV_NOINIT : MEMBLOCK_NONE;
  std::vector<std::pair<phys_addr_t, phys_addr_t>> seg;  // arrival order
  std::vector<MemblockRegion> sorted;
  RegionArray out;
  std::uint64_t cnt0 = 0;  // reserved cnt when the segment started

  auto flush = [&] {
    if (seg.empty()) return;
    sorted.clear();
    sorted.reserve(seg.size());
    for (const auto& [base, size] : seg) sorted.push_back({base, size, flags, nid});
    std::sort(sorted.begin(), sorted.end(),
              [](const MemblockRegion& a, const MemblockRegion& b) { return a.base < b.base; });
    bool disjoint = true;
    for (std::size_t i = 0; i + 1 < sorted.size() && disjoint; ++i)
      disjoint = sorted[i].end() <= sorted[i + 1].base;
    if (!disjoint) {  // ranges of one segment overlap each other: the loop decides
      auto pending = std::move(seg);
      seg.clear();
      for (const auto& [base, size] : pending) one(base, size);
      return;
    }
    // Two-way merge by base, then one canonical merge pass (only pairs that
    // touch a new range can merge: the old array was merged).
    auto& r = reserved_.regions;
    out.clear();
    out.reserve(r.size() + sorted.size());
    auto i = r.begin();
    const auto r_end = r.end();
    std::size_t j = 0;
    auto push = [&](const MemblockRegion& x) {
      if (!out.empty()) {
        MemblockRegion& last = out.back();
        if (last.end() == x.base && last.flags == x.flags && last.nid == x.nid) {
          last.size += x.size;
          return;
        }
      }
      out.push_back(x);
    };
    phys_addr_t added = 0;
    while (i != r_end || j < sorted.size()) {
      if (j == sorted.size() || (i != r_end && i->base < sorted[j].base)) {
        push(*i);
        ++i;
      } else {
        added += sorted[j].size;
        push(sorted[j++]);
      }
    }
    r.swap(out);
    reserved_.total_size += added;
    seg.clear();
  };

  for (const auto& [base, size_in] : ranges) {
    const phys_addr_t size = std::min(size_in, PHYS_ADDR_MAX - base);  // memblock_cap_size()
    if (size == 0) continue;  // both calls return 0 and change nothing
    // Flush first when this range could bring the array to a doubling point,
    // so that the overlap test below sees every earlier range.
    if (!seg.empty() && cnt0 + seg.size() + 1 + 2 > reserved_.max) flush();
    if (failed_ || memblock_overlaps_region(MemblockTypeId::reserved, base, size)) {
      flush();
      one(base, size);
      continue;
    }
    if (seg.empty()) {
      cnt0 = reserved_.cnt();
      if (cnt0 + 1 + 2 > reserved_.max) {  // the loop may double here: let it
        one(base, size);
        continue;
      }
    }
    seg.emplace_back(base, size);
  }
  flush();
  return failed;
}

}  // namespace khospec::model
