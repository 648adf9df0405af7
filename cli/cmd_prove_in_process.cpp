// `prove` in this process: run the proof obligations of spec/kho.md (links
// spec/ and so the Z3 solver; library khospec_cli_prove). khospec-prove
// (cli/prove_main.cpp) runs it, as can any program that links the library
// (the Python module); `khospec prove` (cmd_prove.cpp) execs khospec-prove.
//
// khospec prove [--only PATTERN] [--era ERA] [--timeout S] [--dump-smt2 DIR] [--list] [--trace]:
// one line per obligation; a refutation prints its counterexample as domain
// objects. Documented hazards are expected refutations. Exit 0 when every
// result is as expected, 100 otherwise (an unexpected refutation, unknown or
// timeout), 1 on usage errors.
#include <sys/stat.h>

#include <cstdlib>

#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "core/json.hpp"
#include "spec/prove.hpp"
#include "spec/registry.hpp"

namespace khospec::cli {

namespace {

bool parse_uint(const std::string& s, unsigned lo, unsigned hi, unsigned& out) {
  if (s.empty() || s.size() > 6) return false;
  for (char ch : s)
    if (ch < '0' || ch > '9') return false;
  const unsigned long v = std::strtoul(s.c_str(), nullptr, 10);
  if (v < lo || v > hi) return false;
  out = static_cast<unsigned>(v);
  return true;
}

}  // namespace

int cmd_prove_in_process(Context& ctx) {
  if (!ctx.opts.args.empty()) return usage_error(ctx, "prove takes no positional arguments (use --only PATTERN)");
  spec::ProveOptions o = spec::default_options();
  o.jobs = 2;
  auto& ex = ctx.opts.extra;
  if (ex.count("only")) o.only = ex["only"];
  if (ex.count("era")) {
    int rc = exit_clean;
    auto r = era_option(ctx, "era", rc);
    if (!r) return rc;
    o.era = std::string(r->era->name);
  }
  if (ex.count("timeout") && !parse_uint(ex["timeout"], 1, 3600, o.timeout_s))
    return usage_error(ctx, "--timeout: '" + ex["timeout"] + "' is not a number of seconds (1..3600)");
  if (ex.count("k") && !parse_uint(ex["k"], 2, 8, o.k)) return usage_error(ctx, "--k must be 2..8");
  if (ex.count("bmc") && !parse_uint(ex["bmc"], 1, 16, o.bmc_steps)) return usage_error(ctx, "--bmc must be 1..16");
  if (ex.count("jobs") && !parse_uint(ex["jobs"], 1, 64, o.jobs)) return usage_error(ctx, "--jobs must be 1..64");
  if (ex.count("no-lemmas")) o.run_lemmas = false;
  if (ex.count("dump-smt2")) {
    o.dump_smt2_dir = ex["dump-smt2"];
    struct stat st {};
    if (stat(o.dump_smt2_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return usage_error(ctx, "--dump-smt2: '" + o.dump_smt2_dir + "' is not a directory");
  }
  if (ex.count("trace")) {
    ctx.out << spec::trace_markdown(spec::default_options());
    return exit_clean;
  }
  const auto infos = spec::list_obligations(o);
  if (infos.empty()) return usage_error(ctx, "no obligation matches --only '" + o.only + "'" + (o.era.empty() ? "" : " --era " + o.era));
  if (ex.count("list")) {
    if (ctx.opts.json()) {
      JsonWriter w(ctx.out);
      w.begin_object();
      write_json_preamble(w, "prove");
      w.key("ok").value(true);
      w.key("obligations").begin_array();
      for (const auto& i : infos) spec::write_json(w, i);
      w.end_array().end_object();
      ctx.out << "\n";
    } else {
      for (const auto& i : infos) {
        ctx.out << i.name << "  [" << i.era << ", " << spec::kind_name(i.kind) << (i.expect_refuted ? ", expected hazard" : "") << "]";
        for (const auto& id : i.invariants) ctx.out << " " << id;
        ctx.out << "\n";
      }
    }
    return exit_clean;
  }

  const bool text = !ctx.opts.json();
  auto results = spec::run_obligations(o, [&](const spec::ObligationResult& r) {
    if (!text || ctx.opts.verbosity < 0) return;
    ctx.out << spec::result_line(r) << "\n";
    if (!r.counterexample.empty() && (r.verdict == spec::Verdict::refuted) && (!r.as_expected || ctx.opts.verbosity >= 0))
      ctx.out << r.counterexample;
    ctx.out.flush();
  });
  std::size_t proved = 0, hazards = 0, bad = 0;
  double total = 0;
  for (const auto& r : results) {
    total += r.seconds;
    if (r.as_expected && r.verdict == spec::Verdict::proved) ++proved;
    else if (r.as_expected) ++hazards;
    else ++bad;
  }
  if (text) {
    if (ctx.opts.verbosity < 0) {
      for (const auto& r : results)
        if (!r.as_expected) ctx.out << spec::result_line(r) << "\n" << r.counterexample;
    }
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", total);
    ctx.out << results.size() << " obligations: " << proved << " proved, " << hazards << " expected hazards refuted, " << bad
            << " unexpected (" << secs << " s solver time, k=" << o.k << ", bmc=" << o.bmc_steps << ")\n";
  } else {
    JsonWriter w(ctx.out);
    w.begin_object();
    write_json_preamble(w, "prove");
    // ok: every obligation ended as spec/kho.md expects (the exit code's verdict).
    w.key("ok").value(bad == 0);
    w.key("obligations").begin_array();
    for (const auto& r : results) spec::write_json(w, r);
    w.end_array();
    w.key("summary").begin_object();
    w.key("total").value(static_cast<std::uint64_t>(results.size()));
    w.key("proved").value(static_cast<std::uint64_t>(proved));
    w.key("expected_hazards").value(static_cast<std::uint64_t>(hazards));
    w.key("unexpected").value(static_cast<std::uint64_t>(bad));
    w.key("k").value(static_cast<std::uint64_t>(o.k));
    w.key("bmc_steps").value(static_cast<std::uint64_t>(o.bmc_steps));
    w.end_object().end_object();
    ctx.out << "\n";
  }
  if (bad && !ctx.opts.exit_zero) return exit_findings;
  return exit_clean;
}

}  // namespace khospec::cli
