// The runtime checks of spec/kho.md §3-§6 that one kernel can make on its
// own state. Checks that compare two kernels of a chain live in
// Machine::check_handover() (machine.cpp).
#include "model/kho/kernel.hpp"

#include <algorithm>
#include <optional>

#include "core/parse.hpp"
#include "model/kho/kernel_internal.hpp"

namespace khospec::model {

using namespace kernel_detail;

// ---------------------------------------------------------- invariants ----

void check_preserved_set(FindingBatch& out, const std::vector<PreservedBlock>& blocks,
                         const std::vector<ScratchArea>& scratch, const EraTraits& era) {
  auto in_scratch = [&](phys_addr_t a, std::uint64_t len) {
    for (const auto& s : scratch)
      if (overlap(a, len, s.addr, s.size)) return true;
    return false;
  };
  for (const auto& b : blocks) {
    if (b.phys % block_bytes(b.order))
      out.add("INV_PRESERVED_ALIGNED", "error", hex(b.phys) + " order " + std::to_string(b.order));
    if (in_scratch(b.phys, block_bytes(b.order)))
      out.add("INV_SCRATCH_PRESERVED_DISJOINT", "error",
              "preserved " + hex(b.phys) + " order " + std::to_string(b.order) + " lies in scratch");
    if (b.order > MAX_PAGE_ORDER && era.mem_map != MemMapFormat::radix)
      out.add("INV_PRESERVED_ORDER_RESTORABLE", "warning",
              "order-" + std::to_string(b.order) + " block at " + hex(b.phys) +
                  " exceeds MAX_PAGE_ORDER: kho_restore_folio() refuses it");
  }
  // Nothing stops the same memory being preserved at two orders (spec/kho.md
  // item 20); the next kernel then reserves both.
  auto by_addr = blocks;
  std::sort(by_addr.begin(), by_addr.end());
  for (std::size_t i = 1; i < by_addr.size(); ++i) {
    const auto& p = by_addr[i - 1];
    if (p.phys + block_bytes(p.order) > by_addr[i].phys)
      out.add("INV_PRESERVED_DISJOINT", "warning",
              "blocks " + hex(p.phys) + " order " + std::to_string(p.order) + " and " + hex(by_addr[i].phys) +
                  " order " + std::to_string(by_addr[i].order) + " overlap");
  }
}

std::optional<Finding> check_preserve_split(std::uint64_t start_pfn, std::uint64_t nr_pages,
                                            const std::vector<PreservedBlock>& blocks) {
  if (kho_split_exact(start_pfn, nr_pages, blocks)) return std::nullopt;
  return Finding{"INV_PRESERVED_SPLIT_EXACT", "error",
                 "the greedy split of pfn " + std::to_string(start_pfn) + " +" + std::to_string(nr_pages) +
                     " is not an exact cover"};
}

std::vector<Finding> Kernel::check_invariants() {
  FindingBatch v;
  for (const auto& x : mb_.check_invariants()) v.add(x.id, "error", x.detail);
  // Transition invariants the memblock model checks on every call
  // (INV_MEMBLOCK_ADD_MONOTONE, INV_MEMBLOCK_SCRATCH_ONLY_ALLOC, ...).
  for (const auto& x : mb_.invariant_log()) v.add(x.id, "error", x.detail);

  // Scratch (spec/kho.md §3, items 9, 10, 12; item 11 compares two kernels:
  // Machine::check_handover()).
  if (!scratch_.empty()) {
    if (!kho_boot() && scratch_.size() != static_cast<std::size_t>(board_.node_count()) + 2)
      v.add("INV_SCRATCH_COUNT", "error", std::to_string(scratch_.size()) + " areas for " +
                                              std::to_string(board_.node_count()) + " nodes");
    if (scratch_[0].size && scratch_[0].addr + scratch_[0].size - 1 > ARCH_LOW_ADDRESS_LIMIT)
      v.add("INV_SCRATCH_COUNT", "error", "lowmem area above ARCH_LOW_ADDRESS_LIMIT");
    for (std::size_t i = 0; i < scratch_.size(); ++i) {
      const auto& s = scratch_[i];
      if (s.addr % PAGEBLOCK_BYTES)
        v.add("INV_SCRATCH_ALIGNED", "error", "area " + std::to_string(i) + " at " + hex(s.addr) + " not pageblock aligned");
      for (std::size_t j = i + 1; j < scratch_.size(); ++j)
        if (overlap(s.addr, s.size, scratch_[j].addr, scratch_[j].size))
          v.add("INV_SCRATCH_ALIGNED", "error", "areas " + std::to_string(i) + " and " + std::to_string(j) + " overlap");
    }
  }
  if (phase_ == BootPhase::populated || phase_ == BootPhase::deserialized) {
    if (!mb_.kho_scratch_only()) v.add("INV_SCRATCH_ONLY_WINDOW", "error", "scratch-only is off during early KHO boot");
    for (const auto& s : scratch_) {
      if (!s.size) continue;
      bool covered = mb_.memblock_is_region_memory(s.addr, s.size);
      for (const auto& r : mb_.memory().regions)
        if (overlap(r.base, r.size, s.addr, s.size) && !(r.flags & MEMBLOCK_KHO_SCRATCH)) covered = false;
      if (!covered) v.add("INV_SCRATCH_IN_MEMORY", "error", "scratch " + hex(s.addr) + " is not KHO_SCRATCH memory");
    }
  } else if ((phase_ == BootPhase::buddy || phase_ == BootPhase::running) && mb_.kho_scratch_only()) {
    v.add("INV_SCRATCH_ONLY_WINDOW", "error", "scratch-only still on after memblock_free_all");
  }

  // Kexec segments (item 15).
  if (loaded_ && kho_enable_) {
    for (const auto& seg : loaded_->segments) {
      bool inside = false;
      for (const auto& s : scratch_)
        if (seg.mem >= s.addr && seg.mem + seg.memsz <= s.addr + s.size) inside = true;
      if (!inside) v.add("INV_KEXEC_SEGMENTS_IN_SCRATCH", "error", "segment " + seg.name + " at " + hex(seg.mem));
    }
  }

  // Preservation (items 16-22, 29-30).
  if (track_) {
    auto blocks = track_->blocks();
    check_preserved_set(v, blocks, scratch_, era_);
    for (const auto& [a, len] : track_->metadata())
      if (overlaps_scratch(a, len)) v.add("INV_METADATA_OUTSIDE_SCRATCH", "error", "tracker metadata at " + hex(a));
    for (const auto& i : track_->radix_shape_issues())
      v.add("INV_RADIX_TREE_SHAPE", "error", i.what + " (at " + hex(i.at) + ")");
    if (out_state_ == OutState::finalized && era_.finalize == FinalizeModel::notifier_abort && serialized_map_) {
      auto decoded = kho_mem_deserialize(image(), era_.mem_map, serialized_map_, nullptr);
      std::sort(decoded.begin(), decoded.end());
      auto expect = blocks;
      std::sort(expect.begin(), expect.end());
      if (decoded != expect)
        v.add("INV_FINALIZED_MAP_EXACT", "error", "the serialized map does not encode the preserved set");
    }
  }
  if (fdt_page_ && overlaps_scratch(fdt_page_, PAGE_SIZE_4K))
    v.add("INV_METADATA_OUTSIDE_SCRATCH", "error", "root FDT page at " + hex(fdt_page_));

  // Next-kernel ordering (items 25, 27) against what this kernel decoded;
  // item 24 compares with what the previous kernel preserved:
  // Machine::check_handover().
  if (kho_in_scratch_ && phase_ != BootPhase::populated) {
    for (const auto& b : incoming_) {
      if (!mb_.memblock_is_region_reserved(b.phys, block_bytes(b.order)) && phase_ == BootPhase::deserialized)
        v.add("INV_KHO_PRESERVED_RESERVED", "error", "preserved " + hex(b.phys) + " is not reserved");
    }
    // A restored block is its owner's (kho_restore_free() gives it back to buddy).
    // Free ranges are sorted and disjoint: only the last one starting below a
    // block's end can reach into it (a lookup per block, not a pass over all).
    const auto& free = buddy_.free_ranges();
    for (const auto& b : incoming_) {
      if (restored_.count(b.phys / PAGE_SIZE_4K)) continue;
      auto it = free.lower_bound(b.phys + block_bytes(b.order));
      if (it == free.begin()) continue;
      --it;
      if (it->second > b.phys)
        v.add("INV_BUDDY_DISJOINT_PRESERVED", "error",
              "buddy-free " + hex(it->first) + " overlaps preserved " + hex(b.phys));
    }
  }
  // Item 26: scratch never reaches the unmovable pool.
  for (const auto& [s, e] : buddy_.free_ranges())
    for (const auto& a : scratch_)
      if (overlap(s, e - s, a.addr, a.size))
        v.add("INV_CMA_BEFORE_BUDDY", "error", "scratch " + hex(a.addr) + " is in the unmovable free pool");

  // Item 28 (6.18+): kho_restore_page() clears page->private of the page it
  // restores, so a second restore of it fails.
  if (era_.restore_once) {
    for (std::uint64_t pfn : restored_) {
      auto it = page_private_.find(pfn);
      if (it != page_private_.end() && it->second != 0)
        v.add("INV_RESTORE_ONCE", "error",
              "restored page " + hex(pfn * PAGE_SIZE_4K) + " still has page->private " + hex(it->second) +
                  ": a second restore would succeed");
    }
  }
  return v.report(*this);
}

}  // namespace khospec::model
