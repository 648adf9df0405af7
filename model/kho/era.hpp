// The KHO model reads its eras from the registry (registry/era.hpp); these
// are the model's names for it (model::Era is memblock's own versioning).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "registry/era.hpp"

namespace khospec::model {

using KhoEra = registry::EraId;
using EraTraits = registry::Era;
using registry::FinalizeModel;

inline const EraTraits& era_traits(KhoEra era) { return registry::era(era); }
using registry::era_name;
// An era name or a release ("v6.16", "kho-v4", "6.17", "7.3.4").
inline std::optional<KhoEra> parse_era(std::string_view name) {
  auto r = registry::resolve(name);
  if (!r) return std::nullopt;
  return r->era->id;
}
// `uname -r` for a kernel booted as `r` (kexec-metadata records it): the
// release when one was named ("7.1" -> "7.1.0"), else one of the era's own.
inline std::string uname_release(const registry::Resolved& r) {
  if (r.release) {
    std::string v(r.release->version);
    return v.find('-') == std::string::npos ? v + ".0" : v;
  }
  return r.era->stateless() ? "7.3.4" : std::string(r.era->name.substr(1)) + ".0";
}

}  // namespace khospec::model
