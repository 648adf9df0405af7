// Parity of the KHO model with the hand-overs captured from booted kernels
// (KHOSPEC_DUMPS_DIR). For each capture folder, the model runs the same machine
// size and command line -- with reserve_mem regions pinned where the real
// kernel placed them -- and must reproduce: the root FDT's structure (node
// and property order, compatible strings, property lengths, one page), the
// memblock sub-FDT byte for byte, the preserved-block decomposition of every
// reserve_mem region, the orders present in the memory map, the scratch
// sizes, and scratch reuse across kexecs.
//
// Addresses the real kernel picks from its image layout and allocation
// history (FDT pages, chunks, scratch placement) are not compared.
#include <gtest/gtest.h>

#include <regex>
#include <set>

extern "C" {
#include <libfdt.h>
}

#include "core/parse.hpp"
#include "fdt/decode.hpp"
#include "model/kho/clients.hpp"
#include "model/kho/kho_dump_test_util.hpp"
#include "model/kho/luo_test_util.hpp"
#include "model/kho/machine.hpp"
#include "model/kho/memfd.hpp"

namespace khospec::model {
namespace {

namespace fs = std::filesystem;
using testutil::read_bytes;
using testutil::read_text;

const fs::path kDumps = KHOSPEC_DUMPS_DIR;

// "name @offset: prop(len) ..." per node, in blob order: the FDT's structure
// without its values.
std::vector<std::string> structure(const std::vector<std::uint8_t>& blob) {
  std::vector<std::uint64_t> buf(blob.size() / 8 + 1, 0);
  std::memcpy(buf.data(), blob.data(), blob.size());
  const void* f = buf.data();
  std::vector<std::string> out;
  if (fdt_check_full(f, blob.size())) return {"<invalid>"};
  int depth = -1;
  for (int n = fdt_next_node(f, -1, &depth); n >= 0 && depth >= 0; n = fdt_next_node(f, n, &depth)) {
    std::string line = std::string(static_cast<std::size_t>(depth) * 2, ' ') + fdt_get_name(f, n, nullptr) + ":";
    int p = 0;
    fdt_for_each_property_offset(p, f, n) {
      const char* name = nullptr;
      int len = 0;
      const char* v = static_cast<const char*>(fdt_getprop_by_offset(f, p, &name, &len));
      line += std::string(" ") + name + "(" + std::to_string(len) + ")";
      if (std::string(name) == "compatible") line += "=" + std::string(v, static_cast<std::size_t>(len) - 1);
    }
    out.push_back(line);
  }
  return out;
}

struct Capture {
  std::string cmdline;
  std::map<std::string, std::pair<phys_addr_t, std::uint64_t>> regions;  // reserve_mem name -> (start, size)
  std::vector<std::uint64_t> scratch_len;
};

Capture read_capture(const fs::path& scen) {
  Capture c;
  std::istringstream in(read_text(scen / "qemu-append.txt"));
  for (std::string w; in >> w;) {
    bool ours = w.rfind("kho=", 0) == 0 || w.rfind("kho_scratch=", 0) == 0 || w.rfind("reserve_mem=", 0) == 0 ||
                w.rfind("liveupdate=", 0) == 0;
    if (ours) c.cmdline += (c.cmdline.empty() ? "" : " ") + w;
  }
  auto sub = scen / "k1" / "out_sub_fdt_memblock.dtb";
  if (fs::exists(sub)) {
    auto b = read_bytes(sub);
    std::vector<std::uint64_t> buf(b.size() / 8 + 1, 0);
    std::memcpy(buf.data(), b.data(), b.size());
    int n = 0;
    fdt_for_each_subnode(n, buf.data(), 0) {
      int l1 = 0, l2 = 0;
      const auto* st = static_cast<const std::uint8_t*>(fdt_getprop(buf.data(), n, "start", &l1));
      const auto* sz = static_cast<const std::uint8_t*>(fdt_getprop(buf.data(), n, "size", &l2));
      c.regions[fdt_get_name(buf.data(), n, nullptr)] = {fdt::load_u64(st, fdt::Endian::little),
                                                          fdt::load_u64(sz, fdt::Endian::little)};
    }
  }
  std::istringstream lens(read_text(scen / "k1" / "out_scratch_len.txt"));
  for (std::string w; lens >> w;) c.scratch_len.push_back(std::stoull(w, nullptr, 16));
  return c;
}

std::vector<PreservedBlock> captured_blocks(const fs::path& k1, bool v1) {
  auto text = read_text(k1 / "decoded.txt");
  if (v1) return testutil::parse_decoded_v1(text)->blocks();
  std::vector<PreservedBlock> out;
  const auto decoded = testutil::parse_decoded_v4(text);  // keep it alive for the loop
  for (const auto& [b, key] : decoded->blocks) out.push_back(b);
  return out;
}

std::vector<PreservedBlock> within(const std::vector<PreservedBlock>& all, phys_addr_t s, std::uint64_t len) {
  std::vector<PreservedBlock> out;
  for (const auto& b : all)
    if (b.phys >= s && b.phys < s + len) out.push_back(b);
  std::sort(out.begin(), out.end());
  return out;
}

struct Case {
  const char* set;       // dumps folder
  const char* scenario;
  KhoEra era;
  bool test_kho;
  // Other early allocations (KernelConfig::boot_alloc_bytes) that this boot
  // implies; 0 = the default calibrated on reserve-mem-1 / kho-only. The
  // scale-mode sizes follow from the footprint, which the model takes as an
  // input: the formula is the kernel's, the footprint is the capture's.
  std::uint64_t boot_alloc = 0;
};

class KhoParity : public ::testing::TestWithParam<Case> {};

TEST_P(KhoParity, ReproducesTheCapture) {
  const Case& cs = GetParam();
  const fs::path scen = kDumps / cs.set / cs.scenario;
  ASSERT_TRUE(fs::exists(scen)) << scen;
  const bool v1 = cs.era != KhoEra::kho_v4;
  Capture cap = read_capture(scen);
  KernelConfig kc;
  kc.era = cs.era;
  kc.cmdline = cap.cmdline;
  kc.test_kho = cs.test_kho;
  if (cs.boot_alloc) kc.boot_alloc_bytes = cs.boot_alloc;
  for (const auto& [name, r] : cap.regions) kc.reserve_mem_at[name] = r.first;
  Machine m(machine_with_ram(2ull << 30));
  Kernel& k1 = m.boot_cold(kc);
  if (v1) {
    ASSERT_EQ(k1.debugfs_finalize_write(1), 0);
  }
  SCOPED_TRACE(std::string(cs.set) + "/" + cs.scenario + ": " + cap.cmdline);

  // Scratch sizes (out_scratch_len.txt), including the zero-size global area.
  ASSERT_EQ(k1.scratch().size(), cap.scratch_len.size());
  for (std::size_t i = 0; i < cap.scratch_len.size(); ++i)
    EXPECT_EQ(k1.scratch()[i].size, cap.scratch_len[i]) << "scratch[" << i << "]";

  // Root FDT: structure and size.
  auto root = k1.debugfs_out_fdt();
  ASSERT_FALSE(root.empty());
  EXPECT_LE(root.size(), PAGE_SIZE_4K);
  EXPECT_EQ(structure(root), structure(read_bytes(scen / "k1" / "out_fdt.dtb")));

  // memblock sub-FDT byte for byte (regions pinned to the captured addresses).
  if (!cap.regions.empty()) {
    auto* rm = dynamic_cast<ReserveMemClient*>(k1.client("memblock"));
    ASSERT_NE(rm, nullptr);
    auto want = read_bytes(scen / "k1" / "out_sub_fdt_memblock.dtb");
    EXPECT_EQ(k1.image().read(rm->fdt_page(), want.size()), want);
  }

  // Preserved-block decomposition of every reserve_mem region, and the
  // orders present in the map (random test_kho folios excluded).
  auto model_blocks = k1.tracker()->blocks();
  auto real_blocks = captured_blocks(scen / "k1", v1);
  for (const auto& [name, r] : cap.regions) {
    EXPECT_EQ(within(model_blocks, r.first, r.second), within(real_blocks, r.first, r.second)) << name;
  }
  if (!cs.test_kho) {
    std::set<unsigned> mo, ro;
    for (const auto& b : model_blocks) mo.insert(b.order);
    for (const auto& b : real_blocks) ro.insert(b.order);
    EXPECT_EQ(mo, ro);
    EXPECT_EQ(model_blocks.size(), real_blocks.size());
  }
}

// Scratch is reused unchanged along a chain, as in recursive-3stage.
TEST(KhoParityChain, ScratchReusedAcrossKexecs) {
  for (const char* set : {"kho-v1-linux-6.16", "kho-v4-linux-7.3"}) {
    const fs::path scen = kDumps / set / "recursive-3stage";
    auto k1 = read_text(scen / "k1" / "out_scratch_phys.txt");
    EXPECT_EQ(k1, read_text(scen / "k2" / "out_scratch_phys.txt")) << set;
    EXPECT_EQ(k1, read_text(scen / "k3" / "out_scratch_phys.txt")) << set;
    Capture cap = read_capture(scen);
    KernelConfig kc;
    kc.era = std::string(set).find("6.16") != std::string::npos ? KhoEra::v6_16 : KhoEra::kho_v4;
    kc.cmdline = cap.cmdline;
    Machine m(machine_with_ram(2ull << 30));
    Kernel& a = m.boot_cold(kc);
    for (int i = 0; i < 2; ++i) {
      Kernel& k = *m.current();
      if (kc.era == KhoEra::v6_16) {
        ASSERT_EQ(k.debugfs_finalize_write(1), 0);
      }
      ASSERT_EQ(k.kexec_file_load(), 0);
      ASSERT_NE(m.kexec(kc), nullptr);
    }
    Kernel& c = *m.current();
    EXPECT_EQ(a.scratch(), c.scratch());
    EXPECT_EQ(c.index(), 2);
    auto* rm = dynamic_cast<ReserveMemClient*>(c.client("memblock"));
    ASSERT_NE(rm, nullptr);
    for (const auto& r : rm->regions()) EXPECT_TRUE(r.revived) << r.name;
    for (const auto& f : m.all_findings()) EXPECT_NE(f.level, "error") << f.id << " " << f.detail;
  }
}

// ---- luo-memfd-2stage (7.3.4) ------------------------------------------------

std::uint64_t num(const std::string& s) { return std::stoull(s, nullptr, 0); }

// The capture's own decoding of the LUO chain (k2/decoded.txt, k1/decoded.txt).
struct CapturedLuo {
  std::uint64_t session_next = 0, session_count = 0, files_count = 0;
  std::string session_name;
  phys_addr_t session_block = 0, session_files = 0;
  std::uint64_t file_next = 0, file_count = 0, token = 0;
  std::string file_compatible;
  phys_addr_t file_block = 0, file_data = 0;
  phys_addr_t memfd_at = 0;
  std::uint64_t pos = 0, size = 0, seals = 0, flags = 0, nr_folios = 0;
  phys_addr_t vm_first = 0;
  std::uint64_t vm_total_pages = 0, vm_flags = 0, vm_order = 0;
  std::uint64_t chunk_next = 0, chunk_pages = 0;
  struct Folio { std::uint64_t flags, index, order; std::string content; };
  std::vector<Folio> folios;
  std::string luo_compatible;
  std::uint64_t liveupdate_num = 0;
  phys_addr_t flbs_pa = 0;
  std::map<unsigned, std::size_t> per_order;
};

CapturedLuo read_captured_luo(const fs::path& scen) {
  CapturedLuo c;
  const std::string k2 = read_text(scen / "k2" / "decoded.txt");
  const std::string k1 = read_text(scen / "k1" / "decoded.txt");
  std::smatch m;
  const std::string hx = "(0x[0-9a-f]+)";
  if (std::regex_search(k2, m, std::regex("LUO session block @" + hx + ": kho_block_header_ser\\{next=" + hx +
                                          " count=(\\d+)\\}; luo_session_ser\\{name='([^']*)' file_set_ser\\{files=" +
                                          hx + " count=(\\d+)\\}\\}"))) {
    c.session_block = num(m[1]);
    c.session_next = num(m[2]);
    c.session_count = num(m[3]);
    c.session_name = m[4];
    c.session_files = num(m[5]);
    c.files_count = num(m[6]);
  }
  if (std::regex_search(k2, m, std::regex("LUO file block @" + hx + ": kho_block_header_ser\\{next=" + hx +
                                          " count=(\\d+)\\}; luo_file_ser\\{compatible='([^']*)' data=" + hx +
                                          " token=" + hx + "\\}"))) {
    c.file_block = num(m[1]);
    c.file_next = num(m[2]);
    c.file_count = num(m[3]);
    c.file_compatible = m[4];
    c.file_data = num(m[5]);
    c.token = num(m[6]);
  }
  if (std::regex_search(k2, m, std::regex("memfd_luo_ser @" + hx + ": pos=(\\d+) size=" + hx + " seals=" + hx +
                                          " flags=" + hx + " nr_folios=(\\d+) folios\\(kho_vmalloc\\)=\\{first=" + hx +
                                          " total_pages=(\\d+) flags=" + hx + " order=(\\d+)\\}"))) {
    c.memfd_at = num(m[1]);
    c.pos = num(m[2]);
    c.size = num(m[3]);
    c.seals = num(m[4]);
    c.flags = num(m[5]);
    c.nr_folios = num(m[6]);
    c.vm_first = num(m[7]);
    c.vm_total_pages = num(m[8]);
    c.vm_flags = num(m[9]);
    c.vm_order = num(m[10]);
  }
  if (std::regex_search(k2, m, std::regex("kho_vmalloc chunk @" + hx + ": next=" + hx + " phys=\\[([^\\]]*)\\]"))) {
    c.chunk_next = num(m[2]);
    const std::string list = m[3];
    c.chunk_pages = static_cast<std::uint64_t>(std::count(list.begin(), list.end(), 'x'));
  }
  const std::regex folio("folio\\[(\\d+)\\]: pfn=" + hx + " \\(phys " + hx + "\\) flags=" + hx +
                         " index=(\\d+) preserved-order=\\[(\\d+)\\] content=b'([^']*)'");
  for (auto it = std::sregex_iterator(k2.begin(), k2.end(), folio); it != std::sregex_iterator(); ++it)
    c.folios.push_back({num((*it)[4]), num((*it)[5]), num((*it)[6]), (*it)[7]});
  if (std::regex_search(k1, m, std::regex("struct luo_ser: compatible='([^']*)' liveupdate_num=(\\d+) sessions_pa=" + hx +
                                          " flbs_pa=" + hx))) {
    c.luo_compatible = m[1];
    c.liveupdate_num = num(m[2]);
    c.flbs_pa = num(m[4]);
  }
  if (std::regex_search(k1, m, std::regex("per order: ([^\\n]*)"))) {
    const std::string list = m[1];
    const std::regex entry("o(\\d+):(\\d+)");
    for (auto it = std::sregex_iterator(list.begin(), list.end(), entry); it != std::sregex_iterator(); ++it)
      c.per_order[static_cast<unsigned>(num((*it)[1]))] = num((*it)[2]);
  }
  return c;
}

// The luo-memfd-2stage capture (7.3.4): the same command line and the same
// userspace operations on the model -- a 5-page memfd with page 3 a hole,
// f_pos 1234, session "kho-dump-session", token 0x1234abcd, kexec, then
// RETRIEVE_SESSION, RETRIEVE_FD, FINISH -- must give the structures the
// real kernel wrote the same shape and values (luo_session.c, luo_file.c,
// memfd_luo.c, kho_block.c at 7.3): block headers, session and file
// entries, memfd_luo_ser, the vmalloc chunk, five order-0 folios with
// indices 0..4 and flags 0x3 (the hole a zeroed folio), everything
// preserved at order 0, and the per-order census of the whole map.
// Addresses differ; the pointers between the structures must agree.
TEST(KhoParityLuo, LuoMemfd2Stage) {
  const fs::path scen = kDumps / "kho-v4-linux-7.3" / "luo-memfd-2stage";
  ASSERT_TRUE(fs::exists(scen)) << scen;
  const CapturedLuo cap = read_captured_luo(scen);
  ASSERT_EQ(cap.folios.size(), 5u) << "the capture's decoded.txt did not parse";
  ASSERT_FALSE(cap.per_order.empty());
  Capture c = read_capture(scen);
  ASSERT_NE(c.cmdline.find("liveupdate=on"), std::string::npos);
  KernelConfig kc = *kernel_config_for("7.3.4", c.cmdline);
  for (const auto& [name, r] : c.regions) kc.reserve_mem_at[name] = r.first;
  Machine m(machine_with_ram(2ull << 30));
  Kernel& k1 = m.boot_cold(kc);

  // luomemfd prep: write pages 0, 1, 2, 4; lseek 1234; CREATE_SESSION; PRESERVE_FD.
  const int fd = k1.memfd_create();
  ASSERT_EQ(k1.memfd_truncate(fd, 5 * PAGE_SIZE_4K), 0);
  for (std::uint64_t i : {0u, 1u, 2u, 4u}) {
    const std::string text = "KHO-LUO-MEMFD page " + std::to_string(i) + " of " + cap.session_name;
    ASSERT_EQ(k1.memfd_write(fd, i * PAGE_SIZE_4K, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())), 0);
  }
  ASSERT_EQ(k1.memfd_seek(fd, 1234), 0);
  const int s = k1.luo_create_session(cap.session_name);
  ASSERT_GE(s, 0);
  ASSERT_EQ(k1.luo_preserve_fd(s, fd, cap.token), 0);

