#include "conformance/memmap/memmap.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <set>

#include "core/rules.hpp"
#include "fdt/decode.hpp"

namespace khospec::conformance {

namespace {

std::string hex(std::uint64_t v) { return hex_u64(v); }

struct Emitter {
  const MapSite& site;
  Report& report;
  std::set<std::string> once;  // rules reported at most once per decode when `dedupe`
  void add(const char* rule, std::string msg, bool dedupe = false) {
    if (dedupe && !once.insert(rule).second) return;
    report.add(make_finding(rule, site.file, site.offset, site.node, site.property, std::move(msg), "kho"));
  }
};

std::uint64_t le64(const std::uint8_t* p) { return fdt::load_u64(p, fdt::Endian::little); }
std::uint32_t le32(const std::uint8_t* p) { return fdt::load_u32(p, fdt::Endian::little); }

// Appends one block per set bit of `bits` (nbits long): phys = base + (b << shift).
// Returns false when the item cap was hit.
bool expand_bitmap(const std::vector<std::uint8_t>& bits, std::size_t nbits, std::uint64_t base, unsigned order,
                   MapDecode& out, std::size_t& budget, Emitter& em) {
  const unsigned shift = kPageShift + order;
  for (std::size_t w = 0; w * 64 < nbits; ++w) {
    std::uint64_t word = le64(bits.data() + w * 8);
    while (word) {
      const unsigned b = static_cast<unsigned>(std::countr_zero(word));
      word &= word - 1;
      const std::uint64_t bit = w * 64 + b;
      if (budget == 0) {
        em.add("kho_map_too_many", "more preserved blocks than the walk limit; decoding stopped", true);
        return false;
      }
      --budget;
      const std::uint64_t off = bit << shift;
      const std::uint64_t phys = base + off;
      const std::uint64_t size = kPageSize << order;
      if ((bit >> (64 - shift)) != 0 || phys < base || phys + size < phys) {
        em.add("kho_map_order_invalid",
               "block " + std::to_string(bit) + " of order " + std::to_string(order) + " at base " + hex(base) +
                   " lies past the 64-bit physical address space",
               true);
        continue;
      }
      out.blocks.push_back({phys, order});
    }
  }
  return true;
}

void report_big_orders(const MapDecode& d, Emitter& em) {
  std::set<unsigned> big;
  for (const auto& b : d.blocks) {
    if (b.order > kMaxPageOrder) big.insert(b.order);
  }
  for (unsigned o : big) {
    std::size_t n = std::count_if(d.blocks.begin(), d.blocks.end(), [&](const PreservedBlock& b) { return b.order == o; });
    em.add("kho_map_order_above_max", std::to_string(n) + " preserved block(s) of order " + std::to_string(o) +
                                          " (above MAX_PAGE_ORDER " + std::to_string(kMaxPageOrder) + ")");
  }
}

}  // namespace

MapDecode decode_v1_chunks(const MemoryImage& image, std::uint64_t head, const MapOptions& opts,
                           const MapSite& site, Report& report) {
  Emitter em{site, report, {}};
  MapDecode out;
  out.format = "kho-v1 chunk list";
  std::size_t budget = opts.max_items;
  struct Entry {
    std::uint64_t chunk;
    std::size_t index;
    unsigned order;
    std::uint64_t phys_start;
    std::uint64_t bitmap;
  };
  std::vector<Entry> entries;
  std::set<std::uint64_t> visited;
  bool complete = true;
  std::int64_t prev_order = -1;
  // Pass 1: walk the chunk list (kho_mem_deserialize(): for each chunk, each of num_elms entries).
  for (std::uint64_t at = head; at != 0;) {
    if (budget == 0) {
      em.add("kho_map_too_many", "more chunks than the walk limit; decoding stopped", true);
      complete = false;
      break;
    }
    --budget;
    if (at % kPageSize != 0) {
      em.add("kho_map_misaligned", "chunk pointer " + hex(at) + " is not page-aligned");
      complete = false;
      break;
    }
    if (!visited.insert(at).second) {
      em.add("kho_map_cycle", "the chunk list returns to chunk " + hex(at));
      complete = false;
      break;
    }
    auto page = image.read_vec(at, kPageSize);
    if (!page) {
      em.add("kho_image_addr_missing", "chunk " + hex(at) + " is not in the memory image " + image.name());
      complete = false;
      break;
    }
    out.metadata_pages.push_back(at);
    const std::uint64_t next = le64(page->data());
    const unsigned order = le32(page->data() + 8);
    std::uint64_t n = le32(page->data() + 12);
    if (n > kChunkCapacity) {
      em.add("kho_map_chunk_capacity", "chunk " + hex(at) + " has num_elms " + std::to_string(n) +
                                           ", above KHOSER_BITMAP_SIZE " + std::to_string(kChunkCapacity));
      n = kChunkCapacity;
    }
    // Written as order >= 64 - PAGE_SHIFT: order + PAGE_SHIFT wraps in 32 bits
    // for orders near 2^32 and would let them through (fuzz/validate found it).
    if (order >= 64 - kPageShift) {
      em.add("kho_map_order_invalid", "chunk " + hex(at) + " has order " + std::to_string(order));
      at = next;
      complete = false;
      continue;
    }
    if (static_cast<std::int64_t>(order) < prev_order)
      em.add("kho_map_order_unsorted", "chunk " + hex(at) + " has order " + std::to_string(order) +
                                           " after a chunk of order " + std::to_string(prev_order), true);
    prev_order = order;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t* e = page->data() + kChunkHdrSize + i * kChunkEntrySize;
      entries.push_back({at, i, order, le64(e), le64(e + 8)});
    }
    at = next;
  }

