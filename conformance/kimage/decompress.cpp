#include "conformance/kimage/decompress.hpp"

#define ZLIB_CONST
#include <bzlib.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

namespace khospec::conformance {

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::xz: return "xz";
    case Compression::zstd: return "zstd";
    case Compression::lz4: return "lz4";
    case Compression::lz4_legacy: return "lz4 (legacy frames)";
    case Compression::lzma: return "lzma";
    case Compression::bzip2: return "bzip2";
    case Compression::lzo: return "lzo";
    case Compression::unknown: break;
  }
  return "unknown";
}

namespace {

bool starts_with(std::span<const std::uint8_t> d, std::initializer_list<std::uint8_t> magic) {
  return d.size() >= magic.size() && std::equal(magic.begin(), magic.end(), d.begin());
}

std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

constexpr std::size_t kChunk = 1u << 20;

std::string too_large(std::size_t limit) {
  return "decompressed data exceeds " + std::to_string(limit >> 20) + " MiB";
}

Decompressed gunzip(std::span<const std::uint8_t> in, std::size_t limit) {
  Decompressed r;
  z_stream s{};
  if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) return {{}, "zlib: inflateInit2 failed"};
  s.next_in = in.data();
  s.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), UINT32_MAX));
  int rc = Z_OK;
  while (rc == Z_OK) {
    std::size_t have = r.bytes.size();
    if (have >= limit) {
      r.error = too_large(limit);
      break;
    }
    r.bytes.resize(std::min(have + kChunk, limit));
    s.next_out = r.bytes.data() + have;
    s.avail_out = static_cast<uInt>(r.bytes.size() - have);
    rc = inflate(&s, Z_NO_FLUSH);
    r.bytes.resize(r.bytes.size() - s.avail_out);
    if (rc == Z_BUF_ERROR && s.avail_in == 0) {
      r.error = "gzip stream ends before its end";
      r.truncated = true;
    } else if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      r.error = std::string("zlib: ") + (s.msg ? s.msg : "corrupt gzip stream");
    } else if (rc == Z_BUF_ERROR) {
      rc = Z_OK;  // output was full: grow and go on
    }
  }
  inflateEnd(&s);
  return r;
}

// xz (CONFIG_KERNEL_XZ, with its BCJ filter) and the legacy .lzma format
// (CONFIG_KERNEL_LZMA): both liblzma.
Decompressed unxz(std::span<const std::uint8_t> in, std::size_t limit, bool alone) {
  Decompressed r;
  lzma_stream s = LZMA_STREAM_INIT;
  lzma_ret rc = alone ? lzma_alone_decoder(&s, UINT64_MAX) : lzma_stream_decoder(&s, UINT64_MAX, 0);
  if (rc != LZMA_OK) return {{}, "liblzma: decoder initialisation failed"};
  s.next_in = in.data();
  s.avail_in = in.size();
  while (rc == LZMA_OK) {
    std::size_t have = r.bytes.size();
    if (have >= limit) {
      r.error = too_large(limit);
      break;
    }
    r.bytes.resize(std::min(have + kChunk, limit));
    s.next_out = r.bytes.data() + have;
    s.avail_out = r.bytes.size() - have;
    // LZMA_FINISH: all input is here; the decoder says LZMA_BUF_ERROR when it
    // runs out before the stream's end.
    rc = lzma_code(&s, LZMA_FINISH);
    r.bytes.resize(r.bytes.size() - s.avail_out);
    if (rc == LZMA_BUF_ERROR && s.avail_in == 0) {
      r.error = std::string(alone ? "lzma" : "xz") + " stream ends before its end";
      r.truncated = true;
    } else if (rc == LZMA_BUF_ERROR) {
      rc = LZMA_OK;
    } else if (rc != LZMA_OK && rc != LZMA_STREAM_END) {
      r.error = "liblzma: corrupt " + std::string(alone ? "lzma" : "xz") + " stream (error " +
                std::to_string(static_cast<int>(rc)) + ")";
    }
  }
  lzma_end(&s);
  return r;
}

