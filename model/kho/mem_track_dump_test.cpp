// The trackers against real captures (KHOSPEC_DUMPS_DIR):
//   - 6.16 (kho-v1, 512-byte bitmaps): re-preserving the captured blocks with
//     an allocator that hands out the captured addresses, in the order the
//     kernel allocated them, and serializing must give the captured chunk pages
//     and bitmaps byte for byte;
//   - 7.3 (kho-v4, radix): the same for every radix node page;
//   - every stage's memory.elf decodes to the block list of its decoded.txt,
//     in the kernel's visit order;
//   - a real kho_vmalloc chunk and real kho_block chains (LUO, test_kho).
//
// CMake builds this binary only when the dumps directory exists; if it is
// missing at run time anyway, every test fails saying so.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "model/kho/kho_dump_test_util.hpp"
#include "model/kho/mem_track.hpp"
#include "model/kho/mem_track_test_util.hpp"

#ifndef KHOSPEC_DUMPS_DIR
#error "KHOSPEC_DUMPS_DIR (the captures' folder) must be defined by CMake"
#endif

namespace khospec::model {
namespace {

using namespace testutil;

const fs::path kDumps{KHOSPEC_DUMPS_DIR};
const char* const kV1 = "kho-v1-linux-6.16";
const char* const kV4 = "kho-v4-linux-7.3";

#define REQUIRE_DUMPS()                                                                              \
  ASSERT_TRUE(fs::is_directory(kDumps / kV1) && fs::is_directory(kDumps / kV4))                     \
      << "real KHO captures not found under " << kDumps                                              \
      << " (configure with -DKHOSPEC_DUMPS_DIR=... or without the dumps, which drops this binary)"

// Stage folders <family>/<scenario>/k<N>, sorted.
std::vector<fs::path> stages(const char* family) {
  std::vector<fs::path> out;
  for (const auto& scen : fs::directory_iterator(kDumps / family)) {
    if (!scen.is_directory()) continue;
    for (const auto& k : fs::directory_iterator(scen.path()))
      if (k.is_directory() && k.path().filename().string().rfind('k', 0) == 0) out.push_back(k.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string rel(const fs::path& p) { return fs::relative(p, kDumps).string(); }

// Hex-addressed file list: name -> (numbers parsed by `re`'s groups).
struct NamedFile {
  fs::path path;
  std::vector<std::uint64_t> nums;  // decimal or hex groups, in order
};
std::vector<NamedFile> named_files(const fs::path& dir, const std::regex& re, const std::vector<bool>& is_hex) {
  std::vector<NamedFile> out;
  for (const auto& f : fs::directory_iterator(dir)) {
    const std::string n = f.path().filename().string();
    std::smatch m;
    if (!std::regex_match(n, m, re)) continue;
    NamedFile nf{f.path(), {}};
    for (std::size_t g = 1; g < m.size(); ++g)
      nf.nums.push_back(is_hex[g - 1] ? hex(m[g].str()) : std::stoull(m[g].str()));
    out.push_back(std::move(nf));
  }
  std::sort(out.begin(), out.end(), [](const NamedFile& a, const NamedFile& b) { return a.nums < b.nums; });
  return out;
}

// "" when equal, else where and how many bytes differ.
std::string byte_diff(const std::vector<std::uint8_t>& got, const std::vector<std::uint8_t>& want) {
  if (got == want) return "";
  if (got.size() != want.size())
    return "size " + std::to_string(got.size()) + " vs " + std::to_string(want.size());
  std::size_t n = 0, first = got.size();
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i]) {
      ++n;
      first = std::min(first, i);
    }
  return std::to_string(n) + " byte(s) differ, first at +" + std::to_string(first);
}

// kho_mem_deserialize() on a captured image, which must decode clean.
std::vector<PreservedBlock> decode_clean(const PhysImage& img, MemMapFormat fmt, phys_addr_t map) {
  std::vector<DecodeIssue> issues;
  auto got = kho_mem_deserialize(img, fmt, map, &issues);
  for (const auto& i : issues) ADD_FAILURE() << i.what << " @0x" << std::hex << i.at;
  return got;
}

PhysImage load_stage_image(const fs::path& stage) {
  PhysImage img;
  std::string err;
  const auto bytes = read_bytes(stage / "memory.elf");
  EXPECT_TRUE(load_elf_core(bytes, img, &err)) << rel(stage) << ": " << err;
  return img;
}

// ---- 6.16 chunk pages and bitmaps, byte for byte ------------------------------

const std::regex kChunkFile(R"(mem_chunk_(\d+)_0x([0-9a-f]+)\.bin)");
const std::regex kBitmapFile(R"(mem_bitmap_c(\d+)_e(\d+)_order(\d+)_start0x([0-9a-f]+)_at0x([0-9a-f]+)\.bin)");

// Returns how many pages/objects were compared.
std::size_t check_v1_byte_exact(const fs::path& stage) {
  SCOPED_TRACE(rel(stage));
  const auto dec = parse_decoded_v1(read_text(stage / "decoded.txt"));
  if (!dec) {
    ADD_FAILURE() << "no preserved-memory-map linked list in decoded.txt";
    return 0;
  }
  const auto chunk_files = named_files(stage, kChunkFile, {false, true});          // (i, phys)
  const auto bitmap_files = named_files(stage, kBitmapFile, {false, false, false, true, true});
  EXPECT_EQ(chunk_files.size(), dec->chunks.size());

  // The kernel's allocations, in order: a bitmap (kzalloc(512)) the first time
  // an (order, index) is preserved, then the chunks (kzalloc(PAGE_SIZE)) in
  // list order at finalize.
  ScriptedAllocator sa;
  std::map<std::pair<unsigned, std::uint64_t>, phys_addr_t> bitmap_at;  // (order, phys_start) -> phys
  for (const auto& f : bitmap_files) bitmap_at[{static_cast<unsigned>(f.nums[2]), f.nums[3]}] = f.nums[4];
  const auto blocks = dec->blocks();
  std::set<std::pair<unsigned, std::uint64_t>> have;
  const std::uint64_t bits = kho_preserve_bits(MemMapFormat::bitmap512);
  for (const auto& b : blocks) {
    const std::uint64_t idx = (b.phys >> KHO_PAGE_SHIFT >> b.order) / bits;
    if (!have.insert({b.order, idx}).second) continue;
    const auto it = bitmap_at.find({b.order, (idx * bits) << (b.order + KHO_PAGE_SHIFT)});
    if (it == bitmap_at.end()) {
      ADD_FAILURE() << "no captured bitmap for order " << b.order << " index " << idx;
      return 0;
    }
    sa.script(512, it->second);
  }
  for (const auto& f : chunk_files) sa.script(PhysImage::kPageSize, f.nums[1]);

  PhysImage img;
  MemTrack t(MemMapFormat::bitmap512, img, sa);
  for (const auto& b : blocks) EXPECT_EQ(t.preserve_order(b.phys >> KHO_PAGE_SHIFT, b.order), 0);
  const auto head = t.serialize();
  EXPECT_TRUE(head.has_value());
  EXPECT_EQ(head.value_or(0), dec->head);
  EXPECT_EQ(sa.remaining(), 0u);
  EXPECT_TRUE(sa.unscripted().empty());
  EXPECT_TRUE(sa.misaligned().empty());

  std::size_t compared = 0;
  for (const auto& f : chunk_files) {
    EXPECT_EQ(byte_diff(img.read(f.nums[1], PhysImage::kPageSize), read_bytes(f.path)), "")
        << f.path.filename();
    ++compared;
  }
  for (const auto& f : bitmap_files) {
    EXPECT_EQ(byte_diff(img.read(f.nums[4], 512), read_bytes(f.path)), "") << f.path.filename();
    ++compared;
  }
  return compared;
}

TEST(KhoV1Capture, ReserveMem1ByteExact) {
  REQUIRE_DUMPS();
  // 2 chunks (orders 0 and 10) and their 2 bitmaps.
  EXPECT_EQ(check_v1_byte_exact(kDumps / kV1 / "reserve-mem-1-2stage" / "k1"), 4u);
}

TEST(KhoV1Capture, ReserveMem4ByteExactEightChunks) {
  REQUIRE_DUMPS();
  const auto stage = kDumps / kV1 / "reserve-mem-4-2stage" / "k1";
  const auto dec = parse_decoded_v1(read_text(stage / "decoded.txt"));
  ASSERT_TRUE(dec);
  std::vector<unsigned> orders;
  for (const auto& c : dec->chunks) orders.push_back(c.order);
  EXPECT_EQ(orders, (std::vector<unsigned>{0, 1, 4, 5, 6, 7, 9, 10}));
  EXPECT_EQ(check_v1_byte_exact(stage), 8u + 9u);  // 8 chunk pages, 9 bitmaps
}

TEST(KhoV1Capture, EveryStageWithChunkFilesByteExact) {
  REQUIRE_DUMPS();
  std::size_t stages_done = 0, objects = 0;
  for (const auto& st : stages(kV1)) {
    if (named_files(st, kChunkFile, {false, true}).empty()) continue;
    objects += check_v1_byte_exact(st);
    ++stages_done;
  }
  EXPECT_GE(stages_done, 8u);
  std::cout << "6.16 byte-exact: " << stages_done << " stages, " << objects << " chunk pages and bitmaps\n";
}

// ---- decoding every captured stage --------------------------------------------

TEST(KhoCaptureDecode, V1EveryStageMatchesDecodedTxtInChunkOrder) {
  REQUIRE_DUMPS();
  std::size_t done = 0;
  for (const auto& st : stages(kV1)) {
    if (!fs::exists(st / "memory.elf") || !fs::exists(st / "decoded.txt")) continue;
    const auto dec = parse_decoded_v1(read_text(st / "decoded.txt"));
    if (!dec) continue;  // last stage: no outgoing map
    SCOPED_TRACE(rel(st));
    const PhysImage img = load_stage_image(st);
    const auto got = decode_clean(img, MemMapFormat::bitmap512, dec->head);
    EXPECT_EQ(got, dec->blocks());
    EXPECT_FALSE(got.empty());
    ++done;
  }
  EXPECT_GE(done, 8u);
}

TEST(KhoCaptureDecode, V4EveryStageMatchesDecodedTxtInKeyOrder) {
  REQUIRE_DUMPS();
  std::size_t done = 0;
  for (const auto& st : stages(kV4)) {
    if (!fs::exists(st / "memory.elf") || !fs::exists(st / "decoded.txt")) continue;
    const auto dec = parse_decoded_v4(read_text(st / "decoded.txt"));
    if (!dec) continue;
    SCOPED_TRACE(rel(st));
    auto want = dec->blocks;
    ASSERT_FALSE(want.empty());
    for (const auto& [b, key] : want) EXPECT_EQ(kho_radix_encode_key(b.phys, b.order), key);
    // kho_radix_walk_tree(): ascending keys, so higher orders first.
    std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    std::vector<PreservedBlock> want_blocks;
    for (const auto& [b, key] : want) want_blocks.push_back(b);

    const PhysImage img = load_stage_image(st);
    const auto got = decode_clean(img, MemMapFormat::radix, dec->root);
    EXPECT_EQ(got, want_blocks);
    for (std::size_t i = 1; i < got.size(); ++i) EXPECT_GE(got[i - 1].order, got[i].order);
    ++done;
  }
  EXPECT_GE(done, 9u);
}

// ---- 7.3 radix node pages, byte for byte -------------------------------------

const std::regex kRadixFile(R"(mem_radix_L(\d)_0x([0-9a-f]+)\.bin)");

TEST(KhoV4Capture, EveryStageRadixNodesByteExact) {
  REQUIRE_DUMPS();
  std::size_t stages_done = 0, pages = 0;
  for (const auto& st : stages(kV4)) {
    const auto node_files = named_files(st, kRadixFile, {false, true});
    if (node_files.empty()) continue;
    SCOPED_TRACE(rel(st));
    const auto dec = parse_decoded_v4(read_text(st / "decoded.txt"));
    ASSERT_TRUE(dec);
    std::map<std::vector<unsigned>, phys_addr_t> node_at;
    for (const auto& n : dec->nodes) node_at[n.path] = n.at;
    ASSERT_EQ(node_at.size(), node_files.size());

    // kho_init(): the root first; then kho_radix_add_page() allocates the
    // missing nodes of each new path top-down.
    ScriptedAllocator sa;
    sa.script(PhysImage::kPageSize, dec->root);
    std::set<std::vector<unsigned>> have{{}};
    for (const auto& [b, key] : dec->blocks) {
      std::vector<unsigned> path;
      for (unsigned level = KHO_TREE_MAX_DEPTH - 1; level > 0; --level) {
        path.push_back(kho_radix_table_index(key, level));
        if (!have.insert(path).second) continue;
        const auto it = node_at.find(path);
        ASSERT_NE(it, node_at.end()) << "no captured node for a path of key 0x" << std::hex << key;
        sa.script(PhysImage::kPageSize, it->second);
      }
    }
    PhysImage img;
    MemTrack t(MemMapFormat::radix, img, sa);
    EXPECT_EQ(t.radix_root(), dec->root);
    for (const auto& [b, key] : dec->blocks) EXPECT_EQ(t.preserve_order(b.phys >> KHO_PAGE_SHIFT, b.order), 0);
    EXPECT_EQ(sa.remaining(), 0u) << "captured nodes that no preserved block needs (empty leaves?)";
    EXPECT_TRUE(sa.unscripted().empty());
    EXPECT_EQ(t.metadata().size(), node_files.size());
    for (const auto& f : node_files) {
      EXPECT_EQ(byte_diff(img.read(f.nums[1], PhysImage::kPageSize), read_bytes(f.path)), "")
          << f.path.filename();
      ++pages;
    }
    ++stages_done;
  }
  EXPECT_GE(stages_done, 9u);
  std::cout << "7.3 byte-exact: " << stages_done << " stages, " << pages << " radix node pages\n";
}

// ---- vmalloc and kho_block from real memory -------------------------------------

TEST(KhoV4Capture, TestKhoFoliosInfoVmalloc) {
  REQUIRE_DUMPS();
  const auto st = kDumps / kV4 / "test-kho-2stage" / "k1";
  const std::string text = read_text(st / "decoded.txt");
  std::smatch m;
  const std::regex re(R"(folios_info\(kho_vmalloc\)=\{first=(0x[0-9a-f]+) total_pages=(\d+) flags=(0x[0-9a-f]+) order=(\d+)\})");
  ASSERT_TRUE(std::regex_search(text, m, re));
  KhoVmalloc v{hex(m[1]), static_cast<std::uint32_t>(std::stoul(m[2])), static_cast<std::uint16_t>(hex(m[3])),
               static_cast<std::uint16_t>(std::stoul(m[4]))};
  const auto data_files = named_files(st, std::regex(R"(mem_kho_test_folios_info_vmalloc_c(\d+)_p(\d+)_order(\d+)_0x([0-9a-f]+)\.bin)"),
                                      {false, false, false, true});
  const auto chunk_files = named_files(st, std::regex(R"(mem_kho_test_folios_info_vmalloc_chunk(\d+)_0x([0-9a-f]+)\.bin)"),
                                       {false, true});
  ASSERT_FALSE(data_files.empty());
  ASSERT_FALSE(chunk_files.empty());
  std::vector<phys_addr_t> want;
  for (const auto& f : data_files) want.push_back(f.nums[3]);

  // Reading the captured memory.
  const PhysImage img = load_stage_image(st);
  std::vector<DecodeIssue> issues;
  EXPECT_EQ(kho_vmalloc_read(img, v, &issues), want);
  EXPECT_TRUE(issues.empty());

  // Writing: the same chunk pages, byte for byte.
  ScriptedAllocator sa;
  for (const auto& f : chunk_files) sa.script(PhysImage::kPageSize, f.nums[1]);
  PhysImage out;
  KhoVmalloc w;
  const auto chunks = kho_vmalloc_write(out, sa, want, v.order, v.flags, &w);
  ASSERT_TRUE(chunks);
  EXPECT_EQ(w.first, v.first);
  EXPECT_EQ(w.total_pages, v.total_pages);
  EXPECT_EQ(w.flags, v.flags);
  EXPECT_EQ(w.order, v.order);
  for (const auto& f : chunk_files)
    EXPECT_EQ(byte_diff(out.read(f.nums[1], PhysImage::kPageSize), read_bytes(f.path)), "") << f.path.filename();
}

TEST(KhoV4Capture, LuoMemfdSessionAndFileBlocks) {
  REQUIRE_DUMPS();
  // k2 re-read k1's preserved order-0 pages (kho_prev_blocks=), see the README.
  const auto st = kDumps / kV4 / "luo-memfd-2stage" / "k2";
  PhysImage img;
  for (const auto& f : named_files(st, std::regex(R"(mem_prev_preserved_0x([0-9a-f]+)_order0\.bin)"), {true}))
    img.write(f.nums[0], read_bytes(f.path));
  const std::string text = read_text(st / "decoded.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(LUO session block @(0x[0-9a-f]+))")));
  const phys_addr_t session = hex(m[1]);
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(LUO file block @(0x[0-9a-f]+))")));
  const phys_addr_t file = hex(m[1]);

