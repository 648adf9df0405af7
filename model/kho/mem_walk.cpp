// The next kernel's (and the validator's) reader of the preserved-memory
// map: one walk over a kho-v1 chunk list or a radix tree, read from image
// bytes only, reporting maximal runs of blocks and every corruption it meets.
#include "model/kho/mem_track.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <set>
#include <span>

#include "model/kho/mem_track_internal.hpp"

namespace khospec::model {

using namespace mem_detail;

namespace {

// ---- the preserved-set walk -------------------------------------------------
//
// One walker for every reader (kho_mem_walk(); kho_mem_deserialize() expands
// its runs). It reads bitmap words in place from the image's pages (one page
// lookup per distinct page) and reports maximal runs of consecutive blocks.

// The wire is native endian; the model's images are little-endian, as
// PhysImage::read_u64() assumes.
std::uint64_t load_le64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}
std::uint32_t load_le32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

constexpr std::array<std::uint8_t, kPage> kZeroPage{};

// Page access with a one-page cache: consecutive reads (a chunk's bitmaps,
// 512-byte bitmaps sharing a page) cost one PhysImage lookup per page.
class PageReader {
 public:
  explicit PageReader(const PhysImage& image) : image_(image) {}

  PhysImage::PageView page(std::uint64_t pfn) {
    if (pfn != pfn_) {
      pfn_ = pfn;
      view_ = image_.page_view(pfn);
    }
    return view_;
  }
  bool touched(phys_addr_t addr) { return page(addr / kPage).touched; }
  // The bytes [addr, addr + len), len <= kPage: in place when they lie in
  // one page, else copied to `buf`; untouched memory reads as zeros
  // (PhysImage::read() semantics, address arithmetic wrapping alike).
  const std::uint8_t* bytes(phys_addr_t addr, std::size_t len, std::uint8_t* buf) {
    const std::uint64_t off = addr % kPage;
    if (off + len <= kPage) {
      const auto v = page(addr / kPage);
      return (v.data ? v.data : kZeroPage.data()) + off;
    }
    image_.read(addr, std::span<std::uint8_t>(buf, len));
    return buf;
  }

 private:
  const PhysImage& image_;
  std::uint64_t pfn_ = ~std::uint64_t{0};  // no page frame has this number
  PhysImage::PageView view_;
};

// Merges consecutive same-order blocks, in walk order, into maximal runs and
// hands each finished run to the visitor.
class RunEmitter {
 public:
  explicit RunEmitter(RunVisitorRef visit) : visit_(visit) {}

  // The blocks phys + (i << (order + PAGE_SHIFT)), i < count, none of which
  // wraps past 2^64 (the caller's guarantee).
  void add(phys_addr_t phys, unsigned order, std::uint64_t count) {
    // next_ > run_.phys: the open run neither ends at nor wraps past 2^64.
    if (run_.count && order == run_.order && phys == next_ && next_ > run_.phys) {
      run_.count += count;
    } else {
      flush();
      run_ = PreservedRun{phys, order, count};
      next_ = phys;
    }
    next_ += count << (order + KHO_PAGE_SHIFT);
  }
  void flush() {
    if (run_.count) visit_(run_);
    run_.count = 0;
  }

