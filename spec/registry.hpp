// The invariant registry of spec/kho.md: every INV_* ID with its item
// number, its text, where the model checks it at run time, the test that
// shows that check firing on a planted violation, and which property test
// exercises it. docs/spec-trace.md is generated from this table plus the
// obligation list (trace_markdown()). z3-free.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "spec/prove.hpp"

namespace khospec::spec {

struct InvariantInfo {
  const char* id;             // INV_<AREA>_<NAME>
  int item;                   // spec/kho.md item number, "(N)" after the ID (0: a derived hand-over invariant)
  const char* eras;           // where it applies
  const char* text;           // the normative statement (spec/kho.md)
  const char* runtime_check;  // model source(s) and function(s) that emit the ID
  const char* property_test;  // test that exercises it (source file: test name)
  // The test that plants a violation and sees the runtime check report this
  // ID ("source file: Suite.Name", a ctest case); spec_registry_test fails
  // when it is missing.
  const char* fires;
  // Set when no model state can violate the invariant (a pure function, or
  // a state the model cannot represent): why, and what the fires test plants
  // instead. nullptr otherwise.
  const char* no_violating_state;
};

const std::vector<InvariantInfo>& invariants();

// Invariants whose Z3 obligation is not written yet (ID -> why, and whose
// work it is). spec_registry_test accepts them without an obligation and
// fails once an obligation names the ID, so the entry goes with it.
const std::vector<std::pair<const char*, const char*>>& obligations_pending();
const char* obligation_pending(const std::string& id);  // nullptr when not pending

// Markdown for docs/spec-trace.md: ID -> obligations, runtime check, test.
std::string trace_markdown(const ProveOptions& opts);

}  // namespace khospec::spec
