// Client structures for corpus memory images, laid out the way the kernel
// writes them (the `luo:`, `memfd:` and `kexec-metadata:` keys of `memory:`):
//
//   luo:                                   # kernel/liveupdate/luo_core.c, luo_session.c, luo_file.c
//     ser: 0x3ca000                        # luo-v5: struct luo_ser (omit for luo-v1, whose FDT `place:` writes)
//     compatible: luo-v5                   # (default) liveupdate-num: 1, sessions-pa / flbs-pa: overrides
//     sessions:
//       blocks: [0x185e000]                # luo-v5: a kho_block chain (per-block: N splits the entries)
//       at: 0x600000                       # luo-v1: luo_session_header_ser + luo_session_ser[]
//       entries:
//         - name: kho-dump-session
//           count: N                       # luo_file_set_ser.count (default: the entries)
//           files: {blocks: [..] | at: .., per-block: N, entries: [{compatible, token, data}]}
//     flbs: {at: 0x3cb000, pgcnt: 1, count: N, entries: [{name, data, count}]}
//   memfd:                                 # mm/memfd_luo.c memfd_luo_preserve()
//     - {at, version: 1|2, pos, size, seals, flags, nr-folios,
//        vmalloc: {chunks: [..], blocks: [..], order: 0, flags: 1, total-pages: N},
//        folios: [[phys, index], [phys, index, flags], ...]}   # flags default 3 (dirty | uptodate)
//   kexec-metadata: {at, version: 1, release: "7.3.4", count: 1}
//
// The offsets below are the writer's side of include/linux/kho/abi/{luo,block,
// memfd,kexec_metadata,kexec_handover}.h; the handover test reads these images
// back through the layout schemas, so the two cannot drift apart. Breakage comes
// from `write:` on top, never from here.
#include <algorithm>

#include "conformance/corpus/memgen_internal.hpp"
#include "fdt/decode.hpp"

namespace khospec::conformance::memgen {

namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kBlockHeader = 16;  // kho_block_header_ser {next, count}
constexpr std::uint64_t kSessionSer = 80;   // luo_session_ser {name[64], files, count}
constexpr std::uint64_t kFileSer = 64;      // luo_file_ser {compatible[48], data, token}
constexpr std::uint64_t kFlbSer = 64;       // luo_flb_ser {name[48], data, count}
constexpr std::uint64_t kFolioSer = 16;     // memfd_luo_folio_ser {pfn:52 flags:12, index}

void poke32(Pages& p, std::uint64_t a, std::uint64_t v) {
  std::uint8_t b[4];
  fdt::store_u32(b, static_cast<std::uint32_t>(v), fdt::Endian::little);
  poke(p, a, b);
}

void poke16(Pages& p, std::uint64_t a, std::uint64_t v) {
  const std::uint8_t b[2] = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)};
  poke(p, a, b);
}

void poke_str(Pages& p, std::uint64_t a, const std::string& s, std::uint64_t field) {
  std::vector<std::uint8_t> b(field, 0);
  std::copy_n(s.begin(), std::min<std::size_t>(s.size(), field), b.begin());
  poke(p, a, b);
}

std::string text(const YAML::Node& n, const std::string& dflt = "") { return n ? n.as<std::string>() : dflt; }
std::uint64_t num(const YAML::Node& n, std::uint64_t dflt) { return n ? number(n) : dflt; }

std::vector<std::uint64_t> addrs(const YAML::Node& n) {
  std::vector<std::uint64_t> out;
  if (!n) return out;
  if (!n.IsSequence()) fail(n, "a list of addresses");
  for (const auto& a : n) out.push_back(number(a));
  return out;
}

