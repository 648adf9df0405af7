// libFuzzer target over `khospec compat`'s inputs (docs/fuzz.md), each then
// compared with the built-in schemas' ABI (bit 2 of byte 0: the input is OLD,
// compared backward, else NEW, compared forward).
//
// Input: byte 0 = mode (low 2 bits):
//   0  one input file of any kind (schema YAML, ABI JSON, FDT, ELF, ...):
//      sniff_compat_input() + load_compat_input(), as `compat FILE ...` does;
//   1  ABI JSON text: abi_from_json();
//   2  a compat-allow.yaml: parse_allow_list(), then compat_check() with it;
//   3  a hand-over: bytes 1-2 = little-endian length N of a root FDT, then N
//      FDT bytes, then a memory image (ELF core), loaded as `compat
//      --memory-old MEM FDT ...` does (the clients behind the root followed).
// Seeds (LLVMFuzzerInitialize): schemas/**/*.yaml ($KHOSPEC_FUZZ_SCHEMAS), the
// ABI JSON `khospec model abi-dump` writes ($KHOSPEC_FUZZ_ABI), the allow
// lists ($KHOSPEC_FUZZ_ALLOW), the captures' FDTs alone and each root with its
// memory.elf ($KHOSPEC_FUZZ_DUMPS).
//
// Cap: inputs above 64 KiB are skipped (the schemas' YAML and the regexes
// they carry are compiled as in fuzz_schema; a capture's memory.elf is <= 9 KiB).
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

#include "conformance/compat/abi.hpp"
#include "conformance/compat/compat.hpp"
#include "conformance/compat/inputs.hpp"
#include "conformance/schema/schema.hpp"
#include "core/fuzz_seed.hpp"

using namespace khospec;
using namespace khospec::conformance;
namespace fs = std::filesystem;

namespace {

int seeds = 0;

void seed(std::uint8_t mode, const std::vector<std::uint8_t>& body) {
  std::vector<std::uint8_t> s = {mode};
  s.insert(s.end(), body.begin(), body.end());
  fuzz::write_seed("compat-" + std::to_string(seeds++), s);
}

void seed_files(const char* var, std::uint8_t mode, const std::string& ext) {
  const fs::path dir = fuzz::env_dir(var);
  std::error_code ec;
  if (dir.empty()) return;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && e.path().extension() == ext) seed(mode, fuzz::read_head(e.path(), 60 << 10));
}

const abi::AbiSet& builtin_abi() {
  static const abi::AbiSet set = abi_from_schemas(SchemaSet::builtin(), {}, "builtin");
  return set;
}

std::string temp_file(const std::string& tag, const std::uint8_t* data, std::size_t size) {
  const std::string path = "/tmp/khospec-fuzz-compat-" + std::to_string(getpid()) + "-" + tag;
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  return path;
}

// One comparison per input (each costs a walk of the whole built-in ABI):
// bit 2 of byte 0 picks the side the input is on.
bool input_is_old = false;

void compare(const abi::AbiSet& set, const AllowList* allow) {
  CompatOptions o;
  o.allow = allow;
  if (input_is_old) {
    o.direction = Direction::backward;
    (void)compat_check(set, builtin_abi(), o);
  } else {
    (void)compat_check(builtin_abi(), set, o);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  seed_files("KHOSPEC_FUZZ_SCHEMAS", 0, ".yaml");
  seed_files("KHOSPEC_FUZZ_DUMPS", 0, ".dtb");
  seed_files("KHOSPEC_FUZZ_ABI", 1, ".json");
  seed_files("KHOSPEC_FUZZ_ABI", 0, ".json");
  seed_files("KHOSPEC_FUZZ_ALLOW", 2, ".yaml");
  const fs::path dumps = fuzz::env_dir("KHOSPEC_FUZZ_DUMPS");
  std::error_code ec;
  if (!dumps.empty()) {
    for (const auto& e : fs::recursive_directory_iterator(dumps, ec)) {
      if (e.path().filename() != "memory.elf") continue;
      const fs::path root = e.path().parent_path() / "out_fdt.dtb";
      if (!fs::exists(root, ec)) continue;
      const auto fdt = fuzz::read_head(root, 0xffff);
      std::vector<std::uint8_t> body = {static_cast<std::uint8_t>(fdt.size()), static_cast<std::uint8_t>(fdt.size() >> 8)};
      body.insert(body.end(), fdt.begin(), fdt.end());
      const auto mem = fuzz::read_head(e.path(), 60 << 10);
      body.insert(body.end(), mem.begin(), mem.end());
      seed(3, body);
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 65536) return 0;
  const int mode = data[0] & 3;
  input_is_old = data[0] & 4;
  ++data;
  --size;
  Report report;
  if (mode == 0) {
    const std::string path = temp_file("input", data, size);
    (void)sniff_compat_input(path);
    if (auto set = load_compat_input(path, "", "--memory-old", report)) compare(*set, nullptr);
    std::remove(path.c_str());
  } else if (mode == 1) {
    std::string error;
    if (auto set = abi_from_json(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json", error))
      compare(*set, nullptr);
  } else if (mode == 2) {
    AllowList allow;
    std::string error;
    if (parse_allow_list(std::string(reinterpret_cast<const char*>(data), size), "fuzz-allow.yaml", allow, error))
      compare(builtin_abi(), &allow);
  } else {
    if (size < 2) return 0;
    std::size_t n = data[0] | (std::size_t{data[1]} << 8);
    data += 2;
    size -= 2;
    if (n > size) n = size;
    const std::string fdt = temp_file("fdt", data, n);
    const std::string mem = temp_file("mem", data + n, size - n);
    if (auto set = load_compat_input(fdt, size > n ? mem : "", "--memory-old", report)) compare(*set, nullptr);
    std::remove(fdt.c_str());
    std::remove(mem.c_str());
  }
  return 0;
}
