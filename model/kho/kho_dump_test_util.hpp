// Reading the real captures (KHOSPEC_DUMPS_DIR) for tests: memory.elf into a
// PhysImage, the decoders' decoded.txt into block lists and node lists, and
// the per-object page files (mem_chunk_*, mem_bitmap_*, mem_radix_*).
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "model/kho/mem_track.hpp"
#include "model/kho/phys_image.hpp"

namespace khospec::model::testutil {

namespace fs = std::filesystem;

inline std::vector<std::uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// ELF64 little-endian core (QEMU dump-guest-memory shape): every PT_LOAD's
// file bytes go to p_paddr. Bounds-checked; on failure `err` says why. Pages
// are written even when all zero, so the image marks them as captured.
inline bool load_elf_core(std::span<const std::uint8_t> b, PhysImage& img, std::string* err) {
  const auto fail = [&](const char* why) {
    if (err) *err = why;
    return false;
  };
  Elf64_Ehdr eh;
  if (b.size() < sizeof eh) return fail("shorter than an ELF64 header");
  std::memcpy(&eh, b.data(), sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return fail("no ELF magic");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    return fail("not ELF64 little-endian");
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) return fail("unexpected e_phentsize");
  const std::uint64_t ph_bytes = std::uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr);
  if (eh.e_phoff > b.size() || ph_bytes > b.size() - eh.e_phoff) return fail("program headers out of file");
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, b.data() + eh.e_phoff + i * sizeof(Elf64_Phdr), sizeof ph);
    if (ph.p_type != PT_LOAD) continue;
    if (ph.p_offset > b.size() || ph.p_filesz > b.size() - ph.p_offset) return fail("PT_LOAD out of file");
    img.write(ph.p_paddr, b.subspan(static_cast<std::size_t>(ph.p_offset), static_cast<std::size_t>(ph.p_filesz)));
  }
  return true;
}

inline std::uint64_t hex(const std::string& s) { return std::stoull(s, nullptr, 16); }

// ---- kho-v1 decoded.txt: "## preserved-memory-map linked list (head 0x...)" ----
struct DecodedElm {
  std::uint64_t phys_start = 0;
  phys_addr_t bitmap = 0;
  std::vector<PreservedBlock> blocks;  // in bit order
};
struct DecodedChunk {
  phys_addr_t at = 0, next = 0;
  unsigned order = 0, num_elms = 0;
  std::vector<DecodedElm> elms;
};
struct DecodedV1 {
  phys_addr_t head = 0;
  std::vector<DecodedChunk> chunks;
  std::vector<PreservedBlock> blocks() const {
    std::vector<PreservedBlock> out;
    for (const auto& c : chunks)
      for (const auto& e : c.elms) out.insert(out.end(), e.blocks.begin(), e.blocks.end());
    return out;
  }
};

inline unsigned order_of_size(std::uint64_t size) {
  unsigned o = 0;
  while ((std::uint64_t{PhysImage::kPageSize} << o) < size) ++o;
  return o;
}

inline std::optional<DecodedV1> parse_decoded_v1(const std::string& text) {
  static const std::regex head_re(R"(## preserved-memory-map linked list \(head (0x[0-9a-f]+)\))");
  static const std::regex chunk_re(R"(^\s*chunk @(0x[0-9a-f]+): next=(0x[0-9a-f]+) order=(\d+) num_elms=(\d+))");
  static const std::regex elm_re(R"(^\s*elm\[\d+\] phys_start=(0x[0-9a-f]+) bitmap@(0x[0-9a-f]+):)");
  static const std::regex blk_re(R"(\[(0x[0-9a-f]+)\+(0x[0-9a-f]+)\])");
  DecodedV1 d;
  bool in = false;
  std::istringstream ls(text);
  std::smatch m;
  for (std::string line; std::getline(ls, line);) {
    if (std::regex_search(line, m, head_re)) {
      in = true;
      d.head = hex(m[1]);
      continue;
    }
    if (!in) continue;
    if (line.rfind("##", 0) == 0) break;
    if (std::regex_search(line, m, chunk_re)) {
      d.chunks.push_back(DecodedChunk{hex(m[1]), hex(m[2]), static_cast<unsigned>(std::stoul(m[3])),
                                      static_cast<unsigned>(std::stoul(m[4])), {}});
    } else if (std::regex_search(line, m, elm_re) && !d.chunks.empty()) {
      DecodedElm e{hex(m[1]), hex(m[2]), {}};
      for (auto it = std::sregex_iterator(line.begin(), line.end(), blk_re); it != std::sregex_iterator(); ++it)
        e.blocks.push_back(PreservedBlock{hex((*it)[1]), order_of_size(hex((*it)[2]))});
      d.chunks.back().elms.push_back(std::move(e));
    }
  }
  if (!in) return std::nullopt;
  return d;
}

// ---- kho-v4 decoded.txt: radix tree section and the block list ----------------
struct DecodedNode {
  unsigned level = 0;
  phys_addr_t at = 0;
  std::vector<unsigned> path;  // table indices from L5 down
};
struct DecodedV4 {
  phys_addr_t root = 0;
  std::vector<DecodedNode> nodes;
  std::vector<std::pair<PreservedBlock, std::uint64_t>> blocks;  // (block, key), by address
};

inline std::optional<DecodedV4> parse_decoded_v4(const std::string& text) {
  static const std::regex root_re(R"(## preserved-memory-map radix tree \(root (0x[0-9a-f]+)\))");
  static const std::regex node_re(R"(^\s*L(\d) @(0x[0-9a-f]+) path=\[([0-9, ]*)\])");
  static const std::regex blk_re(R"(^\s*(0x[0-9a-f]+) order\s+(\d+) size (0x[0-9a-f]+)\s+end \S+\s+key=(0x[0-9a-f]+))");
  DecodedV4 d;
  bool in_tree = false, in_blocks = false, found = false;
  std::istringstream ls(text);
  std::smatch m;
  for (std::string line; std::getline(ls, line);) {
    if (std::regex_search(line, m, root_re)) {
      d.root = hex(m[1]);
      in_tree = found = true;
      continue;
    }
    if (line.rfind("## preserved blocks", 0) == 0) {
      in_tree = false;
      in_blocks = true;
      continue;
    }
    if (line.rfind("##", 0) == 0) {
      in_tree = in_blocks = false;
      continue;
    }
    if (in_tree && std::regex_search(line, m, node_re)) {
      DecodedNode n{static_cast<unsigned>(std::stoul(m[1])), hex(m[2]), {}};
      std::string p = m[3];
      std::istringstream ps(p);
      for (std::string tok; std::getline(ps, tok, ',');)
        if (tok.find_first_not_of(' ') != std::string::npos) n.path.push_back(static_cast<unsigned>(std::stoul(tok)));
      d.nodes.push_back(std::move(n));
    } else if (in_blocks && std::regex_search(line, m, blk_re)) {
      d.blocks.emplace_back(PreservedBlock{hex(m[1]), static_cast<unsigned>(std::stoul(m[2]))}, hex(m[4]));
    }
  }
  if (!found) return std::nullopt;
  return d;
}

}  // namespace khospec::model::testutil
