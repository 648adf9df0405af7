// Stateful property test of the KHO lifecycle model, per era (RapidCheck).
//
// Commands: preserve folios and page ranges, unpreserve (6.19+), finalize,
// abort (6.16/6.18), and kexec into a next kernel that is rebuilt only from
// the bytes in the physical image. A ledger independent of the tracker
// records what the test preserved (with a content tag per block); at every
// kexec the next kernel must reserve every ledger block with its content
// intact. Results follow the era's transition table; every invariant is
// checked after every command (no error-level finding may appear).
//
// The seed is fixed and printed; RC_PARAMS overrides it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "model/kho/machine.hpp"
#include "core/rc_run.hpp"

namespace khospec::model {
namespace {

struct PModel {
  KhoEra era = KhoEra::v6_16;
  OutState state = OutState::idle;
  int kernels = 1;
  int folios = 0;  // ledger size, for Unpreserve's precondition
};

struct Sut {
  std::unique_ptr<Machine> machine;
  std::map<PreservedBlock, std::uint8_t> ledger;  // what we preserved -> content tag
  std::uint8_t next_tag = 1;
  Kernel& k() { return *machine->current(); }
};

using Cmd = rc::state::Command<PModel, Sut>;

KernelConfig kernel_config(KhoEra era) {
  KernelConfig c;
  c.era = era;
  c.cmdline = "kho=on reserve_mem=1M:4096:buf";
  c.release = "model";
  return c;
}

void assert_no_errors(Kernel& k, const std::string& after) {
  k.check_invariants();
  for (const auto& f : k.findings()) {
    if (f.level != "error") continue;
    RC_FAIL("after " + after + ": kernel " + std::to_string(k.index() + 1) + " " + f.id + ": " + f.detail);
  }
}

bool busy(const PModel& m) {
  return era_traits(m.era).busy_when_finalized && m.state == OutState::finalized;
}

struct PreserveFolio : Cmd {
  unsigned order = *rc::gen::inRange(0u, 11u);
  void apply(PModel& m) const override {
    if (!busy(m)) ++m.folios;
  }
  void run(const PModel& m, Sut& s) const override {
    phys_addr_t p = s.k().alloc_pages(order);
    RC_ASSERT(p != 0u);
    std::uint8_t tag = s.next_tag++;
    s.k().image().fill(p, 64, tag);
    int ret = s.k().kho_preserve_folio(p, order);
    RC_ASSERT(ret == (busy(m) ? K_EBUSY : 0));
    if (ret == 0) s.ledger[{p, order}] = tag;
    assert_no_errors(s.k(), "preserve_folio");
  }
  void show(std::ostream& os) const override { os << "PreserveFolio(order " << order << ")"; }
};

struct PreserveRange : Cmd {
  unsigned order = *rc::gen::inRange(0u, 11u);
  std::uint64_t nr = *rc::gen::inRange<std::uint64_t>(1, (std::uint64_t{1} << order) + 1);
  void apply(PModel& m) const override {
    if (!busy(m)) ++m.folios;
  }
  void run(const PModel& m, Sut& s) const override {
    phys_addr_t p = s.k().alloc_pages(order);
    RC_ASSERT(p != 0u);
    std::uint8_t tag = s.next_tag++;
    int ret = era_traits(m.era).preserve_pages ? s.k().kho_preserve_pages(p, nr)
                                               : s.k().kho_preserve_phys(p, nr * PAGE_SIZE_4K);
    RC_ASSERT(ret == (busy(m) ? K_EBUSY : 0));
    if (ret == 0) {
      for (const auto& b : kho_split_range(p / PAGE_SIZE_4K, nr)) {
        s.k().image().fill(b.phys, 64, tag);
        s.ledger[b] = tag;
      }
    }
    assert_no_errors(s.k(), "preserve_range");
  }
  void show(std::ostream& os) const override { os << "PreserveRange(order " << order << ", nr " << nr << ")"; }
};

struct Unpreserve : Cmd {
  std::size_t pick = *rc::gen::inRange<std::size_t>(0, 1000);
  void checkPreconditions(const PModel& m) const override {
    RC_PRE(era_traits(m.era).unpreserve_api);
    RC_PRE(m.folios > 0);
  }
  void apply(PModel&) const override {}
  void run(const PModel&, Sut& s) const override {
    if (s.ledger.empty()) return;  // a range preserve may have collapsed into an existing block
    auto it = std::next(s.ledger.begin(), static_cast<std::ptrdiff_t>(pick % s.ledger.size()));
    RC_ASSERT(s.k().kho_unpreserve_folio(it->first.phys, it->first.order) == 0);
    s.ledger.erase(it);
    assert_no_errors(s.k(), "unpreserve");
  }
  void show(std::ostream& os) const override { os << "Unpreserve(" << pick << ")"; }
};

struct Finalize : Cmd {
  void checkPreconditions(const PModel& m) const override {
    RC_PRE(era_traits(m.era).finalize != FinalizeModel::none);
  }
  void apply(PModel& m) const override { m.state = OutState::finalized; }
  void run(const PModel& m, Sut& s) const override {
    const auto& t = era_traits(m.era);
    int ret = t.finalize == FinalizeModel::refresh ? s.k().kho_finalize() : s.k().debugfs_finalize_write(1);
    int want = (t.finalize == FinalizeModel::notifier_abort && m.state == OutState::finalized) ? K_EEXIST : 0;
    RC_ASSERT(ret == want);
    RC_ASSERT(s.k().out_state() == OutState::finalized);
    assert_no_errors(s.k(), "finalize");
  }
  void show(std::ostream& os) const override { os << "Finalize"; }
};

struct Abort : Cmd {
  void checkPreconditions(const PModel& m) const override {
    RC_PRE(era_traits(m.era).finalize == FinalizeModel::notifier_abort);
  }
  void apply(PModel& m) const override {
    if (m.state == OutState::finalized) m.folios = 0;
    m.state = OutState::idle;
  }
  void run(const PModel& m, Sut& s) const override {
    int ret = s.k().debugfs_finalize_write(0);
    RC_ASSERT(ret == (m.state == OutState::finalized ? 0 : K_ENOENT));
    // kho_abort() wipes the whole tracker, our preservations included.
    if (m.state == OutState::finalized) {
      s.ledger.clear();
      RC_ASSERT(s.k().tracker()->blocks().empty());
    }
    RC_ASSERT(s.k().out_state() == OutState::idle);
    assert_no_errors(s.k(), "abort");
  }
  void show(std::ostream& os) const override { os << "Abort"; }
};

struct Kexec : Cmd {
  void checkPreconditions(const PModel& m) const override { RC_PRE(m.kernels < 3); }
  void apply(PModel& m) const override {
    ++m.kernels;
    m.state = OutState::idle;
    m.folios = 0;
  }
  void run(const PModel& m, Sut& s) const override {
    const auto& t = era_traits(m.era);
    // What a careful user does: finalize right before loading (6.16/6.18),
    // refresh the map (6.19); the stateless eras need nothing.
    if (t.finalize == FinalizeModel::notifier_abort && m.state != OutState::finalized)
      RC_ASSERT(s.k().debugfs_finalize_write(1) == 0);
    if (t.finalize == FinalizeModel::refresh) RC_ASSERT(s.k().kho_finalize() == 0);
    RC_ASSERT(s.k().kexec_file_load() == 0);
    Kernel* next = s.machine->kexec(kernel_config(m.era));
    RC_ASSERT(next != nullptr);
    RC_ASSERT(next->kho_boot());
    std::set<PreservedBlock> got(next->incoming_blocks().begin(), next->incoming_blocks().end());
    for (const auto& [b, tag] : s.ledger) {
      RC_ASSERT(got.count(b) == 1u);
      RC_ASSERT(next->memblock().memblock_is_region_reserved(b.phys, PAGE_SIZE_4K << b.order));
      RC_ASSERT(next->image().read(b.phys, 1)[0] == tag);
    }
    s.ledger.clear();
    assert_no_errors(*next, "kexec");
  }
  void show(std::ostream& os) const override { os << "Kexec"; }
};

class KhoProp : public ::testing::TestWithParam<KhoEra> {};

TEST_P(KhoProp, LifecycleAgainstLedger) {
  const KhoEra era = GetParam();
  // 10,000 runs per era in the default build; the sanitizer build runs the
  // same property with fewer (KHOSPEC_PROP_RUNS), set by CMake.
  testutil::rc_run_property(
      "KhoProp/" + std::string(era_name(era)),
      std::string("seed=2026112101 max_size=12 max_success=") + KHOSPEC_PROP_RUNS, [era] {
        MachineConfig mc = machine_with_ram(512ull << 20);
        PModel model;
        model.era = era;
        Sut sut;
        sut.machine = std::make_unique<Machine>(mc);
        sut.machine->boot_cold(kernel_config(era));
        RC_ASSERT(sut.machine->current()->kho_enabled());
        rc::state::check(model, sut,
                         rc::state::gen::execOneOfWithArgs<PreserveFolio, PreserveRange, Unpreserve, Finalize,
                                                           Abort, Kexec>());
      });
}

INSTANTIATE_TEST_SUITE_P(Eras, KhoProp, ::testing::ValuesIn(registry::era_ids().begin(), registry::era_ids().end()),
                         [](const ::testing::TestParamInfo<KhoEra>& p) {
                           std::string n(era_name(p.param));
                           for (auto& c : n)
                             if (c == '.' || c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace khospec::model
