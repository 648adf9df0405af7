// memblock trace replay: parse everything, then execute against the model.
#include "model/memblock/memblock_replay.hpp"

#include "core/parse.hpp"
#include "core/suggest.hpp"

#include <cstdio>
#include <istream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "model/memblock/memblock.hpp"

namespace khospec::model {

namespace {

enum class ArgKind { u64, nid, flags, boolean, era };

struct Arg {
  ArgKind kind;
  const char* name;  // for the call list (--help, unknown calls)
};

struct CommandSpec {
  const char* name;
  std::vector<Arg> required;
  std::vector<Arg> optional;
};

// The one table of calls: the parser reads it, and list_replay_calls() prints it.
const std::vector<CommandSpec>& command_specs() {
  using A = ArgKind;
  const Arg base{A::u64, "BASE"}, size{A::u64, "SIZE"}, align{A::u64, "ALIGN"}, nid{A::nid, "NID"};
  static const std::vector<CommandSpec> specs = {
      {"era", {{A::era, "v6.12|v6.16"}}, {}},
      {"bottom_up", {{A::boolean, "0|1"}}, {}},
      {"allow_resize", {}, {}},
      {"set_current_limit", {{A::u64, "ADDR"}}, {}},
      {"set_kho_scratch_only", {}, {}},
      {"clear_kho_scratch_only", {}, {}},
      {"mirrored_kernelcore", {{A::boolean, "0|1"}}, {}},
      {"add", {base, size}, {}},
      {"add_node", {base, size, nid}, {{A::flags, "FLAGS"}}},
      {"reserve", {base, size}, {}},
      {"reserve_kern", {base, size}, {nid}},
      {"remove", {base, size}, {}},
      {"free", {base, size}, {}},
      {"mark_hotplug", {base, size}, {}},
      {"clear_hotplug", {base, size}, {}},
      {"mark_mirror", {base, size}, {}},
      {"mark_nomap", {base, size}, {}},
      {"clear_nomap", {base, size}, {}},
      {"mark_kho_scratch", {base, size}, {}},
      {"clear_kho_scratch", {base, size}, {}},
      {"mark_noinit", {base, size}, {}},
      {"trim_memory", {align}, {}},
      {"phys_alloc_range", {size, align, {A::u64, "START"}, {A::u64, "END"}}, {}},
      {"phys_alloc", {size, align}, {}},
      {"alloc_try_nid", {size, align, {A::u64, "MIN"}, {A::u64, "MAX"}, nid}, {}},
      {"alloc_exact_nid_raw", {size, align, {A::u64, "MIN"}, {A::u64, "MAX"}, nid}, {}},
      {"alloc_from", {size, align, {A::u64, "MIN"}}, {}},
      {"free_all", {}, {}},
      {"dump", {}, {}},
  };
  return specs;
}

std::string signature(const CommandSpec& c) {
  std::string s = c.name;
  for (const auto& a : c.required) s += std::string(" ") + a.name;
  for (const auto& a : c.optional) s += std::string(" [") + a.name + "]";
  return s;
}

struct Call {
  int line = 0;
  std::string name;
  std::string text;                 // normalised call text (tokens joined by one space)
  std::vector<std::uint64_t> args;  // numbers; nid stored as its two's complement
};

bool parse_u64(const std::string& s, std::uint64_t* out) {
  if (s.empty()) return false;
  std::size_t i = 0;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    i = 2;
  }
  if (i >= s.size()) return false;
  std::uint64_t v = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = static_cast<unsigned>(c - '0');
    else if (base == 16 && c >= 'a' && c <= 'f')
      d = static_cast<unsigned>(c - 'a' + 10);
    else if (base == 16 && c >= 'A' && c <= 'F')
      d = static_cast<unsigned>(c - 'A' + 10);
    else
      return false;
    if (v > (~std::uint64_t{0} - d) / static_cast<unsigned>(base)) return false;
    v = v * static_cast<unsigned>(base) + d;
  }
  *out = v;
  return true;
}