Decompressed unzstd(std::span<const std::uint8_t> in, std::size_t limit) {
  Decompressed r;
  ZSTD_DStream* s = ZSTD_createDStream();
  if (!s) return {{}, "libzstd: out of memory"};
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  std::size_t rc = 1;
  while (r.error.empty()) {
    std::size_t have = r.bytes.size();
    if (have >= limit) {
      r.error = too_large(limit);
      break;
    }
    r.bytes.resize(std::min(have + kChunk, limit));
    ZSTD_outBuffer ob{r.bytes.data() + have, r.bytes.size() - have, 0};
    rc = ZSTD_decompressStream(s, &ob, &ib);
    r.bytes.resize(have + ob.pos);
    if (ZSTD_isError(rc)) {
      r.error = std::string("libzstd: ") + ZSTD_getErrorName(rc);
    } else if (rc == 0) {
      break;  // frame complete
    } else if (ib.pos == ib.size && ob.pos < ob.size) {
      r.error = "zstd stream ends before its end";
      r.truncated = true;
    }
  }
  ZSTD_freeDStream(s);
  return r;
}

Decompressed unlz4_frame(std::span<const std::uint8_t> in, std::size_t limit) {
  Decompressed r;
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) return {{}, "liblz4: out of memory"};
  std::size_t pos = 0;
  std::size_t hint = 1;
  while (hint != 0 && r.error.empty()) {
    std::size_t have = r.bytes.size();
    if (have >= limit) {
      r.error = too_large(limit);
      break;
    }
    if (pos == in.size()) {
      r.error = "lz4 frame ends before its end";
      r.truncated = true;
      break;
    }
    r.bytes.resize(std::min(have + kChunk, limit));
    std::size_t out_n = r.bytes.size() - have;
    std::size_t in_n = in.size() - pos;
    hint = LZ4F_decompress(ctx, r.bytes.data() + have, &out_n, in.data() + pos, &in_n, nullptr);
    pos += in_n;
    r.bytes.resize(have + out_n);
    if (LZ4F_isError(hint)) r.error = std::string("liblz4: ") + LZ4F_getErrorName(hint);
  }
  LZ4F_freeDecompressionContext(ctx);
  return r;
}

// The legacy format `lz4 -l` writes (the kernel's CONFIG_KERNEL_LZ4): the magic,
// then blocks, each a little-endian u32 compressed size and an LZ4 block of at
// most 8 MiB, decoded by liblz4's LZ4_decompress_safe.
Decompressed unlz4_legacy(std::span<const std::uint8_t> in, std::size_t limit) {
  constexpr std::uint32_t kMagic = 0x184C2102;
  constexpr std::size_t kBlock = 8u << 20;
  Decompressed r;
  std::size_t pos = 0;
  std::size_t blocks = 0;
  while (in.size() - pos >= 4) {
    std::uint32_t n = le32(in.data() + pos);
    if (n == kMagic) {
      pos += 4;
      continue;
    }
    if (n > in.size() - pos - 4) {
      // The kernel appends the uncompressed size after the last block.
      if (in.size() - pos == 4 && blocks > 0) break;
      r.error = "lz4 block of " + std::to_string(n) + " bytes runs past the data";
      r.truncated = true;
      return r;
    }
    if (n > static_cast<std::uint32_t>(LZ4_compressBound(static_cast<int>(kBlock)))) {
      r.error = "lz4: block size " + std::to_string(n) + " is not a legacy lz4 block";
      return r;
    }
    std::size_t have = r.bytes.size();
    if (have + kBlock > limit) {
      r.error = too_large(limit);
      return r;
    }
    r.bytes.resize(have + kBlock);
    int got = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data() + pos + 4),
                                  reinterpret_cast<char*>(r.bytes.data() + have), static_cast<int>(n),
                                  static_cast<int>(kBlock));
    if (got < 0) {
      r.error = "liblz4: corrupt lz4 block at byte " + std::to_string(pos);
      return r;
    }
    r.bytes.resize(have + static_cast<std::size_t>(got));
    pos += 4 + n;
    ++blocks;
  }
  if (blocks == 0) {
    r.error = "lz4 stream has no block";
    r.truncated = true;
  }
  return r;
}

