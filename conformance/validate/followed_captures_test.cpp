// The followed hand-over on the real 7.3 captures (kho-v4-linux-7.3 in KHOSPEC_DUMPS_DIR):
//   - luo-memfd: k1's pages plus k2's mem_prev_preserved_* pages (the session, file,
//     memfd and folio structures k1 serialized at reboot, re-read by k2 before
//     /dev/liveupdate was opened), with luo_ser.sessions_pa set to the session block
//     0x185e000 (k1's luo_ser was dumped before liveupdate_reboot() wrote it; the
//     capture's README and k2 decoded.txt say so): the whole chain is followed, clean;
//   - mutations of those captures (swapped sub-blobs, a cleared preserved bit under a
//     memfd folio, a bumped compatible inside LUO) are findings;
//   - the raw sub-blobs from debugfs sub_fdts/* are recognised by name and content.
// With KHOSPEC_WRITE_IMAGE set, LuoMemfdCapture.FollowsTheWholeChain also writes
// its image there (ctest handover/dump-json-luo-memfd runs `khospec dump` on it).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "conformance/validate/validate.hpp"
#include "core/elf.hpp"
#include "core/json.hpp"
#include "core/rules.hpp"
#include "fdt/decode.hpp"

extern "C" {
#include <libfdt.h>
}

