// Typed decoding of property values in the producer's byte order.
//
// The FDTs khospec reads (KHO's) hold raw native-endian C values written with
// fdt_property(fdt, name, &val, sizeof(val)) -- not big-endian DT cells
// (Documentation/core-api/kho/concepts.rst: "Properties are passed in native
// endianness"). Every decoder checks the exact length first. Which type a
// property has is the caller's knowledge (fdt/tree.hpp TypeResolver).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace khospec::fdt {

// Byte order of the producing CPU (x86-64 and arm64 are little-endian).
enum class Endian { little, big };

enum class PropType {
  u32,          // 4 bytes
  u64,          // 8 bytes
  phys_addr,    // 8 bytes (phys_addr_t on 64-bit kernels)
  string,       // one NUL-terminated string, no embedded NUL
  string_list,  // one or more NUL-terminated strings (compatible)
  bytes,        // any length, shown raw
  u32_array,    // multiple of 4 bytes
  u64_array,    // multiple of 8 bytes (e.g. test_kho folios_info, RFC mem)
  empty,        // zero-length (boolean) property
};

std::string_view type_name(PropType t);
std::optional<PropType> parse_type(std::string_view name);

// Rule ID fired when a value of type `t` has the wrong length or shape
// (kho_prop_len_u32, kho_prop_len_u64, kho_prop_len_phys_addr, ...). The IDs keep
// their kho_ prefix: they are user-visible (docs/rules.md, -W/-E, baselines).
std::string len_rule(PropType t);
// What the length should be, for messages ("8 (u64, native-endian)").
std::string expected_len(PropType t);

// Unaligned loads and stores in either byte order (one move and at most one
// byte swap: these sit on the memory-map decode and validation paths).
inline std::uint32_t load_u32(const std::uint8_t* p, Endian e) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return (e == Endian::little) == (std::endian::native == std::endian::little) ? v : __builtin_bswap32(v);
}
inline std::uint64_t load_u64(const std::uint8_t* p, Endian e) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return (e == Endian::little) == (std::endian::native == std::endian::little) ? v : __builtin_bswap64(v);
}
inline void store_u32(std::uint8_t* p, std::uint32_t v, Endian e) {
  if ((e == Endian::little) != (std::endian::native == std::endian::little)) v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}
inline void store_u64(std::uint8_t* p, std::uint64_t v, Endian e) {
  if ((e == Endian::little) != (std::endian::native == std::endian::little)) v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof v);
}

// Exact-length decoders: nullopt when the length or shape is wrong.
std::optional<std::uint32_t> decode_u32(std::span<const std::uint8_t> v, Endian e);
std::optional<std::uint64_t> decode_u64(std::span<const std::uint8_t> v, Endian e);
std::optional<std::string_view> decode_string(std::span<const std::uint8_t> v);
std::optional<std::vector<std::string_view>> decode_string_list(std::span<const std::uint8_t> v);
std::optional<std::vector<std::uint32_t>> decode_u32_array(std::span<const std::uint8_t> v, Endian e);
std::optional<std::vector<std::uint64_t>> decode_u64_array(std::span<const std::uint8_t> v, Endian e);

// A decoded value: exactly one member is meaningful, per `type`.
struct Value {
  PropType type = PropType::bytes;
  std::uint64_t number = 0;                 // u32, u64, phys_addr
  std::vector<std::string> strings;         // string (1 entry), string_list
  std::vector<std::uint64_t> numbers;       // u32_array, u64_array
  std::vector<std::uint8_t> raw;            // bytes
};

// Decodes `v` as `t`; nullopt if the length/shape is wrong for `t`.
std::optional<Value> decode(std::span<const std::uint8_t> v, PropType t, Endian e);

// Renders a decoded value for text output ("0x116be4000", "\"kho-v1\"").
std::string format_value(const Value& v);
// Hex bytes "de ad be ef" (at most `limit` bytes, then "...").
std::string format_bytes(std::span<const std::uint8_t> v, std::size_t limit = 64);

}  // namespace khospec::fdt