  // Bitmap size (docs/kernel-abi.md §3): 512 bytes in 6.16/6.17, PAGE_SIZE from "kho: increase
  // metadata bitmap size to PAGE_SIZE" on, both under kho-v1. Evidence for 512: a
  // bitmap that is not page-aligned (kmalloc-512) or a phys_start that is not a
  // multiple of the page bitmap's coverage; evidence for PAGE_SIZE: a page-aligned
  // bitmap with a bit set above bit 4095.
  bool ev512 = false, ev_page = false, unknown_tail = false;
  for (const auto& e : entries) {
    if (e.bitmap == 0) continue;
    if (e.bitmap % kPageSize != 0) ev512 = true;
    const unsigned page_cov = kPageShift + 3 + kPageShift + e.order;  // log2(PAGE_SIZE*8 << (order+PAGE_SHIFT))
    if (page_cov < 64 && e.phys_start % (std::uint64_t{1} << page_cov) != 0) ev512 = true;
    if (e.bitmap % kPageSize == 0) {
      auto tail = image.read_vec(e.bitmap + 512, kPageSize - 512);
      if (!tail) {
        unknown_tail = true;
        continue;
      }
      // Bytes of other entries' 512-byte bitmaps packed into the same page
      // (kmalloc-512 neighbours) do not count as evidence for page bitmaps.
      for (const auto& o : entries) {
        if (o.bitmap > e.bitmap && o.bitmap < e.bitmap + kPageSize) {
          const std::uint64_t from = std::max<std::uint64_t>(o.bitmap, e.bitmap + 512) - (e.bitmap + 512);
          const std::uint64_t to = std::min<std::uint64_t>(o.bitmap + 512, e.bitmap + kPageSize) - (e.bitmap + 512);
          if (from < to) std::fill(tail->begin() + static_cast<std::ptrdiff_t>(from), tail->begin() + static_cast<std::ptrdiff_t>(to), 0);
        }
      }
      if (std::any_of(tail->begin(), tail->end(), [](std::uint8_t b) { return b != 0; })) ev_page = true;
    }
  }
  std::size_t bitmap_bytes = 512;
  if (opts.v1_bitmap == BitmapSize::page) {
    bitmap_bytes = kPageSize;
  } else if (opts.v1_bitmap == BitmapSize::automatic) {
    if (ev_page && !ev512) {
      bitmap_bytes = kPageSize;
    } else if (ev_page && ev512) {
      em.add("kho_map_bitmap_size_ambiguous",
             "some bitmaps look like 6.16 512-byte kmalloc objects, others have bits set past 512 bytes; "
             "decoded as 512-byte bitmaps");
    } else if (!ev512 && unknown_tail) {
      em.add("kho_map_bitmap_size_ambiguous",
             "every bitmap is page-aligned but the image holds only part of a page, so 512-byte (6.16) and "
             "PAGE_SIZE (6.18+) bitmaps may decode differently; decoded as 512-byte bitmaps");
    }
    // Neither: a page-sized read shows no bit past 4095, so both sizes decode the same.
  }
  out.format += bitmap_bytes == 512 ? ", 512-byte bitmaps (6.16)" : ", PAGE_SIZE bitmaps (6.18+)";
  const std::uint64_t preserve_bits = bitmap_bytes * 8;