namespace khospec::conformance {
namespace {

namespace fs = std::filesystem;
using Pages = std::map<std::uint64_t, std::vector<std::uint8_t>>;

const fs::path kV4 = fs::path(KHOSPEC_DUMPS_DIR) / "kho-v4-linux-7.3";
constexpr std::uint64_t kPage = 4096;

std::vector<std::uint8_t> bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Pages pages_of(const fs::path& elf) {
  Report r;
  auto img = MemoryImage::from_bytes(bytes_of(elf), std::nullopt, elf.string(), r);
  Pages out;
  for (const auto& s : img.segments())
    for (std::uint64_t off = 0; off + kPage <= s.size; off += kPage)
      out[s.paddr + off] = *img.read_vec(s.paddr + off, kPage);
  return out;
}

void poke64(Pages& p, std::uint64_t addr, std::uint64_t v) {
  auto& pg = p.at(addr & ~(kPage - 1));
  fdt::store_u64(pg.data() + (addr & (kPage - 1)), v, fdt::Endian::little);
}

// The acceptance image of issue 18 (see the file comment).
Pages luo_memfd_image() {
  const fs::path st = kV4 / "luo-memfd-2stage";
  Pages pages = pages_of(st / "k1" / "memory.elf");
  for (const auto& e : fs::directory_iterator(st / "k2")) {
    const std::string n = e.path().filename().string();
    if (n.rfind("mem_prev_preserved_0x", 0) != 0 || e.path().extension() != ".bin") continue;
    const std::uint64_t phys = std::stoull(n.substr(19), nullptr, 16);
    const auto b = bytes_of(e.path());
    for (std::uint64_t off = 0; off + kPage <= b.size(); off += kPage)
      pages.emplace(phys + off, std::vector<std::uint8_t>(b.begin() + static_cast<std::ptrdiff_t>(off),
                                                          b.begin() + static_cast<std::ptrdiff_t>(off + kPage)));
  }
  poke64(pages, 0x3ca000 + 16, 0x185e000);  // luo_ser.sessions_pa
  return pages;
}

struct Run {
  std::vector<std::uint8_t> fdt;
  MemoryImage image;
  Report report;
  Validation v;
  std::string errors_and_warnings() const {
    std::string s;
    for (const auto& d : report.diagnostics())
      if (d.level != Level::info) s += d.rule + " " + d.node + ": " + d.message + "\n";
    return s;
  }
  bool fired(std::string_view rule, std::string_view node_part = {}) const {
    for (const auto& d : report.diagnostics())
      if (d.rule == rule && d.node.find(node_part) != std::string::npos) return true;
    return false;
  }
};

std::unique_ptr<Run> run(std::vector<std::uint8_t> fdt, const Pages& pages) {
  auto r = std::make_unique<Run>();
  r->fdt = std::move(fdt);
  r->image = MemoryImage::from_bytes(write_elf_core(pages), std::nullopt, "image", r->report);
  r->v = validate(r->fdt, &r->image, ValidateOptions{}, r->report);
  return r;
}

bool have_captures() { return fs::is_directory(kV4 / "luo-memfd-2stage" / "k2"); }

#define REQUIRE_CAPTURES() \
  if (!have_captures()) GTEST_FAIL() << "real KHO captures not found under " << kV4

TEST(LuoMemfdCapture, FollowsTheWholeChain) {
  REQUIRE_CAPTURES();
  const Pages pages = luo_memfd_image();
  auto r = run(bytes_of(kV4 / "luo-memfd-2stage/k1/out_fdt.dtb"), pages);
  EXPECT_EQ(r->errors_and_warnings(), "");
  ASSERT_TRUE(r->v.handover);
  const Handover& h = *r->v.handover;
  auto sessions = h.find_all("session");
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0]->name, "kho-dump-session");
  auto files = h.find_all("file");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0]->field("token")->number, 0x1234abcdu);
  EXPECT_EQ(files[0]->format, "memfd-v2");
  auto memfds = h.find_all("memfd");
  ASSERT_EQ(memfds.size(), 1u);
  EXPECT_EQ(memfds[0]->field("size")->number, 0x5000u);
  EXPECT_EQ(memfds[0]->field("pos")->number, 1234u);
  EXPECT_EQ(memfds[0]->field("seals")->number, 0x1u);
  auto folios = h.find_all("folio");
  ASSERT_EQ(folios.size(), 5u);
  const std::uint64_t phys[] = {0x1552000, 0x1553000, 0x1540000, 0x1867000, 0x1541000};  // k2 decoded.txt
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(folios[i]->field("index")->number, i);
    EXPECT_EQ(folios[i]->phys, phys[i]);
    EXPECT_EQ(folios[i]->preserved, true);
    EXPECT_EQ(folios[i]->order, 0u);
    EXPECT_EQ(folios[i]->path, "/LUO -> session \"kho-dump-session\" -> file token 0x1234abcd -> memfd folio " +
                                   std::to_string(i));
  }
  // The same objects in JSON (what `dump -f json --memory` prints under "handover").
  std::ostringstream js;
  JsonWriter w(js, 0);
  write_handover_json(w, h);
  for (const char* s : {"\"kho-dump-session\"", "\"0x1234abcd\"", "\"0x5000\"", "\"1234\""})
    EXPECT_NE(js.str().find(s), std::string::npos) << s;
  if (const char* out = std::getenv("KHOSPEC_WRITE_IMAGE")) {
    const auto elf = write_elf_core(pages);
    std::ofstream(out, std::ios::binary).write(reinterpret_cast<const char*>(elf.data()),
                                               static_cast<std::streamsize>(elf.size()));
  }
}

// The capture as dumped (sessions_pa 0): clean, and the LUO client has no session.
TEST(LuoMemfdCapture, AsDumpedHasNoSessionsAndIsClean) {
  REQUIRE_CAPTURES();
  auto r = run(bytes_of(kV4 / "luo-memfd-2stage/k1/out_fdt.dtb"), pages_of(kV4 / "luo-memfd-2stage/k1/memory.elf"));
  EXPECT_EQ(r->errors_and_warnings(), "");
  ASSERT_TRUE(r->v.handover);
  EXPECT_TRUE(r->v.handover->find_all("session").empty());
  EXPECT_EQ(r->v.handover->find_all("flb_header").size(), 1u);
}

