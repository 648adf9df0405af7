// A normalized, machine-readable description of KHO wire formats: what the
// compatibility checker compares (docs/compat.md; after QEMU's -dump-vmstate /
// vmstate-static-checker pair and dt-schema cmp_schema).
//
// Two producers build it: the YAML schemas (conformance/compat/abi.cpp reads
// schemas/ into it) and the model (`khospec model abi-dump --era ERA`,
// model/kho/abi_dump.cpp: what a kernel of that era writes). It is written and
// read back as JSON, so ABI dumps can be checked in and compared later.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace khospec {
class JsonWriter;
}

namespace khospec::abi {

// Constraints shared by FDT properties and layout fields.
struct Value {
  std::string type;                      // wire type: u32, u64, phys_addr, string, string-list, bytes, struct...
  std::optional<std::uint64_t> len;      // fixed byte length (nullopt: variable, e.g. strings)
  std::vector<std::string> values;       // const / enum, rendered as strings (empty: any value)
  std::optional<std::uint64_t> minimum, maximum, multiple_of;
  // What a pointer value addresses: layout names, "fdt" (a sub-FDT) or
  // "blob" (any preserved blob). Several entries: the reader accepts either.
  std::vector<std::string> points_to;
};

struct Prop {
  std::string name;
  Value value;
  bool required = false;
  bool deprecated = false;
  std::string description;
};

struct Node {
  std::string name;          // "/" (root), a fixed child name, or a regex (pattern)
  bool pattern = false;      // a patternProperties child
  bool required = false;
  bool additional = true;    // additionalProperties (false: validators reject unknown names)
  bool deprecated = false;
  std::vector<Prop> props;
  std::vector<Node> children;
  std::string description;
};

struct Field {
  std::string name;
  std::uint64_t offset = 0, size = 0, count = 1;
  Value value;               // value.type "struct" + layout: an inline packed struct
  std::string layout;        // inline struct layout name ("" if none)
  unsigned bit_lsb = 0, bit_width = 0;  // a C bit-field of the unit (width 0: the whole field)
};

struct Layout {
  std::string name;
  std::uint64_t size = 0;
  std::vector<Field> fields;
  std::string title;
  bool builtin = false;      // not part of the input itself (resolved from the built-in schemas)
};

// One compatible string's format: a root FDT or a client sub-FDT.
struct Format {
  std::string compatible;    // the `select:` / root compatible ("kho-v1")
  std::string kind;          // "root" (the KHO root FDT) or "client"
  std::string id;            // schema $id ("" for model dumps)
  std::string status;        // "released", "proposed", "model"
  std::string title;
  std::string source;        // file or era it came from
  Node root;
};

struct AbiSet {
  std::string origin;        // display name of the input ("schemas/kho/kho-v1.yaml", "model:v6.16")
  std::string era;           // model dumps: the era ("" for schemas)
  std::vector<Format> formats;
  std::vector<Layout> layouts;

  const Format* format(const std::string& compatible) const;
  const Layout* layout(const std::string& name) const;
};

// Fixed byte length of a wire type (nullopt for variable-length types).
std::optional<std::uint64_t> type_len(const std::string& type);

// The JSON form (`khospec model abi-dump`), {"abi_dump_version": 1, ...}.
void write_json(JsonWriter& w, const AbiSet& set);

}  // namespace khospec::abi
