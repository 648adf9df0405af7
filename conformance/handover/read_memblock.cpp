// memblock-v1: mm/memblock.c reserve_mem_kho_revive() and
// reserve_mem_preserve_folios()/prepare_kho_fdt(), 7.3 (6.16+). One child per
// reserve_mem=SIZE:ALIGN:NAME with start and size; the writer preserves each
// range with kho_preserve_pages() (6.16: kho_preserve_phys(), the same split),
// so the range must be exactly those blocks. The next kernel revives the range
// as a reservation and keeps its contents; a page outside the preserved set is
// handed to the allocator instead.
#include "conformance/handover/readers.hpp"

namespace khospec::conformance::follow {

void read_memblock(Walk& w, HandoverNode& client, const fdt::FlatTree& sub) {
  if (sub.nodes.empty()) return;
  const fdt::FlatNode& root = sub.nodes.front();
  for (int c = root.first_child; c >= 0; c = sub.nodes[static_cast<std::size_t>(c)].next_sibling) {
    const fdt::FlatNode& n = sub.nodes[static_cast<std::size_t>(c)];
    const std::string name(n.name);
    const std::string path = client.path + " -> reserve_mem \"" + printable(name) + "\"";
    auto start = prop_u64(sub, n, "start", w.endian());
    auto size = prop_u64(sub, n, "size", w.endian());
    HandoverNode r = make_node("reserve_mem", name, path, start.value_or(0), size.value_or(0));
    r.format = prop_first_string(sub, n, "compatible");
    if (!start || !size || !w.spend(1, path)) {  // 8-byte values: the schema reports the rest
      w.keep(client, std::move(r));
      continue;
    }
    add_field(r, "start", *start);
    add_field(r, "size", *size);
    if (*size != 0 && *start + *size > *start) {
      w.require(r, *start, *size, Claim::pages, std::nullopt, "");
      for (const auto& b : w.blocks_in(*start, *size, 4096)) {
        HandoverNode bn = make_node("block", hex(b.phys), path + " -> block " + hex(b.phys), b.phys, b.size());
        bn.order = b.order;
        bn.preserved = true;
        w.keep(r, std::move(bn));
      }
    }
    w.keep(client, std::move(r));
  }
}

}  // namespace khospec::conformance::follow
