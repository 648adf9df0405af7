// `-f json` on error paths: a command that fails before printing its document
// (unreadable input, a usage error, an unknown command) still prints one JSON
// document, the error envelope (docs/cli.md "JSON output"):
//   {"format_version": 1, "tool", "command", "ok": false,
//    "error": {"kind": "usage"|"input"|"internal", "message"},
//    "diagnostics": [{"type": "cli", "level": "error", "rule": "", "file": "", ..., "message"}]}
#pragma once

#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

namespace khospec::cli {

// Forwards to `dest`, remembering whether anything was written.
class CountingBuf : public std::streambuf {
 public:
  explicit CountingBuf(std::streambuf* dest) : dest_(dest) {}
  bool written() const { return written_; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override { return dest_->pubsync(); }

 private:
  std::streambuf* dest_;
  bool written_ = false;
};

// Forwards to `dest` and keeps a copy (the error messages the envelope repeats).
class TeeBuf : public std::streambuf {
 public:
  explicit TeeBuf(std::streambuf* dest) : dest_(dest) {}
  const std::string& text() const { return copy_; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override { return dest_->pubsync(); }

 private:
  std::streambuf* dest_;
  std::string copy_;
};

// The "khospec: error: ..." lines of `stderr_text` (without the prefix), joined.
std::string error_message(const std::string& stderr_text);
void write_error_document(std::ostream& out, std::string_view command, std::string_view kind, const std::string& message);

}  // namespace khospec::cli