  // struct luo_session_ser {char name[64]; struct {u64 files; u64 count;}}: 80 bytes.
  std::vector<DecodeIssue> issues;
  const auto sessions = kho_block_read(img, session, 80, &issues);
  ASSERT_TRUE(sessions) << (issues.empty() ? "" : issues.front().what);
  ASSERT_EQ(sessions->size(), 1u);
  const auto& s = sessions->front();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(s.data())), "kho-dump-session");
  PhysImage tmp;
  tmp.write(0, s);
  EXPECT_EQ(tmp.read_u64(64), file);
  EXPECT_EQ(tmp.read_u64(72), 1u);

  // struct luo_file_ser {char compatible[48]; u64 data; u64 token;}: 64 bytes.
  const auto files = kho_block_read(img, file, 64, &issues);
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(files->front().data())), "memfd-v2");
  tmp.write(0, files->front());
  EXPECT_EQ(tmp.read_u64(56), 0x1234abcdu);

  // Re-writing the session block gives the captured page.
  ScriptedAllocator sa;
  sa.script(PhysImage::kPageSize, session);
  PhysImage out;
  const auto blocks = kho_block_write(out, sa, *sessions, 80);
  ASSERT_TRUE(blocks);
  EXPECT_EQ(byte_diff(out.read(session, PhysImage::kPageSize), img.read(session, PhysImage::kPageSize)), "");
  EXPECT_TRUE(issues.empty());
}

}  // namespace
}  // namespace khospec::model
