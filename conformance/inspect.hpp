// The read path shared by `khospec dump`, the corpus runner and the demo:
// container checks (fdt::Blob::open) then typed decoding (fdt::decode_tree).
// The schema validator (conformance/validate) builds on top of this.
#pragma once

#include <cstdint>
#include <span>

#include "core/diag.hpp"
#include "fdt/reader.hpp"
#include "fdt/tree.hpp"

namespace khospec::conformance {

struct InspectOptions {
  fdt::ReadOptions read;
  fdt::DecodeOptions decode;
};

struct Inspection {
  fdt::Blob blob;
  fdt::Tree tree;  // empty root when !blob.ok()
};

Inspection inspect(std::span<const std::uint8_t> bytes, const InspectOptions& opts, Report& report);

}  // namespace khospec::conformance
