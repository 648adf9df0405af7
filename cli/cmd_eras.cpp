// khospec eras [--markdown]: the era registry, release by release (text,
// -f json, or docs/eras.md with --markdown).
#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "core/json.hpp"
#include "registry/render.hpp"

namespace khospec::cli {

int cmd_eras(Context& ctx) {
  if (!ctx.opts.args.empty()) return usage_error(ctx, "eras takes no arguments");
  if (ctx.opts.extra.count("markdown")) registry::render_markdown(ctx.out);
  else if (ctx.opts.json()) {
    JsonWriter w(ctx.out);
    w.begin_object();
    write_json_preamble(w, "eras");
    w.key("ok").value(true);
    registry::write_json_fields(w);
    w.end_object();
    ctx.out << "\n";
  }
  else registry::render_text(ctx.out);
  return exit_clean;
}

}  // namespace khospec::cli
