// The incoming side of a hand-over, in the kernel that was kexec'd:
// kho_populate(), the scratch release, deserialization of the preserved-memory
// map, subtree retrieval and restore. Everything here is read from bytes in
// the physical image.
#include "model/kho/kernel.hpp"

#include <algorithm>

extern "C" {
#include <libfdt.h>
}

#include "core/parse.hpp"
#include "fdt/decode.hpp"
#include "model/kho/kernel_internal.hpp"

namespace khospec::model {

using namespace kernel_detail;

void Kernel::kho_populate(const KhoBootData& d) {
  // kernel/kexec_handover.c kho_populate() (6.16), with the 6.19 map check.
  int err = 0;
  std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(d.fdt_size, 1u << 20));
  ImageFdt f(image(), d.fdt_addr, std::max<std::size_t>(len, 64));
  std::vector<ScratchArea> areas;
  if (d.fdt_size < 40 || fdt_check_header(f.fdt()) != 0 ||
      (fdt_totalsize(f.fdt()) > len)) {
    log("KHO: setup: handover FDT (" + hex(d.fdt_addr) + ") is invalid: " +
        std::to_string(d.fdt_size < 40 ? -FDT_ERR_TRUNCATED : fdt_check_header(f.fdt())));
    err = K_EINVAL;
  } else if (int c = fdt_node_check_compatible(f.fdt(), 0, std::string(era_.compatible).c_str()); c != 0) {
    log("KHO: setup: handover FDT (" + hex(d.fdt_addr) + ") is incompatible with '" +
        std::string(era_.compatible) + "': " + std::to_string(c));
    err = K_EINVAL;
  } else if (era_.populate_needs_map) {
    int plen = 0;
    const auto* p = static_cast<const std::uint8_t*>(fdt_getprop(f.fdt(), 0, "preserved-memory-map", &plen));
    if (!p || plen != 8 || fdt::load_u64(p, fdt::Endian::little) == 0) err = K_ENOENT;
  }
  if (!err) {
    areas = decode_scratch_array(image().read(d.scratch_addr, static_cast<std::size_t>(d.scratch_size)));
    for (const auto& a : areas) {
      mb_.memblock_add(a.addr, a.size);
      int e = mb_.memblock_mark_kho_scratch(a.addr, a.size);
      if (e) {
        log("KHO: failed to mark the scratch region " + hex(a.addr) + "+" + hex(a.size) + ": " +
            std::to_string(e));
        err = e;
        break;
      }
    }
  }
  if (err) {
    log("KHO: disabling KHO revival: " + std::to_string(err));
    note("kho_populate: revival disabled (" + std::to_string(err) + ")");
    return;
  }
  mb_.memblock_reserve(d.scratch_addr, d.scratch_size);
  mb_.memblock_set_kho_scratch_only();
  kho_in_fdt_ = d.fdt_addr;
  kho_in_scratch_ = d.scratch_addr;
  scratch_ = areas;
  scratch_array_phys_ = d.scratch_addr;
  phase_ = BootPhase::populated;
  log("KHO: " + std::string(era_.populate_ok_msg));
  note("kho_populate: FDT " + hex(d.fdt_addr) + ", " + std::to_string(areas.size()) +
       " scratch areas, scratch-only on");
  check_invariants();
}