  // Before reboot the LUO blob is what k1's out_sub_blob_LUO.bin shows:
  // "luo-v5", liveupdate_num 1, sessions_pa 0 (written at reboot), an FLB page.
  const auto real_blob = read_bytes(scen / "k1" / "out_sub_blob_LUO.bin");
  for (const auto& b : k1.debugfs_out_blobs()) {
    if (b.name != "LUO") continue;
    ASSERT_EQ(b.bytes.size(), real_blob.size());
    EXPECT_TRUE(std::equal(b.bytes.begin(), b.bytes.begin() + 24, real_blob.begin()));  // all but flbs_pa
    EXPECT_NE(fdt::load_u64(b.bytes.data() + 24, fdt::Endian::little), 0u);
  }
  ASSERT_EQ(k1.kexec_file_load(), 0);
  Kernel* k2 = m.kexec(kc);
  ASSERT_NE(k2, nullptr);

  // k2 frees k1's luo_ser page at early boot: walk from the blob as k1's
  // debugfs showed it at kexec (after liveupdate_reboot() wrote sessions_pa).
  std::vector<std::uint8_t> blob_at_kexec;
  for (const auto& b : k1.debugfs_out_blobs())
    if (b.name == "LUO") blob_at_kexec = b.bytes;
  const auto w = testutil::walk_luo(k1.image(), k1.luo()->blob(), true, true, &blob_at_kexec);
  EXPECT_EQ(w.compatible, cap.luo_compatible);
  EXPECT_EQ(w.liveupdate_num, cap.liveupdate_num);
  EXPECT_EQ(w.flb != 0, cap.flbs_pa != 0);
  ASSERT_EQ(w.session_blocks.size(), 1u);
  EXPECT_EQ(w.ser.sessions_pa, w.session_blocks[0]);
  EXPECT_EQ(w.session_headers[0].next, cap.session_next);
  EXPECT_EQ(w.session_headers[0].count, cap.session_count);
  ASSERT_EQ(w.sessions.size(), 1u);
  const auto& ws = w.sessions[0];
  EXPECT_EQ(ws.ser.name, cap.session_name);
  EXPECT_EQ(ws.ser.count, cap.files_count);
  ASSERT_EQ(w.file_blocks.size(), 1u);
  EXPECT_EQ(cap.session_files, cap.file_block);   // the capture's pointer ...
  EXPECT_EQ(ws.ser.files, w.file_blocks[0]);      // ... and the model's
  EXPECT_EQ(w.file_headers[0].next, cap.file_next);
  EXPECT_EQ(w.file_headers[0].count, cap.file_count);
  ASSERT_EQ(ws.files.size(), 1u);
  const auto& wf = ws.files[0];
  EXPECT_EQ(wf.ser.compatible, cap.file_compatible);
  EXPECT_EQ(wf.ser.token, cap.token);
  EXPECT_EQ(cap.file_data, cap.memfd_at);
  EXPECT_EQ(wf.ser.data, wf.memfd.at);
  const auto& mf = wf.memfd;
  EXPECT_EQ(mf.ser.pos, cap.pos);
  EXPECT_EQ(mf.ser.size, cap.size);
  EXPECT_EQ(mf.ser.seals, cap.seals);
  EXPECT_EQ(mf.ser.flags, cap.flags);
  EXPECT_EQ(mf.ser.nr_folios, cap.nr_folios);
  EXPECT_EQ(mf.ser.folios.total_pages, cap.vm_total_pages);
  EXPECT_EQ(mf.ser.folios.flags, cap.vm_flags);
  EXPECT_EQ(mf.ser.folios.order, cap.vm_order);
  ASSERT_EQ(mf.chunks.size(), 1u);
  EXPECT_EQ(mf.chunks[0], mf.ser.folios.first);
  EXPECT_EQ(k1.image().read_u64(mf.chunks[0]), cap.chunk_next);
  EXPECT_EQ(mf.array.size(), cap.chunk_pages);
  ASSERT_EQ(mf.folios.size(), cap.folios.size());
  const auto outgoing = k1.outgoing_at_kexec();
  auto order_of = [&](phys_addr_t p) -> int {
    for (const auto& b : outgoing)
      if (b.phys == p) return static_cast<int>(b.order);
    return -1;
  };
  for (std::size_t i = 0; i < mf.folios.size(); ++i) {
    EXPECT_EQ(mf.folios[i].index, cap.folios[i].index) << i;
    EXPECT_EQ(mf.folios[i].flags, cap.folios[i].flags) << i;
    EXPECT_EQ(order_of(mf.folios[i].pfn * PAGE_SIZE_4K), static_cast<int>(cap.folios[i].order)) << i;
    auto bytes = k1.image().read(mf.folios[i].pfn * PAGE_SIZE_4K, cap.folios[i].content.size() + 1);
    EXPECT_EQ(std::string(bytes.begin(), bytes.end() - 1), cap.folios[i].content) << i;
    EXPECT_EQ(bytes.back(), 0) << i;  // the rest is zero: a hole page wholly
  }
  // Every LUO structure is one order-0 preserved block.
  for (phys_addr_t p : {k1.luo()->blob(), w.flb, w.session_blocks[0], w.file_blocks[0], mf.at, mf.chunks[0], mf.array[0]})
    EXPECT_EQ(order_of(p), 0) << hex(p);
  std::map<unsigned, std::size_t> per_order;
  for (const auto& b : outgoing) ++per_order[b.order];
  EXPECT_EQ(per_order, cap.per_order);

