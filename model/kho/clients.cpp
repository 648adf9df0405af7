#include "model/kho/clients.hpp"

#include "core/parse.hpp"

#include <cstdio>
#include <cstring>
#include <random>

extern "C" {
#include <libfdt.h>
}

#include "fdt/builder.hpp"
#include "fdt/decode.hpp"
#include "model/kho/luo.hpp"
#include "model/kho/luo_encoding.hpp"

namespace khospec::model {

namespace {

constexpr std::uint32_t KHO_TEST_MAGIC = 0x4b484f21;  // "KHO!"


// A sub-blob read back from the image for libfdt (aligned copy, bounded).
struct BlobFdt {
  std::vector<std::uint64_t> buf;
  bool ok = false;
  BlobFdt(const PhysImage& img, phys_addr_t at, std::size_t cap = 1u << 20) {
    std::uint8_t hdr[8];
    img.read(at, hdr);
    std::uint32_t total = fdt::load_u32(hdr + 4, fdt::Endian::big);
    if (total < 40 || total > cap) return;
    buf.assign(total / 8 + 1, 0);
    img.read(at, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(buf.data()), total));
    ok = fdt_check_full(buf.data(), total) == 0;
  }
  const void* fdt() const { return buf.data(); }
};

std::optional<std::uint64_t> prop_u64(const void* f, int node, const char* name) {
  int len = 0;
  const auto* p = static_cast<const std::uint8_t*>(fdt_getprop(f, node, name, &len));
  if (!p || len != 8) return std::nullopt;
  return fdt::load_u64(p, fdt::Endian::little);
}

std::optional<std::uint32_t> prop_u32(const void* f, int node, const char* name) {
  int len = 0;
  const auto* p = static_cast<const std::uint8_t*>(fdt_getprop(f, node, name, &len));
  if (!p || len != 4) return std::nullopt;
  return fdt::load_u32(p, fdt::Endian::little);
}

}  // namespace

// test_kho's folios_info layout in this kernel's release (registry
// ClientFormat::layout).
bool TestKhoClient::vmalloc_form(const Kernel& k) {
  const registry::ClientFormat* f = k.format_of("kho_test");
  return f && f->layout.find("kho_vmalloc") != std::string_view::npos;
}

std::uint32_t kho_csum(const std::vector<std::uint8_t>& b, std::uint32_t sum) {
  std::uint64_t acc = sum;
  for (std::size_t i = 0; i + 4 <= b.size(); i += 4) acc += fdt::load_u32(b.data() + i, fdt::Endian::little);
  while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<std::uint32_t>(acc);
}

void install_clients(Kernel& k) {
  // Which clients exist is the release's (registry client formats), not the
  // era's: 7.1 registers kexec-metadata like 7.2+; test_kho is 6.17+.
  if (k.writes("kexec-metadata version 1")) k.clients().push_back(std::make_unique<KexecMetadataClient>());
  if (k.config().test_kho && k.writes("kho-test-v1")) k.clients().push_back(std::make_unique<TestKhoClient>());
  k.clients().push_back(std::make_unique<ReserveMemClient>());
  // LUO is built in from 6.19; it reads an incoming subtree even without
  // liveupdate=on and hands over only with it (luo.hpp).
  if (k.writes("luo-v1") || k.writes("luo-v5")) k.clients().push_back(std::make_unique<LuoClient>());
}

// ------------------------------------------------------------ reserve_mem ----

bool ReserveMemClient::revive(Kernel& k, const ReserveMemParam& p, Region& out) {
  // mm/memblock.c reserve_mem_kho_revive(): memblock subtree, compatible,
  // same-name child, 8-byte start/size, alignment, size.
  phys_addr_t phys = 0;
  std::uint64_t size = 0;
  if (k.kho_retrieve_subtree("memblock", &phys, &size)) return false;
  BlobFdt f(k.image(), phys);
  if (!f.ok) return false;
  if (!k.writes("memblock-v1")) {
    // KernelConfig::absent_formats: this build's reader has another compatible.
    k.log("FDT 'memblock' is incompatible with this kernel's memblock compatible");
    return false;
  }
  if (int e = fdt_node_check_compatible(f.fdt(), 0, "memblock-v1"); e) {
    k.log("FDT 'memblock' is incompatible with 'memblock-v1': " + std::to_string(e));
    return false;
  }
  int child = fdt_subnode_offset(f.fdt(), 0, p.name.c_str());
  if (child < 0) {
    k.log("FDT 'memblock' has no child '" + p.name + "'");
    return false;
  }
  if (fdt_node_check_compatible(f.fdt(), child, "reserve-mem-v1")) return false;
  auto start = prop_u64(f.fdt(), child, "start");
  auto sz = prop_u64(f.fdt(), child, "size");
  if (!start || !sz) return false;
  if (*start % p.align) {
    k.log("KHO reserve-mem '" + p.name + "' has wrong alignment");
    return false;
  }
  if (*sz != p.size) {
    k.log("KHO reserve-mem '" + p.name + "' has wrong size");
    return false;
  }
  k.memblock().memblock_reserve(*start, *sz);
  out = {p.name, *start, *sz, p.align, true};
  k.log("Revived memory reservation '" + p.name + "' from KHO");
  return true;
}

