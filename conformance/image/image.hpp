// Physical memory images for following KHO pointers: a raw image placed at
// --memory-base, an ELF64 core whose PT_LOAD segments carry p_paddr = the
// physical address (QEMU dump-guest-memory, /proc/kcore, the captures'
// memory.elf), or page files each placed at its own address (FILE@ADDR, a
// capture's mem_*_0xADDR.bin pages). The ELF headers are parsed by hand with
// <elf.h> structs and strict bounds checks (this is not an FDT); a malformed
// image is a kho_image_* finding, never a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/diag.hpp"

namespace khospec::conformance {

struct ImageSegment {
  std::uint64_t paddr = 0;
  std::uint64_t size = 0;         // bytes present in the file (p_filesz)
  std::uint64_t file_offset = 0;
  std::size_t source = 0;         // which file holds it (page files: one each)
};

// A file of raw bytes that lay at `paddr` (FILE@ADDR, or a page file of a capture).
struct PageFile {
  std::string path;
  std::uint64_t paddr = 0;
};

// "FILE@ADDR" -> the page file; nullopt when the text after the last '@' is no address.
std::optional<PageFile> parse_page_file(const std::string& arg);
// The page files of a directory: a capture's `mem_*.bin`, whose address is the
// last `_0xADDR` (or `_at0xADDR`) part of the name (mem_chunk_0_0x3a1000.bin,
// mem_bitmap_..._at0x2d7e00.bin, mem_prev_preserved_0x1f5000_order0.bin).
// Empty when there are none.
std::vector<PageFile> page_files_in(const std::string& dir);

// A PT_LOAD's virtual window onto physical memory (p_vaddr -> p_paddr), kept
// whole even where the physical bytes were trimmed as an overlap.
struct VirtualWindow {
  std::uint64_t vaddr = 0;
  std::uint64_t paddr = 0;
  std::uint64_t size = 0;
};

// /proc/kcore maps the same physical bytes twice (the kernel image at its
// link address and the direct map), so there overlaps are expected, not a finding.
enum class Aliasing { reported, expected };

class MemoryImage {
 public:
  // Reads `len` bytes at file offset `off` into `out`; false when not possible.
  using ByteReader = std::function<bool(std::uint64_t off, std::size_t len, std::uint8_t* out)>;

  MemoryImage() = default;
  // The image held in memory. With `raw_base` the bytes are a raw image starting
  // at that physical address; without it they must be an ELF64 core.
  static MemoryImage from_bytes(std::vector<std::uint8_t> bytes, std::optional<std::uint64_t> raw_base,
                                const std::string& name, Report& report);
  // A file read on demand with pread() (so /proc/kcore and multi-GiB QEMU dumps
  // are never loaded whole). Returns false and sets `error` when it cannot be opened.
  static bool from_file(const std::string& path, std::optional<std::uint64_t> raw_base, MemoryImage& out,
                        Report& report, std::string& error, Aliasing aliasing = Aliasing::reported);

  // Page files, each at its own address, read as one image named `name`. Files
  // that overlap must agree on the bytes they share (a capture reads some pages
  // twice); otherwise, or when a file cannot be read, false and `error`.
  static bool from_pages(const std::vector<PageFile>& pages, const std::string& name, MemoryImage& out,
                         std::string& error);

  // True when at least one segment was accepted.
  bool ok() const { return !segments_.empty(); }
  const std::string& name() const { return name_; }
  const std::vector<ImageSegment>& segments() const { return segments_; }
  // Every byte of [paddr, paddr+len) is present (possibly across adjacent segments).
  bool contains(std::uint64_t paddr, std::uint64_t len) const;
  // Copies [paddr, paddr+len); false (and nothing guaranteed in `out`) when not all present.
  bool read(std::uint64_t paddr, std::span<std::uint8_t> out) const;
  std::optional<std::vector<std::uint8_t>> read_vec(std::uint64_t paddr, std::size_t len) const;
  // The physical address behind a kernel virtual address, from the segments'
  // p_vaddr (a kcore's direct map and kernel image); nullopt when no segment maps it.
  std::optional<std::uint64_t> virt_to_phys(std::uint64_t vaddr) const;

 private:
  void load(std::uint64_t total, std::optional<std::uint64_t> raw_base, Report& report, Aliasing aliasing);
  std::string name_;
  std::vector<ImageSegment> segments_;  // sorted by paddr, non-overlapping
  std::vector<VirtualWindow> windows_;
  std::vector<std::shared_ptr<void>> owners_;  // keep the bytes or the file descriptors alive
  std::vector<ByteReader> readers_;            // one per source file
  static bool open_source(const std::string& path, std::shared_ptr<void>& owner, ByteReader& reader,
                          std::uint64_t& total, std::string& error);
};

}  // namespace khospec::conformance
