#include "conformance/image/image.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/rules.hpp"

namespace khospec::conformance {

namespace {

std::string hex(std::uint64_t v) { return hex_u64(v); }

void add(Report& r, const std::string& file, const char* rule, std::optional<std::uint64_t> off,
         std::string msg, std::string hint = {}) {
  std::vector<std::string> hints;
  if (!hint.empty()) hints.push_back(std::move(hint));
  r.add(make_finding(rule, file, off, "", "", std::move(msg), "image", std::move(hints)));
}

// Byte-order aware loads of ELF header fields (EI_DATA decides).
struct Endian {
  bool little = true;
  std::uint64_t get(const std::uint8_t* p, int n) const {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) {
      int shift = little ? 8 * i : 8 * (n - 1 - i);
      v |= std::uint64_t{p[i]} << shift;
    }
    return v;
  }
};

// Upper bound on PT_LOAD segments we accept (a kcore has a few hundred).
constexpr std::uint64_t kMaxSegments = 1u << 20;

}  // namespace

MemoryImage MemoryImage::from_bytes(std::vector<std::uint8_t> bytes, std::optional<std::uint64_t> raw_base,
                                    const std::string& name, Report& report) {
  MemoryImage img;
  img.name_ = name;
  auto owned = std::make_shared<std::vector<std::uint8_t>>(std::move(bytes));
  img.owners_ = {owned};
  const std::vector<std::uint8_t>* data = owned.get();
  img.readers_.emplace_back([data](std::uint64_t off, std::size_t len, std::uint8_t* out) {
    if (off > data->size() || len > data->size() - off) return false;
    if (len) std::memcpy(out, data->data() + off, len);
    return true;
  });
  img.load(owned->size(), raw_base, report, Aliasing::reported);
  return img;
}