// Clearing the radix bit that preserves folio 3 (0x1867000, order 0): the cardinal
// rule names the whole pointer path.
TEST(LuoMemfdCapture, ClearedPreservedBitUnderAFolioIsAnError) {
  REQUIRE_CAPTURES();
  const Pages base = luo_memfd_image();
  // radix key of an order-0 page: (1 << 52) | pfn; its bit in the leaf is key & 32767.
  const std::uint64_t bit = 0x1867 & 32767;
  int tried = 0;
  for (const auto& e : fs::directory_iterator(kV4 / "luo-memfd-2stage/k1")) {
    const std::string n = e.path().filename().string();
    if (n.rfind("mem_radix_L0_0x", 0) != 0) continue;
    const std::uint64_t leaf = std::stoull(n.substr(13), nullptr, 16);
    Pages p = base;
    auto& pg = p.at(leaf);
    if (!(pg[bit / 8] & (1u << (bit % 8)))) continue;
    pg[bit / 8] = static_cast<std::uint8_t>(pg[bit / 8] & ~(1u << (bit % 8)));
    auto r = run(bytes_of(kV4 / "luo-memfd-2stage/k1/out_fdt.dtb"), p);
    ASSERT_TRUE(r->v.map);
    if (std::binary_search(r->v.map->blocks.begin(), r->v.map->blocks.end(), PreservedBlock{0x1867000, 0})) continue;
    ++tried;
    EXPECT_TRUE(r->fired("kho_not_preserved",
                         "/LUO -> session \"kho-dump-session\" -> file token 0x1234abcd -> memfd folio 3"))
        << r->errors_and_warnings();
  }
  EXPECT_EQ(tried, 1) << "no radix leaf of k1 holds the bit of 0x1867000";
}

TEST(LuoMemfdCapture, BumpedCompatiblesInsideLuoAreFindings) {
  REQUIRE_CAPTURES();
  const Pages base = luo_memfd_image();
  const auto fdt = bytes_of(kV4 / "luo-memfd-2stage/k1/out_fdt.dtb");
  {
    Pages p = base;
    p.at(0x3ca000)[5] = '6';  // luo_ser.compatible "luo-v5" -> "luo-v6"
    auto r = run(fdt, p);
    EXPECT_TRUE(r->fired("kho_client_format_mismatch", "/LUO")) << r->errors_and_warnings();
  }
  {
    Pages p = base;
    p.at(0x185c000)[16 + 7] = '3';  // the file's handler "memfd-v2" -> "memfd-v3" (after the 16-byte block header)
    auto r = run(fdt, p);
    EXPECT_TRUE(r->fired("kho_luo_file_unknown", "file token 0x1234abcd")) << r->errors_and_warnings();
  }
}

// Swapping two children's preserved-data and blob-size in a real 7.3 root.
std::vector<std::uint8_t> swap_children(std::vector<std::uint8_t> fdt, const char* a, const char* b) {
  void* f = fdt.data();
  const int na = fdt_path_offset(f, a), nb = fdt_path_offset(f, b);
  EXPECT_GE(na, 0);
  EXPECT_GE(nb, 0);
  for (const char* prop : {"preserved-data", "blob-size"}) {
    int la = 0, lb = 0;
    const void* pa = fdt_getprop(f, na, prop, &la);
    const void* pb = fdt_getprop(f, nb, prop, &lb);
    EXPECT_EQ(la, 8);
    EXPECT_EQ(lb, 8);
    std::uint8_t va[8], vb[8];
    std::memcpy(va, pa, 8);
    std::memcpy(vb, pb, 8);
    EXPECT_EQ(fdt_setprop_inplace(f, na, prop, vb, 8), 0);
    EXPECT_EQ(fdt_setprop_inplace(f, nb, prop, va, 8), 0);
  }
  return fdt;
}

TEST(Captures73, SwappedSubBlobsAreErrorsNamingBoth) {
  REQUIRE_CAPTURES();
  struct Case {
    const char* stage;
    const char* a;
    const char* b;
  };
  for (const Case& c : {Case{"test-kho-2stage/k1", "/kho_test", "/kexec-metadata"},
                        Case{"reserve-mem-1-2stage/k1", "/memblock", "/kexec-metadata"},
                        Case{"luo-memfd-2stage/k1", "/memblock", "/LUO"}}) {
    const fs::path st = kV4 / c.stage;
    auto clean = run(bytes_of(st / "out_fdt.dtb"), pages_of(st / "memory.elf"));
    EXPECT_EQ(clean->errors_and_warnings(), "") << c.stage;
    auto r = run(swap_children(bytes_of(st / "out_fdt.dtb"), c.a, c.b), pages_of(st / "memory.elf"));
    for (const char* n : {c.a, c.b}) {
      bool named = false;
      for (const auto& d : r->report.diagnostics())
        if ((d.rule == "kho_client_format_mismatch" || d.rule == "kho_subfdt_invalid") && d.node == n &&
            d.level == Level::error)
          named = true;
      EXPECT_TRUE(named) << c.stage << " " << n << ":\n" << r->errors_and_warnings();
    }
  }
}

