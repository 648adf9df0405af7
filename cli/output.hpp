// Rendering inspected blobs for `dump` and `demo` (text tree or one JSON document).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/cli.hpp"

namespace khospec::cli {

struct NamedBlob {
  std::string name;                // display name used in findings
  std::vector<std::uint8_t> bytes;
  std::string title;               // optional heading in text mode
  std::uint64_t size = 0;          // the input's size when `bytes` is only its first part (read_input)
};

// Inspects every blob (container checks + typed decoding), prints the trees
// (text) or a {"format_version":1,...,"files":[...],"diagnostics":[...]}
// document (json), and returns the findings exit code.
// `unread`: inputs that could not be read (already said on stderr), listed
// among the JSON diagnostics (type "cli") so -f json carries them too.
int dump_blobs(Context& ctx, const std::vector<NamedBlob>& blobs, std::string_view command,
               const std::vector<Diagnostic>& unread = {});
// The diagnostic for an input read_input() could not read.
Diagnostic unread_input(const std::string& path, const std::string& message);

// Reads a whole input: a file, or "-" = ctx.in (bounded by --max-size, so an
// oversized input is still diagnosed as fdt_too_large). Prints
// "khospec: error: ..." and returns false on I/O failure or an empty stdin.
// `whole` gets the input's size: an oversized one is kept only in part (pass
// the size on as fdt::ReadOptions::input_size).
bool read_input(Context& ctx, const std::string& path, std::vector<std::uint8_t>& bytes,
                std::uint64_t* whole = nullptr);

// {"format_version":1,"tool":"khospec X.Y.Z","command":...} opening keys.
void write_json_preamble(JsonWriter& w, std::string_view command);

}  // namespace khospec::cli
