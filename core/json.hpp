// A minimal streaming JSON writer (output only; khospec never parses JSON).
#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

namespace khospec {

std::string json_quote(std::string_view s);

// JsonWriter w(out); w.begin_object(); w.key("a"); w.value(1); w.end_object();
// Commas and indentation are handled by the writer.
class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out, int indent = 2) : out_(out), indent_(indent) {}
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view v);
  JsonWriter& value(const char* v) { return value(std::string_view(v)); }
  JsonWriter& value(std::uint64_t v);
  JsonWriter& value(std::int64_t v);
  JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
  JsonWriter& value(bool v);
  JsonWriter& null();
  // Splice a pre-rendered JSON value (must itself be valid JSON).
  JsonWriter& raw(std::string_view json);

 private:
  void before_value();
  void newline();
  std::ostream& out_;
  int indent_;
  struct Frame { bool array; bool first; };
  std::vector<Frame> stack_;
  bool after_key_ = false;
};

}  // namespace khospec
