// The outgoing kernel's preserved-memory tracker (MemTrack): the kho-v1
// bitmaps and their chunk-list serialization, and the stateless radix tree;
// plus the greedy split of a page range into blocks. Readers: mem_walk.cpp.
//
// Host-side state is only what the kernel keeps outside handed-over memory
// (the xarrays of 6.16-6.19, the list of pages we allocated). Everything the
// next kernel reads -- bits, chunk headers, table entries -- lives in the
// PhysImage and is written at the moment the kernel writes it.
#include "model/kho/mem_track.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <map>

#include "model/kho/mem_track_internal.hpp"
#include "model/memblock/memblock.hpp"  // MODEL_ENOMEM, MODEL_EINVAL

namespace khospec::model {

using namespace mem_detail;

std::uint64_t kho_preserve_bits(MemMapFormat fmt) {
  switch (fmt) {
    case MemMapFormat::bitmap512:
      return 512 * 8;  // v6.16 PRESERVE_BITS
    case MemMapFormat::bitmap_page:
      return kPage * 8;  // v6.18 PRESERVE_BITS
    case MemMapFormat::radix:
      break;
  }
  return 0;
}

// kho_preserve_phys() (6.16) / kho_preserve_pages() (6.18+): at pfn p,
// order = min(ctz(p), ilog2(end - p)); ctz(0) counts as 64.
std::vector<PreservedBlock> kho_split_range(std::uint64_t start_pfn, std::uint64_t nr_pages) {
  std::vector<PreservedBlock> out;
  const std::uint64_t end = start_pfn + nr_pages;
  if (nr_pages == 0 || end < start_pfn) return out;
  for (std::uint64_t pfn = start_pfn; pfn < end;) {
    const unsigned ctz = pfn ? static_cast<unsigned>(std::countr_zero(pfn)) : 64;
    const unsigned ilog = static_cast<unsigned>(std::bit_width(end - pfn)) - 1;
    const unsigned order = std::min(ctz, ilog);
    out.push_back(PreservedBlock{pfn << KHO_PAGE_SHIFT, order});
    pfn += std::uint64_t{1} << order;
  }
  return out;
}

// INV_PRESERVED_SPLIT_EXACT: consecutive, naturally aligned blocks covering
// [start_pfn, start_pfn + nr) exactly, at most max(1, 2 * floor(log2 nr)).
bool kho_split_exact(std::uint64_t start_pfn, std::uint64_t nr_pages, const std::vector<PreservedBlock>& blocks) {
  if (nr_pages == 0 || start_pfn + nr_pages < start_pfn) return blocks.empty();
  std::uint64_t pfn = start_pfn;
  for (const auto& b : blocks) {
    if (b.order >= 64 || b.phys >> KHO_PAGE_SHIFT != pfn || (pfn & ((std::uint64_t{1} << b.order) - 1))) return false;
    pfn += std::uint64_t{1} << b.order;
  }
  const std::uint64_t floor_log2 = static_cast<std::uint64_t>(std::bit_width(nr_pages)) - 1;
  return pfn == start_pfn + nr_pages && blocks.size() <= std::max<std::uint64_t>(1, 2 * floor_log2);
}

// ---- MemTrack -----------------------------------------------------------------

struct MemTrack::Impl {
  // kho-v1: track.orders[order] -> phys_bits[index] -> bitmap phys. An order
  // can exist with no bitmap (kho_mem_phys allocated, bitmap allocation failed).
  std::map<unsigned, std::map<std::uint64_t, phys_addr_t>> orders;
  // Pages of the serialized chunk list, in list order.
  std::vector<phys_addr_t> chunks;
  // Radix: every node page we allocated (root included) -> its level.
  std::map<phys_addr_t, unsigned> nodes;

