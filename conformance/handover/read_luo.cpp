// LUO, the Live Update Orchestrator (kernel/liveupdate/luo_core.c,
// luo_session.c, luo_file.c, luo_flb.c; include/linux/kho/abi/luo.h):
//   luo-v1 (6.19 - 7.1): an FDT; luo-session -> luo_session_header_ser {count}
//     and count luo_session_ser in one 16-page block; each session's files an
//     array of luo_file_ser (2 pages, no header); 7.0 adds luo-flb.
//   luo-v5 (7.2+): struct luo_ser; sessions and each session's files are
//     kho_block chains; flbs_pa -> luo_flb_header_ser and luo_flb_ser entries.
// The next kernel deserializes every session and file when /dev/liveupdate is
// first opened (luo_session_deserialize()); one bad entry fails the whole
// deserialization, and no session can be retrieved.
#include <set>

#include "conformance/handover/readers.hpp"

namespace khospec::conformance::follow {

namespace {

// luo-v1 capacities (luo_session.c LUO_SESSION_PGCNT 16, luo_file.c LUO_FILE_PGCNT 2, 6.19 - 7.1).
constexpr std::uint64_t kV1SessionPages = 16;
constexpr std::uint64_t kV1FilePages = 2;

void read_files(Walk& w, HandoverNode& session, const std::vector<BlockEntry>& entries) {
  const Layout& fl = layout("luo_file_ser");
  std::set<std::uint64_t> tokens;
  for (const auto& e : entries) {
    const Struct f(fl, e.bytes, w.endian());
    bool terminated = false;
    const std::string compat = f.str("compatible", &terminated);
    const std::uint64_t token = f.u("token"), data = f.u("data");
    const std::string path = session.path + " -> file token " + hex(token);
    HandoverNode node = make_node("file", hex(token), path, e.phys, fl.size);
    node.format = printable(compat);
    add_field(node, "token", token);
    add_field(node, "data", data);
    add_text(node, "compatible", printable(compat));
    if (!tokens.insert(token).second)
      w.add("kho_luo_invalid", path,
            "a second file with token " + hex(token) + " in this session: luo_retrieve_file() finds only the first");
    if (!terminated) {
      w.add("kho_luo_invalid", path,
            "the handler compatible fills all " + dec(f.field_size("compatible")) +
                " bytes without a NUL: no handler's strcmp() matches, luo_file_deserialize() returns -ENOENT");
      w.keep(session, std::move(node));
      continue;
    }
    const registry::ClientFormat* fmt = registry::format_by_label(compat);
    if (fmt && fmt->family == "memfd" && registry::written_under(w.root_compatible(), *fmt)) {
      read_memfd(w, node, *fmt, data);
    } else if (fmt && fmt->family == "memfd") {
      w.add("kho_client_format_mismatch", path,
            "the file's handler is " + compat + ", which no kernel reading a " + w.root_compatible() +
                " hand-over registers: luo_file_deserialize() returns -ENOENT and no session can be retrieved");
    } else {
      w.add("kho_luo_file_unknown", path,
            "handler '" + printable(compat) + "' is not one khospec knows (mainline has memfd-v1/-v2): a kernel "
            "without it fails luo_file_deserialize() with -ENOENT; only the entry itself is checked");
    }
    w.keep(session, std::move(node));
  }
}

// One session entry (luo_session_ser: name[64] and its file set).
void read_session(Walk& w, HandoverNode& luo, const BlockEntry& e, bool v1, std::set<std::string>& names) {
  const Layout& sl = layout("luo_session_ser");
  const Struct s(sl, e.bytes, w.endian());
  bool terminated = false;
  const std::string name = s.str("name", &terminated);
  const std::string path = luo.path + " -> session \"" + printable(name) + "\"";
  HandoverNode node = make_node("session", name, path, e.phys, sl.size);
  const std::uint64_t files = s.u("files"), count = s.u("count");
  add_field(node, "files", files);
  add_field(node, "count", count, false);
  if (!terminated)
    w.add("kho_luo_invalid", path,
          "the name fills all " + dec(s.field_size("name")) +
              " bytes without a NUL: luo_session_alloc()'s strscpy() cuts it, so RETRIEVE_SESSION by its name fails");
  else if (name.empty())
    w.add("kho_luo_invalid", path, "the session name is empty: LIVEUPDATE_IOCTL_CREATE_SESSION never accepts one, "
                                   "and RETRIEVE_SESSION cannot name it");
  if (!names.insert(name).second)
    w.add("kho_luo_invalid", path,
          "a second session with this name: luo_session_insert() returns -EEXIST and no session can be retrieved");
  if (files == 0) {
    if (count != 0)
      w.add("kho_luo_invalid", path,
            "count " + dec(count) + " files but files is 0: luo_file_deserialize() warns and the files are lost");
    w.keep(luo, std::move(node));
    return;
  }
  std::optional<std::vector<BlockEntry>> entries;
  const Layout& fl = layout("luo_file_ser");
  if (v1) {
    // luo_file_deserialize() (6.19 - 7.1): count entries of a contiguous array.
    const std::uint64_t cap = kV1FilePages * kPageSize / std::max<std::uint64_t>(fl.size, 1);
    if (count > cap) {
      w.add("kho_luo_invalid", path,
            "count " + dec(count) + " files, but the file array holds " + dec(cap) +
                " (LUO_FILE_MAX): luo_file_deserialize() reads past it");
    } else if (w.spend(count, path)) {
      HandoverNode arr = make_node("file_array", hex(files), path + " -> files " + hex(files), files, count * fl.size);
      w.require(arr, files, std::max<std::uint64_t>(count * fl.size, 1), Claim::folio, std::nullopt,
                "kho_restore_free() of the file array in luo_file_finish()");
      if (auto b = w.read(arr.path, files, count * fl.size, "luo_file_ser array")) {
        entries.emplace();
        for (std::uint64_t i = 0; i < count; ++i)
          entries->push_back({files + i * fl.size, std::vector<std::uint8_t>(b->begin() + static_cast<std::ptrdiff_t>(i * fl.size),
                                                                             b->begin() + static_cast<std::ptrdiff_t>((i + 1) * fl.size))});
      }
      w.keep(node, std::move(arr));
    }
  } else {
    entries = read_block_chain(w, node, files, fl.size, path, "files");
    if (entries && entries->size() != count)
      w.add("kho_luo_invalid", path,
            "the file blocks hold " + dec(entries->size()) + " entries, count says " + dec(count) +
                ": luo_file_deserialize() fails (\"File count mismatch\")");
  }
  if (entries) read_files(w, node, *entries);
  w.keep(luo, std::move(node));
}

// The FLB array: luo_flb_header_ser {pgcnt, count} and count luo_flb_ser (7.0+).
void read_flbs(Walk& w, HandoverNode& luo, std::uint64_t pa) {
  const Layout& hl = layout("luo_flb_header_ser");
  const Layout& el = layout("luo_flb_ser");
  const std::string path = luo.path + " -> flbs " + hex(pa);
  HandoverNode node = make_node("flb_header", hex(pa), path, pa, hl.size);
  auto hdr = w.read(path, pa, hl.size, "luo_flb_header_ser");
  if (!hdr) {
    w.keep(luo, std::move(node));
    return;
  }
  const Struct h(hl, *hdr, w.endian());
  const std::uint64_t pgcnt = h.u("pgcnt"), count = h.u("count");
  add_field(node, "pgcnt", pgcnt, false);
  add_field(node, "count", count, false);
  if (pgcnt == 0 || pgcnt > (std::uint64_t{1} << kMaxPageOrder)) {
    w.add("kho_luo_invalid", path, "pgcnt " + dec(pgcnt) + " is no block kho_alloc_preserve() makes (1 page in 7.3)");
    w.keep(luo, std::move(node));
    return;
  }
  node.size = pgcnt * kPageSize;
  w.require(node, pa, pgcnt * kPageSize, Claim::folio, std::nullopt, "kho_restore_free() of the FLB block");
  const std::uint64_t cap = (pgcnt * kPageSize - hl.size) / std::max<std::uint64_t>(el.size, 1);
  if (count > cap) {
    w.add("kho_luo_invalid", path,
          "count " + dec(count) + " FLBs, but " + dec(pgcnt) + " page(s) hold " + dec(cap) +
              ": luo_flb_retrieve_one() reads past the block");
    w.keep(luo, std::move(node));
    return;
  }
  if (count && w.spend(count, path)) {
    if (auto b = w.read(path, pa + hl.size, count * el.size, "luo_flb_ser array")) {
      std::set<std::string> names;
      for (std::uint64_t i = 0; i < count; ++i) {
        const Struct e(el, std::span(*b).subspan(i * el.size, el.size), w.endian());
        bool terminated = false;
        const std::string name = e.str("name", &terminated);
        const std::string fpath = luo.path + " -> flb \"" + printable(name) + "\"";
        HandoverNode f = make_node("flb", name, fpath, pa + hl.size + i * el.size, el.size);
        add_field(f, "data", e.u("data"));
        add_field(f, "count", e.u("count"), false);
        if (!terminated)
          w.add("kho_luo_invalid", fpath, "the FLB name has no NUL: strcmp() in luo_flb_retrieve_one() reads past it");
        else if (!names.insert(name).second)
          w.add("kho_luo_invalid", fpath, "a second FLB with this name: only the first is ever retrieved, this one leaks");
        w.keep(node, std::move(f));
      }
    }
  }
  w.keep(luo, std::move(node));
}

}  // namespace

void read_luo_ser(Walk& w, HandoverNode& client, std::span<const std::uint8_t> blob,
                  std::optional<std::uint64_t> blob_size) {
  const Layout& l = layout("luo_ser");
  const std::uint64_t have = std::min<std::uint64_t>(blob_size.value_or(blob.size()), blob.size());
  if (have < l.size) {
    w.add("kho_luo_invalid", client.path,
          "the LUO blob is " + dec(have) + " bytes, struct luo_ser is " + dec(l.size) +
              ": luo_early_startup() fails (\"LUO state is too small\") and live update is disabled");
    return;
  }
  const Struct s(l, blob, w.endian());
  const std::uint64_t sessions = s.u("sessions_pa"), flbs = s.u("flbs_pa");
  add_text(client, "compatible", printable(s.str("compatible")));
  add_field(client, "liveupdate_num", s.u("liveupdate_num"), false);
  add_field(client, "sessions_pa", sessions);
  add_field(client, "flbs_pa", flbs);
  if (sessions != 0) {
    if (auto entries = read_block_chain(w, client, sessions, layout("luo_session_ser").size, client.path, "sessions")) {
      std::set<std::string> names;
      for (const auto& e : *entries) read_session(w, client, e, false, names);
    }
  }
  if (flbs != 0) read_flbs(w, client, flbs);
}

void read_luo_fdt(Walk& w, HandoverNode& client, const fdt::FlatTree& sub) {
  if (sub.nodes.empty()) return;
  const fdt::FlatNode& root = sub.nodes.front();
  if (auto n = prop_u64(sub, root, "liveupdate-number", w.endian())) add_field(client, "liveupdate-number", *n, false);
  const int si = sub.child(root, "luo-session");
  if (si >= 0) {
    const fdt::FlatNode& sn = sub.nodes[static_cast<std::size_t>(si)];
    const std::string compat = prop_first_string(sub, sn, "compatible");
    auto pa = prop_u64(sub, sn, "luo-session-header", w.endian());
    const std::string path = client.path + " -> luo-session";
    if (compat != "luo-session-v2") {
      w.add("kho_client_format_mismatch", path,
            "luo-session is '" + printable(compat) + "', not luo-session-v2: every released luo-v1 reader "
            "(6.19 - 7.1) refuses the sessions and luo_early_startup() fails");
    } else if (pa && *pa == 0) {
      w.add("kho_luo_invalid", path, "luo-session-header is 0: the writer always allocates the session block");
    } else if (pa) {
      const Layout& hl = layout("luo_session_header_ser");
      const Layout& sl = layout("luo_session_ser");
      const std::uint64_t cap = (kV1SessionPages * kPageSize - hl.size) / std::max<std::uint64_t>(sl.size, 1);
      HandoverNode block = make_node("session_block", hex(*pa), path + " " + hex(*pa), *pa, hl.size);
      if (auto h = w.read(block.path, *pa, hl.size, "luo_session_header_ser")) {
        const std::uint64_t count = Struct(hl, *h, w.endian()).u("count");
        add_field(block, "count", count, false);
        if (count > cap) {
          w.add("kho_luo_invalid", block.path,
                "count " + dec(count) + " sessions, but the 16-page block holds " + dec(cap) +
                    " (LUO_SESSION_MAX): luo_session_deserialize() reads past it");
        } else {
          block.size = hl.size + count * sl.size;
          w.require(block, *pa, block.size, Claim::folio, std::nullopt,
                    "kho_restore_free() of the session block in luo_session_deserialize()");
          if (w.spend(count, block.path)) {
            if (auto b = w.read(block.path, *pa + hl.size, count * sl.size, "luo_session_ser array")) {
              std::set<std::string> names;
              for (std::uint64_t i = 0; i < count; ++i) {
                BlockEntry e{*pa + hl.size + i * sl.size,
                             std::vector<std::uint8_t>(b->begin() + static_cast<std::ptrdiff_t>(i * sl.size),
                                                       b->begin() + static_cast<std::ptrdiff_t>((i + 1) * sl.size))};
                read_session(w, client, e, true, names);
              }
            }
          }
        }
      }
      w.keep(client, std::move(block));
    }
  }
  const int fi = sub.child(root, "luo-flb");
  if (fi >= 0) {
    auto pa = prop_u64(sub, sub.nodes[static_cast<std::size_t>(fi)], "luo-flb-header", w.endian());
    if (pa && *pa) read_flbs(w, client, *pa);
  }
}

}  // namespace khospec::conformance::follow
