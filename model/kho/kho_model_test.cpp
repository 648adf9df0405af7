// Tests of the KHO lifecycle model: eras, cmdline parsing, the transition
// tables, the boot hand-off encodings, and whole scenarios (the default
// chain in every era and every named hazard).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "model/kho/clients.hpp"
#include "model/kho/cmdline.hpp"
#include "model/kho/handover.hpp"
#include "model/kho/machine.hpp"
#include "model/kho/scenario.hpp"
#include "model/kho/state_machine.hpp"

namespace khospec::model {
namespace {

const EraTraits& T(KhoEra e) { return era_traits(e); }

TEST(KhoEra, NamesRoundTripAndTraitsDiffer) {
  for (auto e : registry::era_ids()) EXPECT_EQ(parse_era(era_name(e)), e);
  EXPECT_EQ(parse_era("6.16"), KhoEra::v6_16);
  EXPECT_EQ(parse_era("6.17"), KhoEra::v6_16);   // a release resolves to the era it writes
  EXPECT_EQ(parse_era("7.3.4"), KhoEra::kho_v4);
  EXPECT_FALSE(parse_era("stateless"));          // ambiguous: say an era or a release
  EXPECT_FALSE(parse_era("v5.10"));
  EXPECT_EQ(T(KhoEra::v6_16).mem_map, MemMapFormat::bitmap512);
  EXPECT_EQ(T(KhoEra::v6_18).mem_map, MemMapFormat::bitmap_page);
  EXPECT_EQ(T(KhoEra::kho_v2).subtree_prop, "preserved-data");
  EXPECT_FALSE(T(KhoEra::kho_v2).blob_size);
  EXPECT_TRUE(T(KhoEra::kho_v3).blob_size);
}

// kernel/kexec_handover.c kho_parse_scratch_size(), per era.
TEST(KhoCmdline, ScratchParseRulesPerEra) {
  ScratchSizes s;
  const auto& e616 = T(KhoEra::v6_16);
  const auto& e618 = T(KhoEra::v6_18);
  EXPECT_EQ(kho_parse_scratch_size(e616, "400%", s), 0);
  EXPECT_EQ(s.scale, 400u);
  EXPECT_EQ(kho_parse_scratch_size(e616, "12345678901%", s), -22);  // 11 digits
  EXPECT_EQ(kho_parse_scratch_size(e616, "", s), -22);
  EXPECT_EQ(kho_parse_scratch_size(e616, "32M,256M,64M", s), 0);
  EXPECT_EQ(s.scale, 0u);
  EXPECT_EQ(s.lowmem, 32u << 20);
  EXPECT_EQ(s.global, 256u << 20);
  EXPECT_EQ(s.pernode, 64u << 20);
  ScratchSizes z;
  EXPECT_EQ(kho_parse_scratch_size(e616, "0,256M,64M", z), -22);  // 6.16: every component non-zero
  EXPECT_EQ(kho_parse_scratch_size(e618, "0,256M,64M", z), 0);    // 6.18: only the total
  EXPECT_EQ(kho_parse_scratch_size(e618, "0,0,0", z), -22);
  EXPECT_EQ(kho_parse_scratch_size(e616, "1M,1M,1Mjunk", z), 0);  // 6.16 ignores trailing text
  EXPECT_EQ(kho_parse_scratch_size(e618, "1M,1M,1Mjunk", z), -22);
  EXPECT_EQ(kho_parse_scratch_size(e616, "1M;1M;1M", z), -22);
  ScratchSizes untouched;
  EXPECT_EQ(kho_parse_scratch_size(e616, "1M,2M", untouched), -22);
  EXPECT_EQ(untouched.scale, 200u);  // defaults stay on error
}

TEST(KhoCmdline, KhoAndReserveMem) {
  EXPECT_EQ(kstrtobool("on"), true);
  EXPECT_EQ(kstrtobool("off"), false);
  EXPECT_EQ(kstrtobool("Y"), true);
  EXPECT_FALSE(kstrtobool("maybe"));
  auto c = parse_cmdline(T(KhoEra::v6_16), "kho=on reserve_mem=4M:4096:trace reserve_mem=1M:3:bad kho_scratch=x", false);
  EXPECT_TRUE(c.kho);
  ASSERT_EQ(c.reserve_mem.size(), 1u);
  EXPECT_EQ(c.reserve_mem[0].size, 4u << 20);
  EXPECT_EQ(c.reserve_mem[0].name, "trace");
  EXPECT_EQ(c.errors.size(), 2u);  // bad alignment, bad kho_scratch
  EXPECT_EQ(memparse("0x10K").value, 0x4000u);
}

// The finalize state machines of each release (docs/kernel-behaviour.md §5).
TEST(KhoStateMachine, RowsMatchTheKernel) {
  auto row = [](KhoEra e, OutState s, OutEvent ev) { return find_transition(T(e), s, ev); };
  auto r = row(KhoEra::v6_16, OutState::finalized, OutEvent::debugfs_write_1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ret, -17);  // -EEXIST
  r = row(KhoEra::v6_16, OutState::idle, OutEvent::debugfs_write_0);
  EXPECT_EQ(r->ret, -2);   // -ENOENT
  r = row(KhoEra::v6_16, OutState::finalized, OutEvent::preserve);
  EXPECT_EQ(r->ret, -16);  // -EBUSY
  EXPECT_EQ(row(KhoEra::v6_16, OutState::idle, OutEvent::kexec_load)->effect, Effect::load_with_kho);
  EXPECT_EQ(row(KhoEra::v6_18, OutState::idle, OutEvent::kexec_load)->effect, Effect::load_plain);
  EXPECT_EQ(row(KhoEra::v6_19, OutState::finalized, OutEvent::debugfs_write_0)->ret, -22);
  EXPECT_EQ(row(KhoEra::v6_19, OutState::finalized, OutEvent::preserve)->effect, Effect::mutate);
  EXPECT_FALSE(row(KhoEra::kho_v4, OutState::idle, OutEvent::debugfs_write_1));
  // A failing abort keeps FINALIZED (the dangling-map hazard).
  EXPECT_EQ(row(KhoEra::v6_16, OutState::finalized, OutEvent::debugfs_write_0)->on_failure, OutState::finalized);
}

TEST(KhoHandover, SetupDataAndChosenRoundTrip) {
  KhoBootData d{0x3de000, 0x1000, 0x7cbf0000, 0x30};
  auto sd = encode_setup_data(d);
  ASSERT_EQ(sd.size(), 48u);
  EXPECT_EQ(sd[8], 10);  // SETUP_KEXEC_KHO
  EXPECT_EQ(decode_setup_data(sd), d);
  auto dt = encode_chosen(d);
  EXPECT_EQ(decode_chosen(dt), d);
  sd[8] = 9;
  EXPECT_FALSE(decode_setup_data(sd));
  EXPECT_FALSE(decode_chosen(std::vector<std::uint8_t>(8, 0)));
  std::vector<ScratchArea> s = {{0x75800000, 0x7400000}, {0x7f400000, 0}, {0x5fc00000, 0x15c00000}};
  EXPECT_EQ(decode_scratch_array(encode_scratch_array(s)), s);
}

Scenario parse_ok(const std::string& text) {
  ScenarioError err;
  auto s = parse_scenario(text, "t.yaml", err);
  EXPECT_TRUE(s) << err.message;
  return s ? *s : Scenario{};
}

TEST(KhoScenario, ErrorsNameLineAndField) {
  ScenarioError err;
  EXPECT_FALSE(parse_scenario("steps:\n  - finalize\n", "a.yaml", err));
  EXPECT_EQ(err.message, "a.yaml:2: the first step must be 'boot'");
  EXPECT_FALSE(parse_scenario("kernel: {era: v9}\nsteps: [boot]\n", "b.yaml", err));
  EXPECT_NE(err.message.find("b.yaml:1: kernel.era: unknown era or release 'v9'"), std::string::npos) << err.message;
  EXPECT_FALSE(parse_scenario("steps:\n  - boot\n  - preserve_pages: {phys: zz, nr: 1}\n", "c.yaml", err));
  EXPECT_NE(err.message.find("c.yaml:3:"), std::string::npos) << err.message;
  EXPECT_FALSE(parse_scenario("steps:\n  - boot\n  - frobnicate\n", "d.yaml", err));
  EXPECT_NE(err.message.find("unknown operation 'frobnicate'"), std::string::npos);
  EXPECT_FALSE(parse_scenario("machine: {ram: 2G, disks: 1}\nsteps: [boot]\n", "e.yaml", err));
  EXPECT_NE(err.message.find("unknown key 'disks'"), std::string::npos);
}

// The memory bound (docs/fuzz.md): a file over 1 MiB is refused before
// yaml-cpp builds its node tree; one just under the limit still parses.
TEST(KhoScenario, OverOneMiBIsRefused) {
  ScenarioError err;
  std::string text = "steps:\n  - boot\n";
  text += std::string((1u << 20) - text.size(), '#');
  EXPECT_FALSE(parse_scenario(text + "#", "big.yaml", err));
  EXPECT_EQ(err.message, "big.yaml:1: a scenario file is at most 1 MiB; this one has 1048577 bytes");
  ScenarioError ok;
  EXPECT_TRUE(parse_scenario(text, "ok.yaml", ok)) << ok.message;
}

class KhoChain : public ::testing::TestWithParam<KhoEra> {};

// The default kernel 1 -> 2 -> 3 chain: revival, test_kho restore, content
// intact, no invariant violated, in every era.
TEST_P(KhoChain, ThreeKernelHandOver) {
  auto text = builtin_scenario_text("chain", GetParam());
  ASSERT_TRUE(text);
  Scenario s = parse_ok(*text);
  auto run = run_scenario(s);
  EXPECT_TRUE(run.expectations_ok) << run.error;
  ASSERT_EQ(run.machine->kernels().size(), 3u);
  for (const auto& f : run.machine->all_findings()) {
    EXPECT_NE(f.level, "error") << f.id << ": " << f.detail;
  }
  const Kernel& k3 = *run.machine->kernels()[2];
  EXPECT_TRUE(k3.kho_boot());
  // Scratch is reused unchanged along the chain (INV_SCRATCH_STABLE).
  EXPECT_EQ(run.machine->kernels()[0]->scratch(), k3.scratch());
  EXPECT_FALSE(k3.incoming_blocks().empty());
}

INSTANTIATE_TEST_SUITE_P(Eras, KhoChain, ::testing::ValuesIn(registry::era_ids().begin(), registry::era_ids().end()),
                         [](const ::testing::TestParamInfo<KhoEra>& p) {
                           std::string n(era_name(p.param));
                           for (auto& c : n) if (c == '.' || c == '-') c = '_';
                           return n;
                         });

// Every named hazard reproduces its finding (the scenarios carry `expect`).
TEST(KhoHazards, EveryBuiltinHazardReproduces) {
  int ran = 0;
  for (const auto& name : builtin_scenarios()) {
    if (name == "chain") continue;
    for (auto e : registry::era_ids()) {
      auto text = builtin_scenario_text(name, e);
      if (!text) continue;
      auto run = run_scenario(parse_ok(*text));
      EXPECT_TRUE(run.expectations_ok) << name << " in " << era_name(e) << ": " << run.error;
      ++ran;
    }
  }
  EXPECT_GE(ran, 17);  // 12 KHO hazards, luo-memfd in 4 eras, luo-flb-missing
}

// The captured 6.16 hand-overs (kho-v1-linux-6.16): scratch sizes of the captured scenarios
// (out_scratch_len.txt). Scale mode depends on the boot footprint, which is
// calibrated on reserve-mem-1 and kho-only; explicit sizes are exact.
TEST(KhoParity616, ScratchSizesOfCapturedScenarios) {
  struct Case { const char* cmdline; std::uint64_t low, global, node; };
  const Case cases[] = {
      {"kho=on reserve_mem=4M:4096:trace", 0x7400000, 0x0, 0x15c00000},          // reserve-mem-1-2stage
      {"kho=on", 0x6c00000, 0x0, 0x14400000},                                      // kho-only-2stage
      {"kho=on kho_scratch=32M,256M,64M reserve_mem=4M:4096:trace", 0x2000000, 0x10000000, 0x4000000},
      {"kho=on kho_scratch=64M,192M,96M reserve_mem=4M:4096:trace reserve_mem=12K:4096:small", 0x4000000,
       0xc000000, 0x6000000},                                                      // recursive-3stage
  };
  for (const auto& c : cases) {
    Machine m(machine_with_ram(2ull << 30));
    KernelConfig k;
    k.era = KhoEra::v6_16;
    k.cmdline = c.cmdline;
    Kernel& k1 = m.boot_cold(k);
    ASSERT_EQ(k1.scratch().size(), 3u) << c.cmdline;
    EXPECT_EQ(k1.scratch()[0].size, c.low) << c.cmdline;
    EXPECT_EQ(k1.scratch()[1].size, c.global) << c.cmdline;
    EXPECT_EQ(k1.scratch()[2].size, c.node) << c.cmdline;
  }
}

TEST(KhoParity616, RootFdtLayoutIsByteExact) {
  // reserve-mem-1-2stage/k1/out_fdt.dtb: root at 0x3de000, map 0x15f000,
  // memblock sub-FDT 0x3df000 (kho_finalize() order).
  PhysImage img;
  RootFdt r(T(KhoEra::v6_16), img, 0x3de000);
  ASSERT_EQ(r.begin_sequential(), 0);
  ASSERT_EQ(r.add_subtree("memblock", 0x3df000, 0), 0);
  ASSERT_EQ(r.finish_sequential(0x15f000), 0);
  auto blob = r.blob();
  ASSERT_EQ(blob.size(), 0xc4u);
  // The same bytes the corpus file real-6.16-reserve-mem-1.kho.yaml pins to the capture.
  EXPECT_EQ(img.read(0x3de000, blob.size()), blob);
  EXPECT_EQ(blob[0x30 - 0x30], 0xd0);
}

TEST(KhoParity73, RootFdtEditedInPlaceLikeLibfdtRw) {
  // kho-v4-linux-7.3 reserve-mem-1-2stage/k1/out_fdt.dts: memblock (added
  // last) comes first, and blob-size precedes preserved-data.
  PhysImage img;
  RootFdt r(T(KhoEra::kho_v4), img, 0x1f5000);
  ASSERT_EQ(r.create(0x1f4000), 0);
  ASSERT_EQ(r.add_subtree("kexec-metadata", 0x1fc000, 73), 0);
  ASSERT_EQ(r.add_subtree("memblock", 0x3cc000, 0xd2), 0);
  EXPECT_EQ(r.add_subtree("memblock", 0x1, 1), -17);  // -EEXIST
  auto blob = r.blob();
  std::string s(blob.begin(), blob.end());
  EXPECT_LT(s.find("memblock"), s.find("kexec-metadata"));
  // Header relayout by fdt_open_into()+fdt_pack(): rsvmap at 0x28, struct at 0x38.
  EXPECT_EQ(blob[19], 0x28);
  EXPECT_EQ(blob[11], 0x38);
  EXPECT_EQ(r.remove_subtree(0x3cc000), 0);
  EXPECT_EQ(r.remove_subtree(0x3cc000), -2);
}


KernelConfig cfg(KhoEra era, const std::string& cmdline = "kho=on") {
  KernelConfig c;
  c.era = era;
  c.cmdline = cmdline;
  return c;
}

// Each era's error codes (kernel/kexec_handover.c by era).
TEST(KhoApi, ErrorCodesPerEra) {
  {
    Machine m(machine_with_ram(1ull << 30));
    Kernel& k = m.boot_cold(cfg(KhoEra::v6_16));
    EXPECT_EQ(k.kho_preserve_phys(0x40000800, 0x1000), K_EINVAL);  // not page aligned
    EXPECT_EQ(k.kho_preserve_pages(0x40000000, 1), K_EOPNOTSUPP);  // 6.18+ API
    EXPECT_EQ(k.kho_alloc_preserve(4096), K_EOPNOTSUPP);           // 6.19+ API
    EXPECT_EQ(k.kho_add_subtree("x", 0x1000, 0), K_EINVAL);        // only from a FINALIZE notifier
    EXPECT_EQ(k.debugfs_finalize_write(0), K_ENOENT);              // not finalized
    EXPECT_EQ(k.debugfs_finalize_write(1), 0);
    EXPECT_EQ(k.debugfs_finalize_write(1), K_EEXIST);
    phys_addr_t p = k.alloc_pages(0);
    EXPECT_EQ(k.kho_preserve_folio(p, 0), K_EBUSY);
    EXPECT_EQ(k.kho_preserve_phys(p, 0x1000), K_EBUSY);
    EXPECT_EQ(k.debugfs_finalize_write(0), 0);
    EXPECT_EQ(k.kho_preserve_folio(p, 0), 0);
  }
  {
    Machine m(machine_with_ram(1ull << 30));
    Kernel& k = m.boot_cold(cfg(KhoEra::v6_19));
    EXPECT_EQ(k.kho_alloc_preserve(0), K_EINVAL);
    EXPECT_EQ(k.kho_alloc_preserve(8u << 20), K_E2BIG);  // order 11 > MAX_PAGE_ORDER
    EXPECT_GT(k.kho_alloc_preserve(12 << 10), 0);
    KhoVmalloc v;
    EXPECT_EQ(k.kho_preserve_vmalloc({k.alloc_pages(0)}, 0, 0x4, &v), K_EOPNOTSUPP);
    EXPECT_EQ(k.debugfs_finalize_write(0), K_EINVAL);  // 6.19: write 0 is invalid
    std::int64_t blob = k.kho_alloc_preserve(4096);
    ASSERT_GT(blob, 0);
    EXPECT_EQ(k.kho_add_subtree("dup", static_cast<phys_addr_t>(blob), 0), 0);
    EXPECT_EQ(k.kho_add_subtree("dup", static_cast<phys_addr_t>(blob), 0), K_EEXIST);
    EXPECT_EQ(k.kho_remove_subtree(static_cast<phys_addr_t>(blob)), 0);
  }
  {
    Machine m(machine_with_ram(1ull << 30));
    Kernel& k = m.boot_cold(cfg(KhoEra::kho_v4));
    EXPECT_EQ(k.debugfs_finalize_write(1), K_ENOENT);  // no finalize file at all
    EXPECT_EQ(k.kho_finalize(), K_ENOENT);
  }
  {
    Machine m(machine_with_ram(1ull << 30));
    Kernel& k = m.boot_cold(cfg(KhoEra::v6_19, "kho=off"));
    EXPECT_FALSE(k.kho_enabled());
    EXPECT_TRUE(k.scratch().empty());
    EXPECT_EQ(k.out_state(), OutState::disabled);
    EXPECT_EQ(k.kho_finalize(), K_EOPNOTSUPP);
    EXPECT_EQ(k.debugfs_finalize_write(1), K_ENOENT);
    EXPECT_EQ(k.kexec_file_load(), 0);
    ASSERT_TRUE(k.loaded());
    EXPECT_FALSE(k.loaded()->kho);
  }
}

// CONFIG_KEXEC_HANDOVER_DEBUG (6.18+): preserving scratch memory WARNs and fails.
TEST(KhoApi, DebugScratchOverlapCheck) {
  for (bool debug : {false, true}) {
    Machine m(machine_with_ram(1ull << 30));
    KernelConfig c = cfg(KhoEra::v6_18);
    c.debug = debug;
    Kernel& k = m.boot_cold(c);
    phys_addr_t in_scratch = k.scratch()[0].addr;
    int ret = k.kho_preserve_pages(in_scratch, 1);
    if (debug) {
      EXPECT_EQ(ret, K_EINVAL);
    } else {
      // Without the debug option nothing stops it: the invariant reports it.
      EXPECT_EQ(ret, 0);
      k.check_invariants();
      bool found = false;
      for (const auto& f : k.findings()) found |= f.id == "INV_SCRATCH_PRESERVED_DISJOINT";
      EXPECT_TRUE(found);
    }
  }
}

// kho_restore_folio(): 6.16 has no magic check; 6.18 checks KHOP and restores once.
TEST(KhoApi, RestoreSemanticsPerEra) {
  for (KhoEra era : {KhoEra::v6_16, KhoEra::v6_18}) {
    Machine m(machine_with_ram(1ull << 30));
    Kernel& k1 = m.boot_cold(cfg(era));
    phys_addr_t p = k1.alloc_pages(2);
    ASSERT_EQ(k1.kho_preserve_folio(p, 2), 0);
    ASSERT_EQ(k1.debugfs_finalize_write(1), 0);
    ASSERT_EQ(k1.kexec_file_load(), 0);
    Kernel* k2 = m.kexec(cfg(era));
    ASSERT_NE(k2, nullptr);
    unsigned order = 99;
    EXPECT_TRUE(k2->kho_restore_folio(p, &order));
    EXPECT_EQ(order, 2u);
    phys_addr_t never = p + (16u << 20);  // an online page nobody preserved
    if (era == KhoEra::v6_16) {
      EXPECT_TRUE(k2->kho_restore_folio(p, &order));      // no restore-once
      EXPECT_TRUE(k2->kho_restore_folio(never, &order));  // no magic: restores as order 0
      bool hazard = false;
      for (const auto& f : k2->findings()) hazard |= f.id == "HAZARD_RESTORE_UNPRESERVED";
      EXPECT_TRUE(hazard);
    } else {
      EXPECT_FALSE(k2->kho_restore_folio(p, &order));     // restore once
      EXPECT_FALSE(k2->kho_restore_folio(never, &order)); // bad magic
    }
  }
}

// kho_reserve_scratch() failure frees what it took and disables KHO.
TEST(KhoScratch, AllocationFailureDisablesKho) {
  Machine m(machine_with_ram(2ull << 30));
  Kernel& k = m.boot_cold(cfg(KhoEra::v6_16, "kho=on kho_scratch=64M,1900M,64M"));
  EXPECT_FALSE(k.kho_enabled());
  EXPECT_EQ(k.out_state(), OutState::disabled);
  for (const auto& r : k.memblock().reserved().regions) EXPECT_NE(r.size, 64u << 20) << "leaked lowmem area";
}

// Cold boot: scratch pageblocks become MIGRATE_CMA at kho_init(); unmovable
// allocations never come from them.
TEST(KhoScratch, ColdBootCmaTransition) {
  Machine m(machine_with_ram(2ull << 30));
  Kernel& k = m.boot_cold(cfg(KhoEra::v6_18));
  for (const auto& a : k.scratch()) {
    if (!a.size) continue;
    EXPECT_TRUE(k.buddy().is_cma(a.addr));
    EXPECT_TRUE(k.buddy().is_cma(a.addr + a.size - 1));
  }
  for (int i = 0; i < 64; ++i) {
    phys_addr_t p = k.alloc_pages(9);
    ASSERT_NE(p, 0u);
    for (const auto& a : k.scratch()) EXPECT_FALSE(p >= a.addr && p < a.addr + a.size);
  }
}

// kho_locate_mem_hole(): with KHO on every segment must fit in one scratch area.
TEST(KhoKexec, SegmentsMustFitInScratch) {
  Machine m(machine_with_ram(2ull << 30));
  KernelConfig c = cfg(KhoEra::v6_18, "kho=on kho_scratch=16M,16M,16M");
  c.kernel_image_size = 64u << 20;
  Kernel& k = m.boot_cold(c);
  ASSERT_EQ(k.debugfs_finalize_write(1), 0);
  EXPECT_EQ(k.kexec_file_load(), K_EADDRNOTAVAIL);
  EXPECT_FALSE(k.loaded());
}

TEST(KhoKexec, Arm64HandsOverThroughChosen) {
  MachineConfig mc = machine_with_ram(1ull << 30);
  mc.arch = Arch::arm64;
  Machine m(mc);
  Kernel& k1 = m.boot_cold(cfg(KhoEra::kho_v4, "kho=on reserve_mem=1M:4096:log"));
  ASSERT_EQ(k1.kexec_file_load(), 0);
  Kernel* k2 = m.kexec(cfg(KhoEra::kho_v4, "kho=on reserve_mem=1M:4096:log"));
  ASSERT_NE(k2, nullptr);
  EXPECT_TRUE(k2->kho_boot());
  auto rec = k2->image().read(k1.loaded()->handoff_segment, 4096);
  auto d = decode_chosen(rec);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->fdt_addr, k1.loaded()->kho_data.fdt_addr);
  EXPECT_EQ(dynamic_cast<ReserveMemClient*>(k2->client("memblock"))->regions().at(0).revived, true);
}

// A kernel of another ABI refuses the hand-over: revival is disabled and the
// preserved memory is unprotected (kho_populate(): incompatible).
TEST(KhoKexec, IncompatibleCompatibleDisablesRevival) {
  Machine m(machine_with_ram(1ull << 30));
  Kernel& k1 = m.boot_cold(cfg(KhoEra::v6_19));
  phys_addr_t p = k1.alloc_pages(0);
  ASSERT_EQ(k1.kho_preserve_folio(p, 0), 0);
  ASSERT_EQ(k1.kho_finalize(), 0);
  ASSERT_EQ(k1.kexec_file_load(), 0);
  Kernel* k2 = m.kexec(cfg(KhoEra::kho_v2));
  ASSERT_NE(k2, nullptr);
  EXPECT_FALSE(k2->kho_boot());
  bool logged = false;
  for (const auto& l : k2->dmesg()) logged |= l.find("is incompatible with 'kho-v2'") != std::string::npos;
  EXPECT_TRUE(logged);
  bool missing = false;
  for (const auto& f : k2->findings()) missing |= f.id == "INV_KHO_HANDOVER_COMPLETE";
  EXPECT_TRUE(missing);
  EXPECT_FALSE(k2->scratch().empty());  // kho=on: fresh scratch like a cold boot
}

// kho_mem_deserialize() (6.16+) ignores memblock_reserve()'s return value
// (docs/kernel-behaviour.md §6): when the reserved array cannot double inside
// scratch, memblock_reserve() fails during deserialization and the kernel
// ignores it; 300 scattered preserved pages need more than 128 regions.
TEST(KhoHazards, DeserializeReserveFailureIsReported) {
  Machine m(machine_with_ram(1ull << 30));
  Kernel& k1 = m.boot_cold(cfg(KhoEra::v6_18));
  phys_addr_t base = k1.alloc_pages(10);
  for (int i = 0; i < 300; ++i) ASSERT_EQ(k1.kho_preserve_folio(base + 2 * i * PAGE_SIZE_4K, 0), 0);
  ASSERT_EQ(k1.debugfs_finalize_write(1), 0);
  ASSERT_EQ(k1.kexec_file_load(), 0);
  KernelConfig c2 = cfg(KhoEra::v6_18);
  c2.exhaust_scratch = true;
  Kernel* k2 = m.kexec(c2);
  ASSERT_NE(k2, nullptr);
  std::set<std::string> ids;
  for (const auto& f : k2->findings()) ids.insert(f.id);
  EXPECT_TRUE(ids.count("INV_KHO_PRESERVED_RESERVED"));
  // The unreserved blocks then reach the buddy allocator.
  EXPECT_TRUE(ids.count("INV_BUDDY_DISJOINT_PRESERVED"));
  // Without the exhaustion the same hand-over is clean.
  Machine m2(machine_with_ram(1ull << 30));
  Kernel& j1 = m2.boot_cold(cfg(KhoEra::v6_18));
  phys_addr_t b2 = j1.alloc_pages(10);
  for (int i = 0; i < 300; ++i) ASSERT_EQ(j1.kho_preserve_folio(b2 + 2 * i * PAGE_SIZE_4K, 0), 0);
  ASSERT_EQ(j1.debugfs_finalize_write(1), 0);
  ASSERT_EQ(j1.kexec_file_load(), 0);
  Kernel* j2 = m2.kexec(cfg(KhoEra::v6_18));
  for (const auto& f : j2->findings()) EXPECT_NE(f.level, "error") << f.id;
}

// Golden bytes: the FDTs and sub-blobs kernels 1 and 2 of the default chain
// expose in debugfs, per era, pinned in model/kho/golden/ERA/kN/. After an
// intentional model change, regenerate with
//   khospec simulate --out DIR && cp -r DIR/ERA/k{1,2} model/kho/golden/ERA/
TEST_P(KhoChain, GoldenBytes) {
  namespace fs = std::filesystem;
  auto run = run_scenario(parse_ok(*builtin_scenario_text("chain", GetParam())));
  const fs::path dir = fs::path(KHOSPEC_GOLDEN_DIR) / std::string(era_name(GetParam()));
  for (int k = 0; k < 2; ++k) {
    const Kernel& kern = *run.machine->kernels()[static_cast<std::size_t>(k)];
    auto blobs = kern.debugfs_out_blobs();
    ASSERT_FALSE(blobs.empty());
    std::size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir / ("k" + std::to_string(k + 1))))
      files += e.is_regular_file();
    EXPECT_EQ(files, blobs.size()) << "kernel " << k + 1 << ": a blob appeared or disappeared";
    for (const auto& b : blobs) {
      fs::path p = dir / ("k" + std::to_string(k + 1)) /
                   (b.name == "fdt" ? "out_fdt.dtb" : "sub_fdts/" + b.name + (b.fdt ? ".dtb" : ".bin"));
      std::ifstream in(p, std::ios::binary);
      ASSERT_TRUE(in) << "missing golden file " << p;
      std::vector<std::uint8_t> want((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(b.bytes, want) << p;
    }
  }
}

TEST(KhoImage, RawAndElfRoundTrip) {
  PhysImage img;
  std::vector<std::uint8_t> a(5000, 0xab);
  img.write(0x10ff0, a);            // crosses pages
  img.write_u64(0x200000, 0x1122334455667788ull);
  EXPECT_EQ(img.read_u64(0x200000), 0x1122334455667788ull);
  EXPECT_EQ(img.read(0x10ff0, 5000), a);
  EXPECT_EQ(img.read(0x5000, 4), std::vector<std::uint8_t>(4, 0));  // untouched reads as zero
  // Raw image with a base: saved and loaded back at the same addresses.
  auto raw = img.save_raw(0x10000, 0x4000);
  PhysImage back;
  back.load_raw(0x10000, raw);
  EXPECT_EQ(back.read(0x10ff0, 4096), img.read(0x10ff0, 4096));
  EXPECT_TRUE(back.touched(0x10000));
  EXPECT_FALSE(back.touched(0x13000));  // all-zero pages stay sparse
  // ELF core: one PT_LOAD per run of touched pages, p_paddr = address.
  auto elf = img.save_elf();
  ASSERT_GT(elf.size(), 64u);
  EXPECT_EQ(elf[0], 0x7f);
  EXPECT_EQ(elf[1], 'E');
  EXPECT_EQ(img.runs().size(), 2u);
}

// Item 20: the same memory preserved at two orders is reported (warning).
TEST(KhoApi, OverlappingPreservationsAreReported) {
  Machine m(machine_with_ram(1ull << 30));
  Kernel& k = m.boot_cold(cfg(KhoEra::v6_19));
  phys_addr_t p = k.alloc_pages(3);
  ASSERT_EQ(k.kho_preserve_folio(p, 3), 0);
  ASSERT_EQ(k.kho_preserve_folio(p, 0), 0);
  auto v = k.check_invariants();
  bool found = false;
  for (const auto& f : v) found |= f.id == "INV_PRESERVED_DISJOINT" && f.level == "warning";
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace khospec::model
