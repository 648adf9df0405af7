// The examples of a schema's `examples:` as blobs: the corpus form (a `root:` map of
// typed scalars, conformance/corpus/corpus_source) or the dts syntax of the kernel's
// bindings, which dtc would compile (cells are big-endian 32-bit words).
#include <cctype>

#include "conformance/corpus/corpus_source.hpp"
#include "conformance/schema/schema_internal.hpp"
#include "fdt/builder.hpp"

namespace khospec::conformance {

namespace {

struct DtsParser {
  std::string_view s;
  std::size_t i = 0;
  std::string error;
  fdt::Builder b{4096, fdt::Endian::little};

  void skip() {
    for (;;) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      if (s.substr(i, 2) == "/*") {
        auto e = s.find("*/", i + 2);
        i = e == std::string_view::npos ? s.size() : e + 2;
      } else if (s.substr(i, 2) == "//") {
        auto e = s.find('\n', i);
        i = e == std::string_view::npos ? s.size() : e + 1;
      } else {
        return;
      }
    }
  }
  bool fail(std::string m) {
    if (error.empty()) error = "offset " + std::to_string(i) + ": " + m;
    return false;
  }
  std::string name() {
    skip();
    std::size_t st = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || std::string_view(",._+-@#/").find(s[i]) != std::string_view::npos))
      ++i;
    return std::string(s.substr(st, i - st));
  }
  bool expect(char c) {
    skip();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return fail(std::string("expected '") + c + "'");
  }
  bool value(std::vector<std::uint8_t>& out) {
    skip();
    if (i >= s.size()) return fail("value expected");
    if (s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') out.push_back(static_cast<std::uint8_t>(s[i++]));
      if (i >= s.size()) return fail("unterminated string");
      ++i;
      out.push_back(0);
      return true;
    }
    if (s[i] == '<') {
      ++i;
      for (;;) {
        skip();
        if (i < s.size() && s[i] == '>') {
          ++i;
          return true;
        }
        std::size_t st = i;
        while (i < s.size() && std::isalnum(static_cast<unsigned char>(s[i]))) ++i;
        auto v = parse_u64_scalar(s.substr(st, i - st));
        if (!v || *v > 0xffffffffu) return fail("bad cell");
        for (int k = 3; k >= 0; --k) out.push_back(static_cast<std::uint8_t>(*v >> (8 * k)));
      }
    }
    return fail("unsupported value syntax");
  }
  bool node(bool top) {
    if (!expect('{')) return false;
    b.begin_node(top ? "" : current_);
    for (;;) {
      skip();
      if (i < s.size() && s[i] == '}') {
        ++i;
        b.end_node();
        skip();
        if (i < s.size() && s[i] == ';') ++i;
        return true;
      }
      std::string n = name();
      if (n.empty()) return fail("name expected");
      skip();
      if (i < s.size() && s[i] == '{') {
        current_ = n;
        if (!node(false)) return false;
        continue;
      }
      std::vector<std::uint8_t> bytes;
      if (i < s.size() && s[i] == '=') {
        ++i;
        for (;;) {
          if (!value(bytes)) return false;
          skip();
          if (i < s.size() && s[i] == ',') {
            ++i;
            continue;
          }
          break;
        }
      }
      if (!expect(';')) return false;
      b.prop_bytes(n, bytes);
    }
  }
  std::string current_;
};


}  // namespace

std::vector<std::uint8_t> compile_dts_example(std::string_view text, std::string& error) {
  DtsParser p;
  p.s = text;
  p.skip();
  if (p.s.substr(p.i, 8) == "/dts-v1/") {
    p.i += 8;
    p.expect(';');
  }
  p.name();  // "/" or a wrapper name ("kho"): the example's top node is the root
  if (!p.node(true)) {
    error = p.error;
    return {};
  }
  auto blob = p.b.finish();
  if (p.b.error() != 0) {
    error = "libfdt refused the example";
    return {};
  }
  return blob;
}

namespace schema_detail {

std::vector<std::uint8_t> compile_schema_example(const std::string& text, const std::string& name,
                                                 std::string& error) {
  auto first = text.find_first_not_of(" \t\r\n");
  bool corpus_form = first != std::string::npos && text.compare(first, 5, "root:") == 0;
  if (!corpus_form) {
    // Skip leading comment lines of a corpus-form example.
    std::size_t p = first;
    while (p != std::string::npos && p < text.size() && text[p] == '#') {
      p = text.find('\n', p);
      if (p != std::string::npos) p = text.find_first_not_of(" \t\r\n", p);
    }
    corpus_form = p != std::string::npos && p < text.size() && text.compare(p, 5, "root:") == 0;
  }
  if (!corpus_form) return compile_dts_example(text, error);
  auto c = compile_source(text, name);
  if (!c.ok) error = c.error;
  return std::move(c.blob);
}

}  // namespace schema_detail

}  // namespace khospec::conformance
