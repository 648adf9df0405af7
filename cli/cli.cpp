#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli.hpp"
#include "cli/json_errors.hpp"
#include "core/parse.hpp"

#ifndef KHOSPEC_VERSION
#define KHOSPEC_VERSION "0.0.0"
#endif

namespace khospec::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"dump", "dump [--offsets] [--memory IMAGE [--memory-base ADDR] [--depth N] [--summary]] FILE|- ... | --live out|in",
       "print KHO FDTs as a tree with every value decoded natively",
       {{"offsets", false, "show the byte offset of every node and property"},
        {"memory", true, "also decode and print the preserved-memory map from this memory image (ELF core, raw, or page files FILE@ADDR / DIR, repeatable)"},
        {"memory-base", true, "physical address of a raw image's first byte (raw images only)"},
        {"kho-v1-bitmap", true, "kho-v1 bitmap size: auto (default), 512 (6.16/6.17) or page (6.18+)"},
        {"scratch", true, "with --memory: scratch areas to check (ADDR+SIZE[,..], PHYS_FILE:LEN_FILE or a dir)"},
        {"fdt-phys", true, "with --memory: physical address of the root FDT (no FILE: the root is read there)"},
        {"live", true, "the running kernel's out or in side, as validate --live reads it"},
        {"root", true, "with --live: a directory standing for / (tests, chroots)"},
        {"depth", true, "with --memory: print the followed hand-over this many levels deep (0 = the root only)"},
        {"summary", false, "with --memory: count blocks, folios and chunk pages instead of listing them"},
        {"map-limit", true, "stop walking the map and the clients after this many blocks and entries (default 1048576)"},
        {"release", true, "the writer's release (uname -r) that kexec-metadata must name"}},
       cmd_dump},
      {"corpus", "corpus build OUT_DIR [--src DIR] | corpus check FILE|DIR ...",
       "compile the conformance corpus to .dtb, or check sources against their EXPECT headers",
       {{"src", true, "corpus source directory (default: the one khospec was built from)"}},
       cmd_corpus},
      {"memblock", "memblock replay TRACE|-",
       "replay a memblock call trace on the reference model and print the region tables",
       {},
       cmd_memblock,
       memblock_help},
      {"simulate", "simulate [SCENARIO.yaml|NAME] [--era ERA] [--out DIR] [--list]",
       "run a KHO scenario (default: the kernel 1 -> 2 -> 3 chain, every era) on the reference model",
       {{"era", true, "run a built-in scenario for this era (or release) only", true},
        {"out", true, "write each kernel's FDTs, sub-FDTs, scratch files and memory.elf here"},
        {"list", false, "list the built-in scenarios and their eras"}},
       cmd_simulate},
      {"demo", "demo",
       "decode and check the built-in example hand-over (the kernel documentation's kho-v1 dump)",
       {},
       cmd_demo},
      {"validate",
       "validate [--abi auto|ABI] [--memory IMAGE [--memory-base ADDR]] [--scratch S] FILE|- ... | --live out|in",
       "check KHO hand-overs against their ABI: container, schema and cross-reference checks",
       {{"abi", true, "auto (default: by compatible and properties) or kho-v1..kho-v4, memblock-v1, ..."},
        {"memory", true, "memory image (ELF core: QEMU dump-guest-memory, /proc/kcore; raw with --memory-base; or page files FILE@ADDR / a capture DIR, repeatable)"},
        {"memory-base", true, "physical address of a raw image's first byte"},
        {"scratch", true, "scratch areas: ADDR+SIZE[,..], PHYS_FILE:LEN_FILE, or a dir (debugfs kho/out, a capture or simulate stage)"},
        {"fdt-phys", true, "physical address of the root FDT (else searched in small images)"},
        {"kho-v1-bitmap", true, "kho-v1 bitmap size: auto (default), 512 (6.16/6.17) or page (6.18+)"},
        {"map-limit", true, "stop walking the map and the clients after this many blocks and entries (default 1048576)"},
        {"release", true, "the writer's release (uname -r): kexec-metadata's previous_release must name it"},
        {"live", true, "read the running kernel's out or in side (debugfs /sys/kernel/debug/kho, RFC sysfs)"},
        {"root", true, "file system root for --live (a fake tree in tests; default /)"},
        {"W", true, "-W no-RULE disables RULE, -W RULE makes it a warning (RULE may be FAMILY:*); repeatable"},
        {"E", true, "-E RULE makes RULE an error, -E no-RULE a warning; repeatable"},
        {"baseline", true, "ignore the findings listed in this file (rule, file, node, property)"},
        {"write-baseline", true, "write every finding to this file as a baseline, then exit 0"},
        {"as", true, "check against what another era's (or release's) reader accepts", true}},
       cmd_validate},
      {"compat", "compat OLD NEW [--memory-old IMAGE] [--memory-new IMAGE] [--direction both|forward|backward] [--allow FILE] | compat --matrix [--markdown]",
       "list every change between two hand-overs, schema sets or ABI dumps (wire / ABI / additions), or the era matrix",
       {{"memory-old", true, "OLD is a hand-over's root FDT: its memory image (ELF core), to follow its clients"},
        {"memory-new", true, "NEW is a hand-over's root FDT: its memory image (ELF core), to follow its clients"},
        {"direction", true, "both (default), forward (new kernel reads old data) or backward (old reads new)"},
        {"allow", true, "compat-allow.yaml: intentional, reviewed changes (rule, compatible, path, reason)"},
        {"matrix", false, "the reader x writer matrix of every era, from the schemas and from running the model"},
        {"markdown", false, "with --matrix: print docs/compat-matrix.md"},
        {"W", true, "-W no-RULE disables RULE, -W RULE makes it a warning; repeatable"},
        {"E", true, "-E RULE makes RULE an error, -E no-RULE a warning; repeatable"}},
       cmd_compat},
      {"model", "model abi-dump --era ERA",
       "print the wire ABI an era's kernel writes, as JSON (an input of `compat`)",
       {{"era", true, "the era (or release) whose writer to describe", true}},
       cmd_model},
      {"schema", "schema lint [PATHS] | schema list",
       "meta-validate YAML schemas (ours by default, or files/directories such as the kernel's bindings)",
       {},
       cmd_schema},
      {"prove", "prove [--only PATTERN] [--era ERA] [--timeout S] [--dump-smt2 DIR] [--list] [--trace]",
       "run the Z3 proof obligations of spec/kho.md (documented hazards must come out refuted)",
       {{"only", true, "obligations whose name matches this glob (or contains this text)"},
        {"era", true, "obligations of this era (or release) only, plus era-independent ones", true},
        {"timeout", true, "seconds per solver query (default 60)"},
        {"dump-smt2", true, "write every query as DIR/NAME.smt2"},
        {"k", true, "memblock region slots in the symbolic state (default 2)"},
        {"bmc", true, "state-machine unrolling depth (default 6)"},
        {"jobs", true, "obligations run in parallel (default 2)"},
        {"no-lemmas", false, "do not also run the obligations the selected ones assume (their verdicts are not folded in)"},
        {"list", false, "list the obligations (name, era, kind, invariants) without running them"},
        {"trace", false, "print the generated docs/spec-trace.md"}},
       cmd_prove},
      {"rules", "rules [--markdown]",
       "list every rule (ID, level, family, summary); --markdown prints docs/rules.md",
       {{"markdown", false, "print the generated docs/rules.md"}},
       cmd_rules},
      {"vmtest", "vmtest [--kernel BZIMAGE [--next-kernel BZIMAGE]] [--tier] [--faults] [SCENARIO ...]",
       "boot real kernels under QEMU through a kexec chain and check every hand-over (guest, host, model); "
       "`khospec vmtest --help` lists scenarios and options",
       {},
       nullptr},
      {"kimage", "kimage IMAGE [--option NAME ...] [--config]",
       "what a kernel image says about its kernel: format, release, embedded .config (IKCONFIG), .liveupdate_* sections",
       {{"option", true, "show this config option (KEXEC_HANDOVER, CONFIG_LIVEUPDATE ...); repeatable; "
                         "default: the options KHO and LUO depend on"},
        {"config", false, "print the whole embedded .config"}},
       cmd_kimage},
      {"preflight",
       "preflight (--live out | FILE --memory IMAGE | --memory IMAGE --fdt-phys ADDR) "
       "(--kernel IMAGE | --release X.Y | --era ERA) [--cmdline \"...\"]",
       "before kexec -e: for everything this kernel preserved, will the next one revive, refuse, misread or drop it?",
       {{"kernel", true, "the next kernel's image (bzImage, Image[.gz], vmlinux): release, IKCONFIG, its compatibles"},
        {"release", true, "the next kernel's release (7.3, 6.19.3) when its image is not at hand"},
        {"era", true, "the next kernel's era (kho-v4 ...)"},
        {"cmdline", true, "the next kernel's command line, as kexec -s -l gets it (default: kho=on liveupdate=on "
                          "and A's reserve_mem names)"},
        {"memory", true, "this kernel's memory (ELF core: QEMU dump-guest-memory, /proc/kcore; or raw with --memory-base)"},
        {"memory-base", true, "physical address of a raw image's first byte"},
        {"fdt-phys", true, "physical address of the root FDT in --memory (no FILE)"},
        {"scratch", true, "this kernel's scratch areas: ADDR+SIZE[,..], PHYS_FILE:LEN_FILE, or a dir (debugfs kho/out)"},
        {"ram", true, "the machine's RAM for the model of the next kernel (default: what --memory reaches, >= 2G)"},
        {"live", true, "read the running kernel's out side (debugfs kho/out, /proc/kcore)"},
        {"root", true, "file system root for --live (a fake tree in tests; default /)"},
        {"kho-v1-bitmap", true, "kho-v1 bitmap size: auto (default), 512 (6.16/6.17) or page (6.18+)"}},
       cmd_preflight},
      {"eras", "eras [--markdown]",
       "list the KHO eras, the kernel releases that write them and the client formats of each release",
       {{"markdown", false, "print the generated docs/eras.md"}},
       cmd_eras},
  };
  return table;
}

