// Reading ABI descriptions (core/abi.hpp) for the compatibility checker:
// from YAML schemas (schemas/, a directory or one file) and from the JSON
// ABI dumps `khospec model abi-dump` writes (parsed with yaml-cpp: JSON is
// YAML flow syntax).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conformance/schema/schema.hpp"
#include "core/abi.hpp"

namespace khospec::conformance {

// The formats (schemas with `select:`) of the docs whose path is listed in
// `format_paths` (all docs when empty) and every layout of `set`; node $refs
// to other schemas are inlined. $refs and layouts `set` does not hold resolve
// against the built-in schemas (parsed file by file as they are reached): the
// built-in layouts the formats and layouts reach are listed too (`builtin`).
// At most kMaxAbiNodes nodes are read (the built-in schemas stay below it, a test
// checks): `exhausted`, when given, says whether the schemas had more, which takes
// nested $refs to an enclosing schema or YAML aliases fanning out at every level.
inline constexpr std::size_t kMaxAbiNodes = 4096;
abi::AbiSet abi_from_schemas(const SchemaSet& set, const std::vector<std::string>& format_paths,
                             std::string origin, bool* exhausted = nullptr);

// Parses an ABI dump (at most 256 KiB); returns nullopt and sets `error` ("formats[2].root: ...").
std::optional<abi::AbiSet> abi_from_json(const std::string& text, const std::string& origin, std::string& error);

// Loads a compat input: a .json ABI dump, a schema directory or one schema
// file (layouts and $refs resolve against the input first, then the built-in
// schemas). Load problems (YAML errors, unreadable files) go to `report`;
// returns nullopt when the input cannot be used.
std::optional<abi::AbiSet> load_abi_input(const std::string& path, Report& report);

}  // namespace khospec::conformance
