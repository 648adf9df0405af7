#include "model/kho/phys_image.hpp"

#include "core/elf.hpp"

#include <algorithm>
#include <cstring>

namespace khospec::model {

PhysImage::Pages::const_iterator PhysImage::find(std::uint64_t pfn) const {
  auto it = pages_.find(pfn);
  if (it != pages_.end() || !source_ || source_lacks_.count(pfn)) return it;
  auto page = std::make_unique<Page>();
  if (!source_(pfn, page->data())) {
    source_lacks_.insert(pfn);
    return pages_.end();
  }
  return pages_.emplace(pfn, std::move(page)).first;
}

PhysImage::Page& PhysImage::page_for_write(std::uint64_t pfn) {
  find(pfn);  // a partial write keeps the rest of the source's page
  auto& slot = pages_[pfn];
  if (!slot) slot = std::make_unique<Page>(Page{});
  return *slot;
}

void PhysImage::write(phys_addr_t addr, std::span<const std::uint8_t> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    phys_addr_t a = addr + done;
    std::size_t off = a % kPageSize;
    std::size_t n = std::min<std::size_t>(kPageSize - off, bytes.size() - done);
    std::memcpy(page_for_write(a / kPageSize).data() + off, bytes.data() + done, n);
    done += n;
  }
}

void PhysImage::read(phys_addr_t addr, std::span<std::uint8_t> out) const {
  std::size_t done = 0;
  while (done < out.size()) {
    phys_addr_t a = addr + done;
    std::size_t off = a % kPageSize;
    std::size_t n = std::min<std::size_t>(kPageSize - off, out.size() - done);
    auto it = find(a / kPageSize);
    if (it == pages_.end() || !it->second) {
      std::memset(out.data() + done, 0, n);
    } else {
      std::memcpy(out.data() + done, it->second->data() + off, n);
    }
    done += n;
  }
}

std::vector<std::uint8_t> PhysImage::read(phys_addr_t addr, std::size_t len) const {
  std::vector<std::uint8_t> v(len);
  read(addr, v);
  return v;
}

void PhysImage::fill(phys_addr_t addr, std::uint64_t len, std::uint8_t value) {
  if (value == 0) {
    // Whole zero pages are stored without contents (a null slot reads as
    // zeros and still counts as touched): zeroing allocations stay cheap.
    for (std::uint64_t done = 0; done < len;) {
      const phys_addr_t a = addr + done;
      const std::uint64_t off = a % kPageSize;
      const std::uint64_t n = std::min<std::uint64_t>(kPageSize - off, len - done);
      if (n == kPageSize) {
        pages_[a / kPageSize].reset();
      } else {
        std::memset(page_for_write(a / kPageSize).data() + off, 0, static_cast<std::size_t>(n));
      }
      done += n;
    }
    return;
  }
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(std::min<std::uint64_t>(len, kPageSize)), value);
  for (std::uint64_t done = 0; done < len;) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), len - done));
    write(addr + done, std::span<const std::uint8_t>(buf.data(), n));
    done += n;
  }
}

std::uint32_t PhysImage::read_u32(phys_addr_t addr) const {
  std::uint8_t b[4];
  read(addr, b);
  return std::uint32_t{b[0]} | std::uint32_t{b[1]} << 8 | std::uint32_t{b[2]} << 16 |
         std::uint32_t{b[3]} << 24;
}

std::uint64_t PhysImage::read_u64(phys_addr_t addr) const {
  return std::uint64_t{read_u32(addr)} | std::uint64_t{read_u32(addr + 4)} << 32;
}

void PhysImage::write_u32(phys_addr_t addr, std::uint32_t v) {
  std::uint8_t b[4] = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
                       static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
  write(addr, b);
}

void PhysImage::write_u64(phys_addr_t addr, std::uint64_t v) {
  write_u32(addr, static_cast<std::uint32_t>(v));
  write_u32(addr + 4, static_cast<std::uint32_t>(v >> 32));
}

