#include "model/kho/state_machine.hpp"

namespace khospec::model {

namespace {
constexpr int kEBUSY = -16, kEEXIST = -17, kENOENT = -2, kEINVAL = -22;
using S = OutState;
using E = OutEvent;
using F = Effect;

// kernel/kexec_handover.c (6.16, 6.18): kho_out_finalize_set(), kho_finalize(),
// kho_abort(), kho_preserve_folio() (-EBUSY), kho_fill_kimage().
const std::vector<Transition> kNotifierAbort = {
    {S::idle, E::debugfs_write_1, F::finalize, 0, S::finalized, S::idle, "kho_out_finalize_set -> kho_finalize"},
    {S::idle, E::debugfs_write_0, F::none, kENOENT, S::idle, S::idle, "kho_out_finalize_set: not finalized"},
    {S::finalized, E::debugfs_write_1, F::none, kEEXIST, S::finalized, S::finalized, "kho_out_finalize_set: already finalized"},
    // A failing ABORT notifier leaves finalized set although the tracker and
    // the serialized map are already gone (docs/kernel-behaviour.md §5).
    {S::finalized, E::debugfs_write_0, F::abort, 0, S::idle, S::finalized, "kho_out_finalize_set -> kho_abort"},
    {S::idle, E::preserve, F::mutate, 0, S::idle, S::idle, "kho_preserve_*"},
    {S::finalized, E::preserve, F::none, kEBUSY, S::finalized, S::finalized, "kho_preserve_*: finalized"},
    {S::disabled, E::preserve, F::mutate, 0, S::disabled, S::disabled, "kho_preserve_* (no kho_enable check, obs)"},
    // 6.16 attaches the (never written) FDT page whenever KHO is enabled.
    {S::idle, E::kexec_load, F::load_with_kho, 0, S::idle, S::idle, "kho_fill_kimage (6.16: no finalized check)"},
    {S::finalized, E::kexec_load, F::load_with_kho, 0, S::finalized, S::finalized, "kho_fill_kimage"},
    {S::disabled, E::kexec_load, F::load_plain, 0, S::disabled, S::disabled, "kho_fill_kimage: !kho_enable"},
};

// 6.18: kho_fill_kimage() returns early unless finalized.
const std::vector<Transition> kNotifierAbort618 = [] {
  auto t = kNotifierAbort;
  for (auto& row : t) {
    if (row.from == S::idle && row.event == E::kexec_load) {
      row.effect = F::load_plain;
      row.source = "kho_fill_kimage: !kho_out.finalized";
    }
  }
  return t;
}();

// kernel/liveupdate/kexec_handover.c (6.19) and kexec_handover_debugfs.c.
const std::vector<Transition> kRefresh = {
    {S::idle, E::debugfs_write_1, F::refresh, 0, S::finalized, S::idle, "kho_out_finalize_set -> kho_finalize"},
    {S::finalized, E::debugfs_write_1, F::refresh, 0, S::finalized, S::finalized, "kho_finalize (re-serialize)"},
    {S::idle, E::debugfs_write_0, F::none, kEINVAL, S::idle, S::idle, "kho_out_finalize_set: 0 is invalid"},
    {S::finalized, E::debugfs_write_0, F::none, kEINVAL, S::finalized, S::finalized, "kho_out_finalize_set: 0 is invalid"},
    {S::idle, E::finalize_call, F::refresh, 0, S::finalized, S::idle, "kho_finalize"},
    {S::finalized, E::finalize_call, F::refresh, 0, S::finalized, S::finalized, "kho_finalize"},
    {S::idle, E::preserve, F::mutate, 0, S::idle, S::idle, "kho_preserve_*"},
    {S::finalized, E::preserve, F::mutate, 0, S::finalized, S::finalized, "kho_preserve_* (map may go stale)"},
    {S::idle, E::unpreserve, F::mutate, 0, S::idle, S::idle, "kho_unpreserve_*"},
    {S::finalized, E::unpreserve, F::mutate, 0, S::finalized, S::finalized, "kho_unpreserve_* (map may go stale)"},
    {S::idle, E::kexec_load, F::load_with_kho, 0, S::idle, S::idle, "kho_fill_kimage"},
    {S::finalized, E::kexec_load, F::load_with_kho, 0, S::finalized, S::finalized, "kho_fill_kimage"},
    {S::disabled, E::kexec_load, F::load_plain, 0, S::disabled, S::disabled, "kho_fill_kimage: !kho_enable"},
};

// Stateless (kho-v2+): "kho: remove finalize state and clients".
const std::vector<Transition> kNone = {
    {S::idle, E::preserve, F::mutate, 0, S::idle, S::idle, "kho_preserve_* (radix, live)"},
    {S::idle, E::unpreserve, F::mutate, 0, S::idle, S::idle, "kho_unpreserve_*"},
    {S::idle, E::kexec_load, F::load_with_kho, 0, S::idle, S::idle, "kho_fill_kimage"},
    {S::disabled, E::kexec_load, F::load_plain, 0, S::disabled, S::disabled, "kho_fill_kimage: !kho_enable"},
};

}  // namespace

const std::vector<Transition>& transition_table(const EraTraits& era) {
  switch (era.finalize) {
    case FinalizeModel::notifier_abort:
      return era.fill_kimage_needs_finalized ? kNotifierAbort618 : kNotifierAbort;
    case FinalizeModel::refresh: return kRefresh;
    case FinalizeModel::none: return kNone;
  }
  return kNone;
}

std::optional<Transition> find_transition(const EraTraits& era, OutState s, OutEvent e) {
  for (const auto& t : transition_table(era)) {
    if (t.from == s && t.event == e) return t;
  }
  return std::nullopt;
}

std::string_view out_state_name(OutState s) {
  switch (s) {
    case OutState::disabled: return "DISABLED";
    case OutState::idle: return "IDLE";
    case OutState::finalized: return "FINALIZED";
  }
  return "?";
}

std::string_view out_event_name(OutEvent e) {
  switch (e) {
    case OutEvent::debugfs_write_1: return "debugfs finalize=1";
    case OutEvent::debugfs_write_0: return "debugfs finalize=0";
    case OutEvent::finalize_call: return "kho_finalize()";
    case OutEvent::preserve: return "preserve";
    case OutEvent::unpreserve: return "unpreserve";
    case OutEvent::kexec_load: return "kexec_file_load";
  }
  return "?";
}

std::string_view effect_name(Effect e) {
  switch (e) {
    case Effect::none: return "none";
    case Effect::finalize: return "finalize";
    case Effect::abort: return "abort";
    case Effect::refresh: return "refresh";
    case Effect::mutate: return "mutate";
    case Effect::load_with_kho: return "load_with_kho";
    case Effect::load_plain: return "load_plain";
  }
  return "?";
}

}  // namespace khospec::model
