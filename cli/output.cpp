#include "cli/output.hpp"

#include <istream>

#include "conformance/schema/schema.hpp"
#include "core/json.hpp"
#include "fdt/inspect.hpp"
#include "fdt/reader.hpp"
#include "fdt/render.hpp"

#ifndef KHOSPEC_VERSION
#define KHOSPEC_VERSION "0.0.0"
#endif

namespace khospec::cli {

bool read_input(Context& ctx, const std::string& path, std::vector<std::uint8_t>& bytes, std::uint64_t* whole) {
  std::string error;
  bool ok;
  std::uint64_t total = 0;
  if (path == "-") {
    // ctx.in (tests give a stringstream): keep at most --max-size + 1 bytes, count the rest.
    bytes.clear();
    std::vector<char> chunk(1 << 16);
    bool keep = true;
    while (ctx.in) {
      ctx.in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      const auto got = static_cast<std::size_t>(ctx.in.gcount());
      total += got;
      if (keep && (total <= ctx.opts.max_size || bytes.empty()))
        bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(got));
      if (keep && fdt::over_size_cap(bytes, total, ctx.opts.max_size)) {
        keep = false;  // the header is all the finding needs
        bytes.resize(std::min(bytes.size(), chunk.size()));
        bytes.shrink_to_fit();
      }
    }
    ok = !ctx.in.bad();
    if (!ok) error = "-: read error";
    // Nothing on stdin is no hand-over to check (a closed or empty pipe), not an empty FDT.
    if (ok && total == 0) {
      ok = false;
      error = "-: standard input is closed or empty: nothing to read (pipe a blob in, or give a FILE)";
    }
  } else {
    ok = fdt::read_file(path, bytes, error, ctx.opts.max_size, &total);
  }
  if (whole) *whole = total;
  if (!ok) ctx.err << "khospec: error: " << error << "\n";
  return ok;
}

void write_json_preamble(JsonWriter& w, std::string_view command) {
  w.key("format_version").value(1);
  w.key("tool").value("khospec " KHOSPEC_VERSION);
  w.key("command").value(command);
}

Diagnostic unread_input(const std::string& path, const std::string& message) {
  Diagnostic d;
  d.type = "cli";
  d.level = Level::error;
  d.file = path;
  d.message = message;
  return d;
}

int dump_blobs(Context& ctx, const std::vector<NamedBlob>& blobs, std::string_view command,
               const std::vector<Diagnostic>& unread) {
  fdt::InspectOptions io;
  io.read.max_size = ctx.opts.max_size;
  io.decode = conformance::kho_decode_options(ctx.opts.endian);
  fdt::RenderOptions ro;
  ro.offsets = ctx.opts.extra.count("offsets") > 0;

  Report all;
  std::vector<fdt::Inspection> results;
  results.reserve(blobs.size());
  for (const auto& b : blobs) {
    io.read.file = b.name;
    io.read.input_size = b.size;
    Report r;
    results.push_back(fdt::inspect(b.bytes, io, r));
    all.append(r);
    if (!ctx.opts.json() && ctx.opts.verbosity >= 0) {
      if (!b.title.empty()) ctx.out << "== " << b.title << " ==\n";
      const auto& res = results.back();
      if (res.blob.ok()) {
        ctx.out << "# " << b.name << ": " << fdt::header_summary(res.blob) << ", values "
                << (ctx.opts.endian == fdt::Endian::little ? "little" : "big") << "-endian\n";
        // A device tree's "vendor,device" compatible: shown as an FDT, not read as a hand-over.
        if (auto c = fdt::root_compatible(res.blob.bytes()); c && c->find(',') != std::string::npos)
          ctx.out << "# " << b.name << ": not a KHO blob (root compatible \"" << *c
                  << "\"): decoded as a plain FDT, types guessed\n";
        fdt::render_tree_text(ctx.out, res.tree, ro);
      } else {
        ctx.out << "# " << b.name << ": not decoded (container check failed, see diagnostics)\n";
      }
      if (&b != &blobs.back()) ctx.out << "\n";
    }
  }

  if (ctx.opts.json()) {
    JsonWriter w(ctx.out);
    w.begin_object();
    write_json_preamble(w, command);
    w.key("endian").value(ctx.opts.endian == fdt::Endian::little ? "little" : "big");
    w.key("files").begin_array();
    for (std::size_t i = 0; i < blobs.size(); ++i) {
      const auto& res = results[i];
      w.begin_object();
      w.key("file").value(blobs[i].name);
      w.key("size").value(std::max<std::uint64_t>(blobs[i].size, blobs[i].bytes.size()));
      w.key("ok").value(res.blob.ok());
      w.key("header");
      if (res.blob.ok()) fdt::write_header_json(w, res.blob); else w.null();
      w.key("tree");
      if (res.blob.ok()) fdt::write_tree_json(w, res.tree); else w.null();
      w.end_object();
    }
    w.end_array();
    std::vector<Diagnostic> diags = unread;
    diags.insert(diags.end(), all.diagnostics().begin(), all.diagnostics().end());
    write_json_diagnostics(w, diags);
    w.key("ok").value(unread.empty() && all.exit_code(ctx.opts.werror) == exit_clean);
    w.end_object();
  } else {
    print_text_diagnostics(ctx, all);
  }
  return findings_exit_code(ctx, all);
}

}  // namespace khospec::cli
