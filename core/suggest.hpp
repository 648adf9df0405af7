// "Did you mean ...?": the nearest name to a mistyped one, by edit distance.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace khospec {

// Levenshtein distance (insert, delete, substitute: cost 1 each).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` when it is close enough to be a typo (at
// most a third of its length, at least 1, away); nullopt otherwise. Ties go
// to the first candidate.
std::optional<std::string> closest_name(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace khospec
