// libFuzzer target over memory images on their own (docs/fuzz.md): an ELF64
// core or a raw image, opened from bytes or from a file (the pread() path the
// CLI uses), then page reads at and across every segment's edges and virtual
// address look-ups through every PT_LOAD window.
//
// Input: byte 0 = flags (bit 0: raw image instead of an ELF core; bit 1: open
// from a file; bit 2: kcore aliasing; bits 3-4: the raw base, one of 0,
// 0x100000, 0x7f400000, 2^64 - 4096), then the image bytes.
// Seeds (LLVMFuzzerInitialize): the first 64 KiB (headers and first pages) of
// every memory.elf of the real captures ($KHOSPEC_FUZZ_DUMPS) and of the
// `khospec simulate` output ($KHOSPEC_FUZZ_SIM), every corpus .mem
// ($KHOSPEC_FUZZ_CORPUS), and the captures' raw page files as raw images.
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

#include "conformance/image/image.hpp"
#include "core/fuzz_seed.hpp"

using namespace khospec;
using namespace khospec::conformance;
namespace fs = std::filesystem;

namespace {

void seed_dir(const char* var, const std::string& tag) {
  const fs::path dir = fuzz::env_dir(var);
  if (dir.empty()) return;
  std::error_code ec;
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    std::uint8_t flags;
    if (f == "memory.elf" || e.path().extension() == ".mem")
      flags = 0;
    else if (f.rfind("mem_", 0) == 0 && e.path().extension() == ".bin")
      flags = 1 | (1 << 3);
    else
      continue;
    std::vector<std::uint8_t> s = {flags};
    const auto head = fuzz::read_head(e.path(), 64 << 10);
    s.insert(s.end(), head.begin(), head.end());
    fuzz::write_seed(tag + "-" + std::to_string(n++), s);
    s[0] |= 2;  // the same image through the file reader
    fuzz::write_seed(tag + "-file-" + std::to_string(n++), s);
  }
}

void exercise(const MemoryImage& img) {
  std::array<std::uint8_t, 4096> page{};
  for (const ImageSegment& s : img.segments()) {
    for (std::uint64_t at : {s.paddr, s.paddr + s.size - 1, s.paddr + s.size - page.size(), s.paddr + s.size}) {
      (void)img.contains(at, page.size());
      (void)img.read(at, page);
      (void)img.read_vec(at, 16);
    }
    (void)img.read(s.paddr, std::span<std::uint8_t>(page.data(), 1));
  }
  // Reads that span adjacent segments, and an empty one.
  if (img.segments().size() > 1) {
    const ImageSegment& a = img.segments()[0];
    (void)img.read_vec(a.paddr, 3 * 4096);
  }
  (void)img.read(0, std::span<std::uint8_t>());
  (void)img.virt_to_phys(0xffff888000000000ull);
  (void)img.virt_to_phys(0xffffffff81000000ull);
  (void)img.virt_to_phys(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  seed_dir("KHOSPEC_FUZZ_DUMPS", "dump");
  seed_dir("KHOSPEC_FUZZ_SIM", "sim");
  seed_dir("KHOSPEC_FUZZ_CORPUS", "corpus");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  static constexpr std::uint64_t kBases[] = {0, 0x100000, 0x7f400000, ~std::uint64_t{0} - 4095};
  std::optional<std::uint64_t> base;
  if (flags & 1) base = kBases[(flags >> 3) & 3];
  const Aliasing aliasing = flags & 4 ? Aliasing::expected : Aliasing::reported;
  std::vector<std::uint8_t> bytes(data + 1, data + size);
  Report report;
  if (flags & 2) {
    static const std::string path = "/tmp/khospec-fuzz-image-" + std::to_string(getpid());
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
      std::fwrite(bytes.data(), 1, bytes.size(), f);
      std::fclose(f);
    }
    MemoryImage img;
    std::string error;
    if (MemoryImage::from_file(path, base, img, report, error, aliasing)) exercise(img);
    std::remove(path.c_str());
  } else {
    exercise(MemoryImage::from_bytes(std::move(bytes), base, "fuzz.mem", report));
  }
  return 0;
}
