#include "model/kho/machine.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "core/parse.hpp"
#include "model/kho/clients.hpp"

namespace khospec::model {

std::string machine_ram_problem(std::uint64_t bytes) {
  if (bytes < (64u << 20)) return "at least 64M";
  if (bytes >= (std::uint64_t{1} << 52)) return "less than 4P (2^52 bytes, the physical address width)";
  return "";
}

MachineConfig machine_with_ram(std::uint64_t bytes, int nodes) {
  // QEMU pc (i440fx) e820: [4K, 639K) and [1M, lowmem - 128K) below 4 GiB,
  // where lowmem is all of RAM up to 3.5 GiB and 3 GiB beyond (gigabyte
  // alignment); the rest starts at 4 GiB. (The captures' iomem: a 2 GiB
  // guest has System RAM 00100000-7ffdffff.)
  MachineConfig c;
  std::vector<std::pair<phys_addr_t, std::uint64_t>> ranges;
  ranges.emplace_back(0x1000, 0x9fc00 - 0x1000);
  std::uint64_t lowmem = bytes < 0xe0000000ull ? bytes : 0xc0000000ull;
  ranges.emplace_back(1u << 20, lowmem - (1u << 20) - 0x20000);
  if (bytes > lowmem) ranges.emplace_back(4ull << 30, bytes - lowmem);
  if (nodes <= 1) {
    for (auto [b, s] : ranges) c.ram.push_back({b, s, 0});
    return c;
  }
  // Split the address space evenly by size across nodes.
  std::uint64_t per = bytes / static_cast<std::uint64_t>(nodes), acc = 0;
  for (auto [b, s] : ranges) {
    phys_addr_t cur = b;
    while (cur < b + s) {
      int nid = static_cast<int>(std::min<std::uint64_t>(acc / per, static_cast<std::uint64_t>(nodes - 1)));
      std::uint64_t room = (static_cast<std::uint64_t>(nid) + 1) * per - acc;
      if (nid == nodes - 1) room = b + s - cur;
      std::uint64_t take = std::min<std::uint64_t>(room, b + s - cur);
      c.ram.push_back({cur, take, nid});
      cur += take;
      acc += take;
    }
  }
  return c;
}

Machine::Machine(MachineConfig cfg) : cfg_(std::move(cfg)) {}
Machine::~Machine() = default;

int Machine::node_count() const { return model::node_count(cfg_); }

std::uint64_t Machine::digest(phys_addr_t phys, std::uint64_t len) const { return image_digest(image_, phys, len); }

Kernel& Machine::boot_cold(KernelConfig cfg) {
  kernels_.clear();
  handed_over_.clear();
  luo_handed_.clear();
  memory_at_kexec_.clear();
  BootInfo b;
  b.kernel_image = cfg_.firmware_kernel_load;
  kernels_.push_back(std::make_unique<Kernel>(board(), std::move(cfg), b, 0));
  Kernel& k = *kernels_.back();
  install_clients(k);
  k.boot();
  return k;
}

Kernel* Machine::boot_from_handover(KernelConfig cfg, const std::vector<ScratchArea>& scratch, phys_addr_t fdt_phys,
                                    std::uint64_t fdt_size) {
  kernels_.clear();
  handed_over_.clear();
  luo_handed_.clear();
  memory_at_kexec_.clear();
  // Segments as kexec_file_load() places them: the kernel 2 MiB aligned, then
  // the scratch array and the setup_data record, all inside one scratch area.
  const std::vector<std::uint8_t> array = encode_scratch_array(scratch);
  const std::uint64_t need = cfg.kernel_image_size + 2 * PAGE_SIZE_4K + (2u << 20);
  const ScratchArea* area = nullptr;
  for (const auto& a : scratch)
    if (a.size >= need && (!area || a.size > area->size)) area = &a;
  if (!area) return nullptr;
  const phys_addr_t kimg = (area->addr + (2u << 20) - 1) & ~phys_addr_t{(2u << 20) - 1};
  const phys_addr_t array_at = kimg + ((cfg.kernel_image_size + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1));
  const phys_addr_t record_at = array_at + ((array.size() + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1));
  image_.write(array_at, array);
  KhoBootData d;
  d.fdt_addr = fdt_phys;
  d.fdt_size = fdt_size;
  d.scratch_addr = array_at;
  d.scratch_size = array.size();
  const std::vector<std::uint8_t> record = encode_setup_data(d);
  image_.write(record_at, record);
  BootInfo b;
  b.kexec = true;
  b.kernel_image = kimg;
  b.handoff_record = record_at;
  b.handoff_len = record.size();
  kernels_.push_back(std::make_unique<Kernel>(board(), std::move(cfg), b, 0));
  Kernel& k = *kernels_.back();
  install_clients(k);
  k.boot();
  return &k;
}

Kernel* Machine::kexec(KernelConfig cfg) {
  Kernel* prev = current();
  if (!prev) return nullptr;
  check_handover();  // the current pair, with what its kernel retrieved since boot
  const bool attached = prev->loaded() && prev->loaded()->kho;
  // The reboot hooks (LUO's liveupdate_reboot()) write their state first;
  // what is handed over is the preserved set and content after them.
  auto info = prev->kernel_kexec();
  if (!info) return nullptr;
  if (keep_memory_at_kexec_) memory_at_kexec_[prev->index()] = image_.save_elf();
  std::map<PreservedBlock, std::uint64_t> handed;
  if (attached)
    for (const auto& b : prev->outgoing_at_kexec()) handed[b] = digest(b.phys, PAGE_SIZE_4K << b.order);
  handed_over_ = std::move(handed);
  luo_handed_.clear();
  if (attached && prev->luo()) luo_handed_ = prev->luo()->handed_over();
  int idx = static_cast<int>(kernels_.size());
  kernels_.push_back(std::make_unique<Kernel>(board(), std::move(cfg), *info, idx));
  Kernel& k = *kernels_.back();
  install_clients(k);
  k.boot();
  check_handover();
  return &k;
}

const std::vector<std::uint8_t>* Machine::memory_at_kexec(int index) const {
  const auto it = memory_at_kexec_.find(index);
  return it == memory_at_kexec_.end() ? nullptr : &it->second;
}

std::vector<Finding> Machine::check_handover() {
  if (kernels_.size() < 2) return {};
  const Kernel& prev = *kernels_[kernels_.size() - 2];
  Kernel& k = *kernels_.back();
  FindingBatch v;
  // Item 11: a KHO-booted kernel reuses its predecessor's scratch areas.
  if (!k.scratch().empty() && k.kho_boot() && prev.scratch() != k.scratch())
    v.add("INV_SCRATCH_STABLE", "error", "scratch areas differ from the previous kernel's");
  // Item 24: nothing allocated while scratch-only overlaps a block the
  // previous kernel preserved.
  for (const auto& [a, len] : k.window_allocs())
    for (const auto& [b, d] : handed_over_)
      if (a < b.phys + (PAGE_SIZE_4K << b.order) && b.phys < a + len)
        v.add("INV_WINDOW_NO_ALLOC_OVER_PRESERVED", "error",
              "early allocation " + hex(a) + "+" + hex(len) + " overlaps preserved " + hex(b.phys));
  // The hand-over contract: every block the previous kernel preserved is
  // known, reserved and unchanged in the new one.
  if (!handed_over_.empty()) {
    std::set<PreservedBlock> got(k.incoming_blocks().begin(), k.incoming_blocks().end());
    std::size_t missing = 0, changed = 0;
    for (const auto& [b, d] : handed_over_) {
      if (!got.count(b)) {
        ++missing;
        continue;
      }
      // A block the new kernel restored belongs to its new owner from then
      // on: compare what it held when restored.
      const auto r = k.restored_digests().find(b.phys / PAGE_SIZE_4K);
      if ((r != k.restored_digests().end() ? r->second : digest(b.phys, PAGE_SIZE_4K << b.order)) != d) ++changed;
    }
    if (missing)
      v.add("INV_KHO_HANDOVER_COMPLETE", "error",
            std::to_string(missing) + " of " + std::to_string(handed_over_.size()) +
                " preserved blocks did not reach the new kernel" +
                (k.kho_boot() ? "" : " (revival disabled: they are unprotected)"));
    if (changed)
      v.add("INV_KHO_PRESERVED_CONTENT_INTACT", "error",
            std::to_string(changed) + " preserved blocks changed content across kexec");
  }
  // LUO: every memfd kernel N retrieved is the one kernel N-1 serialized.
  if (const LuoClient* luo = k.luo()) {
    for (const auto& r : luo->retrieved()) {
      const auto it = std::find_if(luo_handed_.begin(), luo_handed_.end(), [&](const LuoHandedMemfd& h) {
        return h.session == r.session && h.token == r.token;
      });
      const std::string what = "memfd " + hex(r.token) + " of session '" + r.session + "'";
      if (it == luo_handed_.end()) {
        v.add("INV_MEMFD_RESTORED_CONTENT", "error", what + " was retrieved but the previous kernel did not serialize it");
        continue;
      }
      std::string diff;
      if (r.size != it->size) diff += " size " + hex(r.size) + " != " + hex(it->size);
      if (r.pos != it->pos) diff += " pos " + std::to_string(r.pos) + " != " + std::to_string(it->pos);
      if (it->seals_kept && r.seals != it->seals) diff += " seals " + hex(r.seals) + " != " + hex(it->seals);
      if (r.digest != it->digest) diff += " content differs";
      if (!diff.empty()) v.add("INV_MEMFD_RESTORED_CONTENT", "error", what + " came back changed:" + diff);
    }
  }
  return v.report(k);
}

std::vector<Finding> Machine::all_findings() const {
  std::vector<Finding> out;
  for (const auto& k : kernels_) {
    for (auto f : k->findings()) {
      f.detail = "kernel " + std::to_string(k->index() + 1) + ": " + f.detail;
      out.push_back(std::move(f));
    }
  }
  return out;
}

}  // namespace khospec::model
