// Decompressing what kernel images carry (the x86 payload, Image.gz, the
// IKCONFIG block) with the libraries Debian ships: zlib, liblzma, libzstd,
// liblz4, libbz2. No decompressor is written here; this file only recognises
// the formats by their magic and drives the libraries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace khospec::conformance {

// The kernel's CONFIG_KERNEL_* choices (arch/x86/boot/compressed/Makefile,
// scripts/Makefile.lib), plus none (CONFIG_KERNEL_UNCOMPRESSED).
enum class Compression { none, gzip, xz, zstd, lz4, lz4_legacy, lzma, bzip2, lzo, unknown };

std::string_view compression_name(Compression c);

// By the stream's magic bytes; lzo is recognised but not supported.
Compression detect_compression(std::span<const std::uint8_t> data);

struct Decompressed {
  std::vector<std::uint8_t> bytes;
  std::string error;       // "" on success
  bool truncated = false;  // the stream ended before its end marker
  bool ok() const { return error.empty(); }
};

// Decompresses one stream; bytes after its end (the kernel appends the
// uncompressed size, scripts/Makefile.lib size_append) are ignored. Output
// beyond `limit` bytes is an error, not a truncated result.
Decompressed decompress(Compression c, std::span<const std::uint8_t> data, std::size_t limit);

}  // namespace khospec::conformance
