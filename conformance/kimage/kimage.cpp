#include "conformance/kimage/kimage.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "conformance/kimage/decompress.hpp"

namespace khospec::conformance {

namespace {

using Bytes = std::span<const std::uint8_t>;

constexpr std::size_t kMaxImage = std::size_t(2) << 30;     // vmlinux with debug info fits
constexpr std::size_t kMaxPayload = std::size_t(1) << 30;   // a decompressed kernel
constexpr std::size_t kMaxConfig = std::size_t(64) << 20;   // a decompressed .config

std::uint16_t le16(Bytes b, std::size_t off) { return std::uint16_t(b[off] | b[off + 1] << 8); }
std::uint32_t le32(Bytes b, std::size_t off) {
  return std::uint32_t(b[off]) | std::uint32_t(b[off + 1]) << 8 | std::uint32_t(b[off + 2]) << 16 |
         std::uint32_t(b[off + 3]) << 24;
}
std::uint64_t le64(Bytes b, std::size_t off) { return le32(b, off) | std::uint64_t(le32(b, off + 4)) << 32; }

std::string_view as_text(Bytes b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// The NUL-terminated string at `off` (at most `max` bytes), or nullopt when
// it has no terminator inside the buffer or is not printable.
std::optional<std::string> c_string(Bytes b, std::size_t off, std::size_t max = 512) {
  if (off >= b.size()) return std::nullopt;
  std::size_t end = off;
  while (end < b.size() && end - off < max && b[end] != 0) {
    if (b[end] < 0x20 && b[end] != '\t' && b[end] != '\n') return std::nullopt;
    ++end;
  }
  if (end == b.size() || b[end] != 0) return std::nullopt;
  return std::string(as_text(b.subspan(off, end - off)));
}

KernelImageResult fail(std::string kind, std::string message) {
  KernelImageResult r;
  r.error_kind = std::move(kind);
  r.error = std::move(message);
  return r;
}

std::string hex_bytes(Bytes b, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < std::min(n, b.size()); ++i) {
    if (i) s += ' ';
    s += digits[b[i] >> 4];
    s += digits[b[i] & 15];
  }
  return s;
}

// "7.3.4" -> 7, 3; false when the release does not start with MAJOR.MINOR.
bool parse_release(std::string_view rel, int& major, int& minor) {
  auto number = [&](std::size_t& i, int& out) {
    std::size_t start = i;
    long v = 0;
    while (i < rel.size() && rel[i] >= '0' && rel[i] <= '9' && i - start < 6) v = v * 10 + (rel[i++] - '0');
    out = static_cast<int>(v);
    return i > start;
  };
  std::size_t i = 0;
  if (!number(i, major) || i >= rel.size() || rel[i] != '.') return false;
  ++i;
  return number(i, minor);
}

// The release is the banner's first word after "Linux version " (init/version.c
// linux_banner: "Linux version " UTS_RELEASE " (" ...).
std::string release_of_banner(std::string_view banner) {
  constexpr std::string_view kPrefix = "Linux version ";
  if (banner.rfind(kPrefix, 0) == 0) banner.remove_prefix(kPrefix.size());
  return std::string(banner.substr(0, banner.find(' ')));
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A "Linux version <digit>..." string in the bytes. A kernel holds two
// (init/version.c's and init/version-timestamp.c's, the one linux_banner
// names after the final link): the one ending like the setup header's string
// when there is one, else the longest (the timestamped one).
std::optional<std::string> find_banner(Bytes b, const std::string& setup_version) {
  std::string_view text = as_text(b);
  constexpr std::string_view kPrefix = "Linux version ";
  std::string tail = setup_version.find('#') == std::string::npos ? "" : setup_version.substr(setup_version.find('#'));
  std::optional<std::string> best;
  for (std::size_t at = text.find(kPrefix); at != std::string_view::npos; at = text.find(kPrefix, at + 1)) {
    std::size_t v = at + kPrefix.size();
    if (v >= text.size() || text[v] < '0' || text[v] > '9') continue;
    auto s = c_string(b, at, 1024);
    if (!s) continue;
    std::string t = trimmed(*s);
    if (!tail.empty() && t.size() >= tail.size() && t.compare(t.size() - tail.size(), tail.size(), tail) == 0) return t;
    if (!best || t.size() > best->size()) best = t;
  }
  return best;
}

// ---- ELF64 (vmlinux, and the stripped vmlinux.bin inside a bzImage) ----

struct Section {
  std::string name;
  Elf64_Shdr hdr;
};

struct Elf {
  std::vector<Section> sections;
  std::uint16_t machine = 0;
  std::string error;  // "" when read
  bool truncated = false;
};

Elf read_elf(Bytes b) {
  Elf e;
  Elf64_Ehdr eh;
  if (b.size() < sizeof eh) return {{}, 0, "the ELF header is cut short", true};
  std::memcpy(&eh, b.data(), sizeof eh);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    return {{}, 0, "only 64-bit little-endian ELF kernels (x86_64, arm64) are read", false};
  e.machine = eh.e_machine;
  if (eh.e_shnum == 0) return {{}, e.machine, "the ELF file has no section headers", false};
  if (eh.e_shentsize != sizeof(Elf64_Shdr)) return {{}, e.machine, "unexpected ELF section header size", false};
  if (eh.e_shoff > b.size() || (b.size() - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum)
    return {{}, e.machine, "the ELF section headers lie past the end of the file", true};
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  std::memcpy(sh.data(), b.data() + eh.e_shoff, sh.size() * sizeof(Elf64_Shdr));
  if (eh.e_shstrndx >= sh.size()) return {{}, e.machine, "the ELF section name table index is out of range", false};
  const Elf64_Shdr& names = sh[eh.e_shstrndx];
  for (const auto& s : sh) {
    if (s.sh_type != SHT_NOBITS && (s.sh_offset > b.size() || s.sh_size > b.size() - s.sh_offset))
      return {{}, e.machine, "an ELF section lies past the end of the file", true};
  }
  for (const auto& s : sh) {
    std::string name;
    if (names.sh_offset + s.sh_name < b.size() && s.sh_name < names.sh_size)
      name = c_string(b, names.sh_offset + s.sh_name, names.sh_size - s.sh_name).value_or("");
    e.sections.push_back({std::move(name), s});
  }
  return e;
}

std::string machine_name(std::uint16_t m) {
  if (m == EM_X86_64) return "x86_64";
  if (m == EM_AARCH64) return "arm64";
  return "ELF machine " + std::to_string(m);
}

// linux_banner through the symbol table (a vmlinux that is not stripped).
std::optional<std::string> banner_from_symtab(Bytes b, const Elf& e) {
  for (const auto& symtab : e.sections) {
    if (symtab.hdr.sh_type != SHT_SYMTAB || symtab.hdr.sh_link >= e.sections.size()) continue;
    const Elf64_Shdr& str = e.sections[symtab.hdr.sh_link].hdr;
    for (std::uint64_t off = 0; off + sizeof(Elf64_Sym) <= symtab.hdr.sh_size; off += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      std::memcpy(&sym, b.data() + symtab.hdr.sh_offset + off, sizeof sym);
      if (sym.st_name >= str.sh_size) continue;
      auto name = c_string(b, str.sh_offset + sym.st_name, 64);
      if (!name || *name != "linux_banner") continue;
      for (const auto& s : e.sections) {
        const auto& h = s.hdr;
        if (h.sh_type == SHT_NOBITS || !(h.sh_flags & SHF_ALLOC)) continue;
        if (sym.st_value >= h.sh_addr && sym.st_value - h.sh_addr < h.sh_size)
          return c_string(b, h.sh_offset + (sym.st_value - h.sh_addr), 1024);
      }
    }
  }
  return std::nullopt;
}

// The RFC's `.liveupdate_versions` (48-byte compatible strings) and the mm
// tree's `.liveupdate_features` (80-byte entries: name[48], feat_bytes,
// reserved, supp, req, active) after the header {u32 magic 'LVUP', u32 version};
// any other .liveupdate_* section: its printable strings.
LiveupdateSection read_liveupdate_section(Bytes b, const Section& s) {
  constexpr std::uint32_t kMagic = 0x4c565550;
  LiveupdateSection out{s.name, s.hdr.sh_size, std::nullopt, {}};
  if (s.hdr.sh_type == SHT_NOBITS) return out;
  Bytes data = b.subspan(s.hdr.sh_offset, s.hdr.sh_size);
  std::size_t pos = 0;
  if (data.size() >= 8 && le32(data, 0) == kMagic) {
    out.version = le32(data, 4);
    pos = 8;
  }
  auto name_at = [&](std::size_t off, std::size_t len) {
    std::string n(as_text(data.subspan(off, len)));
    n.resize(std::strlen(n.c_str()));
    return n;
  };
  if (out.version && s.name == ".liveupdate_versions") {
    for (; pos + 48 <= data.size(); pos += 48) out.strings.push_back(name_at(pos, 48));
    return out;
  }
  if (out.version && s.name == ".liveupdate_features") {
    for (; pos + 80 <= data.size(); pos += 80) {
      std::ostringstream o;
      o << name_at(pos, 48) << std::hex << " supp=0x" << le64(data, pos + 56) << " req=0x"
        << le64(data, pos + 64) << " active=0x" << le64(data, pos + 72);
      out.strings.push_back(o.str());
    }
    return out;
  }
  while (pos < data.size()) {
    std::size_t end = pos;
    bool printable = true;
    while (end < data.size() && data[end] != 0) printable &= data[end] >= 0x20 && data[end] < 0x7f, ++end;
    if (end > pos && printable) out.strings.push_back(std::string(as_text(data.subspan(pos, end - pos))));
    pos = end + 1;
  }
  return out;
}

void read_sections(Bytes b, const Elf& e, KernelImage& k) {
  k.sections_known = true;
  for (const auto& s : e.sections)
    if (s.name.rfind(".liveupdate_", 0) == 0) k.sections.push_back(read_liveupdate_section(b, s));
}

// ---- IKCONFIG ----

// kernel/configs.c: the gzip'd .config between "IKCFG_ST" and "IKCFG_ED".
// Returns an error message, "" when read or when the image has no block.
std::string read_ikconfig(Bytes b, KernelImage& k) {
  std::string_view text = as_text(b);
  for (std::size_t st = text.find("IKCFG_ST"); st != std::string_view::npos; st = text.find("IKCFG_ST", st + 1)) {
    std::size_t data = st + 8;
    if (data + 2 > text.size() || b[data] != 0x1f || b[data + 1] != 0x8b) continue;
    std::size_t ed = text.find("IKCFG_ED", data);
    if (ed == std::string_view::npos) return "the embedded configuration (IKCFG_ST) has no IKCFG_ED end marker";
    auto d = decompress(Compression::gzip, b.subspan(data, ed - data), kMaxConfig);
    if (!d.ok()) return "the embedded configuration is corrupt: " + d.error;
    k.config = parse_kernel_config(std::string(as_text(d.bytes)));
    return "";
  }
  k.config_missing =
      "the image does not embed its configuration: build it with CONFIG_IKCONFIG=y "
      "(CONFIG_IKCONFIG=m keeps it in the module configs.ko, not in the image)";
  return "";
}

// What every format shares once the kernel's own bytes are at hand: the banner,
// the configuration, and (for an ELF) the sections.
// The strings the current call looks for (set by inspect_kernel_image()).
thread_local const std::vector<std::string>* t_strings = nullptr;

void find_strings(Bytes kernel, KernelImage& k) {
  if (!t_strings) return;
  const std::string_view all = as_text(kernel);
  for (const auto& s : *t_strings) k.strings[s] = all.find(std::string_view(s.c_str(), s.size() + 1)) != std::string_view::npos;
}

KernelImageResult read_kernel_bytes(Bytes kernel, KernelImage k, const std::string& where) {
  if (kernel.size() >= 4 && std::memcmp(kernel.data(), ELFMAG, SELFMAG) == 0) {
    Elf e = read_elf(kernel);
    if (e.error.empty()) {
      read_sections(kernel, e, k);
      if (k.arch.empty()) k.arch = machine_name(e.machine);
      if (k.banner.empty()) {
        if (auto s = banner_from_symtab(kernel, e)) {
          k.banner = trimmed(*s);
          k.notes.push_back("banner: the linux_banner symbol of " + where);
        }
      }
    } else if (k.format == "vmlinux") {
      return fail(e.truncated ? "truncated" : "unsupported", e.error);
    } else {
      k.notes.push_back("sections: " + where + " is not a readable ELF (" + e.error + ")");
    }
  }
  if (k.banner.empty()) {
    if (auto s = find_banner(kernel, k.setup_version)) {
      k.banner = *s;
      k.notes.push_back("banner: the 'Linux version' string in " + where);
    }
  }
  std::string release = k.banner.empty() ? "" : release_of_banner(k.banner);
  if (!k.release.empty() && !release.empty() && release != k.release)
    return fail("corrupt", "the setup header says release " + k.release + " but the kernel's banner says " + release);
  if (k.release.empty()) k.release = release;
  if (k.release.empty())
    return fail("not_kernel_image", k.format + " without a 'Linux version' banner: not a Linux kernel image");
  if (!parse_release(k.release, k.major, k.minor))
    return fail("corrupt", "release '" + k.release + "' does not start with MAJOR.MINOR");
  if (auto err = read_ikconfig(kernel, k); !err.empty()) return fail("corrupt", err);
  find_strings(kernel, k);
  KernelImageResult r;
  r.image = std::move(k);
  return r;
}

// ---- x86 bzImage (Documentation/arch/x86/boot.rst, the real-mode header) ----

constexpr std::size_t kSetupSects = 0x1f1, kHeader = 0x202, kVersion = 0x206, kKernelVersion = 0x20e,
                      kPayloadOffset = 0x248, kPayloadLength = 0x24c, kHeaderEnd = 0x250;

bool is_bzimage(Bytes b) { return b.size() >= kHeader + 4 && as_text(b.subspan(kHeader, 4)) == "HdrS"; }

KernelImageResult read_bzimage(Bytes b) {
  if (b.size() < kHeaderEnd) return fail("truncated", "a bzImage cut short inside its setup header");
  KernelImage k;
  k.format = "bzImage";
  k.arch = "x86";
  std::uint16_t proto = le16(b, kVersion);
  if (std::uint16_t kv = le16(b, kKernelVersion); kv != 0) {
    if (auto s = c_string(b, std::size_t(kv) + 0x200)) {
      k.setup_version = *s;
      k.release = release_of_banner(*s);
      k.notes.push_back("release: the setup header's kernel_version string");
    }
  }
  if (proto < 0x208)
    return fail("unsupported", "boot protocol " + std::to_string(proto >> 8) + "." + std::to_string(proto & 0xff) +
                                   " (before 2.08) does not say where the compressed kernel is");
  std::size_t setup_sects = b[kSetupSects] ? b[kSetupSects] : 4;
  std::size_t start = (setup_sects + 1) * 512 + le32(b, kPayloadOffset);
  std::size_t length = le32(b, kPayloadLength);
  if (start > b.size() || length > b.size() - start)
    return fail("truncated", "the bzImage's payload (" + std::to_string(length) + " bytes at " + std::to_string(start) +
                                 ") runs past the end of the file (" + std::to_string(b.size()) + " bytes)");
  Bytes payload = b.subspan(start, length);
  Compression c = detect_compression(payload);
  k.compression = std::string(compression_name(c));
  if (c == Compression::unknown)
    return fail("unknown_compression", "the bzImage's payload starts with " + hex_bytes(payload, 6) +
                                           ": none of gzip, xz, zstd, lz4, lzma, bzip2, lzo");
  auto d = decompress(c, payload, kMaxPayload);
  if (!d.ok())
    return fail(d.truncated ? "truncated" : c == Compression::lzo ? "unknown_compression" : "corrupt",
                "the bzImage's " + k.compression + " payload: " + d.error);
  return read_kernel_bytes(d.bytes, std::move(k), "the decompressed payload");
}

// ---- arm64 Image (Documentation/arch/arm64/booting.rst: magic at 0x38) ----

bool is_arm64_image(Bytes b) { return b.size() >= 0x40 && le32(b, 0x38) == 0x644d5241; }

std::string_view extension(Compression c) {
  switch (c) {
    case Compression::gzip: return "gz";
    case Compression::xz: return "xz";
    case Compression::zstd: return "zst";
    case Compression::lz4:
    case Compression::lz4_legacy: return "lz4";
    case Compression::lzma: return "lzma";
    case Compression::bzip2: return "bz2";
    default: return "";
  }
}

KernelImageResult inspect(Bytes b, int depth) {
  if (b.size() >= 4 && std::memcmp(b.data(), ELFMAG, SELFMAG) == 0) {
    KernelImage k;
    k.format = "vmlinux";
    k.compression = "none";
    return read_kernel_bytes(b, std::move(k), "the ELF file");
  }
  if (is_bzimage(b)) return read_bzimage(b);
  if (is_arm64_image(b)) {
    KernelImage k;
    k.format = "arm64 Image";
    k.arch = "arm64";
    k.compression = "none";
    return read_kernel_bytes(b, std::move(k), "the Image");
  }
  Compression c = detect_compression(b);
  if (depth == 0 && c != Compression::unknown && c != Compression::none) {
    auto d = decompress(c, b, kMaxPayload);
    if (!d.ok())
      return fail(d.truncated ? "truncated" : c == Compression::lzo ? "unknown_compression" : "corrupt",
                  "a " + std::string(compression_name(c)) + " file: " + d.error);
    auto inner = inspect(d.bytes, depth + 1);
    if (!inner.ok()) {
      inner.error = "a " + std::string(compression_name(c)) + " file holding " + inner.error;
      return inner;
    }
    inner.image->format += "." + std::string(extension(c));
    inner.image->compression = std::string(compression_name(c));
    return inner;
  }
  if (b.size() < 0x40)
    return fail("not_kernel_image", "a " + std::to_string(b.size()) + "-byte file is too short for any kernel image header");
  return fail("not_kernel_image",
              "not a kernel image: no x86 setup header ('HdrS' at 0x202), no arm64 Image magic ('ARM\\x64' at 0x38), "
              "no ELF header, no known compression (starts with " + hex_bytes(b, 6) + ")");
}

}  // namespace

std::string KernelConfig::value(std::string_view option) const {
  std::string key(option);
  if (key.rfind("CONFIG_", 0) != 0) key = "CONFIG_" + key;
  auto it = values.find(key);
  return it == values.end() ? "n" : it->second;
}

const std::vector<std::string_view>& kho_config_options() {
  static const std::vector<std::string_view> options = {
      "KEXEC_HANDOVER",    "KEXEC_HANDOVER_ENABLE_DEFAULT", "KEXEC_HANDOVER_DEBUGFS", "LIVEUPDATE",
      "LIVEUPDATE_MEMFD",  "TEST_KEXEC_HANDOVER",           "LIVEUPDATE_TEST",        "KEXEC_FILE",
      "MEMBLOCK_KHO_SCRATCH"};
  return options;
}

KernelConfig parse_kernel_config(std::string text) {
  KernelConfig c;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CONFIG_", 0) == 0) {
      auto eq = line.find('=');
      if (eq != std::string::npos) c.values[line.substr(0, eq)] = line.substr(eq + 1);
    } else if (line.rfind("# CONFIG_", 0) == 0 && line.size() > 13 &&
               line.compare(line.size() - 11, 11, " is not set") == 0) {
      c.values[line.substr(2, line.size() - 13)] = "n";
    }
  }
  c.text = std::move(text);
  return c;
}

KernelImageResult inspect_kernel_image(std::span<const std::uint8_t> bytes, const ReadOptions& opts) {
  if (bytes.empty()) return fail("not_kernel_image", "the file is empty");
  t_strings = &opts.strings;
  auto r = inspect(bytes, 0);
  t_strings = nullptr;
  return r;
}

KernelImageResult read_kernel_image(const std::filesystem::path& path, const ReadOptions& opts) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail("io", "'" + path.string() + "' is a directory");
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail("io", "cannot open '" + path.string() + "'");
  std::vector<std::uint8_t> bytes;
  std::vector<char> buf(1 << 20);
  while (f.read(buf.data(), static_cast<std::streamsize>(buf.size())) || f.gcount() > 0) {
    bytes.insert(bytes.end(), buf.begin(), buf.begin() + f.gcount());
    if (bytes.size() > kMaxImage) return fail("io", "'" + path.string() + "' is larger than 2 GiB");
  }
  if (f.bad()) return fail("io", "reading '" + path.string() + "' failed");
  return inspect_kernel_image(bytes, opts);
}

}  // namespace khospec::conformance
