#include "model/kho/luo_encoding.hpp"

#include <algorithm>
#include <cstring>

namespace khospec::model {

namespace {

void put64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}
std::uint32_t get32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

}  // namespace

// ---- kho_block -----------------------------------------------------------------

std::uint64_t kho_block_count_per_block(std::uint64_t entry_size) {
  if (entry_size == 0 || entry_size > KHO_BLOCK_SIZE - KHO_BLOCK_HEADER_SIZE) return 0;
  return (KHO_BLOCK_SIZE - KHO_BLOCK_HEADER_SIZE) / entry_size;
}

std::uint64_t kho_block_blocks_for(std::uint64_t entries, std::uint64_t entry_size) {
  const std::uint64_t cpb = kho_block_count_per_block(entry_size);
  return cpb ? (entries + cpb - 1) / cpb : 0;
}

KhoBlockSlot kho_block_slot(std::uint64_t i, std::uint64_t entry_size) {
  const std::uint64_t cpb = kho_block_count_per_block(entry_size);
  if (!cpb) return {};
  return {i / cpb, KHO_BLOCK_HEADER_SIZE + (i % cpb) * entry_size};
}

bool kho_block_count_valid(std::uint64_t count, std::uint64_t entry_size) {
  return count >= 1 && count <= kho_block_count_per_block(entry_size);
}

std::array<std::uint8_t, 16> encode_kho_block_header(const KhoBlockHeader& h) {
  std::array<std::uint8_t, 16> b{};
  put64(b.data(), h.next);
  put64(b.data() + 8, h.count);
  return b;
}

KhoBlockHeader decode_kho_block_header(std::span<const std::uint8_t, 16> b) {
  return {get64(b.data()), get64(b.data() + 8)};
}

// ---- memfd folio entry -----------------------------------------------------

std::uint64_t memfd_folio_word(std::uint64_t pfn, std::uint16_t flags) {
  return (pfn & MEMFD_FOLIO_PFN_MASK) | (static_cast<std::uint64_t>(flags & MEMFD_FOLIO_FLAGS_MASK) << MEMFD_FOLIO_PFN_BITS);
}
std::uint64_t memfd_folio_word_pfn(std::uint64_t word) { return word & MEMFD_FOLIO_PFN_MASK; }
std::uint16_t memfd_folio_word_flags(std::uint64_t word) {
  return static_cast<std::uint16_t>(word >> MEMFD_FOLIO_PFN_BITS);
}

bool memfd_folio_encodable(const MemfdFolioSer& e) {
  return e.pfn <= MEMFD_FOLIO_PFN_MASK && e.flags <= MEMFD_FOLIO_FLAGS_MASK;
}

std::array<std::uint8_t, 16> encode_memfd_folio(const MemfdFolioSer& e) {
  std::array<std::uint8_t, 16> b{};
  put64(b.data(), memfd_folio_word(e.pfn, e.flags));
  put64(b.data() + 8, e.index);
  return b;
}

MemfdFolioSer decode_memfd_folio(std::span<const std::uint8_t, 16> b) {
  const std::uint64_t w = get64(b.data());
  return {memfd_folio_word_pfn(w), memfd_folio_word_flags(w), get64(b.data() + 8)};
}

std::uint64_t folio_info_entry(std::uint64_t phys, unsigned order) { return phys | order; }
std::uint64_t folio_info_phys(std::uint64_t entry) { return entry & ~FOLIO_INFO_ORDER_MASK; }
unsigned folio_info_order(std::uint64_t entry) { return static_cast<unsigned>(entry & FOLIO_INFO_ORDER_MASK); }

// ---- char fields -----------------------------------------------------------

void store_cstr(std::span<std::uint8_t> field, std::string_view s) {
  std::fill(field.begin(), field.end(), 0);
  if (field.empty()) return;
  const std::size_t n = std::min(s.size(), field.size() - 1);  // strscpy()
  std::memcpy(field.data(), s.data(), n);
}

