// The followed hand-over: everything a KHO root FDT points to, read from a memory
// image the way the next kernel reads it, as one plain data tree.
//
//   handover (root compatible)
//     map: blocks per order, bytes (children: order N -> its blocks)
//     client /memblock   memblock-v1  -> reserve_mem "trace" -> its blocks
//     client /kexec-metadata          version, previous_release, kexec_count
//     client /kho_test   kho-test-v1  -> vmalloc -> folios
//     client /LUO        luo-v5 | luo-v1 -> session "name" -> file token 0x.. -> memfd -> folios
//
// One reader per format family (read_*.cpp) walks its structures; every byte range
// any structure points to goes through one check, the cardinal rule (walk.cpp):
// it must lie in preserved memory, at the order the kernel restores it with.
// A finding names the whole pointer path as its node
// (`/LUO -> session "s" -> file token 0x1234abcd -> memfd folio 3`).
// Formats are decided by the root compatible (registry::written_under()) plus the
// content (compatible strings, versions); the client table is registry::client_formats()
// with the identities of registry/clients.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/image/image.hpp"
#include "conformance/memmap/memmap.hpp"
#include "core/diag.hpp"
#include "fdt/decode.hpp"
#include "fdt/tree.hpp"

namespace khospec {
class JsonWriter;
}

namespace khospec::conformance {

// One decoded value: `text` as shown ("0x5000", "kho-dump-session", "1234"),
// `number` for numeric fields.
struct HandoverField {
  std::string name;
  std::string text;
  std::optional<std::uint64_t> number;
};

// One structure of the hand-over. Kinds: handover, map, order, block, client,
// reserve_mem, kexec_metadata, vmalloc, vmalloc_chunk, folio, luo, kho_block,
// session, file, memfd, flb_header, flb.
struct HandoverNode {
  std::string kind;
  std::string name;                   // "memblock", "kho-dump-session", "0x1234abcd", "3"
  std::string format;                 // "memblock-v1", "luo-v5", "memfd-v2" ("" when none)
  std::string path;                   // the pointer path from the root
  std::uint64_t phys = 0, size = 0;   // the bytes it occupies (size 0: no memory of its own)
  std::optional<unsigned> order;      // the preserved block order it is restored at
  std::optional<bool> preserved;      // the cardinal rule (nullopt: no complete map to check)
  std::vector<HandoverField> fields;
  std::vector<HandoverNode> children;
  std::uint64_t omitted = 0;          // children followed and checked but not kept (FollowOptions::max_nodes)

  const HandoverField* field(std::string_view name) const;
  // The first child of `kind` (and `name` when not empty), else nullptr.
  const HandoverNode* child(std::string_view kind, std::string_view name = {}) const;
};

struct Handover {
  HandoverNode root;  // kind "handover"
  // Every node of `kind`, depth first (tests, chain checks).
  std::vector<const HandoverNode*> find_all(std::string_view kind) const;
};

struct FollowOptions {
  std::string file;                        // display name of the hand-over (findings)
  fdt::Endian endian = fdt::Endian::little;
  std::size_t max_items = 1u << 20;        // blocks, entries and folios walked in all
  std::size_t max_nodes = 1u << 17;        // nodes kept in the tree (the rest are counted)
  std::size_t max_fdt = 64u << 20;         // largest sub-FDT read
  std::optional<std::uint64_t> fdt_phys;   // where the root FDT lies (shown)
  std::string release;                     // --release: the writer's `uname -r` ("" unknown)
};

// Follows every child of a KHO root FDT (`root`, decoded in place, format `abi`:
// kho-v1 .. kho-v4 and the RFC layouts) through `image`; `map` is the decoded
// preserved set (nullptr or incomplete: the cardinal rule is not checked).
// Findings (client family, kho_image_addr_missing, kho_blob_*) go to `report`.
Handover follow_handover(const fdt::FlatTree& root, std::string_view abi, const MemoryImage& image,
                         const MapDecode* map, const FollowOptions& opts, Report& report);

// A client blob on its own, not an FDT (debugfs `sub_fdts/<name>` on 7.x, the
// captures' `*_sub_blob_<name>.bin` and `mem_*blob_<name>_0x*.bin`): recognised by
// its file name and content. Returns the format label ("luo-v5", "kexec-metadata
// version 1") or "" when the bytes are none of them.
std::string recognise_raw_blob(std::span<const std::uint8_t> bytes, std::string_view file_name);
// Checks such a blob as what it is (with an image its pointers are followed, without
// a map their preservation is not checked).
Handover follow_raw_blob(std::span<const std::uint8_t> bytes, std::string_view label, const MemoryImage* image,
                         const FollowOptions& opts, Report& report);

// kexec-metadata across hand-overs given in boot order (an in/out pair, or every
// stage of a chain): kexec_count goes up by one from each to the next
// (kho_out_kexec_metadata(): incoming count + 1). Hand-overs without the blob are
// skipped. Findings: kho_metadata_chain.
void check_metadata_chain(const std::vector<const Handover*>& in_boot_order, const std::vector<std::string>& files,
                          Report& report);

// Rendering: `depth` levels below the root (-1: all); `summary` counts the bulk
// (map blocks, folios, vmalloc chunk and kho_block pages) instead of listing it.
struct RenderOptions {
  int depth = -1;
  bool summary = false;
};
void render_handover_text(std::ostream& out, const Handover& h, const RenderOptions& ro = {});
void write_handover_json(JsonWriter& w, const Handover& h, const RenderOptions& ro = {});

}  // namespace khospec::conformance
