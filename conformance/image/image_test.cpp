#include "conformance/image/image.hpp"

#include <gtest/gtest.h>

#include <elf.h>

#include <cstring>
#include <unistd.h>
#include <fstream>
#include <filesystem>

#include "core/elf.hpp"

namespace khospec::conformance {
namespace {

using Pages = std::map<std::uint64_t, std::vector<std::uint8_t>>;

Pages two_pages() {
  Pages p;
  p[0x15f000].assign(4096, 0x11);
  p[0x160000].assign(4096, 0x22);  // adjacent: one PT_LOAD
  p[0x3de000].assign(4096, 0x33);
  return p;
}

TEST(MemoryImage, ElfCoreSegmentsByPhysicalAddress) {
  Report r;
  auto img = MemoryImage::from_bytes(write_elf_core(two_pages()), std::nullopt, "core", r);
  EXPECT_TRUE(r.empty());
  ASSERT_TRUE(img.ok());
  ASSERT_EQ(img.segments().size(), 2u);
  EXPECT_EQ(img.segments()[0].paddr, 0x15f000u);
  EXPECT_EQ(img.segments()[0].size, 0x2000u);
  std::uint8_t b[2];
  ASSERT_TRUE(img.read(0x15ffff, b));  // across the page boundary inside one segment
  EXPECT_EQ(b[0], 0x11);
  EXPECT_EQ(b[1], 0x22);
  EXPECT_TRUE(img.contains(0x3de000, 4096));
  EXPECT_FALSE(img.contains(0x3de000, 4097));
  EXPECT_FALSE(img.contains(0x161000, 1));
  EXPECT_FALSE(img.read_vec(~std::uint64_t{0} - 3, 8).has_value());  // wraps: never true
}

TEST(MemoryImage, RawImageAtBase) {
  Report r;
  std::vector<std::uint8_t> bytes(8192, 0x5a);
  auto img = MemoryImage::from_bytes(bytes, 0x100000, "raw", r);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(img.contains(0x100000, 8192));
  EXPECT_FALSE(img.contains(0xfffff, 1));
  // A base near 2^64 is clipped, not wrapped.
  Report r2;
  auto top = MemoryImage::from_bytes(bytes, ~std::uint64_t{0} - 100, "raw", r2);
  EXPECT_TRUE(top.ok());
  EXPECT_FALSE(top.contains(~std::uint64_t{0} - 100, 8192));
}

// Found by bindings/tests/test_fuzz_api.py (MemoryImage.read(paddr, 2**63 - 1)
// raised MemoryError): a length the image does not hold is refused before
// anything is allocated.
TEST(MemoryImage, ReadVecOfAnAbsurdLengthAllocatesNothing) {
  Report r;
  auto img = MemoryImage::from_bytes(std::vector<std::uint8_t>(8192, 0x5a), 0x100000, "raw", r);
  EXPECT_FALSE(img.read_vec(0x100000, std::size_t{1} << 62).has_value());
  EXPECT_FALSE(img.read_vec(9, ~std::size_t{0} >> 1).has_value());
  ASSERT_TRUE(img.read_vec(0x100000, 8192).has_value());
  EXPECT_EQ(img.read_vec(0x100000, 8192)->at(8191), 0x5a);
}

TEST(MemoryImage, MalformedImagesAreFindingsNotCrashes) {
  auto core = write_elf_core(two_pages());
  struct Case {
    const char* what;
    std::function<void(std::vector<std::uint8_t>&)> mutate;
    const char* rule;
  };
  const Case cases[] = {
      {"empty", [](auto& b) { b.clear(); }, "kho_image_empty"},
      {"not elf", [](auto& b) { b[0] = 'X'; }, "kho_image_bad_elf"},
      {"elf32", [](auto& b) { b[EI_CLASS] = ELFCLASS32; }, "kho_image_bad_elf"},
      {"bad data", [](auto& b) { b[EI_DATA] = 7; }, "kho_image_bad_elf"},
      {"short", [](auto& b) { b.resize(20); }, "kho_image_bad_elf"},
      {"phentsize", [](auto& b) { b[offsetof(Elf64_Ehdr, e_phentsize)] = 55; }, "kho_image_bad_elf"},
      {"phoff", [](auto& b) { b[offsetof(Elf64_Ehdr, e_phoff) + 5] = 1; }, "kho_image_bad_elf"},
      {"no phdrs", [](auto& b) { b[offsetof(Elf64_Ehdr, e_phnum)] = 0; }, "kho_image_no_memory"},
      {"filesz", [](auto& b) {
         b[sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_filesz) + 4] = 1;
       }, "kho_image_segment_out_of_bounds"},
      {"truncated body", [](auto& b) { b.resize(b.size() - 1); }, "kho_image_segment_out_of_bounds"},
  };
  for (const auto& c : cases) {
    auto b = core;
    c.mutate(b);
    Report r;
    auto img = MemoryImage::from_bytes(b, std::nullopt, "core", r);
    EXPECT_TRUE(r.has(c.rule)) << c.what;
  }
}

TEST(MemoryImage, KcoreSegmentsWithoutPhysicalAddressAreSkipped) {
  auto core = write_elf_core(two_pages());
  // /proc/kcore marks vmalloc/module segments with p_paddr = -1.
  std::memset(core.data() + sizeof(Elf64_Ehdr) + offsetof(Elf64_Phdr, p_paddr), 0xff, 8);
  Report r;
  auto img = MemoryImage::from_bytes(core, std::nullopt, "kcore", r);
  EXPECT_TRUE(r.empty());
  ASSERT_EQ(img.segments().size(), 1u);
  EXPECT_EQ(img.segments()[0].paddr, 0x3de000u);
}

TEST(MemoryImage, EveryPrefixOfACoreIsHandled) {
  auto core = write_elf_core(two_pages());
  for (std::size_t n = 0; n < core.size(); n += 7) {
    Report r;
    std::vector<std::uint8_t> b(core.begin(), core.begin() + static_cast<std::ptrdiff_t>(n));
    auto img = MemoryImage::from_bytes(b, std::nullopt, "core", r);
    if (!img.ok()) {
      EXPECT_FALSE(r.empty()) << n;
    }
  }
}

TEST(PageFiles, FileAtAddress) {
  auto p = parse_page_file("dir/x@y.bin@0x3d5e00");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, "dir/x@y.bin");
  EXPECT_EQ(p->paddr, 0x3d5e00u);
  EXPECT_FALSE(parse_page_file("memory.elf"));
  EXPECT_FALSE(parse_page_file("a@b"));  // not an address: a file name with '@'
  EXPECT_FALSE(parse_page_file("@0x1000"));
}

