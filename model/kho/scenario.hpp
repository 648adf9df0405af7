// Scenarios: a machine, kernel configurations and a sequence of operations
// (preserve, finalize, abort, kexec_load, kexec, ...) run on the KHO model,
// written as YAML (docs/model-kho.md "Scenario files").
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "model/kho/machine.hpp"

namespace khospec { class JsonWriter; }

namespace khospec::model {

struct ScenarioStep {
  std::string op;                 // boot, kexec, preserve_pages, finalize, ...
  int line = 0;                   // 1-based line in the scenario file
  std::map<std::string, std::string> args;
};

struct Scenario {
  std::string name;
  std::string description;
  MachineConfig machine;
  KernelConfig kernel;            // defaults for every boot/kexec step
  std::vector<ScenarioStep> steps;
};

struct ScenarioError {
  std::string message;            // "NAME:LINE: message"
};

// Parses and validates a scenario; nullopt with `err` naming the line and
// field on any problem (unknown key, bad number, unknown era, bad op order, a
// file over 1 MiB).
std::optional<Scenario> parse_scenario(std::string_view yaml, std::string_view name, ScenarioError& err);

// Built-in scenarios: "chain" (the default three-kernel hand-over) and the
// named hazards of docs/kernel-behaviour.md (abort-dangling-map, stale-map-6.19,
// unfinalized-6.16, reserve-mem-in-scratch, abort-loses-preservations,
// order-above-max, scratch-underflow).
std::vector<std::string> builtin_scenarios();
std::optional<std::string> builtin_scenario_text(const std::string& name, KhoEra era);

struct StepResult {
  int kernel = 0;                 // 1-based kernel the step ran on
  std::string op;
  std::string result;             // "0", "-16 (EBUSY)", "0x1234", ...
  bool expectation_failed = false;
  std::string note;
};

struct ScenarioRun {
  std::unique_ptr<Machine> machine;
  std::vector<StepResult> steps;
  bool expectations_ok = true;
  std::string error;              // a step that could not run (e.g. kexec without an image)
};

// keep_memory: save each kernel's memory at its kexec (Machine::keep_memory_at_kexec()),
// which write_run_files() needs.
ScenarioRun run_scenario(const Scenario& s, bool keep_memory = false);

std::string errno_name(int err);
// Readable timeline: per kernel its memblock tables, scratch, preserved set,
// state changes, dmesg lines and findings.
void render_run_text(std::ostream& out, const Scenario& s, const ScenarioRun& run, bool verbose);
// The same as one JSON object (scenario_json.cpp); `verbose` adds every block
// and the memblock tables, as -v does to the text.
void write_run_json(JsonWriter& w, const Scenario& s, const ScenarioRun& run, bool verbose);
// Writes, per kernel N of the run, what a capture of that kernel holds (the
// layout of the captured hand-overs): kN/out_fdt.dtb, kN/out_sub_fdt_NAME.dtb or
// kN/out_sub_blob_NAME.bin, kN/out_scratch_{phys,len}.txt (out_bootmem_* where
// the release names them so) and kN/memory.elf, the memory at its kexec (the
// last kernel: at the end of the run). The run must come from
// run_scenario(s, true). Returns false with `error` set on failure.
bool write_run_files(const ScenarioRun& run, const std::string& dir, std::string& error);

}  // namespace khospec::model
