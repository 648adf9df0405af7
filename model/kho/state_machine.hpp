// The outgoing-KHO state machines of docs/kernel-behaviour.md §5 as explicit transition
// tables, one per finalize model. Kernel code looks up (state, event) here
// and runs the named effect; the spec (spec/) checks the same tables.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "model/kho/era.hpp"

namespace khospec::model {

enum class OutState {
  disabled,   // kho_enable == false
  idle,       // 6.16/6.18 "not finalized"; 6.19 NOT_FINALIZED; stateless: the only state
  finalized,  // 6.16-6.19
};

enum class OutEvent {
  debugfs_write_1,  // echo 1 > /sys/kernel/debug/kho/out/finalize
  debugfs_write_0,  // echo 0 > .../finalize
  finalize_call,    // 6.19 in-kernel kho_finalize() (LUO's liveupdate_reboot)
  preserve,         // kho_preserve_* (and kho_add_subtree outside a notifier)
  unpreserve,       // kho_unpreserve_* (6.19+)
  kexec_load,       // kexec_file_load -> kho_fill_kimage
};

enum class Effect {
  none,           // return `ret`, stay
  finalize,       // 6.16/6.18 kho_finalize(): build FDT, notifiers, serialize; failure aborts
  abort,          // kho_abort(): wipe tracker, free map, ABORT notifiers
  refresh,        // 6.19 kho_finalize(): (re)serialize, patch preserved-memory-map
  mutate,         // the preserve/unpreserve call itself runs
  load_with_kho,  // attach FDT + scratch array segment
  load_plain,     // load the image without KHO data (segments still confined to scratch)
};

struct Transition {
  OutState from;
  OutEvent event;
  Effect effect;
  int ret;                 // result when the effect succeeds (0 or a fixed -errno)
  OutState on_success;
  OutState on_failure;     // when the effect fails; the effect's error is returned
  std::string_view source; // kernel function that implements the row
};

// One table per era family: 6.16, 6.18 (kexec load needs finalized), 6.19
// (refresh), stateless.
const std::vector<Transition>& transition_table(const EraTraits& era);
// The row for (state, event), or nullopt when the event is impossible there
// (e.g. no debugfs finalize file in the stateless era: the caller reports -ENOENT).
std::optional<Transition> find_transition(const EraTraits& era, OutState s, OutEvent e);

std::string_view out_state_name(OutState s);
std::string_view out_event_name(OutEvent e);
std::string_view effect_name(Effect e);

}  // namespace khospec::model
