#include "core/suggest.hpp"

#include <gtest/gtest.h>

namespace khospec {
namespace {

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("reserve", "reserve"), 0u);
  EXPECT_EQ(edit_distance("reserv", "reserve"), 1u);
  EXPECT_EQ(edit_distance("resreve", "reserve"), 2u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "add"), 3u);
}

TEST(Suggest, ClosestNameOnlyForTypos) {
  const std::vector<std::string_view> calls = {"add", "add_node", "reserve", "reserve_kern", "phys_alloc"};
  EXPECT_EQ(closest_name("reserv", calls), "reserve");
  EXPECT_EQ(closest_name("ad", calls), "add");
  EXPECT_EQ(closest_name("phys_aloc", calls), "phys_alloc");
  EXPECT_EQ(closest_name("frobnicate", calls), std::nullopt);
  EXPECT_EQ(closest_name("", calls), std::nullopt);
}

}  // namespace
}  // namespace khospec
