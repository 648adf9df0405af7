// The hand-over inputs validate, dump and preflight share: FILEs, --memory,
// --fdt-phys (the root read from the image), --live out|in, --scratch and the
// decode options, parsed once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "conformance/handover/handover.hpp"
#include "conformance/image/image.hpp"
#include "conformance/validate/validate.hpp"
#include "core/diag.hpp"
#include "core/rules.hpp"

namespace khospec::cli {

struct Input {
  std::string name;
  std::vector<std::uint8_t> bytes;
  bool root = true;
  std::uint64_t size = 0;  // the input's size when `bytes` is only its first part (read_input)
};

struct Setup {
  conformance::ValidateOptions vo;
  conformance::RenderOptions render;
  std::optional<conformance::MemoryImage> image;
  RuleConfig rules;
  std::vector<Input> inputs;
  Report pre;  // image and live findings
  std::vector<Diagnostic> unread;  // FILEs that could not be read (said on stderr; JSON lists them)
};

// Parses the options (and reads the inputs) of validate, or of dump when `dump`
// (no -W/-E/--baseline). Returns exit_clean, or the exit code to return after
// the error it printed.
int setup(Context& ctx, Setup& s, bool dump);

}  // namespace khospec::cli
