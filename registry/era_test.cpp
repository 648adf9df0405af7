// The era registry's own consistency: names, releases in order, each era's
// release range equal to the releases that map to it, client format ranges
// inside the release list, and name resolution.
#include "registry/era.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace khospec::registry {
namespace {

TEST(Registry, ErasAreIndexedByIdAndUniquelyNamed) {
  std::set<std::string_view> names;
  int i = 0;
  for (const Era& e : eras()) {
    EXPECT_EQ(static_cast<int>(e.id), i++) << e.name;
    EXPECT_TRUE(names.insert(e.name).second) << e.name;
    EXPECT_EQ(&era(e.id), &e);
  }
}

TEST(Registry, ReleasesAreOrderedAndEachEraCoversItsOwn) {
  const auto rs = releases();
  for (std::size_t i = 1; i < rs.size(); ++i)
    EXPECT_LT(compare_versions(rs[i - 1].version, rs[i].version), 0) << rs[i].version;
  for (const Era& e : eras()) {
    const auto mine = releases_of(e.id);
    if (!e.not_shipped.empty()) {
      EXPECT_TRUE(mine.empty()) << e.name << " never shipped but has releases";
      EXPECT_TRUE(e.first_release.empty() && e.last_release.empty()) << e.name;
      continue;
    }
    ASSERT_FALSE(mine.empty()) << e.name;
    EXPECT_EQ(mine.front().version, e.first_release) << e.name;
    EXPECT_EQ(mine.back().version, e.last_release) << e.name;
    for (const Release& r : rs) {
      if (r.era == e.id) {
        EXPECT_TRUE(&r >= mine.data() && &r < mine.data() + mine.size()) << r.version;
      }
    }
  }
}

TEST(Registry, ClientFormatRangesAreReleases) {
  for (const ClientFormat& f : client_formats()) {
    EXPECT_TRUE(resolve(f.first_release) && resolve(f.first_release)->release) << f.label();
    EXPECT_NE(f.compatible.empty(), f.struct_version == 0) << f.label() << ": a string or a version, not both";
    if (!f.last_release.empty()) {
      EXPECT_TRUE(resolve(f.last_release) && resolve(f.last_release)->release) << f.label();
      EXPECT_LE(compare_versions(f.first_release, f.last_release), 0) << f.label();
    }
  }
  // Spot checks against the upstream record: 7.0 adds luo-flb, 7.2 swaps the
  // LUO FDT for the luo-v5 struct, memfd-v2 and kexec-metadata start in 7.1.
  auto writes_named = [](std::string_view rel, std::string_view compat) {
    const Release* r = resolve(rel)->release;
    for (const ClientFormat& f : client_formats())
      if (f.label() == compat && writes(*r, f)) return true;
    return false;
  };
  EXPECT_FALSE(writes_named("6.19", "luo-flb-v1"));
  EXPECT_TRUE(writes_named("7.0", "luo-flb-v1"));
  EXPECT_TRUE(writes_named("7.1", "luo-v1"));
  EXPECT_FALSE(writes_named("7.2", "luo-v1"));
  EXPECT_TRUE(writes_named("7.2", "luo-v5"));
  EXPECT_FALSE(writes_named("7.0", "memfd-v2"));
  EXPECT_TRUE(writes_named("7.1", "memfd-v2"));
  EXPECT_TRUE(writes_named("7.1", "kexec-metadata version 1"));
  EXPECT_FALSE(writes_named("7.0", "kexec-metadata version 1"));
  EXPECT_FALSE(writes_named("6.16", "kho-test-v1"));
  EXPECT_TRUE(writes_named("6.17", "kho-test-v1"));
}

TEST(Registry, NamesResolveToErasAndReleases) {
  auto e = resolve("kho-v2");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->era->id, EraId::kho_v2);
  EXPECT_EQ(e->release, nullptr);
  EXPECT_EQ(e->describe(), "kho-v2 (no release writes it)");
  EXPECT_EQ(resolve("v6.16")->describe(), "v6.16 (releases 6.16-6.17)");
  for (std::string_view n : {"6.17", "v6.17", "6.17.3", "6.17-rc4"}) {
    auto r = resolve(n);
    ASSERT_TRUE(r) << n;
    EXPECT_EQ(r->era->id, EraId::v6_16) << n;
    EXPECT_EQ(r->release->version, "6.17") << n;
  }
  EXPECT_EQ(resolve("7.0")->era->id, EraId::v6_19);
  EXPECT_EQ(resolve("7.1")->era->id, EraId::kho_v3);
  EXPECT_EQ(resolve("7.4")->release->version, "7.4-rc1");
  EXPECT_EQ(resolve("7.3")->describe(), "kho-v4 (release 7.3)");
  for (std::string_view n : {"", "v5.10", "6.15", "7.5", "stateless", "7", "7.x", "kho-v5", "6.16x", "v"})
    EXPECT_FALSE(resolve(n)) << n;
  EXPECT_NE(valid_names().find("7.4-rc1"), std::string::npos);
}

TEST(Registry, DebugfsAndCommandLineFollowTheRenames) {
  EXPECT_TRUE(resolve("7.0")->release->debugfs.finalize_file);
  EXPECT_FALSE(resolve("7.1")->release->debugfs.finalize_file);
  EXPECT_TRUE(resolve("7.3")->release->debugfs.out_fdt_sized_at_init);
  EXPECT_EQ(resolve("7.3")->release->debugfs.scratch_phys, "scratch_phys");
  EXPECT_EQ(resolve("7.4")->release->debugfs.scratch_phys, "bootmem_phys");
  EXPECT_EQ(resolve("7.4")->release->scratch_param, "kho_bootmem");
}

}  // namespace
}  // namespace khospec::registry
