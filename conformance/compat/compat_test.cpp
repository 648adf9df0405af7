// The compatibility checker on schemas and ABI dumps: every synthetic case in
// both directions, allow-lists, malformed dumps. (The kernel's history through
// the model's dumps and the era matrix are in crosscheck/compat_model_test.cpp.)
#include "conformance/compat/compat.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "conformance/compat/abi.hpp"
#include "core/file.hpp"
#include "core/json.hpp"
#include "core/rules.hpp"

namespace fs = std::filesystem;
using namespace khospec;
using namespace khospec::conformance;

namespace {

const fs::path kSrc = KHOSPEC_SOURCE_DIR;

std::set<std::string> fired(const CompatResult& r) {
  std::set<std::string> out;
  for (const auto& d : r.report.diagnostics()) out.insert(d.rule + ":" + std::string(level_name(d.level)));
  return out;
}

// load_abi_input() of one schema file NAME holding TEXT, in its own temp dir.
std::optional<khospec::abi::AbiSet> load_schema_text(const std::string& name, const std::string& text, Report& r) {
  const fs::path dir = fs::path(testing::TempDir()) / ("compat-" + name);
  fs::create_directories(dir);
  std::ofstream(dir / name) << text;
  return load_abi_input((dir / name).string(), r);
}

}  // namespace


TEST(CompatModelDumps, MalformedDumpsAreDiagnosed) {
  std::string err;
  EXPECT_FALSE(abi_from_json("{", "x.json", err));
  EXPECT_NE(err.find("line"), std::string::npos);
  EXPECT_FALSE(abi_from_json("{\"a\": \"" + std::string(300000, 'a') + "\"}", "big.json", err));
  EXPECT_EQ(err, "an ABI dump is at most 256 KiB; this one has 300009 bytes");
  EXPECT_FALSE(abi_from_json("{\"abi_dump_version\": 2}", "x.json", err));
  EXPECT_NE(err.find("abi_dump_version"), std::string::npos) << err;
  EXPECT_FALSE(abi_from_json("{\"abi_dump_version\": 1, \"formats\": [{\"compatible\": \"x\", \"kind\": \"root\", "
                             "\"root\": {\"name\": \"/\", \"properties\": [{\"name\": \"p\"}]}}]}",
                             "x.json", err));
  EXPECT_NE(err.find("formats[0].root.properties[0]: 'type' is missing"), std::string::npos) << err;
}

// A schema whose child nodes $ref the schema itself: 4 children per level, 16
// levels, 4^16 nodes. The node budget refuses it (compat_input_invalid, exit 1)
// where the walk never ended (the compat fuzz target's slowest inputs).
TEST(CompatSchemaInput, SelfReferenceFanOutIsRefused) {
  Report r;
  EXPECT_FALSE(load_schema_text("fan-v1.yaml",
                                "$id: https://khospec.dev/schemas/fan-v1.yaml#\n"
                                "select: fan-v1\n"
                                "properties:\n"
                                "  a: {$ref: fan-v1.yaml#}\n  b: {$ref: fan-v1.yaml#}\n"
                                "  c: {$ref: fan-v1.yaml#}\n  d: {$ref: fan-v1.yaml#}\n",
                                r));
  ASSERT_EQ(r.diagnostics().size(), 1u);
  EXPECT_EQ(r.diagnostics()[0].rule, "compat_input_invalid");
  EXPECT_NE(r.diagnostics()[0].message.find("more than 4096 nodes"), std::string::npos) << r.diagnostics()[0].message;
  // The built-in schemas stay well inside the budget.
  bool exhausted = true;
  const khospec::abi::AbiSet b = abi_from_schemas(SchemaSet::builtin(), {}, "builtin", &exhausted);
  EXPECT_FALSE(exhausted);
  EXPECT_FALSE(b.formats.empty());
}

// A property or pattern named by a map (YAML `? {..}`, found by the long compat
// run): yaml-cpp threw TypedBadConversion out of abi_from_schemas(). Such keys
// name nothing; the scalar-named properties beside them are read.
TEST(CompatSchemaInput, NonScalarKeysNameNoProperty) {
  Report r;
  const auto abi = load_schema_text("mk-v1.yaml",
                                    "$id: https://khospec.dev/schemas/mk-v1.yaml#\n"
                                    "select: mk-v1\n"
                                    "properties:\n"
                                    "  compatible: {const: mk-v1}\n"
                                    "  ? {luo-session-header: 1}\n"
                                    "  : {description: x}\n"
                                    "  child:\n"
                                    "    type: object\n"
                                    "    properties:\n"
                                    "      ? [a, b]\n"
                                    "      : {type: object}\n"
                                    "patternProperties:\n"
                                    "  ? {x: 1}\n"
                                    "  : {type: object}\n",
                                    r);
  ASSERT_TRUE(abi) << (r.diagnostics().empty() ? "" : r.diagnostics()[0].message);
  ASSERT_EQ(abi->formats.size(), 1u);
  const khospec::abi::Node& root = abi->formats[0].root;
  ASSERT_EQ(root.props.size(), 1u);
  EXPECT_EQ(root.props[0].name, "compatible");
  ASSERT_EQ(root.children.size(), 1u);
  EXPECT_EQ(root.children[0].name, "child");
  EXPECT_TRUE(root.children[0].props.empty() && root.children[0].children.empty());
}