  // luomemfd get: RETRIEVE_SESSION, RETRIEVE_FD, FINISH (k2/luo_get.txt: rc 0, content verified).
  EXPECT_NE(std::find(k2->dmesg().begin(), k2->dmesg().end(), "luo: Retrieved live update data, liveupdate number: 1"),
            k2->dmesg().end());
  const int s2 = k2->luo_retrieve_session(cap.session_name);
  ASSERT_GE(s2, 0);
  const int got = k2->luo_retrieve_fd(s2, cap.token);
  ASSERT_GE(got, 0);
  EXPECT_EQ(k2->memfd_read(got, 0, cap.size), k1.memfd_read(fd, 0, cap.size));
  EXPECT_EQ(k2->memfds().get(got)->pos, cap.pos);
  EXPECT_EQ(k2->luo_finish(s2), 0);
  m.check_handover();
  for (const auto& f : m.all_findings()) EXPECT_NE(f.level, "error") << f.id << " " << f.detail;
}

const Case kCases[] = {
    {"kho-v1-linux-6.16", "kho-only-2stage", KhoEra::v6_16, false},
    {"kho-v1-linux-6.16", "reserve-mem-1-2stage", KhoEra::v6_16, false},
    {"kho-v1-linux-6.16", "reserve-mem-4-2stage", KhoEra::v6_16, false, 0xee6000},
    {"kho-v1-linux-6.16", "scratch-explicit-2stage", KhoEra::v6_16, false},
    {"kho-v1-linux-6.16", "scratch-400pct-2stage", KhoEra::v6_16, false, 0xce6000},
    {"kho-v1-linux-6.16", "recursive-3stage", KhoEra::v6_16, false},
    {"kho-v1-linux-6.16", "test-kho-2stage", KhoEra::v6_16, true},
    {"kho-v4-linux-7.3", "kho-only-2stage", KhoEra::kho_v4, false},
    {"kho-v4-linux-7.3", "reserve-mem-1-2stage", KhoEra::kho_v4, false},
    {"kho-v4-linux-7.3", "reserve-mem-4-2stage", KhoEra::kho_v4, false, 0xce6000},
    {"kho-v4-linux-7.3", "scratch-explicit-2stage", KhoEra::kho_v4, false},
    {"kho-v4-linux-7.3", "scratch-400pct-2stage", KhoEra::kho_v4, false, 0xce6000},
    {"kho-v4-linux-7.3", "recursive-3stage", KhoEra::kho_v4, false},
    {"kho-v4-linux-7.3", "test-kho-2stage", KhoEra::kho_v4, true},
};

INSTANTIATE_TEST_SUITE_P(Captures, KhoParity, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           std::string n = std::string(p.param.set).substr(0, 6) + "_" + p.param.scenario;
                           for (auto& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace khospec::model
