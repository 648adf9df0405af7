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
};

// An FDT held in an 8-byte aligned private copy (libfdt requires the alignment).
class Blob {
 public:
  Blob() = default;
  // Copies `bytes`; runs every container check; findings go to `report`.
  static Blob open(std::span<const std::uint8_t> bytes, const ReadOptions& opts, Report& report);

  // True when the container checks passed: libfdt read-only calls are safe.
  bool ok() const { return ok_; }
  const void* fdt() const { return storage_.get(); }
  std::size_t buffer_size() const { return size_; }
  std::span<const std::uint8_t> bytes() const {
    return {reinterpret_cast<const std::uint8_t*>(storage_.get()), size_};
  }
  const std::string& file() const { return file_; }

  // Absolute byte offset of a structure-block offset (node or property).
  std::uint64_t abs_offset(int struct_offset) const;

  // One structure-block tag as fdt_next_tag() read it during open()'s walk.
  struct Token {
    std::uint32_t tag = 0;  // FDT_BEGIN_NODE, FDT_END_NODE or FDT_PROP (NOPs and END are left out)
    int offset = 0;         // structure-block offset of the tag
    int next = 0;           // offset of the following tag
    const char* name = nullptr;  // FDT_PROP: the name fdt_get_string() resolved (v16+) ...
    int name_len = 0;            // ... and its length
  };
  // Every tag of the structure block in order, recorded by open()'s own walk so
  // decoders need not walk it again. Filled only when ok().
  const std::vector<Token>& tokens() const { return tokens_; }

 private:
  std::unique_ptr<std::uint64_t[]> storage_;
  std::vector<Token> tokens_;
  std::size_t size_ = 0;
  bool ok_ = false;
  std::string file_;
};

// Reads a whole file ("-" = stdin). Returns false and sets `error` on I/O failure.
bool read_file(const std::string& path, std::vector<std::uint8_t>& out, std::string& error,
               std::size_t max_size);

}  // namespace khospec::fdt
