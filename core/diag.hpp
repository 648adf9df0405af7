// khospec diagnostics: one finding format shared by every layer (FDT reader,
// validator, compat checker, corpus runner), rendered as dtc-style text or JSON.
//
//   FILE@0xOFFSET: level (rule): /node:prop: message
//   	hint: ...
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace khospec {

// Process exit codes (docs/cli.md "Exit codes", buf's convention).
enum ExitCode : int {
  exit_clean = 0,      // no findings at or above the threshold
  exit_error = 1,      // usage, I/O or internal error
  exit_findings = 100  // findings
};

enum class Level { info, warning, error };

std::string_view level_name(Level level);

struct Diagnostic {
  std::string rule;                // rule ID: fdt_*, kho_*, schema_*, compat_*
  Level level = Level::error;
  std::string file;                // display name of the input ("-" for stdin)
  std::optional<std::uint64_t> offset;  // byte offset inside the blob, if known
  std::string node;                // node path ("/memblock"), empty if none
  std::string property;            // property name, empty if none
  std::string message;
  std::vector<std::string> hints;
  std::string type = "kho";        // "decode" for container-level findings
  // The rule of the finding this one follows from ("kho_reader_misreads": what
  // validate --as ERA's reader trips over once it misreads); "" when its own.
  std::string derived_from{};
};

// An ordered list of findings plus the exit-code policy.
class Report {
 public:
  Diagnostic& add(Diagnostic d);
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }
  std::size_t count(Level level) const;
  bool has(std::string_view rule) const;
  bool empty() const { return diags_.empty(); }
  void append(const Report& other);
  // 100 if any finding is at or above the threshold (error, or warning with werror).
  int exit_code(bool werror = false) const;

 private:
  std::vector<Diagnostic> diags_;
};

// Verdicts first: a finding others derive from (same file, derived_from = its
// rule), each followed by what derives from it, then the rest in their order.
std::vector<Diagnostic> verdicts_first(const std::vector<Diagnostic>& diags);

// dtc-style text: one line, then one indented "hint:" line per hint.
void render_text(std::ostream& out, const Diagnostic& d);
class JsonWriter;
// One JSON object with the keys docs/cli.md shows.
void write_json(JsonWriter& w, const Diagnostic& d);
// `"diagnostics": [ ... ]` of a report: the key every JSON document of khospec ends with.
void write_json_diagnostics(JsonWriter& w, const std::vector<Diagnostic>& diags);

}  // namespace khospec
