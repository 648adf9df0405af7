// Stateful property test: the memblock model against a page-granular
// reference that only knows coverage sets (memory pages with their flags,
// reserved pages) and computes where the kernel's first-fit search must
// place an allocation. Invariants are checked after every command.
//
// The seed is fixed (reproducible ctest runs) and printed; RC_PARAMS
// overrides it, e.g. RC_PARAMS="seed=123 max_success=100000".
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <array>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "model/memblock/memblock.hpp"

namespace khospec::model {
namespace {

constexpr phys_addr_t kPage = 4096;
constexpr int kPages = 64;                    // the address space under test
constexpr phys_addr_t kBase = 0x100000;       // page 0 of the space (not phys page 0)
constexpr phys_addr_t kBasePfn = kBase / kPage;

phys_addr_t addr_of(int page) { return kBase + static_cast<phys_addr_t>(page) * kPage; }

// The reference: one entry per page.
struct Ref {
  std::array<bool, kPages> memory{};
  std::array<std::uint32_t, kPages> flags{};  // meaningful where memory[p]
  std::array<bool, kPages> reserved{};
  bool scratch_only = false;
  bool bottom_up = false;

  bool eligible(int p) const {
    if (!memory[p] || reserved[p]) return false;
    if (flags[p] & MEMBLOCK_NOMAP) return false;
    if (scratch_only && !(flags[p] & MEMBLOCK_KHO_SCRATCH)) return false;
    return true;
  }
  // The kernel walks memory regions (maximal equal-flag runs) minus reserved
  // gaps; a free segment never crosses a flags change.
  std::vector<std::pair<int, int>> segments() const {
    std::vector<std::pair<int, int>> out;
    int p = 0;
    while (p < kPages) {
      if (!eligible(p)) {
        ++p;
        continue;
      }
      int e = p + 1;
      while (e < kPages && eligible(e) && flags[e] == flags[p]) ++e;
      out.emplace_back(p, e);
      p = e;
    }
    return out;
  }
  // Expected memblock_phys_alloc(n pages, align pages) result, in pages from
  // the start of the space, or -1.
  int expected_alloc(int n, int align) const {
    const auto segs = segments();
    auto abs = [](int p) { return static_cast<std::int64_t>(kBasePfn) + p; };
    if (!bottom_up) {
      for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
        const std::int64_t end = abs(it->second);
        if (end - n < abs(it->first)) continue;
        const std::int64_t cand = (end - n) / align * align;
        if (cand >= abs(it->first)) return static_cast<int>(cand - static_cast<std::int64_t>(kBasePfn));
      }
    } else {
      for (const auto& [s, e] : segs) {
        const std::int64_t cand = (abs(s) + align - 1) / align * align;
        if (cand < abs(e) && abs(e) - cand >= n) return static_cast<int>(cand - static_cast<std::int64_t>(kBasePfn));
      }
    }
    return -1;
  }
};

using Sut = Memblock;
using Cmd = rc::state::Command<Ref, Sut>;

// Page-level coverage of a model type; pages must be covered entirely.
void verify(const Ref& ref, const Memblock& mb) {
  const auto inv = mb.check_invariants();
  for (const auto& v : inv) RC_FAIL(v.id + ": " + v.detail);
  std::array<int, kPages> mem_cover{}, rsv_cover{};
  std::array<std::uint32_t, kPages> mflags{};
  auto paint = [](const MemblockType& t, std::array<int, kPages>& cover,
                  std::array<std::uint32_t, kPages>* fl) {
    for (const auto& r : t.regions) {
      RC_ASSERT(r.base >= kBase);
      RC_ASSERT(r.base % kPage == 0);
      RC_ASSERT(r.size % kPage == 0);
      for (phys_addr_t a = r.base; a < r.end(); a += kPage) {
        const auto p = static_cast<std::size_t>((a - kBase) / kPage);
        RC_ASSERT(p < static_cast<std::size_t>(kPages));
        cover[p]++;
        if (fl) (*fl)[p] = r.flags;
      }
    }
  };
  paint(mb.memory(), mem_cover, &mflags);
  paint(mb.reserved(), rsv_cover, nullptr);
  for (int p = 0; p < kPages; ++p) {
    RC_ASSERT(mem_cover[p] == (ref.memory[p] ? 1 : 0));
    RC_ASSERT(rsv_cover[p] == (ref.reserved[p] ? 1 : 0));
    if (ref.memory[p]) RC_ASSERT(mflags[p] == ref.flags[p]);
  }
  RC_ASSERT(mb.kho_scratch_only() == ref.scratch_only);
  RC_ASSERT(mb.invariant_log().empty());
  RC_ASSERT(!mb.failed());
}

struct RangeArgs {
  int page = *rc::gen::inRange(0, kPages);
  int pages = *rc::gen::inRange(1, 17);
  int end() const { return std::min(kPages, page + pages); }
  void show(std::ostream& os, const char* what) const {
    os << what << "(page " << page << ", " << pages << " pages)";
  }
};

struct Add : Cmd {
  RangeArgs r;
  void apply(Ref& s) const override {
    for (int p = r.page; p < r.end(); ++p) {
      if (!s.memory[p]) s.flags[p] = 0;
      s.memory[p] = true;
    }
  }
  void run(const Ref& s0, Sut& mb) const override {
    RC_ASSERT(mb.memblock_add(addr_of(r.page), static_cast<phys_addr_t>(r.end() - r.page) * kPage) == 0);
    Ref s1 = s0;
    apply(s1);
    verify(s1, mb);
  }
  void show(std::ostream& os) const override { r.show(os, "memblock_add"); }
};

struct Remove : Cmd {
  RangeArgs r;
  void apply(Ref& s) const override {
    for (int p = r.page; p < r.end(); ++p) s.memory[p] = false;
  }
  void run(const Ref& s0, Sut& mb) const override {
    RC_ASSERT(mb.memblock_remove(addr_of(r.page), static_cast<phys_addr_t>(r.end() - r.page) * kPage) == 0);
    Ref s1 = s0;
    apply(s1);
    verify(s1, mb);
  }
  void show(std::ostream& os) const override { r.show(os, "memblock_remove"); }
};

struct Reserve : Cmd {
  RangeArgs r;
  void apply(Ref& s) const override {
    for (int p = r.page; p < r.end(); ++p) s.reserved[p] = true;
  }
  void run(const Ref& s0, Sut& mb) const override {
    RC_ASSERT(mb.memblock_reserve(addr_of(r.page), static_cast<phys_addr_t>(r.end() - r.page) * kPage) == 0);
    Ref s1 = s0;
    apply(s1);
    verify(s1, mb);
  }
  void show(std::ostream& os) const override { r.show(os, "memblock_reserve"); }
};

struct Free : Cmd {
  RangeArgs r;
  void apply(Ref& s) const override {
    for (int p = r.page; p < r.end(); ++p) s.reserved[p] = false;
  }
  void run(const Ref& s0, Sut& mb) const override {
    RC_ASSERT(mb.memblock_phys_free(addr_of(r.page), static_cast<phys_addr_t>(r.end() - r.page) * kPage) == 0);
    Ref s1 = s0;
    apply(s1);
    verify(s1, mb);
  }
  void show(std::ostream& os) const override { r.show(os, "memblock_phys_free"); }
};

struct SetClrFlag : Cmd {
  RangeArgs r;
  std::uint32_t flag = *rc::gen::element(std::uint32_t{MEMBLOCK_HOTPLUG}, std::uint32_t{MEMBLOCK_NOMAP},
                                         std::uint32_t{MEMBLOCK_KHO_SCRATCH});
  bool set = *rc::gen::arbitrary<bool>();
  void apply(Ref& s) const override {
    for (int p = r.page; p < r.end(); ++p)
      if (s.memory[p]) s.flags[p] = set ? (s.flags[p] | flag) : (s.flags[p] & ~flag);
  }
  void run(const Ref& s0, Sut& mb) const override {
    const phys_addr_t base = addr_of(r.page);
    const phys_addr_t size = static_cast<phys_addr_t>(r.end() - r.page) * kPage;
    int ret = 0;
    switch (flag) {
      case MEMBLOCK_HOTPLUG:
        ret = set ? mb.memblock_mark_hotplug(base, size) : mb.memblock_clear_hotplug(base, size);
        break;
      case MEMBLOCK_NOMAP:
        ret = set ? mb.memblock_mark_nomap(base, size) : mb.memblock_clear_nomap(base, size);
        break;
      default:
        ret = set ? mb.memblock_mark_kho_scratch(base, size) : mb.memblock_clear_kho_scratch(base, size);
    }
    RC_ASSERT(ret == 0);
    Ref s1 = s0;
    apply(s1);
    verify(s1, mb);
  }
  void show(std::ostream& os) const override {
    r.show(os, (std::string(set ? "mark " : "clear ") + flags_to_string(flag)).c_str());
  }
};

struct Alloc : Cmd {
  int pages = *rc::gen::inRange(1, 9);
  int align = *rc::gen::element(1, 2, 4, 8);
  void apply(Ref& s) const override {
    const int at = s.expected_alloc(pages, align);
    if (at >= 0)
      for (int p = at; p < at + pages; ++p) s.reserved[p] = true;
  }
  void run(const Ref& s0, Sut& mb) const override {
    const int at = s0.expected_alloc(pages, align);
    const phys_addr_t got =
        mb.memblock_phys_alloc(static_cast<phys_addr_t>(pages) * kPage, static_cast<phys_addr_t>(align) * kPage);
    RC_ASSERT(got == (at < 0 ? 0 : addr_of(at)));
    Ref s1 = s0;
    apply(s1);
    verify(s1, mb);
  }
  void show(std::ostream& os) const override {
    os << "memblock_phys_alloc(" << pages << " pages, align " << align << " pages)";
  }
};

struct ScratchOnly : Cmd {
  bool on = *rc::gen::arbitrary<bool>();
  void apply(Ref& s) const override { s.scratch_only = on; }
  void run(const Ref& s0, Sut& mb) const override {
    if (on)
      mb.memblock_set_kho_scratch_only();
    else
      mb.memblock_clear_kho_scratch_only();
    Ref s1 = s0;
    apply(s1);
    verify(s1, mb);
  }
  void show(std::ostream& os) const override {
    os << (on ? "memblock_set_kho_scratch_only()" : "memblock_clear_kho_scratch_only()");
  }
};

struct BottomUp : Cmd {
  bool on = *rc::gen::arbitrary<bool>();
  void apply(Ref& s) const override { s.bottom_up = on; }
  void run(const Ref& s0, Sut& mb) const override {
    mb.memblock_set_bottom_up(on);
    Ref s1 = s0;
    apply(s1);
    verify(s1, mb);
  }
  void show(std::ostream& os) const override { os << "memblock_set_bottom_up(" << on << ")"; }
};

void memblock_vs_reference() {
  MemblockConfig cfg;
  cfg.self_check = true;  // transition invariants after every command
  Memblock mb(cfg);
  mb.memblock_allow_resize();
  rc::state::check(Ref{}, mb,
                   rc::state::gen::execOneOfWithArgs<Add, Remove, Reserve, Free, SetClrFlag, Alloc,
                                                     ScratchOnly, BottomUp>());
}

constexpr const char* kCtestParams = "seed=30232650395444579 max_success=10000 max_size=30";

// Pins RC_PARAMS (unless the caller set it) before RapidCheck loads its
// configuration, so its own "Using configuration: seed=..." line shows the
// seed actually used. Keys missing from a caller's RC_PARAMS keep our values.
rc::detail::TestParams params_for_ctest() {
  const char* env = std::getenv("RC_PARAMS");
  const std::string given = env ? env : "";
  if (!env) setenv("RC_PARAMS", kCtestParams, 0);
  rc::detail::TestParams p = rc::detail::configuration().testParams;
  if (env && given.find("max_success=") == std::string::npos) p.maxSuccess = 10000;
  if (env && given.find("max_size=") == std::string::npos) p.maxSize = 30;  // short sequences
  return p;
}

TEST(MemblockProp, MemblockVsCoverageReference) {
  const auto params = params_for_ctest();
  std::cout << "RapidCheck seed=" << params.seed << " max_success=" << params.maxSuccess
            << " max_size=" << params.maxSize << " (reproduce: RC_PARAMS=\"seed=" << params.seed
            << " max_success=" << params.maxSuccess << " max_size=" << params.maxSize << "\")"
            << std::endl;
  rc::detail::TestMetadata md;
  md.id = "MemblockProp/MemblockVsCoverageReference";
  md.description = "memblock model vs page-granular reference";
  const auto result = rc::detail::checkTestable(&memblock_vs_reference, md, params);
  std::ostringstream msg;
  rc::detail::printResultMessage(result, msg);
  std::cout << msg.str() << std::endl;
  EXPECT_TRUE(result.template is<rc::detail::SuccessResult>()) << msg.str();
}

}  // namespace
}  // namespace khospec::model
