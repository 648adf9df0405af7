// libFuzzer target over conformance::validate() with a memory image.
//
// Input: byte 0 = flags (bit 0: raw image at 0x100000 instead of an ELF core;
// bit 1: big-endian values; bit 2: force PAGE_SIZE kho-v1 bitmaps), bytes 1-2 =
// little-endian length N of the FDT, then N FDT bytes, then the memory image.
//
// Built with clang++ -fsanitize=fuzzer,address,undefined by a custom command
// (cmake/KhospecFuzz.cmake) so the default g++ build is untouched; the short
// run `fuzz/validate` is a ctest case. Seeds: LLVMFuzzerInitialize packs every
// corpus .dtb (+ its .mem) from $KHOSPEC_FUZZ_SEED_SRC and the real captures'
// stages from $KHOSPEC_FUZZ_DUMPS into $KHOSPEC_FUZZ_SEED_OUT before libFuzzer
// reads that directory.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "conformance/validate/validate.hpp"

namespace {

namespace fs = std::filesystem;
using namespace khospec;
using namespace khospec::conformance;

std::vector<std::uint8_t> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_seed(const fs::path& out, const std::string& name, const std::vector<std::uint8_t>& fdt,
                const std::vector<std::uint8_t>& mem) {
  if (fdt.size() > 0xffff) return;
  std::vector<std::uint8_t> s = {0, static_cast<std::uint8_t>(fdt.size()), static_cast<std::uint8_t>(fdt.size() >> 8)};
  s.insert(s.end(), fdt.begin(), fdt.end());
  s.insert(s.end(), mem.begin(), mem.end());
  std::ofstream(out / name, std::ios::binary).write(reinterpret_cast<const char*>(s.data()), static_cast<std::streamsize>(s.size()));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* src = std::getenv("KHOSPEC_FUZZ_SEED_SRC");
  const char* dumps = std::getenv("KHOSPEC_FUZZ_DUMPS");
  const char* out = std::getenv("KHOSPEC_FUZZ_SEED_OUT");
  if (!out) return 0;
  std::error_code ec;
  fs::create_directories(out, ec);
  int n = 0;
  if (src && fs::is_directory(src, ec)) {
    for (const auto& e : fs::recursive_directory_iterator(src, ec)) {
      if (e.path().extension() != ".dtb") continue;
      fs::path mem = e.path();
      mem.replace_extension(".mem");
      write_seed(out, "seed-corpus-" + std::to_string(n++), read_all(e.path()),
                 fs::exists(mem, ec) ? read_all(mem) : std::vector<std::uint8_t>{});
    }
  }
  if (dumps && fs::is_directory(dumps, ec)) {
    for (const auto& e : fs::recursive_directory_iterator(dumps, ec)) {
      if (e.path().filename() != "memory.elf") continue;
      const fs::path fdt = e.path().parent_path() / "out_fdt.dtb";
      if (fs::exists(fdt, ec)) write_seed(out, "seed-dump-" + std::to_string(n++), read_all(fdt), read_all(e.path()));
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::uint8_t flags = data[0];
  std::size_t n = data[1] | (std::size_t{data[2]} << 8);
  data += 3;
  size -= 3;
  if (n > size) n = size;
  std::span<const std::uint8_t> fdt(data, n);
  std::vector<std::uint8_t> mem(data + n, data + size);

  ValidateOptions vo;
  vo.read.file = "fuzz";
  vo.read.max_size = 1u << 16;
  vo.endian = flags & 2 ? fdt::Endian::big : fdt::Endian::little;
  vo.map.max_items = 1u << 12;
  if (flags & 4) vo.map.v1_bitmap = BitmapSize::page;
  vo.scratch = std::vector<ScratchArea>{{0x76400000, 0x6c00000}, {0x7f400000, 0}, {0x1000, 0x800}};
  Report r;
  std::optional<std::uint64_t> base;
  if (flags & 1) base = 0x100000;
  MemoryImage img = MemoryImage::from_bytes(std::move(mem), base, "fuzz.mem", r);
  validate(fdt, &img, vo, r);
  return 0;
}
