// KHO kernel eras and every behavioural difference between them, in one table.
//
// KHO changed from its 6.16 merge (kernel/kexec_handover.c) to the stateless
// kho-v4 of Linux 7.2 (kernel/liveupdate/kexec_handover.c);
// docs/kernel-behaviour.md states each behaviour with its release. Each
// difference is a field of EraTraits; model code asks the traits, never the
// era name.
#pragma once

#include <optional>
#include <string_view>

#include "model/kho/mem_track.hpp"

namespace khospec::model {

enum class KhoEra { v6_16, v6_18, v6_19, kho_v2, kho_v3, kho_v4 };

// How the outgoing kernel decides what the next kernel gets.
enum class FinalizeModel {
  notifier_abort,  // 6.16/6.18: debugfs finalize 1/0, FINALIZE/ABORT notifier chain
  refresh,         // 6.19: in-kernel kho_finalize() re-serializes; write 0 -> -EINVAL
  none,            // stateless: no finalize at all
};

struct EraTraits {
  KhoEra era;
  std::string_view name;            // "v6.16", "kho-v4"
  std::string_view compatible;      // root compatible written and required
  std::string_view subtree_prop;    // "fdt" (kho-v1) or "preserved-data"
  bool blob_size;                   // children carry "blob-size" (kho-v3+)
  MemMapFormat mem_map;             // bitmaps (both sizes) or radix
  FinalizeModel finalize;
  bool root_fdt_at_boot;            // 6.19+: root FDT built at kho_init, edited with fdt_rw
  bool busy_when_finalized;         // 6.16/6.18: preserve -> -EBUSY after finalize
  bool fill_kimage_needs_finalized; // 6.18: no KHO data unless finalized (6.16 hands an unfinished page)
  bool populate_needs_map;          // 6.19+: preserved-memory-map must be non-zero
  bool scratch_zero_rejected;       // 6.16: any zero kho_scratch= component is -EINVAL
  bool scratch_full_parse;          // 6.18+: trailing characters are -EINVAL; total must be non-zero
  bool scratch_round_explicit;      // 6.18+: explicit lowmem/global are rounded to pageblocks too
  bool scratch_memory_nodes;        // kho-v2+: one area per node with memory (not per online node)
  bool page_magic;                  // 6.18+: page->private = {order, "KHOP"}; restore checks it
  bool restore_once;                // 6.18+: private cleared on restore
  bool preserve_pages;              // 6.18+: kho_preserve_pages (6.16: kho_preserve_phys)
  bool vmalloc;                     // 6.18+: kho_preserve_vmalloc
  bool unpreserve_api;              // 6.19+: kho_unpreserve_*
  bool alloc_preserve;              // 6.19+: kho_alloc_preserve
  bool debug_scratch_check;         // 6.18+: CONFIG_KEXEC_HANDOVER_DEBUG can WARN -> -EINVAL
  bool unpreserve_hangs;            // 6.16: __kho_unpreserve() 'continue's without advancing (obs)
  bool kexec_metadata;              // kho-v4 (7.x): kexec-metadata child always registered
  bool kho_block;                   // kho-v4: linked kho_block serialization available
  bool luo;                         // 6.19+: Live Update Orchestrator exists
  std::string_view kho_init_stage;  // "late_initcall" (6.16/6.18) or "fs_initcall"
  std::string_view populate_ok_msg; // what kho_populate() logs on success
};

const EraTraits& era_traits(KhoEra era);
std::optional<KhoEra> parse_era(std::string_view name);  // "v6.16", "6.16", "kho-v4", "stateless"
std::string_view era_name(KhoEra era);
inline constexpr KhoEra kAllEras[] = {KhoEra::v6_16, KhoEra::v6_18, KhoEra::v6_19,
                                      KhoEra::kho_v2, KhoEra::kho_v3, KhoEra::kho_v4};

}  // namespace khospec::model
