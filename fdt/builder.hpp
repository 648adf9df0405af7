// khospec::fdt builder over libfdt's sequential-write API (fdt_sw), the API the
// kernel's KHO producers use (fdt_create / fdt_finish_reservemap /
// fdt_begin_node("") / fdt_property / fdt_end_node / fdt_finish).
//
// Properties and nodes are emitted in call order, so callers reproduce the
// kernel's order (root `compatible`, then the `preserved-memory-map`
// placeholder, then subnodes). Values are written native-endian.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fdt/decode.hpp"

namespace khospec::fdt {

class Builder {
 public:
  // capacity: initial buffer; with grow=false the builder behaves like the
  // kernel's fixed fdt_create(fdt, PAGE_SIZE) and fails with FDT_ERR_NOSPACE.
  explicit Builder(std::size_t capacity = 4096, Endian endian = Endian::little, bool grow = true);

  // Memory-reservation entries must come before the root node.
  Builder& add_reservemap_entry(std::uint64_t addr, std::uint64_t size);
  Builder& begin_node(std::string_view name);
  Builder& end_node();
  Builder& prop_u32(std::string_view name, std::uint32_t v);
  Builder& prop_u64(std::string_view name, std::uint64_t v);
  Builder& prop_string(std::string_view name, std::string_view v);
  Builder& prop_string_list(std::string_view name, const std::vector<std::string>& v);
  Builder& prop_u32_array(std::string_view name, const std::vector<std::uint32_t>& v);
  Builder& prop_u64_array(std::string_view name, const std::vector<std::uint64_t>& v);
  Builder& prop_bytes(std::string_view name, std::span<const std::uint8_t> v);

  // fdt_finish(); returns exactly fdt_totalsize() bytes (empty on error).
  std::vector<std::uint8_t> finish();

  // First libfdt error (negative FDT_ERR_*), 0 if none. Later calls are no-ops.
  int error() const { return err_; }
  Endian endian() const { return endian_; }

 private:
  template <typename F>
  void run(F&& op);
  void ensure_tree_started();

  std::vector<std::uint64_t> buf_;  // 8-byte aligned storage (libfdt requires it)
  Endian endian_;
  bool grow_;
  bool reservemap_done_ = false;
  int err_ = 0;
};

}  // namespace khospec::fdt
