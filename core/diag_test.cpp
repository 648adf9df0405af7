#include "core/diag.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "core/json.hpp"
#include "core/parse.hpp"
#include "core/rules.hpp"

namespace khospec {
namespace {

Diagnostic sample() {
  Diagnostic d;
  d.rule = "kho_prop_len_u64";
  d.level = Level::error;
  d.file = "out.fdt";
  d.offset = 0x1c4;
  d.node = "/memblock";
  d.property = "blob-size";
  d.message = "length 4, expected 8 (u64, native-endian)";
  d.hints = {"KHO properties are native-endian"};
  return d;
}

TEST(Diag, TextFormatMatchesStyleGuide) {
  std::ostringstream o;
  render_text(o, sample());
  EXPECT_EQ(o.str(),
            "out.fdt@0x1c4: error (kho_prop_len_u64): /memblock:blob-size: length 4, expected 8 "
            "(u64, native-endian)\n\thint: KHO properties are native-endian\n");
}

TEST(Diag, TextWithoutOffsetOrLocation) {
  Diagnostic d;
  d.rule = "fdt_empty";
  d.file = "x";
  d.message = "m";
  d.level = Level::warning;
  std::ostringstream o;
  render_text(o, d);
  EXPECT_EQ(o.str(), "x: warning (fdt_empty): m\n");
}

TEST(Diag, JsonHasEveryKey) {
  std::ostringstream o;
  JsonWriter w(o, 0);
  write_json(w, sample());
  EXPECT_EQ(o.str(),
            "{\"type\":\"kho\",\"level\":\"error\",\"rule\":\"kho_prop_len_u64\",\"file\":\"out.fdt\","
            "\"offset\":452,\"node\":\"/memblock\",\"property\":\"blob-size\",\"message\":\"length 4, "
            "expected 8 (u64, native-endian)\",\"hint\":[\"KHO properties are native-endian\"]}");
}

TEST(Json, EscapesControlAndNonAsciiBytes) {
  EXPECT_EQ(json_quote(std::string("a\"b\\c\n\x01\xff", 8)), "\"a\\\"b\\\\c\\n\\u0001\\u00ff\"");
}

TEST(Json, NestedCommasAndEmptyContainers) {
  std::ostringstream o;
  JsonWriter w(o, 0);
  w.begin_object().key("a").begin_array().value(1).value(2).end_array();
  w.key("b").begin_object().end_object().key("c").null().end_object();
  EXPECT_EQ(o.str(), "{\"a\":[1,2],\"b\":{},\"c\":null}");
}

TEST(Report, ExitCodePolicy) {
  Report r;
  EXPECT_EQ(r.exit_code(), exit_clean);
  Diagnostic w = sample();
  w.level = Level::warning;
  r.add(w);
  EXPECT_EQ(r.exit_code(false), exit_clean);
  EXPECT_EQ(r.exit_code(true), exit_findings);
  r.add(sample());
  EXPECT_EQ(r.exit_code(false), exit_findings);
  EXPECT_TRUE(r.has("kho_prop_len_u64"));
  EXPECT_EQ(r.count(Level::warning), 1u);
}

TEST(Parse, Numbers) {
  EXPECT_EQ(parse_u64("0x116be4000"), 0x116be4000u);
  EXPECT_EQ(parse_u64("42"), 42u);
  EXPECT_EQ(parse_u64("0b101"), 5u);
  EXPECT_FALSE(parse_u64(""));
  EXPECT_FALSE(parse_u64("0x"));
  EXPECT_FALSE(parse_u64("-1"));
  EXPECT_FALSE(parse_u64("12z"));
  EXPECT_FALSE(parse_u64("0x10000000000000000"));  // overflow
  EXPECT_EQ(parse_size("64M"), 64u << 20);
  EXPECT_EQ(parse_size("4k"), 4096u);
  EXPECT_FALSE(parse_size("M"));
  EXPECT_FALSE(parse_size("99999999999999999T"));
}

// The memory bound (docs/fuzz.md): a baseline holds at most kMaxBaseline
// entries; one more is an error naming the line, the limit itself loads.
TEST(RuleConfig, BaselineOfMoreThanTheLimitIsRefused) {
  const std::string path = "/tmp/khospec-baseline-limit-" + std::to_string(::getpid());
  auto write = [&](std::size_t n) {
    std::ofstream out(path);
    out << "# khospec baseline\n";
    for (std::size_t i = 0; i < n; ++i) out << "r" << i << "\tf\tn\tp\n";
  };
  write(RuleConfig::kMaxBaseline);
  RuleConfig ok;
  std::string error;
  EXPECT_TRUE(ok.load_baseline(path, error)) << error;
  write(RuleConfig::kMaxBaseline + 1);
  RuleConfig over;
  EXPECT_FALSE(over.load_baseline(path, error));
  EXPECT_EQ(error, path + ":100002: more than 100000 entries");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace khospec

namespace khospec {
namespace {

// UTF-8 text keeps its characters (escaped to ASCII); bytes that start no
// well-formed sequence are escaped one by one, never merged or dropped.
TEST(JsonQuote, Utf8IsCharactersOtherBytesAreBytes) {
  EXPECT_EQ(json_quote("\xc2\xa7" "4"), "\"\\u00a74\"");               // "§4": one character
  EXPECT_EQ(json_quote("\xe2\x86\x92"), "\"\\u2192\"");                 // "→"
  EXPECT_EQ(json_quote("\xf0\x9f\x98\x80"), "\"\\ud83d\\ude00\"");      // U+1F600: a surrogate pair
  EXPECT_EQ(json_quote("\xff"), "\"\\u00ff\"");                         // not UTF-8: the byte
  EXPECT_EQ(json_quote("\xc2"), "\"\\u00c2\"");                         // truncated sequence
  EXPECT_EQ(json_quote("\xc0\xaf"), "\"\\u00c0\\u00af\"");              // overlong '/'
  EXPECT_EQ(json_quote("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");   // a surrogate, encoded
  EXPECT_EQ(json_quote("\xf8\x88\x80\x80"), "\"\\u00f8\\u0088\\u0080\\u0080\"");
  EXPECT_EQ(json_quote("a\"\\\n\x01"), "\"a\\\"\\\\\\n\\u0001\"");
}

}  // namespace
}  // namespace khospec
