// struct kho_vmalloc (6.18+): the chunk list that describes a preserved
// vmalloc area, its writer (kho_preserve_vmalloc) and reader
// (kho_restore_vmalloc).
#include "model/kho/mem_track.hpp"

#include <cstdint>
#include <set>

#include "model/kho/mem_track_internal.hpp"

namespace khospec::model {

using namespace mem_detail;

void kho_vmalloc_store(PhysImage& image, phys_addr_t at, const KhoVmalloc& v) {
  image.write_u64(at, v.first);
  image.write_u32(at + 8, v.total_pages);
  image.write_u32(at + 12, std::uint32_t{v.flags} | std::uint32_t{v.order} << 16);
}

KhoVmalloc kho_vmalloc_load(const PhysImage& image, phys_addr_t at) {
  KhoVmalloc v;
  v.first = image.read_u64(at);
  v.total_pages = image.read_u32(at + 8);
  const std::uint32_t w = image.read_u32(at + 12);
  v.flags = static_cast<std::uint16_t>(w);
  v.order = static_cast<std::uint16_t>(w >> 16);
  return v;
}

// kho_preserve_vmalloc() (6.18+): the first chunk is allocated before any data
// block is recorded; a new chunk is chained as soon as one fills (511
// entries), so an exact multiple of 511 blocks ends in an empty chunk.
std::optional<std::vector<phys_addr_t>> kho_vmalloc_write(PhysImage& image, PageAllocator& alloc,
                                                          const std::vector<phys_addr_t>& block_phys,
                                                          unsigned order, std::uint16_t flags,
                                                          KhoVmalloc* out) {
  // Model guard: vm->nr_pages is an unsigned int.
  if (order > KHO_MAX_WIRE_ORDER || block_phys.size() > (std::uint64_t{UINT32_MAX} >> order))
    return std::nullopt;
  const std::uint64_t total = std::uint64_t{block_phys.size()} << order;
  std::vector<phys_addr_t> chunks;
  const auto fail = [&]() {
    for (const phys_addr_t c : chunks) alloc.free(c, kPage);
    return std::nullopt;
  };
  phys_addr_t chunk = alloc_zeroed(alloc, image, kPage, kPage);
  if (!chunk) return fail();
  chunks.push_back(chunk);
  std::uint64_t idx = 0;
  for (const phys_addr_t phys : block_phys) {
    image.write_u64(chunk + 8 + idx * 8, phys);
    if (++idx == KHO_VMALLOC_SIZE) {
      const phys_addr_t next = alloc_zeroed(alloc, image, kPage, kPage);
      if (!next) return fail();
      image.write_u64(chunk, next);
      chunks.push_back(next);
      chunk = next;
      idx = 0;
    }
  }
  if (out) {
    out->first = chunks.front();
    out->total_pages = static_cast<std::uint32_t>(total);
    out->flags = flags;
    out->order = static_cast<std::uint16_t>(order);
  }
  return chunks;
}

// kho_restore_vmalloc() (6.18+): per chunk, entries up to the first zero (or
// 511); idx + 2^order must stay <= total_pages; at the end idx == total_pages.
// Note: the kernel tests unknown flags only after kho_flags_to_vmalloc(),
// which drops them, so its check can never fire; this reader rejects them.
std::optional<std::vector<phys_addr_t>> kho_vmalloc_read(const PhysImage& image, const KhoVmalloc& v,
                                                         std::vector<DecodeIssue>* issues) {
  if (v.flags & ~kVmallocKnownFlags) {
    note(issues, "kho_vmalloc: unsupported flags", v.first);
    return std::nullopt;
  }
  if (v.order > KHO_MAX_WIRE_ORDER) {
    note(issues, "kho_vmalloc: order " + std::to_string(v.order) + " too large", v.first);
    return std::nullopt;
  }
  if (v.total_pages == 0 || v.first == 0) {
    note(issues, "kho_vmalloc: empty area (total_pages 0 or no chunk)", v.first);
    return std::nullopt;
  }
  const std::uint64_t contig = std::uint64_t{1} << v.order;
  std::vector<phys_addr_t> out;
  std::uint64_t idx = 0;
  std::set<phys_addr_t> seen;
  for (phys_addr_t chunk = v.first; chunk != 0; chunk = image.read_u64(chunk)) {
    if (!seen.insert(chunk).second) {
      note(issues, "kho_vmalloc chunk list has a cycle", chunk);
      return std::nullopt;
    }
    if (chunk % kPage || !image.touched(chunk)) {
      note(issues, "kho_vmalloc chunk is unaligned or outside the image", chunk);
      return std::nullopt;
    }
    for (std::uint64_t i = 0; i < KHO_VMALLOC_SIZE; ++i) {
      const phys_addr_t phys = image.read_u64(chunk + 8 + i * 8);
      if (!phys) break;
      if (idx + contig > v.total_pages) {
        note(issues, "kho_vmalloc: more pages than total_pages", chunk + 8 + i * 8);
        return std::nullopt;
      }
      if (phys % kPage) {
        note(issues, "kho_vmalloc: block address not page-aligned", chunk + 8 + i * 8);
        return std::nullopt;
      }
      out.push_back(phys);
      idx += contig;
    }
  }
  if (idx != v.total_pages) {
    note(issues, "kho_vmalloc: " + std::to_string(idx) + " pages listed, total_pages " +
                     std::to_string(v.total_pages), v.first);
    return std::nullopt;
  }
  return out;
}

}  // namespace khospec::model