bool parse_flags(const std::string& s, std::uint64_t* out) {
  if (parse_u64(s, out)) return *out <= 0xffffffffULL;
  static const std::pair<const char*, std::uint32_t> kNames[] = {
      {"NONE", MEMBLOCK_NONE},
      {"HOTPLUG", MEMBLOCK_HOTPLUG},
      {"MIRROR", MEMBLOCK_MIRROR},
      {"NOMAP", MEMBLOCK_NOMAP},
      {"DRIVER_MANAGED", MEMBLOCK_DRIVER_MANAGED},
      {"RSRV_NOINIT", MEMBLOCK_RSRV_NOINIT},
      {"RSRV_KERN", MEMBLOCK_RSRV_KERN},
      {"KHO_SCRATCH", MEMBLOCK_KHO_SCRATCH},
  };
  std::uint64_t v = 0;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t bar = s.find('|', pos);
    std::string part = s.substr(pos, bar == std::string::npos ? std::string::npos : bar - pos);
    if (part.rfind("MEMBLOCK_", 0) == 0) part = part.substr(9);
    bool ok = false;
    for (const auto& [n, bit] : kNames)
      if (part == n) {
        v |= bit;
        ok = true;
      }
    if (!ok) return false;
    if (bar == std::string::npos) break;
    pos = bar + 1;
  }
  *out = v;
  return true;
}

bool parse_nid(const std::string& s, std::uint64_t* out) {
  const bool neg = !s.empty() && s[0] == '-';
  std::uint64_t v = 0;
  if (!parse_u64(neg ? s.substr(1) : s, &v) || v > 0x7fffffffULL) return false;
  const long long n = neg ? -static_cast<long long>(v) : static_cast<long long>(v);
  *out = static_cast<std::uint64_t>(n);
  return true;
}

std::string kind_name(ArgKind k) {
  switch (k) {
    case ArgKind::u64: return "a number";
    case ArgKind::nid: return "a node id";
    case ArgKind::flags: return "memblock flags";
    case ArgKind::boolean: return "0 or 1";
    case ArgKind::era: return "v6.12 or v6.16";
  }
  return "?";
}

// Parses one line. Returns false with *error set on a malformed line; an
// empty or comment-only line yields no call.
bool parse_line(const std::string& raw, int line, std::vector<Call>* calls, std::string* error) {
  std::string s = raw.substr(0, raw.find('#'));
  std::istringstream tok(s);
  std::vector<std::string> words;
  for (std::string w; tok >> w;) words.push_back(w);
  if (words.empty()) return true;
  const CommandSpec* spec = nullptr;
  for (const auto& c : command_specs())
    if (words[0] == c.name) spec = &c;
  if (!spec) {
    std::vector<std::string_view> names;
    std::string all;
    for (const auto& c : command_specs()) {
      names.emplace_back(c.name);
      all += std::string(all.empty() ? "" : ", ") + c.name;
    }
    *error = "unknown call '" + words[0] + "'";
    if (auto near = closest_name(words[0], names)) *error += " (did you mean '" + *near + "'?)";
    *error += "; the calls are: " + all + " (`khospec memblock replay --help` shows their arguments)";
    return false;
  }
  const std::size_t nargs = words.size() - 1;
  if (nargs < spec->required.size() || nargs > spec->required.size() + spec->optional.size()) {
    std::string want = std::to_string(spec->required.size());
    if (!spec->optional.empty())
      want += "-" + std::to_string(spec->required.size() + spec->optional.size());
    *error = "'" + words[0] + "' takes " + want + " argument(s), got " + std::to_string(nargs);
    return false;
  }
  Call call;
  call.line = line;
  call.name = words[0];
  call.text = words[0];
  for (std::size_t i = 0; i < nargs; ++i) {
    const ArgKind kind = (i < spec->required.size() ? spec->required[i]
                                                     : spec->optional[i - spec->required.size()]).kind;
    const std::string& w = words[i + 1];
    std::uint64_t v = 0;
    bool ok = false;
    switch (kind) {
      case ArgKind::u64: ok = parse_u64(w, &v); break;
      case ArgKind::nid: ok = parse_nid(w, &v); break;
      case ArgKind::flags: ok = parse_flags(w, &v); break;
      case ArgKind::boolean:
        ok = w == "0" || w == "1";
        v = w == "1";
        break;
      case ArgKind::era:
        ok = w == "v6.12" || w == "v6.16";
        v = w == "v6.16";
        break;
    }
    if (!ok) {
      *error = "argument " + std::to_string(i + 1) + " of '" + words[0] + "' must be " +
               kind_name(kind) + ", got '" + w + "'";
      return false;
    }
    call.args.push_back(v);
    call.text += ' ';
    call.text += w;
  }
  calls->push_back(std::move(call));
  return true;
}

std::string addr_ret(phys_addr_t a) { return a ? hex(a) : "0"; }
int as_nid(std::uint64_t v) { return static_cast<int>(static_cast<long long>(v)); }

