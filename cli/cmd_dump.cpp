// khospec dump FILE|- ...: print KHO FDTs with every value decoded natively.
#include <sstream>

#include "cli/cli.hpp"
#include "cli/json_errors.hpp"
#include "cli/output.hpp"
#include "core/json.hpp"
#include "conformance/handover/handover.hpp"
#include "fdt/reader.hpp"

namespace khospec::cli {

int cmd_dump(Context& ctx) {
  // --live follows memory (/proc/kcore) like --memory does: the same path.
  if (ctx.opts.extra.count("memory") || ctx.opts.extra.count("live")) return dump_with_memory(ctx);  // cmd_validate.cpp
  // A client blob on its own (7.x sub_fdts/LUO, kexec-metadata) is decoded as what it is.
  if (ctx.opts.args.size() == 1 && ctx.opts.args.front() != "-") {
    std::vector<std::uint8_t> b;
    if (read_input(ctx, ctx.opts.args.front(), b) && !conformance::recognise_raw_blob(b, ctx.opts.args.front()).empty())
      return dump_with_memory(ctx);
  }
  for (const char* o : {"memory-base", "kho-v1-bitmap", "scratch", "fdt-phys", "depth", "summary"}) {
    if (ctx.opts.extra.count(o)) return usage_error(ctx, std::string("--") + o + " needs --memory IMAGE");
  }
  if (ctx.opts.args.empty()) return usage_error(ctx, "dump needs at least one FILE (or - for stdin)");
  std::vector<NamedBlob> inputs;
  std::vector<Diagnostic> unread;
  for (const auto& path : ctx.opts.args) {
    NamedBlob nb;
    nb.name = path;
    std::ostringstream why;
    Context quiet{ctx.opts, ctx.out, why, ctx.in};
    if (!read_input(quiet, path, nb.bytes, &nb.size)) {
      ctx.err << why.str();
      unread.push_back(unread_input(path, error_message(why.str())));
      continue;
    }
    inputs.push_back(std::move(nb));
  }
  int rc = dump_blobs(ctx, inputs, "dump", unread);
  return unread.empty() ? rc : exit_error;
}

}  // namespace khospec::cli
