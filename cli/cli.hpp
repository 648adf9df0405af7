// The `khospec` command-line frame: common options, the command table and
// the exit-code policy (0 clean, 100 findings, 1 usage/IO/internal error).
#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag.hpp"
#include "fdt/decode.hpp"
#include "registry/era.hpp"

namespace khospec::cli {

struct OptionSpec {
  std::string_view name;   // long name without dashes ("offsets")
  bool takes_value;
  std::string_view help;
  bool era = false;        // takes an era or a release (help lists the registry's names)
};

struct Options {
  std::string format = "text";   // -f/--format text|json
  std::string output;            // -o FILE ("" = stdout)
  int verbosity = 0;             // -q: -1, -v: +1
  bool werror = false;           // warnings count as findings for the exit code
  bool exit_zero = false;        // findings never change the exit code
  fdt::Endian endian = fdt::Endian::little;
  std::size_t max_size = 64u << 20;
  std::vector<std::string> args;              // positionals after the command
  std::map<std::string, std::string> extra;   // command-specific options (last value wins)
  std::map<std::string, std::vector<std::string>> multi;  // every value of a repeatable option (-W, -E)
  bool json() const { return format == "json"; }
};

struct Context {
  Options opts;
  std::ostream& out;  // report/tree output (stdout or -o FILE)
  std::ostream& err;  // text diagnostics and errors
  std::istream& in;   // "-" inputs
};

struct Command {
  std::string_view name;
  std::string_view synopsis;
  std::string_view summary;
  std::vector<OptionSpec> options;
  int (*run)(Context&);
  void (*more_help)(std::ostream&) = nullptr;  // what --help adds after the options
};

// The command table (defined in main.cpp next to the commands it lists).
const std::vector<Command>& commands();

// A command run by other code than the table's: khospec-prove (and the
// Python module) run `prove` in their own process with
// {"prove", cmd_prove_in_process}; options and help stay the table's.
struct CommandOverride {
  std::string_view name;
  int (*run)(Context&);
};

// Entry point, testable without a process: argv without the program name.
int run(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err, std::istream& in,
        const std::vector<CommandOverride>& overrides = {});

// Shared by commands: print diagnostics as text (stderr) honouring -q/-v, and
// compute the exit code under --werror / --exit-zero.
void print_text_diagnostics(Context& ctx, const Report& report);
int findings_exit_code(const Context& ctx, const Report& report);
// "khospec: error: ..." on stderr; returns exit_error.
int usage_error(Context& ctx, std::string_view message);
// The era or release given to --NAME (registry::resolve), or nullopt after a
// usage error (rc = exit_error). A release is shown resolved on stderr
// ("--era 7.3 is kho-v4 (release 7.3)") unless -q.
std::optional<registry::Resolved> era_option(Context& ctx, std::string_view name, int& rc);

// Commands (one file each).
int cmd_dump(Context& ctx);
int cmd_corpus(Context& ctx);
int cmd_demo(Context& ctx);
int cmd_memblock(Context& ctx);
void memblock_help(std::ostream& o);  // the trace calls, for `memblock replay --help`
int cmd_simulate(Context& ctx);
int cmd_validate(Context& ctx);
int cmd_schema(Context& ctx);
int cmd_rules(Context& ctx);
int cmd_eras(Context& ctx);
int cmd_kimage(Context& ctx);
int cmd_preflight(Context& ctx);
// spec/'s Z3 proof obligations: cmd_prove runs the program khospec-prove
// (cmd_prove.cpp); cmd_prove_in_process runs them here and is defined in the
// library khospec_cli_prove (cmd_prove_in_process.cpp), which links Z3.
int cmd_prove(Context& ctx);
int cmd_prove_in_process(Context& ctx);
int cmd_compat(Context& ctx);
int cmd_model(Context& ctx);
// `khospec vmtest ARGS`: runs the Python harness vmtest/khospec_vmtest with the
// arguments after the command word (argv[cmd_index]); returns only on failure.
int exec_vmtest(const std::vector<std::string>& argv, std::size_t cmd_index, std::ostream& err);
// `dump --memory`: dump plus the decoded preserved-memory map (cmd_validate.cpp).
int dump_with_memory(Context& ctx);

}  // namespace khospec::cli
