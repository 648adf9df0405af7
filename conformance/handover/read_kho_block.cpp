// kho_block chains: include/linux/kho/abi/block.h, kernel/liveupdate/kho_block.c
// kho_block_set_restore() and kho_block_set_it_read_entry(), 7.2 - 7.3. Each
// block is one page from kho_alloc_preserve(KHO_BLOCK_SIZE): a header {next,
// count} and `count` entries; the next kernel refuses the whole set (the
// client's restore fails) on a cycle, more than KHO_MAX_BLOCKS blocks, or a
// count of 0 or above what fits the block.
#include <set>

#include "conformance/handover/readers.hpp"

namespace khospec::conformance::follow {

namespace {

constexpr std::uint64_t kMaxBlocks = 10000;  // KHO_MAX_BLOCKS (kho_block.c)

}  // namespace

std::optional<std::vector<BlockEntry>> read_block_chain(Walk& w, HandoverNode& parent, std::uint64_t head,
                                                        std::uint64_t entry_size, const std::string& path,
                                                        std::string_view what) {
  const Layout& hl = layout("kho_block_header_ser");
  const std::uint64_t block_size = kPageSize;  // KHO_BLOCK_SIZE
  if (entry_size == 0 || hl.size >= block_size) return std::nullopt;
  const std::uint64_t per_block = (block_size - hl.size) / entry_size;  // KHO_BLOCK_SET_INIT count_per_block
  std::vector<BlockEntry> out;
  std::set<std::uint64_t> seen;
  bool ok = true;
  std::uint64_t n = 0;
  for (std::uint64_t b = head; b != 0;) {
    const std::string bpath = path + " -> " + std::string(what) + " block " + hex(b);
    if (b % kPageSize != 0) {
      w.add("kho_block_chain_invalid", bpath,
            "the block pointer is not page-aligned: blocks are whole pages from kho_alloc_preserve(); "
            "kho_block_set_restore() reads a header that is not one");
      return std::nullopt;
    }
    if (!seen.insert(b).second) {
      w.add("kho_block_chain_invalid", bpath, "the chain comes back to this block: kho_block_set_is_cyclic() refuses it");
      return std::nullopt;
    }
    if (++n > kMaxBlocks) {
      w.add("kho_block_chain_invalid", bpath,
            "the chain is longer than KHO_MAX_BLOCKS (" + dec(kMaxBlocks) + "): kho_block_set_is_cyclic() refuses it");
      return std::nullopt;
    }
    if (!w.spend(1, bpath)) return std::nullopt;
    HandoverNode node = make_node("kho_block", hex(b), bpath, b, block_size);
    node.format = "kho_block";
    auto page = w.read(bpath, b, block_size, std::string(what) + " block");
    w.require(node, b, block_size, Claim::folio, std::nullopt, "kho_restore_free() of the block");
    if (!page) {
      w.keep(parent, std::move(node));
      return std::nullopt;
    }
    const Struct h(hl, *page, w.endian());
    const std::uint64_t count = h.u("count"), next = h.u("next");
    add_field(node, "next", next);
    add_field(node, "count", count, false);
    if (count == 0 || count > per_block) {
      w.add("kho_block_chain_invalid", bpath,
            "count " + dec(count) + " is " + (count ? "more than the " + dec(per_block) + " entries of " + dec(entry_size) +
                                                          " bytes a block holds"
                                                    : "0") +
                ": kho_block_set_restore() refuses the chain (\"Block contains invalid entry count\")");
      ok = false;
    } else if (w.spend(count, bpath)) {
      for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint64_t off = hl.size + i * entry_size;
        out.push_back({b + off, std::vector<std::uint8_t>(page->begin() + static_cast<std::ptrdiff_t>(off),
                                                          page->begin() + static_cast<std::ptrdiff_t>(off + entry_size))});
      }
    } else {
      ok = false;
    }
    w.keep(parent, std::move(node));
    if (!ok) return std::nullopt;
    b = next;
  }
  return out;
}

}  // namespace khospec::conformance::follow
