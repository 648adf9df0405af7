// The wire encodings of LUO, its memfd handler and test_kho's folio list as
// small pure functions (include/linux/kho/abi/{block,luo,memfd}.h,
// lib/test_kho.c; docs/kernel-abi.md): the kho_block layout arithmetic, the
// memfd folio entry, test_kho's `phys | order`, and the packed structs. No kernel state, no image: each function maps bytes or integers
// to bytes or integers, so a Z3 encoding can restate it term for term and
// the model (luo.cpp, memfd_luo.cpp, kho_block.cpp) uses exactly these.
// All values are native (little) endian, as the kernel writes them on x86-64.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "model/kho/mem_track.hpp"  // KhoVmalloc

namespace khospec::model {

// ---- kho_block (block.h, 7.2) ----------------------------------------------
inline constexpr std::uint64_t KHO_BLOCK_SIZE = 4096;         // PAGE_SIZE
inline constexpr std::uint64_t KHO_BLOCK_HEADER_SIZE = 16;    // struct kho_block_header_ser {u64 next; u64 count;}

// kho_block_set_init(): entries per block, (KHO_BLOCK_SIZE - 16) / entry_size;
// 0 for an entry size of 0 or larger than a block's payload.
std::uint64_t kho_block_count_per_block(std::uint64_t entry_size);
// kho_block_set_grow(): the blocks a set needs for `entries` entries.
std::uint64_t kho_block_blocks_for(std::uint64_t entries, std::uint64_t entry_size);
// kho_block_set_it_reserve_entry(): entry i lives in block i / cpb at byte
// offset 16 + (i mod cpb) * entry_size, and that block's count becomes
// (i mod cpb) + 1.
struct KhoBlockSlot {
  std::uint64_t block = 0;
  std::uint64_t offset = 0;
  bool operator==(const KhoBlockSlot&) const = default;
};
KhoBlockSlot kho_block_slot(std::uint64_t i, std::uint64_t entry_size);
// kho_block_set_restore(): a block's count is accepted iff 1 <= count <= cpb.
bool kho_block_count_valid(std::uint64_t count, std::uint64_t entry_size);

struct KhoBlockHeader {
  std::uint64_t next = 0;   // phys of the next block, 0 at the end
  std::uint64_t count = 0;  // entries in this block
  bool operator==(const KhoBlockHeader&) const = default;
};
std::array<std::uint8_t, 16> encode_kho_block_header(const KhoBlockHeader& h);
KhoBlockHeader decode_kho_block_header(std::span<const std::uint8_t, 16> b);

// ---- memfd folio entry (memfd.h, 6.19) -------------------------------------
// struct memfd_luo_folio_ser { u64 pfn:52; u64 flags:12; u64 index; } __packed:
// 16 bytes; GCC on little-endian puts pfn in bits 0-51 of the first u64 and
// flags in bits 52-63.
inline constexpr unsigned MEMFD_FOLIO_PFN_BITS = 52;
inline constexpr std::uint64_t MEMFD_FOLIO_PFN_MASK = (std::uint64_t{1} << MEMFD_FOLIO_PFN_BITS) - 1;
inline constexpr std::uint16_t MEMFD_FOLIO_FLAGS_MASK = 0xfff;
inline constexpr std::uint16_t MEMFD_LUO_FOLIO_DIRTY = 0x1;
inline constexpr std::uint16_t MEMFD_LUO_FOLIO_UPTODATE = 0x2;
inline constexpr std::uint64_t MEMFD_FOLIO_SER_SIZE = 16;

struct MemfdFolioSer {
  std::uint64_t pfn = 0;
  std::uint16_t flags = 0;
  std::uint64_t index = 0;  // page offset in the file
  bool operator==(const MemfdFolioSer&) const = default;
};
// The first u64 of an entry, and its two fields back. The bitfields
// truncate: pfn to 52 bits, flags to 12.
std::uint64_t memfd_folio_word(std::uint64_t pfn, std::uint16_t flags);
std::uint64_t memfd_folio_word_pfn(std::uint64_t word);
std::uint16_t memfd_folio_word_flags(std::uint64_t word);
// decode(encode(e)) == e exactly when the fields fit their widths.
bool memfd_folio_encodable(const MemfdFolioSer& e);
std::array<std::uint8_t, 16> encode_memfd_folio(const MemfdFolioSer& e);
MemfdFolioSer decode_memfd_folio(std::span<const std::uint8_t, 16> b);

// ---- test_kho's folios_info entry (lib/test_kho.c, 6.17) -------------------
// folios_info[i] = phys | order: a folio is page aligned and its order is
// below NR_PAGE_ORDERS, so the low 12 bits hold the order exactly
// (INV_FOLIO_INFO_ENTRY_EXACT; spec/z3/obl_luo.cpp).
inline constexpr std::uint64_t FOLIO_INFO_ORDER_MASK = 0xfff;  // ~PAGE_MASK
std::uint64_t folio_info_entry(std::uint64_t phys, unsigned order);
std::uint64_t folio_info_phys(std::uint64_t entry);   // entry & PAGE_MASK
unsigned folio_info_order(std::uint64_t entry);       // entry & ~PAGE_MASK

// ---- LUO structs (luo.h) -----------------------------------------------------
inline constexpr std::size_t LIVEUPDATE_SESSION_NAME_LENGTH = 64;  // uapi/linux/liveupdate.h
inline constexpr std::size_t LIVEUPDATE_HNDL_COMPAT_LENGTH = 48;
inline constexpr std::size_t LIVEUPDATE_FLB_COMPAT_LENGTH = 48;
inline constexpr std::uint64_t LUO_SER_SIZE = 32;                  // luo-v5 struct luo_ser
inline constexpr std::uint64_t LUO_SESSION_SER_SIZE = 80;          // name[64] + luo_file_set_ser
inline constexpr std::uint64_t LUO_FILE_SER_SIZE = 64;             // compatible[48] + data + token
inline constexpr std::uint64_t LUO_FLB_HEADER_SER_SIZE = 16;       // {pgcnt, count}
inline constexpr std::uint64_t LUO_SESSION_HEADER_SER_SIZE = 8;    // luo-v1 {count}

// luo-v5 (7.2): struct luo_ser { char compatible[8]; u64 liveupdate_num;
// u64 sessions_pa; u64 flbs_pa; } __packed.
struct LuoSer {
  std::string compatible;  // "luo-v5" (8 bytes, NUL padded)
  std::uint64_t liveupdate_num = 0;
  std::uint64_t sessions_pa = 0;
  std::uint64_t flbs_pa = 0;
  bool operator==(const LuoSer&) const = default;
};
std::vector<std::uint8_t> encode_luo_ser(const LuoSer& s);
LuoSer decode_luo_ser(std::span<const std::uint8_t> b);  // b.size() >= 32

// struct luo_session_ser { char name[64]; struct luo_file_set_ser { u64
// files; u64 count; } file_set_ser; } __packed (luo-session-v2 and luo-v5).
struct LuoSessionSer {
  std::string name;
  std::uint64_t files = 0;  // luo-v1: phys of the files array; luo-v5: first kho_block
  std::uint64_t count = 0;
  bool operator==(const LuoSessionSer&) const = default;
};
std::vector<std::uint8_t> encode_luo_session_ser(const LuoSessionSer& s);
LuoSessionSer decode_luo_session_ser(std::span<const std::uint8_t> b);  // >= 80

// struct luo_file_ser { char compatible[48]; u64 data; u64 token; } __packed.
struct LuoFileSer {
  std::string compatible;   // the file handler, "memfd-v2"
  std::uint64_t data = 0;   // handler-private: memfd's phys of memfd_luo_ser
  std::uint64_t token = 0;
  bool operator==(const LuoFileSer&) const = default;
};
std::vector<std::uint8_t> encode_luo_file_ser(const LuoFileSer& f);
LuoFileSer decode_luo_file_ser(std::span<const std::uint8_t> b);  // >= 64

// memfd_luo_ser: memfd-v1 (6.19) { u64 pos; u64 size; u64 nr_folios; struct
// kho_vmalloc folios; } (40 bytes); memfd-v2 (7.1) adds u32 seals, u32 flags
// after size (48 bytes).
struct MemfdLuoSer {
  std::uint64_t pos = 0;
  std::uint64_t size = 0;
  std::uint32_t seals = 0;   // v2 only
  std::uint32_t flags = 0;   // v2 only, 0
  std::uint64_t nr_folios = 0;
  KhoVmalloc folios;
};
std::uint64_t memfd_luo_ser_size(bool v2);
std::vector<std::uint8_t> encode_memfd_luo_ser(const MemfdLuoSer& s, bool v2);
MemfdLuoSer decode_memfd_luo_ser(std::span<const std::uint8_t> b, bool v2);

// A fixed char[N] field as strscpy() fills it (at most N-1 bytes, NUL padded)
// and as the reader sees it (up to the first NUL, at most N bytes).
void store_cstr(std::span<std::uint8_t> field, std::string_view s);
std::string load_cstr(std::span<const std::uint8_t> field);

}  // namespace khospec::model
