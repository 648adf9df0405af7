// The invariant registry of spec/kho.md: every INV_* ID with its item number,
// its text, where the model checks it at run time and which property test
// exercises it. docs/spec-trace.md is generated from this table plus the
// obligation list (trace_markdown()). z3-free.
#pragma once

#include <string>
#include <vector>

#include "spec/prove.hpp"

namespace khospec::spec {

struct InvariantInfo {
  const char* id;             // INV_<AREA>_<NAME>
  int item;                   // its item number in spec/kho.md (0: a derived hand-over invariant)
  const char* eras;           // where it applies
  const char* text;           // the normative statement (spec/kho.md)
  const char* runtime_check;  // model source and function that emits the ID
  const char* property_test;  // test that exercises it (source file: test name)
};

const std::vector<InvariantInfo>& invariants();

// Markdown for docs/spec-trace.md: ID -> obligations, runtime check, test.
std::string trace_markdown(const ProveOptions& opts);

}  // namespace khospec::spec