  // The bitmap holding (pfn, order), or 0.
  phys_addr_t find_bitmap(MemMapFormat fmt, std::uint64_t pfn, unsigned order) const {
    const auto ord = orders.find(order);
    if (ord == orders.end()) return 0;
    const auto bm = ord->second.find((pfn >> order) / kho_preserve_bits(fmt));
    return bm == ord->second.end() ? 0 : bm->second;
  }
};

namespace {
// The leaf on the key's path (read from the image, as the kernel does), or 0.
phys_addr_t radix_find_leaf(const PhysImage& image, phys_addr_t root, std::uint64_t key) {
  phys_addr_t node = root;
  for (unsigned level = KHO_TREE_MAX_DEPTH - 1; node && level > 0; --level)
    node = image.read_u64(node + std::uint64_t{kho_radix_table_index(key, level)} * 8);
  return node;
}
}  // namespace

MemTrack::MemTrack(MemMapFormat fmt, PhysImage& image, PageAllocator& alloc)
    : fmt_(fmt), image_(image), alloc_(alloc), impl_(new Impl) {
  if (fmt_ == MemMapFormat::radix) {
    // kho_init(): tree root = kzalloc(PAGE_SIZE).
    radix_root_ = alloc_zeroed(alloc_, image_, kPage, kPage);
    if (radix_root_) impl_->nodes[radix_root_] = KHO_TREE_MAX_DEPTH - 1;
  }
}

// The image keeps every page: like a kernel going into kexec, we do not free.
MemTrack::~MemTrack() { delete impl_; }

int MemTrack::preserve_order(std::uint64_t pfn, unsigned order) {
  // Model guards (no kernel caller can get here): an order the wire cannot
  // express, or a block that is not naturally aligned (invariant 16).
  if (order > KHO_MAX_WIRE_ORDER || (pfn & ((std::uint64_t{1} << order) - 1)) ||
      pfn >> (64 - KHO_PAGE_SHIFT))
    return MODEL_EINVAL;

  if (fmt_ == MemMapFormat::radix) {
    // kho_radix_add_page(): descend from the root, allocating zeroed pages for
    // missing nodes; on -ENOMEM free the new branch and unlink it at the anchor.
    if (!radix_root_) return MODEL_EINVAL;  // WARN_ON_ONCE(!tree->root)
    const std::uint64_t key = kho_radix_encode_key(pfn << KHO_PAGE_SHIFT, order);
    // INV_RADIX_KEY_BIJECTIVE and INV_RADIX_TREE_SHAPE on the key (never
    // fire on an aligned block: the guard above ensures one).
    if (!kho_radix_key_violations(PreservedBlock{pfn << KHO_PAGE_SHIFT, order}, key).empty()) return MODEL_EINVAL;
    std::array<phys_addr_t, KHO_TREE_MAX_DEPTH> fresh{};
    phys_addr_t anchor_slot = 0;
    phys_addr_t node = radix_root_;
    for (unsigned level = KHO_TREE_MAX_DEPTH - 1; level > 0; --level) {
      const phys_addr_t slot = node + std::uint64_t{kho_radix_table_index(key, level)} * 8;
      const phys_addr_t child = image_.read_u64(slot);
      if (child) {
        node = child;
        continue;
      }
      const phys_addr_t made = alloc_zeroed(alloc_, image_, kPage, kPage);
      if (!made) {
        for (unsigned l = KHO_TREE_MAX_DEPTH - 1; l > 0; --l) {
          if (!fresh[l]) continue;
          alloc_.free(fresh[l], kPage);
          impl_->nodes.erase(fresh[l]);
        }
        if (anchor_slot) image_.write_u64(anchor_slot, 0);
        return MODEL_ENOMEM;
      }
      image_.write_u64(slot, made);
      if (!anchor_slot) anchor_slot = slot;
      fresh[level] = made;
      impl_->nodes[made] = level - 1;
      node = made;
    }
    set_bit(image_, node, kho_radix_bitmap_index(key));
    return 0;
  }

  // __kho_preserve_order() (6.16/6.18): load or create orders[order] (host
  // side; the kernel's kzalloc of struct kho_mem_phys is not in the image),
  // then load or create the bitmap, then set_bit.
  const std::uint64_t nbits = kho_preserve_bits(fmt_);
  const std::uint64_t pfn_high = pfn >> order;
  auto& bitmaps = impl_->orders[order];
  auto it = bitmaps.find(pfn_high / nbits);
  if (it == bitmaps.end()) {
    const phys_addr_t bm = alloc_zeroed(alloc_, image_, bitmap_bytes(fmt_), bitmap_align(fmt_));
    if (!bm) return MODEL_ENOMEM;  // the order entry stays, as in the kernel
    it = bitmaps.emplace(pfn_high / nbits, bm).first;
  }
  set_bit(image_, it->second, pfn_high % nbits);
  return 0;
}

void MemTrack::unpreserve_order(std::uint64_t pfn, unsigned order) {
  if (order > KHO_MAX_WIRE_ORDER || pfn >> (64 - KHO_PAGE_SHIFT)) return;
  if (fmt_ == MemMapFormat::radix) {
    // kho_radix_del_page(): WARN and return when the path is missing; never
    // frees nodes.
    const std::uint64_t key = kho_radix_encode_key(pfn << KHO_PAGE_SHIFT, order);
    if (const phys_addr_t leaf = radix_find_leaf(image_, radix_root_, key))
      clear_bit(image_, leaf, kho_radix_bitmap_index(key));
    return;
  }
  // __kho_unpreserve() (6.18: WARN_ON_ONCE and return when a level is missing).
  if (const phys_addr_t bm = impl_->find_bitmap(fmt_, pfn, order))
    clear_bit(image_, bm, (pfn >> order) % kho_preserve_bits(fmt_));
}

bool MemTrack::is_preserved(std::uint64_t pfn, unsigned order) const {
  if (order > KHO_MAX_WIRE_ORDER || pfn >> (64 - KHO_PAGE_SHIFT)) return false;
  if (fmt_ == MemMapFormat::radix) {
    const std::uint64_t key = kho_radix_encode_key(pfn << KHO_PAGE_SHIFT, order);
    const phys_addr_t leaf = radix_find_leaf(image_, radix_root_, key);
    return leaf && test_bit(image_, leaf, kho_radix_bitmap_index(key));
  }
  const phys_addr_t bm = impl_->find_bitmap(fmt_, pfn, order);
  return bm && test_bit(image_, bm, (pfn >> order) % kho_preserve_bits(fmt_));
}

std::vector<PreservedBlock> MemTrack::blocks() const {
  std::vector<PreservedBlock> out;
  if (fmt_ == MemMapFormat::radix) {
    out = kho_mem_deserialize(image_, fmt_, radix_root_, nullptr);
    std::sort(out.begin(), out.end(), [](const PreservedBlock& a, const PreservedBlock& b) {
      return a.order != b.order ? a.order < b.order : a.phys < b.phys;
    });
    return out;
  }
  const std::uint64_t nbits = kho_preserve_bits(fmt_);
  for (const auto& [ord, bitmaps] : impl_->orders) {
    const unsigned shift = ord + KHO_PAGE_SHIFT;
    for (const auto& [i, bm] : bitmaps) {
      // Copies: clang 14 (the fuzz build) cannot capture structured bindings.
      const auto order = ord;
      const auto idx = i;
      for_each_set_bit(image_, bm, nbits, [&](std::uint64_t bit) {
        out.push_back(PreservedBlock{(idx * nbits + bit) << shift, order});
      });
    }
  }
  return out;
}

std::vector<DecodeIssue> MemTrack::radix_shape_issues() const {
  std::vector<DecodeIssue> out;
  if (fmt_ != MemMapFormat::radix) return out;
  for (const auto& [node, level] : impl_->nodes) {
    if (level == 0) continue;  // a leaf: bits, not pointers
    const auto page = image_.page_view(node / kPage);
    if (!page.data || node % kPage) continue;  // never written: all entries zero
    for (std::uint64_t i = 0; i < kTableEntries; ++i) {
      phys_addr_t child = 0;
      std::memcpy(&child, page.data + i * 8, sizeof child);
      if constexpr (std::endian::native == std::endian::big) child = __builtin_bswap64(child);
      if (!child) continue;
      const auto it = impl_->nodes.find(child);
      if (it == impl_->nodes.end())
        out.push_back({"entry " + std::to_string(i) + " of a level-" + std::to_string(level) +
                           " table points at a page that is not a radix node",
                       node + i * 8});
      else if (it->second + 1 != level)
        out.push_back({"entry " + std::to_string(i) + " of a level-" + std::to_string(level) +
                           " table points at a level-" + std::to_string(it->second) + " node",
                       node + i * 8});
    }
  }
  return out;
}

std::vector<std::pair<phys_addr_t, std::uint64_t>> MemTrack::metadata() const {
  std::vector<std::pair<phys_addr_t, std::uint64_t>> out;
  for (const auto& [order, bitmaps] : impl_->orders)
    for (const auto& [idx, bm] : bitmaps) out.emplace_back(bm, bitmap_bytes(fmt_));
  for (const phys_addr_t c : impl_->chunks) out.emplace_back(c, kPage);
  for (const auto& [node, level] : impl_->nodes) out.emplace_back(node, kPage);
  std::sort(out.begin(), out.end());
  return out;
}

// kho_abort() (6.16/6.18): kfree every bitmap and kho_mem_phys, destroy the
// xarrays, free the serialized list. Radix (no kernel counterpart): free every
// node below the root and clear the root table.
void MemTrack::destroy() {
  for (const auto& [order, bitmaps] : impl_->orders)
    for (const auto& [idx, bm] : bitmaps) alloc_.free(bm, bitmap_bytes(fmt_));
  impl_->orders.clear();
  free_serialized();
  if (fmt_ == MemMapFormat::radix && radix_root_) {
    for (const auto& [node, level] : impl_->nodes)
      if (node != radix_root_) alloc_.free(node, kPage);
    impl_->nodes.clear();
    impl_->nodes[radix_root_] = KHO_TREE_MAX_DEPTH - 1;
    image_.fill(radix_root_, kPage, 0);
  }
}

// kho_mem_serialize() (6.16; 6.18 identical but for get_zeroed_page): one new
// chunk per order present (xa_for_each, ascending), chained to the previous
// one; a further chunk of the same order when 255 entries are used; entry =
// {(idx * PRESERVE_BITS) << (order + PAGE_SHIFT), bitmap phys}. On -ENOMEM the
// partial list is freed (kho_mem_ser_free). A previous list is freed only
// after the new one is complete (6.19 kho_update_memory_map()).
std::optional<phys_addr_t> MemTrack::serialize() {
  if (fmt_ == MemMapFormat::radix) return radix_root_;  // stateless: the root is the map
  const std::uint64_t nbits = kho_preserve_bits(fmt_);
  std::vector<phys_addr_t> made;
  phys_addr_t chunk = 0;
  std::uint32_t num = 0;
  const auto new_chunk = [&](unsigned order) {
    const phys_addr_t c = alloc_zeroed(alloc_, image_, kPage, kPage);
    if (!c) return false;
    image_.write_u32(c + 8, order);
    if (chunk) image_.write_u64(chunk, c);
    made.push_back(c);
    chunk = c;
    num = 0;
    return true;
  };
  bool ok = true;
  for (const auto& [order, bitmaps] : impl_->orders) {
    if (!(ok = new_chunk(order))) break;
    for (const auto& [idx, bm] : bitmaps) {
      if (num == KHOSER_BITMAP_SIZE && !(ok = new_chunk(order))) break;
      const phys_addr_t elm = chunk + kChunkHdr + std::uint64_t{num} * kChunkElm;
      image_.write_u32(chunk + 12, ++num);
      image_.write_u64(elm, (idx * nbits) << (order + KHO_PAGE_SHIFT));
      image_.write_u64(elm + 8, bm);
    }
    if (!ok) break;
  }
  if (!ok) {
    for (const phys_addr_t c : made) alloc_.free(c, kPage);
    return std::nullopt;
  }
  free_serialized();
  impl_->chunks = std::move(made);
  chunk_head_ = impl_->chunks.empty() ? 0 : impl_->chunks.front();
  return chunk_head_;
}

void MemTrack::free_serialized() {
  for (const phys_addr_t c : impl_->chunks) alloc_.free(c, kPage);
  impl_->chunks.clear();
  chunk_head_ = 0;
}

}  // namespace khospec::model