// Writes `n` entries of `size` bytes (put(i, address) fills one) as the kernel
// lays them out: a kho_block chain over `blocks` (luo-v5) or, with `at`, an
// array after a `header` of that many bytes (luo-v1; header_count writes the
// u64 count there). Returns the head address (0 when there is nothing).
template <typename Put>
std::uint64_t lay_out(Pages& p, const YAML::Node& spec, std::uint64_t n, std::uint64_t size, std::uint64_t header,
                      bool header_count, Put put) {
  if (!spec) return 0;
  if (spec["at"]) {
    const std::uint64_t at = number(spec["at"]);
    touch(p, at, header + std::max<std::uint64_t>(n, 1) * size);
    if (header_count) poke64(p, at, n);
    for (std::uint64_t i = 0; i < n; ++i) put(i, at + header + i * size);
    return at;
  }
  const auto blocks = addrs(spec["blocks"]);
  if (blocks.empty()) fail(spec, "blocks: [..] (a kho_block chain) or at: (a luo-v1 array)");
  const std::uint64_t cap = (kPage - kBlockHeader) / size;
  const std::uint64_t per = std::min(num(spec["per-block"], cap), cap);
  if (per == 0) fail(spec, "per-block must be at least 1");
  std::uint64_t i = 0;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    touch(p, blocks[b], kPage);
    poke64(p, blocks[b], b + 1 < blocks.size() ? blocks[b + 1] : 0);
    std::uint64_t k = 0;
    for (; k < per && i < n; ++k, ++i) put(i, blocks[b] + kBlockHeader + k * size);
    poke64(p, blocks[b] + 8, k);
  }
  if (i < n) fail(spec, "the blocks hold " + std::to_string(i) + " of " + std::to_string(n) + " entries");
  return blocks.front();
}

std::uint64_t entries_of(const YAML::Node& spec) { return spec && spec["entries"] ? spec["entries"].size() : 0; }

void gen_luo(Pages& p, const YAML::Node& luo) {
  const YAML::Node sessions = luo["sessions"];
  const std::uint64_t nsess = entries_of(sessions);
  const std::uint64_t spa = lay_out(p, sessions, nsess, kSessionSer, 8, true, [&](std::uint64_t i, std::uint64_t at) {
    const YAML::Node s = sessions["entries"][i];
    poke_str(p, at, text(s["name"]), 64);
    const YAML::Node files = s["files"];
    const std::uint64_t nf = entries_of(files);
    const std::uint64_t fpa = lay_out(p, files, nf, kFileSer, 0, false, [&](std::uint64_t j, std::uint64_t fat) {
      const YAML::Node f = files["entries"][j];
      poke_str(p, fat, text(f["compatible"], "memfd-v2"), 48);
      poke64(p, fat + 48, num(f["data"], 0));
      poke64(p, fat + 56, num(f["token"], 0));
    });
    poke64(p, at + 64, fpa);
    poke64(p, at + 72, num(s["count"], nf));
  });
  std::uint64_t fpa = 0;
  if (const YAML::Node f = luo["flbs"]) {
    fpa = number(f["at"]);
    const std::uint64_t pgcnt = num(f["pgcnt"], 1);
    touch(p, fpa, std::max<std::uint64_t>(pgcnt, 1) * kPage);
    const std::uint64_t n = entries_of(f);
    poke64(p, fpa, pgcnt);
    poke64(p, fpa + 8, num(f["count"], n));
    for (std::uint64_t i = 0; i < n; ++i) {
      const YAML::Node e = f["entries"][i];
      const std::uint64_t at = fpa + 16 + i * kFlbSer;
      poke_str(p, at, text(e["name"]), 48);
      poke64(p, at + 48, num(e["data"], 0));
      poke64(p, at + 56, num(e["count"], 1));
    }
  }
  if (const YAML::Node ser = luo["ser"]) {  // luo-v5 struct luo_ser
    const std::uint64_t at = number(ser);
    touch(p, at, 32);
    poke_str(p, at, text(luo["compatible"], "luo-v5"), 8);
    poke64(p, at + 8, num(luo["liveupdate-num"], 1));
    poke64(p, at + 16, num(luo["sessions-pa"], spa));
    poke64(p, at + 24, num(luo["flbs-pa"], fpa));
  }
}

