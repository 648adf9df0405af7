#include "spec/sm.hpp"

namespace khospec::spec {

using model::Effect;
using model::OutEvent;
using model::OutState;

namespace {
constexpr int kENOENT = -2, kEBUSY = -16, kEEXIST = -17, kEINVAL = -22;
SpecRow stay(Effect e, int ret, OutState s) { return {e, ret, s, s}; }
}  // namespace

std::optional<SpecRow> spec_transition(const registry::Era& era, OutState s, OutEvent e) {
  const bool disabled = s == OutState::disabled;
  // Disabled KHO: kexec loads carry no KHO data (kho_fill_kimage: !kho_enable).
  if (e == OutEvent::kexec_load && disabled) return stay(Effect::load_plain, 0, s);
  switch (era.finalize) {
    case registry::FinalizeModel::notifier_abort:  // 6.16, 6.18 (spec/kho.md §4.1)
      switch (e) {
        case OutEvent::debugfs_write_1:
          if (s == OutState::idle) return SpecRow{Effect::finalize, 0, OutState::finalized, OutState::idle};
          if (s == OutState::finalized) return stay(Effect::none, kEEXIST, s);
          return std::nullopt;  // no debugfs directory
        case OutEvent::debugfs_write_0:
          if (s == OutState::idle) return stay(Effect::none, kENOENT, s);
          // A failing ABORT notifier leaves the state FINALIZED (dangling map).
          if (s == OutState::finalized) return SpecRow{Effect::abort, 0, OutState::idle, OutState::finalized};
          return std::nullopt;
        case OutEvent::preserve:
          if (s == OutState::finalized) return stay(Effect::none, kEBUSY, s);
          return stay(Effect::mutate, 0, s);  // 6.16: no kho_enable check (obs)
        case OutEvent::kexec_load:
          if (s == OutState::finalized) return stay(Effect::load_with_kho, 0, s);
          // 6.16 attaches the unfinished FDT page; 6.18 needs finalized.
          return stay(era.fill_kimage_needs_finalized ? Effect::load_plain : Effect::load_with_kho, 0, s);
        case OutEvent::finalize_call:
        case OutEvent::unpreserve:
          return std::nullopt;
      }
      return std::nullopt;
    case registry::FinalizeModel::refresh:  // 6.19 (§4.2)
      if (disabled) return std::nullopt;
      switch (e) {
        case OutEvent::debugfs_write_1:
        case OutEvent::finalize_call:
          return SpecRow{Effect::refresh, 0, OutState::finalized, s};
        case OutEvent::debugfs_write_0:
          return stay(Effect::none, kEINVAL, s);
        case OutEvent::preserve:
        case OutEvent::unpreserve:
          return stay(Effect::mutate, 0, s);
        case OutEvent::kexec_load:
          return stay(Effect::load_with_kho, 0, s);
      }
      return std::nullopt;
    case registry::FinalizeModel::none:  // stateless (§4.3): a single state
      if (s != OutState::idle) return std::nullopt;
      switch (e) {
        case OutEvent::preserve:
        case OutEvent::unpreserve:
          return stay(Effect::mutate, 0, s);
        case OutEvent::kexec_load:
          return stay(Effect::load_with_kho, 0, s);
        default:
          return std::nullopt;
      }
  }
  return std::nullopt;
}

}  // namespace khospec::spec
