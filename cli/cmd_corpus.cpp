// khospec corpus build OUT_DIR [--src DIR] | corpus check FILE|DIR ...
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "conformance/corpus/corpus_source.hpp"
#include "fdt/inspect.hpp"
#include "conformance/validate/validate.hpp"
#include "core/json.hpp"

#ifndef KHOSPEC_CORPUS_DIR
#define KHOSPEC_CORPUS_DIR "conformance/corpus"
#endif

namespace fs = std::filesystem;

namespace khospec::cli {

namespace {

constexpr std::string_view kSuffix = ".kho.yaml";

bool is_source(const fs::path& p) {
  const std::string n = p.filename().string();
  return n.size() > kSuffix.size() && n.compare(n.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

// Every *.kho.yaml below `root` (or `root` itself), sorted for stable output.
bool collect_sources(Context& ctx, const fs::path& root, std::vector<fs::path>& out) {
  std::error_code ec;
  if (fs::is_regular_file(root, ec)) {
    out.push_back(root);
    return true;
  }
  if (!fs::is_directory(root, ec)) {
    ctx.err << "khospec: error: " << root.string() << ": no such file or directory\n";
    return false;
  }
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && is_source(it->path())) out.push_back(it->path());
  }
  if (ec) {
    ctx.err << "khospec: error: " << root.string() << ": " << ec.message() << "\n";
    return false;
  }
  std::sort(out.begin(), out.end());
  return true;
}

bool slurp(Context& ctx, const fs::path& p, std::string& text) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    ctx.err << "khospec: error: " << p.string() << ": cannot open\n";
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  text = s.str();
  return true;
}

std::string strip_suffix(const std::string& rel) { return rel.substr(0, rel.size() - kSuffix.size()); }

int corpus_build(Context& ctx) {
  if (ctx.opts.args.size() != 2) return usage_error(ctx, "usage: khospec corpus build OUT_DIR [--src DIR]");
  fs::path out_dir = ctx.opts.args[1];
  fs::path src = ctx.opts.extra.count("src") ? fs::path(ctx.opts.extra["src"]) : fs::path(KHOSPEC_CORPUS_DIR);
  std::vector<fs::path> sources;
  if (!collect_sources(ctx, src, sources)) return exit_error;
  if (sources.empty()) return usage_error(ctx, "no *.kho.yaml sources under " + src.string());
  int failures = 0, built = 0;
  std::ostringstream manifest;
  manifest << "# dtb\tabi\texpect\texpect-not\n";
  for (const auto& p : sources) {
    std::string text;
    if (!slurp(ctx, p, text)) {
      ++failures;
      continue;
    }
    std::string rel = fs::relative(p, src).generic_string();
    auto c = conformance::compile_source(text, p.string());
    if (!c.ok) {
      ctx.err << c.error << "\n";
      ++failures;
      continue;
    }
    fs::path dst = out_dir / (strip_suffix(rel) + ".dtb");
    std::error_code ec;
    fs::create_directories(dst.parent_path(), ec);
    std::ofstream o(dst, std::ios::binary | std::ios::trunc);
    o.write(reinterpret_cast<const char*>(c.blob.data()), static_cast<std::streamsize>(c.blob.size()));
    if (!o) {
      ctx.err << "khospec: error: cannot write " << dst.string() << "\n";
      ++failures;
      continue;
    }
    if (c.has_memory) {
      // The source's memory image (conformance/corpus/memgen.hpp), passed as --memory by the runner.
      fs::path mem = out_dir / (strip_suffix(rel) + ".mem");
      std::ofstream mo(mem, std::ios::binary | std::ios::trunc);
      mo.write(reinterpret_cast<const char*>(c.memory.data()), static_cast<std::streamsize>(c.memory.size()));
      if (!mo) {
        ctx.err << "khospec: error: cannot write " << mem.string() << "\n";
        ++failures;
        continue;
      }
    }
    ++built;
    manifest << strip_suffix(rel) << ".dtb\t" << (c.header.abi.empty() ? "-" : c.header.abi) << "\t";
    if (c.header.expect_clean) manifest << "none";
    for (std::size_t i = 0; i < c.header.expect.size(); ++i) manifest << (i ? "," : "") << c.header.expect[i].rule;
    manifest << "\t";
    for (std::size_t i = 0; i < c.header.expect_not.size(); ++i) manifest << (i ? "," : "") << c.header.expect_not[i];
    manifest << "\n";
  }
  std::ofstream m(out_dir / "manifest.tsv", std::ios::trunc);
  m << manifest.str();
  if (ctx.opts.verbosity >= 0 && !ctx.opts.json())
    ctx.out << "built " << built << " blob(s) from " << src.string() << " into " << out_dir.string() << "\n";
  return failures ? exit_error : exit_clean;
}

int corpus_check(Context& ctx) {
  if (ctx.opts.args.size() < 2) return usage_error(ctx, "usage: khospec corpus check FILE|DIR ...");
  std::vector<fs::path> sources;
  for (std::size_t i = 1; i < ctx.opts.args.size(); ++i) {
    if (!collect_sources(ctx, ctx.opts.args[i], sources)) return exit_error;
  }
  fdt::InspectOptions io;
  io.read.max_size = ctx.opts.max_size;
  int failed = 0, passed = 0;
  bool io_error = false;
  JsonWriter* w = nullptr;
  std::optional<JsonWriter> jw;
  if (ctx.opts.json()) {
    jw.emplace(ctx.out);
    w = &*jw;
    w->begin_object();
    write_json_preamble(*w, "corpus check");
    w->key("results").begin_array();
  }
  for (const auto& p : sources) {
    std::string text;
    if (!slurp(ctx, p, text)) {
      io_error = true;
      continue;
    }
    auto c = conformance::compile_source(text, p.string());
    std::vector<std::string> problems;
    Report r;
    if (!c.ok) {
      ctx.err << c.error << "\n";
      io_error = true;
      continue;
    }
    // The same checks as `khospec validate` (with the source's memory image).
    conformance::ValidateOptions vo;
    vo.read = io.read;
    vo.read.file = p.string();
    std::optional<std::uint64_t> base;
    std::string arg_error;
    if (!conformance::apply_validate_args(c.header.args, vo, base, arg_error)) {
      ctx.err << p.string() << ": " << arg_error << "\n";
      io_error = true;
      continue;
    }
    std::optional<conformance::MemoryImage> image;
    if (c.has_memory) image = conformance::MemoryImage::from_bytes(c.memory, base, p.string() + ".mem", r);
    conformance::validate(c.blob, image ? &*image : nullptr, vo, r);
    problems = conformance::check_expectations(c.header, r);
    problems.empty() ? ++passed : ++failed;
    if (w) {
      w->begin_object();
      w->key("file").value(p.string());
      w->key("pass").value(problems.empty());
      w->key("problems").begin_array();
      for (const auto& pr : problems) w->value(pr);
      w->end_array();
      w->end_object();
    } else {
      if (!problems.empty() || ctx.opts.verbosity > 0)
        ctx.out << (problems.empty() ? "PASS " : "FAIL ") << p.string() << "\n";
      for (const auto& pr : problems) ctx.out << "\t" << pr << "\n";
      if (!problems.empty()) print_text_diagnostics(ctx, r);
    }
  }
  if (w) {
    w->end_array();
    w->key("passed").value(passed);
    w->key("failed").value(failed);
    w->key("ok").value(failed == 0 && !io_error);
    w->end_object();
  } else if (ctx.opts.verbosity >= 0) {
    ctx.out << passed << " passed, " << failed << " failed\n";
  }
  if (io_error) return exit_error;
  return failed ? exit_findings : exit_clean;
}

}  // namespace

int cmd_corpus(Context& ctx) {
  const auto& a = ctx.opts.args;
  if (a.empty()) return usage_error(ctx, "corpus needs a subcommand: build OUT_DIR | check FILE|DIR ...");
  if (a[0] == "build") return corpus_build(ctx);
  if (a[0] == "check") return corpus_check(ctx);
  return usage_error(ctx, "unknown corpus subcommand '" + a[0] + "' (build, check)");
}

}  // namespace khospec::cli