 private:
  RunVisitorRef visit_;
  PreservedRun run_;
  phys_addr_t next_ = 0;
};

// The runs of set bits, (first bit, length) ascending, of the DECLARE_BITMAP
// of `nwords` words at p (nwords a multiple of 8). Eight words at a time: all
// ones extend the open run by 512 bits, all zeros close it, with one AND and
// one OR per word; only mixed groups look at single words (all-ones and zero
// words again one test each, other words a ctz per run boundary).
// O(words + runs).
template <typename F>
void for_each_bit_run(const std::uint8_t* p, std::uint64_t nwords, F&& f) {
  constexpr std::uint64_t kOnes = ~std::uint64_t{0};
  std::uint64_t start = 0;
  bool open = false;
  for (std::uint64_t g = 0; g < nwords; g += 8) {
    // Whole 64-word stretches of ones cost one AND per word in a branch-free
    // (vectorizable) loop: the dense-map case. A first word that is not all
    // ones skips the stretch, so sparse maps do not read words twice.
    while (g + 64 <= nwords && load_le64(p + g * 8) == kOnes) {
      std::uint64_t all64 = kOnes;
      for (unsigned k = 1; k < 64; ++k) all64 &= load_le64(p + (g + k) * 8);
      if (all64 != kOnes) break;
      if (!open) start = g * 64;
      open = true;
      g += 64;
    }
    if (g >= nwords) break;
    std::uint64_t w[8];
    std::uint64_t all = kOnes, any = 0;
    for (unsigned k = 0; k < 8; ++k) {
      w[k] = load_le64(p + (g + k) * 8);
      all &= w[k];
      any |= w[k];
    }
    if (all == kOnes) {
      if (!open) start = g * 64;
      open = true;
      continue;
    }
    if (any == 0) {
      if (open) f(start, g * 64 - start);
      open = false;
      continue;
    }
    for (unsigned k = 0; k < 8; ++k) {
      const std::uint64_t word = w[k];
      const std::uint64_t base = (g + k) * 64;
      if (word == kOnes) {
        if (!open) start = base;
        open = true;
        continue;
      }
      if (word == 0) {
        if (open) f(start, base - start);
        open = false;
        continue;
      }
      unsigned pos = 0;
      while (pos < 64) {
        if (open) {
          // ~(word >> pos) has ones above bit 63 - pos: the count stops at 64.
          pos += static_cast<unsigned>(std::countr_zero(~(word >> pos)));
          if (pos == 64) break;  // the run goes on into the next word
          f(start, base + pos - start);
          open = false;
        } else {
          const std::uint64_t rest = word >> pos;
          if (!rest) break;
          pos += static_cast<unsigned>(std::countr_zero(rest));
          start = base + pos;
          open = true;
        }
      }
    }
  }
  if (open) f(start, nwords * 64 - start);
}

// The non-zero u64 entries of a radix table page, ascending; whole groups of
// eight zero entries cost one OR each.
template <typename F>
void for_each_nonzero_entry(const std::uint8_t* p, F&& f) {
  for (std::uint64_t g = 0; g < kTableEntries; g += 8) {
    std::uint64_t w[8];
    std::uint64_t any = 0;
    for (unsigned k = 0; k < 8; ++k) {
      w[k] = load_le64(p + (g + k) * 8);
      any |= w[k];
    }
    if (!any) continue;
    for (unsigned k = 0; k < 8; ++k)
      if (w[k]) f(g + k, w[k]);
  }
}

// kernel/kexec_handover.c kho_mem_deserialize() + deserialize_bitmap() (v6.16,
// v6.18): follow hdr.next, for each of hdr.num_elms entries expand the set bits:
// phys = phys_start + (bit << (order + PAGE_SHIFT)).
void walk_chunk_list(const PhysImage& image, MemMapFormat fmt, phys_addr_t head, RunEmitter& em, Issues* issues) {
  const std::uint64_t nbits = kho_preserve_bits(fmt);
  const std::uint64_t nwords = nbits / 64;
  PageReader pr(image);
  std::array<std::uint8_t, kPage> chunk_buf;   // only for pieces straddling pages
  std::array<std::uint8_t, kPage> bitmap_buf;  // (unaligned pointers)
  std::set<phys_addr_t> seen;
  for (phys_addr_t chunk = head; chunk != 0;) {
    if (!seen.insert(chunk).second) {
      note(issues, "khoser_mem_chunk list has a cycle (next points back to an earlier chunk)", chunk);
      break;
    }
    if (!pr.touched(chunk) || !pr.touched(chunk + kPage - 1)) {
      note(issues, "khoser_mem_chunk points outside the image", chunk);
      break;
    }
    if (chunk % kPage) note(issues, "khoser_mem_chunk is not page-aligned", chunk);
    const std::uint8_t* c = pr.bytes(chunk, kPage, chunk_buf.data());
    const phys_addr_t next = load_le64(c);
    const std::uint32_t order = load_le32(c + 8);
    std::uint32_t num = load_le32(c + 12);
    if (order > KHO_MAX_WIRE_ORDER) {
      // The kernel would shift by >= 64 here; nothing meaningful to expand.
      note(issues, "khoser_mem_chunk order " + std::to_string(order) + " too large, chunk skipped", chunk);
      num = 0;
    }
    if (num > KHOSER_BITMAP_SIZE) {
      note(issues, "khoser_mem_chunk num_elms " + std::to_string(num) + " exceeds capacity 255; reading 255",
           chunk);
      num = KHOSER_BITMAP_SIZE;
    }
    const unsigned shift = order + KHO_PAGE_SHIFT;
    const std::uint64_t coverage_mask = order + KHO_PAGE_SHIFT + std::bit_width(nbits - 1) < 64
                                            ? (nbits << shift) - 1
                                            : ~std::uint64_t{0};
    // (nbits - 1) << shift is exact: then a bitmap whose phys_start is at most
    // 2^64 - 1 - span has no block wrapping past 2^64 and runs can be added whole.
    const bool exact = shift + static_cast<unsigned>(std::bit_width(nbits - 1)) <= 64;
    const std::uint64_t span = exact ? (nbits - 1) << shift : ~std::uint64_t{0};
    for (std::uint32_t i = 0; i < num; ++i) {
      const phys_addr_t elm = chunk + kChunkHdr + std::uint64_t{i} * kChunkElm;
      const std::uint8_t* e = c + kChunkHdr + std::uint64_t{i} * kChunkElm;
      const std::uint64_t phys_start = load_le64(e);
      const phys_addr_t bitmap = load_le64(e + 8);
      if (bitmap == 0 || !pr.touched(bitmap) || !pr.touched(bitmap + nbits / 8 - 1)) {
        note(issues, "bitmap pointer of entry " + std::to_string(i) + " is null or outside the image", elm + 8);
        continue;
      }
      if (phys_start & coverage_mask)
        note(issues, "phys_start of entry " + std::to_string(i) + " is not a multiple of the bitmap coverage", elm);
      const std::uint8_t* bm = pr.bytes(bitmap, nbits / 8, bitmap_buf.data());
      if (exact && phys_start <= ~std::uint64_t{0} - span) {
        for_each_bit_run(bm, nwords, [&](std::uint64_t bit, std::uint64_t len) {
          em.add(phys_start + (bit << shift), order, len);
        });
      } else {
        // Corrupt phys_start or a huge order: blocks may wrap (as the
        // kernel's u64 arithmetic does); add them one by one.
        for_each_bit_run(bm, nwords, [&](std::uint64_t bit, std::uint64_t len) {
          for (std::uint64_t k = 0; k < len; ++k) em.add(phys_start + ((bit + k) << shift), order, 1);
        });
      }
    }
    chunk = next;
  }
}

// kernel/liveupdate/kexec_handover.c __kho_radix_walk_tree() /
// kho_radix_walk_leaf(): depth-first over non-zero entries in index order, so
// keys ascend (higher orders first).
struct RadixWalker {
  PageReader pr;
  Issues* issues;
  RunEmitter& em;
  std::set<phys_addr_t> seen;

