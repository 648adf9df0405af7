// Synthetic kernel images for tests: a bzImage around a compressed payload, a
// vmlinux ELF with sections and a symbol table, an arm64 Image, each carrying
// a banner and an IKCONFIG block. Compressed by the same libraries the reader
// decompresses with (the reader is tested against them, not against itself).
#pragma once

#include <bzlib.h>
#include <elf.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "conformance/kimage/decompress.hpp"

namespace khospec::conformance::testdata {

using Bytes = std::vector<std::uint8_t>;

inline Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }
inline void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
inline void append(Bytes& b, const std::string& more) { b.insert(b.end(), more.begin(), more.end()); }
inline void put16(Bytes& b, std::size_t off, std::uint16_t v) { b[off] = v & 0xff, b[off + 1] = v >> 8; }
inline void put32(Bytes& b, std::size_t off, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = (v >> (8 * i)) & 0xff;
}

inline Bytes compress(Compression c, const Bytes& in) {
  Bytes out;
  switch (c) {
    case Compression::none: return in;
    case Compression::gzip: {
      z_stream s{};
      if (deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("zlib");
      out.resize(deflateBound(&s, in.size()) + 64);
      s.next_in = const_cast<Bytef*>(in.data());
      s.avail_in = static_cast<uInt>(in.size());
      s.next_out = out.data();
      s.avail_out = static_cast<uInt>(out.size());
      if (deflate(&s, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
      out.resize(s.total_out);
      deflateEnd(&s);
      return out;
    }
    case Compression::xz:
    case Compression::lzma: {
      lzma_stream s = LZMA_STREAM_INIT;
      lzma_options_lzma opt;
      lzma_lzma_preset(&opt, 6);
      if ((c == Compression::xz ? lzma_easy_encoder(&s, 6, LZMA_CHECK_CRC32) : lzma_alone_encoder(&s, &opt)) != LZMA_OK)
        throw std::runtime_error("lzma");
      out.resize(in.size() + in.size() / 2 + 4096);
      s.next_in = in.data();
      s.avail_in = in.size();
      s.next_out = out.data();
      s.avail_out = out.size();
      if (lzma_code(&s, LZMA_FINISH) != LZMA_STREAM_END) throw std::runtime_error("lzma_code");
      out.resize(s.total_out);
      lzma_end(&s);
      return out;
    }
    case Compression::zstd: {
      out.resize(ZSTD_compressBound(in.size()));
      out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 19));
      return out;
    }
    case Compression::lz4: {
      out.resize(LZ4F_compressFrameBound(in.size(), nullptr));
      out.resize(LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), nullptr));
      return out;
    }
    case Compression::lz4_legacy: {  // `lz4 -l`: magic, then (u32 size, block) per 8 MiB
      out = {0x02, 0x21, 0x4c, 0x18};
      for (std::size_t pos = 0; pos < in.size(); pos += 8u << 20) {
        int n = static_cast<int>(std::min<std::size_t>(in.size() - pos, 8u << 20));
        Bytes block(static_cast<std::size_t>(LZ4_compressBound(n)));
        int got = LZ4_compress_default(reinterpret_cast<const char*>(in.data() + pos), reinterpret_cast<char*>(block.data()),
                                       n, static_cast<int>(block.size()));
        std::size_t at = out.size();
        out.resize(at + 4);
        put32(out, at, static_cast<std::uint32_t>(got));
        out.insert(out.end(), block.begin(), block.begin() + got);
      }
      return out;
    }
    case Compression::bzip2: {
      unsigned n = static_cast<unsigned>(in.size() + in.size() / 100 + 600);
      out.resize(n);
      if (BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &n,
                                   const_cast<char*>(reinterpret_cast<const char*>(in.data())),
                                   static_cast<unsigned>(in.size()), 9, 0, 0) != BZ_OK)
        throw std::runtime_error("bzip2");
      out.resize(n);
      return out;
    }
    default: throw std::runtime_error("no compressor for this format");
  }
}

// The kernel appends the uncompressed size to its payloads (size_append).
inline Bytes with_size(Bytes z, std::size_t size) {
  std::size_t at = z.size();
  z.resize(at + 4);
  put32(z, at, static_cast<std::uint32_t>(size));
  return z;
}

inline const std::string kConfig =
    "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 7.3.4 Kernel Configuration\n#\n"
    "CONFIG_KEXEC_HANDOVER=y\nCONFIG_KEXEC_HANDOVER_DEBUGFS=y\n"
    "# CONFIG_KEXEC_HANDOVER_ENABLE_DEFAULT is not set\nCONFIG_LIVEUPDATE=y\n"
    "# CONFIG_LIVEUPDATE_MEMFD is not set\nCONFIG_TEST_KEXEC_HANDOVER=m\n"
    "CONFIG_LOCALVERSION=\"-kho\"\nCONFIG_NR_CPUS=64\nCONFIG_IKCONFIG=y\n";

inline Bytes ikconfig_block(const std::string& config = kConfig) {
  Bytes b = bytes_of("IKCFG_ST");
  append(b, compress(Compression::gzip, bytes_of(config)));
  append(b, std::string("IKCFG_ED"));
  return b;
}

inline std::string banner(const std::string& release) {
  return "Linux version " + release + " (test@khospec) (gcc 12.2.0) #1 SMP PREEMPT";
}

