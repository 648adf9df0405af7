// The validator against the model (issue 5's model-dependent checks):
//  - every hand-over the KHO model writes (all eras, the default chain and
//    random preserve sequences) validates clean with its memory image, and
//    `validate --memory` decodes exactly the model's preserved set;
//  - every single-field mutation of it (wrong length, wrong compatible,
//    dangling pointer, cycle in the map, preserved memory in scratch) yields
//    at least one error finding.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <set>
#include <sstream>

extern "C" {
#include <libfdt.h>
}

#include "conformance/validate/validate.hpp"
#include "fdt/decode.hpp"
#include "model/kho/machine.hpp"
#include "core/rc_run.hpp"

namespace khospec::model {
namespace {

using registry::EraId;

namespace cf = khospec::conformance;

// One hand-over as a user captures it before kexec: out/fdt, scratch, memory.
struct Handover {
  EraId era;
  std::vector<std::uint8_t> fdt;
  phys_addr_t fdt_phys = 0;
  std::vector<std::uint8_t> elf;
  std::vector<cf::ScratchArea> scratch;
  std::vector<PreservedBlock> preserved;  // the model's set, sorted
  phys_addr_t map = 0;                    // preserved-memory-map value
};

Handover capture(Kernel& k) {
  Handover h;
  h.era = k.era().id;
  h.fdt = k.debugfs_out_fdt();
  h.fdt_phys = k.root_fdt() ? k.root_fdt()->page() : 0;
  h.elf = k.image().save_elf();
  for (const auto& s : k.scratch()) h.scratch.push_back({s.addr, s.size});
  h.preserved = k.tracker()->blocks();
  std::sort(h.preserved.begin(), h.preserved.end());
  std::vector<std::uint64_t> buf(h.fdt.size() / 8 + 1, 0);
  std::memcpy(buf.data(), h.fdt.data(), h.fdt.size());
  int len = 0;
  const auto* p = static_cast<const std::uint8_t*>(fdt_getprop(buf.data(), 0, "preserved-memory-map", &len));
  if (p && len == 8) h.map = fdt::load_u64(p, fdt::Endian::little);
  return h;
}

struct Result {
  Report report;
  cf::Validation v;
};

Result run_validate(const Handover& h, const std::vector<std::uint8_t>& fdt, const std::vector<std::uint8_t>& elf,
                    const std::vector<cf::ScratchArea>& scratch) {
  Result r;
  auto img = cf::MemoryImage::from_bytes(elf, std::nullopt, "memory.elf", r.report);
  cf::ValidateOptions o;
  o.read.file = "model:" + std::string(era_name(h.era));
  o.fdt_phys = h.fdt_phys;
  o.scratch = scratch;
  r.v = cf::validate(fdt, &img, o, r.report);
  return r;
}

std::string errors_of(const Report& r) {
  std::ostringstream o;
  for (const auto& d : r.diagnostics())
    if (d.level == Level::error) render_text(o, d);
  return o.str();
}

void expect_clean_and_exact(const Handover& h, const std::string& what) {
  auto r = run_validate(h, h.fdt, h.elf, h.scratch);
  EXPECT_EQ(r.report.count(Level::error), 0u) << what << "\n" << errors_of(r.report);
  ASSERT_TRUE(r.v.map) << what << ": map not decoded";
  auto got = r.v.map->blocks;
  std::vector<PreservedBlock> got_m;
  for (const auto& b : got) got_m.push_back({b.phys, b.order});
  std::sort(got_m.begin(), got_m.end());
  EXPECT_EQ(got_m, h.preserved) << what;
}

KernelConfig chain_cfg(EraId era) {
  KernelConfig c;
  c.era = era;
  c.cmdline = "kho=on reserve_mem=4M:4096:trace reserve_mem=12K:4096:small";
  c.test_kho = true;
  return c;
}

void prepare_for_kexec(Kernel& k) {
  if (k.era().finalize == FinalizeModel::notifier_abort && k.out_state() != OutState::finalized) {
    ASSERT_EQ(k.debugfs_finalize_write(1), 0);
  }
  if (k.era().finalize == FinalizeModel::refresh) {
    ASSERT_EQ(k.kho_finalize(), 0);
  }
  ASSERT_EQ(k.kexec_file_load(), 0);
}

class KhoValidate : public ::testing::TestWithParam<EraId> {};

// Acceptance: a model-generated three-kernel chain validates clean at every
// hand-over, and --memory decodes the preserved set equal to the model's.
TEST_P(KhoValidate, ThreeKernelChainDecodesTheModelsSet) {
  Machine m(machine_with_ram(2ull << 30));
  Kernel* k = &m.boot_cold(chain_cfg(GetParam()));
  for (int i = 0; i < 3; ++i) {
    prepare_for_kexec(*k);
    Handover h = capture(*k);
    ASSERT_FALSE(h.fdt.empty());
    expect_clean_and_exact(h, "kernel " + std::to_string(i + 1));
    if (i < 2) {
      k = m.kexec(chain_cfg(GetParam()));
      ASSERT_NE(k, nullptr);
    }
  }
}

// Single-field mutations of a model hand-over: each must produce an error.
TEST_P(KhoValidate, EveryMutationIsFound) {
  Machine m(machine_with_ram(1ull << 30));
  Kernel& k = m.boot_cold(chain_cfg(GetParam()));
  prepare_for_kexec(k);
  const Handover h = capture(k);
  const std::string sub = std::string(k.era().subtree_prop);

  auto with_prop = [&](const char* node, const char* prop, std::vector<std::uint8_t> value) {
    std::vector<std::uint64_t> buf(PAGE_SIZE_4K / 8 * 2, 0);
    std::memcpy(buf.data(), h.fdt.data(), h.fdt.size());
    EXPECT_EQ(fdt_open_into(buf.data(), buf.data(), static_cast<int>(buf.size() * 8)), 0);
    int off = fdt_path_offset(buf.data(), node);
    EXPECT_GE(off, 0) << node;
    EXPECT_EQ(fdt_setprop(buf.data(), off, prop, value.data(), static_cast<int>(value.size())), 0);
    fdt_pack(buf.data());
    const auto* p = reinterpret_cast<const std::uint8_t*>(buf.data());
    return std::vector<std::uint8_t>(p, p + fdt_totalsize(buf.data()));
  };
  auto le64 = [](std::uint64_t v) {
    std::vector<std::uint8_t> b(8);
    fdt::store_u64(b.data(), v, fdt::Endian::little);
    return b;
  };
  auto expect_error = [&](const std::string& what, const std::vector<std::uint8_t>& fdt,
                          const std::vector<std::uint8_t>& elf, const std::vector<cf::ScratchArea>& scratch) {
    auto r = run_validate(h, fdt, elf, scratch);
    EXPECT_GT(r.report.count(Level::error), 0u) << "mutation not found: " << what;
  };

  expect_error("memory map of 4 bytes", with_prop("/", "preserved-memory-map", {0, 0x10, 0, 0}), h.elf, h.scratch);
  expect_error("dangling memory map", with_prop("/", "preserved-memory-map", le64(0x7ff000000ull)), h.elf, h.scratch);
  std::string bad_compat = std::string(k.era().compatible);
  bad_compat.back() = '9';
  std::vector<std::uint8_t> cv(bad_compat.begin(), bad_compat.end());
  cv.push_back(0);
  expect_error("wrong compatible", with_prop("/", "compatible", cv), h.elf, h.scratch);
  expect_error("dangling subtree pointer", with_prop("/memblock", sub.c_str(), le64(0x7ff000000ull)), h.elf, h.scratch);
  expect_error("subtree pointer of 4 bytes", with_prop("/memblock", sub.c_str(), {0, 0x10, 0, 0}), h.elf, h.scratch);

  // A cycle in the map: the first chunk's next (kho-v1) or a radix table
  // entry pointing back at the root.
  PhysImage cyc;
  {
    Report rr;
    cf::MemoryImage tmp = cf::MemoryImage::from_bytes(h.elf, std::nullopt, "x", rr);
    for (const auto& s : tmp.segments()) {
      auto bytes = tmp.read_vec(s.paddr, static_cast<std::size_t>(s.size));
      cyc.write(s.paddr, *bytes);
    }
  }
  if (k.era().mem_map == MemMapFormat::radix) {
    cyc.write_u64(h.map + 8 * 3, h.map);  // root index 3 -> the root itself
  } else {
    cyc.write_u64(h.map, h.map);          // chunk->hdr.next = itself
  }
  expect_error("cycle in the memory map", h.fdt, cyc.save_elf(), h.scratch);

  // Preserved memory inside scratch: a scratch list covering a preserved block.
  auto scratch = h.scratch;
  scratch.push_back({h.preserved.front().phys, PAGE_SIZE_4K << h.preserved.front().order});
  expect_error("preserved block inside scratch", h.fdt, h.elf, scratch);
}

// Random preserve sequences per era: every hand-over validates clean and
// decodes to the model's set (seed printed; RC_PARAMS overrides).
TEST_P(KhoValidate, RandomHandOversValidateClean) {
  const EraId era = GetParam();
  auto property = [era] {
    Machine m(machine_with_ram(512ull << 20));
    KernelConfig c;
    c.era = era;
    c.cmdline = "kho=on reserve_mem=1M:4096:buf";
    Kernel& k = m.boot_cold(c);
    const auto orders = *rc::gen::container<std::vector<unsigned>>(rc::gen::inRange(0u, 11u));
    for (unsigned o : orders) {
      phys_addr_t p = k.alloc_pages(o);
      RC_ASSERT(p != 0u);
      RC_ASSERT(k.kho_preserve_folio(p, o) == 0);
    }
    if (k.era().finalize == FinalizeModel::notifier_abort) RC_ASSERT(k.debugfs_finalize_write(1) == 0);
    if (k.era().finalize == FinalizeModel::refresh) RC_ASSERT(k.kho_finalize() == 0);
    Handover h = capture(k);
    auto r = run_validate(h, h.fdt, h.elf, h.scratch);
    RC_ASSERT(r.report.count(Level::error) == 0u);
    RC_ASSERT(r.v.map.has_value());
    std::vector<PreservedBlock> got;
    for (const auto& b : r.v.map->blocks) got.push_back({b.phys, b.order});
    std::sort(got.begin(), got.end());
    RC_ASSERT(got == h.preserved);
  };
  testutil::rc_run_property("KhoValidate/Random/" + std::string(era_name(era)),
                            "seed=20261121 max_success=" KHOSPEC_VALIDATE_RUNS, property);
}

INSTANTIATE_TEST_SUITE_P(Eras, KhoValidate, ::testing::ValuesIn(registry::era_ids().begin(), registry::era_ids().end()),
                         [](const ::testing::TestParamInfo<EraId>& p) {
                           std::string n(era_name(p.param));
                           for (auto& c : n)
                             if (c == '.' || c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace khospec::model
