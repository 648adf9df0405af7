// memblock model: check_invariants(), spec/kho.md §5 items 1-8 and 13.
#include "model/memblock/memblock.hpp"

#include "core/parse.hpp"
#include "model/memblock/memblock_internal.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

namespace khospec::model {

// ---- invariants ------------------------------------------------------------------------

namespace {

void check_type(const MemblockType& t, std::uint64_t init_max, std::vector<InvariantViolation>& out) {
  const std::string name(type_name(t.id));
  // 1. 0 <= cnt <= max and max = init * 2^k.
  bool pow2 = init_max && t.max % init_max == 0;
  if (pow2) {
    const std::uint64_t k = t.max / init_max;
    pow2 = k && (k & (k - 1)) == 0;
  }
  if (t.cnt() > t.max || !pow2)
    out.push_back({"INV_MEMBLOCK_CAPACITY", name + ": cnt=" + std::to_string(t.cnt()) +
                                                " max=" + std::to_string(t.max) +
                                                " init=" + std::to_string(init_max)});
  std::map<std::string, std::pair<std::string, std::size_t>> first;  // id -> (detail, count)
  auto note = [&](const char* id, std::string detail) {
    auto [it, fresh] = first.try_emplace(id, std::move(detail), 0);
    ++it->second.second;
    (void)fresh;
  };
  phys_addr_t sum = 0;
  auto it = t.regions.begin();
  for (std::size_t i = 0; i < t.cnt(); ++i, ++it) {
    const MemblockRegion& r = *it;
    sum += r.size;
    // 2. size > 0 and base + size <= PHYS_ADDR_MAX.
    if (r.size == 0 || r.size > PHYS_ADDR_MAX - r.base)
      note("INV_MEMBLOCK_REGION_BOUNDS",
           name + "[" + std::to_string(i) + "] base=" + hex(r.base) + " size=" + hex(r.size));
    if (i + 1 < t.cnt()) {
      const MemblockRegion& n = *std::next(it);
      // 3. sorted and disjoint.
      if (r.base + r.size > n.base || r.base >= n.base)
        note("INV_MEMBLOCK_SORTED_DISJOINT", name + "[" + std::to_string(i) + "] end=" +
                                                 hex(r.end()) + " > next base=" + hex(n.base));
      // 4. merged: no exactly-adjacent pair with equal flags and nid.
      else if (r.end() == n.base && r.flags == n.flags && r.nid == n.nid)
        note("INV_MEMBLOCK_MERGED", name + "[" + std::to_string(i) + "] and [" +
                                        std::to_string(i + 1) + "] are adjacent with flags " +
                                        flags_to_string(r.flags) + " nid " + std::to_string(r.nid));
    }
  }
  // 5. total_size is the sum of the sizes (0 when empty).
  if (sum != t.total_size)
    note("INV_MEMBLOCK_TOTAL",
         name + ": total_size=" + hex(t.total_size) + " but regions sum to " + hex(sum));
  for (auto& [id, d] : first) {
    std::string detail = d.first;
    if (d.second > 1) detail += " (and " + std::to_string(d.second - 1) + " more)";
    out.push_back({id, std::move(detail)});
  }
}

// Elementary-interval walk over two region arrays plus extra cut points.
struct Cover {
  bool covered = false;
  std::uint32_t flags = 0;
  int nid = 0;
};
Cover cover_at(const MemblockType& t, phys_addr_t a) {
  const std::size_t i = t.regions.first_ending_above(a);
  if (i < t.cnt() && t.regions[i].base <= a) return {true, t.regions[i].flags, t.regions[i].nid};
  return {};
}
std::vector<phys_addr_t> cuts(const MemblockType& a, const MemblockType& b,
                              std::initializer_list<phys_addr_t> extra, CheckSpan span) {
  std::vector<phys_addr_t> c(extra);
  c.push_back(span.lo);
  c.push_back(span.hi);
  for (const auto* t : {&a, &b})
    for (const auto& r : t->regions) {
      c.push_back(r.base);
      c.push_back(r.end());
    }
  std::erase_if(c, [&](phys_addr_t x) { return x < span.lo || x > span.hi; });
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

}  // namespace

std::vector<InvariantViolation> Memblock::check_invariants() const {
  std::vector<InvariantViolation> out;
  // Whole-array passes up to this many regions. Beyond it (a misread map: a
  // next kernel reserving millions of bogus blocks, compat --matrix) each call's
  // window is still checked as it happens (memblock_window()); a full pass per
  // kernel phase made the matrix minutes long under ASan.
  constexpr std::uint64_t kWholeArrayCheck = 1u << 16;
  for (const auto& [t, init] : {std::pair{&memory_, cfg_.init_memory_regions},
                                std::pair{&reserved_, cfg_.init_reserved_regions},
                                std::pair{&physmem_, cfg_.init_physmem_regions}})
    if (t->cnt() <= kWholeArrayCheck) check_type(*t, init, out);
  // 8. memblock_insert_region's BUG_ON(cnt >= max) and double_array's panic
  // (resize not allowed) were never reached.
  if (failed_) out.push_back({"INV_MEMBLOCK_NO_BUG", failure_});
  return out;
}

std::vector<InvariantViolation> check_add_monotone(const MemblockType& before,
                                                   const MemblockType& after, phys_addr_t base,
                                                   phys_addr_t size, CheckSpan span) {
  std::vector<InvariantViolation> out;
  size = std::min(size, PHYS_ADDR_MAX - base);
  const phys_addr_t end = base + size;
  const auto c = cuts(before, after, {base, end}, span);
  for (std::size_t i = 0; i + 1 < c.size(); ++i) {
    const phys_addr_t a = c[i];
    const Cover was = cover_at(before, a);
    const Cover now = cover_at(after, a);
    auto where = [&] {
      return std::string(type_name(after.id)) + " [" + hex(a) + ", " + hex(c[i + 1]) + ")";
    };
    if (was.covered) {
      if (!now.covered || now.flags != was.flags || now.nid != was.nid)
        out.push_back({"INV_MEMBLOCK_ADD_MONOTONE", where() + " changed although it was covered"});
    } else if (a >= base && c[i + 1] <= end) {
      if (!now.covered) out.push_back({"INV_MEMBLOCK_ADD_MONOTONE", where() + " was not added"});
    } else if (now.covered) {
      out.push_back({"INV_MEMBLOCK_ADD_MONOTONE", where() + " appeared outside the added range"});
    }
    if (out.size() > 8) break;
  }
  return out;
}

std::vector<InvariantViolation> check_setclr_flags_only(const MemblockType& before,
                                                        const MemblockType& after,
                                                        phys_addr_t base, phys_addr_t size,
                                                        std::uint32_t flag, CheckSpan span) {
  std::vector<InvariantViolation> out;
  size = std::min(size, PHYS_ADDR_MAX - base);
  const phys_addr_t end = base + size;
  const auto c = cuts(before, after, {base, end}, span);
  for (std::size_t i = 0; i + 1 < c.size(); ++i) {
    const phys_addr_t a = c[i];
    const Cover was = cover_at(before, a);
    const Cover now = cover_at(after, a);
    auto where = [&] {
      return std::string(type_name(after.id)) + " [" + hex(a) + ", " + hex(c[i + 1]) + ")";
    };
    if (was.covered != now.covered || (was.covered && was.nid != now.nid)) {
      out.push_back({"INV_MEMBLOCK_SETCLR_FLAGS_ONLY", where() + " changed coverage or nid"});
    } else if (was.covered) {
      const bool inside = a >= base && c[i + 1] <= end;
      const std::uint32_t changed = was.flags ^ now.flags;
      if ((!inside && changed) || (inside && (changed & ~flag)))
        out.push_back({"INV_MEMBLOCK_SETCLR_FLAGS_ONLY",
                       where() + " flags " + flags_to_string(was.flags) + " -> " + flags_to_string(now.flags)});
    }
    if (out.size() > 8) break;
  }
  return out;
}

namespace {
// `t` with `regions` only (copying the whole array is what the windows avoid).
MemblockType with_regions(const MemblockType& t, const std::vector<MemblockRegion>& regions) {
  MemblockType w;
  w.id = t.id;
  w.regions = RegionArray(regions);
  w.max = t.max;
  w.total_size = t.total_size;
  w.array_is_static = t.array_is_static;
  w.array_base = t.array_base;
  w.empty_nid = t.empty_nid;
  return w;
}
}  // namespace

MemblockWindow memblock_window(const MemblockType& t, phys_addr_t base, phys_addr_t size) {
  constexpr std::size_t pad = 2;
  size = std::min(size, PHYS_ADDR_MAX - base);
  const phys_addr_t end = base + size;
  const std::size_t n = t.cnt();
  std::size_t first = t.regions.first_ending_above(base);
  first = first > pad ? first - pad : 0;
  std::size_t last = first;  // one past the regions starting at or below `end`
  while (last < n && t.regions[last].base <= end) ++last;
  last = std::min(n, last + pad);
  MemblockWindow w;
  std::vector<MemblockRegion> part;
  part.reserve(last - first);
  for (std::size_t i = first; i < last; ++i) part.push_back(t.regions[i]);
  w.span.lo = part.empty() ? base : std::min(base, part.front().base);
  w.span.hi = part.empty() ? end : std::max(end, part.back().end());
  // Past either end of the array nothing is covered, before or after.
  if (first == 0) w.span.lo = 0;
  if (last == n) w.span.hi = PHYS_ADDR_MAX;
  w.part = with_regions(t, part);
  return w;
}

MemblockType memblock_window_after(const MemblockType& t, CheckSpan span) {
  std::vector<MemblockRegion> part;
  for (std::size_t i = t.regions.first_ending_above(span.lo); i < t.cnt() && t.regions[i].base < span.hi; ++i)
    part.push_back(t.regions[i]);
  return with_regions(t, part);
}

std::vector<InvariantViolation> check_scratch_alloc(const MemblockType& memory,
                                                    const MemblockType& reserved_before,
                                                    phys_addr_t addr, phys_addr_t size) {
  std::vector<InvariantViolation> out;
  const phys_addr_t end = addr + size;
  // Every byte inside KHO_SCRATCH memory.
  phys_addr_t cur = addr;
  std::size_t i = memory.regions.first_ending_above(cur);
  while (cur < end) {
    if (i >= memory.cnt() || memory.regions[i].base > cur ||
        !(memory.regions[i].flags & MEMBLOCK_KHO_SCRATCH)) {
      out.push_back({"INV_MEMBLOCK_SCRATCH_ONLY_ALLOC",
                     "allocation [" + hex(addr) + ", " + hex(end) + ") leaves KHO_SCRATCH memory at " + hex(cur)});
      break;
    }
    cur = memory.regions[i].end();
    ++i;
  }
  // ... and outside what was reserved before the call.
  const std::size_t j = reserved_before.regions.first_ending_above(addr);
  if (j < reserved_before.cnt() && reserved_before.regions[j].base < end)
    out.push_back({"INV_MEMBLOCK_SCRATCH_ONLY_ALLOC",
                   "allocation [" + hex(addr) + ", " + hex(end) + ") overlaps reserved memory"});
  return out;
}

}  // namespace khospec::model
