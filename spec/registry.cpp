#include "spec/registry.hpp"

#include <sstream>

namespace khospec::spec {

const std::vector<InvariantInfo>& invariants() {
  static const std::vector<InvariantInfo> v = {
      {"INV_MEMBLOCK_CAPACITY", 1, "all", "0 <= cnt <= max (bounded spec: cnt <= K)",
       "model/memblock/memblock_invariants.cpp Memblock::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.MemblockOps",
       "model/memblock/memblock_inv_test.cpp: MemblockInvariants.Capacity", nullptr},
      {"INV_MEMBLOCK_REGION_BOUNDS", 2, "all", "every region has size > 0 and base + size <= PHYS_ADDR_MAX",
       "model/memblock/memblock_invariants.cpp Memblock::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.MemblockOps",
       "model/memblock/memblock_inv_test.cpp: MemblockInvariants.RegionBounds", nullptr},
      {"INV_MEMBLOCK_SORTED_DISJOINT", 3, "all", "base[i] + size[i] <= base[i+1]",
       "model/memblock/memblock_invariants.cpp Memblock::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.MemblockOps",
       "model/memblock/memblock_inv_test.cpp: MemblockInvariants.SortedDisjoint", nullptr},
      {"INV_MEMBLOCK_MERGED", 4, "all", "no exactly adjacent neighbours with equal flags and nid",
       "model/memblock/memblock_invariants.cpp Memblock::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.MemblockOps",
       "model/memblock/memblock_inv_test.cpp: MemblockInvariants.Merged", nullptr},
      {"INV_MEMBLOCK_TOTAL", 5, "all", "total_size is the sum of the region sizes (0 when empty)",
       "model/memblock/memblock_invariants.cpp Memblock::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.MemblockOps",
       "model/memblock/memblock_inv_test.cpp: MemblockInvariants.Total", nullptr},
      {"INV_MEMBLOCK_ADD_MONOTONE", 6, "all", "add: coverage' = coverage ∪ [b, b+s); covered parts keep flags and nid",
       "model/memblock/memblock_invariants.cpp check_add_monotone",
       "spec/spec_agreement_test.cpp: SpecAgreement.MemblockOps",
       "model/memblock/memblock_inv_test.cpp: MemblockInvariants.AddMonotone", nullptr},
      {"INV_MEMBLOCK_SETCLR_FLAGS_ONLY", 7, "all",
       "setclr_flag: coverage and nids unchanged; inside [b, b+s) flags become flags|flag (or &~flag), outside unchanged",
       "model/memblock/memblock_invariants.cpp check_setclr_flags_only",
       "spec/spec_agreement_test.cpp: SpecAgreement.MemblockOps",
       "model/memblock/memblock_inv_test.cpp: MemblockInvariants.SetclrFlagsOnly", nullptr},
      {"INV_MEMBLOCK_NO_BUG", 8, "all",
       "no BUG_ON(cnt >= max), no BUG_ON in merge (pieces sorted and disjoint), no panic on resize",
       "model/memblock/memblock_invariants.cpp Memblock::check_invariants (failed_)",
       "spec/spec_agreement_test.cpp: SpecAgreement.MemblockOps",
       "model/memblock/memblock_inv_test.cpp: MemblockInvariants.NoBug", nullptr},
      {"INV_SCRATCH_COUNT", 9, "all", "|S| = 2 + #nodes; S[0] lies below ARCH_LOW_ADDRESS_LIMIT",
       "model/kho/kernel_invariants.cpp Kernel::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.ScratchCount", nullptr},
      {"INV_SCRATCH_ALIGNED", 10, "all", "scratch areas are CMA_MIN_ALIGNMENT_BYTES aligned and pairwise disjoint",
       "model/kho/kernel_invariants.cpp Kernel::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.ScratchAligned", nullptr},
      {"INV_SCRATCH_STABLE", 11, "all", "S(N+1) = S(N) for every KHO-booted kernel",
       "model/kho/machine.cpp Machine::check_handover",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.ScratchStable", nullptr},
      {"INV_SCRATCH_IN_MEMORY", 12, "all",
       "kernel N >= 2, POPULATED: every area is covered by memory regions that all carry KHO_SCRATCH",
       "model/kho/kernel_invariants.cpp Kernel::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.ScratchInMemory", nullptr},
      {"INV_MEMBLOCK_SCRATCH_ONLY_ALLOC", 13, "v6.16+",
       "scratch_only => every allocation lies in KHO_SCRATCH memory and outside what was reserved before",
       "model/memblock/memblock_invariants.cpp check_scratch_alloc",
       "spec/spec_agreement_test.cpp: SpecAgreement.MemblockAlloc",
       "model/memblock/memblock_inv_test.cpp: MemblockInvariants.ScratchOnlyAlloc", nullptr},
      {"INV_SCRATCH_ONLY_WINDOW", 14, "all", "scratch_only holds exactly from kho_populate until memblock_free_all",
       "model/kho/kernel_invariants.cpp Kernel::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.ScratchOnlyWindow", nullptr},
      {"INV_KEXEC_SEGMENTS_IN_SCRATCH", 15, "all",
       "with KHO enabled every kexec segment of a non-crash image lies inside one scratch area",
       "model/kho/kernel_invariants.cpp Kernel::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.KexecSegmentsInScratch", nullptr},
      {"INV_PRESERVED_ALIGNED", 16, "all", "every (pfn, o) in P has pfn mod 2^o = 0",
       "model/kho/kernel_invariants.cpp check_preserved_set",
       "spec/spec_agreement_test.cpp: SpecAgreement.PreserveOps",
       "model/kho/kho_inv_test.cpp: KhoInvariants.PreservedAligned",
       "the trackers store pfn >> order (bitmap index, radix key), so P is aligned by construction; shown on a planted P"},
      {"INV_PRESERVED_ORDER_RESTORABLE", 17, "v6.16..v6.19", "restorable blocks have o <= MAX_PAGE_ORDER (warning)",
       "model/kho/kernel_invariants.cpp check_preserved_set",
       "spec/spec_agreement_test.cpp: SpecAgreement.PreserveOps",
       "model/kho/kho_inv_test.cpp: KhoInvariants.PreservedOrderRestorable", nullptr},
      {"INV_SCRATCH_PRESERVED_DISJOINT", 18, "v6.18+ (debug)", "rng(P) ∩ S = ∅",
       "model/kho/kernel_invariants.cpp check_preserved_set",
       "spec/spec_agreement_test.cpp: SpecAgreement.PreserveOps",
       "model/kho/kho_inv_test.cpp: KhoInvariants.ScratchPreservedDisjoint", nullptr},
      {"INV_METADATA_OUTSIDE_SCRATCH", 19, "v6.18+",
       "bitmaps, chunks, vmalloc chunks, radix nodes and the FDT lie outside S",
       "model/kho/kernel_invariants.cpp Kernel::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.MetadataOutsideScratch", nullptr},
      {"INV_PRESERVED_DISJOINT", 20, "all", "blocks in P are pairwise disjoint (not enforced upstream: hazard)",
       "model/kho/kernel_invariants.cpp check_preserved_set",
       "spec/spec_agreement_test.cpp: SpecAgreement.PreserveOps",
       "model/kho/kho_inv_test.cpp: KhoInvariants.PreservedDisjoint", nullptr},
      {"INV_PRESERVED_SPLIT_EXACT", 21, "all",
       "the greedy split covers [start, start+n) exactly, aligned, without overlap, in at most max(1, 2*floor(log2 n)) blocks",
       "model/kho/kernel_invariants.cpp check_preserve_split (run by kho_preserve_pages / kho_preserve_phys)",
       "spec/spec_agreement_test.cpp: SpecAgreement.SplitAndKeys",
       "model/kho/kho_inv_test.cpp: KhoInvariants.PreservedSplitExact",
       "the split is a pure function of (start, nr), proved exact by Z3; shown on a planted split"},
      {"INV_FINALIZED_MAP_EXACT", 22, "v6.16, v6.18",
       "FINALIZED => P is frozen and the serialized map encodes exactly P",
       "model/kho/kernel_invariants.cpp Kernel::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.StateMachine",
       "model/kho/kho_inv_test.cpp: KhoInvariants.FinalizedMapExact", nullptr},
      {"INV_MAP_FRESH_AT_KEXEC", 23, "v6.19", "a kexec with revival hands over a map made after the last change to P",
       "model/kho/kernel_kexec.cpp Kernel::kernel_kexec",
       "spec/spec_agreement_test.cpp: SpecAgreement.StateMachine",
       "model/kho/kho_inv_test.cpp: KhoInvariants.MapFreshAtKexec", nullptr},
      {"INV_WINDOW_NO_ALLOC_OVER_PRESERVED", 24, "all",
       "between POPULATED and DESERIALIZED no allocation overlaps a block the previous kernel preserved",
       "model/kho/machine.cpp Machine::check_handover",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.WindowNoAllocOverPreserved", nullptr},
      {"INV_KHO_PRESERVED_RESERVED", 25, "all",
       "at DESERIALIZED every handed-over block is reserved with RSRV_NOINIT (fails when memblock_reserve returns -ENOMEM)",
       "model/kho/kernel_invariants.cpp Kernel::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.KhoPreservedReserved", nullptr},
      {"INV_CMA_BEFORE_BUDDY", 26, "all", "scratch pageblocks are MIGRATE_CMA before their pages reach buddy",
       "model/kho/kernel_invariants.cpp Kernel::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.CmaBeforeBuddy", nullptr},
      {"INV_BUDDY_DISJOINT_PRESERVED", 27, "all", "buddy-free pages never overlap a handed-over block",
       "model/kho/kernel_invariants.cpp Kernel::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.BuddyDisjointPreserved", nullptr},
      {"INV_RESTORE_ONCE", 28, "v6.18+", "after a successful restore page->private is 0, so a second restore fails",
       "model/kho/kernel_incoming.cpp Kernel::kho_restore_folio; model/kho/kernel_invariants.cpp Kernel::check_invariants",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.RestoreOnce", nullptr},
      {"INV_RADIX_KEY_BIJECTIVE", 29, "kho-v2+",
       "decode(encode(phys, o)) = (phys, o) for every block-aligned phys and o <= 51, and every valid key is an encoding",
       "model/kho/radix_key.cpp kho_radix_key_violations (run by MemTrack::preserve_order)",
       "spec/spec_agreement_test.cpp: SpecAgreement.SplitAndKeys",
       "model/kho/kho_inv_test.cpp: KhoInvariants.RadixKeyBijective",
       "encode/decode are pure functions, proved a bijection by Z3; shown on a planted key"},
      {"INV_RADIX_TREE_SHAPE", 30, "kho-v2+",
       "depth 6: a key is exactly its five 9-bit table indices and its 15-bit leaf bit",
       "model/kho/mem_track.cpp MemTrack::radix_shape_issues; model/kho/radix_key.cpp kho_radix_key_violations",
       "spec/spec_agreement_test.cpp: SpecAgreement.SplitAndKeys",
       "model/kho/kho_inv_test.cpp: KhoInvariants.RadixTreeShape", nullptr},
      {"INV_KHO_MAP_DECODES", 0, "all", "the serialized memory map (bitmaps or radix) decodes to the blocks it encodes",
       "model/kho/kernel_incoming.cpp Kernel::kho_mem_deserialize_in",
       "spec/spec_agreement_test.cpp: SpecAgreement.SplitAndKeys",
       "model/kho/kho_inv_test.cpp: KhoInvariants.KhoMapDecodes", nullptr},
      {"INV_KHO_HANDOVER_COMPLETE", 0, "all",
       "every block preserved at kexec time reaches the next kernel (item 23's consequence)",
       "model/kho/machine.cpp Machine::check_handover",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.KhoHandoverComplete", nullptr},
      {"INV_KHO_PRESERVED_CONTENT_INTACT", 0, "all",
       "preserved bytes are unchanged in the next kernel until it restores them (follows from items 24 and 27)",
       "model/kho/machine.cpp Machine::check_handover",
       "spec/spec_agreement_test.cpp: SpecAgreement.KernelChains",
       "model/kho/kho_inv_test.cpp: KhoInvariants.KhoPreservedContentIntact", nullptr},
      {"INV_LUO_SERIALIZED_PRESERVED", 31, "v6.19+",
       "at liveupdate_reboot() every structure of the serialized LUO state (blob, session and file containers, "
       "FLB page, memfd_luo_ser, folio array and its chunks, every folio) lies in preserved memory",
       "model/kho/luo.cpp LuoClient::check_preserved",
       "model/kho/luo_prop_test.cpp: LuoProp.SessionsSurviveKexec",
       "model/kho/kho_inv_test.cpp: KhoInvariants.LuoSerializedPreserved", nullptr},
      {"INV_MEMFD_RESTORED_CONTENT", 32, "v6.19+",
       "a memfd the next kernel retrieves has the size, position, bytes and (memfd-v2) seals it had at liveupdate_reboot()",
       "model/kho/machine.cpp Machine::check_handover",
       "model/kho/luo_prop_test.cpp: LuoProp.SessionsSurviveKexec",
       "model/kho/kho_inv_test.cpp: KhoInvariants.MemfdRestoredContent", nullptr},
      {"INV_KHO_BLOCK_CHAIN_VALID", 33, "kho-v4",
       "each kho_block chain liveupdate_reboot() leaves (sessions, each session's files) is the blocks linked, in "
       "order, ends within KHO_MAX_BLOCKS without a cycle, has every count in [1, c] and as many entries as it holds; "
       "entry i is slot i mod c of block i / c, past the header, no two slots overlapping",
       "model/kho/luo.cpp LuoClient::check_chains",
       "model/kho/luo_prop_test.cpp: LuoProp.SessionsSurviveKexec",
       "model/kho/kho_inv_test.cpp: KhoInvariants.KhoBlockChainValid", nullptr},
      {"INV_MEMFD_FOLIO_ENTRY_EXACT", 34, "v6.19+",
       "every memfd folio entry decodes exactly (pfn:52 flags:12, pfn != 0, flags within DIRTY | UPTODATE), indices "
       "strictly increase below ceil(size / PAGE_SIZE), at most one entry per page",
       "model/kho/memfd_luo.cpp memfd_luo_entry_violations, model/kho/luo.cpp LuoClient::check_folio_entries",
       "model/kho/luo_prop_test.cpp: LuoProp.SessionsSurviveKexec",
       "model/kho/kho_inv_test.cpp: KhoInvariants.MemfdFolioEntryExact", nullptr},
      {"INV_FOLIO_INFO_ENTRY_EXACT", 35, "v6.17+",
       "test_kho's folios_info entries `phys | order` decode (phys = e & PAGE_MASK, order = e & ~PAGE_MASK) to "
       "exactly the folios it preserved, in order",
       "model/kho/clients.cpp TestKhoClient::check_folios_info",
       "model/kho/luo_prop_test.cpp: LuoProp.TestKhoFolioInfoRoundTrips",
       "model/kho/kho_inv_test.cpp: KhoInvariants.FolioInfoEntryExact", nullptr},
  };
  return v;
}

const std::vector<std::pair<const char*, const char*>>& obligations_pending() {
  static const std::vector<std::pair<const char*, const char*>> v = {
      {"INV_LUO_SERIALIZED_PRESERVED",
       "a walk of the serialized state in memory, not an encoding: the encodings it walks (kho_block slots, the memfd "
       "folio entry) have their obligations under INV_KHO_BLOCK_CHAIN_VALID and INV_MEMFD_FOLIO_ENTRY_EXACT; the "
       "walk itself is checked at runtime (LuoClient::check_preserved) and by the property test"},
  };
  return v;
}

const char* obligation_pending(const std::string& id) {
  for (const auto& [i, why] : obligations_pending())
    if (id == i) return why;
  return nullptr;
}

std::string trace_markdown(const ProveOptions& opts) {
  const auto obs = list_obligations(opts);
  std::ostringstream o;
  o << "# Traceability: invariant -> Z3 obligation, runtime check, firing test, property test\n\n"
    << "<!-- Generated by `khospec prove --trace`; do not edit. The test spec/trace_md_is_generated\n"
    << "     fails when this file is stale; spec_registry_test checks every row is complete. -->\n\n"
    << "Invariants are stated in [`spec/kho.md`](../spec/kho.md) §2-§6 and §8; the item is the number in\n"
    << "parentheses after the ID there. Obligations run with `khospec prove --only NAME` (k = " << opts.k
    << " region slots, " << opts.bmc_steps << " BMC steps). Obligations marked *hazard* must be refuted.\n"
    << "The *fires* test plants a violation and checks that the runtime check reports exactly that ID;\n"
    << "where no model state can violate an invariant, the row says why and what the test plants instead.\n\n"
    << "| ID | item | eras | Z3 obligations | runtime check | fires | property test |\n"
    << "|---|---|---|---|---|---|---|\n";
  for (const auto& inv : invariants()) {
    std::string list;
    for (const auto& ob : obs) {
      for (const auto& id : ob.invariants) {
        if (id != inv.id) continue;
        list += (list.empty() ? "" : "<br>") + std::string("`") + ob.name + "`" + (ob.expect_refuted ? " *hazard*" : "");
        break;
      }
    }
    const char* pending = obligation_pending(inv.id);
    o << "| `" << inv.id << "` | " << (inv.item ? std::to_string(inv.item) : std::string("-")) << " | " << inv.eras << " | "
      << (!list.empty() ? list : pending ? std::string("*pending:* ") + pending : std::string("**none**")) << " | " << inv.runtime_check << " | " << inv.fires
      << (inv.no_violating_state ? std::string("<br>*no violating model state:* ") + inv.no_violating_state : "")
      << " | " << inv.property_test << " |\n";
  }
  return o.str();
}

}  // namespace khospec::spec
