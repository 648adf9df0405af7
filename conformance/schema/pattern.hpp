// patternProperties regexes as std::regex: the one place a schema's pattern is
// compiled (lint, the node matcher, compat), with the length bound below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <regex>
#include <string>

namespace khospec::conformance {

// libstdc++ compiles a regex recursively, several frames per term, so a pattern of
// ~30 KB overflows an 8 MiB stack (found by the compat long run, docs/fuzz.md).
// KHO's own patterns are under 30 characters.
inline constexpr std::size_t kMaxPatternLength = 1024;
// libstdc++ also copies a repeated atom once per count (a{1000}{1000} is a million
// states) and reads a count into a long that a 20-digit one overflows (UBSan, the
// same run). KHO's own patterns use no {n} at all.
inline constexpr std::uint64_t kMaxPatternRepetition = 1024;

// The compiled regex, or nullptr with `why` (when given) saying why it is refused.
std::shared_ptr<const std::regex> compile_pattern(const std::string& re, std::string* why = nullptr);

}  // namespace khospec::conformance
