#include "registry/era.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace khospec::registry {

namespace {

// The eras, oldest first. Sources: kernel/kexec_handover.c at 6.16 (00c010e1)
// and 6.18 (a4a508df); kernel/liveupdate/kexec_handover.c at 6.19 (dd03dd60);
// the radix rewrite 3f2ad90060f6 (kho-v2), 85e41392820f "kho: persist blob
// size in KHO FDT" (kho-v3), 0349ff288705 "kho: add support for linked-block
// serialization" (kho-v4). docs/eras.md lists them with the releases.
constexpr Era kEras[] = {
    {.id = EraId::v6_16, .name = "v6.16", .first_release = "6.16", .last_release = "6.17", .not_shipped = "",
     .compatible = "kho-v1", .subtree_prop = "fdt", .blob_size = false, .mem_map = MemMapFormat::bitmap512,
     .finalize = FinalizeModel::notifier_abort, .root_fdt_at_boot = false, .busy_when_finalized = true,
     .fill_kimage_needs_finalized = false, .populate_needs_map = false, .scratch_zero_rejected = true,
     .scratch_full_parse = false, .scratch_round_explicit = false, .scratch_memory_nodes = false,
     .page_magic = false, .restore_once = false, .preserve_pages = false, .vmalloc = false,
     .unpreserve_api = false, .alloc_preserve = false, .debug_scratch_check = false, .unpreserve_hangs = true,
     .kexec_metadata = false, .kho_block = false, .luo = false, .kho_init_stage = "late_initcall",
     .populate_ok_msg = "found kexec handover data. Will skip init for some devices"},
    {.id = EraId::v6_18, .name = "v6.18", .first_release = "6.18", .last_release = "6.18", .not_shipped = "",
     .compatible = "kho-v1", .subtree_prop = "fdt", .blob_size = false, .mem_map = MemMapFormat::bitmap_page,
     .finalize = FinalizeModel::notifier_abort, .root_fdt_at_boot = false, .busy_when_finalized = true,
     .fill_kimage_needs_finalized = true, .populate_needs_map = false, .scratch_zero_rejected = false,
     .scratch_full_parse = true, .scratch_round_explicit = true, .scratch_memory_nodes = false,
     .page_magic = true, .restore_once = true, .preserve_pages = true, .vmalloc = true,
     .unpreserve_api = false, .alloc_preserve = false, .debug_scratch_check = true, .unpreserve_hangs = false,
     .kexec_metadata = false, .kho_block = false, .luo = false, .kho_init_stage = "late_initcall",
     .populate_ok_msg = "found kexec handover data. Will skip init for some devices"},
    {.id = EraId::v6_19, .name = "v6.19", .first_release = "6.19", .last_release = "7.0", .not_shipped = "",
     .compatible = "kho-v1", .subtree_prop = "fdt", .blob_size = false, .mem_map = MemMapFormat::bitmap_page,
     .finalize = FinalizeModel::refresh, .root_fdt_at_boot = true, .busy_when_finalized = false,
     .fill_kimage_needs_finalized = false, .populate_needs_map = true, .scratch_zero_rejected = false,
     .scratch_full_parse = true, .scratch_round_explicit = true, .scratch_memory_nodes = false,
     .page_magic = true, .restore_once = true, .preserve_pages = true, .vmalloc = true,
     .unpreserve_api = true, .alloc_preserve = true, .debug_scratch_check = true, .unpreserve_hangs = false,
     .kexec_metadata = false, .kho_block = false, .luo = true, .kho_init_stage = "fs_initcall",
     .populate_ok_msg = "found kexec handover data."},
    {.id = EraId::kho_v2, .name = "kho-v2", .first_release = "", .last_release = "",
     .not_shipped = "only between 3f2ad90060f6 and 85e41392820f inside the 7.1 merge window, and in mm-tree builds",
     .compatible = "kho-v2", .subtree_prop = "preserved-data", .blob_size = false, .mem_map = MemMapFormat::radix,
     .finalize = FinalizeModel::none, .root_fdt_at_boot = true, .busy_when_finalized = false,
     .fill_kimage_needs_finalized = false, .populate_needs_map = true, .scratch_zero_rejected = false,
     .scratch_full_parse = true, .scratch_round_explicit = true, .scratch_memory_nodes = true,
     .page_magic = true, .restore_once = true, .preserve_pages = true, .vmalloc = true,
     .unpreserve_api = true, .alloc_preserve = true, .debug_scratch_check = true, .unpreserve_hangs = false,
     .kexec_metadata = false, .kho_block = false, .luo = true, .kho_init_stage = "fs_initcall",
     .populate_ok_msg = "found kexec handover data."},
    {.id = EraId::kho_v3, .name = "kho-v3", .first_release = "7.1", .last_release = "7.1", .not_shipped = "",
     .compatible = "kho-v3", .subtree_prop = "preserved-data", .blob_size = true, .mem_map = MemMapFormat::radix,
     .finalize = FinalizeModel::none, .root_fdt_at_boot = true, .busy_when_finalized = false,
     .fill_kimage_needs_finalized = false, .populate_needs_map = true, .scratch_zero_rejected = false,
     .scratch_full_parse = true, .scratch_round_explicit = true, .scratch_memory_nodes = true,
     .page_magic = true, .restore_once = true, .preserve_pages = true, .vmalloc = true,
     .unpreserve_api = true, .alloc_preserve = true, .debug_scratch_check = true, .unpreserve_hangs = false,
     .kexec_metadata = false, .kho_block = false, .luo = true, .kho_init_stage = "fs_initcall",
     .populate_ok_msg = "found kexec handover data."},
    {.id = EraId::kho_v4, .name = "kho-v4", .first_release = "7.2", .last_release = "7.4-rc1", .not_shipped = "",
     .compatible = "kho-v4", .subtree_prop = "preserved-data", .blob_size = true, .mem_map = MemMapFormat::radix,
     .finalize = FinalizeModel::none, .root_fdt_at_boot = true, .busy_when_finalized = false,
     .fill_kimage_needs_finalized = false, .populate_needs_map = true, .scratch_zero_rejected = false,
     .scratch_full_parse = true, .scratch_round_explicit = true, .scratch_memory_nodes = true,
     .page_magic = true, .restore_once = true, .preserve_pages = true, .vmalloc = true,
     .unpreserve_api = true, .alloc_preserve = true, .debug_scratch_check = true, .unpreserve_hangs = false,
     .kexec_metadata = true, .kho_block = true, .luo = true, .kho_init_stage = "fs_initcall",
     .populate_ok_msg = "found kexec handover data."},
};

// debugfs kho/: 6.16-7.0 have out/finalize; from 7.1 (6b0dd42d7681 "kho:
// remove finalize state and clients") out/fdt is made once at kho_init()
// and not at all on a KHO boot (seen on 7.3.4); 7.4-rc1 renames scratch to
// boot memory ("Rename 'KHO scratch' to 'KHO boot memory'", bootmem_* files).
constexpr DebugfsLayout kDebugfsFinalize{"scratch_phys", "scratch_len", true, false};
constexpr DebugfsLayout kDebugfsStateless{"scratch_phys", "scratch_len", false, true};
constexpr DebugfsLayout kDebugfsBootmem{"bootmem_phys", "bootmem_len", false, true};

constexpr Release kReleases[] = {
    {"6.16", EraId::v6_16, kDebugfsFinalize, "kho_scratch"},
    {"6.17", EraId::v6_16, kDebugfsFinalize, "kho_scratch"},
    {"6.18", EraId::v6_18, kDebugfsFinalize, "kho_scratch"},
    {"6.19", EraId::v6_19, kDebugfsFinalize, "kho_scratch"},
    {"7.0", EraId::v6_19, kDebugfsFinalize, "kho_scratch"},
    {"7.1", EraId::kho_v3, kDebugfsStateless, "kho_scratch"},
    {"7.2", EraId::kho_v4, kDebugfsStateless, "kho_scratch"},
    {"7.3", EraId::kho_v4, kDebugfsStateless, "kho_scratch"},
    {"7.4-rc1", EraId::kho_v4, kDebugfsBootmem, "kho_bootmem"},
};

// Client formats by release. memblock: mm/memblock.c reserve_mem_kho_*
// (6.16); test_kho: lib/test_kho.c (6.17); LUO: kernel/liveupdate/luo_core.c,
// an FDT "luo-v1" from 6.19 (with the luo-flb node from 7.0) and the raw
// struct luo_ser "luo-v5" from 7.2 (d376e4b55c9a..1d1153097f4d); memfd:
// mm/memfd_luo.c, "memfd-v2" (seals) from 7.1 (8a552d68a86e); kexec-metadata:
// 76aa46b9e404 "kho: kexec-metadata: track previous kernel chain" (7.1).
constexpr ClientFormat kClients[] = {
    {"memblock", "memblock", "memblock-v1", BlobKind::fdt, "6.16", ""},
    {"kho_test", "kho_test", "kho-test-v1", BlobKind::fdt, "6.17", ""},
    {"luo", "LUO", "luo-v1", BlobKind::fdt, "6.19", "7.1"},
    {"luo-flb", "LUO", "luo-flb-v1", BlobKind::fdt, "7.0", "7.1"},
    {"luo", "LUO", "luo-v5", BlobKind::raw, "7.2", ""},
    {"memfd", "", "memfd-v1", BlobKind::raw, "6.19", "7.0"},
    {"memfd", "", "memfd-v2", BlobKind::raw, "7.1", ""},
    {"kexec-metadata", "kexec-metadata", "", BlobKind::raw, "7.1", "", 1},
};

struct Version {
  int major = 0, minor = 0;
};

std::optional<Version> parse_version(std::string_view s) {
  if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) s.remove_prefix(1);
  Version v;
  std::size_t i = 0;
  auto number = [&](int& out) {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 4) out = out * 10 + (s[i++] - '0');
    return i > start;
  };
  if (!number(v.major) || i >= s.size() || s[i] != '.') return std::nullopt;
  ++i;
  if (!number(v.minor)) return std::nullopt;
  // The rest may be ".PATCH", "-rcN", "-anything" (uname -r style), nothing else.
  if (i < s.size() && s[i] != '.' && s[i] != '-' && s[i] != '+') return std::nullopt;
  return v;
}

}  // namespace