void ReserveMemClient::early_boot(Kernel& k) {
  for (const auto& p : k.cmdline().reserve_mem) {
    Region r;
    if (k.kho_boot() && revive(k, p, r)) {
      regions_.push_back(r);
      continue;
    }
    // reserve_mem(): memblock_phys_alloc_range(size, align, 0, ACCESSIBLE).
    auto pin = k.config().reserve_mem_at.find(p.name);
    phys_addr_t a = 0;
    if (pin != k.config().reserve_mem_at.end()) {
      if (k.memblock().memblock_reserve_kern(pin->second, p.size) == 0) a = pin->second;
    } else {
      a = k.memblock().memblock_phys_alloc_range(p.size, p.align, 0, MEMBLOCK_ALLOC_ACCESSIBLE);
    }
    if (!a) {
      k.log("reserve_mem: failed to allocate '" + p.name + "'");
      continue;
    }
    if (k.memblock().kho_scratch_only()) {
      // "TODO: Allocation must be outside of scratch region" (6.16 patch).
      k.finding("HAZARD_RESERVE_MEM_IN_SCRATCH", "warning",
                "reserve_mem '" + p.name + "' was allocated afresh at " + hex(a) +
                    " during a scratch-only KHO boot: it lies in scratch, so preserving it for the next "
                    "kernel breaks INV_SCRATCH_PRESERVED_DISJOINT");
    }
    // A reserve_mem region holds data the next kernel wants (e.g. a trace buffer).
    std::vector<std::uint8_t> pattern(64);
    for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<std::uint8_t>(p.name.size() * 31 + i);
    k.image().write(a, pattern);
    regions_.push_back({p.name, a, p.size, p.align, false});
  }
}

std::vector<std::uint8_t> ReserveMemClient::build_fdt() const {
  // reserve_mem_kho_finalize()/prepare: fdt_create(PAGE_SIZE); compatible,
  // then one node per region with compatible, start, size.
  fdt::Builder b(PAGE_SIZE_4K, fdt::Endian::little, false);
  b.begin_node("").prop_string("compatible", "memblock-v1");
  for (const auto& r : regions_) {
    b.begin_node(r.name).prop_string("compatible", "reserve-mem-v1").prop_u64("start", r.start).prop_u64("size", r.size);
    b.end_node();
  }
  b.end_node();
  return b.finish();
}

int ReserveMemClient::preserve_all(Kernel& k) {
  for (const auto& r : regions_) {
    int e = k.era().preserve_pages ? k.kho_preserve_pages(r.start, r.size / PAGE_SIZE_4K)
                                   : k.kho_preserve_phys(r.start, r.size);
    if (e) return e;
  }
  return 0;
}

void ReserveMemClient::init(Kernel& k) {
  if (regions_.empty() || !k.kho_enabled()) return;
  auto blob = build_fdt();
  if (k.era().root_fdt_at_boot) {
    std::int64_t page = k.kho_alloc_preserve(PAGE_SIZE_4K);
    if (page < 0) return;
    fdt_ = static_cast<phys_addr_t>(page);
    k.image().write(fdt_, blob);
    if (preserve_all(k)) return;
    k.kho_add_subtree("memblock", fdt_, blob.size());
  } else {
    // 6.16/6.18: the page is allocated at init, filled, and preserved and
    // registered from the FINALIZE notifier.
    fdt_ = k.alloc_pages(0);
    if (fdt_) k.image().write(fdt_, blob);
  }
}

