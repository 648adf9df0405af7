// khospec kimage IMAGE [--option NAME ...] [--config]: what a kernel image
// says about the kernel (format, release, embedded .config, .liveupdate_*
// sections). Exit 0 when the image was read, 1 when it was not (or when an
// option was asked of an image without its configuration).
#include <cstdio>

#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "conformance/kimage/kimage.hpp"
#include "core/json.hpp"

namespace khospec::cli {

namespace {

using conformance::KernelImage;

// The options to show: --option NAMEs, else the ones preflight asks about.
std::vector<std::string> shown_options(const Context& ctx) {
  std::vector<std::string> names;
  if (auto it = ctx.opts.multi.find("option"); it != ctx.opts.multi.end()) {
    for (const auto& n : it->second) names.push_back(n.rfind("CONFIG_", 0) == 0 ? n.substr(7) : n);
  } else {
    for (auto n : conformance::kho_config_options()) names.emplace_back(n);
  }
  return names;
}

void write_json_image(JsonWriter& w, const KernelImage& k, const std::vector<std::string>& options) {
  w.key("format").value(k.format);
  w.key("arch").value(k.arch);
  w.key("compression").value(k.compression);
  w.key("release").value(k.release);
  w.key("major").value(k.major);
  w.key("minor").value(k.minor);
  w.key("banner").value(k.banner);
  if (!k.setup_version.empty()) w.key("setup_version").value(k.setup_version);
  w.key("config");
  if (k.config) {
    w.begin_object();
    w.key("embedded").value(true);
    w.key("count").value(static_cast<std::uint64_t>(k.config->values.size()));
    w.key("options").begin_object();
    for (const auto& n : options) w.key("CONFIG_" + n).value(k.config->value(n));
    w.end_object();
    w.end_object();
  } else {
    w.begin_object();
    w.key("embedded").value(false);
    w.key("missing").value(k.config_missing);
    w.end_object();
  }
  w.key("sections_known").value(k.sections_known);
  w.key("liveupdate_sections").begin_array();
  for (const auto& s : k.sections) {
    w.begin_object();
    w.key("name").value(s.name);
    w.key("size").value(s.size);
    w.key("version");
    if (s.version) w.value(static_cast<std::uint64_t>(*s.version));
    else w.null();
    w.key("strings").begin_array();
    for (const auto& str : s.strings) w.value(str);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("notes").begin_array();
  for (const auto& n : k.notes) w.value(n);
  w.end_array();
}

void write_text_image(std::ostream& o, const std::string& path, const KernelImage& k,
                      const std::vector<std::string>& options, int verbosity) {
  o << path << ": " << k.format << " (" << k.arch << ")";
  if (k.compression != "none") o << ", " << k.compression << "-compressed";
  o << "\n  release   " << k.release << " (" << k.major << "." << k.minor << ")\n";
  if (!k.banner.empty()) o << "  banner    " << k.banner << "\n";
  if (!k.setup_version.empty() && verbosity > 0) o << "  setup     " << k.setup_version << "\n";
  if (k.config) {
    o << "  config    embedded (IKCONFIG, " << k.config->values.size() << " options)\n";
    for (const auto& n : options) o << "    CONFIG_" << n << "=" << k.config->value(n) << "\n";
  } else {
    o << "  config    not embedded: " << k.config_missing << "\n";
  }
  if (!k.sections_known) {
    o << "  sections  unknown (no ELF inside this image)\n";
  } else if (k.sections.empty()) {
    o << "  sections  no .liveupdate_* section\n";
  } else {
    for (const auto& s : k.sections) {
      o << "  section   " << s.name << " (" << s.size << " bytes";
      if (s.version) o << ", LVUP version " << *s.version;
      o << ")\n";
      for (const auto& str : s.strings) o << "    " << str << "\n";
    }
  }
  if (verbosity > 0)
    for (const auto& n : k.notes) o << "  note      " << n << "\n";
}

}  // namespace

int cmd_kimage(Context& ctx) {
  if (ctx.opts.args.size() != 1) return usage_error(ctx, "kimage takes one kernel image (bzImage, Image, Image.gz, vmlinux)");
  const std::string& path = ctx.opts.args[0];
  if (path == "-") return usage_error(ctx, "kimage reads a file, not standard input");
  auto r = conformance::read_kernel_image(path);
  auto options = shown_options(ctx);
  std::string error_kind = r.error_kind, error = r.error;
  if (r.ok() && !r.image->config && ctx.opts.multi.count("option")) {
    error_kind = "config_not_embedded";
    error = r.image->config_missing;
  }
  if (r.ok() && ctx.opts.extra.count("config") && !r.image->config) {
    error_kind = "config_not_embedded";
    error = r.image->config_missing;
  }
  if (ctx.opts.json()) {
    JsonWriter w(ctx.out);
    w.begin_object();
    write_json_preamble(w, "kimage");
    w.key("file").value(path);
    w.key("ok").value(error.empty());
    if (!error.empty()) {
      w.key("error").begin_object();
      w.key("kind").value(error_kind);
      w.key("message").value(error);
      w.end_object();
    }
    if (r.ok()) {
      w.key("image").begin_object();
      write_json_image(w, *r.image, options);
      if (ctx.opts.extra.count("config") && r.image->config) w.key("config_text").value(r.image->config->text);
      w.end_object();
    }
    w.end_object();
    ctx.out << "\n";
  } else if (r.ok() && error.empty() && ctx.opts.extra.count("config")) {
    ctx.out << r.image->config->text;
  } else if (r.ok()) {
    write_text_image(ctx.out, path, *r.image, options, ctx.opts.verbosity);
  }
  if (!error.empty()) {
    ctx.err << "khospec: error: " << path << ": " << error_kind << ": " << error << "\n";
    return exit_error;
  }
  return exit_clean;
}

}  // namespace khospec::cli
