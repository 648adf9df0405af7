// libFuzzer target over the `.kho.yaml` corpus compiler (docs/fuzz.md):
// header comments, the YAML tree with its breakage keys, the memory image
// generator (`memory:`), then the expectation check against an empty report.
// Seeds: every conformance/corpus/**/*.kho.yaml.
//
// Cap: inputs above 16 KiB are skipped (the corpus sources are <= 6 KiB);
// what a source asks the generator to build is bounded inside
// compile_source() itself.
#include <cstdint>
#include <string_view>

#include "conformance/corpus/corpus_source.hpp"

using namespace khospec;
using namespace khospec::conformance;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Compiled c = compile_source(text, "fuzz.kho.yaml");
  SourceHeader h = parse_header(text);
  (void)check_expectations(c.ok ? c.header : h, Report{});
  return 0;
}
