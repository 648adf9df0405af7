#include "model/kho/era.hpp"

namespace khospec::model {

namespace {

// Sources: kernel/kexec_handover.c at 6.16 (00c010e1) and 6.18 (a4a508df);
// kernel/liveupdate/kexec_handover.c at 6.19 (dd03dd60) and the radix
// rewrite (019fc368); include/linux/kho/abi/kexec_handover.h (kho-v2..v4).
constexpr EraTraits kTraits[] = {
    {KhoEra::v6_16, "v6.16", "kho-v1", "fdt", false, MemMapFormat::bitmap512,
     FinalizeModel::notifier_abort, /*root_fdt_at_boot*/ false, /*busy*/ true,
     /*fill_needs_finalized*/ false, /*populate_needs_map*/ false, /*zero_rejected*/ true,
     /*full_parse*/ false, /*round_explicit*/ false, /*memory_nodes*/ false, /*magic*/ false,
     /*restore_once*/ false, /*preserve_pages*/ false, /*vmalloc*/ false, /*unpreserve*/ false,
     /*alloc_preserve*/ false, /*debug_check*/ false, /*unpreserve_hangs*/ true,
     /*kexec_metadata*/ false, /*kho_block*/ false, /*luo*/ false, "late_initcall",
     "found kexec handover data. Will skip init for some devices"},
    {KhoEra::v6_18, "v6.18", "kho-v1", "fdt", false, MemMapFormat::bitmap_page,
     FinalizeModel::notifier_abort, false, true, /*fill_needs_finalized*/ true, false,
     /*zero_rejected*/ false, /*full_parse*/ true, /*round_explicit*/ true, false, /*magic*/ true,
     /*restore_once*/ true, /*preserve_pages*/ true, /*vmalloc*/ true, false, false,
     /*debug_check*/ true, false, false, false, false, "late_initcall",
     "found kexec handover data. Will skip init for some devices"},
    {KhoEra::v6_19, "v6.19", "kho-v1", "fdt", false, MemMapFormat::bitmap_page,
     FinalizeModel::refresh, /*root_fdt_at_boot*/ true, /*busy*/ false, false,
     /*populate_needs_map*/ true, false, true, true, false, true, true, true, true,
     /*unpreserve*/ true, /*alloc_preserve*/ true, true, false, false, false, /*luo*/ true,
     "fs_initcall", "found kexec handover data."},
    {KhoEra::kho_v2, "kho-v2", "kho-v2", "preserved-data", false, MemMapFormat::radix,
     FinalizeModel::none, true, false, false, true, false, true, true, /*memory_nodes*/ true, true,
     true, true, true, true, true, true, false, false, false, true, "fs_initcall",
     "found kexec handover data."},
    {KhoEra::kho_v3, "kho-v3", "kho-v3", "preserved-data", /*blob_size*/ true,
     MemMapFormat::radix, FinalizeModel::none, true, false, false, true, false, true, true, true,
     true, true, true, true, true, true, true, false, false, false, true, "fs_initcall",
     "found kexec handover data."},
    {KhoEra::kho_v4, "kho-v4", "kho-v4", "preserved-data", true, MemMapFormat::radix,
     FinalizeModel::none, true, false, false, true, false, true, true, true, true, true, true, true,
     true, true, true, false, /*kexec_metadata*/ true, /*kho_block*/ true, true, "fs_initcall",
     "found kexec handover data."},
};

}  // namespace

const EraTraits& era_traits(KhoEra era) { return kTraits[static_cast<int>(era)]; }

std::string_view era_name(KhoEra era) { return era_traits(era).name; }

std::optional<KhoEra> parse_era(std::string_view name) {
  if (name.rfind("v", 0) != 0 && name.rfind("kho", 0) != 0 && !name.empty() &&
      name[0] >= '0' && name[0] <= '9') {
    std::string with_v = "v" + std::string(name);
    return parse_era(with_v);
  }
  for (const auto& t : kTraits) {
    if (t.name == name) return t.era;
  }
  if (name == "stateless" || name == "7.x" || name == "v7") return KhoEra::kho_v4;
  return std::nullopt;
}

}  // namespace khospec::model
