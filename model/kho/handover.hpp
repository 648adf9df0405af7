// The boot hand-off of the KHO FDT and scratch array (x86 setup_data,
// arm64 /chosen; docs/kernel-behaviour.md §8) and the
// root KHO FDT as each era builds it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fdt/builder.hpp"
#include "model/kho/era.hpp"
#include "model/kho/phys_image.hpp"

namespace khospec::model {

enum class Arch { x86_64, arm64 };

// What kho_populate() receives.
struct KhoBootData {
  phys_addr_t fdt_addr = 0;
  std::uint64_t fdt_size = 0;  // PAGE_SIZE since 6.16
  phys_addr_t scratch_addr = 0;
  std::uint64_t scratch_size = 0;
  bool operator==(const KhoBootData&) const = default;
};

inline constexpr std::uint32_t SETUP_KEXEC_KHO = 10;

// x86: struct setup_data { u64 next; u32 type; u32 len; } + struct kho_data
// (arch/x86/include/uapi/asm/setup_data.h), 48 bytes, little-endian.
std::vector<std::uint8_t> encode_setup_data(const KhoBootData& d, phys_addr_t next = 0);
std::optional<KhoBootData> decode_setup_data(std::span<const std::uint8_t> bytes);

// arm64 / devicetree: /chosen { linux,kho-fdt = <addr size>; linux,kho-scratch
// = <addr size>; } with #address-cells = #size-cells = 2, big-endian cells
// (drivers/of/kexec.c kho_add_chosen(); drivers/of/fdt.c early_init_dt_check_kho()).
std::vector<std::uint8_t> encode_chosen(const KhoBootData& d);
std::optional<KhoBootData> decode_chosen(std::span<const std::uint8_t> dtb);

// struct kho_scratch { phys_addr_t addr, size; } array, 16 bytes per entry.
struct ScratchArea {
  phys_addr_t addr = 0;
  std::uint64_t size = 0;
  bool operator==(const ScratchArea&) const = default;
};
std::vector<std::uint8_t> encode_scratch_array(const std::vector<ScratchArea>& s);
std::vector<ScratchArea> decode_scratch_array(std::span<const std::uint8_t> bytes);

// The outgoing root FDT of one kernel, in its own page.
//  - 6.16/6.18 (root_fdt_at_boot == false): built sequentially at finalize
//    (kho_finalize(): compatible, the preserved-memory-map placeholder, then
//    one subnode per kho_add_subtree() from the notifiers).
//  - 6.19+: created at kho_init() and edited in place with libfdt's
//    read-write API (fdt_open_into / fdt_add_subnode / fdt_setprop /
//    fdt_pack), so new subnodes and properties land first.
class RootFdt {
 public:
  RootFdt(const EraTraits& era, PhysImage& image, phys_addr_t page);

  // 6.16/6.18 finalize: start the sequential build (compatible + placeholder).
  int begin_sequential();
  // 6.19+ kho_init(): create the root with preserved-memory-map = `map`.
  int create(phys_addr_t map);
  // kho_add_subtree(): 0, -EEXIST (6.19+ duplicate), -ENOMEM (no room in the
  // page), or a raw libfdt error in the sequential eras.
  int add_subtree(std::string_view name, phys_addr_t blob, std::uint64_t size);
  // kho_remove_subtree() (6.19+): delete the child pointing at `blob`.
  int remove_subtree(phys_addr_t blob);
  // 6.16/6.18: fill the placeholder and fdt_finish(); 6.19+: patch the
  // property in place (kho_update_memory_map()).
  int set_memory_map(phys_addr_t map);
  int finish_sequential(phys_addr_t map);

  phys_addr_t page() const { return page_; }
  std::vector<std::uint8_t> blob() const;  // fdt_totalsize() bytes, as debugfs shows it
  bool built() const { return built_; }

 private:
  void flush();
  const EraTraits& era_;
  PhysImage& image_;
  phys_addr_t page_;
  std::vector<std::uint64_t> buf_;  // one page, 8-byte aligned for libfdt
  std::optional<fdt::Builder> seq_;
  bool built_ = false;
};

}  // namespace khospec::model