// Executes one call; returns the printed return value ("" for void calls).
std::string execute(Memblock& mb, const Call& c, FreeAllResult* free_all) {
  const auto& a = c.args;
  const std::string& n = c.name;
  auto i = [](int r) { return std::to_string(r); };
  if (n == "era") {
    mb.set_era(a[0] ? Era::v6_16 : Era::v6_12);
    return "";
  }
  if (n == "bottom_up") {
    mb.memblock_set_bottom_up(a[0] != 0);
    return "";
  }
  if (n == "allow_resize") {
    mb.memblock_allow_resize();
    return "";
  }
  if (n == "set_current_limit") {
    mb.memblock_set_current_limit(a[0]);
    return "";
  }
  if (n == "set_kho_scratch_only") {
    mb.memblock_set_kho_scratch_only();
    return "";
  }
  if (n == "clear_kho_scratch_only") {
    mb.memblock_clear_kho_scratch_only();
    return "";
  }
  if (n == "mirrored_kernelcore") {
    mb.set_mirrored_kernelcore(a[0] != 0);
    return "";
  }
  if (n == "add") return i(mb.memblock_add(a[0], a[1]));
  if (n == "add_node")
    return i(mb.memblock_add_node(a[0], a[1], as_nid(a[2]),
                                  a.size() > 3 ? static_cast<std::uint32_t>(a[3]) : 0));
  if (n == "reserve") return i(mb.memblock_reserve(a[0], a[1]));
  if (n == "reserve_kern") {
    if (mb.era() != Era::v6_16) return i(MODEL_ENOSYS);
    return i(mb.__memblock_reserve(a[0], a[1], a.size() > 2 ? as_nid(a[2]) : NUMA_NO_NODE,
                                   MEMBLOCK_RSRV_KERN));
  }
  if (n == "remove") return i(mb.memblock_remove(a[0], a[1]));
  if (n == "free") return i(mb.memblock_phys_free(a[0], a[1]));
  if (n == "mark_hotplug") return i(mb.memblock_mark_hotplug(a[0], a[1]));
  if (n == "clear_hotplug") return i(mb.memblock_clear_hotplug(a[0], a[1]));
  if (n == "mark_mirror") return i(mb.memblock_mark_mirror(a[0], a[1]));
  if (n == "mark_nomap") return i(mb.memblock_mark_nomap(a[0], a[1]));
  if (n == "clear_nomap") return i(mb.memblock_clear_nomap(a[0], a[1]));
  if (n == "mark_kho_scratch") return i(mb.memblock_mark_kho_scratch(a[0], a[1]));
  if (n == "clear_kho_scratch") return i(mb.memblock_clear_kho_scratch(a[0], a[1]));
  if (n == "mark_noinit") return i(mb.memblock_reserved_mark_noinit(a[0], a[1]));
  if (n == "trim_memory") {
    mb.memblock_trim_memory(a[0]);
    return "";
  }
  if (n == "phys_alloc_range") return addr_ret(mb.memblock_phys_alloc_range(a[0], a[1], a[2], a[3]));
  if (n == "phys_alloc") return addr_ret(mb.memblock_phys_alloc(a[0], a[1]));
  if (n == "alloc_try_nid")
    return addr_ret(mb.memblock_alloc_try_nid(a[0], a[1], a[2], a[3], as_nid(a[4])));
  if (n == "alloc_exact_nid_raw")
    return addr_ret(mb.memblock_alloc_exact_nid_raw(a[0], a[1], a[2], a[3], as_nid(a[4])));
  if (n == "alloc_from") return addr_ret(mb.memblock_alloc_from(a[0], a[1], a[2]));
  if (n == "free_all") {
    *free_all = mb.memblock_free_all();
    std::uint64_t chunks = 0;
    for (const auto& run : free_all->chunks) chunks += run.count;
    return "pages=" + std::to_string(free_all->pages) + " chunks=" + std::to_string(chunks);
  }
  return "";  // dump: handled by the caller
}

void print_type_text(std::ostream& out, const MemblockType& t) {
  const std::string name(type_name(t.id));
  out << name << " cnt=" << t.cnt() << " max=" << t.max << " total_size=" << hex(t.total_size)
      << '\n';
  for (std::size_t k = 0; k < t.cnt(); ++k) {
    const auto& r = t.regions[k];
    out << "  " << name << '[' << k << "] " << hex(r.base) << ' ' << hex(r.size) << ' '
        << hex(r.flags) << ' ' << r.nid << '\n';
  }
}

