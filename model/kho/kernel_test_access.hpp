// Test-only access to a Kernel's private state (Kernel befriends this
// struct). Tests plant invariant violations through it to show that each
// runtime check fires; model code never includes this header.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "model/kho/kernel.hpp"

namespace khospec::model {

struct KernelTestAccess {
  static std::vector<ScratchArea>& scratch(Kernel& k) { return k.scratch_; }
  static BootPhase& phase(Kernel& k) { return k.phase_; }
  static std::optional<LoadedImage>& loaded(Kernel& k) { return k.loaded_; }
  static std::map<std::uint64_t, std::uint64_t>& page_private(Kernel& k) { return k.page_private_; }
  static std::vector<std::pair<phys_addr_t, std::uint64_t>>& window_allocs(Kernel& k) { return k.window_allocs_; }
  static std::vector<PreservedBlock>& incoming(Kernel& k) { return k.incoming_; }
  static std::unique_ptr<MemTrack>& tracker(Kernel& k) { return k.track_; }
};

}  // namespace khospec::model
