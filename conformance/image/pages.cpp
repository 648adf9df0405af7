// Page files as one memory image: FILE@ADDR arguments and a capture's
// directory of mem_*_0xADDR.bin pages.
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "conformance/image/image.hpp"
#include "core/parse.hpp"

namespace khospec::conformance {

namespace {

namespace fs = std::filesystem;

// Small page files are read whole (a capture has dozens; no descriptor each).
constexpr std::uint64_t kReadWhole = 1u << 20;

// "0x3a1000" or "at0x3a1000" -> the address; nullopt otherwise.
std::optional<std::uint64_t> address_part(std::string_view part) {
  if (part.rfind("at", 0) == 0) part.remove_prefix(2);
  if (part.size() < 3 || part[0] != '0' || (part[1] != 'x' && part[1] != 'X')) return std::nullopt;
  return parse_u64(part);
}

}  // namespace

std::optional<PageFile> parse_page_file(const std::string& arg) {
  const auto at = arg.rfind('@');
  if (at == std::string::npos || at == 0) return std::nullopt;
  const auto addr = parse_u64(std::string_view(arg).substr(at + 1));
  if (!addr) return std::nullopt;
  return PageFile{arg.substr(0, at), *addr};
}

std::vector<PageFile> page_files_in(const std::string& dir) {
  std::vector<PageFile> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("mem_", 0) != 0 || e.path().extension() != ".bin" || !e.is_regular_file(ec)) continue;
    const std::string stem = e.path().stem().string();
    std::optional<std::uint64_t> addr;
    for (std::size_t pos = 0; pos != std::string::npos;) {
      const std::size_t bar = stem.find('_', pos);
      if (auto a = address_part(std::string_view(stem).substr(pos, bar == std::string::npos ? std::string::npos : bar - pos)))
        addr = a;
      pos = bar == std::string::npos ? bar : bar + 1;
    }
    if (addr) out.push_back({e.path().string(), *addr});
  }
  std::sort(out.begin(), out.end(), [](const PageFile& a, const PageFile& b) {
    return a.paddr != b.paddr ? a.paddr < b.paddr : a.path < b.path;
  });
  return out;
}

bool MemoryImage::from_pages(const std::vector<PageFile>& pages, const std::string& name, MemoryImage& out,
                             std::string& error) {
  MemoryImage img;
  img.name_ = name;
  struct Placed {
    ImageSegment seg;
    std::string path;
  };
  std::vector<Placed> placed;
  for (const auto& p : pages) {
    std::shared_ptr<void> owner;
    ByteReader reader;
    std::uint64_t total = 0;
    if (!open_source(p.path, owner, reader, total, error)) return false;
    if (total == 0) {
      error = p.path + ": the page file is empty (0 bytes)";
      return false;
    }
    if (p.paddr + total < p.paddr) {
      error = p.path + "@" + hex(p.paddr) + ": runs past the end of the physical address space";
      return false;
    }
    if (total <= kReadWhole) {
      auto bytes = std::make_shared<std::vector<std::uint8_t>>(total);
      if (!reader(0, bytes->size(), bytes->data())) {
        error = p.path + ": read error";
        return false;
      }
      owner = bytes;
      reader = [data = bytes.get()](std::uint64_t off, std::size_t len, std::uint8_t* dst) {
        if (off > data->size() || len > data->size() - off) return false;
        if (len) std::memcpy(dst, data->data() + off, len);
        return true;
      };
    }
    placed.push_back({{p.paddr, total, 0, img.readers_.size()}, p.path});
    img.owners_.push_back(std::move(owner));
    img.readers_.push_back(std::move(reader));
  }
  std::stable_sort(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) { return a.seg.paddr < b.seg.paddr; });
  // Overlaps: a capture reads some pages twice (mem_out_fdt_* and
  // mem_out_fdt_after_load_*); the same bytes are one page, different bytes
  // leave no way to tell which the kernel saw.
  std::vector<std::string> owner_path;  // per kept segment
  for (auto& pl : placed) {
    ImageSegment s = pl.seg;
    while (!img.segments_.empty() && s.size > 0) {
      const ImageSegment& prev = img.segments_.back();
      const std::uint64_t prev_end = prev.paddr + prev.size;
      if (s.paddr >= prev_end) break;
      const std::uint64_t n = std::min(prev_end - s.paddr, s.size);
      std::vector<std::uint8_t> a(n), b(n);
      const bool ra = img.readers_[prev.source](prev.file_offset + (s.paddr - prev.paddr), n, a.data());
      const bool rb = img.readers_[s.source](s.file_offset, n, b.data());
      if (!ra || !rb || a != b) {
        std::size_t at = 0;
        while (at < n && a[at] == b[at]) ++at;
        error = pl.path + " and " + owner_path.back() + " overlap at [" + hex(s.paddr) + ", +" + hex(n) +
                ") with different bytes (first at " + hex(s.paddr + at) +
                "): give one of them (which did the kernel see?)";
        return false;
      }
      s.paddr += n;
      s.file_offset += n;
      s.size -= n;
    }
    if (s.size == 0) continue;
    img.segments_.push_back(s);
    owner_path.push_back(pl.path);
  }
  if (img.segments_.empty()) {
    error = name + ": no page files";
    return false;
  }
  out = std::move(img);
  return true;
}

}  // namespace khospec::conformance