// The captures' names: the address is the last _0xADDR or _at0xADDR part; only mem_*.bin.
TEST(PageFiles, DirectoryOfACapture) {
  const auto dir = std::filesystem::temp_directory_path() / ("khospec-pages-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto put = [&](const std::string& name, std::size_t n, std::uint8_t fill) {
    std::vector<char> b(n, static_cast<char>(fill));
    std::ofstream(dir / name, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
  };
  put("mem_chunk_0_0x15f000.bin", 4096, 1);
  put("mem_bitmap_c0_e0_order0_start0x0_at0x3d5e00.bin", 512, 2);
  put("mem_prev_preserved_0x200000_order1.bin", 8192, 3);
  put("mem_out_fdt_0x1f5000.bin", 4096, 4);
  put("mem_out_fdt_after_load_0x1f5000.bin", 4096, 4);  // read twice, same bytes
  put("setup_data_0_type_0xa.bin", 32, 5);              // not memory
  put("mem_radix_walk.txt", 10, 6);
  put("mem_no_address.bin", 10, 7);
  const auto pages = page_files_in(dir.string());
  ASSERT_EQ(pages.size(), 5u);
  EXPECT_EQ(pages[0].paddr, 0x15f000u);
  EXPECT_EQ(pages[1].paddr, 0x1f5000u);
  EXPECT_EQ(pages[3].paddr, 0x200000u);
  EXPECT_EQ(pages[4].paddr, 0x3d5e00u);
  MemoryImage img;
  std::string err;
  ASSERT_TRUE(MemoryImage::from_pages(pages, dir.string(), img, err)) << err;
  EXPECT_EQ(img.segments().size(), 4u);
  EXPECT_TRUE(img.contains(0x200000, 8192));
  EXPECT_TRUE(img.contains(0x3d5e00, 512));
  EXPECT_FALSE(img.contains(0x3d5e00, 513));
  std::uint8_t b[1];
  ASSERT_TRUE(img.read(0x1f5fff, b));
  EXPECT_EQ(b[0], 4);
  ASSERT_TRUE(img.read(0x201fff, b));
  EXPECT_EQ(b[0], 3);
  // Different bytes at one address: refused, naming both files.
  put("mem_out_fdt_after_load_0x1f5000.bin", 4096, 9);
  MemoryImage bad;
  EXPECT_FALSE(MemoryImage::from_pages(page_files_in(dir.string()), "x", bad, err));
  EXPECT_NE(err.find("overlap at [0x1f5000, +0x1000) with different bytes"), std::string::npos) << err;
  EXPECT_NE(err.find("mem_out_fdt_0x1f5000.bin"), std::string::npos) << err;
  put("mem_empty_0x9000.bin", 0, 0);
  EXPECT_FALSE(MemoryImage::from_pages({{(dir / "mem_empty_0x9000.bin").string(), 0x9000}}, "x", bad, err));
  EXPECT_NE(err.find("is empty"), std::string::npos) << err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace khospec::conformance
