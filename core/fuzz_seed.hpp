// Seeds for the libFuzzer targets (cmake/KhospecFuzz.cmake, docs/fuzz.md):
// LLVMFuzzerInitialize writes inputs of its own format into the seed
// directory $KHOSPEC_FUZZ_SEED_OUT before libFuzzer reads it. Header-only:
// only the fuzz_*.cpp sources, built by clang++, include it.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace khospec::fuzz {

// The directory named by environment variable `var`, or "" when unset or not a directory.
inline std::filesystem::path env_dir(const char* var) {
  const char* v = std::getenv(var);
  std::error_code ec;
  if (!v || !std::filesystem::is_directory(v, ec)) return {};
  return v;
}

// At most `max` leading bytes of file `p` (a seed keeps a big capture's headers).
inline std::vector<std::uint8_t> read_head(const std::filesystem::path& p, std::size_t max = 1u << 20) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::uint8_t> out(max);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(max));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

// Writes one seed named `name` into $KHOSPEC_FUZZ_SEED_OUT (nothing when unset).
inline void write_seed(const std::string& name, const std::vector<std::uint8_t>& bytes) {
  const std::filesystem::path out = env_dir("KHOSPEC_FUZZ_SEED_OUT");
  if (out.empty()) return;
  std::ofstream(out / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_seed(const std::string& name, const std::string& text) {
  write_seed(name, std::vector<std::uint8_t>(text.begin(), text.end()));
}

}  // namespace khospec::fuzz
