// libFuzzer target over scenario YAML (docs/fuzz.md): parse_scenario(), then
// run_scenario() on what parses, then the text rendering and the expectation
// checks it carries. Seeds: every built-in scenario's YAML in every era it
// has (what `khospec simulate --list` lists), as written and with 128 MiB of
// RAM, written by LLVMFuzzerInitialize.
//
// Cap: every input is parsed; a scenario is run only with at most 256 MiB of
// RAM and 24 steps, from at most 8 KiB of text. A run's cost grows with the
// RAM (each boot and kexec walks the machine's memory: memblock, the buddy
// model, the content checks: a built-in chain costs ~4 s under ASan with
// 2 GiB, ~40 ms with 128 MiB) and with the steps (the built-in scenarios
// have <= 14).
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
      if (auto text = builtin_scenario_text(name, era)) {
        fuzz::write_seed("scenario-" + name + "-" + std::to_string(n++), *text);
        if (auto at = text->find("ram: 2G"); at != std::string::npos)
          fuzz::write_seed("scenario-" + name + "-128M-" + std::to_string(n++), text->replace(at, 7, "ram: 128M"));
      }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ScenarioError err;
  auto s = parse_scenario(text, "fuzz.yaml", err);
  if (!s || size > 8192 || s->steps.size() > 24) return 0;
  std::uint64_t ram = 0;
  for (const RamRange& r : s->machine.ram) ram += r.size;
  if (ram > (256u << 20)) return 0;
  ScenarioRun run = run_scenario(*s);
  std::ostringstream out;
  render_run_text(out, *s, run, true);
  return 0;
}