// A kernel's bytes: padding, the banner, the IKCONFIG block (optional), padding.
inline Bytes kernel_body(const std::string& release = "7.3.4", bool ikconfig = true) {
  Bytes b(4096, 0x90);
  append(b, banner(release));
  b.push_back(0);
  if (ikconfig) append(b, ikconfig_block());
  b.resize(b.size() + 8192, 0xcc);
  return b;
}

// An x86 bzImage: setup_sects = 1, boot protocol 2.15, the kernel_version
// string at 0x300, the payload 0x10 bytes into the protected-mode code.
inline Bytes bzimage(const Bytes& payload, const std::string& version = "7.3.4 (test@khospec) #1 SMP PREEMPT") {
  Bytes b(1024 + 0x10, 0);
  b[0] = 'M', b[1] = 'Z';
  b[0x1f1] = 1;
  b[0x1fe] = 0x55, b[0x1ff] = 0xaa;
  std::memcpy(&b[0x202], "HdrS", 4);
  put16(b, 0x206, 0x020f);
  put16(b, 0x20e, 0x300 - 0x200);
  std::memcpy(&b[0x300], version.c_str(), version.size() + 1);
  put32(b, 0x248, 0x10);
  put32(b, 0x24c, static_cast<std::uint32_t>(payload.size()));
  append(b, payload);
  return b;
}

inline Bytes bzimage_of(Compression c, const Bytes& kernel = kernel_body()) {
  return bzimage(with_size(compress(c, kernel), kernel.size()));
}

// An arm64 Image: the 64-byte header (magic "ARM\x64" at 0x38), then the kernel.
inline Bytes arm64_image(const Bytes& kernel = kernel_body()) {
  Bytes b(64, 0);
  put32(b, 0x38, 0x644d5241);
  append(b, kernel);
  return b;
}

// A minimal vmlinux: .rodata holding `rodata` (linux_banner at `banner_at`),
// the given extra sections, .symtab/.strtab (linux_banner) and .shstrtab.
struct ElfSection {
  std::string name;
  Bytes data;
};

inline Bytes vmlinux(const Bytes& rodata, std::size_t banner_at, const std::vector<ElfSection>& extra = {},
                     bool symtab = true) {
  constexpr std::uint64_t kBase = 0xffffffff81200000ull;
  std::vector<ElfSection> secs = {{"", {}}, {".rodata", rodata}};
  for (const auto& s : extra) secs.push_back(s);
  Bytes strtab = {0};
  append(strtab, std::string("linux_banner"));
  strtab.push_back(0);
  std::size_t symtab_index = secs.size();
  if (symtab) {
    Bytes sym(2 * sizeof(Elf64_Sym), 0);
    Elf64_Sym s{};
    s.st_name = 1;
    s.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT);
    s.st_shndx = 1;
    s.st_value = kBase + banner_at;
    std::memcpy(sym.data() + sizeof(Elf64_Sym), &s, sizeof s);
    secs.push_back({".symtab", sym});
    secs.push_back({".strtab", strtab});
  }
  secs.push_back({".shstrtab", {}});
  Bytes shstr = {0};
  std::vector<std::uint32_t> name_off;
  for (const auto& s : secs) {
    name_off.push_back(s.name.empty() ? 0 : static_cast<std::uint32_t>(shstr.size()));
    if (!s.name.empty()) append(shstr, s.name), shstr.push_back(0);
  }
  secs.back().data = shstr;
  Bytes out(sizeof(Elf64_Ehdr), 0);
  std::vector<Elf64_Shdr> sh(secs.size());
  for (std::size_t i = 1; i < secs.size(); ++i) {
    while (out.size() % 8) out.push_back(0);
    sh[i].sh_name = name_off[i];
    sh[i].sh_offset = out.size();
    sh[i].sh_size = secs[i].data.size();
    sh[i].sh_type = SHT_PROGBITS;
    if (secs[i].name == ".rodata") sh[i].sh_flags = SHF_ALLOC, sh[i].sh_addr = kBase;
    if (secs[i].name == ".symtab") sh[i].sh_type = SHT_SYMTAB, sh[i].sh_link = static_cast<std::uint32_t>(symtab_index + 1),
                                   sh[i].sh_entsize = sizeof(Elf64_Sym);
    if (secs[i].name == ".strtab" || secs[i].name == ".shstrtab") sh[i].sh_type = SHT_STRTAB;
    append(out, secs[i].data);
  }
  while (out.size() % 8) out.push_back(0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_ehsize = sizeof eh;
  eh.e_shoff = out.size();
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = static_cast<std::uint16_t>(secs.size());
  eh.e_shstrndx = static_cast<std::uint16_t>(secs.size() - 1);
  std::memcpy(out.data(), &eh, sizeof eh);
  for (const auto& h : sh) {
    std::size_t at = out.size();
    out.resize(at + sizeof h);
    std::memcpy(out.data() + at, &h, sizeof h);
  }
  return out;
}

// The RFC's .liveupdate_versions: {u32 'LVUP', u32 version} then 48-byte strings.
inline Bytes liveupdate_versions(const std::vector<std::string>& compatibles) {
  Bytes b(8, 0);
  put32(b, 0, 0x4c565550);
  put32(b, 4, 1);
  for (const auto& c : compatibles) {
    std::size_t at = b.size();
    b.resize(at + 48, 0);
    std::memcpy(&b[at], c.data(), std::min<std::size_t>(c.size(), 47));
  }
  return b;
}

}  // namespace khospec::conformance::testdata
