// Kernel command-line parameters that shape KHO, parsed as each era does:
// kho= (kstrtobool), kho_scratch= (N% or lowmem,global,pernode with memparse
// suffixes) and reserve_mem=size:align:name (mm/memblock.c).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/kho/era.hpp"

namespace khospec::model {

// lib/kstrtox.c kstrtobool(): 1/y/Y/t/T/on -> true, 0/n/N/f/F/off -> false.
std::optional<bool> kstrtobool(std::string_view s);
// lib/cmdline.c memparse(): number (0x hex, 0 octal, decimal) + K/M/G/T/P/E
// suffixes; returns the value and how many characters it consumed.
struct MemparseResult {
  std::uint64_t value = 0;
  std::size_t consumed = 0;
};
MemparseResult memparse(std::string_view s);

struct ScratchSizes {
  unsigned scale = 200;        // percent; 0 = explicit sizes
  std::uint64_t lowmem = 0;
  std::uint64_t global = 0;
  std::uint64_t pernode = 0;
};

// kho_parse_scratch_size(): updates `sizes` and returns 0, or returns -EINVAL
// and leaves `sizes` untouched (the defaults stay in force). `log` receives
// the kernel's pr_notice line on success.
int kho_parse_scratch_size(const EraTraits& era, std::string_view arg, ScratchSizes& sizes,
                           std::string* log = nullptr);

struct ReserveMemParam {
  std::uint64_t size = 0;
  std::uint64_t align = 0;
  std::string name;
};
// reserve_mem=size:align:name (mm/memblock.c reserve_mem()): -EINVAL on a
// malformed value, a zero size, a non-power-of-two alignment or an empty /
// over-long name.
int parse_reserve_mem(std::string_view arg, ReserveMemParam& out);

// The parts of a kernel command line the model understands.
struct KhoCmdline {
  bool kho = false;            // kho=
  bool kho_given = false;
  ScratchSizes scratch;        // kho_scratch= (kho_bootmem= from 7.4)
  std::vector<ReserveMemParam> reserve_mem;
  bool liveupdate = false;     // liveupdate=
  // Early-param errors in kernel order: "kho_scratch=abc: -22".
  std::vector<std::string> errors;
  std::vector<std::string> log;  // pr_notice lines the parsers print
};

// The scratch sizes come from the release's parameter: kho_scratch= up to
// 7.3, kho_bootmem= from 7.4-rc1 (registry Release::scratch_param; same
// syntax), plus Release::scratch_param_alias when one is set.
KhoCmdline parse_cmdline(const EraTraits& era, std::string_view cmdline, bool kho_default,
                         const registry::Release& release);
// As above, for the era's model release (registry::default_release()).
KhoCmdline parse_cmdline(const EraTraits& era, std::string_view cmdline, bool kho_default);

}  // namespace khospec::model