namespace {

constexpr std::string_view kUsage =
    "usage: khospec [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "The formal, executable reference for Linux Kexec HandOver (KHO) and its conformance suite.\n"
    "\n"
    "Common options:\n"
    "  -h, --help            show this help (or `khospec COMMAND --help`)\n"
    "  -V, --version         print the version\n"
    "  -f, --format FMT      output format: text (default) or json\n"
    "  -o, --output FILE     write the report to FILE instead of stdout\n"
    "  -q, --quiet           print only errors (text mode)\n"
    "  -v, --verbose         also print info-level findings\n"
    "      --endian E        byte order of the producing CPU: little (default) or big\n"
    "      --max-size SIZE   refuse inputs above SIZE (default 64M; K/M/G suffixes)\n"
    "      --werror          warnings also give exit code 100\n"
    "      --exit-zero       report findings but exit 0\n"
    "\n"
    "Exit codes: 0 clean, 100 findings, 1 usage/IO/internal error.\n"
    "\n"
    "Commands:\n";

void print_usage(std::ostream& o) {
  o << kUsage;
  for (const auto& c : commands()) {
    o << "  " << c.name;
    for (std::size_t i = c.name.size(); i < 10; ++i) o << ' ';
    o << c.summary << '\n';
  }
  o << "\nRun `khospec COMMAND --help` for a command's options; docs/cli.md has the details.\n";
}

void print_command_help(std::ostream& o, const Command& c) {
  o << "usage: khospec [OPTIONS] " << c.synopsis << "\n\n" << c.summary << "\n";
  if (!c.options.empty()) {
    o << "\nOptions:\n";
    auto lhs_of = [](const OptionSpec& opt) {
      return (opt.name.size() == 1 ? "-" : "--") + std::string(opt.name) +
             (opt.era ? " ERA" : opt.takes_value ? " VALUE" : "");
    };
    // The help column: after the longest name (up to 26), two spaces at least.
    std::size_t col = 0;
    for (const auto& opt : c.options) col = std::max(col, std::min<std::size_t>(lhs_of(opt).size(), 26));
    col += 2;
    for (const auto& opt : c.options) {
      const std::string lhs = lhs_of(opt);
      o << "  " << lhs;
      if (lhs.size() + 2 > col) o << "\n" << std::string(col + 2, ' ');  // a long name gets its own line
      else o << std::string(col - lhs.size(), ' ');
      o << opt.help << '\n';
      if (opt.era) o << std::string(col + 2, ' ') << "ERA: " << registry::valid_names() << '\n';
    }
  }
  if (c.more_help) c.more_help(o);
  o << "\nCommon options: see `khospec --help`.\n";
}

const Command* find_command(std::string_view name) {
  for (const auto& c : commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// Common options that take a value (so their value is not mistaken for the command).
bool common_takes_value(std::string_view a) {
  return a == "-f" || a == "--format" || a == "-o" || a == "--output" || a == "--endian" ||
         a == "--max-size" || a == "-W" || a == "-E";
}

}  // namespace

void print_text_diagnostics(Context& ctx, const Report& report) {
  for (const auto& d : report.diagnostics()) {
    if (d.level == Level::info && ctx.opts.verbosity < 1) continue;
    if (d.level == Level::warning && ctx.opts.verbosity < 0) continue;
    render_text(ctx.err, d);
  }
}

int findings_exit_code(const Context& ctx, const Report& report) {
  if (ctx.opts.exit_zero) return exit_clean;
  return report.exit_code(ctx.opts.werror);
}

int usage_error(Context& ctx, std::string_view message) {
  ctx.err << "khospec: error: " << message << "\n";
  return exit_error;
}

std::optional<registry::Resolved> era_option(Context& ctx, std::string_view name, int& rc) {
  const std::string& v = ctx.opts.extra[std::string(name)];
  auto r = registry::resolve(v);
  if (!r) {
    rc = usage_error(ctx, "--" + std::string(name) + " '" + v + "' is not " + registry::valid_names());
    return std::nullopt;
  }
  if (r->release && ctx.opts.verbosity >= 0)
    ctx.err << "khospec: --" << name << " " << v << " is " << r->describe() << "\n";
  return r;
}

namespace {

// -f json / --format json / --format=json anywhere before "--".
bool wants_json(const std::vector<std::string>& argv) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--") break;
    if ((argv[i] == "-f" || argv[i] == "--format") && i + 1 < argv.size() && argv[i + 1] == "json") return true;
    if (argv[i] == "--format=json") return true;
  }
  return false;
}

int run_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err, std::istream& in,
                const std::vector<CommandOverride>& overrides, bool json);

}  // namespace

