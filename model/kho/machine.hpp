// A machine running a chain of kernels that hand memory over with KHO:
// RAM ranges with NUMA node ids, one sparse physical memory image shared by
// every kernel of the chain, and kexec from one kernel to the next. Each
// kernel sees only a Board (board.hpp); the Machine is the one place that
// sees both sides of a hand-over, so the checks comparing them live here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/kho/board.hpp"
#include "model/kho/handover.hpp"
#include "model/kho/kernel.hpp"
#include "model/kho/luo.hpp"
#include "model/kho/phys_image.hpp"

namespace khospec::model {

// QEMU-like x86 layout: [0, 640K) + [1M, min(size, 2G)) + the rest above 4 GiB.
// `bytes` must be one machine_ram_problem() accepts.
MachineConfig machine_with_ram(std::uint64_t bytes, int nodes = 1);

// Why a machine cannot have `bytes` of RAM ("" when it can): below 64 MiB the
// low ranges underflow and a boot has no room; from 2^52 bytes on the RAM above
// 4 GiB passes the physical address width (MAX_PHYSMEM_BITS).
std::string machine_ram_problem(std::uint64_t bytes);

class Machine {
 public:
  explicit Machine(MachineConfig cfg);
  ~Machine();

  const MachineConfig& config() const { return cfg_; }
  // What a kernel booted on this machine sees of it.
  Board board() { return Board(cfg_, image_); }
  PhysImage& image() { return image_; }
  const PhysImage& image() const { return image_; }
  int node_count() const;

  // Power on and boot kernel 1.
  Kernel& boot_cold(KernelConfig cfg);
  // Boot a kernel kexec'd by one this machine did not run: the machine's image
  // already holds that kernel's memory (PhysImage::set_source()), and `kho` says
  // where its root FDT and scratch array are. The hand-off record and the new
  // kernel's image are placed in the first scratch area large enough, as kexec
  // places its segments. nullptr when no scratch area can hold them.
  Kernel* boot_from_handover(KernelConfig cfg, const std::vector<ScratchArea>& scratch, phys_addr_t fdt_phys,
                             std::uint64_t fdt_size);
  // kexec -e from the current kernel into a kernel built from `cfg`; the new
  // kernel sees only what is in the image. nullptr when nothing is loaded.
  // check_handover() runs for the current pair first (what its kernel
  // retrieved since) and for the new pair once the new kernel has booted.
  Kernel* kexec(KernelConfig cfg);
  // The hand-over invariants of the last kexec, comparing what kernel N-1
  // preserved with what kernel N sees: INV_SCRATCH_STABLE,
  // INV_WINDOW_NO_ALLOC_OVER_PRESERVED, INV_KHO_HANDOVER_COMPLETE,
  // INV_KHO_PRESERVED_CONTENT_INTACT (a restored block as it was when
  // restored), and INV_MEMFD_RESTORED_CONTENT for every memfd kernel N has
  // retrieved from LUO so far (call it again after retrieving). Violations
  // are recorded as kernel N's findings (and returned). Nothing to check
  // before the first kexec.
  std::vector<Finding> check_handover();

  Kernel* current() { return kernels_.empty() ? nullptr : kernels_.back().get(); }
  const std::vector<std::unique_ptr<Kernel>>& kernels() const { return kernels_; }
  std::vector<Finding> all_findings() const;

  // Digests of preserved blocks taken at kexec time (what kernel N-1 handed
  // over), checked by check_handover().
  const std::map<PreservedBlock, std::uint64_t>& handed_over() const { return handed_over_; }
  // The memfds kernel N-1's LUO serialized at its reboot (what they held then).
  const std::vector<LuoHandedMemfd>& luo_handed_over() const { return luo_handed_; }
  std::uint64_t digest(phys_addr_t phys, std::uint64_t len) const;

  // With keep_memory_at_kexec(true), kexec() saves the image as an ELF core
  // right after the outgoing kernel's kernel_kexec() (reboot hooks run, LUO
  // serialized, segments in place): the memory a capture of that kernel
  // holds, before the next kernel reuses any page. Off by default (a copy
  // per kexec); simulate --out turns it on.
  void keep_memory_at_kexec(bool on) { keep_memory_at_kexec_ = on; }
  // Kernel `index`'s memory at its kexec, or nullptr (not kexeced, or not kept).
  const std::vector<std::uint8_t>* memory_at_kexec(int index) const;

 private:
  MachineConfig cfg_;
  PhysImage image_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  std::map<PreservedBlock, std::uint64_t> handed_over_;
  std::vector<LuoHandedMemfd> luo_handed_;
  bool keep_memory_at_kexec_ = false;
  std::map<int, std::vector<std::uint8_t>> memory_at_kexec_;  // kernel index -> ELF core
};

}  // namespace khospec::model