std::string load_cstr(std::span<const std::uint8_t> field) {
  std::size_t n = 0;
  while (n < field.size() && field[n]) ++n;  // strnlen()
  return std::string(reinterpret_cast<const char*>(field.data()), n);
}

// ---- LUO structs -----------------------------------------------------------

std::vector<std::uint8_t> encode_luo_ser(const LuoSer& s) {
  std::vector<std::uint8_t> b(LUO_SER_SIZE, 0);
  store_cstr(std::span(b).first(8), s.compatible);
  put64(b.data() + 8, s.liveupdate_num);
  put64(b.data() + 16, s.sessions_pa);
  put64(b.data() + 24, s.flbs_pa);
  return b;
}

LuoSer decode_luo_ser(std::span<const std::uint8_t> b) {
  return {load_cstr(b.first(8)), get64(b.data() + 8), get64(b.data() + 16), get64(b.data() + 24)};
}

std::vector<std::uint8_t> encode_luo_session_ser(const LuoSessionSer& s) {
  std::vector<std::uint8_t> b(LUO_SESSION_SER_SIZE, 0);
  store_cstr(std::span(b).first(LIVEUPDATE_SESSION_NAME_LENGTH), s.name);
  put64(b.data() + 64, s.files);
  put64(b.data() + 72, s.count);
  return b;
}

LuoSessionSer decode_luo_session_ser(std::span<const std::uint8_t> b) {
  return {load_cstr(b.first(LIVEUPDATE_SESSION_NAME_LENGTH)), get64(b.data() + 64), get64(b.data() + 72)};
}

std::vector<std::uint8_t> encode_luo_file_ser(const LuoFileSer& f) {
  std::vector<std::uint8_t> b(LUO_FILE_SER_SIZE, 0);
  store_cstr(std::span(b).first(LIVEUPDATE_HNDL_COMPAT_LENGTH), f.compatible);
  put64(b.data() + 48, f.data);
  put64(b.data() + 56, f.token);
  return b;
}

LuoFileSer decode_luo_file_ser(std::span<const std::uint8_t> b) {
  return {load_cstr(b.first(LIVEUPDATE_HNDL_COMPAT_LENGTH)), get64(b.data() + 48), get64(b.data() + 56)};
}

std::uint64_t memfd_luo_ser_size(bool v2) { return v2 ? 48 : 40; }

std::vector<std::uint8_t> encode_memfd_luo_ser(const MemfdLuoSer& s, bool v2) {
  std::vector<std::uint8_t> b(memfd_luo_ser_size(v2), 0);
  std::uint8_t* p = b.data();
  put64(p, s.pos);
  put64(p + 8, s.size);
  std::size_t at = 16;
  if (v2) {
    put32(p + 16, s.seals);
    put32(p + 20, s.flags);
    at = 24;
  }
  put64(p + at, s.nr_folios);
  put64(p + at + 8, s.folios.first);
  put32(p + at + 16, s.folios.total_pages);
  put32(p + at + 20, std::uint32_t{s.folios.flags} | std::uint32_t{s.folios.order} << 16);
  return b;
}

MemfdLuoSer decode_memfd_luo_ser(std::span<const std::uint8_t> b, bool v2) {
  const std::uint8_t* p = b.data();
  MemfdLuoSer s;
  s.pos = get64(p);
  s.size = get64(p + 8);
  std::size_t at = 16;
  if (v2) {
    s.seals = get32(p + 16);
    s.flags = get32(p + 20);
    at = 24;
  }
  s.nr_folios = get64(p + at);
  s.folios.first = get64(p + at + 8);
  s.folios.total_pages = get32(p + at + 16);
  const std::uint32_t w = get32(p + at + 20);
  s.folios.flags = static_cast<std::uint16_t>(w);
  s.folios.order = static_cast<std::uint16_t>(w >> 16);
  return s;
}

}  // namespace khospec::model
