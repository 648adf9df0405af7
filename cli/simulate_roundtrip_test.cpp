// What `simulate --out` writes round-trips through `validate`: every built-in
// scenario (`simulate --list`), in every era it supports, and every stage kN it
// wrote (kN/out_fdt.dtb against kN/memory.elf, the memory at that kernel's
// kexec, with --scratch kN). The model's findings and the validator's agree:
// clean scenarios are clean in both; a hazard gives exactly the findings
// docs/model-kho.md lists for it, and the validator exactly those below.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "cli/cli.hpp"
#include "cli/test_util.hpp"

namespace khospec::cli {
namespace {

namespace fs = std::filesystem;

using testing::Result;
using testing::run_cli;

// The IDs of "LEVEL (ID): ..." lines: simulate's timeline and validate's text.
std::set<std::string> finding_ids(const std::string& text) {
  static const std::regex re(R"((error|warning|info) \(([A-Za-z0-9_]+)\): )");
  std::set<std::string> ids;
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) ids.insert((*it)[2]);
  return ids;
}

using Ids = std::set<std::string>;

// Every built-in runs on a 2 GiB QEMU-like machine, where all RSRV_KERN memory
// lies below 4 GiB and the global scratch area is 0 bytes, as on the machines
// of the real captures (the validator: kho_scratch_zero_size, info level).
const std::string kMachineHazard = "HAZARD_SCRATCH_GLOBAL_UNDERFLOW";

// docs/model-kho.md "Named hazards": the model's findings, by "scenario/era"
// or "scenario" (besides kMachineHazard; any other scenario has none).
const std::map<std::string, Ids>& model_findings() {
  static const std::map<std::string, Ids> m = {
      {"abort-dangling-map", {"HAZARD_ABORT_DANGLING_MAP"}},
      {"stale-map", {"INV_MAP_FRESH_AT_KEXEC", "INV_KHO_HANDOVER_COMPLETE"}},
      {"unfinalized-load", {"INV_KHO_HANDOVER_COMPLETE"}},
      {"reserve-mem-in-scratch", {"HAZARD_RESERVE_MEM_IN_SCRATCH", "INV_SCRATCH_PRESERVED_DISJOINT"}},
      {"abort-loses-preservations/v6.16", {"TEST_KHO_RESTORE_FAILED", "HAZARD_RESTORE_UNPRESERVED"}},
      {"abort-loses-preservations/v6.18", {"TEST_KHO_RESTORE_FAILED"}},
      {"order-above-max", {"INV_PRESERVED_ORDER_RESTORABLE"}},
      {"deserialize-reserve-fails", {"INV_KHO_PRESERVED_RESERVED", "INV_BUDDY_DISJOINT_PRESERVED"}},
      {"luo-flb-missing", {"HAZARD_LUO_PANIC"}},
  };
  return m;
}

Ids model_want(const std::string& name, const std::string& era) {
  Ids want = {kMachineHazard};
  for (const std::string& key : {name + "/" + era, name})
    if (model_findings().count(key)) {
      want.insert(model_findings().at(key).begin(), model_findings().at(key).end());
      break;
    }
  return want;
}

// What the validator finds in a stage, by "scenario/era/kN" (every other stage
// with an out_fdt.dtb is clean).
const std::map<std::string, Ids>& validate_findings() {
  // The model's INV_SCRATCH_PRESERVED_DISJOINT: the fresh reserve_mem block lies in scratch.
  const Ids overlap = {"kho_scratch_overlap"};
  // The model's TEST_KHO_RESTORE_FAILED: after the abort the re-finalized FDT
  // names test_kho blobs nothing preserves any more.
  const Ids lost = {"kho_not_preserved"};
  // The last kernel of a 6.19 run never called kho_finalize(), which writes the
  // map: its root still says preserved-memory-map 0 (a warning: exit 0).
  const Ids unfinalized = {"kho_map_empty"};
  static const std::map<std::string, Ids> m = {
      {"reserve-mem-in-scratch/v6.16/k2", overlap}, {"reserve-mem-in-scratch/v6.18/k2", overlap},
      {"reserve-mem-in-scratch/v6.19/k2", overlap}, {"reserve-mem-in-scratch/kho-v2/k2", overlap},
      {"reserve-mem-in-scratch/kho-v3/k2", overlap}, {"reserve-mem-in-scratch/kho-v4/k2", overlap},
      {"abort-loses-preservations/v6.16/k1", lost},  {"abort-loses-preservations/v6.18/k1", lost},
      {"chain/v6.19/k3", unfinalized},               {"stale-map/v6.19/k2", unfinalized},
      {"scratch-underflow/v6.19/k1", unfinalized},   {"luo-memfd/v6.19/k2", unfinalized},
      {"luo-flb-missing/v6.19/k2", unfinalized},
  };
  return m;
}

// Stages without out_fdt.dtb: 6.16/6.18 show debugfs out/fdt only while
// finalized, and these kernels never were (so there is nothing to validate).
const std::set<std::string>& stages_without_fdt() {
  static const std::set<std::string> s = {
      "chain/v6.16/k3", "chain/v6.18/k3", "unfinalized-load/v6.16/k1", "unfinalized-load/v6.16/k2",
      "abort-loses-preservations/v6.16/k2", "abort-loses-preservations/v6.18/k2", "order-above-max/v6.16/k1",
      "scratch-underflow/v6.16/k1", "scratch-underflow/v6.18/k1", "deserialize-reserve-fails/v6.18/k2",
  };
  return s;
}

TEST(SimulateRoundTrip, EveryScenarioEraAndStageValidates) {
  const fs::path base = fs::temp_directory_path() / ("khospec-sim-roundtrip-" + std::to_string(::getpid()));
  fs::remove_all(base);
  auto list = run_cli({"simulate", "--list"});
  ASSERT_EQ(list.rc, 0) << list.err;
  std::istringstream lines(list.out);
  std::string line;
  std::size_t runs = 0, stages = 0;
  std::set<std::string> seen_stage_keys;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    ASSERT_NE(colon, std::string::npos) << line;
    const std::string name = line.substr(0, colon);
    std::istringstream eras(line.substr(colon + 1));
    std::string era;
    while (eras >> era) {
      SCOPED_TRACE(name + " --era " + era);
      ++runs;
      const fs::path out = base / name;
      auto sim = run_cli({"simulate", name, "--era", era, "--out", out.string()});
      EXPECT_EQ(sim.rc, 0) << sim.out << sim.err;
      EXPECT_EQ(finding_ids(sim.out), model_want(name, era)) << sim.out;
      std::vector<fs::path> kdirs;
      for (const auto& e : fs::directory_iterator(out / era)) kdirs.push_back(e.path());
      std::sort(kdirs.begin(), kdirs.end());
      ASSERT_FALSE(kdirs.empty());
      for (const auto& kd : kdirs) {
        const std::string key = name + "/" + era + "/" + kd.filename().string();
        SCOPED_TRACE(key);
        ASSERT_TRUE(fs::exists(kd / "memory.elf"));
        ASSERT_TRUE(fs::exists(kd / "out_scratch_phys.txt") || fs::exists(kd / "out_bootmem_phys.txt"));
        seen_stage_keys.insert(key);
        EXPECT_EQ(fs::exists(kd / "out_fdt.dtb"), !stages_without_fdt().count(key));
        if (!fs::exists(kd / "out_fdt.dtb")) continue;
        ++stages;
        auto v = run_cli({"validate", "--memory", (kd / "memory.elf").string(), "--scratch", kd.string(),
                          (kd / "out_fdt.dtb").string()});
        const auto want = validate_findings().count(key) ? validate_findings().at(key) : Ids{};
        EXPECT_EQ(finding_ids(v.out + v.err), want) << v.out << v.err;
        // kho_map_empty is a warning: exit 0; the others are errors.
        EXPECT_EQ(v.rc, want.empty() || want == Ids{"kho_map_empty"} ? 0 : 100) << v.out << v.err;
      }
    }
  }
  // Every listed validator finding belongs to a stage that was validated.
  for (const auto& [key, ids] : validate_findings()) EXPECT_TRUE(seen_stage_keys.count(key)) << key;
  for (const auto& key : stages_without_fdt()) EXPECT_TRUE(seen_stage_keys.count(key)) << key;
  std::cout << "simulate round trip: " << runs << " scenario runs, " << stages << " stages validated\n";
  EXPECT_GT(runs, 20u);
  fs::remove_all(base);
}

