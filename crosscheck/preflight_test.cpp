// Preflight against the model and the real captures: for every era pair the
// prediction from A's bytes equals what the client matrix's model run says B
// does, client by client; on the real 6.16 and 7.3 captures, for every era and
// release as B, it equals the matrix for the capture's era; B's command line,
// configuration and image strings each change exactly the items they should.
#include "crosscheck/preflight.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "core/file.hpp"
#include "crosscheck/compat_matrix.hpp"
#include "model/kho/handover.hpp"
#include "model/kho/machine.hpp"
#include "registry/era.hpp"

namespace khospec::conformance {
namespace {

namespace fs = std::filesystem;
using registry::EraId;

// A at machine_kexec: its memory as an ELF core, where its root FDT is, its scratch.
struct Captured {
  MemoryImage image;
  std::uint64_t fdt_phys = 0;
  std::vector<ScratchArea> scratch;
  MatrixWriter writer;
};

Captured capture_matrix_writer(EraId w) {
  model::Machine m(model::machine_with_ram(2ull << 30));
  Captured c;
  c.writer = boot_matrix_writer(m, w);
  EXPECT_EQ(c.writer.err, 0) << registry::era_name(w);
  auto boot = c.writer.a->kernel_kexec();  // LUO's reboot hook writes its sessions here
  EXPECT_TRUE(boot && boot->handoff_record);
  const auto d = model::decode_setup_data(m.image().read(boot->handoff_record, static_cast<std::size_t>(boot->handoff_len)));
  EXPECT_TRUE(d);
  c.fdt_phys = d->fdt_addr;
  for (const auto& s : model::decode_scratch_array(m.image().read(d->scratch_addr, static_cast<std::size_t>(d->scratch_size))))
    c.scratch.push_back({s.addr, s.size});
  Report r;
  c.image = MemoryImage::from_bytes(m.image().save_elf(), std::nullopt, "model A", r);
  return c;
}

Validation follow(const MemoryImage& image, std::uint64_t fdt_phys) {
  ValidateOptions vo;
  vo.fdt_phys = fdt_phys;
  auto head = image.read_vec(fdt_phys, 4096);
  EXPECT_TRUE(head);
  Report r;
  return validate(*head, &image, vo, r);
}

Preflight run(const Validation& a, const MemoryImage& image, NextKernel b, const std::vector<ScratchArea>& scratch) {
  PreflightOptions po;
  po.scratch = scratch;
  std::string err;
  auto p = preflight(a, image, std::move(b), po, err);
  EXPECT_TRUE(p) << err;
  return p ? *p : Preflight{};
}

NextKernel era_b(EraId r, std::optional<std::string> cmdline = kMatrixCmdline) {
  NextKernel b;
  b.named = std::string(registry::era_name(r));
  b.source = "era";
  b.cmdline = std::move(cmdline);
  return b;
}

// The matrix's words for what a client gets, in preflight's: a refused or
// panicking reader loses the data (refuse), a missing one leaves it unread (dropped).
std::string as_preflight(const std::string& matrix_outcome) {
  if (matrix_outcome == "none" || matrix_outcome == "panic") return "refuse";
  if (matrix_outcome == "ignored") return "dropped";
  return matrix_outcome;
}

// The item of a client family, or "" when preflight listed none.
std::string outcome_of(const Preflight& p, const std::string& client) {
  static const std::map<std::string, std::string> kind = {
      {"memblock", "reserve_mem"}, {"kho_test", "test_kho"}, {"kexec-metadata", "kexec-metadata"},
      {"luo", "luo"}, {"memfd", "memfd"}};
  for (const auto& i : p.items)
    if (i.kind == kind.at(client)) return i.outcome;
  return "";
}

TEST(Preflight, AgreesWithTheClientMatrixForEveryEraPair) {
  for (EraId w : registry::era_ids()) {
    const Captured c = capture_matrix_writer(w);
    const Validation a = follow(c.image, c.fdt_phys);
    ASSERT_TRUE(a.handover && a.map) << registry::era_name(w);
    for (EraId r : registry::era_ids()) {
      const Preflight p = run(a, c.image, era_b(r), c.scratch);
      const std::string pair = std::string(registry::era_name(w)) + " -> " + std::string(registry::era_name(r));
      for (const auto& cell : run_client_cells(w, r)) {
        if (cell.model_outcome == "n/a") continue;  // A handed nothing over for it
        EXPECT_EQ(outcome_of(p, cell.client), as_preflight(cell.model_outcome))
            << pair << " " << cell.client << ": matrix says " << cell.model_why;
      }
      // The root: revive exactly where the era matrix says so.
      const std::string root = run_matrix_cell(w, r).model_outcome;
      ASSERT_GE(p.items.size(), 2u);
      EXPECT_EQ(p.items[1].outcome, root) << pair << " map";
    }
  }
}

TEST(Preflight, SessionsFilesAndMemfdsAreEachAnItem) {
  const Captured c = capture_matrix_writer(EraId::kho_v4);
  const Validation a = follow(c.image, c.fdt_phys);
  const Preflight p = run(a, c.image, era_b(EraId::kho_v4), c.scratch);
  std::map<std::string, std::string> got;
  for (const auto& i : p.items) got[i.kind + " " + i.name] = i.outcome;
  EXPECT_EQ(got["luo_session matrix"], "revive");
  EXPECT_EQ(got["luo_file token 0x1"], "revive");
  EXPECT_EQ(got["memfd token 0x1"], "revive");
  EXPECT_EQ(got["reserve_mem trace"], "revive");
  EXPECT_EQ(got["test_kho kho_test"], "revive");
  EXPECT_TRUE(p.all_revive());
}

// B's command line: without the reserve_mem name that region alone is dropped;
// without kho=on B still revives (7.3 kho_populate() and kho_memory_init_early()
// ask is_kho_boot() only) and says it will not hand over further.
TEST(Preflight, CommandLineDecidesReserveMemAndKho) {
  const Captured c = capture_matrix_writer(EraId::kho_v4);
  const Validation a = follow(c.image, c.fdt_phys);
  const Preflight no_name = run(a, c.image, era_b(EraId::kho_v4, "kho=on liveupdate=on"), c.scratch);
  for (const auto& i : no_name.items) {
    if (i.kind == "reserve_mem") {
      EXPECT_EQ(i.outcome, "dropped");
      EXPECT_EQ(i.decided_by, "B's command line");
      EXPECT_NE(i.why.find("reserve_mem=SIZE:ALIGN:trace"), std::string::npos) << i.why;
    } else {
      EXPECT_EQ(i.outcome, "revive") << i.kind << " " << i.name;
    }
  }
  const Preflight no_kho = run(a, c.image, era_b(EraId::kho_v4, "reserve_mem=4M:4096:trace"), c.scratch);
  std::map<std::string, std::string> got;
  for (const auto& i : no_kho.items) got[i.kind] = i.outcome;
  EXPECT_EQ(got["root"], "revive");
  EXPECT_EQ(got["reserve_mem"], "revive");
  // LUO disables itself without KHO (luo_early_startup(), 7.3: "Disabling liveupdate
  // because KHO is disabled"); real 7.3 then has no /dev/liveupdate (vmtest preflight-no-kho).
  EXPECT_EQ(got["luo"], "refuse");
  EXPECT_EQ(got["luo_session"], "refuse");
  for (const auto& i : no_kho.items) {
    if (i.kind == "luo") {
      EXPECT_EQ(i.decided_by, "B's command line") << i.why;
    }
  }
  bool said = false;
  for (const auto& n : no_kho.notes) said |= n.find("no kho=on") != std::string::npos;
  EXPECT_TRUE(said);
  // Not given: assumed, and said so.
  const Preflight assumed = run(a, c.image, era_b(EraId::kho_v4, std::nullopt), c.scratch);
  EXPECT_TRUE(assumed.all_revive());
  ASSERT_FALSE(assumed.notes.empty());
  EXPECT_NE(assumed.notes[0].find("reserve_mem="), std::string::npos);
}

// B's build. A memfd without a handler in B (CONFIG_LIVEUPDATE_MEMFD=n, or its
// compatible missing from B's image: a bumped handler) fails
// luo_session_deserialize() as a whole in 7.3 (luo_file_deserialize_one()
// -ENOENT), and luo_open() then gives EIO: all of LUO is lost, the rest revives.
// No CONFIG_LIVEUPDATE drops LUO; no CONFIG_KEXEC_HANDOVER refuses everything.
TEST(Preflight, ConfigurationAndImageStringsDecideClients) {
  const Captured c = capture_matrix_writer(EraId::kho_v4);
  const Validation a = follow(c.image, c.fdt_phys);
  auto with = [&](std::map<std::string, std::string> config, std::set<std::string> missing) {
    NextKernel b = era_b(EraId::kho_v4);
    b.source = "kernel image";
    b.release = "7.3.4";
    config.emplace("CONFIG_KEXEC_HANDOVER", "y");
    config.emplace("CONFIG_LIVEUPDATE", "y");
    config.emplace("CONFIG_LIVEUPDATE_MEMFD", "y");
    config.emplace("CONFIG_TEST_KEXEC_HANDOVER", "y");
    b.config = config;
    b.missing_compatibles = missing;
    std::map<std::string, PreflightItem> got;
    for (const auto& i : run(a, c.image, b, c.scratch).items) got[i.kind] = i;
    return got;
  };
  EXPECT_EQ(with({}, {})["memfd"].outcome, "revive");
  using Case = std::pair<std::map<std::string, PreflightItem>, std::string>;
  std::vector<Case> cases = {{with({{"CONFIG_LIVEUPDATE_MEMFD", "n"}}, {}), "B's configuration"},
                             {with({}, {"memfd-v2"}), "B's image"}};
  for (auto& [got, by] : cases) {
    EXPECT_EQ(got["memfd"].outcome, "refuse");
    EXPECT_EQ(got["memfd"].decided_by, by);
    EXPECT_NE(got["memfd"].why.find("\"memfd-v2\""), std::string::npos) << got["memfd"].why;
    EXPECT_EQ(got["luo_session"].outcome, "refuse");
    EXPECT_NE(got["luo_session"].why.find("No registered handler"), std::string::npos) << got["luo_session"].why;
    EXPECT_EQ(got["luo"].outcome, "refuse");
    EXPECT_EQ(got["luo"].decided_by, "luo_open()");
    EXPECT_EQ(got["reserve_mem"].outcome, "revive");
    EXPECT_EQ(got["kexec-metadata"].outcome, "revive");
  }
  auto no_luo = with({{"CONFIG_LIVEUPDATE", "n"}}, {});
  EXPECT_EQ(no_luo["luo"].outcome, "dropped");
  EXPECT_EQ(no_luo["luo"].decided_by, "B's configuration");
  EXPECT_EQ(no_luo["reserve_mem"].outcome, "revive");
  auto no_test = with({{"CONFIG_TEST_KEXEC_HANDOVER", "n"}}, {});
  EXPECT_EQ(no_test["test_kho"].outcome, "dropped");
  auto no_kho = with({{"CONFIG_KEXEC_HANDOVER", "n"}}, {});
  EXPECT_EQ(no_kho["root"].outcome, "refuse");
  EXPECT_EQ(no_kho["root"].decided_by, "B's configuration");
  EXPECT_EQ(no_kho["client"].outcome, "refuse");
}

// The real captures as A: every era and release as B gets what the client
// matrix says for the capture's era, for the clients the capture holds.
struct RealCase {
  const char* dir;
  EraId era;
  const char* fdt_phys;
};

TEST(Preflight, RealCapturesAgreeWithTheMatrixForEveryB) {
  const fs::path dumps = fs::path(KHOSPEC_SOURCE_DIR) / "../shared/dumps";
  const RealCase cases[] = {
      {"kho-v4-linux-7.3/reserve-mem-1-2stage/k1", EraId::kho_v4, "0x1f5000"},
      {"kho-v4-linux-7.3/test-kho-2stage/k1", EraId::kho_v4, "0x1f5000"},
      {"kho-v1-linux-6.16/reserve-mem-1-2stage/k1", EraId::v6_16, "0x3de000"},
  };
  std::size_t checked = 0;
  for (const auto& rc : cases) {
    const fs::path dir = dumps / rc.dir;
    ASSERT_TRUE(fs::exists(dir / "memory.elf")) << dir;
    MemoryImage image;
    Report r;
    std::string err;
    ASSERT_TRUE(MemoryImage::from_file((dir / "memory.elf").string(), std::nullopt, image, r, err)) << err;
    std::vector<ScratchArea> scratch;
    ASSERT_TRUE(parse_scratch(dir.string(), scratch, err)) << err;
    ValidateOptions vo;
    vo.scratch = scratch;
    std::vector<std::uint8_t> root;
    vo.fdt_phys = std::stoull(rc.fdt_phys, nullptr, 16);  // (6.16: k2's setup_data names it)
    if (rc.era != EraId::v6_16) {
      // 7.x debugfs out/fdt keeps its kho_init() size: the root is read from memory.
      root = *image.read_vec(*vo.fdt_phys, 4096);
    } else {
      const std::string text = read_text_file(dir / "out_fdt.dtb");
      root.assign(text.begin(), text.end());
    }
    const Validation a = validate(root, &image, vo, r);
    ASSERT_TRUE(a.handover && a.map && a.fdt_phys) << rc.dir;
    for (const auto& rel : registry::releases()) {
      NextKernel b;
      b.named = std::string(rel.version);
      b.source = "release";
      b.release = std::string(rel.version);
      b.cmdline = kMatrixCmdline;
      const Preflight p = run(a, image, b, scratch);
      const std::string pair = std::string(rc.dir) + " -> " + b.release;
      EXPECT_EQ(p.items[1].outcome, run_matrix_cell(rc.era, rel.era).model_outcome) << pair << " map";
      for (const auto& cell : run_client_cells(rc.era, rel.era)) {
        const std::string got = outcome_of(p, cell.client);
        if (got.empty()) continue;  // the capture holds no such client
        if (got == "unknown") {
          // The capture keeps metadata pages only: test_kho's folios are not in it.
          EXPECT_EQ(cell.client, "kho_test") << pair;
          continue;
        }
        EXPECT_EQ(got, as_preflight(cell.model_outcome)) << pair << " " << cell.client << ": " << cell.model_why;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 20u);
}

}  // namespace
}  // namespace khospec::conformance
