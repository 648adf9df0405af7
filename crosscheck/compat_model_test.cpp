// The compatibility checker over the model's ABI dumps: the kernel's real
// compatible history, every era's dump against its schema, the validator's
// reader table against the model's era traits, and the era matrix
// (schema-derived == model run).
#include "conformance/compat/compat.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "conformance/compat/abi.hpp"
#include "conformance/validate/validate.hpp"
#include "core/file.hpp"
#include "core/json.hpp"
#include "core/rules.hpp"
#include "crosscheck/compat_matrix.hpp"
#include "model/kho/abi_dump.hpp"

namespace fs = std::filesystem;
using namespace khospec;
using namespace khospec::conformance;
using registry::EraId;

namespace {

const fs::path kSrc = KHOSPEC_SOURCE_DIR;

std::set<std::string> rules_at(const CompatResult& r, Level level) {
  std::set<std::string> out;
  for (const auto& d : r.report.diagnostics())
    if (d.level == level) out.insert(d.rule);
  return out;
}

CompatResult check_eras(EraId a, EraId b, Direction d = Direction::both) {
  CompatOptions o;
  o.direction = d;
  return compat_check(model::kho_abi_dump(a), model::kho_abi_dump(b), o);
}

CompatResult check_files(const std::string& a, const std::string& b, Direction d = Direction::both) {
  CompatOptions o;
  o.direction = d;
  Report load;
  auto r = compat_check_paths((kSrc / a).string(), (kSrc / b).string(), o, load);
  EXPECT_TRUE(r.has_value()) << (load.empty() ? std::string() : load.diagnostics().front().message);
  return r ? *r : CompatResult{};
}

}  // namespace

// 6.16 -> 6.18: "kho: increase metadata bitmap size to PAGE_SIZE" kept kho-v1
// (docs/kernel-abi.md §3; a reviewer asked "We don't bump this?").
TEST(CompatHistory, V616ToV618IsAWireBreakWithoutVersionBump) {
  auto r = check_eras(EraId::v6_16, EraId::v6_18);
  auto e = rules_at(r, Level::error);
  EXPECT_TRUE(e.count("compat_break_without_version_bump"));
  EXPECT_TRUE(e.count("compat_compatible_reused"));
  EXPECT_TRUE(e.count("compat_layout_size_changed"));
  EXPECT_TRUE(e.count("compat_layout_field_resized"));
  EXPECT_FALSE(rules_at(r, Level::warning).count("compat_version_bumped"));
  bool bitmap = false;
  for (const auto& d : r.report.diagnostics())
    bitmap |= d.rule == "compat_layout_size_changed" && d.message.find("512 -> kho_mem_phys_bits_page 4096") != std::string::npos;
  EXPECT_TRUE(bitmap);
}

// 6.18 -> 6.19: same bitmaps; the root FDT moved to boot time (no wire change).
TEST(CompatHistory, V618ToV619IsWireCompatible) {
  auto r = check_eras(EraId::v6_18, EraId::v6_19);
  EXPECT_EQ(r.wire_count(), 0);
  EXPECT_EQ(r.report.exit_code(), exit_clean);
}

// kho-v1 -> kho-v2: fdt -> preserved-data, bitmaps -> radix, with a bump.
TEST(CompatHistory, KhoV1ToV2IsABreakWithABump) {
  for (auto r : {check_eras(EraId::v6_19, EraId::kho_v2), check_files("schemas/kho/kho-v1.yaml", "schemas/kho/kho-v2.yaml")}) {
    auto e = rules_at(r, Level::error);
    EXPECT_TRUE(e.count("compat_property_removed")) << "fdt";
    EXPECT_TRUE(e.count("compat_required_added")) << "preserved-data";
    EXPECT_TRUE(e.count("compat_pointer_target_changed")) << "khoser_mem_chunk -> kho_radix_node";
    EXPECT_FALSE(e.count("compat_break_without_version_bump"));
    EXPECT_FALSE(e.count("compat_compatible_reused"));
    EXPECT_TRUE(rules_at(r, Level::warning).count("compat_version_bumped"));
    EXPECT_EQ(r.report.exit_code(), exit_findings);
  }
}

