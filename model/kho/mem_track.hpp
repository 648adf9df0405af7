// Preserved-memory tracking as the kernel keeps it, in the physical image:
//   - kho-v1 (6.16-6.19): per-order xarrays of bitmaps (512-byte bitmaps in
//     6.16, PAGE_SIZE bitmaps from 6.18) serialized at finalize into a linked
//     list of khoser_mem_chunk pages (kernel/kexec_handover.c kho_mem_serialize);
//   - kho-v2+ (stateless): a 6-level radix tree updated live
//     (kernel/liveupdate/kexec_handover.c kho_radix_add_page / kho_radix_walk_tree).
// Plus the other KHO wire structures that hang off preserved memory:
// vmalloc chunk lists (struct kho_vmalloc) and kho_block chains (kho-v4).
//
// Every bit and pointer is written into the PhysImage the moment the kernel
// would write it, so stale-map hazards (6.19: a new bitmap after the last
// finalize) fall out of the model rather than being special-cased.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "model/kho/phys_image.hpp"
#include "registry/era.hpp"

namespace khospec::model {

using MemMapFormat = registry::MemMapFormat;

struct PreservedBlock {
  phys_addr_t phys = 0;
  unsigned order = 0;  // 2^order pages of 4 KiB
  bool operator==(const PreservedBlock&) const = default;
  auto operator<=>(const PreservedBlock&) const = default;
};

// A problem found while decoding wire structures from an image (the next
// kernel's reader, or the validator): never fatal to the model.
struct DecodeIssue {
  std::string what;
  phys_addr_t at = 0;
};

// The outgoing kernel's tracker. Metadata pages come from `alloc` when first
// needed; errors are the kernel's (-ENOMEM when the allocator fails).
class MemTrack {
 public:
  MemTrack(MemMapFormat fmt, PhysImage& image, PageAllocator& alloc);
  ~MemTrack();
  MemTrack(const MemTrack&) = delete;
  MemTrack& operator=(const MemTrack&) = delete;

  MemMapFormat format() const { return fmt_; }

  // __kho_preserve_order() / kho_radix_add_page(): 0 or -ENOMEM. The caller
  // has checked alignment; pfn must be a multiple of 2^order.
  int preserve_order(std::uint64_t pfn, unsigned order);
  // __kho_unpreserve_order() / kho_radix_del_page(): clears the bit; never
  // frees bitmaps or nodes (empty ones can appear in a map).
  void unpreserve_order(std::uint64_t pfn, unsigned order);
  bool is_preserved(std::uint64_t pfn, unsigned order) const;

  // The preserved set P, ordered by (order, phys).
  std::vector<PreservedBlock> blocks() const;
  // Pages (or 512-byte objects) holding tracker metadata: bitmaps, radix
  // nodes, and the serialized chunk list. [addr, addr+len) each.
  std::vector<std::pair<phys_addr_t, std::uint64_t>> metadata() const;

  // kho_abort() (6.16/6.18): free every bitmap / per-order structure and any
  // serialized chunk list; the tracker is empty afterwards.
  void destroy();

  // Bitmap formats only. kho_mem_serialize(): write a fresh chunk list
  // (orders ascending, one or more chunks per order, 255 entries per chunk,
  // entries ascending by bitmap index) and return the first chunk's phys
  // (0 when nothing is preserved), or nullopt on -ENOMEM (nothing leaked).
  std::optional<phys_addr_t> serialize();
  // Free the chunk list written by serialize() (kho_mem_ser_free /
  // kho_update_memory_map); the bitmaps stay.
  void free_serialized();
  phys_addr_t serialized_head() const { return chunk_head_; }

  // Radix only: the root node (allocated by the constructor, as kho_init()
  // does with kzalloc(PAGE_SIZE)); 0 for bitmap formats or if that failed.
  phys_addr_t radix_root() const { return radix_root_; }
  // Radix only, INV_RADIX_TREE_SHAPE on the live tree: every non-zero entry
  // of a table node at level L (5..1) points at a node this tracker
  // allocated at level L-1, so every leaf lies five table hops below the
  // root. One issue per offending entry; empty for bitmap formats.
  std::vector<DecodeIssue> radix_shape_issues() const;