bool PhysImage::touched(phys_addr_t addr) const { return find(addr / kPageSize) != pages_.end(); }

const std::uint8_t* PhysImage::page_data(std::uint64_t pfn) const {
  auto it = find(pfn);
  return it == pages_.end() || !it->second ? nullptr : it->second->data();
}

PhysImage::PageView PhysImage::page_view(std::uint64_t pfn) const {
  auto it = find(pfn);
  if (it == pages_.end()) return {};
  return {true, it->second ? it->second->data() : nullptr};
}

std::vector<std::pair<phys_addr_t, phys_addr_t>> PhysImage::runs() const {
  std::vector<std::pair<phys_addr_t, phys_addr_t>> out;
  for (const auto& [pfn, page] : pages_) {
    phys_addr_t start = pfn * kPageSize;
    if (!out.empty() && out.back().second == start) {
      out.back().second += kPageSize;
    } else {
      out.emplace_back(start, start + kPageSize);
    }
  }
  return out;
}

std::vector<std::uint8_t> PhysImage::save_raw(phys_addr_t base, std::uint64_t len) const {
  return read(base, static_cast<std::size_t>(len));
}

void PhysImage::load_raw(phys_addr_t base, std::span<const std::uint8_t> bytes) {
  // Keep the image sparse: all-zero pages stay untouched.
  for (std::size_t off = 0; off < bytes.size(); off += kPageSize) {
    std::size_t n = std::min<std::size_t>(kPageSize, bytes.size() - off);
    auto chunk = bytes.subspan(off, n);
    if (std::any_of(chunk.begin(), chunk.end(), [](std::uint8_t b) { return b != 0; }))
      write(base + off, chunk);
  }
}

std::vector<std::uint8_t> PhysImage::save_elf() const {
  auto segs = runs();
  std::vector<std::vector<std::uint8_t>> data;
  data.reserve(segs.size());
  std::vector<ElfRun> elf;
  for (const auto& [s, e] : segs) {
    data.push_back(read(s, static_cast<std::size_t>(e - s)));
    elf.push_back({s, data.back(), std::nullopt});
  }
  return write_elf_core(elf);
}

void PhysImage::for_each_page(std::uint64_t first, std::uint64_t last,
                              const std::function<void(std::uint64_t, const std::uint8_t*)>& fn) const {
  if (first > last) return;
  if (source_) {
    for (std::uint64_t pfn = first;; ++pfn) {
      fn(pfn, page_data(pfn));
      if (pfn == last) break;
    }
    return;
  }
  for (auto it = pages_.lower_bound(first); it != pages_.end() && it->first <= last; ++it)
    fn(it->first, it->second ? it->second->data() : nullptr);
}

std::uint64_t image_digest(const PhysImage& image, phys_addr_t phys, std::uint64_t len) {
  constexpr std::uint64_t P = PhysImage::kPageSize;
  std::uint64_t h = 1469598103934665603ull;
  auto fnv = [&h](const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  if (len == 0) return h;
  static const std::array<std::uint8_t, P> zero{};
  const phys_addr_t end = phys + len;  // exclusive; callers pass ranges inside the address space
  std::vector<std::uint8_t> buf;
  image.for_each_page(phys / P, (end - 1) / P, [&](std::uint64_t pfn, const std::uint8_t* bytes) {
    if (!bytes) return;
    // The part of this page inside the range (a range need not be page-aligned).
    const phys_addr_t lo = std::max(phys, pfn * P), hi = std::min(end, (pfn + 1) * P);
    const std::uint8_t* p = bytes + (lo - pfn * P);
    const std::size_t n = static_cast<std::size_t>(hi - lo);
    if (std::memcmp(p, zero.data(), n) == 0) return;
    const std::uint64_t off = lo - phys;
    fnv(reinterpret_cast<const std::uint8_t*>(&off), sizeof off);
    fnv(p, n);
  });
  return h;
}

}  // namespace khospec::model
