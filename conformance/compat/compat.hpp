// The schema compatibility checker (`khospec compat OLD NEW`): compares two
// ABI descriptions (schemas or model ABI dumps, core/abi.hpp) and reports
// every change as a named compat_* finding in one of three categories
// (docs/compat.md, after buf's categories and dt-schema cmp_schema):
//
//   wire      an old blob can no longer be read by the new reader (forward)
//             or a new blob by the old reader (backward): error
//   abi       observable but not wire-breaking in the checked direction: warning
//   addition  a compatible addition: info
//
// Readers are modelled as the kernel reads KHO FDTs: by property name,
// ignoring unknown properties and nodes (fdt_getprop / fdt_subnode_offset),
// checking the root compatible first (kho_populate()). A wire change that
// kept the compatible is compat_break_without_version_bump, the rule the
// KHO ABI headers state ("any change ... requires incrementing
// KHO_FDT_COMPATIBLE", docs/kernel-abi.md §7).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/abi.hpp"
#include "core/diag.hpp"

namespace khospec::conformance {

enum class Direction {
  both,      // report breaks in either direction as wire (the default)
  forward,   // new kernel reads old data (upgrade)
  backward,  // old kernel reads new data (rollback)
};
std::optional<Direction> parse_direction(std::string_view s);
std::string_view direction_name(Direction d);

// compat-allow.yaml: intentional, reviewed changes.
//   allow:
//     - rule: compat_break_without_version_bump   # required
//       compatible: kho-v1                         # optional: the old or new compatible
//       path: /preserved-memory-map               # optional: prefix of "node:prop"
//       reason: "..."                              # required, non-empty
struct AllowEntry {
  std::string rule, compatible, path, reason;
  int line = 0;
};
struct AllowList {
  std::string file;
  std::vector<AllowEntry> entries;
};
// Returns false and sets `error` ("FILE:LINE: entry 2: ... (fix: ...)") on a malformed list.
bool parse_allow_list(const std::string& text, const std::string& file, AllowList& out, std::string& error);

struct CompatOptions {
  Direction direction = Direction::both;
  const AllowList* allow = nullptr;
  // Memory images (ELF cores) of hand-over inputs, old and new ("" none):
  // the clients behind each root are followed (conformance/compat/handover_abi.hpp).
  std::string old_memory, new_memory;
};

// One change between OLD and NEW, classified.
struct CompatChange {
  Diagnostic diag;          // rule, level, node, property, message; type = category (wire|abi|addition)
  bool breaks_forward = false;
  bool breaks_backward = false;
  std::string effect;       // for a breaking change: what the reader does, "refuse" or "misread"
  std::string old_compatible, new_compatible;
};

struct AllowedChange {
  CompatChange change;
  std::string reason;
};

struct CompatResult {
  std::vector<CompatChange> changes;   // what remains after the allow-list, in report order
  std::vector<AllowedChange> allowed;  // suppressed by the allow-list
  Report report;                       // the diagnostics of `changes` (+ compat_allow_unused)
  int wire_count() const;
};

CompatResult compat_check(const abi::AbiSet& old_set, const abi::AbiSet& new_set, const CompatOptions& opts);

// Loads OLD and NEW (schema file, schema directory or ABI dump, or a hand-over's
// root FDT with opts.old_memory / new_memory; conformance/compat/inputs.hpp) and
// compares them. Both must be hand-overs, or both schema-side inputs. nullopt when
// an input cannot be used; its findings (compat_input_invalid, schema_yaml_error)
// are in `load`, every message saying what was given and what to run instead.
std::optional<CompatResult> compat_check_paths(const std::string& old_path, const std::string& new_path,
                                               const CompatOptions& opts, Report& load);

// The category names in report order, with one line each.
const std::vector<std::pair<std::string_view, std::string_view>>& compat_categories();

}  // namespace khospec::conformance
