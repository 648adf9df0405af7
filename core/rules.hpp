// The rule registry: every finding khospec can emit, declared once (dtc's
// checks.c CHECK_ENTRY / WARNING / ERROR shape).
//
// A rule has an ID (fdt_*, kho_*, schema_*), a default level, a family (the
// stage that fires it), prerequisites (rules or "family:*" groups whose
// findings suppress it, so one broken header gives one finding), a summary,
// a hint, the kernel function or header it mirrors, an example (the corpus or
// schema-test file that fires it) and a fix. docs/rules.md is generated from
// this table (`khospec rules -f markdown`), and tests check that every rule's
// example exists and fires exactly it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag.hpp"

namespace khospec {

struct Rule {
  std::string_view id;
  Level level;
  std::string_view family;  // container, value, abi, schema, image, map, xref, scratch, client, live, lint
  std::vector<std::string_view> prereqs;  // rule IDs or "family:NAME" (any error of that family)
  std::string_view summary;
  std::string_view hint;
  std::string_view kernel;   // kernel function / header the rule mirrors ("" if none)
  std::string_view example;  // file that fires it, relative to the repository
  std::string_view fix;
  std::string_view reason = {};  // why this level: the consequence (core/rule_reasons.cpp)
};

// Every rule, in documentation order (families in pipeline order).
const std::vector<Rule>& rules();
// Why a rule has its level (core/rule_reasons.cpp): "" when none is recorded.
std::string_view rule_reason(std::string_view id, std::string_view family, Level level);
// nullptr when `id` is not registered.
const Rule* find_rule(std::string_view id);
// The registered default level (Level::error for an unregistered ID).
Level rule_level(std::string_view id);
// The families, in pipeline order, with a one-line description each.
const std::vector<std::pair<std::string_view, std::string_view>>& rule_families();

// A finding of `rule` with the registry's level; the registry's hint is added
// after `hints`. Every stage builds its findings with this.
Diagnostic make_finding(std::string_view rule, std::string file, std::optional<std::uint64_t> offset,
                        std::string node, std::string property, std::string message, std::string type,
                        std::vector<std::string> hints = {});

// "0x1f5000": addresses and sizes in messages.
std::string hex_u64(std::uint64_t v);

// True when a prerequisite of `id` fired (at error level) in `fired`:
// the check for `id` must not run.
bool prereq_failed(std::string_view id, const Report& fired);

// -W/-E/--baseline: per-invocation rule control, applied to a finished report.
class RuleConfig {
 public:
  // "-W no-RULE" disables RULE, "-W RULE" enables it as a warning, "-E RULE"
  // makes it an error, "-E no-RULE" demotes an error to a warning. RULE may be
  // a family glob ("map:*"). Returns false and sets `error` for an unknown rule.
  bool apply_w(std::string_view arg, std::string& error);
  bool apply_e(std::string_view arg, std::string& error);
  // Baseline file: one accepted finding per line,
  // "rule<TAB>file<TAB>node<TAB>property[<TAB>fnv1a64:HASH]" ('#' comments), at
  // most kMaxBaseline of them. Returns false and sets `error` on I/O or syntax
  // errors.
  static constexpr std::size_t kMaxBaseline = 100000;
  bool load_baseline(const std::string& path, std::string& error);
  // The bytes behind a finding's file name, hashed for the baseline's content match.
  void add_input(const std::string& name, std::span<const std::uint8_t> bytes);
  // The report with disabled rules and baselined findings removed and levels
  // overridden. A baseline line accepts a finding with the same rule, node and
  // property whose file is the line's file (as written; or the same file once
  // both are made absolute, the line's against the baseline's directory), or
  // whose input has the line's content hash.
  Report filter(const Report& in) const;
  // Writes a baseline accepting every finding of `report`: files relative to
  // the baseline's directory, plus the content hash of inputs given to add_input().
  bool write_baseline(const std::string& path, const Report& report, std::string& error) const;

 private:
  bool set(std::string_view arg, bool is_error, std::string& error);
  std::set<std::string> disabled_;
  std::map<std::string, Level> level_;
  struct Accepted {
    std::string rule, file, node, property;
    std::string resolved;  // file made absolute against the baseline's directory
    std::string hash;      // "fnv1a64:..." or ""
  };
  bool accepts(const Accepted& a, const Diagnostic& d) const;
  std::vector<Accepted> baseline_;
  std::map<std::string, std::string> hashes_;  // input name -> content hash
};

}  // namespace khospec