  // Pass 2: expand the bitmaps.
  std::set<std::uint64_t> seen_bitmaps;
  std::size_t null_bitmaps = 0;
  for (const auto& e : entries) {
    const std::string where = "chunk " + hex(e.chunk) + " entry " + std::to_string(e.index);
    if (e.bitmap == 0) {
      if (++null_bitmaps <= 4) em.add("kho_map_bitmap_null", where + " has a null bitmap pointer");
      complete = false;
      continue;
    }
    const unsigned cov = static_cast<unsigned>(std::countr_zero(preserve_bits)) + kPageShift + e.order;
    if (cov < 64 && e.phys_start % (std::uint64_t{1} << cov) != 0) {
      em.add("kho_map_phys_start_misaligned",
             where + ": phys_start " + hex(e.phys_start) + " is not a multiple of " +
                 hex(std::uint64_t{1} << cov) + " (" + std::to_string(preserve_bits) + " bits of order " +
                 std::to_string(e.order) + ")");
    }
    if (!seen_bitmaps.insert(e.bitmap).second) {
      em.add("kho_map_cycle", where + " reuses bitmap " + hex(e.bitmap) + " of an earlier entry");
      continue;
    }
    auto bits = image.read_vec(e.bitmap, bitmap_bytes);
    if (!bits) {
      em.add("kho_image_addr_missing", where + ": bitmap " + hex(e.bitmap) + " (" + std::to_string(bitmap_bytes) +
                                           " bytes) is not in the memory image " + image.name());
      complete = false;
      continue;
    }
    out.metadata_pages.push_back(e.bitmap);
    if (!expand_bitmap(*bits, preserve_bits, e.phys_start, e.order, out, budget, em)) {
      complete = false;
      break;
    }
  }
  if (null_bitmaps > 4)
    em.add("kho_map_bitmap_null", std::to_string(null_bitmaps - 4) + " more entries have a null bitmap pointer");
  std::sort(out.blocks.begin(), out.blocks.end());
  report_big_orders(out, em);
  out.complete = complete;
  return out;
}

std::uint64_t radix_encode(std::uint64_t phys, unsigned order) {
  return (std::uint64_t{1} << (kRadixOrder0Log2 - order)) | (phys >> (kPageShift + order));
}

bool radix_decode(std::uint64_t key, std::uint64_t& phys, unsigned& order) {
  if (key == 0) return false;
  const int fls = 64 - std::countl_zero(key);  // fls64()
  const int o = static_cast<int>(kRadixOrder0Log2) - fls + 1;
  if (o < 0 || o > static_cast<int>(kRadixOrder0Log2)) return false;
  order = static_cast<unsigned>(o);
  const unsigned shift = kPageShift + order;
  phys = shift >= 64 ? 0 : key << shift;  // the order bit falls off the top
  return true;
}

