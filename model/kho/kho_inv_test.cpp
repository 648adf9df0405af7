// Every KHO invariant of spec/kho.md shown to fire: each test starts from a
// clean model state, plants one violation (through the public API where a
// real sequence reaches it, else through KernelTestAccess), and checks that
// the runtime check reports exactly that INV_* ID. spec/registry.cpp names
// these tests in its "fires" column; spec_registry_test fails when an ID has
// none. The memblock IDs are shown in model/memblock/memblock_inv_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "model/kho/kernel_test_access.hpp"
#include "model/kho/machine.hpp"
#include "model/kho/clients.hpp"
#include "model/kho/luo.hpp"
#include "model/kho/luo_test_util.hpp"
#include "model/kho/memfd.hpp"

namespace khospec::model {
namespace {

using Ids = std::set<std::string>;

Ids inv_ids(const std::vector<Finding>& v) {
  Ids out;
  for (const auto& f : v)
    if (f.id.rfind("INV_", 0) == 0) out.insert(f.id);
  return out;
}

KernelConfig cfg(KhoEra era) {
  KernelConfig c;
  c.era = era;
  c.cmdline = "kho=on";
  c.release = "model";
  return c;
}

Machine make_machine() { return Machine(machine_with_ram(1ull << 30)); }

// A cold-booted kernel whose own checks are clean.
Kernel& cold(Machine& m, KhoEra era) {
  Kernel& k = m.boot_cold(cfg(era));
  EXPECT_TRUE(inv_ids(k.check_invariants()).empty());
  return k;
}

// Kernel 1 preserves one order-2 folio with known contents and hands it over
// the way its era does (finalize where there is one); returns kernel 2, whose
// checks and hand-over checks are clean.
Kernel* handed_over(Machine& m, KhoEra era, PreservedBlock* block) {
  Kernel& k1 = m.boot_cold(cfg(era));
  const phys_addr_t p = k1.alloc_pages(2);
  k1.image().write(p, std::vector<std::uint8_t>(64, 0xc3));
  EXPECT_EQ(k1.kho_preserve_folio(p, 2), 0);
  const auto& t = era_traits(era);
  if (t.finalize == FinalizeModel::notifier_abort) {
    EXPECT_EQ(k1.debugfs_finalize_write(1), 0);
  } else if (t.finalize == FinalizeModel::refresh) {
    EXPECT_EQ(k1.kho_finalize(), 0);
  }
  EXPECT_EQ(k1.kexec_file_load(), 0);
  Kernel* k2 = m.kexec(cfg(era));
  EXPECT_NE(k2, nullptr);
  if (!k2) return nullptr;
  EXPECT_TRUE(inv_ids(k1.findings()).empty());
  EXPECT_TRUE(inv_ids(k2->check_invariants()).empty());
  EXPECT_TRUE(inv_ids(m.check_handover()).empty());
  EXPECT_TRUE(k2->kho_boot());
  *block = {p, 2};
  return k2;
}

// ---- scratch (spec/kho.md §3) ---------------------------------------------

// kho_reserve_scratch() (6.16+) allocates num_nodes + 2 areas; one is lost.
TEST(KhoInvariants, ScratchCount) {
  Machine m = make_machine();
  Kernel& k = cold(m, KhoEra::v6_18);
  KernelTestAccess::scratch(k).pop_back();
  EXPECT_EQ(inv_ids(k.check_invariants()), Ids{"INV_SCRATCH_COUNT"});
}

// Areas are CMA_MIN_ALIGNMENT_BYTES aligned (kho_reserve_scratch(), 6.16+);
// one starts a page too late.
TEST(KhoInvariants, ScratchAligned) {
  Machine m = make_machine();
  Kernel& k = cold(m, KhoEra::v6_18);
  auto& a = KernelTestAccess::scratch(k)[1];
  a.addr += PAGE_SIZE_4K;
  a.size -= PAGE_SIZE_4K;
  EXPECT_EQ(inv_ids(k.check_invariants()), Ids{"INV_SCRATCH_ALIGNED"});
}

// A KHO-booted kernel reuses the scratch array handed to it (kho_populate(),
// kho_fill_kimage(); 6.16+); here kernel 2's last area shrank. Only the
// Machine sees both kernels, so Machine::check_handover() reports it.
TEST(KhoInvariants, ScratchStable) {
  Machine m = make_machine();
  PreservedBlock b;
  Kernel* k2 = handed_over(m, KhoEra::v6_18, &b);
  ASSERT_NE(k2, nullptr);
  KernelTestAccess::scratch(*k2).back().size -= PAGEBLOCK_BYTES;
  EXPECT_EQ(inv_ids(m.check_handover()), Ids{"INV_SCRATCH_STABLE"});
}

// kho_populate() (6.16+) marks every area KHO_SCRATCH in memblock.memory;
// during the early window one area has lost the flag.
TEST(KhoInvariants, ScratchInMemory) {
  Machine m = make_machine();
  PreservedBlock b;
  Kernel* k2 = handed_over(m, KhoEra::v6_18, &b);
  ASSERT_NE(k2, nullptr);
  KernelTestAccess::phase(*k2) = BootPhase::deserialized;
  k2->memblock().memblock_set_kho_scratch_only();
  ASSERT_TRUE(inv_ids(k2->check_invariants()).empty());
  const auto& a = k2->scratch()[0];
  ASSERT_EQ(k2->memblock().memblock_clear_kho_scratch(a.addr, a.size), 0);
  EXPECT_EQ(inv_ids(k2->check_invariants()), Ids{"INV_SCRATCH_IN_MEMORY"});
}

// memblock_free_all() (6.16+) ends scratch-only mode; a running kernel that
// turns it back on violates the window.
TEST(KhoInvariants, ScratchOnlyWindow) {
  Machine m = make_machine();
  Kernel& k = cold(m, KhoEra::v6_18);
  k.memblock().memblock_set_kho_scratch_only();
  EXPECT_EQ(inv_ids(k.check_invariants()), Ids{"INV_SCRATCH_ONLY_WINDOW"});
}

// kho_locate_mem_hole() (6.16+) confines every segment of a non-crash image
// to one scratch area; the kernel segment is moved below 1 MiB.
TEST(KhoInvariants, KexecSegmentsInScratch) {
  Machine m = make_machine();
  Kernel& k = cold(m, KhoEra::v6_19);
  ASSERT_EQ(k.kexec_file_load(), 0);
  ASSERT_TRUE(inv_ids(k.check_invariants()).empty());
  KernelTestAccess::loaded(k)->segments.back().mem = 0x10000;
  EXPECT_EQ(inv_ids(k.check_invariants()), Ids{"INV_KEXEC_SEGMENTS_IN_SCRATCH"});
}

// ---- preservation (spec/kho.md §4) ----------------------------------------

// No tracker can hold a misaligned block: the bitmaps index pfn >> order and
// the radix key keeps phys >> (PAGE_SHIFT + order), so P is aligned by
// construction (and kho_preserve_folio() rejects a misaligned folio): no
// model state violates INV_PRESERVED_ALIGNED. The check is shown on a
// planted preserved set.
TEST(KhoInvariants, PreservedAligned) {
  FindingBatch v;
  check_preserved_set(v, {{0x200000, 9}, {0x401000, 1}}, {}, era_traits(KhoEra::v6_18));
  EXPECT_EQ(inv_ids(v.take()), Ids{"INV_PRESERVED_ALIGNED"});
  FindingBatch clean;
  check_preserved_set(clean, {{0x200000, 9}, {0x402000, 1}}, {}, era_traits(KhoEra::v6_18));
  EXPECT_TRUE(clean.take().empty());
}

// kho_restore_folio() (6.16-6.19) refuses order > MAX_PAGE_ORDER, yet
// kho_preserve_folio() takes an order-11 folio (a warning: a known limit).
TEST(KhoInvariants, PreservedOrderRestorable) {
  Machine m = make_machine();
  Kernel& k = cold(m, KhoEra::v6_18);
  const phys_addr_t p = k.alloc_pages(11);
  ASSERT_NE(p, 0u);
  ASSERT_EQ(k.kho_preserve_folio(p, 11), 0);
  const auto v = k.check_invariants();
  EXPECT_EQ(inv_ids(v), Ids{"INV_PRESERVED_ORDER_RESTORABLE"});
  EXPECT_EQ(v.at(0).level, "warning");
}

// Without CONFIG_KEXEC_HANDOVER_DEBUG, kho_preserve_pages() (6.18) does not
// check kho_scratch_overlap(): a scratch page is preserved.
TEST(KhoInvariants, ScratchPreservedDisjoint) {
  Machine m = make_machine();
  Kernel& k = cold(m, KhoEra::v6_18);
  ASSERT_EQ(k.kho_preserve_pages(k.scratch()[0].addr, 1), 0);
  EXPECT_EQ(inv_ids(k.check_invariants()), Ids{"INV_SCRATCH_PRESERVED_DISJOINT"});
}

// A page allocator that hands out scratch pages: a kernel whose tracker
// metadata came from MIGRATE_CMA memory (6.18+ would WARN under
// CONFIG_KEXEC_HANDOVER_DEBUG).
class ScratchPages : public PageAllocator {
 public:
  explicit ScratchPages(phys_addr_t at) : next_(at) {}
  phys_addr_t alloc(std::uint64_t bytes, std::uint64_t align) override {
    next_ = (next_ + align - 1) / align * align;
    const phys_addr_t a = next_;
    next_ += bytes;
    return a;
  }
  void free(phys_addr_t, std::uint64_t) override {}

