#include "model/kho/cmdline.hpp"

#include <cctype>
#include <sstream>

namespace khospec::model {

namespace {
constexpr int kEINVAL = -22;
}

std::optional<bool> kstrtobool(std::string_view s) {
  if (s.empty()) return std::nullopt;
  switch (s[0]) {
    case 'y': case 'Y': case 't': case 'T': case '1': return true;
    case 'n': case 'N': case 'f': case 'F': case '0': return false;
    case 'o': case 'O':
      if (s.size() > 1 && (s[1] == 'n' || s[1] == 'N')) return true;
      if (s.size() > 1 && (s[1] == 'f' || s[1] == 'F')) return false;
      return std::nullopt;
    default: return std::nullopt;
  }
}

MemparseResult memparse(std::string_view s) {
  // simple_strtoull(ptr, &endptr, 0): base from the prefix.
  std::size_t i = 0;
  int base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s.size() > 2 &&
      std::isxdigit(static_cast<unsigned char>(s[2]))) {
    base = 16;
    i = 2;
  } else if (!s.empty() && s[0] == '0') {
    base = 8;
  }
  std::uint64_t v = 0;
  std::size_t start = i;
  for (; i < s.size(); ++i) {
    int d;
    char c = s[i];
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else break;
    if (d >= base) break;
    v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
  }
  if (i == start && base != 8) return {0, 0};
  unsigned shift = 0;
  if (i < s.size()) {
    switch (s[i]) {
      case 'E': case 'e': shift = 60; break;
      case 'P': case 'p': shift = 50; break;
      case 'T': case 't': shift = 40; break;
      case 'G': case 'g': shift = 30; break;
      case 'M': case 'm': shift = 20; break;
      case 'K': case 'k': shift = 10; break;
      default: break;
    }
    if (shift) ++i;
  }
  return {v << shift, i};
}

int kho_parse_scratch_size(const EraTraits& era, std::string_view p, ScratchSizes& sizes,
                           std::string* log) {
  if (p.empty()) return kEINVAL;
  // kernel/kexec_handover.c kho_parse_scratch_size(): "nn%" with at most 10
  // digits (the buffer holds 11 characters including the '%').
  if (p.back() == '%') {
    if (p.size() > 11) return kEINVAL;
    std::string_view digits = p.substr(0, p.size() - 1);
    // kstrtouint(s, 10): digits only (one trailing newline allowed), no overflow.
    if (digits.empty()) return kEINVAL;
    std::uint64_t v = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return kEINVAL;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
      if (v > 0xffffffffu) return kEINVAL;
    }
    sizes.scale = static_cast<unsigned>(v);
    if (log) *log = "scratch scale is " + std::to_string(static_cast<int>(sizes.scale)) + "%";
    return 0;
  }
  std::uint64_t parsed[3];
  std::size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      if (pos >= p.size() || p[pos] != ',') return kEINVAL;
      ++pos;
    }
    auto r = memparse(p.substr(pos));
    if (r.consumed == 0) return kEINVAL;
    // 6.16 rejects every zero component; later kernels only an all-zero total.
    if (era.scratch_zero_rejected && r.value == 0) return kEINVAL;
    parsed[i] = r.value;
    pos += r.consumed;
  }
  if (era.scratch_full_parse) {
    if (pos != p.size()) return kEINVAL;  // 6.18+: the whole string must be consumed
    if (parsed[0] + parsed[1] + parsed[2] == 0) return kEINVAL;
  }
  sizes.lowmem = parsed[0];
  sizes.global = parsed[1];
  sizes.pernode = parsed[2];
  sizes.scale = 0;
  if (log) {
    std::ostringstream o;
    o << "scratch areas: lowmem: " << (sizes.lowmem >> 20) << "MiB global: " << (sizes.global >> 20)
      << "MiB pernode: " << (sizes.pernode >> 20) << "MiB";
    *log = o.str();
  }
  return 0;
}

int parse_reserve_mem(std::string_view arg, ReserveMemParam& out) {
  // mm/memblock.c reserve_mem(): size ':' align ':' name
  auto a = memparse(arg);
  if (a.consumed == 0 || a.consumed >= arg.size() || arg[a.consumed] != ':' || a.value == 0)
    return kEINVAL;
  std::string_view rest = arg.substr(a.consumed + 1);
  auto b = memparse(rest);
  if (b.consumed == 0 || b.consumed >= rest.size() || rest[b.consumed] != ':') return kEINVAL;
  std::uint64_t align = b.value;
  // reserve_mem(): the alignment must be a power of two (0 is not).
  if (align == 0 || (align & (align - 1)) != 0) return kEINVAL;
  std::string_view name = rest.substr(b.consumed + 1);
  // RESERVE_MEM_NAME_SIZE is 16 including the NUL.
  if (name.empty() || name.size() >= 16) return kEINVAL;
  out.size = a.value;
  out.align = align;
  out.name = std::string(name);
  return 0;
}

KhoCmdline parse_cmdline(const EraTraits& era, std::string_view cmdline, bool kho_default) {
  return parse_cmdline(era, cmdline, kho_default, registry::default_release(era.id));
}

KhoCmdline parse_cmdline(const EraTraits& era, std::string_view cmdline, bool kho_default,
                         const registry::Release& release) {
  KhoCmdline c;
  c.kho = kho_default;
  std::istringstream in{std::string(cmdline)};
  for (std::string word; in >> word;) {
    auto eq = word.find('=');
    std::string key = word.substr(0, eq);
    std::string val = eq == std::string::npos ? "" : word.substr(eq + 1);
    if (key == "kho") {
      auto b = kstrtobool(val);
      if (!b) {
        c.errors.push_back(word + ": " + std::to_string(kEINVAL) + " (malformed early option)");
      } else {
        c.kho = *b;
        c.kho_given = true;
      }
    } else if (key == release.scratch_param ||
               (!release.scratch_param_alias.empty() && key == release.scratch_param_alias)) {
      std::string log;
      int err = kho_parse_scratch_size(era, val, c.scratch, &log);
      if (err) c.errors.push_back(word + ": " + std::to_string(err) + " (malformed early option)");
      else c.log.push_back("KHO: " + log);
    } else if (key == "reserve_mem") {
      ReserveMemParam r;
      if (parse_reserve_mem(val, r)) c.errors.push_back(word + ": " + std::to_string(kEINVAL));
      else c.reserve_mem.push_back(r);
    } else if (key == "liveupdate") {
      auto b = kstrtobool(val);
      if (b) c.liveupdate = *b;
      else c.errors.push_back(word + ": " + std::to_string(kEINVAL));
    }
  }
  return c;
}

}  // namespace khospec::model