 private:
  struct Impl;
  MemMapFormat fmt_;
  PhysImage& image_;
  PageAllocator& alloc_;
  phys_addr_t chunk_head_ = 0;
  phys_addr_t radix_root_ = 0;
  Impl* impl_;
};

// ---- next kernel / validator side: decode from image bytes only ----------

// `count` preserved blocks of one order, consecutive in memory and in the
// walk: blocks phys + i * (PAGE_SIZE << order) for i < count. A run never
// wraps past the top of the 64-bit physical address space.
struct PreservedRun {
  phys_addr_t phys = 0;
  unsigned order = 0;
  std::uint64_t count = 0;
  bool operator==(const PreservedRun&) const = default;
};

// A non-owning reference to any callable taking `const PreservedRun&` (a
// function pointer and a context, no allocation). Keep the callable alive
// for the call it is passed to.
class RunVisitorRef {
 public:
  template <typename F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, RunVisitorRef>)
  RunVisitorRef(F&& f)  // NOLINT: implicit, so lambdas can be passed directly
      : ctx_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* ctx, const PreservedRun& run) { (*static_cast<std::remove_reference_t<F>*>(ctx))(run); }) {}
  void operator()(const PreservedRun& run) const { call_(ctx_, run); }

 private:
  void* ctx_;
  void (*call_)(void*, const PreservedRun&);
};

// The preserved-set walk as maximal runs: exactly the blocks of
// kho_mem_deserialize() below, in the same order, with every maximal stretch
// of consecutive same-order blocks reported as one run (what a batch reserve
// needs), and exactly the same `issues`. Bitmap words are read in place from
// the image's pages: an all-ones word extends the open run by 64 blocks, a
// zero word costs one test, other words are split into runs with ctz.
void kho_mem_walk(const PhysImage& image, MemMapFormat fmt, phys_addr_t map, RunVisitorRef on_run,
                  std::vector<DecodeIssue>* issues);
// Convenience: the runs of kho_mem_walk() as a vector; and their blocks.
std::vector<PreservedRun> kho_mem_runs(const PhysImage& image, MemMapFormat fmt, phys_addr_t map,
                                       std::vector<DecodeIssue>* issues);
std::vector<PreservedBlock> kho_expand_runs(const std::vector<PreservedRun>& runs);

// kho_mem_deserialize() (bitmap formats; `map` = first chunk) or
// kho_radix_walk_tree() (radix; `map` = root). Blocks are returned in the
// kernel's visit order: chunk order for bitmaps (orders ascending), and for
// the radix walk ascending keys (so higher orders first). Bounded: cycles,
// out-of-range orders, num_elms above capacity and similar corruption are
// reported in `issues` and skipped, never looped on. (kho_mem_walk() expanded.)
std::vector<PreservedBlock> kho_mem_deserialize(const PhysImage& image, MemMapFormat fmt,
                                                phys_addr_t map, std::vector<DecodeIssue>* issues);

// Radix key encoding (kho_radix_encode_key() / kho_radix_decode_key(),
// kernel/liveupdate/kexec_handover.c, 7.1), exposed for tests and the spec.
std::uint64_t kho_radix_encode_key(phys_addr_t phys, unsigned order);
PreservedBlock kho_radix_decode_key(std::uint64_t key);

// ---- additions (constants and helpers shared with the spec and tests) -----

// 4 KiB pages throughout (PAGE_SHIFT 12).
inline constexpr unsigned KHO_PAGE_SHIFT = 12;
// Largest order the wire formats can express: (order + PAGE_SHIFT) must be a
// valid shift of a u64. The trackers refuse larger orders with -EINVAL.
inline constexpr unsigned KHO_MAX_WIRE_ORDER = 51;
// kho-v1: entries per khoser_mem_chunk, (PAGE_SIZE - 16) / 16.
inline constexpr std::uint64_t KHOSER_BITMAP_SIZE = 255;
// kho-v1: bits per bitmap (PRESERVE_BITS): 4096 (6.16) or 32768 (6.18+); 0 for radix.
std::uint64_t kho_preserve_bits(MemMapFormat fmt);
// Radix constants (enum kho_radix_consts, 4 KiB pages).
inline constexpr unsigned KHO_ORDER_0_LOG2 = 52;
inline constexpr unsigned KHO_TABLE_SIZE_LOG2 = 9;
inline constexpr unsigned KHO_BITMAP_SIZE_LOG2 = 15;
inline constexpr unsigned KHO_TREE_MAX_DEPTH = 6;
// kho_radix_get_table_index() for level 1..5, kho_radix_get_bitmap_index().
unsigned kho_radix_table_index(std::uint64_t key, unsigned level);
unsigned kho_radix_bitmap_index(std::uint64_t key);
// A key decodes to a block iff 2 <= fls64(key) <= 53 (order 0..51). Invalid
// keys decode to {phys 0, order 64}; encode returns 0 for order > 51.
bool kho_radix_key_valid(std::uint64_t key);
// The key checks MemTrack::preserve_order() runs before it touches the tree:
// INV_RADIX_KEY_BIJECTIVE when `key` does not decode back to `block`, and
// INV_RADIX_TREE_SHAPE when its five table indices and leaf bit do not
// rebuild it (a key wider than the depth-6 tree). The IDs that fail; empty
// for every key kho_radix_encode_key() makes (a pure function, proved exact
// by the spec's Z3 obligations), so only a planted key shows them firing.
std::vector<std::string> kho_radix_key_violations(const PreservedBlock& block, std::uint64_t key);
// struct kho_vmalloc_chunk entries (PAGE_SIZE - 8) / 8.
inline constexpr std::uint64_t KHO_VMALLOC_SIZE = 511;
// kho_block.c KHO_MAX_BLOCKS.
inline constexpr std::size_t KHO_MAX_BLOCKS = 10000;

