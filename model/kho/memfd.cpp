#include "model/kho/memfd.hpp"

#include <algorithm>

#include "model/kho/kernel.hpp"

namespace khospec::model {

std::uint64_t fnv1a(std::span<const std::uint8_t> bytes) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  return h;
}

int MemfdTable::create(bool allow_sealing) {
  Memfd m;
  // memfd_create() without MFD_ALLOW_SEALING: F_SEAL_SEAL (mm/memfd.c).
  if (!allow_sealing) m.seals = F_SEAL_SEAL;
  return adopt(std::move(m));
}

int MemfdTable::adopt(Memfd m) {
  const int fd = k_.alloc_fd();
  files_[fd] = std::move(m);
  return fd;
}

Memfd* MemfdTable::get(int fd) {
  auto it = files_.find(fd);
  return it == files_.end() ? nullptr : &it->second;
}

const Memfd* MemfdTable::get(int fd) const {
  auto it = files_.find(fd);
  return it == files_.end() ? nullptr : &it->second;
}

int MemfdTable::truncate(int fd, std::uint64_t size) {
  Memfd* m = get(fd);
  if (!m) return K_EBADF;
  if (m->frozen) return K_EPERM;
  if ((size < m->size && (m->seals & F_SEAL_SHRINK)) || (size > m->size && (m->seals & F_SEAL_GROW))) return K_EPERM;
  const std::uint64_t keep = (size + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K;
  for (auto it = m->pages.lower_bound(keep); it != m->pages.end();) {
    k_.free_pages(it->second, 0);
    it = m->pages.erase(it);
  }
  m->size = size;
  return 0;
}

int MemfdTable::write(int fd, std::uint64_t offset, std::span<const std::uint8_t> bytes) {
  Memfd* m = get(fd);
  if (!m) return K_EBADF;
  if (m->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) return K_EPERM;
  const std::uint64_t end = offset + bytes.size();
  if (end > m->size && (m->frozen || (m->seals & F_SEAL_GROW))) return K_EPERM;
  for (std::uint64_t at = offset; at < end;) {
    const std::uint64_t idx = at / PAGE_SIZE_4K;
    auto it = m->pages.find(idx);
    if (it == m->pages.end()) {
      // shmem_get_folio(): a new folio, zeroed.
      const phys_addr_t p = k_.alloc_pages(0);
      if (!p) return K_ENOMEM;
      it = m->pages.emplace(idx, p).first;
    }
    const std::uint64_t off = at % PAGE_SIZE_4K;
    const std::uint64_t n = std::min(PAGE_SIZE_4K - off, end - at);
    k_.image().write(it->second + off, bytes.subspan(at - offset, n));
    at += n;
  }
  m->size = std::max(m->size, end);
  return 0;
}

std::optional<std::vector<std::uint8_t>> MemfdTable::read(int fd, std::uint64_t offset, std::uint64_t len) const {
  const Memfd* m = get(fd);
  if (!m) return std::nullopt;
  auto all = content(*m);
  if (offset >= all.size()) return std::vector<std::uint8_t>{};
  const auto first = all.begin() + static_cast<std::ptrdiff_t>(offset);
  return std::vector<std::uint8_t>(first, first + static_cast<std::ptrdiff_t>(std::min(len, all.size() - offset)));
}

int MemfdTable::seek(int fd, std::uint64_t pos) {
  Memfd* m = get(fd);
  if (!m) return K_EBADF;
  m->pos = pos;
  return 0;
}

int MemfdTable::add_seals(int fd, std::uint32_t seals) {
  Memfd* m = get(fd);
  if (!m) return K_EBADF;
  if (seals & ~(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC))
    return K_EINVAL;
  if (m->seals & F_SEAL_SEAL) return K_EPERM;
  m->seals |= seals;
  return 0;
}

std::vector<std::uint8_t> MemfdTable::content(const Memfd& m) const {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(m.size), 0);
  for (const auto& [idx, phys] : m.pages) {
    const std::uint64_t at = idx * PAGE_SIZE_4K;
    if (at >= m.size) continue;
    const std::uint64_t n = std::min(PAGE_SIZE_4K, m.size - at);
    auto page = k_.image().read(phys, static_cast<std::size_t>(n));
    std::copy(page.begin(), page.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
  }
  return out;
}

}  // namespace khospec::model
