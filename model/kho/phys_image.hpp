// A sparse physical memory image: only touched pages are stored.
//
// The KHO model writes every serialized structure (FDTs, chunk lists,
// bitmaps, radix nodes, vmalloc chunks, kho_blocks, client blobs, the scratch
// array) at its physical address, exactly as the kernel lays it out, and the
// next kernel of the model reads them back from here and nowhere else.
// Untouched memory reads as zero.
#pragma once

#include <cstdint>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace khospec::model {

using phys_addr_t = std::uint64_t;

class PhysImage {
 public:
  static constexpr std::uint64_t kPageSize = 4096;

  void write(phys_addr_t addr, std::span<const std::uint8_t> bytes);
  void read(phys_addr_t addr, std::span<std::uint8_t> out) const;
  std::vector<std::uint8_t> read(phys_addr_t addr, std::size_t len) const;
  void fill(phys_addr_t addr, std::uint64_t len, std::uint8_t value);

  std::uint32_t read_u32(phys_addr_t addr) const;  // native (little) endian
  std::uint64_t read_u64(phys_addr_t addr) const;
  void write_u32(phys_addr_t addr, std::uint32_t v);
  void write_u64(phys_addr_t addr, std::uint64_t v);

  bool touched(phys_addr_t addr) const;  // is the page holding addr stored?
  // The stored bytes of page `pfn`, or nullptr when it reads as zeros.
  const std::uint8_t* page_data(std::uint64_t pfn) const;
  // touched() and page_data() in one lookup, for readers that walk many
  // pages (the preserved-set walk): data is null when the page reads as zeros.
  struct PageView {
    bool touched = false;
    const std::uint8_t* data = nullptr;
  };
  PageView page_view(std::uint64_t pfn) const;
  std::size_t page_count() const { return pages_.size(); }
  // Calls fn(pfn, bytes) for every page in [first, last] that may hold data,
  // ascending (bytes null: reads as zeros). Without a source only stored pages
  // are visited; with one, every page of the range is (the source may hold it).
  void for_each_page(std::uint64_t first, std::uint64_t last,
                     const std::function<void(std::uint64_t, const std::uint8_t*)>& fn) const;
  // Touched pages as [start, end) runs of contiguous page frames, ascending.
  std::vector<std::pair<phys_addr_t, phys_addr_t>> runs() const;
  void clear() { pages_.clear(); }

  // Pages this image has not stored are read from `source` on first use (and
  // kept): a machine whose RAM is another kernel's memory (preflight boots the
  // next kernel of the model from a real hand-over), without copying gigabytes.
  // `source` fills one page and returns false when it has none (reads as zeros,
  // not touched).
  using PageSource = std::function<bool(std::uint64_t pfn, std::uint8_t* page)>;
  void set_source(PageSource source) { source_ = std::move(source); }

  // Raw image: the bytes of [base, base + len) (untouched pages as zeros).
  std::vector<std::uint8_t> save_raw(phys_addr_t base, std::uint64_t len) const;
  void load_raw(phys_addr_t base, std::span<const std::uint8_t> bytes);
  // ELF64 little-endian core with one PT_LOAD per run (p_paddr = physical
  // address), the shape of QEMU dump-guest-memory output and of the
  // memory.elf files of the captured hand-overs.
  std::vector<std::uint8_t> save_elf() const;

 private:
  using Page = std::array<std::uint8_t, kPageSize>;
  Page& page_for_write(std::uint64_t pfn);
  using Pages = std::map<std::uint64_t, std::unique_ptr<Page>>;
  // pages_ entry of pfn, fetched from source_ when missing (end() when neither has it).
  Pages::const_iterator find(std::uint64_t pfn) const;
  mutable Pages pages_;  // pfn -> contents (null: all zeros); mutable: filled from source_ on reads
  PageSource source_;
  mutable std::set<std::uint64_t> source_lacks_;
};

// The content digest of preserved blocks: FNV-1a over the pages of
// [phys, phys + len) that hold anything but zeros, each with its offset, so
// equal contents give equal digests. It costs the stored pages in the range,
// not its length: a block of hundreds of GiB that was never written is cheap.
std::uint64_t image_digest(const PhysImage& image, phys_addr_t phys, std::uint64_t len);

// What the running kernel's page allocator does for KHO metadata and client
// buffers (kzalloc / get_zeroed_page / alloc_pages / folio_alloc). The model's
// implementation never returns scratch (MIGRATE_CMA) memory for these
// unmovable allocations. Returned memory is zero-filled in the image.
class PageAllocator {
 public:
  virtual ~PageAllocator() = default;
  // `bytes` rounded up to `align` (a power of two); 0 on failure.
  virtual phys_addr_t alloc(std::uint64_t bytes, std::uint64_t align) = 0;
  virtual void free(phys_addr_t addr, std::uint64_t bytes) = 0;
};

}  // namespace khospec::model