void print_tables_text(std::ostream& out, const Memblock& mb) {
  print_type_text(out, mb.memory());
  print_type_text(out, mb.reserved());
}

void write_type_json(JsonWriter& w, const MemblockType& t) {
  w.key(type_name(t.id)).begin_object();
  w.key("cnt").value(static_cast<std::uint64_t>(t.cnt()));
  w.key("max").value(static_cast<std::uint64_t>(t.max));
  w.key("total_size").value(hex(t.total_size));
  w.key("regions").begin_array();
  for (const auto& r : t.regions) {
    w.begin_object();
    w.key("base").value(hex(r.base));
    w.key("size").value(hex(r.size));
    w.key("flags").value(hex(r.flags));
    w.key("flag_names").value(flags_to_string(r.flags));
    w.key("nid").value(r.nid);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void write_tables_json(JsonWriter& w, const Memblock& mb) {
  w.begin_object();
  write_type_json(w, mb.memory());
  write_type_json(w, mb.reserved());
  w.end_object();
}

}  // namespace

int memblock_replay(std::istream& in, std::string_view name, std::ostream& out, std::ostream& err,
                    const ReplayOptions& opts) {
  constexpr std::size_t kMaxLine = 4096, kMaxCalls = 100000;
  std::vector<Call> calls;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string error;
    // Bounds that keep a hostile trace's memory near its size (docs/fuzz.md):
    // a parsed call costs ~150 bytes however short its line, and a real boot
    // makes a few thousand calls with lines under 100 bytes.
    if (line.size() > kMaxLine) {
      err << name << ':' << lineno << ": error: line longer than " << kMaxLine << " bytes\n";
      return 1;
    }
    if (!parse_line(line, lineno, &calls, &error)) {
      err << name << ':' << lineno << ": error: " << error << '\n';
      return 1;
    }
    if (calls.size() > kMaxCalls) {
      err << name << ':' << lineno << ": error: more than " << kMaxCalls << " calls\n";
      return 1;
    }
  }
  if (in.bad()) {
    err << name << ": error: read failed\n";
    return 1;
  }

  MemblockConfig cfg;
  cfg.self_check = false;  // replay prints what the kernel would; invariants are for tests
  Memblock mb(cfg);

  JsonWriter w(out);
  if (opts.json) {
    w.begin_object();
    if (opts.json_preamble) opts.json_preamble(w);
    w.key("trace").value(name);
    w.key("calls").begin_array();
  }
  for (const Call& c : calls) {
    const std::size_t before = mb.events().size();
    FreeAllResult fa;
    const std::string ret = execute(mb, c, &fa);
    std::vector<MemblockEvent> evs;
    for (std::size_t k = before; k < mb.events().size(); ++k)
      if (mb.events()[k].kind != MemblockEvent::Kind::log) evs.push_back(mb.events()[k]);
    if (opts.json) {
      w.begin_object();
      w.key("line").value(c.line);
      w.key("call").value(c.text);
      if (!ret.empty()) w.key("ret").value(ret);
      if (!evs.empty()) {
        w.key("events").begin_array();
        for (const auto& e : evs) {
          w.begin_object();
          w.key("kind").value(event_kind_name(e.kind));
          w.key("function").value(e.function);
          w.key("message").value(e.message);
          w.end_object();
        }
        w.end_array();
      }
      if (c.name == "dump") {
        w.key("tables");
        write_tables_json(w, mb);
      }
      w.end_object();
    } else {
      out << c.text;
      if (!ret.empty()) out << " => " << ret;
      out << '\n';
      for (const auto& e : evs)
        out << "  " << event_kind_name(e.kind) << ' ' << e.function << ": " << e.message << '\n';
      if (c.name == "dump") print_tables_text(out, mb);
    }
  }
  if (opts.json) {
    w.end_array();
    w.key("era").value(era_name(mb.era()));
    w.key("failed").value(mb.failed());
    if (mb.failed()) w.key("failure").value(mb.failure());
    w.key("final");
    write_tables_json(w, mb);
    w.end_object();
  } else {
    out << "# end of trace (" << era_name(mb.era()) << ")\n";
    if (mb.failed()) out << "# model stopped: " << mb.failure() << '\n';
    print_tables_text(out, mb);
  }
  return 0;
}

void list_replay_calls(std::ostream& out) {
  for (const auto& c : command_specs()) out << "  " << signature(c) << "\n";
}

}  // namespace khospec::model
