// Tests' own walk of a serialized LUO state (luo-v1 FDT or luo-v5 struct,
// sessions, files, memfd_luo_ser, the folio array), from the outgoing blob
// through the image only: what a next kernel or a dump decoder would read.
// Independent of LuoClient's bookkeeping, so the tests can catch it lying.
#pragma once

#include <string>
#include <vector>

extern "C" {
#include <libfdt.h>
}

#include "fdt/decode.hpp"
#include "model/kho/luo_encoding.hpp"
#include "model/kho/phys_image.hpp"

namespace khospec::model::testutil {

struct WalkedMemfd {
  phys_addr_t at = 0;
  MemfdLuoSer ser;
  std::vector<phys_addr_t> chunks;   // kho_vmalloc chunk pages
  std::vector<phys_addr_t> array;    // folio array pages
  std::vector<MemfdFolioSer> folios;
};
struct WalkedFile {
  LuoFileSer ser;
  WalkedMemfd memfd;
};
struct WalkedSession {
  LuoSessionSer ser;
  std::vector<WalkedFile> files;
};
struct WalkedLuo {
  std::string compatible;                      // "luo-v5" or the FDT's
  std::uint64_t liveupdate_num = 0;
  LuoSer ser;                                  // luo-v5
  std::vector<phys_addr_t> session_blocks;     // v5 chain, or the v1 16-page block
  std::vector<KhoBlockHeader> session_headers; // v5
  std::vector<phys_addr_t> file_blocks;        // all sessions', in order (v5 blocks, v1 arrays)
  std::vector<KhoBlockHeader> file_headers;    // v5
  phys_addr_t flb = 0;
  std::vector<WalkedSession> sessions;
};

inline WalkedMemfd walk_memfd(const PhysImage& img, phys_addr_t at, bool v2) {
  WalkedMemfd m;
  m.at = at;
  m.ser = decode_memfd_luo_ser(img.read(at, memfd_luo_ser_size(v2)), v2);
  for (phys_addr_t c = m.ser.folios.first; c && m.chunks.size() < 16; c = img.read_u64(c)) {
    m.chunks.push_back(c);
    for (std::uint64_t i = 0; i < 511; ++i) {
      const phys_addr_t p = img.read_u64(c + 8 + i * 8);
      if (!p) break;
      m.array.push_back(p);
    }
  }
  for (std::uint64_t i = 0; i < m.ser.nr_folios; ++i) {
    const std::uint64_t byte = i * MEMFD_FOLIO_SER_SIZE;
    if (byte / 4096 >= m.array.size()) break;
    auto b = img.read(m.array[byte / 4096] + byte % 4096, 16);
    m.folios.push_back(decode_memfd_folio(std::span<const std::uint8_t, 16>(b.data(), 16)));
  }
  return m;
}

inline std::vector<phys_addr_t> walk_chain(const PhysImage& img, phys_addr_t head, std::vector<KhoBlockHeader>* hdrs) {
  std::vector<phys_addr_t> out;
  for (phys_addr_t b = head; b && out.size() < 64; b = img.read_u64(b)) {
    out.push_back(b);
    auto h = img.read(b, 16);
    hdrs->push_back(decode_kho_block_header(std::span<const std::uint8_t, 16>(h.data(), 16)));
  }
  return out;
}

// `blob_bytes`: the luo-v5 blob as the outgoing kernel's debugfs showed it
// at kexec (the next kernel frees and reuses that page early); else read at `blob`.
inline WalkedLuo walk_luo(const PhysImage& img, phys_addr_t blob, bool v5, bool memfd_v2,
                          const std::vector<std::uint8_t>* blob_bytes = nullptr) {
  WalkedLuo w;
  std::vector<LuoSessionSer> sessions;
  if (v5) {
    w.ser = decode_luo_ser(blob_bytes ? *blob_bytes : img.read(blob, 32));
    w.compatible = w.ser.compatible;
    w.liveupdate_num = w.ser.liveupdate_num;
    w.flb = w.ser.flbs_pa;
    w.session_blocks = walk_chain(img, w.ser.sessions_pa, &w.session_headers);
    for (std::size_t b = 0; b < w.session_blocks.size(); ++b)
      for (std::uint64_t i = 0; i < w.session_headers[b].count && i < 51; ++i)
        sessions.push_back(decode_luo_session_ser(img.read(w.session_blocks[b] + 16 + i * 80, 80)));
  } else {
    std::vector<std::uint64_t> buf(512, 0);
    img.read(blob, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(buf.data()), 4096));
    const void* f = buf.data();
    int len = 0;
    const char* c = static_cast<const char*>(fdt_getprop(f, 0, "compatible", &len));
    w.compatible = c ? std::string(c) : "";
    auto u64 = [&](int node, const char* name) -> std::uint64_t {
      int l = 0;
      const auto* p = static_cast<const std::uint8_t*>(fdt_getprop(f, node, name, &l));
      return p && l == 8 ? fdt::load_u64(p, fdt::Endian::little) : 0;
    };
    w.liveupdate_num = u64(0, "liveupdate-number");
    const int flb = fdt_subnode_offset(f, 0, "luo-flb");
    if (flb >= 0) w.flb = u64(flb, "luo-flb-header");
    const int sess = fdt_subnode_offset(f, 0, "luo-session");
    const phys_addr_t header = sess >= 0 ? u64(sess, "luo-session-header") : 0;
    if (header) {
      w.session_blocks.push_back(header);
      const std::uint64_t count = img.read_u64(header);
      for (std::uint64_t i = 0; i < count && i < 819; ++i)
        sessions.push_back(decode_luo_session_ser(img.read(header + 8 + i * 80, 80)));
    }
  }
  for (const auto& s : sessions) {
    WalkedSession ws;
    ws.ser = s;
    std::vector<LuoFileSer> files;
    if (v5 && s.files) {
      std::vector<KhoBlockHeader> hdrs;
      auto blocks = walk_chain(img, s.files, &hdrs);
      for (std::size_t b = 0; b < blocks.size(); ++b) {
        w.file_blocks.push_back(blocks[b]);
        w.file_headers.push_back(hdrs[b]);
        for (std::uint64_t i = 0; i < hdrs[b].count && i < 63; ++i)
          files.push_back(decode_luo_file_ser(img.read(blocks[b] + 16 + i * 64, 64)));
      }
    } else if (s.files) {
      w.file_blocks.push_back(s.files);
      for (std::uint64_t i = 0; i < s.count && i < 128; ++i)
        files.push_back(decode_luo_file_ser(img.read(s.files + i * 64, 64)));
    }
    for (const auto& f : files) ws.files.push_back({f, walk_memfd(img, f.data, memfd_v2)});
    w.sessions.push_back(std::move(ws));
  }
  return w;
}

}  // namespace khospec::model::testutil
