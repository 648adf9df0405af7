// The readers of the followed hand-over, one per format family (internal to
// conformance/handover/). Each mirrors the next kernel's reader named in its
// file; all share walk.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "conformance/handover/walk.hpp"
#include "fdt/tree.hpp"
#include "registry/clients.hpp"

namespace khospec::conformance::follow {

// Values of a sub-FDT's properties as the kernel's fdt_getprop() users read them:
// nullopt unless the value has exactly that size.
std::optional<std::uint64_t> prop_u64(const fdt::FlatTree& t, const fdt::FlatNode& n, std::string_view name,
                                      fdt::Endian e);
std::optional<std::uint32_t> prop_u32(const fdt::FlatTree& t, const fdt::FlatNode& n, std::string_view name,
                                      fdt::Endian e);
// The first string of a string-list property ("" when none).
std::string prop_first_string(const fdt::FlatTree& t, const fdt::FlatNode& n, std::string_view name);

// read_memblock.cpp: memblock-v1 (mm/memblock.c reserve_mem_kho_revive(), 6.16+).
void read_memblock(Walk& w, HandoverNode& client, const fdt::FlatTree& sub);
// read_kexec_metadata.cpp: struct kho_kexec_metadata version 1 (kho_in_kexec_metadata(), 7.1+).
void read_kexec_metadata(Walk& w, HandoverNode& client, std::span<const std::uint8_t> blob,
                         std::optional<std::uint64_t> blob_size);
// read_test_kho.cpp: kho-test-v1 (lib/test_kho.c kho_test_restore(), 6.17+).
void read_test_kho(Walk& w, HandoverNode& client, const fdt::FlatTree& sub);
// read_luo.cpp: luo-v1 FDT (6.19 - 7.1) and the luo-v5 struct luo_ser (7.2+).
void read_luo_fdt(Walk& w, HandoverNode& client, const fdt::FlatTree& sub);
void read_luo_ser(Walk& w, HandoverNode& client, std::span<const std::uint8_t> blob,
                  std::optional<std::uint64_t> blob_size);
// read_memfd.cpp: the memfd file handler's state (mm/memfd_luo.c memfd_luo_retrieve()).
void read_memfd(Walk& w, HandoverNode& file, const registry::ClientFormat& f, std::uint64_t data);

// read_vmalloc.cpp: struct kho_vmalloc (kho_restore_vmalloc(), 6.18+).
struct Vmalloc {
  std::uint64_t first = 0, total_pages = 0, flags = 0, order = 0;
};
Vmalloc vmalloc_desc(std::span<const std::uint8_t> bytes16, fdt::Endian e);
// Follows the chunk list under `parent` (a "vmalloc" node is added), checks it as
// kho_restore_vmalloc() does and every page by the cardinal rule, and returns the
// first `need` bytes of the preserved area (nullopt when the kernel's restore fails
// or the bytes are not in the image). `user` names the caller's restore for messages.
std::optional<std::vector<std::uint8_t>> read_vmalloc(Walk& w, HandoverNode& parent, const Vmalloc& v,
                                                      const std::string& path, std::uint64_t need,
                                                      std::string_view user);

// read_kho_block.cpp: a kho_block chain (kernel/liveupdate/kho_block.c
// kho_block_set_restore(), 7.2+). Each entry with its physical address.
struct BlockEntry {
  std::uint64_t phys = 0;
  std::vector<std::uint8_t> bytes;
};
// nullopt when kho_block_set_restore() refuses the chain (the findings say why).
std::optional<std::vector<BlockEntry>> read_block_chain(Walk& w, HandoverNode& parent, std::uint64_t head,
                                                        std::uint64_t entry_size, const std::string& path,
                                                        std::string_view what);

}  // namespace khospec::conformance::follow
