// The memory-image generator's building blocks, shared by corpus_source.cpp
// (maps, place, write, elf) and memgen_clients.cpp (the client structures):
// internal to conformance/corpus/.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace khospec::conformance::memgen {

// A located compile error, turned into Compiled::error by compile_source().
struct SourceError {
  YAML::Mark mark;
  std::string message;
};

[[noreturn]] void fail(const YAML::Node& at, std::string message);
std::string trim(std::string_view s);
std::uint64_t number(const YAML::Node& n, std::uint64_t max = ~std::uint64_t{0});
std::vector<std::uint8_t> hex_bytes(const YAML::Node& n);

// Physical memory by page (address -> 4096 bytes).
using Pages = std::map<std::uint64_t, std::vector<std::uint8_t>>;
void poke(Pages& pages, std::uint64_t addr, std::span<const std::uint8_t> bytes);
void touch(Pages& pages, std::uint64_t addr, std::uint64_t len);
void poke64(Pages& pages, std::uint64_t addr, std::uint64_t v);

// The `luo:`, `memfd:` and `kexec-metadata:` keys (memgen_clients.cpp).
void gen_clients(Pages& pages, const YAML::Node& spec);

}  // namespace khospec::conformance::memgen
