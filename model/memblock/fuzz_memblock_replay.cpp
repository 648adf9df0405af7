// libFuzzer target over memblock call traces (docs/fuzz.md): the trace
// parser and then the replay, in text or in JSON (by the input's parity). Seeds:
// model/memblock/testdata/*.trace.
//
// Cap: inputs above 16 KiB are skipped. A replay's cost grows with the calls
// (each may walk and double the region arrays: memblock_double_array()) and
// with what `dump` prints; the test traces are <= 11 KiB.
#include <cstdint>
#include <sstream>
#include <string>

#include "model/memblock/memblock_replay.hpp"

using namespace khospec::model;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::ostringstream out, err;
  ReplayOptions o;
  o.json = size & 1;  // text or JSON output, one replay per input
  (void)memblock_replay(in, "fuzz.trace", out, err, o);
  return 0;
}
