// Why each rule has its level: the consequence in the next kernel (or for
// khospec's own verdict). The rule: whatever makes the next kernel misread,
// lose or leak preserved data is an error (exit 100); what it reads correctly
// anyway is a warning; facts worth knowing are info. docs/rules.md shows these
// next to each rule; a test checks every rule has one.
#include <string_view>
#include <utility>

#include "core/rules.hpp"

namespace khospec {

namespace {

constexpr std::pair<std::string_view, std::string_view> kReasons[] = {
    // container: libfdt (fdt_check_header(), fdt_check_full()) refuses the blob, so the
    // next kernel reads no hand-over at all (kho_populate() fails) and every client loses its state.
    {"fdt_empty", "no FDT: the next kernel reads no hand-over and every preserved client is lost"},
    {"fdt_too_large", "khospec cannot read it whole, so nothing below it can be vouched for"},
    {"fdt_truncated", "libfdt refuses it: kho_populate() fails and every client is lost"},
    {"fdt_unfinished", "libfdt refuses it (FDT_ERR_BADSTATE): every client is lost"},
    {"fdt_bad_magic", "not an FDT: the reader refuses it and the state behind it is lost"},
    {"fdt_bad_version", "libfdt refuses it: every client is lost"},
    {"fdt_block_out_of_bounds", "libfdt refuses it: every client is lost"},
    {"fdt_misaligned_rsvmap", "libfdt refuses it: every client is lost"},
    {"fdt_misaligned_struct", "libfdt refuses it: every client is lost"},
    {"fdt_misaligned_strings", "libfdt reads it correctly; only the producer is unusual"},
    {"fdt_version_not_17", "libfdt reads version 16 correctly; only the producer is unusual"},
    {"fdt_bad_structure", "fdt_check_full() refuses it: every client is lost"},
    {"fdt_bad_name_offset", "property names read from outside the blob: the reader misreads or refuses it"},
    {"fdt_two_roots", "libfdt sees only the first tree: the second one's clients are lost"},
    {"fdt_named_root", "fdt_check_full() refuses it: every client is lost"},
    {"fdt_property_after_subnode", "fdt_getprop() never finds the property: its value is lost"},
    {"fdt_rsvmap_not_empty", "KHO ignores the reservation map; nothing is misread"},
    {"fdt_duplicate_node_name", "the reader finds only the first child: the second client is lost"},
    {"fdt_duplicate_property_name", "the reader finds only the first value: the second is lost"},
    {"fdt_too_deep", "not decoded further, so nothing below can be vouched for"},
    // value
    {"kho_prop_len_u32", "the kernel's length check fails: the value (and the client) is lost"},
    {"kho_prop_len_u64", "the kernel's length check fails: the value (and the client) is lost"},
    {"kho_prop_len_phys_addr", "kho_retrieve_subtree()/kho_populate() reject it: the pointed-to state is lost"},
    {"kho_prop_len_string_list", "fdt_node_check_compatible() fails: the blob is refused"},
    {"kho_prop_len_u64_array", "the reader reads a partial entry: the array is misread"},
    {"kho_prop_len_u32_array", "the reader reads a partial entry: the array is misread"},
    // abi
    {"kho_abi_missing_compatible", "kho_populate() refuses the hand-over: every client is lost"},
    {"kho_abi_unknown", "no kernel reads this format: every client is lost"},
    {"kho_abi_mismatch", "the named kernel refuses the hand-over: every client is lost"},
    {"kho_abi_properties_mismatch", "the extra properties are never read and nothing is misread; a missing "
                                    "required one is schema_required"},
    // schema
    {"schema_required", "the reader fails without it: the client (or the whole hand-over) is lost"},
    {"schema_const", "the reader's own check fails: the client is refused"},
    {"schema_enum", "the reader refuses values it does not know: the client is refused"},
    {"schema_minimum", "a zero or too-small pointer or count: the reader fails or reads the wrong place"},
    {"schema_maximum", "a value beyond the reader's bound: it is refused or misread"},
    {"schema_multiple_of", "the writer's pages are aligned: an unaligned map root makes the next kernel read its "
                           "map from the wrong place, an unaligned reserve_mem start loses its last partial page, an "
                           "unaligned LUO block cannot be restored (kho_restore_free() fails: a leak)"},
    {"schema_unknown_property", "the kernel ignores it; nothing is misread"},
    {"schema_unknown_node", "the kernel ignores it; nothing is misread"},
    // image: khospec's input, not the hand-over
    {"kho_image_empty", "nothing can be followed: a clean result would vouch for memory khospec never saw"},
    {"kho_image_bad_elf", "nothing can be followed: a clean result would vouch for memory khospec never saw"},
    {"kho_image_segment_out_of_bounds", "part of the image cannot be read: its pointers cannot be vouched for"},
    {"kho_image_no_memory", "nothing can be followed: a clean result would vouch for memory khospec never saw"},
    {"kho_image_segment_overlap", "the first segment is used; the hand-over itself is not affected"},
    {"kho_image_addr_missing", "the pointed-to structure cannot be checked: a clean result would vouch for memory "
                               "khospec never read (the captures' README explains which pages a dump holds)"},
    // reader profiles
    {"kho_reader_refuses", "that kernel refuses the hand-over: every client is lost"},
    {"kho_reader_misreads", "that kernel decodes a different preserved set: data is lost or overwritten"},
    // map
    {"kho_map_empty", "nothing preserved is a valid hand-over (6.16-6.18 accept it); a blob that needs preserving "
                      "is kho_not_preserved"},
    {"kho_map_misaligned", "the next kernel reads a node from the wrong place: the preserved set is misread"},
    {"kho_map_order_invalid", "no page size gives that order: the block is misread or dropped"},
    {"kho_map_order_above_max", "memblock keeps the block, but a 6.16-6.19 kernel cannot restore it; radix-era "
                                "kernels can, so a radix map never reports it"},
    {"kho_map_chunk_capacity", "the reader walks past the chunk: the preserved set is misread"},
    {"kho_map_order_unsorted", "the reader does not depend on the order; nothing is misread"},
    {"kho_map_cycle", "the reader loops or stops early: the preserved set is misread"},
    {"kho_map_bitmap_null", "the reader dereferences address 0: the preserved set is misread"},
    {"kho_map_phys_start_misaligned", "the bits name other pages than the writer meant: the set is misread"},
    {"kho_map_bitmap_size_ambiguous", "the dump alone cannot say which bitmap size the writer used; with --as the "
                                      "misread itself is kho_reader_misreads"},
    {"kho_map_radix_index", "no physical address gives that key: the block is misread"},
    {"kho_map_too_many", "the map was not decoded whole: every preservation check would vouch for blocks khospec "
                         "never saw"},
    {"kho_map_overlap", "two blocks claim the same pages: both are reserved, the head page's order and magic are "
                        "written twice, and one owner's restore fails or takes the other's pages"},
    // xref
    {"kho_blob_null", "the client reads physical address 0: its state is lost"},
    {"kho_blob_size_zero", "the client gets an empty blob: its state is lost"},
    {"kho_blob_size_mismatch", "readers use the blob's own size (FDT totalsize, the struct); kexec-metadata shorter "
                               "than 73 is ignored (metadata only)"},
    {"kho_fdt_not_preserved", "the next kernel may reuse the root FDT's page before reading it: the hand-over is lost"},
    {"kho_subfdt_invalid", "the client's reader refuses the blob: its state is lost"},
    // scratch
    {"kho_scratch_zero_size", "real kernels emit it; memblock_add() of 0 bytes does nothing"},
    {"kho_scratch_misaligned", "the next kernel still allocates inside it; only unusual"},
    {"kho_scratch_overlap", "the next kernel allocates from scratch before reserving preserved memory: the data is "
                            "overwritten"},
    // client (the followed hand-over)
    {"kho_not_preserved", "the next kernel hands the pages to its allocator (data lost or overwritten), or its restore "
                          "call fails on the missing block head or order (the client's state is lost)"},
    {"kho_client_format_mismatch", "the client's reader refuses the blob (or, for LUO, live update is disabled): "
                                   "its state is lost"},
    {"kho_client_unknown", "nothing the known clients read is affected; the blob is still checked for preservation"},
    {"kho_follow_limit", "the structures after the limit are not checked: a clean result would vouch for them"},
    {"kho_block_chain_invalid", "kho_block_set_restore() refuses the chain: every session (or file) in it is lost"},
    {"kho_luo_invalid", "luo_session_deserialize() fails: no session can be retrieved, and the preserved files are "
                        "lost until the next reboot frees them"},
    {"kho_luo_file_unknown", "depends on the next kernel's configuration (a handler of that name), not on the "
                             "hand-over; the entry itself is checked"},
    {"kho_memfd_invalid", "the file cannot be retrieved (-EOPNOTSUPP, -EEXIST, -EINVAL), its data sits past EOF, or "
                          "folios are never restored and leak"},
    {"kho_memfd_unexpected", "the reader restores it as is; nothing is misread"},
    {"kho_test_invalid", "kho_test_restore_data() reads past the array: the checksum test fails"},
    {"kho_vmalloc_invalid", "kho_restore_vmalloc() returns NULL: the vmalloc user's data is lost"},
    {"kho_metadata_invalid", "the kernel ignores or cuts the metadata; no client state depends on it"},
    {"kho_metadata_chain", "the kernel reports a wrong kexec history; no client state depends on it"},
    // live
    {"kho_live_source", "says what was read; nothing is wrong"},
    {"kho_live_no_fdt", "the machine is not handing anything over yet (or khospec may not read it): nothing is "
                        "lost, but nothing was checked either, so it is not silent"},
    {"kho_live_debugfs_truncated", "a debugfs artefact: the root is read from memory instead and checked whole"},
    {"kho_live_root_from_memory", "says where the root was read; nothing is wrong"},
    {"kho_live_unverified", "the hand-over was not checked: not silent, but nothing in it is known to be wrong"},
};

}  // namespace

std::string_view rule_reason(std::string_view id, std::string_view family, Level level) {
  for (const auto& [r, why] : kReasons)
    if (r == id) return why;
  // lint and compat are about schema sets and ABIs, not one hand-over.
  if (family == "lint")
    return level == Level::error ? "a defect that makes the validator check hand-overs against the wrong rules"
                                 : "harmless to validation";
  if (family == "compat") {
    switch (level) {
      case Level::error: return "kernels on one side misread or refuse the other side's hand-overs";
      case Level::warning: return "compatible by the rules, but worth a reviewer's look";
      case Level::info: return "an addition no reader is affected by";
    }
  }
  return {};
}

}  // namespace khospec