// One verdict per condition: reserve_mem=64M:64M is one order-14 block.
// kho-v4 (7.3): kho_preserve_pages() splits the range by alignment and the next
// kernel's kho_preserved_memory_reserve() reserves the block and
// kho_restore_pages() restores it (vmtest reserve-mem-64m revives it): clean
// in both. v6.16: kho_preserve_phys() hands over the same order, which
// kho_restore_folio() refuses: a warning in both.
TEST(SimulateRoundTrip, OrderAboveMaxOneVerdict) {
  const fs::path base = fs::temp_directory_path() / ("khospec-sim-order-" + std::to_string(::getpid()));
  fs::create_directories(base);
  struct Case {
    std::string era, steps;
    Ids model, validator;
  };
  const std::vector<Case> cases = {
      {"kho-v4", "  - boot\n  - kexec_load\n  - kexec\n", {kMachineHazard}, {}},
      {"v6.16", "  - boot\n  - finalize\n  - kexec_load\n  - kexec\n",
       {kMachineHazard, "INV_PRESERVED_ORDER_RESTORABLE"}, {"kho_map_order_above_max"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.era);
    const fs::path yaml = base / (c.era + ".yaml"), out = base / c.era;
    std::ofstream(yaml) << "name: big\nmachine: {ram: 2G}\nkernel: {era: " << c.era
                        << ", cmdline: \"kho=on reserve_mem=64M:64M:big\"}\nsteps:\n" << c.steps;
    auto sim = run_cli({"simulate", "-v", yaml.string(), "--out", out.string()});
    ASSERT_EQ(sim.rc, 0) << sim.out << sim.err;
    EXPECT_NE(sim.out.find("order 14"), std::string::npos) << sim.out;
    EXPECT_EQ(finding_ids(sim.out), c.model) << sim.out;
    auto v = run_cli({"validate", "--memory", (out / "k1/memory.elf").string(), "--scratch", (out / "k1").string(),
                      (out / "k1/out_fdt.dtb").string()});
    EXPECT_EQ(finding_ids(v.out + v.err), c.validator) << v.out << v.err;
  }
  fs::remove_all(base);
}

}  // namespace
}  // namespace khospec::cli
