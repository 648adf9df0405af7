#include "registry/clients.hpp"

namespace khospec::registry {

namespace {

// One row per client format (the same labels as era.cpp's kClients).
constexpr ClientIdentity kIdentities[] = {
    {"memblock-v1", "", "reserve_mem_kho_revive() (mm/memblock.c)"},
    {"kho-test-v1", "", "kho_test_restore() (lib/test_kho.c)"},
    {"luo-v1", "", "luo_early_startup() (kernel/liveupdate/luo_core.c)"},
    {"luo-flb-v1", "", "luo_flb_setup_incoming() (kernel/liveupdate/luo_flb.c)"},
    {"luo-v5", "luo_ser", "luo_early_startup() (kernel/liveupdate/luo_core.c)"},
    {"memfd-v1", "memfd_luo_ser_v1", "memfd_luo_retrieve() (mm/memfd_luo.c)"},
    // MEMFD_LUO_ALL_SEALS: F_SEAL_SEAL | SHRINK | GROW | WRITE | FUTURE_WRITE | EXEC (8a552d68a86e).
    {"memfd-v2", "memfd_luo_ser_v2", "memfd_luo_retrieve() (mm/memfd_luo.c)", 0x3f},
    {"kexec-metadata version 1", "kho_kexec_metadata",
     "kho_in_kexec_metadata() (kernel/liveupdate/kexec_handover.c)"},
};

}  // namespace

std::span<const ClientIdentity> client_identities() { return kIdentities; }

const ClientIdentity& identity(const ClientFormat& f) {
  static const ClientIdentity none{};
  const std::string l = f.label();
  for (const ClientIdentity& i : kIdentities)
    if (i.label == l) return i;
  return none;
}

bool written_under(std::string_view root_compatible, const ClientFormat& f) {
  bool shipped = false;
  for (const Era& e : eras()) {
    if (e.compatible != root_compatible) continue;
    for (const Release& r : releases_of(e.id)) {
      shipped = true;
      if (writes(r, f)) return true;
    }
  }
  return !shipped;
}

std::vector<const ClientFormat*> formats_of_node(std::string_view node) {
  std::vector<const ClientFormat*> out;
  for (const ClientFormat& f : client_formats())
    if (!node.empty() && f.node == node) out.push_back(&f);
  return out;
}

const ClientFormat* format_by_label(std::string_view label) {
  for (const ClientFormat& f : client_formats())
    if (f.label() == label) return &f;
  return nullptr;
}

}  // namespace khospec::registry