// debugfs sub_fdts/* raw blobs: recognised by name and content, checked as what they are.
TEST(Captures73, RawSubBlobsAreRecognised) {
  REQUIRE_CAPTURES();
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(kV4)) {
    const std::string name = e.path().filename().string();
    if (name.find("sub_blob_") == std::string::npos || e.path().extension() != ".bin") continue;
    const auto b = bytes_of(e.path());
    const std::string label = recognise_raw_blob(b, e.path().string());
    Report r;
    ValidateOptions vo;
    vo.read.file = e.path().string();  // recognised by its name, as the CLI passes it
    Validation v = validate(b, nullptr, vo, r);
    if (name.find("kexec-metadata") != std::string::npos) {
      EXPECT_EQ(label, "kexec-metadata version 1") << e.path();
      ASSERT_TRUE(v.handover) << e.path();
      EXPECT_EQ(v.handover->find_all("kexec_metadata").size() + v.handover->find_all("client").size() > 0, true);
    } else {
      EXPECT_EQ(label, "luo-v5") << e.path();
    }
    // k2's debugfs in/sub_fdts/LUO shows a page the new kernel reused (the README says so).
    const bool reused = e.path().string().find("luo-memfd-2stage/k2/in_sub_blob_LUO") != std::string::npos;
    std::string found;
    for (const auto& d : r.diagnostics())
      if (d.level != Level::info) found += d.rule + " ";
    EXPECT_EQ(found, reused ? "kho_client_format_mismatch " : "") << e.path();
    ++n;
  }
  EXPECT_GE(n, 20);
}

// A raw sub-blob shows its fields: kexec-metadata's release and count.
TEST(Captures73, KexecMetadataBlobShowsItsFields) {
  REQUIRE_CAPTURES();
  const auto b = bytes_of(kV4 / "recursive-3stage/k2/out_sub_blob_kexec-metadata.bin");
  Report r;
  Validation v = validate(b, nullptr, ValidateOptions{}, r);
  ASSERT_TRUE(v.handover);
  std::ostringstream o;
  render_handover_text(o, *v.handover);
  EXPECT_NE(o.str().find("previous_release = 7.3.4"), std::string::npos) << o.str();
  EXPECT_NE(o.str().find("kexec_count = 2"), std::string::npos) << o.str();
}

// kexec-metadata along the recursive chain k1 -> k2 -> k3: each kernel writes the
// count it received + 1; given out of order the chain check fires.
TEST(Captures73, KexecCountGoesUpByOneAlongAChain) {
  REQUIRE_CAPTURES();
  std::vector<std::vector<std::uint8_t>> blobs;
  std::vector<Validation> vs;
  std::vector<std::string> names;
  for (const char* k : {"k1", "k2"}) {
    const fs::path p = kV4 / "recursive-3stage" / k / "out_sub_blob_kexec-metadata.bin";
    blobs.push_back(bytes_of(p));
    names.push_back(p.string());
  }
  for (const auto& b : blobs) {
    Report r;
    vs.push_back(validate(b, nullptr, ValidateOptions{}, r));
    ASSERT_TRUE(vs.back().handover);
  }
  Report in_order, reversed;
  check_metadata_chain({&*vs[0].handover, &*vs[1].handover}, names, in_order);
  EXPECT_TRUE(in_order.empty());
  check_metadata_chain({&*vs[1].handover, &*vs[0].handover}, {names[1], names[0]}, reversed);
  ASSERT_EQ(reversed.diagnostics().size(), 1u);
  EXPECT_EQ(reversed.diagnostics()[0].rule, "kho_metadata_chain");
}

}  // namespace
}  // namespace khospec::conformance
