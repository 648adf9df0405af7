// Rendering a decoded Tree: indented text with native-endian values, or JSON.
#pragma once

#include <ostream>

#include "core/json.hpp"
#include "fdt/reader.hpp"
#include "fdt/tree.hpp"

namespace khospec::fdt {

struct RenderOptions {
  bool offsets = false;  // show @0xOFFSET after node and property names
};

// "preserved-memory-map = 0x116be4000 (u64)" lines in a brace-indented tree.
void render_tree_text(std::ostream& out, const Tree& tree, const RenderOptions& opts = {});
// {"name","path","offset","properties":[...],"children":[...]}
void write_tree_json(JsonWriter& w, const Tree& tree);
// The FDT header fields (only meaningful when the magic was valid).
void write_header_json(JsonWriter& w, const Blob& blob);
// One-line summary: "FDT v17, totalsize 0x98 (152 bytes)".
std::string header_summary(const Blob& blob);

}  // namespace khospec::fdt
