// The identity table the validator follows hand-overs with: which formats a root
// child may hold under each root compatible, and what a struct blob's layout is.
#include "registry/clients.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include <string>

namespace khospec::registry {
namespace {

TEST(Clients, IdentityByNodeAndRootCompatible) {
  auto labels = [](std::string_view node, std::string_view root) {
    std::vector<std::string> out;
    for (const ClientFormat* f : formats_of_node(node))
      if (written_under(root, *f)) out.push_back(f->label());
    return out;
  };
  EXPECT_EQ(labels("LUO", "kho-v4"), (std::vector<std::string>{"luo-v5"}));
  EXPECT_EQ(labels("LUO", "kho-v3"), (std::vector<std::string>{"luo-v1", "luo-flb-v1"}));
  EXPECT_EQ(labels("LUO", "kho-v1"), (std::vector<std::string>{"luo-v1", "luo-flb-v1"}));
  EXPECT_EQ(labels("kexec-metadata", "kho-v1"), std::vector<std::string>{});
  EXPECT_EQ(labels("kexec-metadata", "kho-v4"), (std::vector<std::string>{"kexec-metadata version 1"}));
  EXPECT_EQ(labels("memblock", "kho-v2"), (std::vector<std::string>{"memblock-v1"}));  // no release: anything known
  EXPECT_TRUE(formats_of_node("").empty());
  EXPECT_TRUE(formats_of_node("ftrace").empty());
  ASSERT_TRUE(format_by_label("memfd-v2"));
  EXPECT_EQ(identity(*format_by_label("memfd-v2")).seals, 0x3fu);
  EXPECT_EQ(identity(*format_by_label("memfd-v1")).seals, 0u);
  EXPECT_EQ(format_by_label("memfd-v9"), nullptr);
}

TEST(Clients, EveryFormatHasOneIdentity) {
  // One identity per compatible: two kho_test rows share kho-test-v1 (its
  // folios_info layout changed under the same compatible, registry/era.cpp).
  std::set<std::string> labels;
  for (const ClientFormat& f : client_formats()) labels.insert(f.label());
  EXPECT_EQ(client_identities().size(), labels.size());
  for (const ClientFormat& f : client_formats()) {
    const ClientIdentity& i = identity(f);
    EXPECT_EQ(i.label, f.label()) << f.label() << " has no identity in registry/clients.cpp";
    EXPECT_FALSE(i.reader.empty()) << f.label();
    EXPECT_EQ(f.kind == BlobKind::raw, !i.layout.empty()) << f.label() << ": a struct blob names its layout";
  }
}

}  // namespace
}  // namespace khospec::registry
