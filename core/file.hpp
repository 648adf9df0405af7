// Whole-file reads of small inputs (schemas, scratch_phys/scratch_len,
// allow-lists, corpus sources): one helper instead of one per file.
#pragma once

#include <filesystem>
#include <string>

namespace khospec {

// False when the file cannot be opened or read.
bool read_text_file(const std::filesystem::path& p, std::string& out);
// The contents, or "" when unreadable (for tests and callers that check later).
std::string read_text_file(const std::filesystem::path& p);

}  // namespace khospec
