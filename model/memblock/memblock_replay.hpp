// `khospec memblock replay TRACE|-`: run a memblock call trace through the
// model and print what the kernel would return, warn about and end up with.
//
// Trace format: one call per line, `#` starts a comment, numbers are hex
// `0x...` or decimal, FLAGS a number or names joined by '|' (HOTPLUG|NOMAP,
// KHO_SCRATCH, ...), NID decimal and possibly -1 (NUMA_NO_NODE). The calls and
// their arguments are one table in memblock_replay.cpp, listed by
// list_replay_calls() (`khospec memblock replay --help`).
#pragma once

#include <iosfwd>
#include <string_view>

namespace khospec { class JsonWriter; }

namespace khospec::model {

struct ReplayOptions {
  bool json = false;
  // Called first inside the JSON document (the CLI's envelope keys).
  void (*json_preamble)(JsonWriter&) = nullptr;
};

// Reads a memblock call trace, executes it, writes results to `out`.
// Returns 0 on success; on a malformed line writes "NAME:LINE: error: ..." to
// `err` and returns 1 WITHOUT executing any line (the whole trace is parsed
// first, then executed). A line over 4096 bytes and a trace of more than
// 100000 calls are malformed too (the memory bound, docs/fuzz.md).
int memblock_replay(std::istream& in, std::string_view name, std::ostream& out,
                    std::ostream& err, const ReplayOptions& opts);

// One line per call the parser knows ("  add BASE SIZE"), from its own table.
void list_replay_calls(std::ostream& out);

}  // namespace khospec::model
