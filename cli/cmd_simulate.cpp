// khospec simulate [SCENARIO.yaml|NAME] [--era ERA] [--out DIR] [--list]:
// run a scenario on the KHO model and print its timeline.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "core/json.hpp"
#include "model/kho/scenario.hpp"

namespace khospec::cli {

namespace {

// With -f json the runs go into one document (`runs`), written when every
// run has ended; a failure before then leaves stdout empty, so run() prints
// the error envelope instead.
struct Runs {
  std::ostringstream json;
  JsonWriter w{json};
  bool any = false;
};

int run_one(Context& ctx, Runs& runs, const model::Scenario& s, const std::string& out_dir, bool& all_ok) {
  auto run = model::run_scenario(s, !out_dir.empty());
  bool verbose = ctx.opts.verbosity > 0;
  if (ctx.opts.json()) model::write_run_json(runs.w, s, run, verbose);
  else if (ctx.opts.verbosity >= 0) model::render_run_text(ctx.out, s, run, verbose);
  if (!out_dir.empty()) {
    std::string err;
    if (!model::write_run_files(run, out_dir, err)) {
      ctx.err << "khospec: error: " << err << "\n";
      return exit_error;
    }
    if (!ctx.opts.json() && ctx.opts.verbosity >= 0) ctx.out << "wrote FDTs, scratch files and memory.elf to " << out_dir << "\n";
  }
  if (!run.expectations_ok) all_ok = false;
  runs.any = true;
  return exit_clean;
}

void write_list(Context& ctx) {
  if (!ctx.opts.json()) {
    for (const auto& n : model::builtin_scenarios()) {
      ctx.out << n << ":";
      for (const auto& e : registry::eras())
        if (model::builtin_scenario_text(n, e.id)) ctx.out << " " << e.name;
      ctx.out << "\n";
    }
    return;
  }
  JsonWriter w(ctx.out);
  w.begin_object();
  write_json_preamble(w, "simulate");
  w.key("ok").value(true);
  w.key("scenarios").begin_array();
  for (const auto& n : model::builtin_scenarios()) {
    w.begin_object().key("name").value(n).key("eras").begin_array();
    for (const auto& e : registry::eras())
      if (model::builtin_scenario_text(n, e.id)) w.value(e.name);
    w.end_array().end_object();
  }
  w.end_array().end_object();
  ctx.out << "\n";
}

}  // namespace

int cmd_simulate(Context& ctx) {
  if (ctx.opts.extra.count("list")) {
    write_list(ctx);
    return exit_clean;
  }
  if (ctx.opts.args.size() > 1) return usage_error(ctx, "simulate takes at most one SCENARIO");
  std::vector<registry::EraId> eras;
  for (const auto& e : registry::eras()) eras.push_back(e.id);
  std::optional<registry::Resolved> named;
  if (ctx.opts.extra.count("era")) {
    int rc = exit_clean;
    named = era_option(ctx, "era", rc);
    if (!named) return rc;
    eras = {named->era->id};
  }
  std::string out_dir = ctx.opts.extra.count("out") ? ctx.opts.extra["out"] : "";
  std::string arg = ctx.opts.args.empty() ? "chain" : ctx.opts.args[0];
  bool all_ok = true;
  Runs runs;
  runs.w.begin_array();
  // A scenario file is a regular file: a directory that happens to share a
  // built-in's name (simulate --out chain) must not hide the built-in.
  std::error_code ec;
  std::ifstream file;
  if (std::filesystem::is_regular_file(arg, ec)) file.open(arg);
  if (file.is_open()) {
    std::stringstream text;
    text << file.rdbuf();
    model::ScenarioError err;
    auto s = model::parse_scenario(text.str(), arg, err);
    if (!s) return usage_error(ctx, err.message);
    int rc = run_one(ctx, runs, *s, out_dir, all_ok);
    if (rc) return rc;
  } else {
    bool any = false;
    for (auto e : eras) {
      auto text = model::builtin_scenario_text(arg, e);
      if (!text) continue;
      model::ScenarioError err;
      auto s = model::parse_scenario(*text, arg, err);
      if (!s) {
        ctx.err << "khospec: internal error: built-in scenario: " << err.message << "\n";
        return exit_error;
      }
      if (named && named->release) s->kernel.release = model::uname_release(*named);
      if (any && !ctx.opts.json() && ctx.opts.verbosity >= 0) ctx.out << "\n" << std::string(78, '-') << "\n";
      any = true;
      std::string dir = out_dir.empty() ? "" : out_dir + "/" + std::string(registry::era_name(e));
      int rc = run_one(ctx, runs, *s, dir, all_ok);
      if (rc) return rc;
    }
    if (!any)
      return usage_error(ctx, "'" + arg + "' is neither a scenario file nor a built-in scenario for the selected era(s) "
                              "(see `khospec simulate --list`)");
  }
  if (ctx.opts.json()) {
    runs.w.end_array();
    JsonWriter w(ctx.out);
    w.begin_object();
    write_json_preamble(w, "simulate");
    // ok: every run met its scenario's expectations (the exit code's verdict).
    w.key("ok").value(all_ok);
    if (!out_dir.empty()) w.key("out").value(out_dir);
    w.key("runs").raw(runs.json.str());
    w.end_object();
    ctx.out << "\n";
  }
  // Unmet expectations in a scenario are findings.
  return all_ok || ctx.opts.exit_zero ? exit_clean : exit_findings;
}

}  // namespace khospec::cli
