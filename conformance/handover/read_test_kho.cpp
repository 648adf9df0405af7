// kho-test-v1: lib/test_kho.c kho_test_restore() and kho_test_restore_data(),
// 7.3 (6.17+). /data holds nr_folios (u32), csum (u32) and folios_info: an
// inline u64 array of phys | order in the first version (6.17), a 16-byte
// struct kho_vmalloc of that array later (6.18+). Each folio is restored with
// kho_restore_folio() and must come back at the order its entry names.
#include "conformance/handover/readers.hpp"

namespace khospec::conformance::follow {

void read_test_kho(Walk& w, HandoverNode& client, const fdt::FlatTree& sub) {
  if (sub.nodes.empty()) return;
  const int di = sub.child(sub.nodes.front(), "data");
  if (di < 0) return;  // schema_required
  const fdt::FlatNode& data = sub.nodes[static_cast<std::size_t>(di)];
  auto nr = prop_u32(sub, data, "nr_folios", w.endian());
  const fdt::FlatProp* fi = sub.prop(data, "folios_info");
  if (!nr || !fi || fi->raw.size() % 8 != 0 || fi->raw.empty()) return;  // value rules
  add_field(client, "nr_folios", *nr, false);
  if (auto cs = prop_u32(sub, data, "csum", w.endian())) add_field(client, "csum", *cs);
  const std::string path = client.path + " -> folios_info";
  std::vector<std::uint64_t> entries;
  // The vmalloc form: 16 bytes, a page-aligned first chunk and known flags. Two
  // inline entries are 16 bytes too; their second word's bits 32-47 are a
  // physical address's, and a kho-v2+ writer never stores the inline form.
  const Vmalloc v = vmalloc_desc(fi->raw, w.endian());
  const bool radix_era = w.root_compatible() != "kho-v1";
  const bool vmalloc_form =
      fi->raw.size() == 16 && (radix_era || (v.first != 0 && v.first % kPageSize == 0 && v.flags >= 1 && v.flags <= 3));
  if (vmalloc_form) {
    add_text(client, "folios_info", "kho_vmalloc");
    auto bytes = read_vmalloc(w, client, v, path, std::uint64_t{*nr} * 8, "kho_test_restore_data()");
    if (!bytes) {
      // Too short for nr_folios, or the restore fails (reported by read_vmalloc()).
      const std::uint64_t cap = v.total_pages * kPageSize / 8;
      if (v.total_pages && *nr > cap)
        w.add("kho_test_invalid", path,
              "nr_folios " + dec(*nr) + " is more than the " + dec(cap) +
                  " entries the vmalloc area holds: kho_test_restore_data() reads past it");
      return;
    }
    for (std::uint64_t i = 0; i < *nr; ++i) entries.push_back(fdt::load_u64(bytes->data() + i * 8, w.endian()));
  } else {
    add_text(client, "folios_info", "inline u64 array");
    const std::uint64_t n = fi->raw.size() / 8;
    if (*nr > n) {
      w.add("kho_test_invalid", path,
            "nr_folios " + dec(*nr) + " but folios_info holds " + dec(n) + " entries: kho_test_restore() reads past it");
      return;
    }
    for (std::uint64_t i = 0; i < *nr; ++i) entries.push_back(fdt::load_u64(fi->raw.data() + i * 8, w.endian()));
  }
  for (std::uint64_t i = 0; i < entries.size(); ++i) {
    const std::uint64_t phys = entries[i] & ~(kPageSize - 1);
    const unsigned order = static_cast<unsigned>(entries[i] & (kPageSize - 1));
    const std::string fpath = client.path + " -> folio " + dec(i);
    if (!w.spend(1, fpath)) break;
    HandoverNode f = make_node("folio", dec(i), fpath, phys, order < 52 ? kPageSize << order : 0);
    add_field(f, "order", order, false);
    if (order >= 52) {
      w.add("kho_test_invalid", fpath, "entry " + hex(entries[i]) + " names order " + dec(order) + ", no page order");
    } else {
      w.require(f, phys, kPageSize << order, Claim::folio, order,
                "kho_restore_folio() / folio_order() check in kho_test_restore_data()");
    }
    w.keep(client, std::move(f));
  }
}

}  // namespace khospec::conformance::follow
