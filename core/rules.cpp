#include "core/rules.hpp"

#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace khospec {

namespace {

constexpr Level E = Level::error;
constexpr Level W = Level::warning;
constexpr Level I = Level::info;

// Hints shared by several rules.
constexpr std::string_view kLenHint =
    "KHO properties are native-endian fixed-size C values written with fdt_property(fdt, name, "
    "&val, sizeof(val)); the kernel's readers reject any other length";
constexpr std::string_view kLenKernel =
    "kho_retrieve_subtree(), kho_populate() (kernel/kexec_handover.c); reserve_mem_kho_revive() "
    "(mm/memblock.c); kho_test_restore() (lib/test_kho.c)";

std::vector<Rule> make_rules() {
  // clang-format off
  return {
  // ---------------------------------------------------------------- container
  {"fdt_empty", E, "container", {}, "zero-byte input; there is no FDT header",
   "6.16-6.18 expose out/fdt only after `echo 1 > out/finalize`; check kho=on",
   "kho_out_finalize() (6.16 debugfs)", "conformance/corpus/raw/empty-file-fail.kho.yaml",
   "finalize KHO before reading out/fdt, or boot with kho=on"},
  {"fdt_too_large", E, "container", {}, "input or totalsize above --max-size",
   "a KHO root FDT is one page since 6.16", "kho_init(): fdt_create(fdt, PAGE_SIZE)",
   "conformance/corpus/raw/totalsize-oversized-fail.kho.yaml", "raise --max-size if intended"},
  {"fdt_truncated", E, "container", {}, "fewer bytes than the header or totalsize says (FDT_ERR_TRUNCATED)",
   "re-capture the whole blob; Linux 7.x debugfs out/fdt is truncated by the kernel itself",
   "fdt_check_full()", "conformance/corpus/raw/truncated-tail-fail.kho.yaml",
   "capture exactly fdt_totalsize() bytes; on 7.x read the root FDT page from memory or in/fdt"},
  {"fdt_unfinished", E, "container", {}, "sequential-write magic: fdt_finish() never ran (FDT_ERR_BADSTATE)",
   "the producer dumped its FDT before finishing it", "fdt_finish()",
   "conformance/corpus/raw/unfinished-sw-fail.kho.yaml", "call fdt_finish() before exposing the blob"},
  {"fdt_bad_magic", E, "container", {}, "magic is not 0xd00dfeed (FDT_ERR_BADMAGIC)",
   "this is not an FDT; KHO dumps come from /sys/kernel/debug/kho/{in,out}/fdt", "fdt_check_header()",
   "conformance/corpus/raw/bad-magic-fail.kho.yaml", "pass an FDT"},
  {"fdt_bad_version", E, "container", {}, "FDT version libfdt cannot read (FDT_ERR_BADVERSION)",
   "KHO producers write FDT version 17", "fdt_check_header()",
   "conformance/corpus/raw/bad-version-fail.kho.yaml", "produce the blob with libfdt's fdt_sw API"},
  {"fdt_block_out_of_bounds", E, "container", {}, "a header block (rsvmap, struct, strings) extends past totalsize",
   "the header's block offsets and sizes are corrupt", "fdt_check_header()",
   "conformance/corpus/raw/strings-block-overflow-fail.kho.yaml", "re-capture the blob"},
  {"fdt_misaligned_rsvmap", E, "container", {}, "off_mem_rsvmap is not 8-byte aligned",
   "the memory reservation block must start on an 8-byte boundary", "",
   "conformance/corpus/raw/misaligned-rsvmap-fail.kho.yaml", "produce the blob with libfdt"},
  {"fdt_misaligned_struct", E, "container", {}, "off_dt_struct is not 4-byte aligned (dtc #178)",
   "structure tokens are 32-bit words", "", "conformance/corpus/raw/misaligned-struct-fail.kho.yaml",
   "produce the blob with libfdt"},
  {"fdt_misaligned_strings", W, "container", {}, "off_dt_strings is not 4-byte aligned (legal, never written by libfdt)",
   "the blob was not produced by libfdt as KHO does", "", "conformance/corpus/raw/misaligned-struct-fail.kho.yaml",
   "produce the blob with libfdt"},
  {"fdt_version_not_17", W, "container", {}, "version accepted by libfdt but not the 17 every KHO producer writes",
   "a converted or hand-built blob may differ from the kernel's", "",
   "conformance/corpus/raw/version-16-fail.kho.yaml", "re-capture the blob from debugfs"},
  {"fdt_bad_structure", E, "container", {}, "fdt_check_full() rejects the token stream",
   "unbalanced BEGIN_NODE/END_NODE/END or a token past size_dt_struct", "fdt_check_full()",
   "conformance/corpus/raw/struct-truncated-fail.kho.yaml", "re-capture the blob"},
  {"fdt_bad_name_offset", E, "container", {}, "a property name is outside the strings block",
   "size_dt_strings or a property's nameoff is corrupt", "fdt_getprop_by_offset()",
   "conformance/corpus/raw/strings-table-truncated-fail.kho.yaml", "re-capture the blob"},
  {"fdt_two_roots", E, "container", {}, "a second top-level node follows the root",
   "an FDT has exactly one root", "fdt_check_full()", "conformance/corpus/raw/two-roots-fail.kho.yaml",
   "do not concatenate FDTs"},
  {"fdt_named_root", E, "container", {}, "the root node has a name",
   "KHO builds the root with fdt_begin_node(fdt, \"\")", "kho_init() / kho_finalize()",
   "conformance/corpus/raw/named-root-fail.kho.yaml", "name the root \"\""},
  {"fdt_property_after_subnode", E, "container", {}, "a property follows a subnode; fdt_getprop() never sees it",
   "write every property of a node before its first subnode", "fdt_getprop()",
   "conformance/corpus/raw/property-after-subnode-fail.kho.yaml", "write properties before subnodes"},
  {"fdt_rsvmap_not_empty", W, "container", {}, "/memreserve/ entries present; KHO never reads them",
   "preserved memory is described by preserved-memory-map", "kho_populate()",
   "conformance/corpus/raw/rsvmap-not-empty-fail.kho.yaml", "keep the reservation map empty"},
  {"fdt_duplicate_node_name", E, "container", {}, "two children with one name",
   "fdt_subnode_offset() finds only the first; kho_add_subtree() returns -EEXIST on 6.19+",
   "kho_retrieve_subtree()", "conformance/corpus/kho-v1/bad/duplicate-subtree-fail.kho.yaml",
   "register each subtree once"},
  {"fdt_duplicate_property_name", E, "container", {}, "a property appears twice in one node",
   "fdt_getprop() returns only the first", "fdt_getprop()",
   "conformance/corpus/kho-v1/bad/duplicate-property-fail.kho.yaml", "write each property once"},
  {"fdt_too_deep", E, "container", {}, "nesting deeper than 64 levels (not decoded further)",
   "KHO trees are a few levels deep; the blob is corrupt or hostile", "",
   "conformance/corpus/raw/too-deep-fail.kho.yaml", "-"},
  // -------------------------------------------------------------------- value
  {"kho_prop_len_u32", E, "value", {"family:container"}, "a known u32 property is not 4 bytes", kLenHint, kLenKernel,
   "conformance/corpus/kho-test-v1/bad/test-kho-lengths-fail.kho.yaml", "write the value with sizeof(u32)"},
  {"kho_prop_len_u64", E, "value", {"family:container"}, "a known u64 property is not 8 bytes", kLenHint, kLenKernel,
   "conformance/corpus/memblock-v1/bad/reserve-mem-size-12-fail.kho.yaml", "write the value with sizeof(u64)"},
  {"kho_prop_len_phys_addr", E, "value", {"family:container"},
   "a physical-address property (preserved-memory-map, fdt, preserved-data, start...) is not 8 bytes",
   kLenHint, kLenKernel, "conformance/corpus/kho-v1/bad/subtree-fdt-u32-fail.kho.yaml",
   "write sizeof(phys_addr_t) = 8 bytes"},
  {"kho_prop_len_string_list", E, "value", {"family:container"}, "compatible is not NUL-terminated non-empty strings",
   "strings are written with fdt_property_string(): the value must end in its NUL",
   "fdt_node_check_compatible()", "conformance/corpus/kho-v1/bad/compatible-unterminated-fail.kho.yaml",
   "use fdt_property_string()"},
  {"kho_prop_len_u64_array", E, "value", {"family:container"}, "a u64 array (folios_info, RFC mem) is not a multiple of 8 bytes",
   kLenHint, "kho_test_restore() (lib/test_kho.c)", "conformance/corpus/kho-test-v1/bad/test-kho-lengths-fail.kho.yaml",
   "write whole u64 entries"},
  {"kho_prop_len_u32_array", E, "value", {"family:container"}, "a u32 array (RFC ftrace events) is not a multiple of 4 bytes",
   kLenHint, "ftrace KHO bindings (RFC, Documentation/kho/bindings/ftrace)",
   "conformance/corpus/rfc-ftrace/bad/events-odd-length-fail.kho.yaml", "write whole u32 entries"},
  // ---------------------------------------------------------------------- abi
  {"kho_abi_missing_compatible", E, "abi", {"family:container", "family:value"}, "the root has no compatible property",
   "every KHO FDT names its format in the root compatible; kho_populate() fails fdt_node_check_compatible()",
   "kho_populate()", "conformance/corpus/kho-v1/bad/no-compatible-fail.kho.yaml", "write compatible first"},
  {"kho_abi_unknown", E, "abi", {"family:container", "family:value"}, "the root compatible names no format khospec knows",
   "known: kho-v1..kho-v4, memblock-v1, reserve-mem-v1, kho-test-v1, luo-v1, luo-v2 (and RFC layouts); "
   "a new format needs a new schema under schemas/", "fdt_node_check_compatible()",
   "conformance/corpus/kho-v1/bad/unknown-compatible-fail.kho.yaml", "use a released compatible string"},
  {"kho_abi_mismatch", E, "abi", {"family:container", "family:value"}, "--abi names a format the blob is not",
   "the next kernel accepts only its own compatible: kho_populate() disables KHO revival on a mismatch",
   "kho_populate()", "conformance/corpus/kho-v4/bad/abi-flag-mismatch-fail.kho.yaml",
   "validate with --abi auto or the kernel's version"},
  {"kho_abi_properties_mismatch", W, "abi", {"family:container", "family:value"},
   "the compatible and the properties present disagree (e.g. kho-v1 with preserved-data)",
   "detection follows the compatible; the other era's properties are never read by that kernel",
   "kho_retrieve_subtree()", "conformance/corpus/kho-v1/bad/v4-properties-fail.kho.yaml",
   "bump the compatible together with the layout (include/linux/kho/abi/kexec_handover.h contract)"},
  // ------------------------------------------------------------------- schema
  {"schema_required", E, "schema", {"family:container", "family:abi"}, "a property or node the schema requires is missing",
   "the kernel's reader fails without it (e.g. preserved-memory-map: 'failed to get preserved memory bitmaps')",
   "kho_populate(), kho_mem_deserialize(), kho_retrieve_subtree()",
   "conformance/corpus/kho-v4/bad/missing-blob-size-fail.kho.yaml", "write every required property"},
  {"schema_const", E, "schema", {"family:container", "family:abi"}, "a value differs from the one the schema fixes (a nested compatible, test_kho magic)",
   "sub-format readers check their own compatible with fdt_node_check_compatible()",
   "reserve_mem_kho_revive() (mm/memblock.c), kho_test_restore()",
   "conformance/corpus/memblock-v1/bad/reserve-mem-compatible-fail.kho.yaml", "write the value the format defines"},
  {"schema_enum", E, "schema", {"family:container", "family:abi"}, "a value is not one of the values the schema lists",
   "see the schema's description of the property", "",
   "conformance/corpus/luo-v1/bad/session-compatible-fail.kho.yaml", "use one of the listed values"},
  {"schema_minimum", E, "schema", {"family:container", "family:abi"}, "a value is below the schema's minimum (e.g. a zero pointer)",
   "kho-v2+ readers require a non-zero preserved-memory-map (kho_get_mem_map_phys())", "kho_get_mem_map_phys()",
   "conformance/corpus/kho-v4/bad/zero-memory-map-fail.kho.yaml", "write a valid pointer"},
  {"schema_maximum", E, "schema", {"family:container", "family:abi"}, "a value is above the schema's maximum",
   "see the schema's description of the property (e.g. an RFC ftrace cpu at or above CONFIG_NR_CPUS)", "",
   "conformance/corpus/rfc-ftrace/bad/cpu-too-large-fail.kho.yaml", "stay within the documented bound"},
  {"schema_multiple_of", E, "schema", {"family:container", "family:abi"}, "a pointer or size is not aligned as the schema says (page alignment)",
   "KHO blobs and map roots are page allocations (kho_alloc_preserve(), get_zeroed_page())",
   "kho_alloc_preserve()", "conformance/corpus/kho-v4/bad/unaligned-preserved-data-fail.kho.yaml",
   "point at the page-aligned allocation"},
  {"schema_unknown_property", W, "schema", {"family:container", "family:abi"}, "a property the schema does not define",
   "the kernel ignores it; a producer that needs it must bump the compatible", "",
   "conformance/corpus/kho-v1/bad/unknown-property-fail.kho.yaml", "bump the compatible with the layout"},
  {"schema_unknown_node", W, "schema", {"family:container", "family:abi"}, "a child node the schema does not define",
   "sub-formats (memblock, kho_test) have a fixed shape", "",
   "conformance/corpus/kho-test-v1/bad/extra-node-fail.kho.yaml", "remove the node or bump the compatible"},
  // -------------------------------------------------------------------- image
  {"kho_image_empty", E, "image", {}, "the memory image is empty",
   "capture physical memory with QEMU dump-guest-memory, /proc/kcore or /dev/mem", "",
   "conformance/corpus/image/bad/empty-image-fail.kho.yaml", "pass a non-empty image"},
  {"kho_image_bad_elf", E, "image", {}, "the ELF header of the image is malformed (class, byte order, program header table)",
   "khospec reads ELF64 cores: QEMU dump-guest-memory, /proc/kcore; anything else is read as a raw image with --memory-base",
   "", "conformance/corpus/image/bad/elf-bad-phoff-fail.kho.yaml", "pass an ELF64 core or a raw image"},
  {"kho_image_segment_out_of_bounds", E, "image", {}, "a PT_LOAD segment's file range lies outside the image file",
   "the core is truncated; the segment is ignored", "", "conformance/corpus/image/bad/elf-segment-truncated-fail.kho.yaml",
   "re-capture the core"},
  {"kho_image_no_memory", E, "image", {}, "the ELF core has no PT_LOAD segment with a physical address",
   "/proc/kcore marks segments without a physical address with p_paddr = -1", "",
   "conformance/corpus/image/bad/elf-no-load-fail.kho.yaml", "capture physical memory"},
  {"kho_image_segment_overlap", W, "image", {}, "two PT_LOAD segments cover the same physical bytes",
   "the first segment wins; the capture may be inconsistent", "", "conformance/corpus/image/bad/elf-overlap-fail.kho.yaml",
   "capture each page once"},
  {"kho_image_addr_missing", E, "image", {"family:container", "family:abi"}, "a pointer from the hand-over leads to memory the image does not contain",
   "either the image is partial (capture the pages the FDT points to) or the pointer is corrupt; use the image of the "
   "stage that wrote the hand-over (the next kernel reuses the map pages)", "kho_mem_deserialize(): phys_to_virt()",
   "conformance/corpus/image/bad/map-outside-image-fail.kho.yaml", "capture the pages, or fix the pointer"},
  // ---------------------------------------------------------------------- map
  {"kho_reader_refuses", E, "xref", {"family:container"}, "validate --as ERA: that era's reader refuses this hand-over (another root compatible, or 6.19+ and an empty map)",
   "kho_populate() accepts only its own compatible and then disables revival: cold boot, preserved memory unprotected", "kernel/kexec_handover.c kho_populate()",
   "conformance/corpus/kho-v2/bad/reader-refuses-fail.kho.yaml", "kexec a kernel of the writer's ABI, or bump both together"},
  {"kho_reader_misreads", E, "map", {"family:container"}, "validate --as ERA: that era's reader decodes a different preserved set from the same bytes",
   "6.16/6.17 write 512-byte bitmaps, 6.18+ PAGE_SIZE bitmaps, both under kho-v1 (docs/kernel-abi.md §3)", "kernel/kexec_handover.c deserialize_bitmap()",
   "conformance/corpus/image/bad/reader-misreads-fail.kho.yaml", "kexec only between kernels with the same bitmap size"},
  {"kho_map_empty", W, "map", {"family:container", "family:abi", "family:schema"}, "kho-v1 preserved-memory-map is 0 (no chunks)",
   "6.16-6.18 accept an empty map, but 6.19+ kho_populate() rejects 0 ('disabling KHO revival: -2'); a finalized "
   "6.16 hand-over always preserves at least its own FDT page", "kho_populate() (6.19)",
   "conformance/corpus/kho-v1/bad/zero-memory-map-fail.kho.yaml", "finalize KHO before kexec"},
  {"kho_map_misaligned", E, "map", {"family:container", "family:abi"}, "a chunk or radix node pointer is not page-aligned",
   "chunks are kzalloc(PAGE_SIZE)/get_zeroed_page(), radix nodes one page each", "kho_mem_serialize(), kho_radix_add()",
   "conformance/corpus/image/bad/chunk-misaligned-fail.kho.yaml", "-"},
  {"kho_map_order_invalid", E, "map", {"family:container", "family:abi"}, "a chunk order or radix key encodes an order no page size allows",
   "the order must keep PAGE_SIZE << order inside 64 bits", "kho_mem_deserialize(), kho_radix_decode_key()",
   "conformance/corpus/image/bad/chunk-order-invalid-fail.kho.yaml", "-"},
  {"kho_map_order_above_max", W, "map", {"family:container", "family:abi"},
   "a kho-v1 chunk list holds a block larger than MAX_PAGE_ORDER (10)",
   "memblock reserves it, but the 6.16-6.19 restore path refuses an order above MAX_PAGE_ORDER; a radix map "
   "(kho-v2+) may hold one (kho_preserve_pages() splits by alignment, 7.3 writes order 14) and 7.x restores it",
   "kho_restore_folio(), kho_restore_page()",
   "conformance/corpus/image/bad/order-above-max-fail.kho.yaml", "preserve the range in blocks of at most order 10"},
  {"kho_map_chunk_capacity", E, "map", {"family:container", "family:abi"}, "a chunk's num_elms exceeds KHOSER_BITMAP_SIZE (255 for 4 KiB pages)",
   "the kernel would read past the chunk page", "kho_mem_deserialize()",
   "conformance/corpus/image/bad/chunk-capacity-fail.kho.yaml", "-"},
  {"kho_map_order_unsorted", W, "map", {"family:container", "family:abi"}, "chunk orders decrease along the list",
   "kho_mem_serialize() walks the orders ascending; the reader does not care", "kho_mem_serialize()",
   "conformance/corpus/image/bad/chunk-order-unsorted-fail.kho.yaml", "-"},
  {"kho_map_cycle", E, "map", {"family:container", "family:abi"}, "the chunk list or radix tree revisits a page",
   "the next kernel's deserializer would loop forever or double-reserve", "kho_mem_deserialize(), kho_radix_walk_tree()",
   "conformance/corpus/image/bad/chunk-cycle-fail.kho.yaml", "-"},
  {"kho_map_bitmap_null", E, "map", {"family:container", "family:abi"}, "a chunk entry's bitmap pointer is 0",
   "the deserializer dereferences it", "kho_mem_deserialize()",
   "conformance/corpus/image/bad/bitmap-null-fail.kho.yaml", "-"},
  {"kho_map_phys_start_misaligned", E, "map", {"family:container", "family:abi"}, "a bitmap's phys_start is not a multiple of the bitmap's coverage",
   "phys_start = (idx * PRESERVE_BITS) << (order + PAGE_SHIFT)", "kho_mem_serialize()",
   "conformance/corpus/image/bad/phys-start-misaligned-fail.kho.yaml", "-"},
  {"kho_map_bitmap_size_ambiguous", W, "map", {"family:container", "family:abi"}, "kho-v1: the bitmap size (512 bytes in 6.16/6.17, PAGE_SIZE in 6.18+) cannot be told from the dump and matters",
   "the PAGE_SIZE-bitmap change kept the kho-v1 compatible (docs/kernel-abi.md §3); pass --kho-v1-bitmap 512|page",
   "kho: increase metadata bitmap size to PAGE_SIZE", "conformance/corpus/image/bad/bitmap-size-ambiguous-fail.kho.yaml",
   "state the producer kernel's bitmap size with --kho-v1-bitmap"},
  {"kho_map_radix_index", E, "map", {"family:container", "family:abi"}, "a radix root entry at index >= 4 (a key no physical address produces)",
   "the order-0 marker is bit 52; index >= 4 at level 5 needs address bits above 63", "kho_radix_walk_tree()",
   "conformance/corpus/image/bad/radix-index-fail.kho.yaml", "-"},
  {"kho_map_too_many", E, "map", {"family:container", "family:abi"}, "the map has more chunks, nodes or blocks than khospec walks (1M)",
   "a corrupt map; decoding stopped", "", "conformance/corpus/image/bad/radix-too-many-fail.kho.yaml", "-"},
  {"kho_map_overlap", E, "map", {"family:container", "family:abi"}, "preserved blocks of different orders overlap",
   "the producer does not prevent overlapping preservations; the next kernel reserves both", "kho_preserve_folio()",
   "conformance/corpus/image/bad/cross-order-overlap-fail.kho.yaml", "preserve each range once"},
  // --------------------------------------------------------------------- xref
  {"kho_blob_null", E, "xref", {"family:container", "family:abi", "family:value"}, "a subtree points at physical address 0",
   "kho_add_subtree() records virt_to_phys(blob); 0 means the producer passed no blob", "kho_add_subtree()",
   "conformance/corpus/kho-v4/bad/null-preserved-data-fail.kho.yaml", "-"},
  {"kho_blob_size_zero", E, "xref", {"family:container", "family:abi", "family:value"}, "a subtree's blob-size is 0",
   "kho_retrieve_subtree() hands the size to the client; debugfs in/sub_fdts shows an empty file", "kho_add_subtree()",
   "conformance/corpus/kho-v4/bad/zero-blob-size-fail.kho.yaml", "-"},
  {"kho_blob_size_mismatch", W, "xref", {"family:container", "family:abi"}, "blob-size differs from the FDT blob's totalsize or the packed struct's size",
   "7.3 writes the exact byte length (FDT totalsize, 73 for kexec-metadata, 32 for luo_ser)", "kho_add_subtree()",
   "conformance/corpus/image/bad/blob-size-mismatch-fail.kho.yaml", "-"},
  {"kho_fdt_not_preserved", E, "xref", {"family:container", "family:abi", "family:map"}, "the root FDT's own page (found in the image) is not preserved as a block",
   "kho_finalize() (6.16) / kho_init() (6.19+) preserve the root FDT page", "kho_finalize(), kho_alloc_preserve()",
   "conformance/corpus/image/bad/root-fdt-not-preserved-fail.kho.yaml", "-"},
  {"kho_subfdt_invalid", E, "xref", {"family:container", "family:abi"}, "a sub-blob that must be an FDT (kho-v1 fdt, memblock, kho_test, LUO v1/v2) fails the container checks",
   "the client's reader (fdt_node_check_compatible) fails; the nested findings follow", "kho_retrieve_subtree() callers",
   "conformance/corpus/image/bad/subfdt-garbage-fail.kho.yaml", "-"},
  // ------------------------------------------------------------------ scratch
  {"kho_scratch_zero_size", I, "scratch", {}, "a scratch area of size 0 (real kernels emit it: the global area on small machines)",
   "harmless: memblock_add() of 0 bytes does nothing", "kho_reserve_scratch()",
   "conformance/corpus/image/bad/scratch-zero-size-fail.kho.yaml", "-"},
  {"kho_scratch_misaligned", W, "scratch", {}, "a scratch area is not page-aligned",
   "scratch areas are CMA pageblock-aligned", "kho_reserve_scratch()",
   "conformance/corpus/image/bad/scratch-misaligned-fail.kho.yaml", "-"},
  {"kho_scratch_overlap", E, "scratch", {"family:container", "family:abi", "family:map"}, "a preserved block overlaps a scratch area",
   "the next kernel allocates from scratch before it reserves preserved memory; A WARNs on this from 6.18",
   "kho_preserve_folio() WARN_ON (6.18+)", "conformance/corpus/image/bad/scratch-overlap-fail.kho.yaml",
   "never preserve scratch memory"},
  // ------------------------------------------------------------------- client
  {"kho_not_preserved", E, "client", {"family:container", "family:abi", "family:map"},
   "the cardinal rule: a range the hand-over points to (a blob, a reserve_mem range, a vmalloc chunk or block, a "
   "kho_block, a LUO session, file or FLB block, a memfd_luo_ser, a folio) is not preserved, or not at the order "
   "the kernel restores it with",
   "KHO hands over only what the map records; every client preserves what it points to (kho_preserve_folio/pages, "
   "kho_alloc_preserve, kho_preserve_vmalloc), and the next kernel restores it at that order "
   "(kho_restore_folio, kho_restore_pages, kho_restore_free)",
   "kho_restore_folio(), kho_restore_pages(), kho_restore_free() (kernel/liveupdate/kexec_handover.c, 7.3)",
   "conformance/corpus/handover/bad/memfd-folio-not-preserved-fail.kho.yaml",
   "preserve the range with the call its reader restores it with"},
  {"kho_client_format_mismatch", E, "client", {"family:container", "family:abi"},
   "a client blob (or a LUO file) is not the format its node implies under this root compatible; the finding names both",
   "each client's reader checks its own compatible (fdt_node_check_compatible(), strncmp() of luo_ser, the LUO "
   "file handler's strcmp()) and refuses anything else", "reserve_mem_kho_revive(), kho_test_restore(), "
   "luo_early_startup(), luo_file_deserialize()",
   "conformance/corpus/handover/bad/swapped-sub-blobs-fail.kho.yaml",
   "point each child at its own blob, with the compatible of the era that writes the root"},
  {"kho_client_unknown", I, "client", {"family:container", "family:abi"},
   "a root child no client khospec knows (or one the kernels of this root's era do not read)",
   "only the blob's preservation is checked; registry/clients.cpp lists the known clients (docs/eras.md their releases)",
   "kho_retrieve_subtree()", "conformance/corpus/handover/bad/unknown-client-fail.kho.yaml", "-"},
  {"kho_follow_limit", E, "client", {"family:container", "family:abi"},
   "the walk behind the root reached --map-limit (blocks and entries); what follows is not checked",
   "a clean result would vouch for structures khospec never read; raise --map-limit", "",
   "conformance/corpus/handover/bad/follow-limit-fail.kho.yaml", "raise --map-limit"},
  {"kho_block_chain_invalid", E, "client", {"family:container", "family:abi"},
   "a kho_block chain (LUO sessions, files) has a misaligned or repeating block, more than 10000 blocks, or a count "
   "of 0 or above what fits the block",
   "kho_block_set_restore() refuses the whole set and the client's restore fails",
   "kho_block_set_restore(), kho_block_set_is_cyclic() (kernel/liveupdate/kho_block.c, 7.2+)",
   "conformance/corpus/handover/bad/kho-block-count-fail.kho.yaml", "-"},
  {"kho_luo_invalid", E, "client", {"family:container", "family:abi"},
   "LUO state the next kernel cannot deserialize: a short luo_ser, a session name without NUL, empty or twice, a file "
   "count that disagrees with its entries, a duplicate token, a count beyond the luo-v1 arrays, a bad FLB header",
   "luo_session_deserialize() stops at the first bad entry; no session can then be retrieved (/dev/liveupdate fails)",
   "luo_early_startup(), luo_session_deserialize(), luo_file_deserialize(), luo_flb_setup_incoming() "
   "(kernel/liveupdate/, 6.19+)",
   "conformance/corpus/handover/bad/luo-file-count-fail.kho.yaml", "-"},
  {"kho_luo_file_unknown", W, "client", {"family:container", "family:abi"},
   "a LUO file whose handler compatible is not a mainline handler (memfd-v1, memfd-v2)",
   "a next kernel without that handler fails luo_file_deserialize() with -ENOENT; whether it has one depends on its "
   "configuration, not on the hand-over", "luo_file_deserialize()",
   "conformance/corpus/handover/bad/luo-file-unknown-fail.kho.yaml", "-"},
  {"kho_memfd_invalid", E, "client", {"family:container", "family:abi"},
   "memfd state the next kernel misreads or loses: seals outside the version's mask, nr_folios not the folio array's "
   "entries, a folio index beyond the size or overlapping another, a non-empty file without folios",
   "memfd_luo_preserve_folios() writes one entry per pinned folio in index order below the size",
   "memfd_luo_retrieve(), memfd_luo_retrieve_folios() (mm/memfd_luo.c, 6.19+)",
   "conformance/corpus/handover/bad/memfd-seals-fail.kho.yaml", "-"},
  {"kho_memfd_unexpected", W, "client", {"family:container", "family:abi"},
   "memfd state the writer never produces but the reader accepts: pos beyond size, folios out of index order, "
   "unknown flag bits, a pfn 0 entry", "restored as is (vfs_setpos(), shmem_add_to_page_cache())",
   "memfd_luo_retrieve()", "conformance/corpus/handover/bad/memfd-pos-beyond-size-fail.kho.yaml", "-"},
  {"kho_test_invalid", E, "client", {"family:container", "family:abi"},
   "test_kho's nr_folios is more than folios_info holds, or an entry names no page order",
   "kho_test_restore_data() reads nr_folios entries", "kho_test_restore_data() (lib/test_kho.c, 6.17+)",
   "conformance/corpus/handover/bad/test-kho-nr-folios-fail.kho.yaml", "-"},
  {"kho_vmalloc_invalid", E, "client", {"family:container", "family:map"}, "a struct kho_vmalloc (test_kho folios_info, a memfd folio array) is inconsistent: flags, a repeating chunk, blocks beyond total_pages",
   "kho_restore_vmalloc() rejects unknown flags and checks idx + contig <= total_pages and idx == total_pages at the end",
   "kho_restore_vmalloc() (kernel/kexec_handover.c, 6.18+)", "conformance/corpus/image/bad/vmalloc-total-pages-fail.kho.yaml", "-"},
  {"kho_metadata_invalid", W, "client", {"family:container"}, "the kexec-metadata blob is not a sound struct kho_kexec_metadata version 1: another version, a release without NUL or empty, a kexec_count of 0",
   "a version mismatch makes the next kernel ignore the metadata; an unterminated release is cut by strscpy()",
   "kho_in_kexec_metadata() (kernel/liveupdate/kexec_handover.c, 7.1+)",
   "conformance/corpus/image/bad/metadata-version-fail.kho.yaml", "-"},
  {"kho_metadata_chain", W, "client", {"family:container"},
   "kexec-metadata across hand-overs: kexec_count does not go up by one from one kernel to the next, or "
   "previous_release does not name the writer (--release)",
   "each kernel writes its own uname -r and the count it received + 1",
   "kho_out_kexec_metadata() (kernel/liveupdate/kexec_handover.c, 7.1+)",
   "conformance/corpus/handover/bad/metadata-release-fail.kho.yaml", "-"},
  // --------------------------------------------------------------------- live
  {"kho_live_source", I, "live", {}, "names the live source that was read (debugfs, RFC sysfs)",
   "", "", "conformance/live/live_test.cpp", "-"},
  {"kho_live_no_fdt", W, "live", {}, "the live KHO directory holds no root fdt and the root could not be read from memory",
   "6.16-7.0: echo 1 > /sys/kernel/debug/kho/out/finalize first; 7.x: a KHO-booted kernel has no out/fdt "
   "(kho_init() skips it) and the root is read through /proc/kcore: run as root on a kernel with PROC_KCORE and "
   "KALLSYMS_ALL, or give --memory /proc/kcore --fdt-phys ADDR", "kho_debugfs_init()", "conformance/live/live_test.cpp",
   "-"},
  {"kho_live_debugfs_truncated", I, "live", {}, "debugfs out/fdt serves fewer bytes than the root's totalsize",
   "a 7.x debugfs artefact, not a broken hand-over: the blob keeps the size the root had at kho_init(); the root "
   "is read from memory instead", "kho_init(), kho_debugfs_fdt_add()", "conformance/live/live_test.cpp", "-"},
  {"kho_live_root_from_memory", I, "live", {}, "the outgoing root FDT was read from memory (/proc/kcore)",
   "", "kho_out.fdt", "conformance/live/live_test.cpp", "-"},
  {"kho_live_unverified", W, "live", {}, "the root in memory could not be read, so the hand-over was not checked",
   "run as root on a kernel with PROC_KCORE (and KALLSYMS_ALL), or give --memory /proc/kcore --fdt-phys ADDR",
   "", "conformance/live/live_test.cpp", "-"},
  // --------------------------------------------------------------------- lint
  {"schema_yaml_error", E, "lint", {}, "a schema file is not valid YAML or not a map",
   "", "", "schemas/tests/bad/yaml-error-fail.yaml", "fix the YAML"},
  {"schema_missing_id", E, "lint", {"schema_yaml_error"}, "a schema has no $id",
   "dt-schema requires $id (base.yaml); the kernel's 6.16 KHO bindings have none", "",
   "schemas/tests/kernel-6.16/kho.yaml", "add $id"},
  {"schema_missing_meta_schema", E, "lint", {"schema_yaml_error"}, "a schema has no $schema naming its meta-schema",
   "every schema names the meta-schema it obeys", "", "schemas/tests/kernel-6.16/kho.yaml", "add $schema"},
  {"schema_missing_title", E, "lint", {"schema_yaml_error"}, "a schema has no title",
   "", "", "schemas/tests/bad/no-title-fail.yaml", "add title"},
  {"schema_unknown_keyword", E, "lint", {"schema_yaml_error"}, "a keyword the meta-schema does not list (the validator would ignore it)",
   "khospec implements exactly the keywords in schemas/meta-schemas/kho-core.yaml", "",
   "schemas/tests/bad/unknown-keyword-fail.yaml", "use an implemented keyword"},
  {"schema_unknown_type", E, "lint", {"schema_yaml_error"}, "a $ref to a wire type that does not exist",
   "types: u32, u64, phys_addr, string, string-list, bytes, u32-array, u64-array, empty", "",
   "schemas/tests/bad/unknown-type-fail.yaml", "use a type from types.yaml"},
  {"schema_untyped_property", E, "lint", {"schema_yaml_error"}, "a property without a wire type",
   "KHO values are native-endian; the schema must say which fixed type (the kernel bindings give none)", "",
   "schemas/tests/kernel-6.16/sub-fdt.yaml", "add $ref: types.yaml#/definitions/TYPE"},
  {"schema_pattern_anchors", E, "lint", {"schema_yaml_error"}, "a patternProperties regex has its anchors reversed ('$...^') and matches nothing",
   "the kernel's 6.16 kho.yaml and memblock.yaml use \"$[0-9a-f_]+^\"", "", "schemas/tests/kernel-6.16/kho.yaml",
   "write ^...$"},
  {"schema_bad_pattern", E, "lint", {"schema_yaml_error"}, "a patternProperties regex does not compile, or std::regex cannot compile it safely (over 1024 characters or repetitions)",
   "", "", "schemas/tests/bad/bad-regex-fail.yaml", "fix the regex (at most 1024 characters, {n} counts multiplying to at most 1024)"},
  {"schema_compatible_mismatch", E, "lint", {"schema_yaml_error"}, "the compatible a schema accepts differs from the one its example or file name uses",
   "the kernel's 6.16 memblock.yaml enumerates reserve-mem-v1 for the memblock root, which writes memblock-v1", "",
   "schemas/tests/kernel-6.16/memblock/memblock.yaml", "accept the compatible the kernel writes and checks"},
  {"schema_duplicate_id", E, "lint", {"schema_yaml_error"}, "two schemas share one $id",
   "", "", "schemas/tests/bad/duplicate-id-fail.yaml", "give each schema its own $id"},
  {"schema_unresolved_ref", E, "lint", {"schema_yaml_error"}, "a $ref names a schema or definition that does not exist",
   "", "", "schemas/tests/bad/unresolved-ref-fail.yaml", "fix the $ref"},
  {"schema_example_invalid", E, "lint", {"schema_yaml_error"}, "an example does not validate against its own schema",
   "", "", "schemas/tests/kernel-6.16/memblock/memblock.yaml", "fix the example or the schema"},
  {"schema_bad_layout", E, "lint", {"schema_yaml_error"}, "a fixed layout's fields overlap, leave the struct, or do not add up to its size",
   "", "", "schemas/tests/bad/layout-overlap-fail.yaml", "fix the offsets"},
  {"schema_bad_points_to", E, "lint", {"schema_yaml_error"}, "a points-to names no layout (nor fdt / blob)",
   "the compatibility checker follows points-to into the pointed-to layout", "",
   "schemas/tests/bad/points-to-unknown-fail.yaml", "name a layout's `layout: name:`, fdt or blob"},
  // ------------------------------------------------------------------- compat
  {"compat_input_invalid", E, "compat", {},
   "an input of `khospec compat` is not a hand-over (a root FDT, with an ELF core as --memory-old/--memory-new), "
   "schema file, schema directory or ABI dump, or the two sides are not alike",
   "pass two hand-overs' root FDTs, or schemas (.yaml, a directory) or `khospec model abi-dump` output (.json)", "",
   "conformance/compat/cases/input-invalid-fail/", "the message names what was given and the command to run instead"},
  {"compat_format_removed", E, "compat", {}, "a compatible OLD describes is missing from NEW: new readers cannot read that format",
   "", "",
   "conformance/compat/cases/format-removed-fail/", "keep the schema, or pair it with its successor explicitly"},
  {"compat_format_added", I, "compat", {}, "NEW describes a compatible OLD does not",
   "", "",
   "conformance/compat/cases/format-added-fail/", "none needed"},
  {"compat_version_bumped", W, "compat", {}, "the compatible string changed (a version bump): readers refuse the other version's hand-over",
   "kho_populate() checks the root compatible with fdt_node_check_compatible(); a mismatch disables revival (cold boot)", "kernel/kexec_handover.c kho_populate()",
   "conformance/compat/cases/version-bump-fail/", "intended: wire changes need a bump"},
  {"compat_break_without_version_bump", E, "compat", {}, "a wire-breaking change kept the same compatible string",
   "the KHO ABI headers: any change to the FDT structure, properties or referenced layouts requires incrementing KHO_FDT_COMPATIBLE (docs/kernel-abi.md §7)", "include/linux/kho/abi/kexec_handover.h",
   "conformance/compat/cases/required-added-fail/", "bump the compatible (new schema file) or add a reviewed compat-allow.yaml entry"},
  {"compat_compatible_reused", E, "compat", {}, "the same compatible now names a different binary layout",
   "readers cannot tell the layouts apart: 6.16 -> 6.18 kept kho-v1 while the bitmap grew from 512 bytes to PAGE_SIZE (docs/kernel-abi.md §3)", "",
   "conformance/compat/cases/pointer-target-changed-fail/", "bump the compatible"},
  {"compat_released_schema_edited", W, "compat", {}, "a released schema ($id with status: released) was edited",
   "released schema files are frozen (docs/schemas.md): any change needs a new compatible and file", "",
   "conformance/compat/cases/released-edited-fail/", "revert the edit; add a new schema version"},
  {"compat_node_removed", E, "compat", {}, "a child node was removed (wire break when old readers required it)",
   "", "",
   "conformance/compat/cases/node-removed-fail/", "keep the node or bump the compatible"},
  {"compat_node_added", I, "compat", {}, "a new optional child node",
   "kernel readers ignore unknown nodes", "",
   "conformance/compat/cases/node-added-fail/", "none needed"},
  {"compat_property_removed", E, "compat", {}, "a property was removed (wire break when old readers required it)",
   "", "",
   "conformance/compat/cases/property-removed-fail/", "keep writing it or bump the compatible"},
  {"compat_property_added", I, "compat", {}, "a new optional property",
   "kernel readers ignore unknown properties (QEMU: extend with optional subsections)", "",
   "conformance/compat/cases/property-added-fail/", "none needed"},
  {"compat_required_added", E, "compat", {}, "a property or node is newly required: old writers never wrote it (forward break)",
   "", "",
   "conformance/compat/cases/required-added-fail/", "make it optional or bump the compatible"},
  {"compat_required_removed", E, "compat", {}, "a required property or node became optional: new writers may omit what old readers require (backward break)",
   "", "",
   "conformance/compat/cases/required-removed-fail/", "keep writing it or bump the compatible"},
  {"compat_type_changed", E, "compat", {}, "a property's or field's wire type changed encoding",
   "", "",
   "conformance/compat/cases/type-changed-fail/", "bump the compatible"},
  {"compat_type_refined", W, "compat", {}, "a wire type was renamed to one with the same encoding (u64 <-> phys_addr, string <-> string-list)",
   "", "",
   "conformance/compat/cases/type-refined-fail/", "none needed"},
  {"compat_len_changed", E, "compat", {}, "a property's byte length changed (QEMU 'size mismatch', buf FIELD_SAME_TYPE)",
   "KHO readers check exact lengths (kho_retrieve_subtree() needs 8 bytes)", "",
   "conformance/compat/cases/len-changed-fail/", "bump the compatible"},
  {"compat_enum_value_removed", E, "compat", {}, "a const/enum value is no longer accepted (forward break)",
   "", "",
   "conformance/compat/cases/enum-removed-fail/", "keep accepting it or bump the compatible"},
  {"compat_enum_value_added", E, "compat", {}, "a const/enum gained values old readers reject (backward break)",
   "", "",
   "conformance/compat/cases/enum-added-fail/", "bump the compatible if old readers must read new data"},
  {"compat_range_tightened", E, "compat", {}, "minimum/maximum/multipleOf now rejects values old writers may produce (forward break)",
   "e.g. 6.19's kho_populate() refuses preserved-memory-map 0, which 6.16-6.18 readers accept", "",
   "conformance/compat/cases/range-tightened-fail/", "keep the range or bump the compatible"},
  {"compat_range_loosened", E, "compat", {}, "minimum/maximum/multipleOf now admits values old readers refuse (backward break)",
   "", "",
   "conformance/compat/cases/range-loosened-fail/", "keep the range or bump the compatible"},
  {"compat_pattern_tightened", E, "compat", {}, "child-node names old writers used no longer match the pattern (forward break)",
   "checked on probe names (real client names and every printable character)", "",
   "conformance/compat/cases/pattern-tightened-fail/", "keep the pattern or bump the compatible"},
  {"compat_pattern_loosened", E, "compat", {}, "the child-node pattern admits names old readers reject (backward break)",
   "checked on probe names (real client names and every printable character)", "",
   "conformance/compat/cases/pattern-loosened-fail/", "keep the pattern or bump the compatible"},
  {"compat_additional_properties", W, "compat", {}, "additionalProperties changed: validators accept or reject unknown names differently",
   "kernel readers ignore unknown properties; validators do not", "",
   "conformance/compat/cases/additional-closed-fail/", "none needed if intended"},
  {"compat_property_deprecated", W, "compat", {}, "a property or node is now deprecated",
   "dt-schema cmp_schema: property-deprecated", "",
   "conformance/compat/cases/deprecated-fail/", "plan its removal with a version bump"},
  {"compat_description_changed", I, "compat", {}, "a title or description changed (docs-level)",
   "", "",
   "conformance/compat/cases/released-edited-fail/", "none needed"},
  {"compat_pointer_target_changed", E, "compat", {}, "a pointer property or field now addresses a different layout (or fdt/blob)",
   "", "",
   "conformance/compat/cases/pointer-target-changed-fail/", "bump the compatible"},
  {"compat_layout_size_changed", E, "compat", {}, "a fixed layout's size changed",
   "", "",
   "conformance/compat/cases/layout-size-changed-fail/", "bump the compatible"},
  {"compat_layout_field_moved", E, "compat", {}, "a fixed-layout field moved to another offset",
   "", "",
   "conformance/compat/cases/layout-field-moved-fail/", "bump the compatible"},
  {"compat_layout_field_resized", E, "compat", {}, "a fixed-layout field changed size or count",
   "", "",
   "conformance/compat/cases/layout-size-changed-fail/", "bump the compatible"},
  {"compat_layout_field_removed", E, "compat", {}, "a fixed-layout field was removed",
   "", "",
   "conformance/compat/cases/layout-field-removed-fail/", "bump the compatible"},
  {"compat_layout_field_added", E, "compat", {}, "a fixed-layout field was added (packed structs have no optional fields)",
   "", "",
   "conformance/compat/cases/layout-field-added-fail/", "bump the compatible"},
  {"compat_layout_removed", W, "compat", {}, "a layout no format points to is no longer described",
   "", "",
   "conformance/compat/cases/layout-removed-fail/", "keep it while any kernel writes it"},
  {"compat_layout_added", I, "compat", {}, "a new layout no format points to (e.g. kho-v4 serialization blocks)",
   "", "",
   "conformance/compat/cases/layout-added-fail/", "none needed"},
  {"compat_allow_unused", W, "compat", {}, "a compat-allow.yaml entry matches no change (stale)",
   "", "",
   "conformance/compat/cases/allow-unused-fail/", "delete the entry"},
  };
  // clang-format on
}

}  // namespace

