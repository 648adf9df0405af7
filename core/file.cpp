#include "core/file.hpp"

#include <fstream>
#include <sstream>

namespace khospec {

bool read_text_file(const std::filesystem::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return false;
  out = s.str();
  return true;
}

std::string read_text_file(const std::filesystem::path& p) {
  std::string s;
  read_text_file(p, s);
  return s;
}

}  // namespace khospec
