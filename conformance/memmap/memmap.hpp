// Decoders for the preserved-memory map, read from a memory image:
//   kho-v1 (6.16 .. 6.19): a list of khoser_mem_chunk pages, each holding
//     {phys_start, bitmap} entries of one order (kho_mem_serialize() /
//     kho_mem_deserialize(), kernel/kexec_handover.c);
//   kho-v2+ : a 6-level radix tree of page tables with bitmap leaves, keyed by
//     (1 << (52 - order)) | (phys >> (PAGE_SHIFT + order))
//     (kho_radix_walk_tree(), kernel/liveupdate/kexec_handover.c).
// Layouts: schemas/layouts/*.yaml (the layout test checks these constants).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "conformance/image/image.hpp"
#include "core/diag.hpp"

namespace khospec::conformance {

inline constexpr unsigned kPageShift = 12;  // KHO data is tied to the page size; 4 KiB (x86-64, arm64 4K)
inline constexpr std::uint64_t kPageSize = std::uint64_t{1} << kPageShift;
inline constexpr unsigned kMaxPageOrder = 10;  // MAX_PAGE_ORDER (x86-64 default)
// khoser_mem_chunk: 16-byte header {u64 next; u32 order; u32 num_elms} + 16-byte entries.
inline constexpr std::uint64_t kChunkHdrSize = 16;
inline constexpr std::uint64_t kChunkEntrySize = 16;
inline constexpr std::uint64_t kChunkCapacity = (kPageSize - kChunkHdrSize) / kChunkEntrySize;  // 255
// Radix tree (enum kho_radix_consts).
inline constexpr unsigned kRadixOrder0Log2 = 64 - kPageShift;         // 52
inline constexpr unsigned kRadixTableLog2 = 9;                         // 512 entries
inline constexpr unsigned kRadixBitmapLog2 = kPageShift + 3;           // 32768 bits
inline constexpr unsigned kRadixDepth = 6;                             // levels 5..0

struct PreservedBlock {
  std::uint64_t phys = 0;
  unsigned order = 0;
  std::uint64_t size() const { return kPageSize << order; }
  std::uint64_t end() const { return phys + size(); }  // callers ensure no wrap
  bool operator<(const PreservedBlock& o) const { return phys != o.phys ? phys < o.phys : order < o.order; }
  bool operator==(const PreservedBlock& o) const { return phys == o.phys && order == o.order; }
};

enum class BitmapSize { automatic, b512, page };

struct MapOptions {
  BitmapSize v1_bitmap = BitmapSize::automatic;
  std::size_t max_items = 1u << 20;  // chunks + entries + nodes + blocks walked
};

// Where findings point: the FDT property the map hangs off.
struct MapSite {
  std::string file;
  std::string node = "/";
  std::string property = "preserved-memory-map";
  std::uint64_t offset = 0;
};

struct MapDecode {
  std::string format;                  // "kho-v1 chunk list, 512-byte bitmaps", "kho-v2+ radix tree"
  std::uint64_t head = 0;              // the preserved-memory-map value: first chunk or radix root
  std::vector<PreservedBlock> blocks;  // sorted by (phys, order)
  std::vector<std::uint64_t> metadata_pages;  // chunk / bitmap / node pages (never preserved themselves)
  bool complete = false;               // every pointer was followed
};

MapDecode decode_v1_chunks(const MemoryImage& image, std::uint64_t head, const MapOptions& opts,
                           const MapSite& site, Report& report);
MapDecode decode_radix(const MemoryImage& image, std::uint64_t root, const MapOptions& opts, const MapSite& site,
                       Report& report);

// Radix key helpers (exposed for tests): encode / decode one block.
std::uint64_t radix_encode(std::uint64_t phys, unsigned order);
bool radix_decode(std::uint64_t key, std::uint64_t& phys, unsigned& order);

// kho_map_overlap for blocks that overlap (sorted input).
void check_overlaps(const std::vector<PreservedBlock>& blocks, const MapSite& site, Report& report);
// True when [addr, addr+len) is fully covered by the union of `blocks` (sorted).
bool covered(const std::vector<PreservedBlock>& blocks, std::uint64_t addr, std::uint64_t len);

}  // namespace khospec::conformance