int run(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err, std::istream& in,
        const std::vector<CommandOverride>& overrides) {
  if (!wants_json(argv)) return run_command(argv, out, err, in, overrides, false);
  // Every path prints one JSON document: what failed before a command printed
  // its own gets the error envelope, carrying what went to stderr.
  TeeBuf tee(err.rdbuf());
  std::ostream err_tee(&tee);
  return run_command(argv, out, err_tee, in, overrides, true);
}

namespace {

// The command word of argv ("" when none), for the envelope.
std::string command_word(const std::vector<std::string>& argv) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--") break;
    if (common_takes_value(argv[i])) {
      ++i;
      continue;
    }
    if (!argv[i].empty() && argv[i][0] != '-') return argv[i];
  }
  return "";
}

int run_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err, std::istream& in,
                const std::vector<CommandOverride>& overrides, bool json) {
  auto* tee = json ? dynamic_cast<TeeBuf*>(err.rdbuf()) : nullptr;
  auto fail = [&](int rc, std::string_view kind, std::ostream& to) {
    if (tee) write_error_document(to, command_word(argv), kind, error_message(tee->text()));
    return rc;
  };
  // Pass 1: find the command word (the first bare argument).
  const Command* cmd = nullptr;
  std::size_t cmd_index = argv.size();
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") break;
    if (common_takes_value(a)) {
      ++i;
      continue;
    }
    if (a.empty() || a[0] != '-' || a == "-") {
      cmd = find_command(a);
      if (!cmd) {
        err << "khospec: error: unknown command '" << a << "'\n";
        print_usage(err);
        return fail(exit_error, "usage", out);
      }
      cmd_index = i;
      break;
    }
  }
  if (cmd && cmd->name == "vmtest") return exec_vmtest(argv, cmd_index, err);

  Options o;
  bool help = false;
  std::string bad;
  auto need_value = [&](std::size_t& i, const std::string& name, std::string& into) {
    if (i + 1 >= argv.size()) {
      bad = "option " + name + " needs a value";
      return false;
    }
    into = argv[++i];
    return true;
  };
  bool only_positionals = false;
  for (std::size_t i = 0; i < argv.size() && bad.empty(); ++i) {
    if (i == cmd_index) continue;
    std::string a = argv[i];
    if (only_positionals || a == "-" || a.empty() || a[0] != '-') {
      o.args.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positionals = true;
      continue;
    }
    std::string inline_value;
    bool has_inline = false;
    if (a.rfind("--", 0) == 0) {
      auto eq = a.find('=');
      if (eq != std::string::npos) {
        inline_value = a.substr(eq + 1);
        a = a.substr(0, eq);
        has_inline = true;
      }
    }
    auto value = [&](std::string& into) {
      if (has_inline) {
        into = inline_value;
        return true;
      }
      return need_value(i, a, into);
    };
    if (a == "-h" || a == "--help") {
      help = true;
    } else if (a == "-V" || a == "--version") {
      out << "khospec " << KHOSPEC_VERSION << "\n";
      return exit_clean;
    } else if (a == "-f" || a == "--format") {
      if (value(o.format) && o.format != "text" && o.format != "json")
        bad = "--format must be 'text' or 'json', not '" + o.format + "'";
    } else if (a == "-o" || a == "--output") {
      value(o.output);
    } else if (a == "-q" || a == "--quiet") {
      if (o.verbosity > 0) bad = "-q and -v contradict each other: give one";
      o.verbosity = -1;
    } else if (a == "-v" || a == "--verbose") {
      if (o.verbosity < 0) bad = "-q and -v contradict each other: give one";
      o.verbosity = 1;
    } else if (a == "--werror") {
      o.werror = true;
    } else if (a == "--exit-zero") {
      o.exit_zero = true;
    } else if (a == "--endian") {
      std::string e;
      if (value(e)) {
        if (e == "little") o.endian = fdt::Endian::little;
        else if (e == "big") o.endian = fdt::Endian::big;
        else bad = "--endian must be 'little' or 'big', not '" + e + "'";
      }
    } else if (a == "--max-size") {
      std::string v;
      if (value(v)) {
        auto n = parse_size(v);
        if (!n || *n == 0) bad = "--max-size: '" + v + "' is not a size (e.g. 4096, 64K, 16M)";
        else o.max_size = static_cast<std::size_t>(*n);
      }
    } else {
      const OptionSpec* spec = nullptr;
      if (cmd && a.rfind("--", 0) == 0) {
        for (const auto& s : cmd->options) {
          if (s.name.size() > 1 && s.name == std::string_view(a).substr(2)) spec = &s;
        }
      } else if (cmd && a.size() >= 2 && a[0] == '-') {
        // One-letter command options (-W RULE, -E RULE; also attached: -Wno-RULE).
        for (const auto& s : cmd->options) {
          if (s.name.size() == 1 && s.name[0] == a[1]) spec = &s;
        }
        if (spec && a.size() > 2 && spec->takes_value) {
          inline_value = a.substr(2);
          has_inline = true;
        } else if (spec && a.size() > 2) {
          spec = nullptr;
        }
      }
      if (!spec) {
        bad = "unknown option '" + a + "'" + (cmd ? " for '" + std::string(cmd->name) + "'" : "");
      } else if (spec->takes_value) {
        std::string v;
        if (value(v)) {
          o.extra[std::string(spec->name)] = v;
          o.multi[std::string(spec->name)].push_back(v);
        }
      } else if (has_inline) {
        bad = "option " + a + " takes no value";
      } else {
        o.extra[std::string(spec->name)] = "1";
      }
    }
  }
  if (bad.empty() && o.werror && o.exit_zero)
    bad = "--werror and --exit-zero contradict each other (warnings as findings, findings never fail): give one";
  if (!bad.empty()) {
    err << "khospec: error: " << bad << "\n";
    err << "Try 'khospec --help'.\n";
    return fail(exit_error, "usage", out);
  }
  if (help) {
    if (cmd) print_command_help(out, *cmd);
    else print_usage(out);
    return exit_clean;
  }
  if (!cmd) {
    err << "khospec: error: no command given\n";
    print_usage(err);
    return fail(exit_error, "usage", out);
  }

  std::ofstream file;
  std::ostream* dest = &out;
  if (!o.output.empty() && o.output != "-") {
    file.open(o.output, std::ios::binary | std::ios::trunc);
    if (!file) {
      err << "khospec: error: cannot write '" << o.output << "'\n";
      return fail(exit_error, "input", out);
    }
    dest = &file;
  }
  CountingBuf counted(dest->rdbuf());
  std::ostream counted_out(&counted);
  if (json) dest = &counted_out;
  Context ctx{std::move(o), *dest, err, in};
  int (*impl)(Context&) = cmd->run;
  for (const auto& ov : overrides)
    if (ov.name == cmd->name) impl = ov.run;
  int rc = exit_error;
  try {
    rc = impl(ctx);
  } catch (const std::exception& e) {
    // Commands report bad input as findings; anything escaping is our bug.
    err << "khospec: internal error: " << e.what() << "\n";
    return counted.written() ? exit_error : fail(exit_error, "internal", *dest);
  }
  if (rc == exit_error && json && !counted.written()) fail(rc, "error", *dest);
  dest->flush();
  if (!*dest) {
    err << "khospec: error: writing the output failed\n";
    return exit_error;
  }
  return rc;
}

}  // namespace

}  // namespace khospec::cli
