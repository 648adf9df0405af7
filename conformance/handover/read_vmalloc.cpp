// struct kho_vmalloc: kernel/liveupdate/kexec_handover.c kho_restore_vmalloc(),
// 7.3 (6.18+). A list of chunk pages (restored with kho_restore_pages(chunk, 1));
// each lists blocks of 2^order pages (kho_restore_pages(phys, 1 << order)) up to
// a 0 entry or the end of the chunk. The restore fails on unknown flags, on
// blocks beyond total_pages, and when the blocks do not add up to total_pages.
#include <set>

#include "conformance/handover/readers.hpp"

namespace khospec::conformance::follow {

namespace {

constexpr std::uint64_t kKnownFlags = 0x3;  // KHO_VMALLOC_ALLOC | KHO_VMALLOC_HUGE_VMAP

}  // namespace

Vmalloc vmalloc_desc(std::span<const std::uint8_t> bytes16, fdt::Endian e) {
  const Struct s(layout("kho_vmalloc"), bytes16, e);
  return {s.u("first"), s.u("total_pages"), s.u("flags"), s.u("order")};
}

std::optional<std::vector<std::uint8_t>> read_vmalloc(Walk& w, HandoverNode& parent, const Vmalloc& v,
                                                      const std::string& path, std::uint64_t need,
                                                      std::string_view user) {
  const std::string vpath = path + " (kho_vmalloc)";
  HandoverNode node = make_node("vmalloc", "kho_vmalloc", vpath);
  node.format = "kho_vmalloc";
  add_field(node, "first", v.first);
  add_field(node, "total_pages", v.total_pages, false);
  add_field(node, "flags", v.flags);
  add_field(node, "order", v.order, false);
  const std::string fails = std::string(user) + " gets no data";
  auto invalid = [&](std::string at, std::string msg) {
    w.add("kho_vmalloc_invalid", at, msg + ": kho_restore_vmalloc() returns NULL and " + fails);
    w.keep(parent, std::move(node));
    return std::nullopt;
  };
  if (v.flags & ~kKnownFlags) return invalid(vpath, "flags " + hex(v.flags) + " has bits no kernel defines");
  if (v.order > kMaxPageOrder + 8) return invalid(vpath, "order " + dec(v.order) + " is no page order");
  if (v.total_pages == 0) return invalid(vpath, "total_pages is 0 (an empty area)");
  const Layout& cl = layout("kho_vmalloc_chunk");
  const Struct chunk_view(cl, {}, w.endian());
  const std::uint64_t entries_off = chunk_view.offset("phys");
  const std::uint64_t per_chunk = chunk_view.field_size("phys") / 8;  // KHO_VMALLOC_SIZE
  const std::uint64_t contig = std::uint64_t{1} << v.order;
  const std::uint64_t block_bytes = kPageSize << v.order;
  std::vector<std::uint8_t> data;
  std::set<std::uint64_t> seen;
  std::uint64_t pages = 0;
  bool have_bytes = true, stopped = false;
  for (std::uint64_t chunk = v.first; chunk != 0 && !stopped;) {
    const std::string cpath = vpath + " -> chunk " + hex(chunk);
    if (chunk % kPageSize != 0) return invalid(cpath, "the chunk pointer is not page-aligned");
    if (!seen.insert(chunk).second) return invalid(cpath, "the chunk list comes back to this chunk");
    if (seen.size() > v.total_pages / std::max<std::uint64_t>(per_chunk, 1) + 2)
      return invalid(cpath, "more chunks than total_pages " + dec(v.total_pages) + " can fill");
    if (!w.spend(1, cpath)) {
      stopped = true;
      break;
    }
    HandoverNode cn = make_node("vmalloc_chunk", hex(chunk), cpath, chunk, kPageSize);
    w.require(cn, chunk, kPageSize, Claim::pages, std::nullopt, "kho_restore_pages() of the chunk");
    auto page = w.read(cpath, chunk, kPageSize, "vmalloc chunk");
    if (!page) {
      node.children.push_back(std::move(cn));
      w.keep(parent, std::move(node));
      return std::nullopt;
    }
    const Struct c(cl, *page, w.endian());
    std::uint64_t listed = 0;
    for (std::uint64_t i = 0; i < per_chunk; ++i) {
      const std::uint64_t phys = fdt::load_u64(page->data() + entries_off + i * 8, w.endian());
      if (phys == 0) break;
      if (pages + contig > v.total_pages) {
        node.children.push_back(std::move(cn));
        return invalid(cpath, "its blocks exceed total_pages " + dec(v.total_pages) + " (idx + contig > total_pages)");
      }
      if (!w.spend(1, cpath)) {
        stopped = true;
        break;
      }
      HandoverNode bn = make_node("block", hex(phys), cpath + " -> block " + hex(phys), phys, block_bytes);
      w.require(bn, phys, block_bytes, Claim::pages, std::nullopt, "kho_restore_pages() in kho_restore_vmalloc()");
      if (data.size() < need && have_bytes) {
        const std::uint64_t want = std::min<std::uint64_t>(block_bytes, need - data.size());
        if (auto blk = w.read(cn.path, phys, want, "vmalloc block")) data.insert(data.end(), blk->begin(), blk->end());
        else have_bytes = false;
      }
      w.keep(cn, std::move(bn));
      pages += contig;
      ++listed;
    }
    add_field(cn, "next", c.u("next"));
    add_field(cn, "blocks", listed, false);
    w.keep(node, std::move(cn));
    chunk = c.u("next");
  }
  if (stopped) {
    w.keep(parent, std::move(node));
    return std::nullopt;
  }
  if (pages != v.total_pages) {
    return invalid(vpath, "the chunks hold " + dec(pages) + " pages, total_pages says " + dec(v.total_pages));
  }
  w.keep(parent, std::move(node));
  if (!have_bytes || data.size() < need) return std::nullopt;
  return data;
}

}  // namespace khospec::conformance::follow
