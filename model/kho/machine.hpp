// A machine running a chain of kernels that hand memory over with KHO:
// RAM ranges with NUMA node ids, one sparse physical memory image shared by
// every kernel of the chain, and kexec from one kernel to the next.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/kho/handover.hpp"
#include "model/kho/kernel.hpp"
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

// QEMU-like x86 layout: [0, 640K) + [1M, min(size, 2G)) + the rest above 4 GiB.
MachineConfig machine_with_ram(std::uint64_t bytes, int nodes = 1);

class Machine {
 public:
  explicit Machine(MachineConfig cfg);
  ~Machine();

  const MachineConfig& config() const { return cfg_; }
  PhysImage& image() { return image_; }
  const PhysImage& image() const { return image_; }
  int node_count() const;

  // Power on and boot kernel 1.
  Kernel& boot_cold(KernelConfig cfg);
  // kexec -e from the current kernel into a kernel built from `cfg`; the new
  // kernel sees only what is in the image. nullptr when nothing is loaded.
  Kernel* kexec(KernelConfig cfg);

  Kernel* current() { return kernels_.empty() ? nullptr : kernels_.back().get(); }
  const std::vector<std::unique_ptr<Kernel>>& kernels() const { return kernels_; }
  std::vector<Finding> all_findings() const;

  // Digests of preserved blocks taken at kexec time, checked by the next
  // kernel (INV_KHO_PRESERVED_CONTENT_INTACT).
  const std::map<PreservedBlock, std::uint64_t>& handed_over() const { return handed_over_; }
  std::uint64_t digest(phys_addr_t phys, std::uint64_t len) const;

 private:
  MachineConfig cfg_;
  PhysImage image_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  std::map<PreservedBlock, std::uint64_t> handed_over_;
};

}  // namespace khospec::model