const std::vector<Rule>& rules() {
  static const std::vector<Rule> table = [] {
    auto t = make_rules();
    for (auto& r : t) r.reason = rule_reason(r.id, r.family, r.level);
    return t;
  }();
  return table;
}

const Rule* find_rule(std::string_view id) {
  for (const auto& r : rules()) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

Level rule_level(std::string_view id) {
  const Rule* r = find_rule(id);
  return r ? r->level : Level::error;
}

const std::vector<std::pair<std::string_view, std::string_view>>& rule_families() {
  static const std::vector<std::pair<std::string_view, std::string_view>> f = {
      {"container", "FDT container checks (type `decode`); a failure stops the checks after it"},
      {"value", "typed decoding of KHO property values"},
      {"abi", "ABI detection from the root compatible and the properties present"},
      {"schema", "the schema of the detected compatible (schemas/)"},
      {"image", "the memory image given with --memory"},
      {"map", "the preserved-memory map decoded from the image"},
      {"xref", "cross-references: sub-blob pointers, blob-size, blob preservation"},
      {"scratch", "scratch areas (--scratch)"},
      {"client", "the followed hand-over: every client structure behind the root (memblock, test_kho, kexec-metadata, "
                 "LUO sessions and files, memfd), its identity and the cardinal rule"},
      {"live", "live reads (--live)"},
      {"lint", "`khospec schema lint` on schema files"},
      {"compat", "`khospec compat OLD NEW`: changes between two schema sets or ABI dumps"},
  };
  return f;
}

Diagnostic make_finding(std::string_view rule, std::string file, std::optional<std::uint64_t> offset,
                        std::string node, std::string property, std::string message, std::string type,
                        std::vector<std::string> hints) {
  Diagnostic d;
  d.rule = std::string(rule);
  d.level = rule_level(rule);
  d.file = std::move(file);
  d.offset = offset;
  d.node = std::move(node);
  d.property = std::move(property);
  d.message = std::move(message);
  d.hints = std::move(hints);
  if (const Rule* r = find_rule(rule); r && !r->hint.empty()) d.hints.emplace_back(r->hint);
  d.type = std::move(type);
  return d;
}

std::string hex_u64(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

bool prereq_failed(std::string_view id, const Report& fired) {
  const Rule* r = find_rule(id);
  if (!r) return false;
  for (const auto& d : fired.diagnostics()) {
    if (d.level != Level::error) continue;
    for (auto p : r->prereqs) {
      if (p == d.rule) return true;
      if (p.rfind("family:", 0) == 0) {
        const Rule* fr = find_rule(d.rule);
        if (fr && fr->family == p.substr(7)) return true;
      }
    }
  }
  return false;
}

bool RuleConfig::set(std::string_view arg, bool is_error, std::string& error) {
  bool negate = false;
  if (arg.rfind("no-", 0) == 0) {
    negate = true;
    arg.remove_prefix(3);
  }
  std::vector<std::string> ids;
  if (arg.size() > 2 && arg.substr(arg.size() - 2) == ":*") {
    auto fam = arg.substr(0, arg.size() - 2);
    for (const auto& r : rules()) {
      if (r.family == fam) ids.emplace_back(r.id);
    }
    if (ids.empty()) {
      error = "unknown rule family '" + std::string(fam) + "' (see `khospec rules`)";
      return false;
    }
  } else {
    if (!find_rule(arg)) {
      error = "unknown rule '" + std::string(arg) + "' (see `khospec rules`)";
      return false;
    }
    ids.emplace_back(arg);
  }
  for (const auto& id : ids) {
    if (!is_error && negate) {
      disabled_.insert(id);
    } else {
      disabled_.erase(id);
      level_[id] = is_error && !negate ? Level::error : Level::warning;
    }
  }
  return true;
}

bool RuleConfig::apply_w(std::string_view arg, std::string& error) { return set(arg, false, error); }
bool RuleConfig::apply_e(std::string_view arg, std::string& error) { return set(arg, true, error); }

namespace {

namespace fs = std::filesystem;

// An input's path made absolute against `base` and normalised ("./x/a.dtb",
// "x//a.dtb" and "/abs/x/a.dtb" name one file). "-" (stdin) stays as it is.
std::string absolute_name(const std::string& file, const fs::path& base) {
  if (file.empty() || file == "-") return file;
  const fs::path p(file);
  return (p.is_absolute() ? p : base / p).lexically_normal().string();
}

fs::path directory_of(const std::string& path) {
  std::error_code ec;
  return fs::absolute(fs::path(path), ec).parent_path();
}

// FNV-1a, 64 bits: a content match for baselines, not a security property.
std::string content_hash(std::span<const std::uint8_t> bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ULL;
  char buf[32];
  std::snprintf(buf, sizeof buf, "fnv1a64:%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> f;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t tab = line.find('\t', pos);
    f.push_back(line.substr(pos, tab == std::string::npos ? std::string::npos : tab - pos));
    if (tab == std::string::npos) return f;
    pos = tab + 1;
  }
}

}  // namespace

void RuleConfig::add_input(const std::string& name, std::span<const std::uint8_t> bytes) {
  hashes_[name] = content_hash(bytes);
}

bool RuleConfig::load_baseline(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open baseline";
    return false;
  }
  const fs::path dir = directory_of(path);
  int lineno = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const auto f = split_tabs(line);
    if ((f.size() != 4 && f.size() != 5) || (f.size() == 5 && f[4].rfind("fnv1a64:", 0) != 0)) {
      error = path + ":" + std::to_string(lineno) + ": expected rule<TAB>file<TAB>node<TAB>property[<TAB>fnv1a64:HASH]";
      return false;
    }
    // An entry costs ~100 bytes however short its line: a limit keeps a hostile
    // baseline's memory near its size (docs/fuzz.md).
    if (baseline_.size() >= kMaxBaseline) {
      error = path + ":" + std::to_string(lineno) + ": more than " + std::to_string(kMaxBaseline) + " entries";
      return false;
    }
    baseline_.push_back({f[0], f[1], f[2], f[3], absolute_name(f[1], dir), f.size() == 5 ? f[4] : ""});
  }
  return true;
}