std::string ClientFormat::label() const {
  if (!compatible.empty()) return std::string(compatible);
  return std::string(family) + " version " + std::to_string(struct_version);
}

std::uint64_t Era::bitmap_bytes() const {
  switch (mem_map) {
    case MemMapFormat::bitmap512: return 512;
    case MemMapFormat::bitmap_page: return 4096;
    case MemMapFormat::radix: return 0;
  }
  return 0;
}

std::span<const Era> eras() { return kEras; }
std::span<const EraId> era_ids() {
  static const auto ids = [] {
    std::array<EraId, std::size(kEras)> a{};
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = kEras[i].id;
    return a;
  }();
  return ids;
}
std::span<const Release> releases() { return kReleases; }
std::span<const ClientFormat> client_formats() { return kClients; }
const Era& era(EraId id) { return kEras[static_cast<int>(id)]; }
std::string_view era_name(EraId id) { return era(id).name; }

std::span<const Release> releases_of(EraId e) {
  const auto* first = std::find_if(std::begin(kReleases), std::end(kReleases), [&](const Release& r) { return r.era == e; });
  const auto* last = std::find_if(first, std::end(kReleases), [&](const Release& r) { return r.era != e; });
  return {first, last};
}

int compare_versions(std::string_view a, std::string_view b) {
  auto va = parse_version(a), vb = parse_version(b);
  if (!va || !vb) return a < b ? -1 : a > b ? 1 : 0;
  if (va->major != vb->major) return va->major < vb->major ? -1 : 1;
  if (va->minor != vb->minor) return va->minor < vb->minor ? -1 : 1;
  return 0;
}

