// Number parsing shared by the CLI, trace and corpus readers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace khospec {

// "0x1f", "0X1F", "0b101", "31" -> value; nullopt on junk, sign or overflow.
std::optional<std::uint64_t> parse_u64(std::string_view s);

// "0x1f": the lower-case hex form every khospec message uses.
std::string hex(std::uint64_t v);

// memparse()-style size: a number with an optional K/M/G/T suffix (binary units).
std::optional<std::uint64_t> parse_size(std::string_view s);

}  // namespace khospec
