// patternProperties regexes as std::regex: the one place a schema's pattern is
// compiled (lint, the node matcher, compat), with the length bound below.
#pragma once

#include <cstddef>
#include <memory>
#include <regex>
#include <string>

namespace khospec::conformance {

// libstdc++ compiles a regex recursively, several frames per term, so a pattern of
// ~30 KB overflows an 8 MiB stack (found by the compat long run, docs/fuzz.md).
// KHO's own patterns are under 30 characters.
inline constexpr std::size_t kMaxPatternLength = 1024;

// The compiled regex, or nullptr with `why` (when given) saying why it is refused.
std::shared_ptr<const std::regex> compile_pattern(const std::string& re, std::string* why = nullptr);

}  // namespace khospec::conformance
