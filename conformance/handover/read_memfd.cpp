// memfd-v1 / memfd-v2: include/linux/kho/abi/memfd.h, mm/memfd_luo.c
// memfd_luo_retrieve() and memfd_luo_retrieve_folios(), 7.3 (memfd-v1: 6.19 -
// 7.0). luo_file_ser.data points at the memfd_luo_ser from kho_alloc_preserve();
// its folios are a kho_vmalloc array of nr_folios memfd_luo_folio_ser. The
// writer (memfd_luo_preserve_folios()) pins every page of the file, so the
// array holds one entry per folio, in index order, all below the size; each
// folio is preserved with kho_preserve_folio() and comes back with
// kho_restore_folio() at the order the map gives it.
#include <map>

#include "conformance/handover/readers.hpp"

namespace khospec::conformance::follow {

namespace {

constexpr std::uint64_t kKnownFolioFlags = 0x3;  // MEMFD_LUO_FOLIO_DIRTY | MEMFD_LUO_FOLIO_UPTODATE

}  // namespace

void read_memfd(Walk& w, HandoverNode& file, const registry::ClientFormat& f, std::uint64_t data) {
  const std::string path = file.path + " -> memfd";
  const registry::ClientIdentity& id = registry::identity(f);
  const Layout& l = layout(id.layout);
  HandoverNode node = make_node("memfd", "memfd", path, data, l.size);
  node.format = f.label();
  if (data == 0) {
    w.add("kho_memfd_invalid", path, "luo_file_ser.data is 0: memfd_luo_retrieve() returns -EINVAL");
    w.keep(file, std::move(node));
    return;
  }
  w.require(node, data, l.size, Claim::folio, std::nullopt, "kho_restore_free() in memfd_luo_retrieve()");
  auto bytes = w.read(path, data, l.size, "memfd_luo_ser");
  if (!bytes) {
    w.keep(file, std::move(node));
    return;
  }
  const Struct s(l, *bytes, w.endian());
  const bool v2 = id.seals != 0;
  const std::uint64_t pos = s.u("pos"), size = s.u("size"), nr = s.u("nr_folios");
  add_field(node, "pos", pos, false);
  add_field(node, "size", size);
  if (v2) {
    add_field(node, "seals", s.u("seals"));
    add_field(node, "flags", s.u("flags"));
  }
  add_field(node, "nr_folios", nr, false);
  const std::uint64_t vm_off = s.offset("folios");
  const Vmalloc v = vmalloc_desc(std::span(*bytes).subspan(vm_off, std::min<std::uint64_t>(16, bytes->size() - vm_off)),
                                 w.endian());
  if (v2 && (s.u("seals") & ~std::uint64_t{id.seals}))
    w.add("kho_memfd_invalid", path,
          "seals " + hex(s.u("seals")) + " outside " + f.label() + "'s MEMFD_LUO_ALL_SEALS " + hex(id.seals) +
              ": memfd_luo_retrieve() returns -EOPNOTSUPP and the file cannot be retrieved");
  if (v2 && s.u("flags") != 0)
    w.add("kho_memfd_unexpected", path,
          "flags " + hex(s.u("flags")) + ": no flag is defined (unused bits must be 0); this reader ignores them");
  if (pos > size)
    w.add("kho_memfd_unexpected", path,
          "pos " + dec(pos) + " lies beyond size " + dec(size) + " (legal after lseek(); restored as is by vfs_setpos())");
  const Layout& fl = layout("memfd_luo_folio_ser");
  const std::uint64_t entry = fl.size ? fl.size : 16;
  const std::uint64_t file_pages = size / kPageSize + (size % kPageSize ? 1 : 0);
  if (nr == 0) {
    if (v.first != 0 || v.total_pages != 0)
      w.add("kho_memfd_invalid", path,
            "nr_folios is 0 but a folio array is preserved (first " + hex(v.first) +
                "): memfd_luo_retrieve() never restores nor frees it, and the folios it lists leak");
    else if (size != 0)
      w.add("kho_memfd_invalid", path,
            "size " + hex(size) + " but no folios: memfd_luo_preserve_folios() pins every page of a non-empty file, "
            "so its contents are lost (the next kernel reads zeros)");
    w.keep(file, std::move(node));
    return;
  }
  const std::uint64_t cap = v.total_pages * kPageSize / entry;
  if (nr > cap) {
    w.add("kho_memfd_invalid", path,
          "nr_folios " + dec(nr) + " but the folio array (" + dec(v.total_pages) + " pages) holds " + dec(cap) +
              " entries: memfd_luo_retrieve_folios() reads past it");
    read_vmalloc(w, node, v, path + " folios", 0, "memfd_luo_retrieve()");
    w.keep(file, std::move(node));
    return;
  }
  const std::uint64_t want_pages = (nr * entry + kPageSize - 1) / kPageSize;
  if (v.total_pages != want_pages)
    w.add("kho_memfd_invalid", path,
          "the folio array is " + dec(v.total_pages) + " pages, but " + dec(nr) + " entries need " + dec(want_pages) +
              " (vcalloc(nr_folios)): the folios listed after entry " + dec(nr) + " are never restored and leak");
  auto arr = read_vmalloc(w, node, v, path + " folios", nr * entry, "memfd_luo_retrieve()");
  if (!arr) {
    w.keep(file, std::move(node));
    return;
  }
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> taken;  // first index -> (end, entry)
  std::uint64_t prev_index = 0;
  for (std::uint64_t i = 0; i < nr; ++i) {
    const std::string fpath = path + " folio " + dec(i);
    if (!w.spend(1, fpath)) break;
    const Struct e(fl, std::span(*arr).subspan(i * entry, entry), w.endian());
    const std::uint64_t pfn = e.u("pfn"), flags = e.u("flags"), index = e.u("index");
    const std::uint64_t phys = pfn << kPageShift;
    HandoverNode fn = make_node("folio", dec(i), fpath, phys, kPageSize);
    add_field(fn, "index", index, false);
    add_field(fn, "pfn", pfn);
    add_field(fn, "flags", flags);
    if (pfn == 0) {
      w.add("kho_memfd_unexpected", fpath, "pfn 0: memfd_luo_retrieve_folios() skips the entry, leaving a hole");
      w.keep(node, std::move(fn));
      continue;
    }
    if (flags & ~kKnownFolioFlags)
      w.add("kho_memfd_unexpected", fpath, "flags " + hex(flags) + " has bits no kernel defines; they are ignored");
    w.require(fn, phys, kPageSize, Claim::folio, std::nullopt, "kho_restore_folio() in memfd_luo_retrieve_folios()");
    const std::uint64_t npages = std::uint64_t{1} << fn.order.value_or(0);
    fn.size = npages * kPageSize;
    const std::uint64_t end = index + npages < index ? ~std::uint64_t{0} : index + npages;
    if (end > file_pages)
      w.add("kho_memfd_invalid", fpath,
            "index " + dec(index) + (npages > 1 ? " (+" + dec(npages) + " pages)" : std::string()) +
                " lies beyond the file's " + dec(file_pages) +
                " pages (size " + hex(size) + "): its data sits past EOF and is lost");
    auto next = taken.lower_bound(index);
    const bool overlaps = (next != taken.end() && next->first < end) ||
                          (next != taken.begin() && std::prev(next)->second.first > index);
    if (overlaps) {
      const std::uint64_t other = (next != taken.end() && next->first < end) ? next->second.second : std::prev(next)->second.second;
      w.add("kho_memfd_invalid", fpath,
            "index " + dec(index) + " overlaps folio " + dec(other) +
                ": shmem_add_to_page_cache() fails and memfd_luo_retrieve() returns the error");
    } else {
      if (i > 0 && index < prev_index)
        w.add("kho_memfd_unexpected", fpath,
              "index " + dec(index) + " follows index " + dec(prev_index) +
                  ": memfd_luo_preserve_folios() lists folios in index order (this reader does not mind)");
      taken.emplace(index, std::pair{end, i});
    }
    prev_index = index;
    w.keep(node, std::move(fn));
  }
  w.keep(file, std::move(node));
}

}  // namespace khospec::conformance::follow
