#include "conformance/compat/inputs.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "conformance/compat/abi.hpp"
#include "conformance/compat/handover_abi.hpp"
#include "conformance/handover/handover.hpp"
#include "conformance/validate/validate.hpp"
#include "core/file.hpp"
#include "core/rules.hpp"

namespace khospec::conformance {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kSniffBytes = 4096;

// Where a hand-over comes from, and the command for the input compat cannot take.
constexpr const char* kHandoverHelp =
    "compat compares two hand-overs (root FDTs: debugfs kho/out/fdt, a capture's out_fdt.dtb; each with "
    "--memory-old/--memory-new IMAGE to follow the clients) or two schema inputs (schema files, schema "
    "directories, `khospec model abi-dump` JSON)";

std::vector<std::uint8_t> head_of(const std::string& path, bool& ok) {
  std::vector<std::uint8_t> b(kSniffBytes);
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  if (!ok) return {};
  in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()));
  b.resize(static_cast<std::size_t>(in.gcount()));
  return b;
}

bool read_all(const std::string& path, std::size_t cap, std::vector<std::uint8_t>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.clear();
  char buf[65536];
  while (in && out.size() <= cap) {
    in.read(buf, sizeof buf);
    out.insert(out.end(), buf, buf + in.gcount());
  }
  return !in.bad();
}

// Text: no NUL and (almost) no control bytes besides \t \n \r (YAML and JSON are text).
bool looks_like_text(const std::vector<std::uint8_t>& b) {
  std::size_t ctl = 0;
  for (std::uint8_t c : b) {
    if (c == 0) return false;
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ++ctl;
  }
  return ctl * 100 <= b.size();
}

std::string hex_head(const std::vector<std::uint8_t>& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < b.size() && i < 8; ++i) {
    if (i) s += ' ';
    s += d[b[i] >> 4];
    s += d[b[i] & 15];
  }
  return s.empty() ? "nothing" : s;
}

}  // namespace

std::string escape_nonprintable(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += d[c >> 4];
      out += d[c & 15];
    }
  }
  return out;
}

bool is_schema_side(InputKind k) {
  return k == InputKind::schema_dir || k == InputKind::yaml_schema || k == InputKind::json_dump;
}

SniffedInput sniff_compat_input(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return {InputKind::missing, "nothing (no such file or directory)"};
  if (fs::is_directory(path, ec)) {
    if (fs::is_regular_file(fs::path(path) / "fdt", ec))
      return {InputKind::debugfs_dir, "a KHO debugfs directory (it holds `fdt`)"};
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_regular_file() && it->path().extension() == ".yaml")
        return {InputKind::schema_dir, "a schema directory"};
    return {InputKind::other_dir, "a directory without .yaml schemas"};
  }
  bool ok = false;
  const std::vector<std::uint8_t> b = head_of(path, ok);
  if (!ok) return {InputKind::unreadable, "a file that cannot be read"};
  if (b.size() >= 4 && b[0] == 0xd0 && b[1] == 0x0d && b[2] == 0xfe && b[3] == 0xed) {
    std::vector<std::uint8_t> all;
    Report ignored;
    ValidateOptions vo;
    Validation v;
    if (read_all(path, vo.read.max_size, all)) v = validate(all, nullptr, vo, ignored);
    if (v.abi.rfind("kho-v", 0) == 0) return {InputKind::kho_root, "a KHO root FDT (" + v.abi + ")"};
    std::string compat;
    if (!v.flat.nodes.empty())
      if (const fdt::FlatProp* p = v.flat.prop(v.flat.nodes.front(), "compatible"); p && !p->raw.empty())
        compat = std::string(reinterpret_cast<const char*>(p->raw.data()), strnlen(reinterpret_cast<const char*>(p->raw.data()), p->raw.size()));
    if (v.flat.nodes.empty()) return {InputKind::client_fdt, "an FDT that does not decode"};
    return {InputKind::client_fdt, compat.empty() ? std::string("an FDT without a root compatible (not a KHO root)")
                                                  : "an FDT with compatible '" + escape_nonprintable(compat) +
                                                        "' (a KHO client sub-FDT, not a root)"};
  }
  if (b.size() >= 18 && std::memcmp(b.data(), "\x7f" "ELF", 4) == 0) {
    const unsigned type = b[5] == 2 ? (b[16] << 8 | b[17]) : (b[16] | b[17] << 8);
    if (type == 4) return {InputKind::elf_core, "an ELF core file (a memory image)"};
    return {InputKind::elf_other, "an ELF file that is no core (a vmlinux or a program)"};
  }
  if ((b.size() >= 0x206 && std::memcmp(b.data() + 0x202, "HdrS", 4) == 0) ||
      (b.size() >= 0x3c && std::memcmp(b.data() + 0x38, "ARM\x64", 4) == 0))
    return {InputKind::kernel_image, "a kernel image"};
  if (!looks_like_text(b)) {
    std::vector<std::uint8_t> all;
    if (read_all(path, 1u << 20, all)) {
      const std::string label = recognise_raw_blob(all, path);
      if (!label.empty()) return {InputKind::client_blob, "a KHO client blob (" + label + "), not a root FDT"};
    }
    return {InputKind::binary, "binary data (first bytes " + hex_head(b) + ")"};
  }
  std::size_t i = 0;
  while (i < b.size() && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) ++i;
  if (fs::path(path).extension() == ".json" || (i < b.size() && (b[i] == '{' || b[i] == '[')))
    return {InputKind::json_dump, "a JSON document (an ABI dump)"};
  return {InputKind::yaml_schema, "a schema file"};
}

