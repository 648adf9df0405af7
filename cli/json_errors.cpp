#include "cli/json_errors.hpp"

#include <sstream>

#include "cli/output.hpp"
#include "core/json.hpp"

namespace khospec::cli {

CountingBuf::int_type CountingBuf::overflow(int_type c) {
  if (c != traits_type::eof()) written_ = true;
  return dest_->sputc(traits_type::to_char_type(c));
}

std::streamsize CountingBuf::xsputn(const char* s, std::streamsize n) {
  if (n > 0) written_ = true;
  return dest_->sputn(s, n);
}

TeeBuf::int_type TeeBuf::overflow(int_type c) {
  if (c != traits_type::eof()) copy_.push_back(traits_type::to_char_type(c));
  return dest_->sputc(traits_type::to_char_type(c));
}

std::streamsize TeeBuf::xsputn(const char* s, std::streamsize n) {
  copy_.append(s, static_cast<std::size_t>(n));
  return dest_->sputn(s, n);
}

std::string error_message(const std::string& stderr_text) {
  std::istringstream in(stderr_text);
  std::string line, out;
  for (const std::string_view prefix : {"khospec: error: ", "khospec: internal error: "}) {
    in.clear();
    in.seekg(0);
    while (std::getline(in, line))
      if (line.rfind(prefix, 0) == 0) out += (out.empty() ? "" : "; ") + line.substr(prefix.size());
    if (!out.empty()) return out;
  }
  // Nothing in the usual form: the first line said (usage text).
  std::istringstream first(stderr_text);
  std::getline(first, line);
  return line.empty() ? "failed without a message" : line;
}

void write_error_document(std::ostream& out, std::string_view command, std::string_view kind, const std::string& message) {
  JsonWriter w(out);
  w.begin_object();
  write_json_preamble(w, command);
  w.key("ok").value(false);
  w.key("error").begin_object().key("kind").value(kind).key("message").value(message).end_object();
  w.key("diagnostics").begin_array().begin_object();
  w.key("type").value("cli");
  w.key("level").value("error");
  w.key("rule").value("");
  w.key("file").value("");
  w.key("offset").null();
  w.key("node").value("");
  w.key("property").value("");
  w.key("message").value(message);
  w.key("hint").begin_array().end_array();
  w.end_object().end_array();
  w.end_object();
  out << "\n";
}

}  // namespace khospec::cli
