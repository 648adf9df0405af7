// libFuzzer target over scenario YAML (docs/fuzz.md): parse_scenario(), then
// run_scenario() on what parses, then the text rendering and the expectation
// checks it carries. Seeds: every built-in scenario's YAML in every era it
// has (what `khospec simulate --list` lists), written by LLVMFuzzerInitialize.
//
// Cap: inputs above 8 KiB, and scenarios of more than 24 steps, are parsed
// but not run. A run costs time in the steps it has (each boot and kexec
// replays a kernel's whole memblock and KHO set-up), so its cost is bounded by
// the step count; the built-in scenarios have at most 14 steps.
#include <cstdint>
#include <sstream>
#include <string_view>

#include "core/fuzz_seed.hpp"
#include "model/kho/scenario.hpp"
#include "registry/era.hpp"

using namespace khospec;
using namespace khospec::model;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  int n = 0;
  for (const std::string& name : builtin_scenarios())
    for (registry::EraId era : registry::era_ids())
      if (auto text = builtin_scenario_text(name, era)) fuzz::write_seed("scenario-" + name + "-" + std::to_string(n++), *text);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ScenarioError err;
  auto s = parse_scenario(text, "fuzz.yaml", err);
  if (!s || size > 8192 || s->steps.size() > 24) return 0;
  ScenarioRun run = run_scenario(*s);
  std::ostringstream out;
  render_run_text(out, *s, run, true);
  return 0;
}