// The greedy split of kho_preserve_phys()/kho_preserve_pages(): at pfn p with
// end e, order = min(ctz(p), ilog2(e - p)).
std::vector<PreservedBlock> kho_split_range(std::uint64_t start_pfn, std::uint64_t nr_pages);
// INV_PRESERVED_SPLIT_EXACT: `blocks` covers [start_pfn, start_pfn + nr_pages)
// exactly with naturally aligned consecutive blocks, at most max(1, 2*floor(log2 n)).
bool kho_split_exact(std::uint64_t start_pfn, std::uint64_t nr_pages, const std::vector<PreservedBlock>& blocks);

// struct kho_vmalloc (16 bytes, embedded by clients).
struct KhoVmalloc {
  phys_addr_t first = 0;       // first kho_vmalloc_chunk
  std::uint32_t total_pages = 0;
  std::uint16_t flags = 0;     // KHO_VMALLOC_ALLOC 0x1, KHO_VMALLOC_HUGE_VMAP 0x2
  std::uint16_t order = 0;
};
inline constexpr std::uint16_t KHO_VMALLOC_ALLOC = 0x1;
inline constexpr std::uint16_t KHO_VMALLOC_HUGE_VMAP = 0x2;

// kho_preserve_vmalloc()'s wire part: writes the chunk list (page-sized
// chunks {u64 next; u64 phys[511]}, allocated from `alloc`) for the data
// blocks `block_phys` (each 2^order pages). Returns the chunk pages in list
// order, or nullopt on -ENOMEM (all chunks freed). The caller preserves the
// chunk pages (order 0) and the data blocks.
std::optional<std::vector<phys_addr_t>> kho_vmalloc_write(PhysImage& image, PageAllocator& alloc,
                                                          const std::vector<phys_addr_t>& block_phys,
                                                          unsigned order, std::uint16_t flags,
                                                          KhoVmalloc* out);
// The 16-byte struct kho_vmalloc as clients embed it (native endian).
void kho_vmalloc_store(PhysImage& image, phys_addr_t at, const KhoVmalloc& v);
KhoVmalloc kho_vmalloc_load(const PhysImage& image, phys_addr_t at);
// kho_restore_vmalloc()'s reading: the data block addresses, or nullopt with
// issues (unsupported flags, count mismatch with total_pages, cycles).
std::optional<std::vector<phys_addr_t>> kho_vmalloc_read(const PhysImage& image, const KhoVmalloc& v,
                                                         std::vector<DecodeIssue>* issues);

// kho-v4 linked blocks (include/linux/kho/abi/block.h): page-sized blocks
// {u64 next; u64 count; entries[]}, count_per_block = (PAGE_SIZE-16)/entry_size.
// Writes `entries` (each exactly entry_size bytes) and returns the block
// pages in chain order (nullopt on -ENOMEM; empty entries -> no blocks).
std::optional<std::vector<phys_addr_t>> kho_block_write(PhysImage& image, PageAllocator& alloc,
                                                        const std::vector<std::vector<std::uint8_t>>& entries,
                                                        std::size_t entry_size);
// Reader rules: count == 0 or > count_per_block rejected, at most
// KHO_MAX_BLOCKS = 10000 blocks, cycle check.
std::optional<std::vector<std::vector<std::uint8_t>>> kho_block_read(const PhysImage& image, phys_addr_t head,
                                                                     std::size_t entry_size,
                                                                     std::vector<DecodeIssue>* issues);

}  // namespace khospec::model
