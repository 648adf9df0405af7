// What a kernel sees of the machine it boots on: the firmware's description
// of the hardware (RAM ranges with NUMA node ids, the architecture, where the
// firmware loads the first kernel) and the physical memory itself.
//
// A Kernel holds a Board, never the Machine. The hand-over rule is that the
// next kernel learns everything about its predecessor from bytes in memory
// (the hand-off record, the KHO FDT, the preserved-memory map, the client
// blobs), so no C++ path may lead from one kernel to another: code inside
// Kernel or a KhoClient has no way to reach Machine::kernels(). Checks that
// compare two kernels of a chain belong to Machine::check_handover().
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "model/kho/handover.hpp"  // Arch
#include "model/kho/phys_image.hpp"

namespace khospec::model {

struct RamRange {
  phys_addr_t base = 0;
  std::uint64_t size = 0;
  int nid = 0;
};

struct MachineConfig {
  std::vector<RamRange> ram;
  Arch arch = Arch::x86_64;
  phys_addr_t firmware_kernel_load = 16u << 20;  // where firmware puts kernel 1
};

// NUMA nodes with RAM.
inline int node_count(const MachineConfig& c) {
  std::set<int> n;
  for (const auto& r : c.ram) n.insert(r.nid);
  return static_cast<int>(n.size());
}

class Board {
 public:
  Board(const MachineConfig& config, PhysImage& image) : config_(&config), image_(&image) {}

  const MachineConfig& config() const { return *config_; }
  PhysImage& image() const { return *image_; }
  int node_count() const { return model::node_count(*config_); }

 private:
  const MachineConfig* config_;
  PhysImage* image_;
};

}  // namespace khospec::model
