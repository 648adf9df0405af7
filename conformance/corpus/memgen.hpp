// Memory images for corpus sources (the `memory:` key of a *.kho.yaml):
// a page-granular physical memory built from readable generators, written as
// an ELF64 core (one PT_LOAD per run of pages, p_paddr = physical address, the
// shape of QEMU dump-guest-memory) or a raw image.
//
//   memory:
//     format: elf | raw          # default elf; raw needs `# ARGS: --memory-base BASE`
//     chunks: {head: 0x15f000, pool: 0x300000, bitmap: 512 | page,
//              blocks: [[phys, order], ...]}      # kho-v1, as kho_mem_serialize() lays it out
//     radix: {root: 0x1f4000, pool: 0x200000, blocks: [[phys, order], ...]}   # kho-v2+
//     place: [{at: ADDR, fdt: self} | {at: ADDR, tree: {...corpus tree...}} | {at: ADDR, bytes: "hex"}]
//     write: [{at: ADDR, u64: [...]} | {at: ADDR, u32: [...]} | {at: ADDR, bytes: "hex"}]  # applied last
//     elf: {phoff: N, phentsize: N, phnum: N, class: N, truncate: N, segment-filesz: [i, N], paddr-unknown: i}
//     empty: true                # a zero-byte image
// Generators never hand-edit bytes: breakage comes from `write:` and `elf:` on
// top of a well-formed image.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace khospec::conformance {

// Builds the image described by `spec` (the `memory:` node). `root_blob` is the
// compiled root FDT (for `fdt: self`). Throws the corpus compiler's located
// error on bad input (see corpus_source.cpp).
std::vector<std::uint8_t> build_memory(const YAML::Node& spec, std::span<const std::uint8_t> root_blob);

}  // namespace khospec::conformance
