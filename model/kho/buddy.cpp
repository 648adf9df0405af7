#include "model/kho/buddy.hpp"

namespace khospec::model {

void BuddyAllocator::insert(std::map<phys_addr_t, phys_addr_t>& m, phys_addr_t s, phys_addr_t e) {
  if (s >= e) return;
  auto it = m.upper_bound(s);
  if (it != m.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= s) {
      s = prev->first;
      e = std::max(e, prev->second);
      m.erase(prev);
    }
  }
  while (true) {
    it = m.lower_bound(s);
    if (it == m.end() || it->first > e) break;
    e = std::max(e, it->second);
    m.erase(it);
  }
  m[s] = e;
}

void BuddyAllocator::add_free(phys_addr_t start, phys_addr_t end) {
  // Pieces that are CMA pageblocks go to the movable-only pool.
  phys_addr_t cur = start;
  while (cur < end) {
    auto it = cma_.upper_bound(cur);
    phys_addr_t cma_s = end, cma_e = end;
    if (it != cma_.begin() && std::prev(it)->second > cur) {
      cma_s = cur;
      cma_e = std::min(end, std::prev(it)->second);
    } else if (it != cma_.end() && it->first < end) {
      cma_s = it->first;
      cma_e = std::min(end, it->second);
    }
    insert(free_, cur, cma_s);
    cur = std::max(cma_e, cma_s);
    if (cma_s == end) break;
  }
}

void BuddyAllocator::add_cma(phys_addr_t start, phys_addr_t end) {
  insert(cma_, start, end);
  // Anything already free in that range moves to the CMA pool.
  std::vector<std::pair<phys_addr_t, phys_addr_t>> moved;
  for (auto it = free_.begin(); it != free_.end();) {
    phys_addr_t s = std::max(it->first, start), e = std::min(it->second, end);
    if (s < e) {
      phys_addr_t a = it->first, b = it->second;
      it = free_.erase(it);
      if (a < s) moved.emplace_back(a, s);
      if (e < b) moved.emplace_back(e, b);
    } else {
      ++it;
    }
  }
  for (auto [a, b] : moved) insert(free_, a, b);
}

bool BuddyAllocator::is_cma(phys_addr_t addr) const {
  auto it = cma_.upper_bound(addr);
  return it != cma_.begin() && std::prev(it)->second > addr;
}

phys_addr_t BuddyAllocator::alloc_pages(std::uint64_t bytes, std::uint64_t align) {
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    phys_addr_t s = (it->first + align - 1) / align * align;
    if (s < it->first || s + bytes > it->second || s + bytes < s) continue;
    phys_addr_t a = it->first, b = it->second;
    free_.erase(it);
    if (a < s) free_[a] = s;
    if (s + bytes < b) free_[s + bytes] = b;
    return s;
  }
  return 0;
}

phys_addr_t BuddyAllocator::alloc(std::uint64_t bytes, std::uint64_t align) {
  if (bytes == 0) return 0;
  if (fail_after_ && count_ >= fail_after_) return 0;
  ++count_;
  phys_addr_t addr = 0;
  if (bytes < PhysImage::kPageSize) {
    // kmalloc size classes: the next power of two, at least 8 bytes.
    std::uint64_t cls = 8;
    while (cls < bytes) cls <<= 1;
    Slab& s = slabs_[cls];
    if (!s.freed.empty()) {
      addr = s.freed.back();
      s.freed.pop_back();
    } else {
      if (s.page == 0 || s.next + cls > PhysImage::kPageSize) {
        s.page = alloc_pages(PhysImage::kPageSize, PhysImage::kPageSize);
        s.next = 0;
        if (s.page == 0) return 0;
      }
      addr = s.page + s.next;
      s.next += cls;
    }
    bytes = cls;
  } else {
    std::uint64_t a = align < PhysImage::kPageSize ? PhysImage::kPageSize : align;
    bytes = (bytes + PhysImage::kPageSize - 1) / PhysImage::kPageSize * PhysImage::kPageSize;
    addr = alloc_pages(bytes, a);
    if (addr == 0) return 0;
  }
  image_.fill(addr, bytes, 0);  // kzalloc / get_zeroed_page / __GFP_ZERO
  return addr;
}

void BuddyAllocator::free(phys_addr_t addr, std::uint64_t bytes) {
  if (addr == 0 || bytes == 0) return;
  if (bytes < PhysImage::kPageSize) {
    std::uint64_t cls = 8;
    while (cls < bytes) cls <<= 1;
    slabs_[cls].freed.push_back(addr);
    return;
  }
  bytes = (bytes + PhysImage::kPageSize - 1) / PhysImage::kPageSize * PhysImage::kPageSize;
  insert(free_, addr, addr + bytes);
}

std::uint64_t BuddyAllocator::free_bytes() const {
  std::uint64_t n = 0;
  for (auto [s, e] : free_) n += e - s;
  return n;
}

}  // namespace khospec::model