bool writes(const Release& r, const ClientFormat& f) {
  return compare_versions(r.version, f.first_release) >= 0 &&
         (f.last_release.empty() || compare_versions(r.version, f.last_release) <= 0);
}

std::string Resolved::describe() const {
  std::string s(era->name);
  if (release) return s + " (release " + std::string(release->version) + ")";
  if (!era->not_shipped.empty()) return s + " (no release writes it)";
  return s + " (releases " + std::string(era->first_release) + "-" + std::string(era->last_release) + ")";
}

std::optional<Resolved> resolve(std::string_view name) {
  for (const Era& e : kEras)
    if (e.name == name) return Resolved{&e, nullptr};
  const auto v = parse_version(name);
  if (!v) return std::nullopt;
  for (const Release& r : kReleases) {
    const auto rv = parse_version(r.version);
    if (rv && rv->major == v->major && rv->minor == v->minor) return Resolved{&era(r.era), &r};
  }
  return std::nullopt;
}

std::string valid_names() {
  std::string s = "an era (";
  for (const Era& e : kEras) s += std::string(&e == kEras ? "" : ", ") + std::string(e.name);
  s += ") or a release (";
  for (const Release& r : kReleases) s += std::string(&r == kReleases ? "" : ", ") + std::string(r.version);
  return s + ")";
}

}  // namespace khospec::registry