bool MemoryImage::open_source(const std::string& path, std::shared_ptr<void>& owner, ByteReader& reader,
                              std::uint64_t& total, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  auto holder = std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  struct stat st {};
  total = 0;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) total = static_cast<std::uint64_t>(st.st_size);
  if (S_ISDIR(st.st_mode)) {
    // An input problem (exit 1), not a broken image: say what a memory image is.
    error = path + ": is a directory without page files (mem_*_0xADDR.bin); --memory takes one ELF core (QEMU "
                   "dump-guest-memory, /proc/kcore, a capture's memory.elf), a raw image with --memory-base, "
                   "page files as FILE@ADDR, or a directory of a capture's page files";
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    // A device or a pipe has no size to bound the reads by (/dev/zero and
    // /dev/mem say 0): refuse it as an input problem rather than call it empty.
    const char* what = S_ISCHR(st.st_mode) ? "a character device" : S_ISBLK(st.st_mode) ? "a block device"
                       : S_ISFIFO(st.st_mode) ? "a pipe" : "not a regular file";
    error = path + ": is " + std::string(what) + ", not a regular file, so its size cannot be known; --memory reads "
                   "a file (an ELF core: QEMU dump-guest-memory, /proc/kcore, a capture's memory.elf, or a raw image "
                   "with --memory-base)";
    return false;
  }
  owner = holder;
  reader = [fdp = holder.get(), total](std::uint64_t off, std::size_t len, std::uint8_t* dst) {
    if (off > total || len > total - off) return false;
    std::size_t done = 0;
    while (done < len) {
      ssize_t n = ::pread(*fdp, dst + done, len - done, static_cast<off_t>(off + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  };
  return true;
}

bool MemoryImage::from_file(const std::string& path, std::optional<std::uint64_t> raw_base, MemoryImage& out,
                            Report& report, std::string& error, Aliasing aliasing) {
  MemoryImage img;
  img.name_ = path;
  std::shared_ptr<void> owner;
  ByteReader reader;
  std::uint64_t total = 0;
  if (!open_source(path, owner, reader, total, error)) return false;
  img.owners_ = {std::move(owner)};
  img.readers_ = {std::move(reader)};
  img.load(total, raw_base, report, aliasing);
  out = std::move(img);
  return true;
}

void MemoryImage::load(std::uint64_t total, std::optional<std::uint64_t> raw_base, Report& report,
                       Aliasing aliasing) {
  segments_.clear();
  windows_.clear();
  if (total == 0) {
    add(report, name_, "kho_image_empty", 0, "the memory image is empty (0 bytes)");
    return;
  }
  if (raw_base) {
    std::uint64_t size = total;
    if (*raw_base + size < *raw_base) size = ~std::uint64_t{0} - *raw_base;  // clip at 2^64
    segments_.push_back({*raw_base, size, 0});
    return;
  }
  std::uint8_t eh[sizeof(Elf64_Ehdr)] = {};
  if (total < SELFMAG || !readers_[0](0, SELFMAG, eh) || std::memcmp(eh, ELFMAG, SELFMAG) != 0) {
    add(report, name_, "kho_image_bad_elf", 0, "no ELF magic: not an ELF core",
        "for a raw physical image pass --memory-base ADDR (the physical address of its first byte)");
    return;
  }
  if (total < sizeof(Elf64_Ehdr) || !readers_[0](0, sizeof(Elf64_Ehdr), eh)) {
    add(report, name_, "kho_image_bad_elf", 0,
        "the file is " + std::to_string(total) + " bytes, shorter than an ELF64 header (64)");
    return;
  }
  if (eh[EI_CLASS] != ELFCLASS64) {
    add(report, name_, "kho_image_bad_elf", EI_CLASS,
        "EI_CLASS " + std::to_string(eh[EI_CLASS]) + " is not ELFCLASS64 (KHO is 64-bit only)");
    return;
  }
  if (eh[EI_DATA] != ELFDATA2LSB && eh[EI_DATA] != ELFDATA2MSB) {
    add(report, name_, "kho_image_bad_elf", EI_DATA, "EI_DATA " + std::to_string(eh[EI_DATA]) + " is neither LSB nor MSB");
    return;
  }
  Endian en{eh[EI_DATA] == ELFDATA2LSB};
  const std::uint64_t phoff = en.get(eh + offsetof(Elf64_Ehdr, e_phoff), 8);
  const std::uint64_t phentsize = en.get(eh + offsetof(Elf64_Ehdr, e_phentsize), 2);
  std::uint64_t phnum = en.get(eh + offsetof(Elf64_Ehdr, e_phnum), 2);
  if (phnum == PN_XNUM) {
    // More than 0xfffe headers: the real count is section header 0's sh_info.
    const std::uint64_t shoff = en.get(eh + offsetof(Elf64_Ehdr, e_shoff), 8);
    std::uint8_t sh[sizeof(Elf64_Shdr)] = {};
    if (shoff > total || sizeof sh > total - shoff || !readers_[0](shoff, sizeof sh, sh)) {
      add(report, name_, "kho_image_bad_elf", offsetof(Elf64_Ehdr, e_shoff),
          "e_phnum is PN_XNUM but section header 0 at " + hex(shoff) + " is outside the file");
      return;
    }
    phnum = en.get(sh + offsetof(Elf64_Shdr, sh_info), 4);
  }
  if (phnum == 0) {
    add(report, name_, "kho_image_no_memory", offsetof(Elf64_Ehdr, e_phnum), "the ELF core has no program headers");
    return;
  }
  if (phentsize != sizeof(Elf64_Phdr)) {
    add(report, name_, "kho_image_bad_elf", offsetof(Elf64_Ehdr, e_phentsize),
        "e_phentsize " + std::to_string(phentsize) + ", expected " + std::to_string(sizeof(Elf64_Phdr)));
    return;
  }
  if (phnum > kMaxSegments || phoff > total || phnum * sizeof(Elf64_Phdr) > total - phoff) {
    add(report, name_, "kho_image_bad_elf", offsetof(Elf64_Ehdr, e_phoff),
        "program header table [" + hex(phoff) + ", +" + std::to_string(phnum) + " x 56) lies outside the " +
            hex(total) + "-byte file");
    return;
  }
  std::vector<ImageSegment> segs;
  for (std::uint64_t i = 0; i < phnum; ++i) {
    std::uint8_t ph[sizeof(Elf64_Phdr)] = {};
    const std::uint64_t at = phoff + i * sizeof(Elf64_Phdr);
    if (!readers_[0](at, sizeof ph, ph)) {
      add(report, name_, "kho_image_bad_elf", at, "cannot read program header " + std::to_string(i));
      return;
    }
    if (en.get(ph + offsetof(Elf64_Phdr, p_type), 4) != PT_LOAD) continue;
    const std::uint64_t off = en.get(ph + offsetof(Elf64_Phdr, p_offset), 8);
    const std::uint64_t paddr = en.get(ph + offsetof(Elf64_Phdr, p_paddr), 8);
    const std::uint64_t vaddr = en.get(ph + offsetof(Elf64_Phdr, p_vaddr), 8);
    const std::uint64_t filesz = en.get(ph + offsetof(Elf64_Phdr, p_filesz), 8);
    if (filesz == 0 || paddr == ~std::uint64_t{0}) continue;  // /proc/kcore: no physical address
    if (off > total || filesz > total - off) {
      add(report, name_, "kho_image_segment_out_of_bounds", at,
          "PT_LOAD " + std::to_string(i) + " (paddr " + hex(paddr) + ") file range [" + hex(off) + ", +" +
              hex(filesz) + ") ends past the " + hex(total) + "-byte file");
      continue;
    }
    std::uint64_t size = filesz;
    if (paddr + size < paddr) size = ~std::uint64_t{0} - paddr;
    segs.push_back({paddr, size, off});
    windows_.push_back({vaddr, paddr, size});
  }
  if (segs.empty()) {
    if (!report.has("kho_image_segment_out_of_bounds"))
      add(report, name_, "kho_image_no_memory", offsetof(Elf64_Ehdr, e_phoff),
          "no PT_LOAD segment with a physical address and file bytes");
    return;
  }
  // Sort by physical address; trim overlaps (the first segment in file order wins).
  std::vector<std::size_t> order(segs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return segs[a].paddr < segs[b].paddr; });
  bool overlap_reported = false;
  for (std::size_t idx : order) {
    ImageSegment s = segs[idx];
    if (!segments_.empty()) {
      const ImageSegment& prev = segments_.back();
      const std::uint64_t prev_end = prev.paddr + prev.size;
      if (s.paddr < prev_end) {
        if (!overlap_reported && aliasing == Aliasing::reported) {
          add(report, name_, "kho_image_segment_overlap", std::nullopt,
              "PT_LOAD segments overlap at physical " + hex(s.paddr) + " (segment ending at " + hex(prev_end) + ")");
          overlap_reported = true;
        }
        const std::uint64_t cut = std::min(prev_end - s.paddr, s.size);
        s.paddr += cut;
        s.file_offset += cut;
        s.size -= cut;
        if (s.size == 0) continue;
      }
    }
    segments_.push_back(s);
  }
}

bool MemoryImage::contains(std::uint64_t paddr, std::uint64_t len) const {
  while (len > 0) {
    auto it = std::upper_bound(segments_.begin(), segments_.end(), paddr,
                               [](std::uint64_t a, const ImageSegment& s) { return a < s.paddr; });
    if (it == segments_.begin()) return false;
    --it;
    const std::uint64_t in = paddr - it->paddr;
    if (in >= it->size) return false;
    const std::uint64_t n = std::min(len, it->size - in);
    len -= n;
    paddr += n;
    if (len > 0 && paddr == 0) return false;  // wrapped past 2^64
  }
  return true;
}

bool MemoryImage::read(std::uint64_t paddr, std::span<std::uint8_t> out) const {
  std::size_t done = 0;
  while (done < out.size()) {
    auto it = std::upper_bound(segments_.begin(), segments_.end(), paddr,
                               [](std::uint64_t a, const ImageSegment& s) { return a < s.paddr; });
    if (it == segments_.begin()) return false;
    --it;
    const std::uint64_t in = paddr - it->paddr;
    if (in >= it->size) return false;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size() - done, it->size - in));
    if (!readers_[it->source](it->file_offset + in, n, out.data() + done)) return false;
    done += n;
    paddr += n;
    if (done < out.size() && paddr == 0) return false;
  }
  return true;
}

std::optional<std::uint64_t> MemoryImage::virt_to_phys(std::uint64_t vaddr) const {
  for (const auto& w : windows_)
    if (vaddr >= w.vaddr && vaddr - w.vaddr < w.size) return w.paddr + (vaddr - w.vaddr);
  return std::nullopt;
}

std::optional<std::vector<std::uint8_t>> MemoryImage::read_vec(std::uint64_t paddr, std::size_t len) const {
  // Before allocating: a length no image holds must not cost its size in memory.
  if (!contains(paddr, len)) return std::nullopt;
  std::vector<std::uint8_t> v(len);
  if (!read(paddr, v)) return std::nullopt;
  return v;
}

}  // namespace khospec::conformance