Decompressed bunzip2(std::span<const std::uint8_t> in, std::size_t limit) {
  Decompressed r;
  bz_stream s{};
  if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) return {{}, "libbz2: initialisation failed"};
  // libbz2's interface is not const-correct; it never writes its input.
  s.next_in = const_cast<char*>(reinterpret_cast<const char*>(in.data()));
  s.avail_in = static_cast<unsigned>(std::min<std::size_t>(in.size(), UINT32_MAX));
  int rc = BZ_OK;
  while (rc == BZ_OK) {
    std::size_t have = r.bytes.size();
    if (have >= limit) {
      r.error = too_large(limit);
      break;
    }
    r.bytes.resize(std::min(have + kChunk, limit));
    s.next_out = reinterpret_cast<char*>(r.bytes.data() + have);
    s.avail_out = static_cast<unsigned>(r.bytes.size() - have);
    rc = BZ2_bzDecompress(&s);
    r.bytes.resize(r.bytes.size() - s.avail_out);
    if (rc == BZ_OK && s.avail_in == 0 && s.avail_out > 0) {
      r.error = "bzip2 stream ends before its end";
      r.truncated = true;
      break;
    } else if (rc != BZ_OK && rc != BZ_STREAM_END) {
      r.error = "libbz2: corrupt bzip2 stream (error " + std::to_string(rc) + ")";
    }
  }
  BZ2_bzDecompressEnd(&s);
  return r;
}

}  // namespace

Compression detect_compression(std::span<const std::uint8_t> d) {
  if (starts_with(d, {0x7f, 'E', 'L', 'F'})) return Compression::none;
  if (starts_with(d, {0x1f, 0x8b})) return Compression::gzip;
  if (starts_with(d, {0xfd, '7', 'z', 'X', 'Z', 0x00})) return Compression::xz;
  if (starts_with(d, {0x28, 0xb5, 0x2f, 0xfd})) return Compression::zstd;
  if (starts_with(d, {0x04, 0x22, 0x4d, 0x18})) return Compression::lz4;
  if (starts_with(d, {0x02, 0x21, 0x4c, 0x18})) return Compression::lz4_legacy;
  if (starts_with(d, {'B', 'Z', 'h'}) && d.size() > 3 && d[3] >= '1' && d[3] <= '9') return Compression::bzip2;
  if (starts_with(d, {0x89, 'L', 'Z', 'O', 0x00})) return Compression::lzo;
  // .lzma has no magic: properties byte 0x5d (lc=3 lp=0 pb=2, what `lzma` and
  // the kernel's lzma wrapper write) and a dictionary size below 4 GiB.
  if (starts_with(d, {0x5d, 0x00}) && d.size() >= 13) return Compression::lzma;
  return Compression::unknown;
}

Decompressed decompress(Compression c, std::span<const std::uint8_t> data, std::size_t limit) {
  switch (c) {
    case Compression::none: {
      if (data.size() > limit) return {{}, too_large(limit)};
      return {std::vector<std::uint8_t>(data.begin(), data.end()), ""};
    }
    case Compression::gzip: return gunzip(data, limit);
    case Compression::xz: return unxz(data, limit, false);
    case Compression::lzma: return unxz(data, limit, true);
    case Compression::zstd: return unzstd(data, limit);
    case Compression::lz4: return unlz4_frame(data, limit);
    case Compression::lz4_legacy: return unlz4_legacy(data, limit);
    case Compression::bzip2: return bunzip2(data, limit);
    case Compression::lzo:
      return {{}, "lzo compression (CONFIG_KERNEL_LZO) is recognised but not supported: no LZO library is linked"};
    case Compression::unknown: break;
  }
  return {{}, "unknown compression"};
}

}  // namespace khospec::conformance
