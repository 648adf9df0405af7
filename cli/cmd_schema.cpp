// khospec schema lint [PATHS] | schema list
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "conformance/schema/schema.hpp"
#include "core/json.hpp"
#include "core/rules.hpp"

namespace fs = std::filesystem;

namespace khospec::cli {

namespace {

using conformance::SchemaSet;
using conformance::SchemaSource;

bool collect(Context& ctx, const fs::path& p, std::vector<SchemaSource>& out) {
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_regular_file(p, ec)) {
    files.push_back(p);
  } else if (fs::is_directory(p, ec)) {
    for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_regular_file() && it->path().extension() == ".yaml") files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
  } else {
    ctx.err << "khospec: error: " << p.string() << ": no such file or directory\n";
    return false;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      ctx.err << "khospec: error: " << f.string() << ": cannot open\n";
      return false;
    }
    std::ostringstream s;
    s << in.rdbuf();
    out.push_back({f.string(), s.str()});
  }
  return true;
}

int finish(Context& ctx, const Report& report, std::size_t nfiles, std::string_view command) {
  if (ctx.opts.json()) {
    JsonWriter w(ctx.out);
    w.begin_object();
    write_json_preamble(w, command);
    w.key("schemas").value(static_cast<std::uint64_t>(nfiles));
    write_json_diagnostics(w, report.diagnostics());
    w.end_object();
  } else {
    if (ctx.opts.verbosity >= 0)
      ctx.out << nfiles << " schema file(s): " << report.count(Level::error) << " error(s), "
              << report.count(Level::warning) << " warning(s)\n";
    print_text_diagnostics(ctx, report);
  }
  return findings_exit_code(ctx, report);
}

int lint(Context& ctx) {
  std::vector<SchemaSource> given;
  for (std::size_t i = 1; i < ctx.opts.args.size(); ++i) {
    if (!collect(ctx, ctx.opts.args[i], given)) return exit_error;
  }
  Report report;
  if (given.empty()) {
    SchemaSet set = SchemaSet::load(SchemaSet::builtin_sources(), report);
    set.lint(report);
    return finish(ctx, report, SchemaSet::builtin_sources().size(), "schema lint");
  }
  // The given files are linted together with the built-in schemas they do not
  // replace (so their $refs to /schemas/... resolve and duplicate $ids show);
  // only findings for the given files are reported.
  Report load_report;
  SchemaSet mine = SchemaSet::load(given, load_report);
  std::set<std::string> mine_ids;
  for (const auto& d : mine.docs()) {
    if (!d.id.empty()) mine_ids.insert(d.id);
  }
  std::vector<SchemaSource> all = given;
  std::set<std::string> given_paths;
  for (const auto& g : given) given_paths.insert(g.path);
  const auto& builtin = SchemaSet::builtin();
  for (std::size_t i = 0; i < builtin.docs().size(); ++i) {
    const auto& d = builtin.docs()[i];
    if (d.parsed && !mine_ids.count(d.id)) all.push_back(SchemaSet::builtin_sources()[i]);
  }
  // Duplicate $ids inside the given set must still show: mine_ids only drops builtin twins.
  Report full;
  SchemaSet set = SchemaSet::load(all, full);
  set.lint(full);
  // A given file that reuses a built-in $id with different content is a
  // duplicate (linting a copy of schemas/ itself is not).
  for (const auto& d : mine.docs()) {
    for (std::size_t i = 0; !d.id.empty() && i < builtin.docs().size(); ++i) {
      if (builtin.docs()[i].id != d.id) continue;
      const auto& src = *std::find_if(given.begin(), given.end(), [&](const SchemaSource& g) { return g.path == d.path; });
      if (src.text == SchemaSet::builtin_sources()[i].text) continue;
      full.add(make_finding("schema_duplicate_id", d.path, std::nullopt, "", "",
                            "$id '" + d.id + "' is also used by the built-in " + builtin.docs()[i].path, "schema"));
    }
  }
  for (const auto& d : full.diagnostics()) {
    std::string f = d.file.substr(0, d.file.rfind(':') == std::string::npos ? d.file.size() : d.file.rfind(':'));
    if (given_paths.count(d.file) || given_paths.count(f)) report.add(d);
  }
  return finish(ctx, report, given.size(), "schema lint");
}

int list(Context& ctx) {
  const auto& set = SchemaSet::builtin();
  for (const auto& d : set.docs()) {
    std::string sel = d.parsed && d.root["select"] ? d.root["select"].Scalar() : std::string();
    std::string title = d.parsed && d.root["title"] ? d.root["title"].Scalar() : std::string();
    ctx.out << d.path << "\t" << (sel.empty() ? "-" : sel) << "\t" << title << "\n";
  }
  return exit_clean;
}

}  // namespace

int cmd_schema(Context& ctx) {
  const auto& a = ctx.opts.args;
  if (a.empty()) return usage_error(ctx, "schema needs a subcommand: lint [PATHS] | list");
  if (a[0] == "lint") return lint(ctx);
  if (a[0] == "list") return list(ctx);
  return usage_error(ctx, "unknown schema subcommand '" + a[0] + "' (lint, list)");
}

}  // namespace khospec::cli