int ReserveMemClient::on_finalize(Kernel& k) {
  if (regions_.empty() || !fdt_) return 0;
  int e = k.kho_preserve_folio(fdt_, 0);
  if (!e) e = preserve_all(k);
  if (!e) e = k.kho_add_subtree("memblock", fdt_, 0);
  return e;
}

// ---------------------------------------------------------------- test_kho ----

void TestKhoClient::init(Kernel& k) {
  phys_addr_t phys = 0;
  std::uint64_t size = 0;
  int e = k.kho_retrieve_subtree("kho_test", &phys, &size);
  if (e == 0) {
    fdt_ = phys;
    restore(k);
    return;
  }
  if (e != K_ENOENT || !k.kho_enabled()) return;
  save(k);
}

std::uint64_t TestKhoClient::folio_bytes() const {
  std::uint64_t sum = 0;
  for (const auto& f : folios_) sum += PAGE_SIZE_4K << f.order;
  return sum;
}

void TestKhoClient::save(Kernel& k) {
  std::mt19937_64 rng(k.config().seed);
  std::uint64_t total = 0;
  std::vector<std::uint8_t> all;
  // lib/test_kho.c kho_test_generate_data(), 6.17-7.3: a random order below
  // NR_PAGE_ORDERS, capped near the end to get_order(max_mem - total) - 1 so the
  // folios never pass max_mem (get_order() rounds up).
  const std::uint64_t max_mem = (k.config().test_kho_max_mem + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
  while (total < max_mem) {
    unsigned order = static_cast<unsigned>(rng() % (MAX_PAGE_ORDER + 1));
    if (total + (PAGE_SIZE_4K << order) > max_mem) {
      order = 0;
      while ((PAGE_SIZE_4K << order) < max_mem - total) ++order;  // get_order()
      if (order) --order;
    }
    phys_addr_t p = k.alloc_pages(order);
    if (!p) break;
    std::vector<std::uint8_t> data(PAGE_SIZE_4K << order);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    k.image().write(p, data);
    csum_ = kho_csum(data, csum_);
    if (k.kho_preserve_folio(p, order)) break;
    folios_.push_back({p, order});
    total += PAGE_SIZE_4K << order;
  }
  // The FDT buffer: nr_folios * 8 + PAGE_SIZE, as one folio.
  std::uint64_t fdt_size = folios_.size() * 8 + PAGE_SIZE_4K;
  while ((PAGE_SIZE_4K << fdt_order_) < fdt_size) ++fdt_order_;
  fdt::Builder b(PAGE_SIZE_4K << fdt_order_, fdt::Endian::little, false);
  b.begin_node("").prop_string("compatible", "kho-test-v1").prop_u32("magic", KHO_TEST_MAGIC);
  b.begin_node("data").prop_u32("nr_folios", static_cast<std::uint32_t>(folios_.size()));
  std::vector<std::uint64_t> info;
  for (const auto& f : folios_) info.push_back(folio_info_entry(f.phys, f.order));
  if (vmalloc_form(k)) {
    // Later test_kho: folios_info is a preserved vmalloc area (struct kho_vmalloc).
    std::vector<phys_addr_t> pages;
    std::vector<std::uint8_t> raw(info.size() * 8);
    for (std::size_t i = 0; i < info.size(); ++i) fdt::store_u64(raw.data() + 8 * i, info[i], fdt::Endian::little);
    for (std::size_t off = 0; off < raw.size(); off += PAGE_SIZE_4K) {
      phys_addr_t pg = k.alloc_pages(0);
      if (!pg) return;
      k.image().write(pg, std::span<const std::uint8_t>(raw.data() + off, std::min<std::size_t>(PAGE_SIZE_4K, raw.size() - off)));
      pages.push_back(pg);
    }
    KhoVmalloc v;
    if (k.kho_preserve_vmalloc(pages, 0, KHO_VMALLOC_ALLOC, &v)) return;
    std::vector<std::uint8_t> vb(16);
    fdt::store_u64(vb.data(), v.first, fdt::Endian::little);
    fdt::store_u32(vb.data() + 8, v.total_pages, fdt::Endian::little);
    vb[12] = static_cast<std::uint8_t>(v.flags);
    vb[13] = static_cast<std::uint8_t>(v.flags >> 8);
    vb[14] = static_cast<std::uint8_t>(v.order);
    vb[15] = static_cast<std::uint8_t>(v.order >> 8);
    b.prop_bytes("folios_info", vb);
  } else {
    b.prop_u64_array("folios_info", info);
  }
  b.prop_u32("csum", csum_).end_node().end_node();
  auto blob = b.finish();
  fdt_ = k.alloc_pages(fdt_order_);
  if (!fdt_ || blob.empty()) return;
  k.image().write(fdt_, blob);
  saved_ = true;
  if (k.era().root_fdt_at_boot) {
    if (k.kho_preserve_folio(fdt_, fdt_order_)) return;
    k.kho_add_subtree("kho_test", fdt_, blob.size());
  }
  k.note("test_kho: " + std::to_string(folios_.size()) + " folios preserved, csum " + hex(csum_));
  check_folios_info(k);
}

int TestKhoClient::on_finalize(Kernel& k) {
  // The 6.17 notifier (registered by the save path only): preserve the FDT
  // folio and add the subtree.
  if (!saved_ || !fdt_ || !k.kho_enabled()) return 0;
  int e = k.kho_preserve_folio(fdt_, fdt_order_);
  if (!e) e = k.kho_add_subtree("kho_test", fdt_, 0);
  return e;
}

// The folios_info entries of the kho-test-v1 FDT at `fdt`, in the layout
// given: inline (u64 array) or in a preserved vmalloc area (struct
// kho_vmalloc). kho_test_restore_data() takes its own layout only (7.3:
// len == sizeof(struct kho_vmalloc); the first series: 8 * nr_folios).
// nullopt with `why` when they do not decode.
std::optional<std::vector<std::uint64_t>> TestKhoClient::read_folios_info(const PhysImage& image, phys_addr_t fdt,
                                                                          bool vmalloc, std::string* why) {
  auto fail = [&](const char* w) -> std::optional<std::vector<std::uint64_t>> {
    if (why) *why = w;
    return std::nullopt;
  };
  BlobFdt f(image, fdt);
  if (!f.ok) return fail("sub-FDT unreadable");
  const int data = fdt_subnode_offset(f.fdt(), 0, "data");
  auto nr = prop_u32(f.fdt(), data, "nr_folios");
  int len = 0;
  const auto* fi = static_cast<const std::uint8_t*>(fdt_getprop(f.fdt(), data, "folios_info", &len));
  if (data < 0 || !nr || !fi) return fail("properties");
  std::vector<std::uint64_t> info;
  if (!vmalloc && static_cast<std::uint64_t>(len) == std::uint64_t{*nr} * 8) {
    for (std::uint32_t i = 0; i < *nr; ++i) info.push_back(fdt::load_u64(fi + 8 * i, fdt::Endian::little));
  } else if (vmalloc && len == 16) {
    KhoVmalloc v;
    v.first = fdt::load_u64(fi, fdt::Endian::little);
    v.total_pages = fdt::load_u32(fi + 8, fdt::Endian::little);
    v.flags = static_cast<std::uint16_t>(fi[12] | fi[13] << 8);
    v.order = static_cast<std::uint16_t>(fi[14] | fi[15] << 8);
    auto pages = kho_vmalloc_read(image, v, nullptr);
    if (!pages) return fail("folios_info vmalloc");
    std::vector<std::uint8_t> raw;
    for (phys_addr_t pg : *pages) {
      auto bytes = image.read(pg, PAGE_SIZE_4K);
      raw.insert(raw.end(), bytes.begin(), bytes.end());
    }
    for (std::uint32_t i = 0; i < *nr && 8 * i + 8 <= raw.size(); ++i)
      info.push_back(fdt::load_u64(raw.data() + 8 * i, fdt::Endian::little));
  } else {
    return fail("folios_info length");
  }
  return info;
}

// INV_FOLIO_INFO_ENTRY_EXACT: what the next kernel will decode from the
// folios_info entries (phys = e & PAGE_MASK, order = e & ~PAGE_MASK) is
// exactly the list of folios this kernel preserved.
std::vector<Finding> TestKhoClient::check_folios_info(Kernel& k) const {
  FindingBatch v;
  if (!saved_ || !fdt_) return {};
  std::string why;
  const auto info = read_folios_info(k.image(), fdt_, vmalloc_form(k), &why);
  if (!info) {
    v.add("INV_FOLIO_INFO_ENTRY_EXACT", "error", "test_kho's folios_info does not decode: " + why);
  } else if (info->size() != folios_.size()) {
    v.add("INV_FOLIO_INFO_ENTRY_EXACT", "error",
          "folios_info has " + std::to_string(info->size()) + " entries for " + std::to_string(folios_.size()) + " folios");
  } else {
    for (std::size_t i = 0; i < info->size(); ++i) {
      const std::uint64_t e = (*info)[i];
      if (folio_info_phys(e) == folios_[i].phys && folio_info_order(e) == folios_[i].order) continue;
      v.add("INV_FOLIO_INFO_ENTRY_EXACT", "error",
            "folios_info[" + std::to_string(i) + "] = " + hex(e) + " decodes to " + hex(folio_info_phys(e)) + " order " +
                std::to_string(folio_info_order(e)) + ", not the preserved folio " + hex(folios_[i].phys) + " order " +
                std::to_string(folios_[i].order));
    }
  }
  return v.report(k);
}

void TestKhoClient::restore(Kernel& k) {
  auto fail = [&](const std::string& why) {
    k.log("test_kho: restore failed: " + why);
    k.finding("TEST_KHO_RESTORE_FAILED", "error", "test_kho restore failed: " + why);
  };
  BlobFdt f(k.image(), fdt_);
  if (!f.ok) return fail("sub-FDT unreadable");
  if (fdt_node_check_compatible(f.fdt(), 0, "kho-test-v1")) return fail("compatible");
  auto magic = prop_u32(f.fdt(), 0, "magic");
  if (!magic || *magic != KHO_TEST_MAGIC) return fail("magic");
  int data = fdt_subnode_offset(f.fdt(), 0, "data");
  auto nr = prop_u32(f.fdt(), data, "nr_folios");
  auto csum = prop_u32(f.fdt(), data, "csum");
  if (data < 0 || !nr || !csum) return fail("properties");
  std::string why;
  const auto info_read = read_folios_info(k.image(), fdt_, vmalloc_form(k), &why);
  if (!info_read) return fail(why);
  const std::vector<std::uint64_t>& info = *info_read;
  std::uint32_t sum = 0;
  for (std::uint64_t x : info) {
    const phys_addr_t p = folio_info_phys(x);
    const unsigned want = folio_info_order(x);
    unsigned got = 0;
    if (!k.kho_restore_folio(p, &got) || got != want) return fail("folio " + hex(p) + " order");
    sum = kho_csum(k.image().read(p, static_cast<std::size_t>(PAGE_SIZE_4K << want)), sum);
  }
  if (sum != *csum) return fail("checksum " + hex(sum) + " != " + hex(*csum));
  restored_ok_ = true;
  k.log("test_kho: KHO restore succeeded");
  k.note("test_kho: KHO restore succeeded (" + std::to_string(info.size()) + " folios)");
}

// ---------------------------------------------------------- kexec-metadata ----

void KexecMetadataClient::init(Kernel& k) {
  phys_addr_t phys = 0;
  std::uint64_t size = 0;
  std::uint32_t prev = 0;
  if (k.kho_retrieve_subtree("kexec-metadata", &phys, &size) == 0 && size >= 73) {
    auto b = k.image().read(phys, 73);
    std::uint32_t version = fdt::load_u32(b.data(), fdt::Endian::little);
    if (version == 1) {
      std::string rel(reinterpret_cast<const char*>(b.data() + 4), 65);
      rel = rel.substr(0, rel.find('\0'));
      prev = fdt::load_u32(b.data() + 69, fdt::Endian::little);
      k.log("KHO: exec from: " + rel + " (count " + std::to_string(prev) + ")");
    } else {
      k.log("KHO: kexec-metadata version " + std::to_string(version) + " unsupported, ignored");
    }
  }
  if (!k.kho_enabled()) return;
  count_ = prev + 1;
  std::int64_t page = k.kho_alloc_preserve(73);
  if (page < 0) return;
  std::vector<std::uint8_t> b(73, 0);
  fdt::store_u32(b.data(), 1, fdt::Endian::little);
  const std::string release = k.uname();  // init_utsname()->release
  std::memcpy(b.data() + 4, release.data(), std::min<std::size_t>(64, release.size()));
  fdt::store_u32(b.data() + 69, count_, fdt::Endian::little);
  k.image().write(static_cast<phys_addr_t>(page), b);
  k.kho_add_subtree("kexec-metadata", static_cast<phys_addr_t>(page), 73);
}

}  // namespace khospec::model