void gen_memfd(Pages& p, const YAML::Node& m) {
  const std::uint64_t at = number(m["at"]);
  const std::uint64_t version = num(m["version"], 2);
  if (version != 1 && version != 2) fail(m["version"], "memfd version 1 or 2");
  const YAML::Node folios = m["folios"];
  const std::uint64_t nf = folios ? folios.size() : 0;
  touch(p, at, version == 2 ? 48 : 40);
  poke64(p, at, num(m["pos"], 0));
  poke64(p, at + 8, num(m["size"], nf * kPage));
  std::uint64_t vm = at + 24;
  if (version == 2) {
    poke32(p, at + 16, num(m["seals"], 0));
    poke32(p, at + 20, num(m["flags"], 0));
    poke64(p, at + 24, num(m["nr-folios"], nf));
    vm = at + 32;
  } else {
    poke64(p, at + 16, num(m["nr-folios"], nf));
  }
  const YAML::Node v = m["vmalloc"];
  if (!v) return;
  const auto chunks = addrs(v["chunks"]);
  const auto blocks = addrs(v["blocks"]);
  const std::uint64_t order = num(v["order"], 0);
  if (order > 16) fail(v["order"], "order above 16");
  const std::uint64_t bytes = kPage << order;
  poke64(p, vm, chunks.empty() ? 0 : chunks.front());
  poke32(p, vm + 8, num(v["total-pages"], blocks.size() << order));
  poke16(p, vm + 12, num(v["flags"], 1));
  poke16(p, vm + 14, order);
  // kho_preserve_vmalloc(): 511 blocks per chunk page, chunks linked by next.
  constexpr std::uint64_t kPerChunk = (kPage - 8) / 8;
  if (chunks.size() * kPerChunk < blocks.size()) fail(v, "not enough chunks for the blocks");
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    touch(p, chunks[c], kPage);
    poke64(p, chunks[c], c + 1 < chunks.size() ? chunks[c + 1] : 0);
    for (std::uint64_t k = 0; k < kPerChunk && c * kPerChunk + k < blocks.size(); ++k)
      poke64(p, chunks[c] + 8 + k * 8, blocks[c * kPerChunk + k]);
  }
  for (auto b : blocks) touch(p, b, bytes);
  // The folio array, across the data blocks in order.
  for (std::uint64_t i = 0; i < nf; ++i) {
    const YAML::Node f = folios[i];
    if (!f.IsSequence() || f.size() < 2) fail(f, "a folio is [phys, index] or [phys, index, flags]");
    const std::uint64_t off = i * kFolioSer, b = off / bytes;
    if (b >= blocks.size()) fail(f, "the vmalloc blocks hold fewer folios");
    const std::uint64_t a = blocks[b] + off % bytes;
    const std::uint64_t pfn = number(f[0]) >> 12, flags = f.size() > 2 ? number(f[2], 0xfff) : 3;
    poke64(p, a, (pfn & ((std::uint64_t{1} << 52) - 1)) | (flags << 52));
    poke64(p, a + 8, number(f[1]));
  }
}

}  // namespace

void gen_clients(Pages& pages, const YAML::Node& spec) {
  if (const YAML::Node luo = spec["luo"]) gen_luo(pages, luo);
  if (const YAML::Node m = spec["memfd"]) {
    if (!m.IsSequence()) fail(m, "memfd: takes a list");
    for (const auto& e : m) gen_memfd(pages, e);
  }
  if (const YAML::Node k = spec["kexec-metadata"]) {
    const std::uint64_t at = number(k["at"]);
    touch(pages, at, 73);
    poke32(pages, at, num(k["version"], 1));
    poke_str(pages, at + 4, text(k["release"], "7.3.4"), 65);
    poke32(pages, at + 69, num(k["count"], 1));
  }
}

}  // namespace khospec::conformance::memgen
