// khospec memblock replay TRACE|-: run a memblock call trace through the model.
#include <fstream>
#include <ostream>

#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "core/json.hpp"
#include "model/memblock/memblock_replay.hpp"

namespace khospec::cli {

void memblock_help(std::ostream& o) {
  o << "\nTrace calls (one per line; numbers hex 0x... or decimal; # comments):\n";
  model::list_replay_calls(o);
}

int cmd_memblock(Context& ctx) {
  const auto& a = ctx.opts.args;
  if (a.size() != 2 || a[0] != "replay")
    return usage_error(ctx, "usage: khospec memblock replay TRACE|- (docs/model-memblock.md has the format)");
  model::ReplayOptions ro;
  ro.json = ctx.opts.json();
  // The whole trace parses before the document starts, so it always ran.
  ro.json_preamble = [](JsonWriter& w) {
    write_json_preamble(w, "memblock");
    w.key("ok").value(true);
  };
  if (a[1] == "-") return model::memblock_replay(ctx.in, "-", ctx.out, ctx.err, ro);
  std::ifstream in(a[1]);
  if (!in) return usage_error(ctx, a[1] + ": cannot open");
  // 0 ok, 1 malformed trace (named line, nothing executed).
  return model::memblock_replay(in, a[1], ctx.out, ctx.err, ro) == 0 ? exit_clean : exit_error;
}

}  // namespace khospec::cli
