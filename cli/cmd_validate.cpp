// khospec validate [--abi ...] [--memory IMAGE] [--scratch S] FILE|- ... | --live out|in
// khospec dump --memory IMAGE FILE ...   (the tree plus the decoded preserved set)
// khospec rules [--markdown]
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "cli/cli.hpp"
#include "cli/json_errors.hpp"
#include "cli/handover_input.hpp"
#include "cli/output.hpp"
#include "conformance/image/image.hpp"
#include "conformance/live/live.hpp"
#include "conformance/validate/validate.hpp"
#include "core/json.hpp"
#include "core/parse.hpp"
#include "core/rules.hpp"
#include "fdt/reader.hpp"
#include "fdt/render.hpp"

namespace khospec::cli {

namespace {

using namespace khospec::conformance;

std::string hex(std::uint64_t v) { return hex_u64(v); }

}  // namespace

int setup(Context& ctx, Setup& s, bool dump) {
  auto& x = ctx.opts.extra;
  s.vo.endian = ctx.opts.endian;
  s.vo.read.max_size = ctx.opts.max_size;
  if (x.count("abi")) {
    const std::string& a = x["abi"];
    const auto& k = known_abis();
    if (a != "auto" && std::find(k.begin(), k.end(), a) == k.end()) {
      std::string all = "auto";
      for (const auto& n : k) all += ", " + n;
      return usage_error(ctx, "--abi '" + a + "' is not one of: " + all);
    }
    s.vo.abi = a;
  }
  if (x.count("as")) {
    auto p = reader_profile(x["as"]);
    if (!p) return usage_error(ctx, "--as '" + x["as"] + "' is not " + registry::valid_names());
    s.vo.as_reader = std::move(p);
  }
  if (x.count("kho-v1-bitmap")) {
    const std::string& b = x["kho-v1-bitmap"];
    if (b == "512") s.vo.map.v1_bitmap = BitmapSize::b512;
    else if (b == "page") s.vo.map.v1_bitmap = BitmapSize::page;
    else if (b != "auto") return usage_error(ctx, "--kho-v1-bitmap takes auto, 512 or page");
  }
  if (x.count("map-limit")) {
    auto v = parse_u64(x["map-limit"]);
    if (!v || *v == 0) return usage_error(ctx, "--map-limit: '" + x["map-limit"] + "' is not a positive number");
    s.vo.map.max_items = static_cast<std::size_t>(*v);
  }
  if (x.count("release")) {
    if (x["release"].empty()) return usage_error(ctx, "--release takes the writer's `uname -r`");
    s.vo.release = x["release"];
  }
  if (x.count("depth")) {
    auto v = parse_u64(x["depth"]);
    if (!v || *v > 1000) return usage_error(ctx, "--depth: '" + x["depth"] + "' is not a depth (0, 1, 2, ...)");
    s.render.depth = static_cast<int>(*v);
  }
  s.render.summary = x.count("summary") > 0;
  if (x.count("fdt-phys")) {
    auto v = parse_u64(x["fdt-phys"]);
    if (!v) return usage_error(ctx, "--fdt-phys: '" + x["fdt-phys"] + "' is not an address");
    s.vo.fdt_phys = *v;
  }
  if (x.count("scratch")) {
    std::vector<ScratchArea> sc;
    std::string err;
    if (!parse_scratch(x["scratch"], sc, err)) return usage_error(ctx, err);
    s.vo.scratch = std::move(sc);
  }
  std::optional<std::uint64_t> base;
  if (x.count("memory-base")) {
    auto v = parse_u64(x["memory-base"]);
    if (!v) return usage_error(ctx, "--memory-base: '" + x["memory-base"] + "' is not an address");
    if (!x.count("memory")) return usage_error(ctx, "--memory-base needs --memory IMAGE");
    base = *v;
  }
  if (x.count("fdt-phys") && !x.count("memory") && !x.count("live"))
    return usage_error(ctx, "--fdt-phys says where the root lies in a memory image: it needs --memory IMAGE");
  if (x.count("memory")) {
    // Page files (FILE@ADDR, a directory of a capture's mem_*_0xADDR.bin) combine
    // into one image; an ELF core or a raw image stands alone.
    std::vector<PageFile> pages;
    std::vector<std::string> wholes;
    std::string names;
    for (const auto& m : ctx.opts.multi["memory"]) {
      names += (names.empty() ? "" : ",") + m;
      std::error_code ec;
      if (auto pf = parse_page_file(m)) {
        pages.push_back(*pf);
      } else if (auto dir = std::filesystem::is_directory(m, ec) ? page_files_in(m) : std::vector<PageFile>{};
                 !dir.empty()) {
        pages.insert(pages.end(), dir.begin(), dir.end());
      } else {
        wholes.push_back(m);
      }
    }
    if (wholes.size() > 1)
      return usage_error(ctx, "--memory given " + std::to_string(wholes.size()) +
                                  " images: one ELF core or raw image per run (an ELF core can hold every page; "
                                  "page files combine as FILE@ADDR or a directory of mem_*_0xADDR.bin)");
    if (!wholes.empty() && !pages.empty())
      return usage_error(ctx, "--memory " + wholes.front() +
                                  " is a whole image: it does not combine with page files (FILE@ADDR, a directory)");
    if (!pages.empty() && base)
      return usage_error(ctx, "--memory-base places one raw image; page files carry their own address (FILE@ADDR)");
    MemoryImage img;
    std::string err;
    const bool ok = pages.empty() ? MemoryImage::from_file(wholes.front(), base, img, s.pre, err)
                                  : MemoryImage::from_pages(pages, names, img, err);
    if (!ok) {
      ctx.err << "khospec: error: " << err << "\n";
      return exit_error;
    }
    s.image = std::move(img);
  }
  if (!dump) {
    for (const auto& w : ctx.opts.multi["W"]) {
      std::string err;
      if (!s.rules.apply_w(w, err)) return usage_error(ctx, "-W " + w + ": " + err);
    }
    for (const auto& e : ctx.opts.multi["E"]) {
      std::string err;
      if (!s.rules.apply_e(e, err)) return usage_error(ctx, "-E " + e + ": " + err);
    }
    if (x.count("baseline")) {
      std::string err;
      if (!s.rules.load_baseline(x["baseline"], err)) {
        ctx.err << "khospec: error: " << err << "\n";
        return exit_error;
      }
    }
  }
  if (x.count("live")) {
    if (!ctx.opts.args.empty()) return usage_error(ctx, "--live reads the running kernel: give no FILE");
    LiveSource src;
    std::string err;
    if (!read_live(x.count("root") ? x["root"] : std::string(), x["live"], ctx.opts.max_size, src, s.pre, err)) {
      ctx.err << "khospec: error: " << err << "\n";
      return exit_error;
    }
    for (auto& b : src.blobs) s.inputs.push_back({b.name, std::move(b.bytes), b.root});
    if (!s.vo.scratch && src.scratch) s.vo.scratch = src.scratch;
    // The root came from /proc/kcore: follow the map and blobs there too.
    if (src.memory && !s.image) {
      s.image = std::move(src.memory);
      if (!s.vo.fdt_phys) s.vo.fdt_phys = src.fdt_phys;
    }
    return exit_clean;
  }
  if (x.count("root")) return usage_error(ctx, "--root only applies to --live");
  if (ctx.opts.args.empty() && s.image && s.vo.fdt_phys) {
    // No FILE: the root is the FDT at --fdt-phys in the image (what the next kernel reads).
    Input in;
    in.name = s.image->name() + "@" + hex(*s.vo.fdt_phys);
    std::uint8_t head[8] = {};
    auto total = s.image->read(*s.vo.fdt_phys, head) ? fdt::peek_fdt_totalsize(head) : std::nullopt;
    if (!total || *total > ctx.opts.max_size || !s.image->read_vec(*s.vo.fdt_phys, *total)) {
      ctx.err << "khospec: error: " << in.name << ": no FDT there (no FDT magic, or its totalsize runs past the image)\n";
      return exit_error;
    }
    in.bytes = *s.image->read_vec(*s.vo.fdt_phys, *total);
    s.inputs.push_back(std::move(in));
    return exit_clean;
  }
  if (ctx.opts.args.empty())
    return usage_error(ctx, std::string(dump ? "dump" : "validate") + " needs at least one FILE (or - for stdin)");
  // An unreadable FILE does not stop the others (as dump).
  for (const auto& path : ctx.opts.args) {
    Input in;
    in.name = path;
    std::ostringstream why;
    Context quiet{ctx.opts, ctx.out, why, ctx.in};
    if (!read_input(quiet, path, in.bytes, &in.size)) {
      ctx.err << why.str();
      s.unread.push_back(unread_input(path, error_message(why.str())));
      continue;
    }
    s.inputs.push_back(std::move(in));
  }
  return exit_clean;
}

namespace {

void write_memory_json(JsonWriter& w, const Validation& v, const MemoryImage& img) {
  w.key("memory").begin_object();
  w.key("image").value(img.name());
  w.key("format").value(v.map ? v.map->format : std::string());
  w.key("complete").value(v.map && v.map->complete);
  w.key("map_head");
  if (v.map) w.value(hex(v.map->head)); else w.null();
  w.key("fdt_phys");
  if (v.fdt_phys) w.value(hex(*v.fdt_phys)); else w.null();
  w.key("blocks").begin_array();
  if (v.map) {
    for (const auto& b : v.map->blocks) {
      w.begin_object();
      w.key("phys").value(hex(b.phys));
      w.key("order").value(static_cast<std::uint64_t>(b.order));
      w.key("size").value(hex(b.size()));
      w.end_object();
    }
  }
  w.end_array();
  w.key("sub_blobs").begin_array();
  for (const auto& sb : v.subs) {
    w.begin_object();
    w.key("node").value(sb.node);
    w.key("phys").value(hex(sb.phys));
    w.key("size");
    if (sb.size) w.value(*sb.size); else w.null();
    w.key("abi").value(sb.abi);
    w.key("in_image").value(sb.in_image);
    w.key("preserved");
    if (sb.preserved) w.value(*sb.preserved); else w.null();
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void print_memory_text(std::ostream& o, const Validation& v, const MemoryImage& img, bool given) {
  if (!v.map) {
    o << "# preserved-memory map: not decoded (see diagnostics)\n";
    return;
  }
  std::uint64_t total = 0;
  for (const auto& b : v.map->blocks) total += b.size();
  o << "# preserved-memory map: " << v.map->format << ", " << v.map->blocks.size() << " block(s), " << hex(total)
    << " bytes" << (v.map->complete ? "" : " (incomplete)") << "\n";
  if (v.fdt_phys && !given) o << "# root FDT found in the image at " << hex(*v.fdt_phys) << "\n";
  if (v.fdt_phys && given) {
    // --fdt-phys is taken as given; say whether the image agrees.
    const auto there = img.read_vec(*v.fdt_phys, v.blob.bytes().size());
    const bool same = there && std::equal(there->begin(), there->end(), v.blob.bytes().begin());
    o << "# root FDT at " << hex(*v.fdt_phys) << " (--fdt-phys): "
      << (same ? "the image holds it there" : "the image does NOT hold this FDT there; check the address") << "\n";
  }
}

// validate --as ERA leads with its verdict: what that reader refuses or misreads.
void print_as_verdict(std::ostream& o, const Report& shown, const std::string& file, const std::string& era,
                      bool map_read) {
  for (const auto& d : shown.diagnostics()) {
    if (d.file != file || (d.rule != "kho_reader_refuses" && d.rule != "kho_reader_misreads")) continue;
    std::size_t n = 0;
    for (const auto& c : shown.diagnostics()) n += c.file == file && c.derived_from == d.rule;
    o << "# read as " << era << ": " << (d.rule == "kho_reader_refuses" ? "REFUSED" : "MISREAD") << " (" << d.rule
      << ")" << (n ? ", " + std::to_string(n) + " finding(s) follow from it" : std::string()) << "\n";
    return;
  }
  o << "# read as " << era << ": " << (map_read ? "no refusal or misreading found" : "no refusal found (the map needs --memory)")
    << "\n";
}

// Text diagnostics, verdicts first; what follows from a verdict is counted
// under it, and shown indented with -v.
void print_verdicts_first(Context& ctx, const Report& shown) {
  const auto ordered = verdicts_first(shown.diagnostics());
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    const auto& d = ordered[i];
    std::size_t n = 0;  // the findings that follow from d, right after it
    while (i + 1 + n < ordered.size() && ordered[i + 1 + n].derived_from == d.rule && ordered[i + 1 + n].file == d.file)
      ++n;
    const std::size_t first = i + 1;
    i += n;
    if (d.level == Level::info && ctx.opts.verbosity < 1) continue;
    if (d.level == Level::warning && ctx.opts.verbosity < 0) continue;
    render_text(ctx.err, d);
    if (n == 0) continue;
    if (ctx.opts.verbosity < 1) {
      ctx.err << "\t(" << n << " more finding(s) follow from this one; -v shows them)\n";
      continue;
    }
    ctx.err << "\tconsequences of the above (" << n << "):\n";
    for (std::size_t k = first; k < first + n; ++k) {
      std::ostringstream one;
      render_text(one, ordered[k]);
      std::istringstream lines(one.str());
      for (std::string line; std::getline(lines, line);) ctx.err << "\t  " << line << "\n";
    }
  }
}

int run(Context& ctx, bool dump) {
  Setup s;
  if (int rc = setup(ctx, s, dump); rc != exit_clean) return rc;
  const MemoryImage* img = s.image ? &*s.image : nullptr;
  Report all = s.pre;
  std::vector<Validation> results;
  fdt::RenderOptions ro;
  ro.offsets = ctx.opts.extra.count("offsets") > 0;
  for (const auto& in : s.inputs) {
    ValidateOptions vo = s.vo;
    vo.read.file = in.name;
    vo.read.input_size = in.size;
    Report r;
    results.push_back(validate(in.bytes, in.root ? img : nullptr, vo, r));
    all.append(r);
  }
  // kexec-metadata across the inputs, in the order given (an in/out pair, a chain of stages).
  if (s.inputs.size() > 1) {
    std::vector<const Handover*> hs;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < results.size(); ++i) {
      hs.push_back(results[i].handover ? &*results[i].handover : nullptr);
      names.push_back(s.inputs[i].name);
    }
    check_metadata_chain(hs, names, all);
  }
  for (const auto& in : s.inputs) s.rules.add_input(in.name, in.bytes);
  Report shown = s.rules.filter(all);
  if (!dump && ctx.opts.extra.count("write-baseline")) {
    std::string err;
    if (!s.rules.write_baseline(ctx.opts.extra["write-baseline"], shown, err)) {
      ctx.err << "khospec: error: " << err << "\n";
      return exit_error;
    }
    if (!ctx.opts.json() && ctx.opts.verbosity >= 0)
      ctx.out << "wrote " << shown.diagnostics().size() << " finding(s) to " << ctx.opts.extra["write-baseline"] << "\n";
    return exit_clean;
  }
  if (ctx.opts.json()) {
    JsonWriter w(ctx.out);
    w.begin_object();
    write_json_preamble(w, dump ? "dump" : "validate");
    w.key("endian").value(ctx.opts.endian == fdt::Endian::little ? "little" : "big");
    w.key("files").begin_array();
    for (std::size_t i = 0; i < s.inputs.size(); ++i) {
      const auto& v = results[i];
      w.begin_object();
      w.key("file").value(s.inputs[i].name);
      w.key("size").value(std::max<std::uint64_t>(s.inputs[i].size, s.inputs[i].bytes.size()));
      w.key("ok").value(v.blob.ok());
      w.key("abi").value(v.abi);
      w.key("schema").value(v.schema_id);
      if (!v.endian_hint.empty()) w.key("endian_hint").value(v.endian_hint);
      if (dump) {
        w.key("header");
        if (v.blob.ok()) fdt::write_header_json(w, v.blob); else w.null();
        w.key("tree");
        if (v.blob.ok()) fdt::write_tree_json(w, v.tree()); else w.null();
      }
      if (img && s.inputs[i].root) write_memory_json(w, v, *img);
      if (dump && v.handover) {
        w.key("handover");
        write_handover_json(w, *v.handover, s.render);
      }
      w.end_object();
    }
    w.end_array();
    std::vector<Diagnostic> diags = s.unread;
    const auto ordered = verdicts_first(shown.diagnostics());
    diags.insert(diags.end(), ordered.begin(), ordered.end());
    write_json_diagnostics(w, diags);
    // ok: every input read and no finding that fails the run (--exit-zero aside).
    w.key("ok").value(s.unread.empty() && shown.exit_code(ctx.opts.werror) == exit_clean);
    w.end_object();
  } else {
    if (ctx.opts.verbosity >= 0) {
      for (std::size_t i = 0; i < s.inputs.size(); ++i) {
        const auto& v = results[i];
        const std::string& name = s.inputs[i].name;
        if (!v.blob.ok() && v.handover) {
          ctx.out << "# " << name << ": " << v.abi << " (a client blob on its own, not an FDT)\n";
          if (dump) render_handover_text(ctx.out, *v.handover, s.render);
        } else if (!v.blob.ok()) {
          ctx.out << "# " << name << ": not decoded (container check failed, see diagnostics)\n";
        } else {
          const auto compatible = fdt::root_compatible(v.blob.bytes());
          if (v.abi.empty() && compatible && compatible->find(',') != std::string::npos)
            ctx.out << "# " << name << ": not a KHO blob (root compatible \"" << *compatible << "\", a device tree's)";
          else
            ctx.out << "# " << name << ": " << (v.abi.empty() ? "unknown ABI" : v.abi);
          if (!v.schema_id.empty()) ctx.out << " (schema " << v.schema_id << ")";
          ctx.out << "\n";
          if (!v.endian_hint.empty()) ctx.out << "# " << name << ": " << v.endian_hint << "\n";
          if (dump) fdt::render_tree_text(ctx.out, v.tree(), ro);
        }
        if (s.vo.as_reader) print_as_verdict(ctx.out, shown, name, ctx.opts.extra["as"], img != nullptr);
        if (img && s.inputs[i].root && v.blob.ok()) {
          print_memory_text(ctx.out, v, *img, s.vo.fdt_phys.has_value());
          if (dump && v.handover) render_handover_text(ctx.out, *v.handover, s.render);
        }
      }
      if (!dump) {
        std::size_t e = shown.count(Level::error), wn = shown.count(Level::warning);
        ctx.out << s.inputs.size() << " file(s)"
                << (s.unread.empty() ? "" : " (" + std::to_string(s.unread.size()) + " more unreadable)") << ": " << e
                << " error(s), " << wn << " warning(s)\n";
      }
    }
    print_verdicts_first(ctx, shown);
    if (s.vo.as_reader && !img && ctx.opts.verbosity >= 0)
      ctx.err << "khospec: note: --as " << ctx.opts.extra["as"]
              << ": without --memory only the root is read as that kernel would; whether it decodes the "
                 "preserved-memory map as the writer meant needs the map's pages (--memory)\n";
  }
  return s.unread.empty() ? findings_exit_code(ctx, shown) : exit_error;
}

std::string md_escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '|') o += "\\|";
    else o.push_back(c);
  }
  return o;
}

}  // namespace