void Kernel::kho_release_scratch() {
  // kho_release_scratch(): every KHO_SCRATCH memory range becomes
  // MIGRATE_CMA, rounded outward to pageblocks (docs/kernel-behaviour.md §3).
  const std::uint64_t pb_pages = PAGEBLOCK_BYTES / PAGE_SIZE_4K;
  for (const auto& r : mb_.memory().regions) {
    if (!(r.flags & MEMBLOCK_KHO_SCRATCH)) continue;
    std::uint64_t start = r.base / PAGE_SIZE_4K / pb_pages * pb_pages;
    std::uint64_t end = (r.end() + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K;
    end = (end + pb_pages - 1) / pb_pages * pb_pages;
    for (std::uint64_t pfn = start; pfn < end; pfn += pb_pages) cma_pageblocks_.insert(pfn);
  }
}

void Kernel::kho_mem_deserialize_in() {
  ImageFdt f(image(), kho_in_fdt_, PAGE_SIZE_4K);
  int len = 0;
  const auto* p = static_cast<const std::uint8_t*>(fdt_getprop(f.fdt(), 0, "preserved-memory-map", &len));
  if (!p || len != 8) {
    log(era_.mem_map == MemMapFormat::radix ? "KHO: failed to get preserved KHO memory tree"
                                           : "KHO: failed to get preserved memory bitmaps");
    if (era_.mem_map == MemMapFormat::radix) kho_in_fdt_ = 0;  // kho_mem_retrieve(): withdraw
    return;
  }
  phys_addr_t map = fdt::load_u64(p, fdt::Endian::little);
  std::vector<DecodeIssue> issues;
  incoming_ = kho_mem_deserialize(image(), era_.mem_map, map, &issues);
  for (const auto& i : issues)
    finding("INV_KHO_MAP_DECODES", "error", "memory map at " + hex(i.at) + ": " + i.what);
  int failed = 0;
  for (const auto& b : incoming_) {
    // deserialize_bitmap() / kho_preserved_memory_reserve(): the return
    // values of both memblock calls are ignored (docs/kernel-behaviour.md §6).
    int r1 = mb_.memblock_reserve(b.phys, block_bytes(b.order));
    int r2 = mb_.memblock_reserved_mark_noinit(b.phys, block_bytes(b.order));
    if (r1 || r2) ++failed;
    std::uint64_t pfn = b.phys / PAGE_SIZE_4K;
    page_private_[pfn] = era_.page_magic ? (std::uint64_t{KHO_PAGE_MAGIC} << 32) | b.order : b.order;
  }
  if (failed)
    finding("INV_KHO_PRESERVED_RESERVED", "error",
            std::to_string(failed) + " preserved block(s) could not be memblock-reserved (the kernel ignores "
            "the error; the memory is unprotected)");
  note("kho_mem_deserialize: " + std::to_string(incoming_.size()) + " preserved blocks reserved (map " +
       hex(map) + ")");
}

// ------------------------------------------------------------ restore ----

int Kernel::kho_retrieve_subtree(const std::string& name, phys_addr_t* phys, std::uint64_t* size) const {
  if (!kho_in_fdt_) return K_ENOENT;
  ImageFdt f(image(), kho_in_fdt_, PAGE_SIZE_4K);
  int off = fdt_subnode_offset(f.fdt(), 0, name.c_str());
  if (off < 0) return K_ENOENT;
  int len = 0;
  const auto* v = static_cast<const std::uint8_t*>(
      fdt_getprop(f.fdt(), off, std::string(era_.subtree_prop).c_str(), &len));
  if (!v || len != 8) return K_EINVAL;
  *phys = fdt::load_u64(v, fdt::Endian::little);
  if (era_.blob_size) {
    const auto* s = static_cast<const std::uint8_t*>(fdt_getprop(f.fdt(), off, "blob-size", &len));
    if (!s || len != 8) return K_EINVAL;
    if (size) *size = fdt::load_u64(s, fdt::Endian::little);
  }
  return 0;
}

bool Kernel::kho_restore_folio(phys_addr_t phys, unsigned* order_out) {
  std::uint64_t pfn = phys / PAGE_SIZE_4K;
  bool online = false;
  for (const auto& r : board_.config().ram)
    if (phys >= r.base && phys < r.base + r.size) online = true;
  if (!online) return false;
  auto it = page_private_.find(pfn);
  std::uint64_t priv = it == page_private_.end() ? 0 : it->second;
  unsigned order = static_cast<unsigned>(priv & 0xffffffffu);
  if (era_.page_magic) {
    // 6.18: WARN_ON_ONCE(magic != KHOP || order > MAX_PAGE_ORDER).
    if ((priv >> 32) != KHO_PAGE_MAGIC || order > MAX_PAGE_ORDER) {
      log("KHO: WARNING: kho_restore_page(" + hex(phys) + "): bad magic or order");
      return false;
    }
    // kho_restore_page() (6.18+) clears page->private after a successful
    // restore, so that a later restore of the same page fails.
    if (era_.restore_once) page_private_.erase(pfn);
  } else {
    if (order > MAX_PAGE_ORDER) return false;
    if (it == page_private_.end()) {
      bool preserved = std::any_of(incoming_.begin(), incoming_.end(),
                                   [&](const PreservedBlock& b) { return b.phys == phys; });
      if (!preserved)
        finding("HAZARD_RESTORE_UNPRESERVED", "warning",
                "6.16 kho_restore_folio(" + hex(phys) + ") has no magic check: a page that was never "
                "preserved restores as an order-0 folio");
    }
  }
  // INV_RESTORE_ONCE (6.18+): a page restored before must not restore again.
  const bool again = !restored_.insert(pfn).second;
  // What the block held when its new owner got it (Machine::check_handover()).
  if (!again) restored_digest_[pfn] = image_digest(image(), phys, block_bytes(order));
  if (era_.restore_once && again)
    finding("INV_RESTORE_ONCE", "error", "page at " + hex(phys) + " restored a second time");
  if (order_out) *order_out = order;
  return true;
}

bool Kernel::kho_restore_free(phys_addr_t phys) {
  unsigned order = 0;
  if (!kho_restore_folio(phys, &order)) {
    log("KHO: WARNING: kho_restore_free(" + hex(phys) + "): no folio");  // WARN_ON(!folio)
    return false;
  }
  free_pages(phys, order);
  return true;
}

bool Kernel::kho_is_preserved(phys_addr_t phys, std::uint64_t nr) const {
  for (std::uint64_t i = 0; i < nr; ++i) {
    const phys_addr_t a = phys + i * PAGE_SIZE_4K;
    const bool in = std::any_of(incoming_.begin(), incoming_.end(), [&](const PreservedBlock& b) {
      return a >= b.phys && a < b.phys + block_bytes(b.order);
    });
    if (!in) return false;
  }
  return true;
}

bool Kernel::kho_restore_pages(phys_addr_t phys, std::uint64_t nr) {
  for (const auto& b : kho_split_range(phys / PAGE_SIZE_4K, nr)) {
    unsigned o = 0;
    if (!kho_restore_folio(b.phys, &o) || o != b.order) return false;
  }
  return true;
}

}  // namespace khospec::model