bool RuleConfig::accepts(const Accepted& a, const Diagnostic& d) const {
  if (a.rule != d.rule || a.node != d.node || a.property != d.property) return false;
  if (a.file == d.file) return true;
  std::error_code ec;
  if (a.resolved == absolute_name(d.file, fs::current_path(ec))) return true;
  if (a.hash.empty()) return false;
  const auto it = hashes_.find(d.file);
  return it != hashes_.end() && it->second == a.hash;
}

Report RuleConfig::filter(const Report& in) const {
  Report out;
  for (Diagnostic d : in.diagnostics()) {
    if (disabled_.count(d.rule)) continue;
    if (std::any_of(baseline_.begin(), baseline_.end(), [&](const Accepted& a) { return accepts(a, d); })) continue;
    if (auto it = level_.find(d.rule); it != level_.end()) d.level = it->second;
    out.add(std::move(d));
  }
  return out;
}

bool RuleConfig::write_baseline(const std::string& path, const Report& report, std::string& error) const {
  std::ofstream o(path, std::ios::trunc);
  if (!o) {
    error = "cannot write baseline '" + path + "'";
    return false;
  }
  o << "# khospec baseline: accepted findings, one per line: rule<TAB>file<TAB>node<TAB>property<TAB>content hash\n"
       "# (file relative to this baseline's directory; the hash matches the same bytes under any name)\n";
  const fs::path dir = directory_of(path);
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  std::set<std::string> lines;
  for (const auto& d : report.diagnostics()) {
    std::string file = d.file;
    if (!file.empty() && file != "-") {
      const fs::path abs(absolute_name(file, cwd));
      const fs::path rel = abs.lexically_relative(dir);
      file = (rel.empty() ? abs : rel).string();
    }
    std::string line = d.rule + "\t" + file + "\t" + d.node + "\t" + d.property;
    if (auto it = hashes_.find(d.file); it != hashes_.end()) line += "\t" + it->second;
    lines.insert(line);
  }
  for (const auto& l : lines) o << l << "\n";
  o.flush();
  if (!o) {
    error = "writing '" + path + "' failed";
    return false;
  }
  return true;
}

}  // namespace khospec