// ------------------------------------------------------ synthetic cases (both ways)

// conformance/compat/cases/NAME/{old,new}/ (+ allow.yaml) with expect.yaml:
//   forward: [rule:level, ...]   backward: [...]   both: [...]
TEST(CompatCases, EveryCaseFiresExactlyItsExpectationsInEachDirection) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kSrc / "conformance/compat/cases")) {
    if (!e.is_directory()) continue;
    ++n;
    const fs::path dir = e.path();
    ASSERT_TRUE(fs::exists(dir / "expect.yaml")) << dir;
    YAML::Node ex = YAML::LoadFile((dir / "expect.yaml").string());
    AllowList allow;
    if (fs::exists(dir / "allow.yaml")) {
      std::string err;
      ASSERT_TRUE(parse_allow_list(read_text_file(dir / "allow.yaml"), "allow.yaml", allow, err)) << err;
    }
    for (const char* dname : {"both", "forward", "backward"}) {
      CompatOptions o;
      o.direction = *parse_direction(dname);
      if (!allow.entries.empty()) o.allow = &allow;
      Report load;
      auto r = compat_check_paths((dir / "old").string(), (dir / "new").string(), o, load);
      std::set<std::string> got;
      if (r) got = fired(*r);
      for (const auto& d : load.diagnostics()) got.insert(d.rule + ":" + std::string(level_name(d.level)));
      std::set<std::string> want;
      for (const auto& s : ex[dname]) want.insert(s.as<std::string>());
      EXPECT_EQ(got, want) << dir.filename() << " direction " << dname;
    }
  }
  EXPECT_GE(n, 30);
}

// Every compat_* rule of the registry is fired by some case in some direction.
TEST(CompatCases, EveryCompatRuleIsCovered) {
  std::set<std::string> seen;
  for (const auto& e : fs::directory_iterator(kSrc / "conformance/compat/cases")) {
    if (!e.is_directory()) continue;
    YAML::Node ex = YAML::LoadFile((e.path() / "expect.yaml").string());
    for (const char* d : {"both", "forward", "backward"})
      for (const auto& s : ex[d]) seen.insert(s.as<std::string>().substr(0, s.as<std::string>().find(':')));
  }
  for (const auto& r : rules()) {
    if (r.family != "compat") continue;
    EXPECT_TRUE(seen.count(std::string(r.id))) << r.id << " is fired by no case";
  }
}

TEST(CompatAllow, MalformedListsAreUsageErrorsNamingTheEntry) {
  AllowList a;
  std::string err;
  EXPECT_FALSE(parse_allow_list("allow:\n  - rule: compat_required_added\n", "a.yaml", a, err));
  EXPECT_NE(err.find("a.yaml:2: entry 1: has no reason"), std::string::npos) << err;
  EXPECT_FALSE(parse_allow_list("allow:\n  - rule: kho_map_empty\n    reason: x\n", "a.yaml", a, err));
  EXPECT_NE(err.find("not a compat_* rule"), std::string::npos) << err;
  EXPECT_FALSE(parse_allow_list("allow:\n  - rule: compat_required_added\n    reason: x\n    why: y\n", "a.yaml", a, err));
  EXPECT_NE(err.find("unknown key 'why'"), std::string::npos) << err;
  EXPECT_FALSE(parse_allow_list("[1, 2", "a.yaml", a, err));
  // A map as a key (YAML `? {..}`): yaml-cpp's as<string>() would throw.
  EXPECT_FALSE(parse_allow_list("allow:\n  - rule: compat_required_added\n    reason: x\n    ? {a: 1}\n    : y\n", "a.yaml", a, err));
  EXPECT_NE(err.find("unknown key '(a map or list)'"), std::string::npos) << err;
  EXPECT_FALSE(parse_allow_list("allowed: []", "a.yaml", a, err));
  EXPECT_TRUE(parse_allow_list("allow: []", "a.yaml", a, err)) << err;
}

