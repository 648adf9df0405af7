#include "fdt/decode.hpp"

#include "core/parse.hpp"

#include <cstdio>

namespace khospec::fdt {

std::string_view type_name(PropType t) {
  switch (t) {
    case PropType::u32: return "u32";
    case PropType::u64: return "u64";
    case PropType::phys_addr: return "phys_addr";
    case PropType::string: return "string";
    case PropType::string_list: return "string-list";
    case PropType::bytes: return "bytes";
    case PropType::u32_array: return "u32-array";
    case PropType::u64_array: return "u64-array";
    case PropType::empty: return "empty";
  }
  return "bytes";
}

std::optional<PropType> parse_type(std::string_view name) {
  for (PropType t : {PropType::u32, PropType::u64, PropType::phys_addr, PropType::string,
                     PropType::string_list, PropType::bytes, PropType::u32_array,
                     PropType::u64_array, PropType::empty}) {
    if (type_name(t) == name) return t;
  }
  return std::nullopt;
}

std::string len_rule(PropType t) {
  std::string n(type_name(t));
  for (auto& c : n) {
    if (c == '-') c = '_';
  }
  return "kho_prop_len_" + n;
}

std::string expected_len(PropType t) {
  switch (t) {
    case PropType::u32: return "4 (u32, native-endian)";
    case PropType::u64: return "8 (u64, native-endian)";
    case PropType::phys_addr: return "8 (phys_addr_t, native-endian)";
    case PropType::string: return "a NUL-terminated string without embedded NULs";
    case PropType::string_list: return "one or more non-empty NUL-terminated strings";
    case PropType::u32_array: return "a multiple of 4 (u32 array, native-endian)";
    case PropType::u64_array: return "a multiple of 8 (u64 array, native-endian)";
    case PropType::empty: return "0 (empty property)";
    case PropType::bytes: return "any";
  }
  return "any";
}

std::optional<std::uint32_t> decode_u32(std::span<const std::uint8_t> v, Endian e) {
  if (v.size() != 4) return std::nullopt;
  return load_u32(v.data(), e);
}

std::optional<std::uint64_t> decode_u64(std::span<const std::uint8_t> v, Endian e) {
  if (v.size() != 8) return std::nullopt;
  return load_u64(v.data(), e);
}

std::optional<std::string_view> decode_string(std::span<const std::uint8_t> v) {
  if (v.empty() || v.back() != 0) return std::nullopt;
  std::string_view s(reinterpret_cast<const char*>(v.data()), v.size() - 1);
  if (s.find('\0') != std::string_view::npos) return std::nullopt;
  return s;
}

std::optional<std::vector<std::string_view>> decode_string_list(std::span<const std::uint8_t> v) {
  if (v.empty() || v.back() != 0) return std::nullopt;
  std::vector<std::string_view> out;
  std::string_view all(reinterpret_cast<const char*>(v.data()), v.size());
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t end = all.find('\0', pos);
    if (end == pos) return std::nullopt;  // empty entry: no producer writes one
    out.push_back(all.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

std::optional<std::vector<std::uint32_t>> decode_u32_array(std::span<const std::uint8_t> v, Endian e) {
  if (v.size() % 4 != 0) return std::nullopt;
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < v.size(); i += 4) out.push_back(load_u32(v.data() + i, e));
  return out;
}

std::optional<std::vector<std::uint64_t>> decode_u64_array(std::span<const std::uint8_t> v, Endian e) {
  if (v.size() % 8 != 0) return std::nullopt;
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i < v.size(); i += 8) out.push_back(load_u64(v.data() + i, e));
  return out;
}

std::optional<Value> decode(std::span<const std::uint8_t> v, PropType t, Endian e) {
  Value out;
  out.type = t;
  switch (t) {
    case PropType::u32: {
      auto x = decode_u32(v, e);
      if (!x) return std::nullopt;
      out.number = *x;
      return out;
    }
    case PropType::u64:
    case PropType::phys_addr: {
      auto x = decode_u64(v, e);
      if (!x) return std::nullopt;
      out.number = *x;
      return out;
    }
    case PropType::string: {
      auto s = decode_string(v);
      if (!s) return std::nullopt;
      out.strings.emplace_back(*s);
      return out;
    }
    case PropType::string_list: {
      auto l = decode_string_list(v);
      if (!l) return std::nullopt;
      for (auto s : *l) out.strings.emplace_back(s);
      return out;
    }
    case PropType::u32_array: {
      auto a = decode_u32_array(v, e);
      if (!a) return std::nullopt;
      out.numbers.assign(a->begin(), a->end());
      return out;
    }
    case PropType::u64_array: {
      auto a = decode_u64_array(v, e);
      if (!a) return std::nullopt;
      out.numbers = std::move(*a);
      return out;
    }
    case PropType::empty:
      if (!v.empty()) return std::nullopt;
      return out;
    case PropType::bytes:
      out.raw.assign(v.begin(), v.end());
      return out;
  }
  return std::nullopt;
}

namespace {

// Strings from a blob are untrusted: escape anything non-printable.
std::string quote(const std::string& s) {
  std::string r = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      r.push_back('\\');
      r.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      r += buf;
    } else {
      r.push_back(static_cast<char>(c));
    }
  }
  return r + "\"";
}
}  // namespace

std::string format_bytes(std::span<const std::uint8_t> v, std::size_t limit) {
  std::string r = "[";
  for (std::size_t i = 0; i < v.size() && i < limit; ++i) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02x", v[i]);
    if (i) r.push_back(' ');
    r += buf;
  }
  if (v.size() > limit) r += " ...";
  return r + "]";
}

std::string format_value(const Value& v) {
  switch (v.type) {
    case PropType::u32:
    case PropType::u64:
    case PropType::phys_addr:
      return hex(v.number);
    case PropType::string:
      return quote(v.strings.empty() ? std::string() : v.strings[0]);
    case PropType::string_list: {
      std::string r;
      for (std::size_t i = 0; i < v.strings.size(); ++i) r += (i ? ", " : "") + quote(v.strings[i]);
      return r;
    }
    case PropType::u32_array:
    case PropType::u64_array: {
      std::string r = "<";
      for (std::size_t i = 0; i < v.numbers.size(); ++i) r += (i ? " " : "") + hex(v.numbers[i]);
      return r + ">";
    }
    case PropType::empty:
      return "(empty)";
    case PropType::bytes:
      return format_bytes(v.raw);
  }
  return "";
}

}  // namespace khospec::fdt
