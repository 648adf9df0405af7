#include "fdt/decode.hpp"

#include <gtest/gtest.h>

namespace khospec::fdt {
namespace {

std::vector<std::uint8_t> bytes(std::initializer_list<int> l) {
  std::vector<std::uint8_t> v;
  for (int x : l) v.push_back(static_cast<std::uint8_t>(x));
  return v;
}

// Worked examples of docs/kernel-abi.md §1: dtc cells <c0 c1> -> LE64(BE32(c0) || BE32(c1)).
std::uint64_t from_dtc_cells(std::uint32_t c0, std::uint32_t c1) {
  std::uint8_t b[8];
  store_u32(b, c0, Endian::big);
  store_u32(b + 4, c1, Endian::big);
  return *decode_u64(b, Endian::little);
}

TEST(Decode, KernelDocExamplesDecodeAsLittleEndian) {
  EXPECT_EQ(from_dtc_cells(0x40be16, 0x1000000), 0x116be4000u);
  EXPECT_EQ(from_dtc_cells(0x1517, 0x1000000), 0x117150000u);
  EXPECT_EQ(from_dtc_cells(0xc06b, 0x4000000), 0x46bc00000u);
  EXPECT_EQ(from_dtc_cells(0x04, 0x00), 0x4000000u);  // 64 MiB
  EXPECT_EQ(from_dtc_cells(0xf01500, 0x00), 0x15f000u);  // a reserve_mem start in a 6.16 capture
}

TEST(Decode, ExactLengths) {
  EXPECT_FALSE(decode_u64(bytes({1, 2, 3, 4}), Endian::little));
  EXPECT_FALSE(decode_u32(bytes({1, 2, 3, 4, 5, 6, 7, 8}), Endian::little));
  EXPECT_EQ(*decode_u32(bytes({0x21, 0x4f, 0x48, 0x4b}), Endian::little), 0x4b484f21u);  // test_kho "KHO!"
  EXPECT_EQ(*decode_u32(bytes({0x21, 0x4f, 0x48, 0x4b}), Endian::big), 0x214f484bu);
}

TEST(Decode, Strings) {
  EXPECT_EQ(*decode_string(bytes({'k', 'h', 'o', 0})), "kho");
  EXPECT_FALSE(decode_string(bytes({'k', 'h', 'o'})));        // no NUL
  EXPECT_FALSE(decode_string(bytes({'a', 0, 'b', 0})));       // embedded NUL
  EXPECT_FALSE(decode_string({}));
  const auto two = bytes({'a', 0, 'b', 'c', 0});  // views point into it: keep it alive
  auto l = decode_string_list(two);
  ASSERT_TRUE(l);
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[1], "bc");
  EXPECT_FALSE(decode_string_list(bytes({'a', 0, 0})));      // empty entry
}

TEST(Decode, Arrays) {
  auto a = decode_u64_array(bytes({1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}), Endian::little);
  ASSERT_TRUE(a);
  EXPECT_EQ((*a)[1], 2u);
  EXPECT_FALSE(decode_u64_array(bytes({1, 2, 3}), Endian::little));
  EXPECT_FALSE(decode_u32_array(bytes({1, 2, 3}), Endian::little));
}

TEST(Decode, RuleNamesAndTypeNamesRoundTrip) {
  EXPECT_EQ(len_rule(PropType::u64), "kho_prop_len_u64");
  EXPECT_EQ(len_rule(PropType::phys_addr), "kho_prop_len_phys_addr");
  EXPECT_EQ(len_rule(PropType::string_list), "kho_prop_len_string_list");
  for (auto t : {PropType::u32, PropType::u64, PropType::phys_addr, PropType::string,
                 PropType::string_list, PropType::bytes, PropType::u32_array, PropType::u64_array,
                 PropType::empty}) {
    EXPECT_EQ(parse_type(type_name(t)), t);
  }
  EXPECT_FALSE(parse_type("u128"));
}

TEST(Decode, FormatEscapesUntrustedStrings) {
  Value v;
  v.type = PropType::string;
  v.strings = {std::string("a\x01\"", 3)};
  EXPECT_EQ(format_value(v), "\"a\\x01\\\"\"");
  v.type = PropType::u64;
  v.number = 0x116be4000;
  EXPECT_EQ(format_value(v), "0x116be4000");
}

}  // namespace
}  // namespace khospec::fdt
