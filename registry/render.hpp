// The registry as a user sees it: `khospec eras` (text, JSON) and the
// generated docs/eras.md (markdown).
#pragma once

#include <iosfwd>

#include "registry/era.hpp"

namespace khospec::registry {

void render_text(std::ostream& out);
void render_markdown(std::ostream& out);
void render_json(std::ostream& out);

}  // namespace khospec::registry