// kho-v2 -> kho-v3: blob-size becomes part of every child.
TEST(CompatHistory, KhoV2ToV3AddsBlobSize) {
  auto r = check_eras(EraId::kho_v2, EraId::kho_v3);
  bool blob_size = false;
  for (const auto& d : r.report.diagnostics())
    blob_size |= d.rule == "compat_required_added" && d.property == "blob-size";
  EXPECT_TRUE(blob_size);
  EXPECT_TRUE(rules_at(r, Level::warning).count("compat_version_bumped"));
  // The schemas: kho-v2 already allowed blob-size (mm-tree builds, docs/kernel-abi.md §2); kho-v3 requires it.
  auto s = check_files("schemas/kho/kho-v2.yaml", "schemas/kho/kho-v3.yaml");
  bool req = false;
  for (const auto& d : s.report.diagnostics()) req |= d.rule == "compat_required_added" && d.property == "blob-size";
  EXPECT_TRUE(req);
}

// kho-v3 -> kho-v4: the root is unchanged; the bump versions kho_block.
TEST(CompatHistory, KhoV3ToV4BumpsForTheBlockLayout) {
  auto r = check_eras(EraId::kho_v3, EraId::kho_v4);
  EXPECT_EQ(r.wire_count(), 0);
  EXPECT_TRUE(rules_at(r, Level::warning).count("compat_version_bumped"));
  EXPECT_TRUE(rules_at(r, Level::info).count("compat_layout_added"));
}

// Every era's ABI dump is something its schema accepts: no forward wire
// change from the model's dump (old: what the kernel writes) to the schema
// (new: what the validator reads).
TEST(CompatModelDumps, EveryEraDumpIsAcceptedByItsSchema) {
  for (EraId e : registry::era_ids()) {
    const std::string compat(registry::era(e).compatible);
    Report load;
    auto schema = load_abi_input((kSrc / "schemas").string(), load);
    ASSERT_TRUE(schema) << (load.empty() ? "" : load.diagnostics().front().message);
    khospec::abi::AbiSet only = *schema;
    only.formats.clear();
    only.formats.push_back(*schema->format(compat));
    CompatOptions o;
    o.direction = Direction::forward;
    auto r = compat_check(model::kho_abi_dump(e), only, o);
    for (const auto& d : r.report.diagnostics())
      EXPECT_NE(d.level, Level::error) << registry::era_name(e) << ": " << d.rule << " " << d.node << ":" << d.property
                                       << " " << d.message;
  }
}

// The dump survives JSON: write, read back, compare equal (no changes at all).
TEST(CompatModelDumps, JsonRoundTrip) {
  for (EraId e : registry::era_ids()) {
    std::ostringstream s;
    JsonWriter w(s);
    khospec::abi::write_json(w, model::kho_abi_dump(e));
    std::string err;
    auto back = abi_from_json(s.str(), "dump.json", err);
    ASSERT_TRUE(back) << err;
    auto r = compat_check(model::kho_abi_dump(e), *back, {});
    EXPECT_TRUE(r.report.empty()) << registry::era_name(e) << ": " << r.report.diagnostics().front().rule;
  }
}

// The repository's own allow-list documents the one upstream break without a
// bump; with it, 6.16 -> 6.18 is clean of errors, and every entry is used.
TEST(CompatAllow, TheShippedAllowListCoversTheKnownHistory) {
  AllowList a;
  std::string err;
  ASSERT_TRUE(parse_allow_list(read_text_file(kSrc / "conformance/compat/compat-allow.yaml"), "conformance/compat/compat-allow.yaml", a, err)) << err;
  CompatOptions o;
  o.allow = &a;
  auto r = compat_check(model::kho_abi_dump(EraId::v6_16), model::kho_abi_dump(EraId::v6_18), o);
  EXPECT_EQ(r.report.count(Level::error), 0u);
  EXPECT_FALSE(r.allowed.empty());
  for (const auto& d : r.report.diagnostics()) EXPECT_NE(d.rule, "compat_allow_unused") << d.message;
}