int cmd_validate(Context& ctx) { return run(ctx, false); }
int dump_with_memory(Context& ctx) { return run(ctx, true); }

int cmd_rules(Context& ctx) {
  const auto& all = rules();
  if (ctx.opts.extra.count("markdown")) {
    std::ostream& o = ctx.out;
    o << "# Findings (rules)\n\n"
         "<!-- GENERATED by `khospec rules --markdown` from core/rules.cpp; do not edit.\n"
         "     The test docs/rules_md_is_generated fails when this file is stale. -->\n\n"
         "Every finding names its rule. This page is generated from the rule registry "
         "(`core/rules.cpp`): each rule's level and why it has that level, prerequisites (a failed prerequisite "
         "suppresses the rule, so one broken header gives one finding), meaning, hint, the kernel code it mirrors, "
         "an example (the corpus or schema-test file that fires it; a test checks it does) and the fix.\n\n"
         "Levels follow the consequence in the next kernel (`core/rule_reasons.cpp`): whatever makes it misread, "
         "lose or leak preserved data is an **error** (exit 100), and so is a check khospec could not complete "
         "(a clean result would vouch for what it never read); what the kernel reads correctly anyway is a "
         "**warning**; **info** is a fact worth knowing.\n\n"
         "Control: `-W no-RULE` (off), `-W RULE` (warning), `-E RULE` (error), `-E no-RULE` (warning), "
         "`FAMILY:*` for a whole family, `--werror`, `--exit-zero`, `--baseline FILE`, "
         "`--write-baseline FILE` (see [validator.md](validator.md)).\n\n";
    for (const auto& [fam, desc] : rule_families()) {
      o << "## `" << fam << "`: " << desc << "\n\n";
      o << "| rule | level | why this level | prerequisites | meaning | hint | kernel | example | fix |\n"
           "|---|---|---|---|---|---|---|---|---|\n";
      for (const auto& r : all) {
        if (r.family != fam) continue;
        std::string pre;
        for (auto p : r.prereqs) pre += (pre.empty() ? "" : ", ") + std::string(p);
        o << "| `" << r.id << "` | " << level_name(r.level) << " | " << (r.reason.empty() ? "-" : md_escape(r.reason))
          << " | " << (pre.empty() ? "-" : pre) << " | "
          << md_escape(r.summary) << " | " << (r.hint.empty() ? "-" : md_escape(r.hint)) << " | "
          << (r.kernel.empty() ? "-" : md_escape(r.kernel)) << " | `" << r.example << "` | " << md_escape(r.fix)
          << " |\n";
      }
      o << "\n";
    }
    return exit_clean;
  }
  if (ctx.opts.json()) {
    JsonWriter w(ctx.out);
    w.begin_object();
    write_json_preamble(w, "rules");
    w.key("ok").value(true);
    w.key("rules").begin_array();
    for (const auto& r : all) {
      w.begin_object();
      w.key("id").value(r.id);
      w.key("level").value(level_name(r.level));
      w.key("family").value(r.family);
      w.key("prereqs").begin_array();
      for (auto p : r.prereqs) w.value(p);
      w.end_array();
      w.key("summary").value(r.summary);
      w.key("hint").value(r.hint);
      w.key("kernel").value(r.kernel);
      w.key("example").value(r.example);
      w.key("fix").value(r.fix);
      w.key("reason").value(r.reason);
      w.end_object();
    }
    w.end_array();
    w.end_object();
    return exit_clean;
  }
  for (const auto& r : all) {
    std::string id(r.id);
    id.resize(std::max<std::size_t>(id.size(), 34), ' ');
    std::string lvl(level_name(r.level));
    lvl.resize(8, ' ');
    ctx.out << id << lvl << r.summary << "\n";
  }
  return exit_clean;
}

}  // namespace khospec::cli
