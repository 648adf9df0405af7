// Preserved-memory tracking (kho-abi.md §3, kho-model.md §3): the kho-v1
// bitmap tracker and its chunk-list serialization, the stateless radix tree,
// and the readers of both; plus the vmalloc chunk lists (§5.3) and kho_block
// chains (§5.6).
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
#include <set>
#include <span>

#include "model/memblock/memblock.hpp"  // MODEL_ENOMEM, MODEL_EINVAL

namespace khospec::model {

namespace {

constexpr std::uint64_t kPage = PhysImage::kPageSize;
constexpr std::uint64_t kChunkHdr = 16;        // struct khoser_mem_chunk_hdr
constexpr std::uint64_t kChunkElm = 16;        // struct khoser_mem_bitmap_ptr
constexpr std::uint64_t kTableEntries = 1u << KHO_TABLE_SIZE_LOG2;
constexpr std::uint64_t kLeafBits = 1u << KHO_BITMAP_SIZE_LOG2;
constexpr std::uint64_t kBlockHdr = 16;        // struct kho_block_header_ser
constexpr std::uint16_t kVmallocKnownFlags = KHO_VMALLOC_ALLOC | KHO_VMALLOC_HUGE_VMAP;

using Issues = std::vector<DecodeIssue>;

void note(Issues* issues, std::string what, phys_addr_t at) {
  if (issues) issues->push_back(DecodeIssue{std::move(what), at});
}

std::uint64_t bitmap_bytes(MemMapFormat fmt) { return kho_preserve_bits(fmt) / 8; }

// 6.16 kzalloc(512) is 512-aligned (kmalloc-512); 6.18+ get_zeroed_page.
std::uint64_t bitmap_align(MemMapFormat fmt) { return fmt == MemMapFormat::bitmap512 ? 512 : kPage; }

phys_addr_t alloc_zeroed(PageAllocator& alloc, PhysImage& image, std::uint64_t bytes, std::uint64_t align) {
  const phys_addr_t a = alloc.alloc(bytes, align);
  if (a) image.fill(a, bytes, 0);  // kzalloc / get_zeroed_page semantics
  return a;
}

void set_bit(PhysImage& image, phys_addr_t bitmap, std::uint64_t bit) {
  const phys_addr_t w = bitmap + bit / 64 * 8;
  image.write_u64(w, image.read_u64(w) | std::uint64_t{1} << (bit % 64));
}
void clear_bit(PhysImage& image, phys_addr_t bitmap, std::uint64_t bit) {
  const phys_addr_t w = bitmap + bit / 64 * 8;
  image.write_u64(w, image.read_u64(w) & ~(std::uint64_t{1} << (bit % 64)));
}
bool test_bit(const PhysImage& image, phys_addr_t bitmap, std::uint64_t bit) {
  return (image.read_u64(bitmap + bit / 64 * 8) >> (bit % 64)) & 1;
}

// for_each_set_bit() over a bitmap of `nbits` at `addr`: one read of the
// whole bitmap, then word-wise ctz, O(words + set bits).
template <typename F>
void for_each_set_bit(const PhysImage& image, phys_addr_t addr, std::uint64_t nbits, F&& f) {
  const auto bytes = image.read(addr, static_cast<std::size_t>(nbits / 8));
  for (std::size_t w = 0; w < bytes.size() / 8; ++w) {
    std::uint64_t word = 0;
    for (int b = 7; b >= 0; --b) word = word << 8 | bytes[w * 8 + static_cast<std::size_t>(b)];
    while (word) {
      const unsigned bit = static_cast<unsigned>(std::countr_zero(word));
      f(std::uint64_t{w} * 64 + bit);
      word &= word - 1;
    }
  }
}

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

// ---- constants and key helpers ----------------------------------------------

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

// kho_radix_encode_key(): order bit at 52 - order, then phys >> (12 + order).
std::uint64_t kho_radix_encode_key(phys_addr_t phys, unsigned order) {
  if (order > KHO_MAX_WIRE_ORDER) return 0;
  return std::uint64_t{1} << (KHO_ORDER_0_LOG2 - order) | phys >> (KHO_PAGE_SHIFT + order);
}

bool kho_radix_key_valid(std::uint64_t key) {
  const int fls = std::bit_width(key);
  return fls >= 2 && fls <= static_cast<int>(KHO_ORDER_0_LOG2) + 1;
}

// kho_radix_decode_key(): order = 52 - fls64(key) + 1, phys = key << (12 + order)
// (the order bit falls off the top).
PreservedBlock kho_radix_decode_key(std::uint64_t key) {
  if (!kho_radix_key_valid(key)) return PreservedBlock{0, 64};
  const unsigned order = KHO_ORDER_0_LOG2 + 1 - static_cast<unsigned>(std::bit_width(key));
  return PreservedBlock{key << (KHO_PAGE_SHIFT + order), order};
}

unsigned kho_radix_table_index(std::uint64_t key, unsigned level) {
  if (level == 0 || level >= KHO_TREE_MAX_DEPTH) return 0;
  return static_cast<unsigned>((key >> ((level - 1) * KHO_TABLE_SIZE_LOG2 + KHO_BITMAP_SIZE_LOG2)) %
                               kTableEntries);
}

unsigned kho_radix_bitmap_index(std::uint64_t key) { return static_cast<unsigned>(key % kLeafBits); }

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
    // Runtime checks of spec/kho.md INV_RADIX_KEY_BIJECTIVE (the key decodes
    // back to this block) and INV_RADIX_TREE_SHAPE (five 9-bit table indices
    // and a 15-bit leaf bit rebuild the key): never fire on a valid block.
    std::uint64_t rebuilt = kho_radix_bitmap_index(key);
    for (unsigned level = 1; level < KHO_TREE_MAX_DEPTH; ++level)
      rebuilt |= std::uint64_t{kho_radix_table_index(key, level)}
                 << ((level - 1) * KHO_TABLE_SIZE_LOG2 + KHO_BITMAP_SIZE_LOG2);
    const bool aligned = (pfn & ((std::uint64_t{1} << order) - 1)) == 0;
    if (aligned && (kho_radix_decode_key(key) != PreservedBlock{pfn << KHO_PAGE_SHIFT, order} || rebuilt != key))
      return MODEL_EINVAL;
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
  for (const auto& [order, bitmaps] : impl_->orders) {
    const unsigned shift = order + KHO_PAGE_SHIFT;
    for (const auto& [idx, bm] : bitmaps) {
      for_each_set_bit(image_, bm, nbits, [&](std::uint64_t bit) {
        out.push_back(PreservedBlock{(idx * nbits + bit) << shift, order});
      });
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

// ---- vmalloc --------------------------------------------------------------------

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

// ---- kho_block chains -------------------------------------------------------

namespace {
std::uint64_t count_per_block(std::size_t entry_size) {
  return entry_size ? (kPage - kBlockHdr) / entry_size : 0;
}
}  // namespace

// kho_block_set_grow() then kho_block_set_it_reserve_entry() (kho_block.c):
// all blocks are allocated and chained first (kho_alloc_preserve(PAGE_SIZE),
// zeroed), then filled in order, count updated per entry. On failure the
// blocks are freed last-first (kho_block_set_shrink_one).
std::optional<std::vector<phys_addr_t>> kho_block_write(PhysImage& image, PageAllocator& alloc,
                                                        const std::vector<std::vector<std::uint8_t>>& entries,
                                                        std::size_t entry_size) {
  const std::uint64_t cpb = count_per_block(entry_size);
  if (cpb == 0) return std::nullopt;  // WARN_ON_ONCE(!bs->count_per_block)
  for (const auto& e : entries)
    if (e.size() != entry_size) return std::nullopt;
  const std::uint64_t nblocks = (entries.size() + cpb - 1) / cpb;
  if (nblocks > KHO_MAX_BLOCKS) return std::nullopt;  // -ENOSPC
  std::vector<phys_addr_t> blocks;
  for (std::uint64_t b = 0; b < nblocks; ++b) {
    const phys_addr_t blk = alloc_zeroed(alloc, image, kPage, kPage);
    if (!blk) {
      for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) alloc.free(*it, kPage);
      return std::nullopt;
    }
    if (!blocks.empty()) image.write_u64(blocks.back(), blk);
    blocks.push_back(blk);
  }
  for (std::uint64_t i = 0; i < entries.size(); ++i) {
    const phys_addr_t blk = blocks[i / cpb];
    const std::uint64_t slot = i % cpb;
    image.write(blk + kBlockHdr + slot * entry_size, entries[i]);
    image.write_u64(blk + 8, slot + 1);
  }
  return blocks;
}

// kho_block_set_restore(): first the chain check (Floyd in the kernel, bounded
// by KHO_MAX_BLOCKS; a chain longer than that fails with -ENOSPC while being
// added), then every count must be in 1..count_per_block.
std::optional<std::vector<std::vector<std::uint8_t>>> kho_block_read(const PhysImage& image, phys_addr_t head,
                                                                     std::size_t entry_size,
                                                                     std::vector<DecodeIssue>* issues) {
  std::vector<std::vector<std::uint8_t>> out;
  const std::uint64_t cpb = count_per_block(entry_size);
  if (cpb == 0) {
    note(issues, "kho_block: entry size gives no entry per block", head);
    return std::nullopt;
  }
  std::vector<phys_addr_t> chain;
  std::set<phys_addr_t> seen;
  for (phys_addr_t blk = head; blk != 0; blk = image.read_u64(blk)) {
    if (!seen.insert(blk).second) {
      note(issues, "Block set is corrupted (cycle)", blk);
      return std::nullopt;
    }
    if (chain.size() == KHO_MAX_BLOCKS) {
      note(issues, "Block set is corrupted (more than KHO_MAX_BLOCKS blocks)", blk);
      return std::nullopt;
    }
    if (!image.touched(blk)) {
      note(issues, "kho_block points outside the image", blk);
      return std::nullopt;
    }
    chain.push_back(blk);
  }
  for (const phys_addr_t blk : chain) {
    const std::uint64_t count = image.read_u64(blk + 8);
    if (count == 0 || count > cpb) {
      note(issues, "Block contains invalid entry count: " + std::to_string(count), blk + 8);
      return std::nullopt;
    }
    for (std::uint64_t i = 0; i < count; ++i)
      out.push_back(image.read(blk + kBlockHdr + i * entry_size, entry_size));
  }
  return out;
}

}  // namespace khospec::model