TEST(CompatMatrixTest, ModelRunAgreesWithTheSchemasForEveryPair) {
  const CompatMatrix m = compat_matrix();
  ASSERT_EQ(m.cells.size(), 36u);
  for (const auto& c : m.cells)
    EXPECT_TRUE(c.agree()) << registry::era_name(c.writer) << " -> " << registry::era_name(c.reader) << ": schema "
                           << c.schema_outcome << " (" << c.schema_why << "), model " << c.model_outcome << " ("
                           << c.model_why << ")";
  // The known history, cell by cell.
  auto out = [&](EraId w, EraId r) { return m.at(w, r).model_outcome; };
  for (EraId e : registry::era_ids()) EXPECT_EQ(out(e, e), "revive") << registry::era_name(e);
  EXPECT_EQ(out(EraId::v6_16, EraId::v6_18), "misread");
  EXPECT_EQ(out(EraId::v6_18, EraId::v6_16), "misread");
  EXPECT_EQ(out(EraId::v6_18, EraId::v6_19), "revive");
  EXPECT_EQ(out(EraId::v6_19, EraId::v6_18), "revive");
  EXPECT_EQ(out(EraId::v6_19, EraId::kho_v2), "refuse");
  EXPECT_EQ(out(EraId::kho_v2, EraId::kho_v3), "refuse");
  EXPECT_EQ(out(EraId::kho_v4, EraId::v6_16), "refuse");
}

// The clients for every pair: the outcome from the registry's client formats
// equals the model run's, and the known history holds cell by cell.
TEST(CompatMatrixTest, ClientsAgreeForEveryPair) {
  const CompatMatrix m = compat_matrix();
  ASSERT_EQ(m.client_cells.size(), 36u * matrix_clients().size());
  for (const auto& c : m.client_cells)
    EXPECT_TRUE(c.agree()) << c.client << " " << registry::era_name(c.writer) << " -> " << registry::era_name(c.reader)
                           << ": ABI " << c.abi_outcome << " (" << c.abi_why << "), model " << c.model_outcome << " ("
                           << c.model_why << ")";
  auto out = [&](EraId w, EraId r, std::string_view client) { return m.at(w, r, client).model_outcome; };
  // 7.3 to 7.3: every client comes back.
  for (const auto& client : matrix_clients()) EXPECT_EQ(out(EraId::kho_v4, EraId::kho_v4, client), "revive") << client;
  // 7.1 writes kexec-metadata; kho-v2 (run as 7.1 without blob-size) cannot.
  EXPECT_EQ(out(EraId::kho_v3, EraId::kho_v3, "kexec-metadata"), "revive");
  EXPECT_EQ(out(EraId::kho_v2, EraId::kho_v2, "kexec-metadata"), "n/a");
  // 7.0's LUO and memfd are lost on 6.18, which has no LUO.
  EXPECT_EQ(out(EraId::v6_19, EraId::v6_18, "luo"), "ignored");
  EXPECT_EQ(out(EraId::v6_19, EraId::v6_18, "memfd"), "ignored");
  // test_kho's folios_info changed layout under the same compatible.
  EXPECT_EQ(out(EraId::v6_18, EraId::v6_19, "kho_test"), "refuse");
  EXPECT_EQ(out(EraId::v6_18, EraId::v6_19, "memblock"), "revive");
  // Clients never survive a refused root.
  EXPECT_EQ(out(EraId::kho_v3, EraId::kho_v4, "luo"), "none");
}