std::optional<abi::AbiSet> load_compat_input(const std::string& path, const std::string& memory,
                                             const std::string& option, Report& report) {
  const std::string shown = escape_nonprintable(path);
  auto invalid = [&](const std::string& file, const std::string& msg) {
    report.add(make_finding("compat_input_invalid", escape_nonprintable(file), std::nullopt, "", "", msg, "compat"));
    return std::nullopt;
  };
  const SniffedInput in = sniff_compat_input(path);
  const std::string given = shown + " is " + in.what;
  switch (in.kind) {
    case InputKind::missing:
    case InputKind::unreadable:
      return invalid(path, in.kind == InputKind::missing ? "no such file or directory" : "cannot read the file");
    case InputKind::debugfs_dir:
      return invalid(path, given + ": give its root FDT, `khospec compat " + shown + "/fdt ...` (" + kHandoverHelp + ")");
    case InputKind::other_dir:
      return invalid(path, given + ": " + kHandoverHelp);
    case InputKind::elf_core:
      return invalid(path, given + ", not a hand-over: give the root FDT it belongs to and this image with " + option +
                               " (`khospec compat " + option + " " + shown + " ROOT.dtb ...`)");
    case InputKind::elf_other:
    case InputKind::kernel_image:
      return invalid(path, given + ", not a hand-over: `khospec kimage " + shown +
                               "` reads a kernel image; the hand-over of a running kernel is debugfs kho/out/fdt");
    case InputKind::client_fdt:
    case InputKind::client_blob:
      return invalid(path, given + ": compat compares whole hand-overs; give the root FDT (debugfs kho/out/fdt, a "
                               "capture's out_fdt.dtb) with " + option + " IMAGE to include its clients; `khospec "
                               "validate " + shown + "` checks this blob alone");
    case InputKind::binary:
      return invalid(path, given + ", neither an FDT (magic d0 0d fe ed), an ELF core, a YAML schema nor a JSON ABI dump: " +
                               kHandoverHelp);
    case InputKind::kho_root: {
      std::vector<std::uint8_t> bytes;
      if (!read_all(path, ValidateOptions{}.read.max_size, bytes)) return invalid(path, "cannot read the file");
      if (memory.empty()) return abi_from_handover(bytes, nullptr, path, report);
      const SniffedInput m = sniff_compat_input(memory);
      if (m.kind != InputKind::elf_core)
        return invalid(memory, option + " " + escape_nonprintable(memory) + " is " + m.what +
                                   ", not a memory image: give an ELF core (QEMU dump-guest-memory, /proc/kcore)" +
                                   (m.kind == InputKind::kho_root ? "; the hand-over itself is the positional argument" : ""));
      MemoryImage img;
      std::string err;
      Report ir;
      if (!MemoryImage::from_file(memory, std::nullopt, img, ir, err) || !img.ok())
        return invalid(memory, option + ": cannot use " + escape_nonprintable(memory) + " as a memory image" +
                                   (err.empty() ? std::string() : ": " + escape_nonprintable(err)));
      return abi_from_handover(bytes, &img, path, report);
    }
    case InputKind::schema_dir:
    case InputKind::yaml_schema:
    case InputKind::json_dump:
      if (!memory.empty())
        return invalid(path, option + " follows a hand-over's pointers, but " + given +
                                 ": drop " + option + ", or give a root FDT");
      break;
  }
  Report load;
  auto set = load_abi_input(path, load);
  for (auto d : load.diagnostics()) {
    d.message = escape_nonprintable(d.message);
    d.file = escape_nonprintable(d.file);
    report.add(std::move(d));
  }
  return set;
}

}  // namespace khospec::conformance
