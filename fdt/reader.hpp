// khospec::fdt reader: the only way khospec looks at an untrusted FDT.
//
// open() never trusts the header: it checks the buffer with libfdt's
// fdt_check_full(blob, buffer_size) plus the container rules libfdt leaves out
// (block alignment, version, reservation map, a size cap, one unnamed root).
// Every failure is a named fdt_* finding carrying the libfdt error name and the
// byte offset; nothing throws, aborts or reads out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag.hpp"

namespace khospec::fdt {

// Name of a libfdt error code ("FDT_ERR_TRUNCATED"); accepts err or -err.
std::string fdt_err_name(int err);

struct ReadOptions {
  std::string file = "<input>";  // display name used in findings
  // Refuse blobs larger than this (KHO root FDTs are one page since 6.16; the RFC
  // dt_max default was 10 MiB; test_kho sub-FDTs grow with nr_folios).
  std::size_t max_size = 64u << 20;
  // The whole input's size when the bytes given are only its first part
  // (read_file() stops keeping an input it knows is above max_size).
  std::optional<std::uint64_t> input_size;
};

struct FlatTree;  // fdt/tree.hpp

// An FDT held in an 8-byte aligned private copy (libfdt requires the alignment).
class Blob {
 public:
  Blob() = default;
  // Copies `bytes`; runs every container check; findings go to `report`. With
  // `flat`, also fills it with read_flat()'s decode from the same structure walk
  // (empty when the blob is not ok()); it views this Blob's storage.
  static Blob open(std::span<const std::uint8_t> bytes, const ReadOptions& opts, Report& report,
                   FlatTree* flat = nullptr);

  // True when the container checks passed: libfdt read-only calls are safe.
  bool ok() const { return ok_; }
  const void* fdt() const { return storage_.get(); }
  std::size_t buffer_size() const { return size_; }
  std::span<const std::uint8_t> bytes() const {
    return {reinterpret_cast<const std::uint8_t*>(storage_.get()), size_};
  }
  const std::string& file() const { return file_; }

  // The structure block's size (size_dt_struct; ok() blobs only).
  std::size_t struct_size() const { return struct_size_; }
  // Absolute byte offset of a structure-block offset (node or property).
  std::uint64_t abs_offset(int struct_offset) const { return off_dt_struct_ + static_cast<std::uint64_t>(struct_offset); }

  // One structure-block tag as open()'s walk (fdt_next_tag()) read it.
  struct Token {
    std::uint32_t tag = 0;  // FDT_BEGIN_NODE, FDT_END_NODE or FDT_PROP (NOPs and END are left out)
    int offset = 0;         // structure-block offset of the tag
    int next = 0;           // offset of the following tag
    // FDT_PROP: the name fdt_get_string() resolved, and the value; FDT_BEGIN_NODE: the
    // NUL-terminated name after the tag (its NUL lies before `next`). open() walks
    // only version 16+ blobs, so these are what fdt_get_name() / fdt_getprop() return.
    const char* name = nullptr;
    int name_len = 0;                    // FDT_PROP only
    const std::uint8_t* data = nullptr;  // FDT_PROP: the value, `len` bytes inside the structure block
    int len = 0;
  };
  using TokenSink = void (*)(void* ctx, const Token& token);
  // Walks the structure block of an ok() blob again, as open() did, handing every
  // node and property tag to `sink` in order (nothing when !ok()).
  void for_each_token(TokenSink sink, void* ctx) const;

 private:
  std::unique_ptr<std::uint64_t[]> storage_;
  std::size_t size_ = 0;
  std::uint64_t off_dt_struct_ = 0;  // the header's, once it passed fdt_check_header()
  std::size_t struct_size_ = 0;      // size_dt_struct (v17), else what lies before the strings
  bool ok_ = false;
  std::string file_;
};

// The totalsize a blob's header claims when its first bytes carry FDT_MAGIC
// (libfdt's fdt_magic() and fdt_totalsize(); nothing else is checked), for
// telling an FDT sub-blob from a raw one before reading all of it.
std::optional<std::uint32_t> peek_fdt_totalsize(std::span<const std::uint8_t> head);

// The root node's first `compatible` string of a well-formed blob (header
// checked, totalsize within `blob`); nullopt otherwise.
std::optional<std::string> root_compatible(std::span<const std::uint8_t> blob);

// True when an input is known to be above the size cap from what was seen of
// it: `seen` bytes (or its known size), or the totalsize its first bytes claim.
bool over_size_cap(std::span<const std::uint8_t> head, std::uint64_t seen, std::size_t max_size);

// Reads a whole file ("-" = stdin), at most max_size + 1 bytes. Returns false
// and sets `error` on I/O failure. With `whole`, an input known to be above
// max_size (its size, or the FDT header's totalsize) is kept only in part and
// `whole` gets its real size: pass it on as ReadOptions::input_size.
bool read_file(const std::string& path, std::vector<std::uint8_t>& out, std::string& error,
               std::size_t max_size, std::uint64_t* whole = nullptr);

}  // namespace khospec::fdt
