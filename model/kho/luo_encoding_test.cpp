// The LUO / memfd wire encodings (luo_encoding.hpp) against the kernel's
// layouts (include/linux/kho/abi/{block,luo,memfd}.h, 6.19-7.3): field
// offsets, the memfd folio bitfields, the kho_block slot arithmetic.
#include <gtest/gtest.h>

#include "model/kho/luo_encoding.hpp"

namespace khospec::model {
namespace {

std::uint64_t le64(const std::vector<std::uint8_t>& b, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | b[at + static_cast<std::size_t>(i)];
  return v;
}

// struct memfd_luo_folio_ser { u64 pfn:52; u64 flags:12; u64 index; } (GCC,
// little-endian): pfn in bits 0-51, flags in 52-63.
TEST(LuoEncoding, MemfdFolioBitfields) {
  const MemfdFolioSer e{0x1552, MEMFD_LUO_FOLIO_DIRTY | MEMFD_LUO_FOLIO_UPTODATE, 4};
  const auto b = encode_memfd_folio(e);
  const std::vector<std::uint8_t> v(b.begin(), b.end());
  EXPECT_EQ(le64(v, 0), 0x30000000001552ull);  // flags 0x3 at bit 52
  EXPECT_EQ(le64(v, 8), 4u);
  EXPECT_EQ(decode_memfd_folio(b), e);
  EXPECT_TRUE(memfd_folio_encodable(e));
  // The bitfields truncate: a pfn of 53 bits loses its top bit, flags 13.
  const MemfdFolioSer wide{std::uint64_t{1} << 52 | 7, 0x1003, 0};
  EXPECT_FALSE(memfd_folio_encodable(wide));
  EXPECT_EQ(decode_memfd_folio(encode_memfd_folio(wide)), (MemfdFolioSer{7, 3, 0}));
  EXPECT_EQ(memfd_folio_word_pfn(memfd_folio_word(MEMFD_FOLIO_PFN_MASK, 0xfff)), MEMFD_FOLIO_PFN_MASK);
  EXPECT_EQ(memfd_folio_word_flags(memfd_folio_word(MEMFD_FOLIO_PFN_MASK, 0xfff)), 0xfff);
}

// kho_block_set_init() / kho_block_set_it_reserve_entry() (kho_block.c, 7.2):
// 4 KiB blocks with a 16-byte header; 80-byte sessions 51 a block, 64-byte
// files 63.
TEST(LuoEncoding, KhoBlockLayout) {
  EXPECT_EQ(kho_block_count_per_block(LUO_SESSION_SER_SIZE), 51u);
  EXPECT_EQ(kho_block_count_per_block(LUO_FILE_SER_SIZE), 63u);
  EXPECT_EQ(kho_block_count_per_block(0), 0u);
  EXPECT_EQ(kho_block_count_per_block(4081), 0u);
  EXPECT_EQ(kho_block_count_per_block(4080), 1u);
  EXPECT_EQ(kho_block_slot(0, 80), (KhoBlockSlot{0, 16}));
  EXPECT_EQ(kho_block_slot(50, 80), (KhoBlockSlot{0, 16 + 50 * 80}));
  EXPECT_EQ(kho_block_slot(51, 80), (KhoBlockSlot{1, 16}));
  EXPECT_EQ(kho_block_blocks_for(0, 64), 0u);
  EXPECT_EQ(kho_block_blocks_for(63, 64), 1u);
  EXPECT_EQ(kho_block_blocks_for(64, 64), 2u);
  EXPECT_FALSE(kho_block_count_valid(0, 64));  // kho_block_set_restore(): "invalid entry count"
  EXPECT_TRUE(kho_block_count_valid(63, 64));
  EXPECT_FALSE(kho_block_count_valid(64, 64));
  const KhoBlockHeader h{0x185c000, 1};
  EXPECT_EQ(decode_kho_block_header(encode_kho_block_header(h)), h);
  // Every slot lies inside its block, and slots are disjoint.
  for (std::uint64_t size : {8u, 16u, 64u, 80u, 1000u, 4080u})
    for (std::uint64_t i = 0; i < 300; ++i) {
      const auto s = kho_block_slot(i, size);
      EXPECT_LE(s.offset + size, KHO_BLOCK_SIZE) << size << " " << i;
      EXPECT_GE(s.offset, KHO_BLOCK_HEADER_SIZE);
      if (i % kho_block_count_per_block(size)) {
        EXPECT_EQ(s.offset, kho_block_slot(i - 1, size).offset + size);
      }
    }
}

// struct luo_ser (luo-v5), luo_session_ser, luo_file_ser (luo.h): offsets.
TEST(LuoEncoding, LuoStructs) {
  const auto ser = encode_luo_ser({"luo-v5", 1, 0x185e000, 0x3cb000});
  ASSERT_EQ(ser.size(), 32u);
  EXPECT_EQ(std::string(ser.begin(), ser.begin() + 8), std::string("luo-v5\0\0", 8));
  EXPECT_EQ(le64(ser, 8), 1u);
  EXPECT_EQ(le64(ser, 16), 0x185e000u);
  EXPECT_EQ(le64(ser, 24), 0x3cb000u);
  EXPECT_EQ(decode_luo_ser(ser), (LuoSer{"luo-v5", 1, 0x185e000, 0x3cb000}));

  const auto sess = encode_luo_session_ser({"kho-dump-session", 0x185c000, 1});
  ASSERT_EQ(sess.size(), 80u);
  EXPECT_EQ(le64(sess, 64), 0x185c000u);
  EXPECT_EQ(le64(sess, 72), 1u);
  EXPECT_EQ(decode_luo_session_ser(sess).name, "kho-dump-session");
  // strscpy(): a 64-byte name keeps 63 bytes and the NUL.
  const std::string long_name(70, 'x');
  EXPECT_EQ(decode_luo_session_ser(encode_luo_session_ser({long_name, 0, 0})).name, std::string(63, 'x'));

  const auto file = encode_luo_file_ser({"memfd-v2", 0x1858000, 0x1234abcd});
  ASSERT_EQ(file.size(), 64u);
  EXPECT_EQ(le64(file, 48), 0x1858000u);
  EXPECT_EQ(le64(file, 56), 0x1234abcdu);
  EXPECT_EQ(decode_luo_file_ser(file), (LuoFileSer{"memfd-v2", 0x1858000, 0x1234abcd}));
}

// memfd_luo_ser: memfd-v1 (40 bytes) and memfd-v2 (48, seals and flags
// after size).
TEST(LuoEncoding, MemfdLuoSerVersions) {
  MemfdLuoSer s;
  s.pos = 1234;
  s.size = 0x5000;
  s.seals = 0x1;
  s.nr_folios = 5;
  s.folios = {0x259000, 1, KHO_VMALLOC_ALLOC, 0};
  const auto v2 = encode_memfd_luo_ser(s, true);
  ASSERT_EQ(v2.size(), 48u);
  EXPECT_EQ(le64(v2, 0), 1234u);
  EXPECT_EQ(le64(v2, 8), 0x5000u);
  EXPECT_EQ(le64(v2, 16), 0x1u);  // seals = 1, flags = 0
  EXPECT_EQ(le64(v2, 24), 5u);
  EXPECT_EQ(le64(v2, 32), 0x259000u);
  EXPECT_EQ(le64(v2, 40), 0x0000000100000001ull);  // total_pages 1, flags 1, order 0
  const auto back = decode_memfd_luo_ser(v2, true);
  EXPECT_EQ(back.seals, 1u);
  EXPECT_EQ(back.nr_folios, 5u);
  EXPECT_EQ(back.folios.first, 0x259000u);
  const auto v1 = encode_memfd_luo_ser(s, false);
  ASSERT_EQ(v1.size(), 40u);
  EXPECT_EQ(le64(v1, 16), 5u);  // nr_folios right after size
  EXPECT_EQ(decode_memfd_luo_ser(v1, false).seals, 0u);
  EXPECT_EQ(decode_memfd_luo_ser(v1, false).folios.total_pages, 1u);
}

}  // namespace
}  // namespace khospec::model