  bool enter(phys_addr_t node, phys_addr_t from) {
    if (node % kPage) {
      note(issues, "radix node pointer is not page-aligned, subtree skipped", from);
      return false;
    }
    if (!pr.touched(node)) {
      note(issues, "radix node pointer points outside the image, subtree skipped", from);
      return false;
    }
    if (!seen.insert(node).second) {
      note(issues, "radix node reached twice (shared subtree or cycle), skipped", from);
      return false;
    }
    return true;
  }

  // A node entered above: page-aligned and touched.
  const std::uint8_t* node_bytes(phys_addr_t node) {
    const auto v = pr.page(node / kPage);
    return v.data ? v.data : kZeroPage.data();
  }

  void leaf(phys_addr_t addr, std::uint64_t base) {
    const std::uint8_t* p = node_bytes(addr);
    if (base != 0) {
      // The order bit lies above the leaf's 15 bits: every key here is valid,
      // of one order, and consecutive bits are consecutive blocks.
      // decode(base | bit) = decode(base) + (bit << shift), without wrapping.
      const unsigned order = KHO_ORDER_0_LOG2 + 1 - static_cast<unsigned>(std::bit_width(base));
      const unsigned shift = order + KHO_PAGE_SHIFT;
      const phys_addr_t phys0 = kho_radix_decode_key(base).phys;
      for_each_bit_run(p, kLeafBits / 64, [&](std::uint64_t bit, std::uint64_t len) {
        em.add(phys0 + (bit << shift), order, len);
      });
      return;
    }
    // Leaf 0 holds orders 38..51 and the invalid keys 0 and 1: bit by bit.
    for_each_bit_run(p, kLeafBits / 64, [&](std::uint64_t bit0, std::uint64_t len) {
      for (std::uint64_t bit = bit0; bit < bit0 + len; ++bit) {
        if (!kho_radix_key_valid(bit)) {
          note(issues, "radix leaf bit " + std::to_string(bit) + " gives an invalid key", addr + bit / 64 * 8);
          continue;
        }
        const PreservedBlock b = kho_radix_decode_key(bit);
        em.add(b.phys, b.order, 1);
      }
    });
  }

