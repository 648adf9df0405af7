// The one registry of KHO eras, kernel releases and client formats: data only.
//
// An era is a KHO core format (root compatible, memory map, finalize model)
// together with the kernel behaviours that came with it; a release is a
// mainline kernel version, which writes exactly one era plus the client
// formats of its time. Everything that names an era or a release (the model's
// traits, the validator's reader table, CLI and Python argument checks, the
// compat-matrix axes, the generated docs/eras.md) reads this registry; code
// asks a field, never compares an era's name. Sources for each fact are in
// docs/eras.md (generated from here) and docs/kernel-behaviour.md.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace khospec::registry {

enum class EraId { v6_16, v6_18, v6_19, kho_v2, kho_v3, kho_v4 };

// How the outgoing kernel records preserved memory (the root's
// preserved-memory-map points at it).
enum class MemMapFormat {
  bitmap512,    // khoser_mem_chunk lists of 512-byte bitmaps (PRESERVE_BITS 512 * 8)
  bitmap_page,  // the same chunk lists, bitmaps of PAGE_SIZE bytes
  radix,        // struct kho_radix_node / kho_radix_leaf pages, 6 levels for 4 KiB pages
};

// How the outgoing kernel decides what the next kernel gets.
enum class FinalizeModel {
  notifier_abort,  // debugfs finalize 1/0, FINALIZE/ABORT notifier chain
  refresh,         // in-kernel kho_finalize() re-serializes; writing 0 -> -EINVAL
  none,            // stateless: the live state is the hand-over
};

struct Era {
  EraId id;
  std::string_view name;            // "v6.16", "kho-v4"
  std::string_view first_release;   // "" when no mainline release writes it
  std::string_view last_release;
  std::string_view not_shipped;     // why no release writes it ("" when one does)

  // ---- wire format ----
  std::string_view compatible;      // root compatible written and required
  std::string_view subtree_prop;    // child pointer: "fdt" or "preserved-data"
  bool blob_size;                   // children carry "blob-size"
  MemMapFormat mem_map;

  // ---- behaviour ----
  FinalizeModel finalize;
  bool root_fdt_at_boot;            // root FDT built at kho_init, edited with fdt_rw
  bool busy_when_finalized;         // preserve -> -EBUSY after finalize
  bool fill_kimage_needs_finalized; // no KHO data in the kexec image unless finalized
  bool populate_needs_map;          // kho_populate(): preserved-memory-map must be non-zero
  bool scratch_zero_rejected;       // kho_scratch=: any zero component is -EINVAL
  bool scratch_full_parse;          // kho_scratch=: trailing characters -EINVAL, total non-zero
  bool scratch_round_explicit;      // explicit lowmem/global sizes rounded to pageblocks too
  bool scratch_memory_nodes;        // one area per node with memory (not per online node)
  bool page_magic;                  // page->private = {order, "KHOP"}; restore checks it
  bool restore_once;                // page->private cleared on restore
  bool preserve_pages;              // kho_preserve_pages (else kho_preserve_phys)
  bool vmalloc;                     // kho_preserve_vmalloc
  bool unpreserve_api;              // kho_unpreserve_*
  bool alloc_preserve;              // kho_alloc_preserve
  bool debug_scratch_check;         // CONFIG_KEXEC_HANDOVER_DEBUG can WARN -> -EINVAL
  bool unpreserve_hangs;            // __kho_unpreserve() loops without advancing
  bool kexec_metadata;              // the model registers kexec-metadata (see docs/eras.md)
  bool kho_block;                   // linked kho_block serialization available
  bool luo;                         // Live Update Orchestrator exists
  std::string_view kho_init_stage;  // "late_initcall" or "fs_initcall"
  std::string_view populate_ok_msg; // what kho_populate() logs on success

  // Bytes of one bitmap of the memory map (0 for the radix tree).
  std::uint64_t bitmap_bytes() const;
  bool stateless() const { return finalize == FinalizeModel::none; }
};

// Where a release keeps its KHO files under debugfs (and what it calls them).
struct DebugfsLayout {
  std::string_view scratch_phys;    // out/ file with the scratch (boot memory) addresses
  std::string_view scratch_len;
  bool finalize_file;               // out/finalize exists
  bool out_fdt_sized_at_init;       // out/fdt keeps kho_init()'s size; absent on a KHO boot
};

struct Release {
  std::string_view version;         // "6.16", "7.4-rc1"
  EraId era;
  DebugfsLayout debugfs;
  std::string_view scratch_param;   // "kho_scratch" or "kho_bootmem"
};

// A KHO client's blob format, and the releases that write (and read) it.
enum class BlobKind { fdt, raw };
struct ClientFormat {
  std::string_view family;          // "memblock", "kho_test", "luo", "memfd", "kexec-metadata"
  std::string_view node;            // the root FDT child it hangs from ("" for a LUO file)
  std::string_view compatible;      // the string its reader checks ("" when it checks a version field)
  BlobKind kind;
  std::string_view first_release;
  std::string_view last_release;    // "" while current
  std::uint32_t struct_version = 0; // the version field its reader checks (compatible "")

  // "memfd-v2", or "kexec-metadata version 1" for a struct without a string.
  std::string label() const;
};

std::span<const Era> eras();
std::span<const EraId> era_ids();  // the same eras, as ids
std::span<const Release> releases();
std::span<const ClientFormat> client_formats();
const Era& era(EraId id);
std::string_view era_name(EraId id);

// Releases that write `e`, oldest first.
std::span<const Release> releases_of(EraId e);
// The client formats a release writes (and reads).
bool writes(const Release& r, const ClientFormat& f);
// -1, 0, 1 like strcmp, by numeric major.minor ("7.4-rc1" sorts as 7.4).
int compare_versions(std::string_view a, std::string_view b);

// What a user named on the command line or in Python: an era ("v6.16",
// "kho-v4", "6.16" where a release does not say otherwise) or a release
// ("6.17", "v7.3", "7.3.4", "7.4-rc1"). `release` is null for an era name.
struct Resolved {
  const Era* era = nullptr;
  const Release* release = nullptr;
  std::string describe() const;     // "kho-v4 (release 7.3)" or "kho-v2 (no release)"
};
std::optional<Resolved> resolve(std::string_view name);
// For messages: "an era (v6.16, ..., kho-v4) or a release (6.16 ... 7.4-rc1)".
std::string valid_names();

}  // namespace khospec::registry
