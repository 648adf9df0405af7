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
// `uname -r` of release `r`: "7.1" -> "7.1.0", "7.4-rc1" as is; 7.3 is
// "7.3.4", the kernel the shared captures ran.
inline std::string uname_of(const registry::Release& r) {
  std::string v(r.version);
  if (v.find('-') != std::string::npos) return v;
  return v == "7.3" ? "7.3.4" : v + ".0";
}
// `uname -r` for a kernel booted as `r` (kexec-metadata records it): the
// release when one was named, else the era's model release
// (registry::default_release()).
inline std::string uname_release(const registry::Resolved& r) {
  return uname_of(r.release ? *r.release : registry::default_release(r.era->id));
}
// The release a kernel of `era` runs, from its `uname -r` (KernelConfig::
// release): the release it names when that release writes `era`; otherwise
// (empty, "model", another era's release) the era's model release.
// Decisions that differ inside an era (client formats, debugfs names,
// command-line parameters) read this, never the era.
inline const registry::Release& kernel_release(KhoEra era, std::string_view uname) {
  if (auto r = registry::resolve(uname); r && r->release && r->release->era == era) return *r->release;
  return registry::default_release(era);
}

}  // namespace khospec::model
