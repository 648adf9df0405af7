// What a `khospec compat` input is, decided from its bytes before any parser
// sees them (so a binary file never reaches the YAML parser), and the one
// entry point that loads either kind of input into an ABI description:
// schema files, schema directories and ABI dumps (abi.hpp), or real
// hand-overs, a root FDT with an optional memory image (handover_abi.hpp).
#pragma once

#include <optional>
#include <string>

#include "core/abi.hpp"
#include "core/diag.hpp"

namespace khospec::conformance {

enum class InputKind {
  missing,        // no such file or directory
  schema_dir,     // a directory holding .yaml schemas
  debugfs_dir,    // a KHO debugfs directory (kho/out, kho/in): holds `fdt`
  other_dir,      // a directory that is neither
  yaml_schema,    // a text file that is not JSON
  json_dump,      // a JSON document (`khospec model abi-dump`)
  kho_root,       // an FDT whose root is a KHO root (kho-v1 .. kho-v4, RFC layouts)
  client_fdt,     // an FDT that is no KHO root (a client sub-FDT, or another FDT)
  client_blob,    // a KHO client's packed struct (luo_ser, kexec-metadata)
  elf_core,       // an ELF core file: a memory image
  elf_other,      // another ELF file (a vmlinux)
  kernel_image,   // an x86 bzImage or arm64 Image
  binary,         // other binary data
  unreadable,     // exists but cannot be read
};

struct SniffedInput {
  InputKind kind = InputKind::missing;
  std::string what;  // "a KHO root FDT (kho-v4)", "an ELF core file (a memory image)"
};

SniffedInput sniff_compat_input(const std::string& path);

// True for the kinds compat reads as a schema-side input (schema files,
// schema directories, ABI dumps).
bool is_schema_side(InputKind k);

// `s` with every byte outside printable ASCII written as \xNN: a file name or
// parser message never puts a raw control byte on the terminal.
std::string escape_nonprintable(const std::string& s);

// Loads one compat input: a hand-over (`memory` optional: an ELF core) or a
// schema-side input (`memory` must be empty). `option` names the memory
// option in messages ("--memory-old"). Wrong inputs are compat_input_invalid
// findings in `report` that say what was given and what to run instead.
std::optional<abi::AbiSet> load_compat_input(const std::string& path, const std::string& memory,
                                             const std::string& option, Report& report);

}  // namespace khospec::conformance