MapDecode decode_radix(const MemoryImage& image, std::uint64_t root, const MapOptions& opts, const MapSite& site,
                       Report& report) {
  Emitter em{site, report, {}};
  MapDecode out;
  out.format = "kho-v2+ radix tree (6 levels)";
  std::size_t budget = opts.max_items;
  bool complete = true;
  std::set<std::uint64_t> visited;
  struct Frame {
    std::uint64_t node;
    unsigned level;
    std::uint64_t key;
  };
  std::vector<Frame> stack{{root, kRadixDepth - 1, 0}};
  std::vector<std::uint8_t> page(kPageSize);
  // Depth-first in index order, as kho_radix_walk_tree() enumerates.
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    if (budget == 0) {
      em.add("kho_map_too_many", "more radix nodes or blocks than the walk limit; decoding stopped", true);
      complete = false;
      break;
    }
    --budget;
    if (f.node % kPageSize != 0) {
      em.add("kho_map_misaligned", "level-" + std::to_string(f.level) + " radix node " + hex(f.node) +
                                       " is not page-aligned");
      complete = false;
      continue;
    }
    if (!visited.insert(f.node).second) {
      em.add("kho_map_cycle", "radix node " + hex(f.node) + " is reached twice");
      complete = false;
      continue;
    }
    if (!image.read(f.node, page)) {
      em.add("kho_image_addr_missing", "level-" + std::to_string(f.level) + " radix node " + hex(f.node) +
                                           " is not in the memory image " + image.name());
      complete = false;
      continue;
    }
    out.metadata_pages.push_back(f.node);
    if (f.level == 0) {
      // Leaf: bit i -> key = partial | i.
      for (std::size_t w = 0; w < kPageSize / 8; ++w) {
        std::uint64_t word = le64(page.data() + w * 8);
        while (word) {
          const unsigned b = static_cast<unsigned>(std::countr_zero(word));
          word &= word - 1;
          const std::uint64_t key = f.key | (w * 64 + b);
          std::uint64_t phys = 0;
          unsigned order = 0;
          if (!radix_decode(key, phys, order)) {
            em.add("kho_map_order_invalid", "leaf " + hex(f.node) + " bit " + std::to_string(w * 64 + b) +
                                                " gives key " + hex(key) + ", which encodes no order");
            continue;
          }
          if (budget == 0) {
            em.add("kho_map_too_many", "more preserved blocks than the walk limit; decoding stopped", true);
            complete = false;
            break;
          }
          --budget;
          out.blocks.push_back({phys, order});
        }
      }
      continue;
    }
    const unsigned shift = (f.level - 1) * kRadixTableLog2 + kRadixBitmapLog2;
    // Push children in reverse so they pop in index order.
    for (std::size_t i = kPageSize / 8; i-- > 0;) {
      const std::uint64_t child = le64(page.data() + i * 8);
      if (child == 0) continue;
      if (f.level == kRadixDepth - 1 && i >= 4) {
        em.add("kho_map_radix_index", "root " + hex(f.node) + " entry " + std::to_string(i) + " -> " + hex(child) +
                                          " (keys there need physical address bits above 63)");
        continue;
      }
      stack.push_back({child, f.level - 1, f.key | (std::uint64_t{i} << shift)});
    }
  }
  std::sort(out.blocks.begin(), out.blocks.end());
  // No kho_map_order_above_max here: the radix eras' kho_restore_page() has no
  // order limit and kho_restore_pages() restores such a block as order-0 pages
  // (kernel/liveupdate/kexec_handover.c, 7.3), so the next kernel revives it.
  out.complete = complete;
  return out;
}

void check_overlaps(const std::vector<PreservedBlock>& blocks, const MapSite& site, Report& report) {
  Emitter em{site, report, {}};
  std::size_t reported = 0;
  std::uint64_t max_end = 0;
  const PreservedBlock* holder = nullptr;
  for (const auto& b : blocks) {
    if (holder && b.phys < max_end) {
      if (reported++ < 8)
        em.add("kho_map_overlap", "block " + hex(b.phys) + " order " + std::to_string(b.order) + " overlaps block " +
                                      hex(holder->phys) + " order " + std::to_string(holder->order) +
                                      (b.order == holder->order ? " (same order: a duplicate entry)" : ""));
    }
    if (!holder || b.end() > max_end) {
      max_end = b.end();
      holder = &b;
    }
  }
}

bool covered(const std::vector<PreservedBlock>& blocks, std::uint64_t addr, std::uint64_t len) {
  if (len == 0) return true;
  std::uint64_t pos = addr;
  const std::uint64_t end = addr + len < addr ? ~std::uint64_t{0} : addr + len;
  // Blocks are sorted by start; sweep forward extending coverage.
  for (const auto& b : blocks) {
    if (b.phys > pos) {
      if (b.phys >= end) break;
      return false;  // a gap before this block
    }
    if (b.end() > pos) pos = b.end();
    if (pos >= end) return true;
  }
  return pos >= end;
}

}  // namespace khospec::conformance
