// mm/memfd_luo.c as the model runs it (6.19 memfd-v1, 7.1 memfd-v2 with
// seals; 7.3 read for the details). docs/kernel-behaviour.md §9.
#include "model/kho/memfd_luo.hpp"

#include <algorithm>
#include <set>

#include "core/parse.hpp"
#include "model/kho/kernel.hpp"
#include "model/kho/memfd.hpp"

namespace khospec::model {

namespace {

constexpr std::uint32_t MEMFD_LUO_ALL_SEALS =
    F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;

// "mm: memfd_luo: always dirty all folios" and "... always make all folios
// uptodate" went to mm-hotfixes in the 7.0-rc cycle (Cc stable): from 7.0
// every entry says DIRTY | UPTODATE (the 7.3 capture shows 0x3 for a hole
// too). 6.19 saved the folio's state: a written page is dirty and uptodate,
// a hole that memfd_pin_folios() filled is uptodate (zeroed) but clean.
bool flags_constant(const Kernel& k) { return registry::compare_versions(k.release().version, "7.0") >= 0; }

// The folio array as vcalloc() lays it out: nr entries of 16 bytes over
// whole pages.
std::uint64_t array_pages_for(std::uint64_t nr) { return (nr * MEMFD_FOLIO_SER_SIZE + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K; }

// The chunk pages of a kho_vmalloc chain, read from the image (bounded).
std::vector<phys_addr_t> vmalloc_chunks(const PhysImage& image, const KhoVmalloc& v) {
  std::vector<phys_addr_t> out;
  std::set<phys_addr_t> seen;
  for (phys_addr_t c = v.first; c && seen.insert(c).second && out.size() < KHO_MAX_BLOCKS; c = image.read_u64(c))
    out.push_back(c);
  return out;
}

// kho_unpreserve_vmalloc(): the chunk pages and the data pages lose their
// preservation; the chunks are freed.
void unpreserve_vmalloc(Kernel& k, const KhoVmalloc& v, const std::vector<phys_addr_t>& data) {
  for (phys_addr_t c : vmalloc_chunks(k.image(), v)) {
    k.kho_unpreserve_folio(c, 0);
    k.free_pages(c, 0);
  }
  for (phys_addr_t p : data) k.kho_unpreserve_pages(p, std::uint64_t{1} << v.order);
}

// kho_restore_vmalloc(): each data block restored (kho_restore_pages), each
// chunk page restored and freed; the pages of the area, or nullopt.
std::optional<std::vector<phys_addr_t>> restore_vmalloc(Kernel& k, const KhoVmalloc& v) {
  auto data = kho_vmalloc_read(k.image(), v, nullptr);
  if (!data) return std::nullopt;
  const auto chunks = vmalloc_chunks(k.image(), v);
  for (phys_addr_t p : *data)
    if (!k.kho_restore_pages(p, std::uint64_t{1} << v.order)) return std::nullopt;
  for (phys_addr_t c : chunks) {
    if (!k.kho_restore_pages(c, 1)) return std::nullopt;
    k.free_pages(c, 0);
  }
  return data;
}

std::vector<MemfdFolioSer> read_entries(const PhysImage& image, const std::vector<phys_addr_t>& pages, std::uint64_t nr) {
  std::vector<MemfdFolioSer> out;
  for (std::uint64_t i = 0; i < nr; ++i) {
    const std::uint64_t byte = i * MEMFD_FOLIO_SER_SIZE;
    if (byte / PAGE_SIZE_4K >= pages.size()) break;
    auto b = image.read(pages[byte / PAGE_SIZE_4K] + byte % PAGE_SIZE_4K, MEMFD_FOLIO_SER_SIZE);
    out.push_back(decode_memfd_folio(std::span<const std::uint8_t, 16>(b.data(), 16)));
  }
  return out;
}

}  // namespace

int MemfdLuoHandler::preserve(Kernel& k, int fd, MemfdLuoPreserved* out) const {
  Memfd* m = k.memfds().get(fd);
  if (!m) return K_EBADF;
  m->frozen = true;  // shmem_freeze(inode, true)
  const std::int64_t ser = k.kho_alloc_preserve(memfd_luo_ser_size(v2));
  if (ser < 0) {
    m->frozen = false;
    return static_cast<int>(ser);
  }
  auto fail = [&](int err) {
    k.kho_unpreserve_free(static_cast<phys_addr_t>(ser), memfd_luo_ser_size(v2));
    m->frozen = false;
    return err;
  };
  // memfd-v2 refuses seals it does not know; 7.3 also files whose page
  // count overflows memfd_pin_folios()'s unsigned int.
  if (v2 && (m->seals & ~MEMFD_LUO_ALL_SEALS)) return fail(K_EOPNOTSUPP);
  const std::uint64_t npages = (m->size + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K;
  if (npages > UINT32_MAX) return fail(K_EFBIG);

  MemfdLuoSer s;
  s.pos = m->pos;
  s.size = m->size;
  if (v2) s.seals = m->seals;
  std::vector<phys_addr_t> array;
  if (npages) {
    // memfd_luo_preserve_folios(): memfd_pin_folios() gives every index a
    // folio (a hole gets a new zeroed one), each is preserved in index order.
    std::vector<MemfdFolioSer> entries;
    std::vector<phys_addr_t> done;
    auto undo = [&](int err) {
      for (auto it = done.rbegin(); it != done.rend(); ++it) k.kho_unpreserve_folio(*it, 0);
      return fail(err);
    };
    for (std::uint64_t idx = 0; idx < npages; ++idx) {
      bool hole = false;
      auto it = m->pages.find(idx);
      if (it == m->pages.end()) {
        const phys_addr_t p = k.alloc_pages(0);
        if (!p) return undo(K_ENOMEM);
        it = m->pages.emplace(idx, p).first;
        hole = true;
      }
      if (int e = k.kho_preserve_folio(it->second, 0)) return undo(e);
      done.push_back(it->second);
      std::uint16_t flags = MEMFD_LUO_FOLIO_DIRTY | MEMFD_LUO_FOLIO_UPTODATE;
      if (!flags_constant(k) && hole) flags = MEMFD_LUO_FOLIO_UPTODATE;
      entries.push_back({it->second / PAGE_SIZE_4K, flags, idx});
    }
    // vcalloc(nr_folios, 16): zeroed pages, then kho_preserve_vmalloc().
    for (std::uint64_t i = 0; i < array_pages_for(npages); ++i) {
      const phys_addr_t p = k.alloc_pages(0);
      if (!p) {
        for (phys_addr_t q : array) k.free_pages(q, 0);
        return undo(K_ENOMEM);
      }
      array.push_back(p);
    }
    for (std::uint64_t i = 0; i < entries.size(); ++i) {
      const std::uint64_t byte = i * MEMFD_FOLIO_SER_SIZE;
      k.image().write(array[byte / PAGE_SIZE_4K] + byte % PAGE_SIZE_4K, encode_memfd_folio(entries[i]));
    }
    if (int e = k.kho_preserve_vmalloc(array, 0, KHO_VMALLOC_ALLOC, &s.folios)) {
      for (phys_addr_t q : array) k.free_pages(q, 0);
      return undo(e);
    }
  }
  s.nr_folios = npages;
  k.image().write(static_cast<phys_addr_t>(ser), encode_memfd_luo_ser(s, v2));
  out->ser = static_cast<phys_addr_t>(ser);
  out->folio_array = std::move(array);
  return 0;
}

int MemfdLuoHandler::freeze(Kernel& k, int fd, const MemfdLuoPreserved& p) const {
  const Memfd* m = k.memfds().get(fd);
  if (!m || !p.ser) return K_EINVAL;
  k.image().write_u64(p.ser, m->pos);  // ser->pos = file->f_pos
  return 0;
}

void MemfdLuoHandler::unpreserve(Kernel& k, int fd, const MemfdLuoPreserved& p) const {
  Memfd* m = k.memfds().get(fd);
  if (!p.ser) return;
  auto b = k.image().read(p.ser, static_cast<std::size_t>(memfd_luo_ser_size(v2)));
  const MemfdLuoSer s = decode_memfd_luo_ser(b, v2);
  if (s.nr_folios) {
    const auto entries = read_entries(k.image(), p.folio_array, s.nr_folios);
    unpreserve_vmalloc(k, s.folios, p.folio_array);
    for (const auto& e : entries)
      if (e.pfn) k.kho_unpreserve_folio(e.pfn * PAGE_SIZE_4K, 0);
    for (phys_addr_t q : p.folio_array) k.free_pages(q, 0);  // vfree(folios_ser)
  }
  k.kho_unpreserve_free(p.ser, memfd_luo_ser_size(v2));
  if (m) m->frozen = false;  // shmem_freeze(inode, false)
}

int MemfdLuoHandler::retrieve(Kernel& k, phys_addr_t ser) const {
  if (!ser) return K_EINVAL;
  auto b = k.image().read(ser, static_cast<std::size_t>(memfd_luo_ser_size(v2)));
  const MemfdLuoSer s = decode_memfd_luo_ser(b, v2);
  auto done = [&](int err) {
    k.kho_restore_free(ser);
    return err;
  };
  if (v2 && (s.seals & ~MEMFD_LUO_ALL_SEALS)) return done(K_EOPNOTSUPP);
  // memfd_alloc_file(): v2 allows sealing and re-adds the preserved seals;
  // v1 files come back with F_SEAL_SEAL only (seals not preserved).
  Memfd m;
  m.seals = v2 ? s.seals : F_SEAL_SEAL;
  m.pos = s.pos;
  m.size = s.size;
  if (s.nr_folios) {
    auto array = restore_vmalloc(k, s.folios);
    if (!array) return done(K_EINVAL);
    const auto entries = read_entries(k.image(), *array, s.nr_folios);
    int err = 0;
    for (const auto& e : entries) {
      if (!e.pfn) continue;
      unsigned order = 0;
      // memfd_luo_retrieve_folios(): a folio that does not restore fails
      // the retrieve with -EIO; the ones after it are restored and dropped.
      const phys_addr_t phys = e.pfn * PAGE_SIZE_4K;
      const bool ok = k.kho_restore_folio(phys, &order);
      if (err) {
        if (ok) k.free_pages(phys, order);
        continue;
      }
      if (!ok) {
        k.log("memfd_luo: Unable to restore folio at physical address: " + hex(phys));
        err = K_EIO;
        continue;
      }
      m.pages[e.index] = phys;
    }
    for (phys_addr_t q : *array) k.free_pages(q, 0);  // vfree(folios_ser)
    if (err) {
      for (const auto& [idx, phys] : m.pages) k.free_pages(phys, 0);  // fput(file)
      return done(err);
    }
  }
  return done(k.memfds().adopt(std::move(m)));
}

void MemfdLuoHandler::finish(Kernel& k, phys_addr_t ser, int retrieve_status) const {
  // Retrieved (or a failed retrieve that cleaned up): nothing to do.
  if (retrieve_status || !ser) return;
  auto b = k.image().read(ser, static_cast<std::size_t>(memfd_luo_ser_size(v2)));
  const MemfdLuoSer s = decode_memfd_luo_ser(b, v2);
  if (s.nr_folios) {
    if (auto array = restore_vmalloc(k, s.folios)) {
      // memfd_luo_discard_folios(): restore and put every folio.
      for (const auto& e : read_entries(k.image(), *array, s.nr_folios)) {
        unsigned order = 0;
        if (e.pfn && k.kho_restore_folio(e.pfn * PAGE_SIZE_4K, &order)) k.free_pages(e.pfn * PAGE_SIZE_4K, order);
      }
      for (phys_addr_t q : *array) k.free_pages(q, 0);
    }
  }
  k.kho_restore_free(ser);
}

std::vector<std::pair<phys_addr_t, std::uint64_t>> memfd_luo_structures(const PhysImage& image, phys_addr_t ser,
                                                                        bool v2, std::vector<std::string>* issues) {
  std::vector<std::pair<phys_addr_t, std::uint64_t>> out;
  out.emplace_back(ser, memfd_luo_ser_size(v2));
  auto b = image.read(ser, static_cast<std::size_t>(memfd_luo_ser_size(v2)));
  const MemfdLuoSer s = decode_memfd_luo_ser(b, v2);
  if (!s.nr_folios) return out;
  for (phys_addr_t c : vmalloc_chunks(image, s.folios)) out.emplace_back(c, PAGE_SIZE_4K);
  std::vector<DecodeIssue> why;
  auto data = kho_vmalloc_read(image, s.folios, &why);
  if (!data) {
    if (issues)
      for (const auto& w : why) issues->push_back("memfd_luo_ser at " + hex(ser) + ": " + w.what);
    return out;
  }
  for (phys_addr_t p : *data) out.emplace_back(p, PAGE_SIZE_4K << s.folios.order);
  for (const auto& e : read_entries(image, *data, s.nr_folios))
    if (e.pfn) out.emplace_back(e.pfn * PAGE_SIZE_4K, PAGE_SIZE_4K);
  return out;
}

std::vector<std::string> memfd_luo_entry_violations(const PhysImage& image, phys_addr_t ser, bool v2) {
  std::vector<std::string> out;
  auto b = image.read(ser, static_cast<std::size_t>(memfd_luo_ser_size(v2)));
  const MemfdLuoSer s = decode_memfd_luo_ser(b, v2);
  const std::string at = "memfd_luo_ser at " + hex(ser);
  const std::uint64_t pages = (s.size + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K;
  // A folio covers at least one index: never more folios than pages.
  if (s.nr_folios > pages)
    out.push_back(at + ": nr_folios " + std::to_string(s.nr_folios) + " for " + std::to_string(pages) + " pages of size " +
                  hex(s.size));
  if (!s.nr_folios) return out;
  auto data = kho_vmalloc_read(image, s.folios, nullptr);
  if (!data) return out;  // the vmalloc area is INV_LUO_SERIALIZED_PRESERVED's
  const auto entries = read_entries(image, *data, s.nr_folios);
  if (entries.size() != s.nr_folios)
    out.push_back(at + ": the folio array holds " + std::to_string(entries.size()) + " entries, not nr_folios " +
                  std::to_string(s.nr_folios));
  constexpr std::uint16_t known = MEMFD_LUO_FOLIO_DIRTY | MEMFD_LUO_FOLIO_UPTODATE;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const MemfdFolioSer& e = entries[i];
    const std::string f = at + ": folio " + std::to_string(i);
    if (!e.pfn) out.push_back(f + ": pfn 0");
    if (e.flags & ~known) out.push_back(f + ": flags " + hex(e.flags) + " outside DIRTY | UPTODATE");
    if (e.index >= pages) out.push_back(f + ": index " + std::to_string(e.index) + " not below " + std::to_string(pages));
    if (i && e.index <= entries[i - 1].index)
      out.push_back(f + ": index " + std::to_string(e.index) + " after " + std::to_string(entries[i - 1].index));
  }
  return out;
}

}  // namespace khospec::model
