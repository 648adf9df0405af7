// kernel/liveupdate/luo_core.c, luo_session.c, luo_file.c, luo_flb.c as the
// model runs them: luo-v1 from the 6.19/7.0 sources (torvalds/linux
// cab056f2, 7f790dd2; the 7.1 FDT reader from the upstream record), luo-v5
// from Debian's 7.3 sources. docs/kernel-behaviour.md §9.
#include "model/kho/luo.hpp"

#include <algorithm>
#include <set>

extern "C" {
#include <libfdt.h>
}

#include "core/parse.hpp"
#include "fdt/builder.hpp"
#include "fdt/decode.hpp"
#include "model/kho/kernel_internal.hpp"
#include "model/kho/memfd.hpp"

namespace khospec::model {

using kernel_detail::ImageFdt;

namespace {

// luo-v1 block sizes (luo_session.c, luo_file.c, luo_flb.c of 6.19/7.0).
constexpr std::uint64_t LUO_SESSION_PGCNT = 16;
constexpr std::uint64_t LUO_FILE_PGCNT = 2;
constexpr std::uint64_t LUO_SESSION_MAX_V1 =
    (LUO_SESSION_PGCNT * PAGE_SIZE_4K - LUO_SESSION_HEADER_SER_SIZE) / LUO_SESSION_SER_SIZE;  // 819
constexpr std::uint64_t LUO_FILE_MAX_V1 = LUO_FILE_PGCNT * PAGE_SIZE_4K / LUO_FILE_SER_SIZE;  // 128

// A release boundary inside an era (luo_session_create()'s name check, 7.2).
bool since(const Kernel& k, std::string_view v) { return registry::compare_versions(k.release().version, v) >= 0; }

std::optional<std::uint64_t> fdt_u64(const void* f, int node, const char* name) {
  int len = 0;
  const auto* p = static_cast<const std::uint8_t*>(fdt_getprop(f, node, name, &len));
  if (!p || len != 8) return std::nullopt;
  return fdt::load_u64(p, fdt::Endian::little);
}

// The blocks of a kho_block chain, in order (bounded, cycle-safe).
std::vector<phys_addr_t> block_chain(const PhysImage& image, phys_addr_t head) {
  std::vector<phys_addr_t> out;
  std::set<phys_addr_t> seen;
  for (phys_addr_t b = head; b && seen.insert(b).second && out.size() < KHO_MAX_BLOCKS; b = image.read_u64(b))
    out.push_back(b);
  return out;
}

}  // namespace

// ------------------------------------------------------------------ setup ----

MemfdLuoHandler LuoClient::handler(const Kernel& k) const { return MemfdLuoHandler{k.writes("memfd-v2")}; }

// memfd_luo_init(): liveupdate_register_file_handler() is -EOPNOTSUPP
// unless live update is enabled.
bool LuoClient::handler_registered(const Kernel& k) const {
  return enabled_ && (k.writes("memfd-v1") || k.writes("memfd-v2"));
}

void LuoClient::init(Kernel& k) {
  v5_ = k.writes("luo-v5");
  flb_node_ = k.writes("luo-flb-v1");
  enabled_ = k.cmdline().liveupdate;
  if (enabled_ && !k.kho_enabled()) {
    k.log("luo: Disabling liveupdate because KHO is disabled");
    enabled_ = false;
  }
  setup_incoming(k);  // early_initcall
  if (enabled_) setup_outgoing(k);  // late_initcall
}

// luo_early_startup() / liveupdate_early_init(): any error panics the kernel
// (luo_restore_fail()); the model records it and disables live update.
void LuoClient::setup_incoming(Kernel& k) {
  if (!k.kho_enabled()) return;
  auto panic = [&](int err, const std::string& why) {
    k.log("luo: " + why);
    k.finding("HAZARD_LUO_PANIC", "error",
              "The incoming tree failed to initialize properly [" + std::to_string(err) +
                  "], disabling live update: " + why + " (luo_restore_fail() panics)");
    enabled_ = false;
  };
  phys_addr_t phys = 0;
  std::uint64_t size = 0;
  if (int err = k.kho_retrieve_subtree("LUO", &phys, &size)) {
    if (err != K_ENOENT) panic(err, "failed to retrieve LUO state 'LUO' from KHO");
    return;
  }
  if (v5_) {
    if (size < LUO_SER_SIZE) return panic(K_EINVAL, "LUO state is too small");
    const LuoSer s = decode_luo_ser(k.image().read(phys, LUO_SER_SIZE));
    if (s.compatible != "luo-v5") return panic(K_EINVAL, "LUO state is incompatible with 'luo-v5'");
    number_in_ = s.liveupdate_num;
    k.log("luo: Retrieved live update data, liveupdate number: " + std::to_string(number_in_));
    int err = 0;
    if (s.sessions_pa) {
      // kho_block_set_restore(): chain and counts checked now.
      std::vector<DecodeIssue> issues;
      if (!kho_block_read(k.image(), s.sessions_pa, LUO_SESSION_SER_SIZE, &issues)) {
        err = K_EINVAL;
      } else {
        in_active_ = true;
        in_sessions_ = s.sessions_pa;
      }
    }
    k.kho_restore_free(phys);  // the luo_ser page is not needed after early boot
    if (err) panic(err, "the session block set is corrupted");
    return;
  }
  // luo-v1. 7.1 reads the FDT only from a preserved page of at most a page.
  if (k.era().blob_size && (!size || size > PAGE_SIZE_4K || !k.kho_is_preserved(phys, (size + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K)))
    return panic(K_EINVAL, "Invalid LUO FDT from KHO");
  ImageFdt f(k.image(), phys, PAGE_SIZE_4K);
  if (fdt_node_check_compatible(f.fdt(), 0, "luo-v1"))
    return panic(K_EINVAL, "FDT 'LUO' is incompatible with 'luo-v1'");
  auto num = fdt_u64(f.fdt(), 0, "liveupdate-number");
  if (!num) return panic(K_EINVAL, "Unable to get live update number 'liveupdate-number'");
  number_in_ = *num;
  k.log("luo: Retrieved live update data, liveupdate number: " + std::to_string(number_in_));
  // luo_session_setup_incoming()
  const int sess = fdt_subnode_offset(f.fdt(), 0, "luo-session");
  if (sess < 0) return panic(K_EINVAL, "Unable to get session node: [luo-session]");
  if (fdt_node_check_compatible(f.fdt(), sess, "luo-session-v2"))
    return panic(K_EINVAL, "Session node incompatible [luo-session-v2]");
  auto header = fdt_u64(f.fdt(), sess, "luo-session-header");
  if (!header) return panic(K_EINVAL, "Unable to get session header 'luo-session-header'");
  // luo_flb_setup_incoming() (7.0+): a tree without the node is an error, so
  // a 6.19 LUO tree panics a 7.0 kernel.
  if (flb_node_) {
    const int flb = fdt_subnode_offset(f.fdt(), 0, "luo-flb");
    if (flb < 0) return panic(K_ENOENT, "Unable to get FLB node [luo-flb]");
    if (fdt_node_check_compatible(f.fdt(), flb, "luo-flb-v1"))
      return panic(K_EINVAL, "FLB node is incompatible with 'luo-flb-v1'");
    if (!fdt_u64(f.fdt(), flb, "luo-flb-header")) return panic(K_EINVAL, "Unable to get FLB header property");
  }
  in_active_ = true;
  in_sessions_ = *header;
}

// luo_late_startup(): the outgoing state, handed over from now on.
void LuoClient::setup_outgoing(Kernel& k) {
  number_out_ = number_in_ + 1;
  auto failed = [&](const std::string& why) {
    k.log("luo: failed to prepare LUO state: " + why);
    enabled_ = false;
  };
  if (v5_) {
    // luo_state_setup(): luo_ser, then the FLB page (luo_flb_setup_outgoing()).
    const std::int64_t ser = k.kho_alloc_preserve(LUO_SER_SIZE);
    if (ser < 0) return failed("luo_ser " + std::to_string(ser));
    const std::int64_t flb = k.kho_alloc_preserve(PAGE_SIZE_4K);
    if (flb < 0) {
      k.kho_unpreserve_free(static_cast<phys_addr_t>(ser), LUO_SER_SIZE);
      return failed("FLB header " + std::to_string(flb));
    }
    k.image().write_u64(static_cast<phys_addr_t>(flb), 1);  // pgcnt = LUO_FLB_PGCNT
    k.image().write(static_cast<phys_addr_t>(ser),
                    encode_luo_ser({"luo-v5", number_out_, 0, static_cast<std::uint64_t>(flb)}));
    if (int e = k.kho_add_subtree("LUO", static_cast<phys_addr_t>(ser), LUO_SER_SIZE)) {
      k.kho_unpreserve_free(static_cast<phys_addr_t>(ser), LUO_SER_SIZE);
      return failed("kho_add_subtree " + std::to_string(e));
    }
    blob_ = static_cast<phys_addr_t>(ser);
    flb_page_ = static_cast<phys_addr_t>(flb);
    return;
  }
  // luo_fdt_setup(): the FDT page, the session block, the FLB page (7.0+).
  const std::int64_t page = k.kho_alloc_preserve(PAGE_SIZE_4K);
  if (page < 0) return failed("FDT " + std::to_string(page));
  const std::int64_t sess = k.kho_alloc_preserve(LUO_SESSION_PGCNT * PAGE_SIZE_4K);
  if (sess < 0) {
    k.kho_unpreserve_free(static_cast<phys_addr_t>(page), PAGE_SIZE_4K);
    return failed("session block " + std::to_string(sess));
  }
  std::int64_t flb = 0;
  if (flb_node_) {
    flb = k.kho_alloc_preserve(PAGE_SIZE_4K);
    if (flb < 0) return failed("FLB header " + std::to_string(flb));
    k.image().write_u64(static_cast<phys_addr_t>(flb), 1);  // pgcnt
  }
  fdt::Builder b(PAGE_SIZE_4K, fdt::Endian::little, false);
  b.begin_node("").prop_string("compatible", "luo-v1").prop_u64("liveupdate-number", number_out_);
  b.begin_node("luo-session").prop_string("compatible", "luo-session-v2");
  b.prop_u64("luo-session-header", static_cast<std::uint64_t>(sess)).end_node();
  if (flb_node_) {
    b.begin_node("luo-flb").prop_string("compatible", "luo-flb-v1");
    b.prop_u64("luo-flb-header", static_cast<std::uint64_t>(flb)).end_node();
  }
  b.end_node();
  const auto blob = b.finish();
  if (blob.empty()) return failed("FDT build");
  k.image().write(static_cast<phys_addr_t>(page), blob);
  // 7.1: kho_add_subtree(..., fdt_totalsize(fdt_out)); earlier: no size.
  if (int e = k.kho_add_subtree("LUO", static_cast<phys_addr_t>(page), blob.size())) {
    k.kho_unpreserve_free(static_cast<phys_addr_t>(page), PAGE_SIZE_4K);
    return failed("kho_add_subtree " + std::to_string(e));
  }
  blob_ = static_cast<phys_addr_t>(page);
  session_mem_ = static_cast<phys_addr_t>(sess);
  flb_page_ = static_cast<phys_addr_t>(flb);
}

// ---------------------------------------------------------- kho_block sets ----

// kho_block_set_grow(): preallocate (kho_alloc_preserve) and link blocks
// until `entries` fit; on failure the new ones are freed again.
int LuoClient::grow(Kernel& k, std::vector<phys_addr_t>& blocks, std::uint64_t entries, std::uint64_t entry_size) {
  const std::size_t orig = blocks.size();
  while (entries > blocks.size() * kho_block_count_per_block(entry_size)) {
    const std::int64_t p = blocks.size() >= KHO_MAX_BLOCKS ? K_ENOSPC : k.kho_alloc_preserve(KHO_BLOCK_SIZE);
    if (p < 0) {
      while (blocks.size() > orig) {
        k.kho_unpreserve_free(blocks.back(), KHO_BLOCK_SIZE);
        blocks.pop_back();
      }
      if (!blocks.empty()) k.image().write_u64(blocks.back(), 0);
      return static_cast<int>(p);
    }
    if (!blocks.empty()) k.image().write_u64(blocks.back(), static_cast<std::uint64_t>(p));
    blocks.push_back(static_cast<phys_addr_t>(p));
  }
  return 0;
}

// kho_block_set_shrink(): drop trailing blocks the remaining entries do not need.
void LuoClient::shrink(Kernel& k, std::vector<phys_addr_t>& blocks, std::uint64_t entries, std::uint64_t entry_size) {
  while (!blocks.empty() && entries <= (blocks.size() - 1) * kho_block_count_per_block(entry_size)) {
    k.kho_unpreserve_free(blocks.back(), KHO_BLOCK_SIZE);
    blocks.pop_back();
    if (!blocks.empty()) k.image().write_u64(blocks.back(), 0);
  }
}

// kho_block_set_destroy() of an incoming set: kho_restore_free() each block.
void LuoClient::restore_free_blocks(Kernel& k, std::vector<phys_addr_t>& blocks) {
  for (phys_addr_t b : blocks) k.kho_restore_free(b);
  blocks.clear();
}

// -------------------------------------------------------------------- uAPI ----

LuoClient::Session* LuoClient::session_by_fd(int fd) {
  for (auto& s : sessions_)
    if (s.fd == fd && fd >= 0) return &s;
  return nullptr;
}

// luo_open(): the device exists only with live update on; every open
// deserializes (once) and fails with -EIO for good if that failed.
int LuoClient::open(Kernel& k) {
  if (!enabled_) return K_ENOENT;
  return deserialize(k) ? K_EIO : 0;
}

int LuoClient::create_session(Kernel& k, std::string_view name_in) {
  if (int e = open(k)) return e;
  std::string name(name_in);
  // luo_session_create(): 7.2 rejects an empty or over-long name ([T72]);
  // earlier releases copy at most 63 bytes (strscpy into name[64]).
  if (since(k, "7.2")) {
    if (name.empty() || name.size() > LIVEUPDATE_SESSION_NAME_LENGTH - 1) return K_EINVAL;
  } else if (name.size() > LIVEUPDATE_SESSION_NAME_LENGTH - 1) {
    name.resize(LIVEUPDATE_SESSION_NAME_LENGTH - 1);
  }
  std::uint64_t outgoing = 0;
  for (const auto& s : sessions_) outgoing += !s.incoming;
  // luo_session_insert(): room first (v5 grows the block set and keeps the
  // block on a later -EEXIST; v1 has a fixed 819-entry array), then the name.
  if (v5_) {
    if (int e = grow(k, session_blocks_, outgoing + 1, LUO_SESSION_SER_SIZE)) return e;
  } else if (outgoing == LUO_SESSION_MAX_V1) {
    return K_ENOMEM;
  }
  for (const auto& s : sessions_)
    if (!s.incoming && s.name == name) return K_EEXIST;
  Session s;
  s.name = name;
  s.fd = k.alloc_fd();
  sessions_.push_back(std::move(s));
  return sessions_.back().fd;
}

int LuoClient::preserve_fd(Kernel& k, int session_fd, int fd, std::uint64_t token) {
  Session* s = session_by_fd(session_fd);
  if (!s) return k.memfds().is_memfd(session_fd) ? K_ENOTTY : K_EBADF;
  if (s->incoming) return K_EINVAL;  // luo_ioctl_type_valid(): an outgoing session's ioctl
  for (const auto& f : s->files)
    if (f.token == token) return K_EEXIST;
  const std::uint64_t count = s->files.size();
  auto undo = [&](int err) {
    if (v5_) shrink(k, s->file_blocks, count, LUO_FILE_SER_SIZE);
    else if (count == 0 && s->files_mem) {  // luo_free_files_mem()
      k.kho_unpreserve_free(s->files_mem, LUO_FILE_PGCNT * PAGE_SIZE_4K);
      s->files_mem = 0;
    }
    return err;
  };
  if (v5_) {
    if (int e = grow(k, s->file_blocks, count + 1, LUO_FILE_SER_SIZE)) return e;
  } else if (count == LUO_FILE_MAX_V1) {
    return K_ENOSPC;
  }
  // fget(): a file descriptor of this kernel; only memfds have a handler.
  const bool is_memfd = k.memfds().is_memfd(fd);
  if (!is_memfd && !session_by_fd(fd)) return undo(K_EBADF);
  if (!v5_ && !s->files_mem) {  // luo_alloc_files_mem(), on the first file
    const std::int64_t m = k.kho_alloc_preserve(LUO_FILE_PGCNT * PAGE_SIZE_4K);
    if (m < 0) return static_cast<int>(m);
    s->files_mem = static_cast<phys_addr_t>(m);
  }
  if (!is_memfd || !handler_registered(k)) return undo(K_ENOENT);  // no handler can_preserve() it
  // 7.1 ("liveupdate: prevent double management of files", 00d0b372374f):
  // a file already preserved (in any session) is -EBUSY (xa_insert()).
  if (since(k, "7.1"))
    for (const auto& other : sessions_)
      for (const auto& f : other.files)
        if (!other.incoming && f.fd == fd) return undo(K_EBUSY);
  File f;
  f.token = token;
  f.compatible = std::string(handler(k).compatible());
  f.fd = fd;
  if (int e = handler(k).preserve(k, fd, &f.preserved)) return undo(e);
  s->files.push_back(std::move(f));
  return 0;
}

int LuoClient::retrieve_session(Kernel& k, std::string_view name) {
  if (int e = open(k)) return e;
  const std::string want(name.substr(0, LIVEUPDATE_SESSION_NAME_LENGTH));  // strncmp(.., 64)
  for (auto& s : sessions_) {
    if (!s.incoming || s.name != want) continue;
    if (s.retrieved) return K_EINVAL;
    s.retrieved = true;
    s.fd = k.alloc_fd();
    return s.fd;
  }
  return K_ENOENT;
}

std::vector<std::string> LuoClient::retrieved_sessions() const {
  std::vector<std::string> out;
  for (const auto& s : sessions_)
    if (s.retrieved) out.push_back(s.name);
  return out;
}

int LuoClient::retrieve_fd(Kernel& k, int session_fd, std::uint64_t token) {
  Session* s = session_by_fd(session_fd);
  if (!s) return k.memfds().is_memfd(session_fd) ? K_ENOTTY : K_EBADF;
  if (!s->retrieved) return K_EINVAL;  // an incoming session's ioctl
  for (auto& f : s->files) {
    if (f.token != token) continue;
    // luo_retrieve_file(): a failed retrieve stays failed; a retrieved file
    // is handed out again.
    if (f.retrieve_status < 0) return f.retrieve_status;
    if (f.retrieve_status > 0) return f.fd;
    const int r = handler(k).retrieve(k, f.data);
    if (r < 0) {
      f.retrieve_status = r;
      return r;
    }
    f.fd = r;
    f.retrieve_status = 1;
    const Memfd& m = *k.memfds().get(r);
    retrieved_.push_back({s->name, token, r, m.size, m.pos, m.seals, fnv1a(k.memfds().content(m))});
    return r;
  }
  return K_ENOENT;
}

int LuoClient::finish(Kernel& k, int session_fd) {
  Session* s = session_by_fd(session_fd);
  if (!s) return k.memfds().is_memfd(session_fd) ? K_ENOTTY : K_EBADF;
  if (!s->retrieved) return K_EINVAL;
  // luo_file_finish(): memfd has no can_finish(); files finish last first,
  // then the serialized file set goes back to the allocator.
  for (auto it = s->files.rbegin(); it != s->files.rend(); ++it) handler(k).finish(k, it->data, it->retrieve_status);
  if (v5_) {
    restore_free_blocks(k, s->file_blocks);
  } else if (s->files_mem) {
    k.kho_restore_free(s->files_mem);
    s->files_mem = 0;
  }
  s->files.clear();
  return 0;
}

int LuoClient::close_session(Kernel& k, int session_fd) {
  Session* s = session_by_fd(session_fd);
  if (!s) return k.memfds().is_memfd(session_fd) ? K_ENOTTY : K_EBADF;
  if (s->retrieved) {
    if (int e = finish(k, session_fd)) return e;
  } else {
    // luo_file_unpreserve_files(): last first, the block set shrinking.
    while (!s->files.empty()) {
      handler(k).unpreserve(k, s->files.back().fd, s->files.back().preserved);
      s->files.pop_back();
      if (v5_) shrink(k, s->file_blocks, s->files.size(), LUO_FILE_SER_SIZE);
    }
    if (s->files_mem) k.kho_unpreserve_free(s->files_mem, LUO_FILE_PGCNT * PAGE_SIZE_4K);
    s->files_mem = 0;
  }
  const bool outgoing = !s->incoming;
  sessions_.erase(sessions_.begin() + (s - sessions_.data()));
  if (outgoing && v5_) {
    std::uint64_t n = 0;
    for (const auto& x : sessions_) n += !x.incoming;
    shrink(k, session_blocks_, n, LUO_SESSION_SER_SIZE);
  }
  return 0;
}

// ------------------------------------------------------ deserialize (N+1) ----

int LuoClient::deserialize(Kernel& k) {
  if (deserialized_) return deserialize_err_;
  deserialized_ = true;
  if (!in_active_) return 0;
  const std::string handler_compat(handler(k).compatible());
  const bool have_handler = handler_registered(k);
  int err = 0;
  auto add_session = [&](const LuoSessionSer& ss) -> Session* {
    for (const auto& s : sessions_)
      if (s.incoming && s.name == ss.name) {
        err = K_EEXIST;
        return nullptr;
      }
    Session s;
    s.name = ss.name;
    s.incoming = true;
    sessions_.push_back(std::move(s));
    return &sessions_.back();
  };
  // luo_file_deserialize_one(): the handler is found by compatible.
  auto add_file = [&](Session& s, const LuoFileSer& fs) {
    if (!have_handler || fs.compatible != handler_compat) {
      k.log("luo: No registered handler for compatible '" + fs.compatible + "'");
      err = K_ENOENT;
      return;
    }
    File f;
    f.token = fs.token;
    f.compatible = fs.compatible;
    f.data = fs.data;
    s.files.push_back(std::move(f));
  };
  if (v5_) {
    auto chain = block_chain(k.image(), in_sessions_);
    auto entries = kho_block_read(k.image(), in_sessions_, LUO_SESSION_SER_SIZE, nullptr);
    for (const auto& e : entries.value_or(std::vector<std::vector<std::uint8_t>>{})) {
      const LuoSessionSer ss = decode_luo_session_ser(e);
      Session* s = add_session(ss);
      if (!s) break;
      if (!ss.files) continue;
      auto files = kho_block_read(k.image(), ss.files, LUO_FILE_SER_SIZE, nullptr);
      if (!files) {
        err = K_EINVAL;
        break;
      }
      s->file_blocks = block_chain(k.image(), ss.files);
      for (const auto& fe : *files) {
        add_file(*s, decode_luo_file_ser(fe));
        if (err) break;
      }
      if (!err && s->files.size() != ss.count) {
        k.log("luo: File count mismatch: expected " + std::to_string(ss.count) + ", found " +
              std::to_string(s->files.size()));
        err = K_EINVAL;
      }
      if (err) {
        s->files.clear();
        restore_free_blocks(k, s->file_blocks);
        break;
      }
    }
    restore_free_blocks(k, chain);
  } else {
    const std::uint64_t count = k.image().read_u64(in_sessions_);
    // Model guard: the kernel trusts the count; past the block it would read
    // whatever follows.
    if (count > LUO_SESSION_MAX_V1) err = K_EINVAL;
    for (std::uint64_t i = 0; i < count && !err; ++i) {
      const LuoSessionSer ss = decode_luo_session_ser(
          k.image().read(in_sessions_ + LUO_SESSION_HEADER_SER_SIZE + i * LUO_SESSION_SER_SIZE, LUO_SESSION_SER_SIZE));
      Session* s = add_session(ss);
      if (!s || !ss.files) continue;
      s->files_mem = ss.files;
      for (std::uint64_t j = 0; j < ss.count && j < LUO_FILE_MAX_V1 && !err; ++j)
        add_file(*s, decode_luo_file_ser(k.image().read(ss.files + j * LUO_FILE_SER_SIZE, LUO_FILE_SER_SIZE)));
    }
    if (!err) k.kho_restore_free(in_sessions_);
  }
  if (err) {
    k.log("luo: session deserialization failed: " + std::to_string(err));
    deserialize_err_ = err;
  }
  return err;
}

// ------------------------------------------------------------ reboot (N) ----

int LuoClient::on_reboot(Kernel& k) {
  if (!enabled_) return 0;
  if (int e = serialize(k)) return e;
  record_handed(k);
  check_serialized(k);
  // 6.19/7.0: the bitmaps must describe what is preserved now.
  if (k.era().finalize == FinalizeModel::refresh && k.kho_finalize()) return K_EAGAIN;
  return 0;
}

int LuoClient::serialize(Kernel& k) {
  std::vector<Session*> out;
  for (auto& s : sessions_)
    if (!s.incoming) out.push_back(&s);
  const MemfdLuoHandler h = handler(k);
  // luo_file_freeze(): freeze each file, then write its entry.
  auto freeze_files = [&](Session& s, LuoSessionSer& ss) -> int {
    if (s.files.empty()) return 0;
    for (std::size_t j = 0; j < s.files.size(); ++j) {
      File& f = s.files[j];
      if (int e = h.freeze(k, f.fd, f.preserved)) return e;
      const auto bytes = encode_luo_file_ser({f.compatible, f.preserved.ser, f.token});
      if (v5_) {
        const KhoBlockSlot slot = kho_block_slot(j, LUO_FILE_SER_SIZE);
        if (slot.block >= s.file_blocks.size()) return K_ENOSPC;  // WARN_ON_ONCE: preallocated
        k.image().write(s.file_blocks[slot.block] + slot.offset, bytes);
        k.image().write_u64(s.file_blocks[slot.block] + 8, j % kho_block_count_per_block(LUO_FILE_SER_SIZE) + 1);
      } else {
        k.image().write(s.files_mem + j * LUO_FILE_SER_SIZE, bytes);
      }
    }
    ss.files = v5_ ? s.file_blocks.front() : s.files_mem;
    ss.count = s.files.size();
    return 0;
  };
  if (v5_) {
    k.image().write_u64(blob_ + 16, 0);  // *sessions_pa = 0
    for (std::size_t i = 0; i < out.size(); ++i) {
      const KhoBlockSlot slot = kho_block_slot(i, LUO_SESSION_SER_SIZE);
      if (slot.block >= session_blocks_.size()) return K_ENOSPC;
      LuoSessionSer ss{out[i]->name, 0, 0};
      if (int e = freeze_files(*out[i], ss)) return e;
      k.image().write(session_blocks_[slot.block] + slot.offset, encode_luo_session_ser(ss));
      k.image().write_u64(session_blocks_[slot.block] + 8, i % kho_block_count_per_block(LUO_SESSION_SER_SIZE) + 1);
    }
    if (!out.empty()) k.image().write_u64(blob_ + 16, session_blocks_.front());
  } else {
    for (std::size_t i = 0; i < out.size(); ++i) {
      LuoSessionSer ss{out[i]->name, 0, 0};
      if (int e = freeze_files(*out[i], ss)) return e;
      k.image().write(session_mem_ + LUO_SESSION_HEADER_SER_SIZE + i * LUO_SESSION_SER_SIZE, encode_luo_session_ser(ss));
    }
    k.image().write_u64(session_mem_, out.size());
  }
  // luo_flb_serialize(): no FLB user (memfd has none) -> count 0.
  if (flb_page_) k.image().write_u64(flb_page_ + 8, 0);
  serialized_ = true;
  k.note("liveupdate_reboot: " + std::to_string(out.size()) + " session(s) serialized");
  return 0;
}

void LuoClient::record_handed(Kernel& k) {
  handed_.clear();
  const bool v2 = handler(k).v2;
  for (const auto& s : sessions_) {
    if (s.incoming) continue;
    for (const auto& f : s.files) {
      const Memfd* m = k.memfds().get(f.fd);
      if (!m) continue;
      handed_.push_back({s.name, f.token, m->size, m->pos, m->seals, v2, fnv1a(k.memfds().content(*m))});
    }
  }
}

std::vector<std::pair<phys_addr_t, std::uint64_t>> LuoClient::serialized_structures(const Kernel& k,
                                                                                  std::vector<std::string>* issues) const {
  std::vector<std::pair<phys_addr_t, std::uint64_t>> out;
  if (!serialized_ || !blob_) return out;
  const PhysImage& img = k.image();
  const bool v2 = k.writes("memfd-v2");
  auto files = [&](const LuoSessionSer& ss) {
    std::vector<LuoFileSer> fs;
    if (!ss.files) return fs;
    if (v5_) {
      for (phys_addr_t b : block_chain(img, ss.files)) out.emplace_back(b, KHO_BLOCK_SIZE);
      std::vector<DecodeIssue> why;
      auto entries = kho_block_read(img, ss.files, LUO_FILE_SER_SIZE, &why);
      if (!entries && issues) issues->push_back("file blocks of session '" + ss.name + "' do not decode");
      for (const auto& e : entries.value_or(std::vector<std::vector<std::uint8_t>>{})) fs.push_back(decode_luo_file_ser(e));
    } else {
      out.emplace_back(ss.files, LUO_FILE_PGCNT * PAGE_SIZE_4K);
      for (std::uint64_t j = 0; j < ss.count && j < LUO_FILE_MAX_V1; ++j)
        fs.push_back(decode_luo_file_ser(img.read(ss.files + j * LUO_FILE_SER_SIZE, LUO_FILE_SER_SIZE)));
    }
    return fs;
  };
  std::vector<LuoSessionSer> sessions;
  if (v5_) {
    out.emplace_back(blob_, LUO_SER_SIZE);
    const LuoSer s = decode_luo_ser(img.read(blob_, LUO_SER_SIZE));
    if (s.flbs_pa) out.emplace_back(s.flbs_pa, PAGE_SIZE_4K);
    if (s.sessions_pa) {
      for (phys_addr_t b : block_chain(img, s.sessions_pa)) out.emplace_back(b, KHO_BLOCK_SIZE);
      auto entries = kho_block_read(img, s.sessions_pa, LUO_SESSION_SER_SIZE, nullptr);
      if (!entries && issues) issues->push_back("session blocks do not decode");
      for (const auto& e : entries.value_or(std::vector<std::vector<std::uint8_t>>{}))
        sessions.push_back(decode_luo_session_ser(e));
    }
  } else {
    ImageFdt f(img, blob_, PAGE_SIZE_4K);
    out.emplace_back(blob_, fdt_totalsize(f.fdt()));
    const int sess = fdt_subnode_offset(f.fdt(), 0, "luo-session");
    auto header = sess < 0 ? std::nullopt : fdt_u64(f.fdt(), sess, "luo-session-header");
    const int flb = fdt_subnode_offset(f.fdt(), 0, "luo-flb");
    if (auto fh = flb < 0 ? std::nullopt : fdt_u64(f.fdt(), flb, "luo-flb-header")) out.emplace_back(*fh, PAGE_SIZE_4K);
    if (!header) {
      if (issues) issues->push_back("the LUO FDT has no luo-session-header");
    } else {
      out.emplace_back(*header, LUO_SESSION_PGCNT * PAGE_SIZE_4K);
      const std::uint64_t count = std::min(img.read_u64(*header), LUO_SESSION_MAX_V1);
      for (std::uint64_t i = 0; i < count; ++i)
        sessions.push_back(decode_luo_session_ser(
            img.read(*header + LUO_SESSION_HEADER_SER_SIZE + i * LUO_SESSION_SER_SIZE, LUO_SESSION_SER_SIZE)));
    }
  }
  for (const auto& ss : sessions)
    for (const auto& fs : files(ss))
      for (const auto& r : memfd_luo_structures(img, fs.data, v2, issues)) out.push_back(r);
  return out;
}

// INV_LUO_SERIALIZED_PRESERVED: every byte of the state liveupdate_reboot()
// left for the next kernel lies in a preserved block; otherwise the next
// kernel may hand that memory out before it reads it.
void LuoClient::check_preserved(const Kernel& k, FindingBatch& v) const {
  if (!k.tracker()) return;
  std::vector<std::string> issues;
  const auto structures = serialized_structures(k, &issues);
  std::map<phys_addr_t, phys_addr_t> blocks;  // start -> end
  for (const auto& b : k.tracker()->blocks()) blocks[b.phys] = b.phys + (PAGE_SIZE_4K << b.order);
  auto covered = [&](phys_addr_t a) {
    auto it = blocks.upper_bound(a);
    if (it == blocks.begin()) return false;
    --it;
    return a < it->second;
  };
  for (const auto& [a, len] : structures) {
    for (phys_addr_t p = a / PAGE_SIZE_4K * PAGE_SIZE_4K; p < a + len; p += PAGE_SIZE_4K) {
      if (covered(p)) continue;
      v.add("INV_LUO_SERIALIZED_PRESERVED", "error",
            "LUO state at " + hex(a) + " (+" + hex(len) + ") is not preserved at " + hex(p) +
                ": the next kernel may reuse it before LUO reads it");
      break;
    }
  }
  for (const auto& i : issues)
    v.add("INV_LUO_SERIALIZED_PRESERVED", "error", "the serialized LUO state does not decode: " + i);
}

// INV_KHO_BLOCK_CHAIN_VALID (luo-v5): each chain the next kernel walks --
// the sessions from sessions_pa, each session's files -- is the blocks this
// kernel linked, in order, ends within KHO_MAX_BLOCKS without a cycle, has
// every count in [1, c], and its counts add up to the entries it holds.
void LuoClient::check_chains(const Kernel& k, FindingBatch& v) const {
  if (!v5_ || !serialized_ || !blob_) return;
  const PhysImage& img = k.image();
  auto check = [&](const std::string& what, phys_addr_t head, const std::vector<phys_addr_t>& linked,
                   std::uint64_t entries, std::uint64_t entry_size) {
    const auto fail = [&](const std::string& why) {
      v.add("INV_KHO_BLOCK_CHAIN_VALID", "error", what + " chain at " + hex(head) + ": " + why);
    };
    if (!entries) return;
    std::vector<DecodeIssue> issues;
    const auto read = kho_block_read(img, head, entry_size, &issues);
    if (!read) return fail(issues.empty() ? std::string("does not decode") : issues.front().what + " at " + hex(issues.front().at));
    if (read->size() != entries)
      return fail(std::to_string(read->size()) + " entries for " + std::to_string(entries));
    const auto chain = block_chain(img, head);
    const std::vector<phys_addr_t> need(linked.begin(), linked.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(
                                                                              linked.size(), kho_block_blocks_for(entries, entry_size))));
    if (chain != need) fail("walks " + std::to_string(chain.size()) + " blocks, not the " + std::to_string(need.size()) + " linked");
  };
  std::uint64_t outgoing = 0;
  for (const auto& s : sessions_) outgoing += !s.incoming;
  const LuoSer ser = decode_luo_ser(img.read(blob_, LUO_SER_SIZE));
  check("session", ser.sessions_pa, session_blocks_, outgoing, LUO_SESSION_SER_SIZE);
  for (const auto& s : sessions_) {
    if (s.incoming || s.files.empty() || s.file_blocks.empty()) continue;
    check("file (session '" + s.name + "')", s.file_blocks.front(), s.file_blocks, s.files.size(), LUO_FILE_SER_SIZE);
  }
}

// INV_MEMFD_FOLIO_ENTRY_EXACT on every preserved memfd of the outgoing sessions.
void LuoClient::check_folio_entries(const Kernel& k, FindingBatch& v) const {
  if (!serialized_) return;
  const bool v2 = k.writes("memfd-v2");
  for (const auto& s : sessions_) {
    if (s.incoming) continue;
    for (const auto& f : s.files)
      for (const auto& why : memfd_luo_entry_violations(k.image(), f.preserved.ser, v2))
        v.add("INV_MEMFD_FOLIO_ENTRY_EXACT", "error",
              "session '" + s.name + "' token " + hex(f.token) + ": " + why + ": the next kernel restores another file");
  }
}

std::vector<Finding> LuoClient::check_serialized(Kernel& k) const {
  FindingBatch v;
  check_preserved(k, v);
  check_chains(k, v);
  check_folio_entries(k, v);
  return v.report(k);
}

}  // namespace khospec::model