 private:
  phys_addr_t next_;
};

TEST(KhoInvariants, MetadataOutsideScratch) {
  Machine m = make_machine();
  Kernel& k = cold(m, KhoEra::v6_18);
  ASSERT_GE(k.scratch()[0].size, 2 * PAGE_SIZE_4K);
  ScratchPages from_scratch(k.scratch()[0].addr);
  KernelTestAccess::tracker(k) = std::make_unique<MemTrack>(k.era().mem_map, k.image(), from_scratch);
  ASSERT_EQ(k.kho_preserve_folio(k.alloc_pages(0), 0), 0);  // its bitmap lands in scratch
  EXPECT_EQ(inv_ids(k.check_invariants()), Ids{"INV_METADATA_OUTSIDE_SCRATCH"});
  KernelTestAccess::tracker(k).reset();  // before from_scratch goes away
}

// Nothing stops the same memory being preserved at two orders (6.16-7.x):
// the next kernel reserves both (a warning: not enforced upstream).
TEST(KhoInvariants, PreservedDisjoint) {
  Machine m = make_machine();
  Kernel& k = cold(m, KhoEra::v6_19);
  const phys_addr_t p = k.alloc_pages(3);
  ASSERT_EQ(k.kho_preserve_folio(p, 3), 0);
  ASSERT_EQ(k.kho_preserve_folio(p, 0), 0);
  const auto v = k.check_invariants();
  EXPECT_EQ(inv_ids(v), Ids{"INV_PRESERVED_DISJOINT"});
  EXPECT_EQ(v.at(0).level, "warning");
}

// The greedy split of kho_preserve_pages() (6.18+) is a pure function of
// (start, nr), proved exact by the spec's Z3 obligations: no model state can
// make it wrong. The check kho_preserve_pages() runs is shown on a planted
// split that leaves a page out.
TEST(KhoInvariants, PreservedSplitExact) {
  EXPECT_FALSE(check_preserve_split(16, 5, kho_split_range(16, 5)).has_value());
  const auto f = check_preserve_split(16, 5, {{16 << 12, 2}});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->id, "INV_PRESERVED_SPLIT_EXACT");
}

// 6.16/6.18: once FINALIZED, __kho_preserve_order() answers -EBUSY, so the
// serialized map stays exact. A block added behind the state machine's back
// (straight into the tracker) is missing from the map.
TEST(KhoInvariants, FinalizedMapExact) {
  Machine m = make_machine();
  Kernel& k = cold(m, KhoEra::v6_18);
  ASSERT_EQ(k.kho_preserve_folio(k.alloc_pages(0), 0), 0);
  ASSERT_EQ(k.debugfs_finalize_write(1), 0);
  ASSERT_TRUE(inv_ids(k.check_invariants()).empty());
  ASSERT_EQ(k.tracker()->preserve_order(k.alloc_pages(3) / PAGE_SIZE_4K, 3), 0);
  EXPECT_EQ(inv_ids(k.check_invariants()), Ids{"INV_FINALIZED_MAP_EXACT"});
}

// 6.19 kho_finalize() serializes the tracker as it is; a new order preserved
// afterwards is not in the map handed over by a plain kexec -e.
TEST(KhoInvariants, MapFreshAtKexec) {
  Machine m = make_machine();
  Kernel& k1 = cold(m, KhoEra::v6_19);
  ASSERT_EQ(k1.kho_preserve_folio(k1.alloc_pages(0), 0), 0);
  ASSERT_EQ(k1.kho_finalize(), 0);
  ASSERT_EQ(k1.kho_preserve_folio(k1.alloc_pages(4), 4), 0);  // after the last finalize
  ASSERT_EQ(k1.kexec_file_load(), 0);
  Kernel* k2 = m.kexec(cfg(KhoEra::v6_19));
  ASSERT_NE(k2, nullptr);
  EXPECT_EQ(inv_ids(k1.findings()), Ids{"INV_MAP_FRESH_AT_KEXEC"});
  // Its consequence, in kernel 2: the new block did not arrive.
  EXPECT_EQ(inv_ids(k2->findings()), Ids{"INV_KHO_HANDOVER_COMPLETE"});
}

// ---- radix tree (kho-v2+) ---------------------------------------------------

// kho_radix_encode_key()/decode are pure functions proved a bijection by the
// spec's Z3 obligations: no model state violates them. The check
// MemTrack::preserve_order() runs is shown on a planted key (another block's).
TEST(KhoInvariants, RadixKeyBijective) {
  const PreservedBlock b{0x200000, 9};
  EXPECT_TRUE(kho_radix_key_violations(b, kho_radix_encode_key(b.phys, b.order)).empty());
  const auto v = kho_radix_key_violations(b, kho_radix_encode_key(0x400000, 9));
  EXPECT_EQ(Ids(v.begin(), v.end()), Ids{"INV_RADIX_KEY_BIJECTIVE"});
}

// kho_radix_add_page() (kho-v2+) descends five table levels to a leaf. A root
// entry that points at a page that is not a table node breaks the depth-6
// shape of the live tree.
TEST(KhoInvariants, RadixTreeShape) {
  Machine m = make_machine();
  Kernel& k = cold(m, KhoEra::kho_v2);
  ASSERT_EQ(k.kho_preserve_folio(k.alloc_pages(0), 0), 0);
  ASSERT_TRUE(inv_ids(k.check_invariants()).empty());
  const phys_addr_t root = k.tracker()->radix_root();
  std::uint64_t slot = 0;
  while (k.image().read_u64(root + slot * 8) != 0) ++slot;
  k.image().write_u64(root + slot * 8, k.alloc_pages(0));  // a zeroed page, not a node
  EXPECT_EQ(inv_ids(k.check_invariants()), Ids{"INV_RADIX_TREE_SHAPE"});
  // The key half of the check: a key wider than the tree's 60 bits.
  const PreservedBlock b{0x200000, 9};
  const auto v = kho_radix_key_violations(b, kho_radix_encode_key(b.phys, b.order) | std::uint64_t{1} << 61);
  EXPECT_TRUE(Ids(v.begin(), v.end()).count("INV_RADIX_TREE_SHAPE"));
}

// ---- the next kernel (spec/kho.md §6) ---------------------------------------

// kho_mem_deserialize() (6.16-6.19) walks the chunk list; a chunk whose next
// pointer points back at itself is corruption the reader must report.
TEST(KhoInvariants, KhoMapDecodes) {
  Machine m = make_machine();
  Kernel& k1 = cold(m, KhoEra::v6_18);
  ASSERT_EQ(k1.kho_preserve_folio(k1.alloc_pages(0), 0), 0);
  ASSERT_EQ(k1.debugfs_finalize_write(1), 0);
  ASSERT_EQ(k1.kexec_file_load(), 0);
  const phys_addr_t chunk = k1.tracker()->serialized_head();
  ASSERT_NE(chunk, 0u);
  k1.image().write_u64(chunk, chunk);  // khoser_mem_chunk.hdr.next = itself
  Kernel* k2 = m.kexec(cfg(KhoEra::v6_18));
  ASSERT_NE(k2, nullptr);
  EXPECT_TRUE(inv_ids(k1.findings()).empty());
  EXPECT_EQ(inv_ids(k2->findings()), Ids{"INV_KHO_MAP_DECODES"});
}

// Between kho_populate() and deserialization nothing protects preserved
// memory but the scratch-only policy (6.16+). An early allocation over a
// preserved block is planted in kernel 2's record of that window.
TEST(KhoInvariants, WindowNoAllocOverPreserved) {
  Machine m = make_machine();
  PreservedBlock b;
  Kernel* k2 = handed_over(m, KhoEra::v6_18, &b);
  ASSERT_NE(k2, nullptr);
  KernelTestAccess::window_allocs(*k2).emplace_back(b.phys, PAGE_SIZE_4K);
  EXPECT_EQ(inv_ids(m.check_handover()), Ids{"INV_WINDOW_NO_ALLOC_OVER_PRESERVED"});
}

// kho_mem_deserialize() (6.16+) memblock_reserve()s every preserved block and
// ignores the return value; here the reservation is gone at DESERIALIZED.
TEST(KhoInvariants, KhoPreservedReserved) {
  Machine m = make_machine();
  PreservedBlock b;
  Kernel* k2 = handed_over(m, KhoEra::v6_18, &b);
  ASSERT_NE(k2, nullptr);
  KernelTestAccess::phase(*k2) = BootPhase::deserialized;
  k2->memblock().memblock_set_kho_scratch_only();
  ASSERT_TRUE(inv_ids(k2->check_invariants()).empty());
  ASSERT_EQ(k2->memblock().memblock_phys_free(b.phys, PAGE_SIZE_4K << b.order), 0);
  EXPECT_EQ(inv_ids(k2->check_invariants()), Ids{"INV_KHO_PRESERVED_RESERVED"});
}

// init_cma_reserved_pageblock() (cold boot) and kho_release_scratch() (KHO
// boot) make scratch MIGRATE_CMA before it reaches buddy; here a scratch
// pageblock is __free_pages()'d into the unmovable pool as if it had never
// been marked.
TEST(KhoInvariants, CmaBeforeBuddy) {
  Machine m = make_machine();
  Kernel& k = cold(m, KhoEra::v6_18);
  k.free_pages(k.scratch()[0].addr, 9);
  EXPECT_EQ(inv_ids(k.check_invariants()), Ids{"INV_CMA_BEFORE_BUDDY"});
}

// memblock_free_all() frees only memory \ reserved, so a preserved block never
// reaches buddy (6.16+); here it is freed there anyway.
TEST(KhoInvariants, BuddyDisjointPreserved) {
  Machine m = make_machine();
  PreservedBlock b;
  Kernel* k2 = handed_over(m, KhoEra::v6_18, &b);
  ASSERT_NE(k2, nullptr);
  k2->buddy().add_free(b.phys, b.phys + (PAGE_SIZE_4K << b.order));
  EXPECT_EQ(inv_ids(k2->check_invariants()), Ids{"INV_BUDDY_DISJOINT_PRESERVED"});
}

// kho_restore_page() (6.18+) clears page->private after a successful restore,
// so a second kho_restore_folio() of the same page fails. A kernel that
// leaves KHOP|order there is caught twice: by the state check, and by the
// restore path when the second restore then succeeds. 6.16 has no
// restore-once rule: restoring twice is its documented behaviour.
TEST(KhoInvariants, RestoreOnce) {
  Machine m = make_machine();
  PreservedBlock b;
  Kernel* k2 = handed_over(m, KhoEra::v6_18, &b);
  ASSERT_NE(k2, nullptr);
  unsigned order = 0;
  ASSERT_TRUE(k2->kho_restore_folio(b.phys, &order));
  EXPECT_FALSE(k2->kho_restore_folio(b.phys, &order));  // the kernel's behaviour
  ASSERT_TRUE(inv_ids(k2->check_invariants()).empty());
  KernelTestAccess::page_private(*k2)[b.phys / PAGE_SIZE_4K] = std::uint64_t{KHO_PAGE_MAGIC} << 32 | b.order;
  EXPECT_EQ(inv_ids(k2->check_invariants()), Ids{"INV_RESTORE_ONCE"});
  const std::size_t before = k2->findings().size();
  ASSERT_TRUE(k2->kho_restore_folio(b.phys, &order));  // restored a second time
  ASSERT_EQ(k2->findings().size(), before + 1);
  EXPECT_EQ(k2->findings().back().id, "INV_RESTORE_ONCE");

  Machine m16 = make_machine();
  Kernel* j2 = handed_over(m16, KhoEra::v6_16, &b);
  ASSERT_NE(j2, nullptr);
  ASSERT_TRUE(j2->kho_restore_folio(b.phys, &order));
  ASSERT_TRUE(j2->kho_restore_folio(b.phys, &order));
  EXPECT_TRUE(inv_ids(j2->check_invariants()).empty());
  EXPECT_TRUE(inv_ids(j2->findings()).empty());
}

// Every block kernel 1 preserved is among those kernel 2 decoded; one is
// dropped from kernel 2's list.
TEST(KhoInvariants, KhoHandoverComplete) {
  Machine m = make_machine();
  PreservedBlock b;
  Kernel* k2 = handed_over(m, KhoEra::v6_19, &b);
  ASSERT_NE(k2, nullptr);
  auto& in = KernelTestAccess::incoming(*k2);
  in.erase(std::remove(in.begin(), in.end(), b), in.end());
  EXPECT_EQ(inv_ids(m.check_handover()), Ids{"INV_KHO_HANDOVER_COMPLETE"});
}

// Preserved bytes are the next kernel's to restore unchanged; kernel 2
// writes into a preserved folio.
TEST(KhoInvariants, KhoPreservedContentIntact) {
  Machine m = make_machine();
  PreservedBlock b;
  Kernel* k2 = handed_over(m, KhoEra::kho_v4, &b);
  ASSERT_NE(k2, nullptr);
  k2->image().write(b.phys + 100, std::vector<std::uint8_t>{0xee});
  EXPECT_EQ(inv_ids(m.check_handover()), Ids{"INV_KHO_PRESERVED_CONTENT_INTACT"});
  // What a kernel restored is its own: the same write after the restore is not a violation.
  Machine m2 = make_machine();
  Kernel* j2 = handed_over(m2, KhoEra::kho_v4, &b);
  ASSERT_NE(j2, nullptr);
  unsigned order = 0;
  ASSERT_TRUE(j2->kho_restore_folio(b.phys, &order));
  j2->image().write(b.phys + 100, std::vector<std::uint8_t>{0xee});
  EXPECT_TRUE(inv_ids(m2.check_handover()).empty());
}

// ---- LUO and memfd (spec/kho.md §8) ------------------------------------------

// A kernel 1 (7.3, liveupdate=on) with a 3-page memfd (page 1 a hole)
// preserved in session "s" under token 7; returns the memfd's fd.
int luo_memfd(Kernel& k) {
  const int fd = k.memfd_create();
  EXPECT_EQ(k.memfd_truncate(fd, 3 * PAGE_SIZE_4K), 0);
  for (std::uint64_t i : {0u, 2u}) {
    EXPECT_EQ(k.memfd_write(fd, i * PAGE_SIZE_4K, std::vector<std::uint8_t>(100, static_cast<std::uint8_t>(0x40 + i))), 0);
  }
  const int s = k.luo_create_session("s");
  EXPECT_GE(s, 0);
  EXPECT_EQ(k.luo_preserve_fd(s, fd, 7), 0);
  return fd;
}

KernelConfig luo_cfg() {
  KernelConfig c = cfg(KhoEra::kho_v4);
  c.cmdline = "kho=on liveupdate=on";
  return c;
}

// liveupdate_reboot() (7.2+) leaves the memfd's folios for the next kernel;
// an in-kernel user drops the preservation of one of them first (a real
// API sequence: kho_unpreserve_folio()), so that folio is not preserved.
TEST(KhoInvariants, LuoSerializedPreserved) {
  {  // clean: no finding on either side
    Machine m = make_machine();
    Kernel& k1 = m.boot_cold(luo_cfg());
    luo_memfd(k1);
    ASSERT_EQ(k1.kexec_file_load(), 0);
    ASSERT_NE(m.kexec(luo_cfg()), nullptr);
    EXPECT_TRUE(inv_ids(k1.findings()).empty());
  }
  Machine m = make_machine();
  Kernel& k1 = m.boot_cold(luo_cfg());
  const int fd = luo_memfd(k1);
  const phys_addr_t folio = k1.memfds().get(fd)->pages.at(2);
  ASSERT_EQ(k1.kho_unpreserve_folio(folio, 0), 0);
  ASSERT_EQ(k1.kexec_file_load(), 0);
  ASSERT_NE(m.kexec(luo_cfg()), nullptr);
  EXPECT_EQ(inv_ids(k1.findings()), Ids{"INV_LUO_SERIALIZED_PRESERVED"});
}

// The memfd kernel 2 retrieves must be the one kernel 1 had at reboot.
// Planted: after preserve, kernel 1's memfd swaps its page 0 for another
// page with other bytes (what an unpinned folio migrating would do); the
// serialization still names the old folio, which is handed over intact.
TEST(KhoInvariants, MemfdRestoredContent) {
  Machine m = make_machine();
  Kernel& k1 = m.boot_cold(luo_cfg());
  const int fd = luo_memfd(k1);
  const phys_addr_t other = k1.alloc_pages(0);
  k1.image().write(other, std::vector<std::uint8_t>(100, 0x99));
  k1.memfds().get(fd)->pages[0] = other;
  ASSERT_EQ(k1.kexec_file_load(), 0);
  Kernel* k2 = m.kexec(luo_cfg());
  ASSERT_NE(k2, nullptr);
  EXPECT_TRUE(inv_ids(m.check_handover()).empty());  // nothing retrieved yet
  const int s = k2->luo_retrieve_session("s");
  ASSERT_GE(k2->luo_retrieve_fd(s, 7), 0);
  EXPECT_EQ(inv_ids(m.check_handover()), Ids{"INV_MEMFD_RESTORED_CONTENT"});
}

// liveupdate_reboot() (7.3) serializes one session: its kho_block says
// count 1. Planted: the count becomes 2, so the next kernel would read a
// second, empty-named session that was never created
// (INV_KHO_BLOCK_CHAIN_VALID; kho_block.c kho_block_set_it_read_entry()).
TEST(KhoInvariants, KhoBlockChainValid) {
  Machine m = make_machine();
  Kernel& k1 = m.boot_cold(luo_cfg());
  luo_memfd(k1);
  LuoClient& luo = *k1.luo();
  ASSERT_EQ(luo.on_reboot(k1), 0);  // liveupdate_reboot(): serialize and check
  EXPECT_TRUE(inv_ids(k1.findings()).empty());
  const LuoSer ser = decode_luo_ser(k1.image().read(luo.blob(), LUO_SER_SIZE));
  ASSERT_NE(ser.sessions_pa, 0u);
  ASSERT_EQ(k1.image().read_u64(ser.sessions_pa + 8), 1u);
  k1.image().write_u64(ser.sessions_pa + 8, 2);
  EXPECT_EQ(inv_ids(luo.check_serialized(k1)), Ids{"INV_KHO_BLOCK_CHAIN_VALID"});
}

// The memfd's folio array (memfd_luo_preserve_folios(), 7.3) lists pages
// 0, 1, 2 in order. Planted: entry 1 says index 0 again, so the next kernel
// would put two folios at index 0 and none at 1 (INV_MEMFD_FOLIO_ENTRY_EXACT).
TEST(KhoInvariants, MemfdFolioEntryExact) {
  Machine m = make_machine();
  Kernel& k1 = m.boot_cold(luo_cfg());
  luo_memfd(k1);
  LuoClient& luo = *k1.luo();
  ASSERT_EQ(luo.on_reboot(k1), 0);
  EXPECT_TRUE(inv_ids(k1.findings()).empty());
  const auto w = testutil::walk_luo(k1.image(), luo.blob(), true, true);
  ASSERT_EQ(w.sessions.size(), 1u);
  ASSERT_EQ(w.sessions[0].files.size(), 1u);
  const auto& mf = w.sessions[0].files[0].memfd;
  ASSERT_EQ(mf.folios.size(), 3u);
  ASSERT_FALSE(mf.array.empty());
  const phys_addr_t index1 = mf.array[0] + MEMFD_FOLIO_SER_SIZE + 8;
  ASSERT_EQ(k1.image().read_u64(index1), 1u);
  k1.image().write_u64(index1, 0);
  EXPECT_EQ(inv_ids(luo.check_serialized(k1)), Ids{"INV_MEMFD_FOLIO_ENTRY_EXACT"});
}

// test_kho (lib/test_kho.c, 7.3: folios_info in a preserved vmalloc area)
// writes `phys | order` per folio. Planted: entry 0 names the next page, so
// the next kernel would restore a folio that was never preserved
// (INV_FOLIO_INFO_ENTRY_EXACT).
TEST(KhoInvariants, FolioInfoEntryExact) {
  Machine m = make_machine();
  KernelConfig c = cfg(KhoEra::kho_v4);
  c.test_kho = true;
  c.test_kho_max_mem = 1u << 20;
  Kernel& k = m.boot_cold(c);
  TestKhoClient* t = nullptr;
  for (auto& cl : k.clients())
    if (auto* x = dynamic_cast<TestKhoClient*>(cl.get())) t = x;
  ASSERT_NE(t, nullptr);
  ASSERT_GT(t->folio_count(), 0u);
  EXPECT_TRUE(inv_ids(k.findings()).empty());
  EXPECT_TRUE(inv_ids(t->check_folios_info(k)).empty());
  const auto info = TestKhoClient::read_folios_info(k.image(), t->fdt(), TestKhoClient::vmalloc_form(k), nullptr);
  ASSERT_TRUE(info && !info->empty());
  // The vmalloc area's first data page holds entry 0.
  phys_addr_t entry0 = 0;
  for (phys_addr_t p = 0; p < (1ull << 30) && !entry0; p += PAGE_SIZE_4K)
    if (k.image().touched(p) && k.image().read_u64(p) == (*info)[0] && k.image().read_u64(p + 8) == (info->size() > 1 ? (*info)[1] : 0))
      entry0 = p;
  ASSERT_NE(entry0, 0u);
  k.image().write_u64(entry0, (*info)[0] + PAGE_SIZE_4K);
  EXPECT_EQ(inv_ids(t->check_folios_info(k)), Ids{"INV_FOLIO_INFO_ENTRY_EXACT"});
}

}  // namespace
}  // namespace khospec::model