  void table(phys_addr_t addr, unsigned level, std::uint64_t base) {
    const unsigned shift = (level - 1) * KHO_TABLE_SIZE_LOG2 + KHO_BITMAP_SIZE_LOG2;
    for_each_nonzero_entry(node_bytes(addr), [&](std::uint64_t i, std::uint64_t child) {
      const phys_addr_t slot = addr + i * 8;
      // Keys above bit 52 have no order: at the root, index >= 4 is corrupt.
      if (shift + std::bit_width(i) > KHO_ORDER_0_LOG2 + 1) {
        note(issues, "radix root index " + std::to_string(i) + " encodes no order, subtree skipped", slot);
        return;
      }
      if (!enter(child, slot)) return;
      const std::uint64_t key = base | i << shift;
      if (level == 1) {
        leaf(child, key);
      } else {
        table(child, level - 1, key);
      }
    });
  }
};

void walk_radix(const PhysImage& image, phys_addr_t root, RunEmitter& em, Issues* issues) {
  if (root == 0) return;
  RadixWalker w{PageReader(image), issues, em, {}};
  if (w.enter(root, root)) w.table(root, KHO_TREE_MAX_DEPTH - 1, 0);
}

void append_blocks(std::vector<PreservedBlock>& out, const PreservedRun& r) {
  const unsigned shift = r.order + KHO_PAGE_SHIFT;
  if (out.capacity() - out.size() < r.count) out.reserve(std::max<std::size_t>(out.size() + r.count, out.capacity() * 2));
  for (std::uint64_t i = 0; i < r.count; ++i) out.push_back(PreservedBlock{r.phys + (i << shift), r.order});
}

}  // namespace

// ---- next-kernel readers --------------------------------------------------------

void kho_mem_walk(const PhysImage& image, MemMapFormat fmt, phys_addr_t map, RunVisitorRef on_run,
                  std::vector<DecodeIssue>* issues) {
  RunEmitter em(on_run);
  if (fmt == MemMapFormat::radix) {
    walk_radix(image, map, em, issues);
  } else {
    walk_chunk_list(image, fmt, map, em, issues);
  }
  em.flush();
}

std::vector<PreservedRun> kho_mem_runs(const PhysImage& image, MemMapFormat fmt, phys_addr_t map,
                                       std::vector<DecodeIssue>* issues) {
  std::vector<PreservedRun> out;
  kho_mem_walk(image, fmt, map, [&out](const PreservedRun& r) { out.push_back(r); }, issues);
  return out;
}

std::vector<PreservedBlock> kho_expand_runs(const std::vector<PreservedRun>& runs) {
  std::vector<PreservedBlock> out;
  for (const auto& r : runs) append_blocks(out, r);
  return out;
}

std::vector<PreservedBlock> kho_mem_deserialize(const PhysImage& image, MemMapFormat fmt, phys_addr_t map,
                                                std::vector<DecodeIssue>* issues) {
  std::vector<PreservedBlock> out;
  kho_mem_walk(image, fmt, map, [&out](const PreservedRun& r) { append_blocks(out, r); }, issues);
  return out;
}

}  // namespace khospec::model
