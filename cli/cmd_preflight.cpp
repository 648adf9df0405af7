// khospec preflight (--live out | FILE --memory IMAGE | --memory IMAGE --fdt-phys A)
//                   (--kernel IMAGE | --release X.Y | --era ERA) [--cmdline "..."]
// Before `kexec -e`: what B makes of everything A preserved (crosscheck/preflight.hpp).
// Exit 0 when everything revives, 100 when something does not, 1 when it cannot tell.
#include <sstream>

#include "cli/cli.hpp"
#include "cli/handover_input.hpp"
#include "cli/json_errors.hpp"
#include "cli/output.hpp"
#include "core/json.hpp"
#include "core/parse.hpp"
#include "crosscheck/preflight.hpp"
#include "model/kho/machine.hpp"
#include "registry/era.hpp"

namespace khospec::cli {

namespace {

using namespace khospec::conformance;

// An error before any prediction: text on stderr, and with -f json one document
// that says so (so scripts always get JSON).
int fail(Context& ctx, const std::string& kind, const std::string& message) {
  if (ctx.opts.json()) {
    JsonWriter w(ctx.out);
    w.begin_object();
    write_json_preamble(w, "preflight");
    w.key("ok").value(false);
    w.key("error").begin_object().key("kind").value(kind).key("message").value(message).end_object();
    w.end_object();
    ctx.out << "\n";
  }
  ctx.err << "khospec: error: " << message << "\n";
  return exit_error;
}

// B from --kernel / --release / --era (exactly one).
std::optional<NextKernel> next_kernel_option(Context& ctx, int& rc) {
  auto& x = ctx.opts.extra;
  const int named = static_cast<int>(x.count("kernel") + x.count("release") + x.count("era"));
  if (named != 1) {
    rc = fail(ctx, "usage", "preflight needs the next kernel: exactly one of --kernel IMAGE, --release X.Y, --era ERA");
    return std::nullopt;
  }
  const std::string kind = x.count("kernel") ? "kernel" : x.count("release") ? "release" : "era";
  std::optional<std::string> cmdline;
  if (x.count("cmdline")) cmdline = x["cmdline"];
  std::string error_kind, error;
  auto b = next_kernel(kind, x[kind], cmdline, error_kind, error);
  if (!b) rc = fail(ctx, error_kind, error);
  return b;
}

}  // namespace

int cmd_preflight(Context& ctx) {
  int rc = exit_clean;
  auto b = next_kernel_option(ctx, rc);
  if (!b) return rc;
  PreflightOptions po;
  if (ctx.opts.extra.count("ram")) {
    auto v = parse_size(ctx.opts.extra["ram"]);
    if (!v) return fail(ctx, "usage", "--ram: '" + ctx.opts.extra["ram"] + "' is not a RAM size (e.g. 2G)");
    if (const std::string why = model::machine_ram_problem(*v); !why.empty())
      return fail(ctx, "usage", "--ram: " + why + ", not '" + ctx.opts.extra["ram"] + "'");
    po.ram = *v;
  }
  Setup s;
  {
    // setup() says what is wrong on stderr; -f json gets it as the error document too.
    std::ostringstream why;
    Context quiet{ctx.opts, ctx.out, why, ctx.in};
    if (int r = setup(quiet, s, true); r != exit_clean) {
      return fail(ctx, "input", error_message(why.str()));
    }
  }
  if (!s.image) return fail(ctx, "no_memory", "preflight follows A's hand-over in memory: give --memory IMAGE (or --live out)");
  if (s.inputs.size() != 1 || !s.inputs[0].root)
    return fail(ctx, "usage", "preflight takes one hand-over: A's root FDT (FILE, --fdt-phys ADDR or --live out)");
  ValidateOptions vo = s.vo;
  vo.read.file = s.inputs[0].name;
  Report report = s.pre;
  Validation a = validate(s.inputs[0].bytes, &*s.image, vo, report);
  if (s.vo.scratch) po.scratch = *s.vo.scratch;
  std::string err;
  auto p = preflight(a, *s.image, *b, po, err);
  if (!p) return fail(ctx, "not_followed", s.inputs[0].name + ": " + err);
  // A's own findings matter: an error there is what B may misread.
  std::size_t a_errors = report.count(Level::error);
  if (ctx.opts.json()) {
    JsonWriter w(ctx.out);
    w.begin_object();
    write_json_preamble(w, "preflight");
    w.key("ok").value(true);
    w.key("file").value(s.inputs[0].name);
    w.key("preflight");
    write_preflight_json(w, *p);
    write_json_diagnostics(w, report.diagnostics());
    w.end_object();
    ctx.out << "\n";
  } else {
    ctx.out << "# " << s.inputs[0].name << "\n";
    render_preflight_text(ctx.out, *p);
    if (a_errors) ctx.out << "A's hand-over has " << a_errors << " error(s) of its own (khospec validate shows them)\n";
    if (ctx.opts.verbosity > 0) {
      for (const auto& l : p->b_log) ctx.out << "  B: " << l << "\n";
      for (const auto& l : p->b_steps) ctx.out << "  B model: " << l << "\n";
    }
  }
  if (ctx.opts.exit_zero) return exit_clean;
  return p->all_revive() ? exit_clean : exit_findings;
}

}  // namespace khospec::cli
