// The registry as a user sees it: `khospec eras` (text, JSON) and the
// generated docs/eras.md (markdown).
#pragma once

#include <iosfwd>

#include "registry/era.hpp"

namespace khospec { class JsonWriter; }

namespace khospec::registry {

void render_text(std::ostream& out);
void render_markdown(std::ostream& out);
// The registry as JSON keys (eras, releases, client_formats), written into an
// object the caller has opened (`khospec -f json eras`).
void write_json_fields(JsonWriter& w);

}  // namespace khospec::registry
