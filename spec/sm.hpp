// spec/kho.md §4: the outgoing-KHO finalization state machine per era, as
// the spec states it (written from the spec text, independently of
// model/kho/state_machine.cpp; the agreement test compares the two tables
// row by row). z3-free.
#pragma once

#include <optional>

#include "model/kho/era.hpp"
#include "model/kho/state_machine.hpp"

namespace khospec::spec {

struct SpecRow {
  model::Effect effect;
  int ret;                   // when the effect succeeds (or the fixed error)
  model::OutState on_success;
  model::OutState on_failure;
};

// The row for (state, event) in `era`, or nullopt when the event does not
// exist there (no debugfs file, no unpreserve API, ...).
std::optional<SpecRow> spec_transition(const registry::Era& era, model::OutState s, model::OutEvent e);

}  // namespace khospec::spec
