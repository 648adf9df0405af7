// Parity of the KHO model with the hand-overs captured from booted kernels
// (shared/dumps). For each capture folder, the model runs the same machine
// size and command line -- with reserve_mem regions pinned where the real
// kernel placed them -- and must reproduce: the root FDT's structure (node
// and property order, compatible strings, property lengths, one page), the
// memblock sub-FDT byte for byte, the preserved-block decomposition of every
// reserve_mem region, the orders present in the memory map, the scratch
// sizes, and scratch reuse across kexecs.
//
// Addresses the real kernel picks from its image layout and allocation
// history (FDT pages, chunks, scratch placement) are not compared.
#include <gtest/gtest.h>

#include <set>

extern "C" {
#include <libfdt.h>
}

#include "fdt/decode.hpp"
#include "model/kho/clients.hpp"
#include "model/kho/kho_dump_test_util.hpp"
#include "model/kho/machine.hpp"

namespace khospec::model {
namespace {

namespace fs = std::filesystem;
using testutil::read_bytes;
using testutil::read_text;

const fs::path kDumps = KHOSPEC_DUMPS_DIR;

// "name @offset: prop(len) ..." per node, in blob order: the FDT's structure
// without its values.
std::vector<std::string> structure(const std::vector<std::uint8_t>& blob) {
  std::vector<std::uint64_t> buf(blob.size() / 8 + 1, 0);
  std::memcpy(buf.data(), blob.data(), blob.size());
  const void* f = buf.data();
  std::vector<std::string> out;
  if (fdt_check_full(f, blob.size())) return {"<invalid>"};
  int depth = -1;
  for (int n = fdt_next_node(f, -1, &depth); n >= 0 && depth >= 0; n = fdt_next_node(f, n, &depth)) {
    std::string line = std::string(static_cast<std::size_t>(depth) * 2, ' ') + fdt_get_name(f, n, nullptr) + ":";
    int p = 0;
    fdt_for_each_property_offset(p, f, n) {
      const char* name = nullptr;
      int len = 0;
      const char* v = static_cast<const char*>(fdt_getprop_by_offset(f, p, &name, &len));
      line += std::string(" ") + name + "(" + std::to_string(len) + ")";
      if (std::string(name) == "compatible") line += "=" + std::string(v, static_cast<std::size_t>(len) - 1);
    }
    out.push_back(line);
  }
  return out;
}

struct Capture {
  std::string cmdline;
  std::map<std::string, std::pair<phys_addr_t, std::uint64_t>> regions;  // reserve_mem name -> (start, size)
  std::vector<std::uint64_t> scratch_len;
};

Capture read_capture(const fs::path& scen) {
  Capture c;
  std::istringstream in(read_text(scen / "qemu-append.txt"));
  for (std::string w; in >> w;) {
    bool ours = w.rfind("kho=", 0) == 0 || w.rfind("kho_scratch=", 0) == 0 || w.rfind("reserve_mem=", 0) == 0;
    if (ours) c.cmdline += (c.cmdline.empty() ? "" : " ") + w;
  }
  auto sub = scen / "k1" / "out_sub_fdt_memblock.dtb";
  if (fs::exists(sub)) {
    auto b = read_bytes(sub);
    std::vector<std::uint64_t> buf(b.size() / 8 + 1, 0);
    std::memcpy(buf.data(), b.data(), b.size());
    int n = 0;
    fdt_for_each_subnode(n, buf.data(), 0) {
      int l1 = 0, l2 = 0;
      const auto* st = static_cast<const std::uint8_t*>(fdt_getprop(buf.data(), n, "start", &l1));
      const auto* sz = static_cast<const std::uint8_t*>(fdt_getprop(buf.data(), n, "size", &l2));
      c.regions[fdt_get_name(buf.data(), n, nullptr)] = {fdt::load_u64(st, fdt::Endian::little),
                                                          fdt::load_u64(sz, fdt::Endian::little)};
    }
  }
  std::istringstream lens(read_text(scen / "k1" / "out_scratch_len.txt"));
  for (std::string w; lens >> w;) c.scratch_len.push_back(std::stoull(w, nullptr, 16));
  return c;
}

std::vector<PreservedBlock> captured_blocks(const fs::path& k1, bool v1) {
  auto text = read_text(k1 / "decoded.txt");
  if (v1) return testutil::parse_decoded_v1(text)->blocks();
  std::vector<PreservedBlock> out;
  const auto decoded = testutil::parse_decoded_v4(text);  // keep it alive for the loop
  for (const auto& [b, key] : decoded->blocks) out.push_back(b);
  return out;
}

std::vector<PreservedBlock> within(const std::vector<PreservedBlock>& all, phys_addr_t s, std::uint64_t len) {
  std::vector<PreservedBlock> out;
  for (const auto& b : all)
    if (b.phys >= s && b.phys < s + len) out.push_back(b);
  std::sort(out.begin(), out.end());
  return out;
}

struct Case {
  const char* set;       // dumps folder
  const char* scenario;
  KhoEra era;
  bool test_kho;
  // Other early allocations (KernelConfig::boot_alloc_bytes) that this boot
  // implies; 0 = the default calibrated on reserve-mem-1 / kho-only. The
  // scale-mode sizes follow from the footprint, which the model takes as an
  // input: the formula is the kernel's, the footprint is the capture's.
  std::uint64_t boot_alloc = 0;
};

class KhoParity : public ::testing::TestWithParam<Case> {};

TEST_P(KhoParity, ReproducesTheCapture) {
  const Case& cs = GetParam();
  const fs::path scen = kDumps / cs.set / cs.scenario;
  ASSERT_TRUE(fs::exists(scen)) << scen;
  const bool v1 = cs.era != KhoEra::kho_v4;
  Capture cap = read_capture(scen);
  KernelConfig kc;
  kc.era = cs.era;
  kc.cmdline = cap.cmdline;
  kc.test_kho = cs.test_kho;
  if (cs.boot_alloc) kc.boot_alloc_bytes = cs.boot_alloc;
  for (const auto& [name, r] : cap.regions) kc.reserve_mem_at[name] = r.first;
  Machine m(machine_with_ram(2ull << 30));
  Kernel& k1 = m.boot_cold(kc);
  if (v1) {
    ASSERT_EQ(k1.debugfs_finalize_write(1), 0);
  }
  SCOPED_TRACE(std::string(cs.set) + "/" + cs.scenario + ": " + cap.cmdline);

  // Scratch sizes (out_scratch_len.txt), including the zero-size global area.
  ASSERT_EQ(k1.scratch().size(), cap.scratch_len.size());
  for (std::size_t i = 0; i < cap.scratch_len.size(); ++i)
    EXPECT_EQ(k1.scratch()[i].size, cap.scratch_len[i]) << "scratch[" << i << "]";

  // Root FDT: structure and size.
  auto root = k1.debugfs_out_fdt();
  ASSERT_FALSE(root.empty());
  EXPECT_LE(root.size(), PAGE_SIZE_4K);
  EXPECT_EQ(structure(root), structure(read_bytes(scen / "k1" / "out_fdt.dtb")));

  // memblock sub-FDT byte for byte (regions pinned to the captured addresses).
  if (!cap.regions.empty()) {
    auto* rm = dynamic_cast<ReserveMemClient*>(k1.client("memblock"));
    ASSERT_NE(rm, nullptr);
    auto want = read_bytes(scen / "k1" / "out_sub_fdt_memblock.dtb");
    EXPECT_EQ(k1.image().read(rm->fdt_page(), want.size()), want);
  }

  // Preserved-block decomposition of every reserve_mem region, and the
  // orders present in the map (random test_kho folios excluded).
  auto model_blocks = k1.tracker()->blocks();
  auto real_blocks = captured_blocks(scen / "k1", v1);
  for (const auto& [name, r] : cap.regions) {
    EXPECT_EQ(within(model_blocks, r.first, r.second), within(real_blocks, r.first, r.second)) << name;
  }
  if (!cs.test_kho) {
    std::set<unsigned> mo, ro;
    for (const auto& b : model_blocks) mo.insert(b.order);
    for (const auto& b : real_blocks) ro.insert(b.order);
    EXPECT_EQ(mo, ro);
    EXPECT_EQ(model_blocks.size(), real_blocks.size());
  }
}

// Scratch is reused unchanged along a chain, as in recursive-3stage.
TEST(KhoParityChain, ScratchReusedAcrossKexecs) {
  for (const char* set : {"kho-v1-linux-6.16", "kho-v4-linux-7.3"}) {
    const fs::path scen = kDumps / set / "recursive-3stage";
    auto k1 = read_text(scen / "k1" / "out_scratch_phys.txt");
    EXPECT_EQ(k1, read_text(scen / "k2" / "out_scratch_phys.txt")) << set;
    EXPECT_EQ(k1, read_text(scen / "k3" / "out_scratch_phys.txt")) << set;
    Capture cap = read_capture(scen);
    KernelConfig kc;
    kc.era = std::string(set).find("6.16") != std::string::npos ? KhoEra::v6_16 : KhoEra::kho_v4;
    kc.cmdline = cap.cmdline;
    Machine m(machine_with_ram(2ull << 30));
    Kernel& a = m.boot_cold(kc);
    for (int i = 0; i < 2; ++i) {
      Kernel& k = *m.current();
      if (kc.era == KhoEra::v6_16) {
        ASSERT_EQ(k.debugfs_finalize_write(1), 0);
      }
      ASSERT_EQ(k.kexec_file_load(), 0);
      ASSERT_NE(m.kexec(kc), nullptr);
    }
    Kernel& c = *m.current();
    EXPECT_EQ(a.scratch(), c.scratch());
    EXPECT_EQ(c.index(), 2);
    auto* rm = dynamic_cast<ReserveMemClient*>(c.client("memblock"));
    ASSERT_NE(rm, nullptr);
    for (const auto& r : rm->regions()) EXPECT_TRUE(r.revived) << r.name;
    for (const auto& f : m.all_findings()) EXPECT_NE(f.level, "error") << f.id << " " << f.detail;
  }
}

const Case kCases[] = {
    {"kho-v1-linux-6.16", "kho-only-2stage", KhoEra::v6_16, false},
    {"kho-v1-linux-6.16", "reserve-mem-1-2stage", KhoEra::v6_16, false},
    {"kho-v1-linux-6.16", "reserve-mem-4-2stage", KhoEra::v6_16, false, 0xee6000},
    {"kho-v1-linux-6.16", "scratch-explicit-2stage", KhoEra::v6_16, false},
    {"kho-v1-linux-6.16", "scratch-400pct-2stage", KhoEra::v6_16, false, 0xce6000},
    {"kho-v1-linux-6.16", "recursive-3stage", KhoEra::v6_16, false},
    {"kho-v1-linux-6.16", "test-kho-2stage", KhoEra::v6_16, true},
    {"kho-v4-linux-7.3", "kho-only-2stage", KhoEra::kho_v4, false},
    {"kho-v4-linux-7.3", "reserve-mem-1-2stage", KhoEra::kho_v4, false},
    {"kho-v4-linux-7.3", "reserve-mem-4-2stage", KhoEra::kho_v4, false, 0xce6000},
    {"kho-v4-linux-7.3", "scratch-explicit-2stage", KhoEra::kho_v4, false},
    {"kho-v4-linux-7.3", "scratch-400pct-2stage", KhoEra::kho_v4, false, 0xce6000},
    {"kho-v4-linux-7.3", "recursive-3stage", KhoEra::kho_v4, false},
    {"kho-v4-linux-7.3", "test-kho-2stage", KhoEra::kho_v4, true},
};

INSTANTIATE_TEST_SUITE_P(Captures, KhoParity, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           std::string n = std::string(p.param.set).substr(0, 6) + "_" + p.param.scenario;
                           for (auto& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace khospec::model
