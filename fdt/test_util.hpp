// Helpers for fdt/ and conformance/ tests: the kernel-documentation example.
#pragma once

#include <cstdint>
#include <vector>

#include "fdt/builder.hpp"

namespace khospec::fdt::test {

// Root KHO FDT of Documentation/core-api/kho/fdt.rst (6.16), in the order
// kho_finalize() writes it.
inline std::vector<std::uint8_t> docs_root(Endian e = Endian::little) {
  Builder b(4096, e);
  b.begin_node("")
      .prop_string("compatible", "kho-v1")
      .prop_u64("preserved-memory-map", 0x116be4000)
      .begin_node("memblock")
      .prop_u64("fdt", 0x117150000)
      .end_node()
      .end_node();
  return b.finish();
}

}  // namespace khospec::fdt::test
