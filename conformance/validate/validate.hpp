// The conformance validator: one hand-over blob (plus an optional memory image
// and scratch list) -> findings, in the order
//   container checks -> typed decoding -> ABI detection -> schema checks ->
//   cross-reference checks (memory map, sub-blobs, scratch, client formats).
// A failed stage suppresses the rules that list it as a prerequisite
// (core/rules.cpp), so one broken header is one finding.
//
// With an image, every client behind the root is followed and checked
// (Validation::handover, conformance/handover/); a client blob given on its own
// (7.x debugfs sub_fdts/LUO, kexec-metadata) is recognised by name and content
// and checked as what it is.
//
// This is also the hook for model tests: the KHO lifecycle model can hand
// validate() the FDT bytes and a MemoryImage built from its own memory and
// compare Validation::map->blocks with its preserved set.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "conformance/handover/handover.hpp"
#include "conformance/image/image.hpp"
#include "fdt/inspect.hpp"
#include "conformance/memmap/memmap.hpp"
#include "conformance/schema/schema.hpp"
#include "core/diag.hpp"
#include "registry/era.hpp"

namespace khospec::conformance {

struct ScratchArea {
  std::uint64_t addr = 0;
  std::uint64_t size = 0;
};

// --scratch ARG: "ADDR+SIZE[,ADDR+SIZE...]", "PHYS_FILE:LEN_FILE" (debugfs
// scratch_phys / scratch_len: one 0x value per line), or a directory holding
// scratch_phys + scratch_len (debugfs kho/out) or out_scratch_phys.txt +
// out_scratch_len.txt (the captures). Returns false and sets `error` otherwise.
bool parse_scratch(const std::string& arg, std::vector<ScratchArea>& out, std::string& error);
// Parses the text of a scratch_phys / scratch_len pair.
bool parse_scratch_files(const std::string& phys_text, const std::string& len_text, std::vector<ScratchArea>& out,
                         std::string& error);

// The known formats a root compatible (plus the properties present) selects.
// Returns "" when nothing matches.
std::string detect_abi(const fdt::Tree& tree);
// Every ABI name --abi accepts (besides "auto").
const std::vector<std::string>& known_abis();

// `validate --as ERA|RELEASE`: what that kernel's kho_populate() accepts,
// read from the era registry.
struct ReaderProfile {
  std::string era;           // as resolved, for messages: "v6.18", "kho-v4 (release 7.3)"
  std::string compatible;    // the only root compatible kho_populate() accepts
  BitmapSize v1_bitmap = BitmapSize::automatic;  // kho-v1: the bitmap size the reader assumes
  bool requires_map = false;  // preserved-memory-map must be non-zero
};

// nullopt when `name` is neither an era nor a release (registry::valid_names()).
std::optional<ReaderProfile> reader_profile(std::string_view name);

struct ValidateOptions {
  fdt::ReadOptions read;
  fdt::Endian endian = fdt::Endian::little;
  std::string abi = "auto";  // or one of known_abis()
  MapOptions map;
  std::optional<std::vector<ScratchArea>> scratch;
  std::optional<std::uint64_t> fdt_phys;  // where the root FDT sits (else searched in small images)
  const SchemaSet* schemas = nullptr;     // nullptr: the built-in schemas
  bool follow_blobs = true;               // with an image: validate the sub-blobs too
  std::optional<ReaderProfile> as_reader; // check against another era's reader (kho_reader_*)
  std::string release;                    // the writer's release (uname -r): kexec-metadata names it
  std::size_t max_nodes = 1u << 17;       // nodes the followed hand-over keeps (the rest are counted)
};

struct SubBlob {
  std::string node;                      // "/memblock"
  std::uint64_t phys = 0;
  std::optional<std::uint64_t> size;     // blob-size, or the FDT totalsize
  std::string abi;                       // detected format of the blob, "" if unknown / not read
  bool in_image = false;
  std::optional<bool> preserved;         // nullopt when not checked
};

struct Validation {
  Validation() = default;
  // Move-only: `flat` views `blob`'s storage, which a move keeps and a copy would not.
  Validation(const Validation&) = delete;
  Validation& operator=(const Validation&) = delete;
  Validation(Validation&&) = default;
  Validation& operator=(Validation&&) = default;

  fdt::Blob blob;         // the checked copy of the input (ok() when the container checks passed)
  fdt::FlatTree flat;     // the typed decode, read in place (views into `blob`); empty when !blob.ok()
  // The owning decoded tree (`khospec dump`, Python), built from `flat` on first
  // call: validate() itself never needs it. Empty root when !blob.ok(). Not safe
  // to call for the first time from two threads at once on the same Validation.
  const fdt::Tree& tree() const;

  std::string abi;        // the format validated against ("" when unknown)
  std::string schema_id;  // its schema's $id
  std::optional<MapDecode> map;           // with an image and a decodable map
  std::optional<std::uint64_t> fdt_phys;  // where the root FDT was found in the image
  std::vector<SubBlob> subs;
  // Set when the root's pointers read as no kernel can hold them (above 52
  // bits, outside the image) but sanely in the other byte order: names the
  // --endian to try. Also added as a hint to this file's findings.
  std::string endian_hint;
  // The followed hand-over (conformance/handover/handover.hpp): a root with an
  // image, or a client blob given on its own (then `abi` is its format label and
  // `blob` is not ok()).
  std::optional<Handover> handover;

 private:
  mutable std::shared_ptr<const fdt::Tree> tree_;
};

Validation validate(std::span<const std::uint8_t> bytes, const MemoryImage* image, const ValidateOptions& opts,
                    Report& report);

// Applies the validate options found in `args` (a corpus source's `# ARGS:`
// line): --endian, --abi, --memory-base, --scratch, --fdt-phys, --kho-v1-bitmap, --map-limit, --release
// (VALUE as the next word or after '='). Returns false and sets `error` for
// anything else.
bool apply_validate_args(const std::vector<std::string>& args, ValidateOptions& opts,
                         std::optional<std::uint64_t>& memory_base, std::string& error);

}  // namespace khospec::conformance
