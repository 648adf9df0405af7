// The read path shared by `khospec dump`, the corpus runner and the demo:
// container checks (Blob::open) then typed decoding (decode_tree).
// The schema validator builds on top of this.
#pragma once

#include <cstdint>
#include <span>

#include "core/diag.hpp"
#include "fdt/reader.hpp"
#include "fdt/tree.hpp"

namespace khospec::fdt {

struct InspectOptions {
  ReadOptions read;
  DecodeOptions decode;
};

struct Inspection {
  Blob blob;
  Tree tree;  // empty root when !blob.ok()
};

Inspection inspect(std::span<const std::uint8_t> bytes, const InspectOptions& opts, Report& report);

}  // namespace khospec::fdt
