#include "fdt/builder.hpp"

#include <cstring>

extern "C" {
#include <libfdt.h>
}

namespace khospec::fdt {

Builder::Builder(std::size_t capacity, Endian endian, bool grow)
    : buf_((capacity + 7) / 8), endian_(endian), grow_(grow) {
  err_ = fdt_create(buf_.data(), static_cast<int>(buf_.size() * 8));
}

template <typename F>
void Builder::run(F&& op) {
  if (err_ != 0) return;
  for (;;) {
    int rc = op(static_cast<void*>(buf_.data()));
    if (rc != -FDT_ERR_NOSPACE || !grow_ || buf_.size() * 8 >= (std::size_t{1} << 30)) {
      if (rc < 0) err_ = rc;
      return;
    }
    // fdt_resize() moves a sequential-write tree into a larger buffer.
    std::vector<std::uint64_t> bigger(buf_.size() * 2);
    int r = fdt_resize(buf_.data(), bigger.data(), static_cast<int>(bigger.size() * 8));
    if (r < 0) {
      err_ = r;
      return;
    }
    buf_.swap(bigger);
  }
}

void Builder::ensure_tree_started() {
  if (!reservemap_done_) {
    run([](void* f) { return fdt_finish_reservemap(f); });
    reservemap_done_ = true;
  }
}

Builder& Builder::add_reservemap_entry(std::uint64_t addr, std::uint64_t size) {
  run([&](void* f) { return fdt_add_reservemap_entry(f, addr, size); });
  return *this;
}

Builder& Builder::begin_node(std::string_view name) {
  ensure_tree_started();
  std::string n(name);
  run([&](void* f) { return fdt_begin_node(f, n.c_str()); });
  return *this;
}

Builder& Builder::end_node() {
  ensure_tree_started();
  run([](void* f) { return fdt_end_node(f); });
  return *this;
}

Builder& Builder::prop_bytes(std::string_view name, std::span<const std::uint8_t> v) {
  ensure_tree_started();
  std::string n(name);
  run([&](void* f) { return fdt_property(f, n.c_str(), v.data(), static_cast<int>(v.size())); });
  return *this;
}

Builder& Builder::prop_u32(std::string_view name, std::uint32_t v) {
  std::uint8_t b[4];
  store_u32(b, v, endian_);
  return prop_bytes(name, b);
}

Builder& Builder::prop_u64(std::string_view name, std::uint64_t v) {
  std::uint8_t b[8];
  store_u64(b, v, endian_);
  return prop_bytes(name, b);
}

Builder& Builder::prop_string(std::string_view name, std::string_view v) {
  // fdt_property_string(): the value includes its terminating NUL.
  std::vector<std::uint8_t> b(v.begin(), v.end());
  b.push_back(0);
  return prop_bytes(name, b);
}

Builder& Builder::prop_string_list(std::string_view name, const std::vector<std::string>& v) {
  std::vector<std::uint8_t> b;
  for (const auto& s : v) {
    b.insert(b.end(), s.begin(), s.end());
    b.push_back(0);
  }
  return prop_bytes(name, b);
}

Builder& Builder::prop_u32_array(std::string_view name, const std::vector<std::uint32_t>& v) {
  std::vector<std::uint8_t> b(v.size() * 4);
  for (std::size_t i = 0; i < v.size(); ++i) store_u32(b.data() + 4 * i, v[i], endian_);
  return prop_bytes(name, b);
}

Builder& Builder::prop_u64_array(std::string_view name, const std::vector<std::uint64_t>& v) {
  std::vector<std::uint8_t> b(v.size() * 8);
  for (std::size_t i = 0; i < v.size(); ++i) store_u64(b.data() + 8 * i, v[i], endian_);
  return prop_bytes(name, b);
}

std::vector<std::uint8_t> Builder::finish() {
  ensure_tree_started();
  run([](void* f) { return fdt_finish(f); });
  if (err_ != 0) return {};
  const auto* p = reinterpret_cast<const std::uint8_t*>(buf_.data());
  return std::vector<std::uint8_t>(p, p + fdt_totalsize(buf_.data()));
}

}  // namespace khospec::fdt
