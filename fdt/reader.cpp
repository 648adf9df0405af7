#include "fdt/reader.hpp"

#include "core/rules.hpp"
#include "fdt/tree.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>
#include <iterator>
#include <memory>

extern "C" {
#include <libfdt.h>
}

namespace khospec::fdt {

namespace {

// Byte offsets of the big-endian header fields (struct fdt_header).
constexpr std::uint64_t kOffTotalsize = 4;
constexpr std::uint64_t kOffDtStruct = 8;
constexpr std::uint64_t kOffDtStrings = 12;
constexpr std::uint64_t kOffMemRsvmap = 16;
constexpr std::uint64_t kOffVersion = 20;
constexpr std::uint32_t kSwMagic = ~static_cast<std::uint32_t>(FDT_MAGIC);  // fdt_sw.c FDT_SW_MAGIC

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint32_t be32_at(std::span<const std::uint8_t> b, std::size_t off) {
  return (std::uint32_t{b[off]} << 24) | (std::uint32_t{b[off + 1]} << 16) |
         (std::uint32_t{b[off + 2]} << 8) | std::uint32_t{b[off + 3]};
}

struct Finder {
  Report& report;
  const std::string& file;
  // `level` documents the call site; the registry (core/rules.cpp) decides.
  void add(const char* rule, Level /*level*/, std::optional<std::uint64_t> offset, std::string message,
           std::vector<std::string> hints = {}) {
    Diagnostic d;
    d.rule = rule;
    d.level = rule_level(rule);
    d.file = file;
    d.offset = offset;
    d.message = std::move(message);
    d.hints = std::move(hints);
    d.type = "decode";
    report.add(std::move(d));
  }
};

// Where the structure block stops making sense, found with libfdt's own
// tokenizer (fdt_next_tag); used to give libfdt errors a byte offset and to
// name the two-roots / named-root cases that fdt_check_full folds into
// FDT_ERR_BADSTRUCTURE (or, in libfdt 1.6.1, does not catch at all).
struct StructWalk {
  int err = 0;          // libfdt error at `at`, 0 if the walk completed
  int at = 0;           // structure-block offset of the offending tag
  int roots = 0;
  int second_root_at = -1;
  int named_root_at = -1;
  int prop_after_node_at = -1;  // FDT_PROP after a sibling subnode: invisible to fdt_getprop()
  bool bad_name = false;        // the failure is a property name outside the strings block
  std::string root_name;
};

// The walk is fdt_check_full()'s own loop (libfdt 1.6.1: fdt_next_tag() per
// tag, depth bookkeeping, every property name resolved with fdt_get_string()),
// so a walk that completes is a blob fdt_check_full() accepts (open() checks
// the header, totalsize and the reservation block before; fdt/reader_test.cpp
// holds the two verdicts equal on corrupted blobs). open() therefore calls
// fdt_check_full() only when the walk fails, for libfdt's error code.
// `sink` (when not null) receives every node and property tag walked. open()
// walks only version 16+ blobs (names inline, values unaligned), so the token's
// name and value pointers are the ones fdt_get_name() / fdt_getprop() return.
StructWalk walk_struct(const void* fdt, Blob::TokenSink sink, void* ctx) {
  StructWalk w;
  int depth = 0;
  int offset = 0;
  // A property is after a subnode of its node exactly when the last node or property
  // tag before it is an FDT_END_NODE (of that subnode); FDT_BEGIN_NODE reopens.
  bool after_subnode = false;
  const char* const base = static_cast<const char*>(fdt) + fdt_off_dt_struct(fdt);
  for (;;) {
    int next = 0;
    std::uint32_t tag = fdt_next_tag(fdt, offset, &next);
    if (next < 0) {
      w.err = next;
      w.at = offset;
      return w;
    }
    switch (tag) {
      case FDT_BEGIN_NODE: {
        // fdt_next_tag() found the name's NUL before `next`: this is fdt_get_name()'s string.
        const char* name = base + offset + FDT_TAGSIZE;
        if (depth == 0) {
          ++w.roots;
          const std::size_t len = strnlen(name, static_cast<std::size_t>(next - offset) - FDT_TAGSIZE);
          if (w.roots == 1 && len > 0) {
            w.named_root_at = offset;
            w.root_name.assign(name, len);
          }
          if (w.roots == 2) w.second_root_at = offset;
        }
        if (sink) sink(ctx, {tag, offset, next, name});
        after_subnode = false;
        ++depth;
        break;
      }
      case FDT_END_NODE:
        if (depth == 0) {
          w.err = -FDT_ERR_BADSTRUCTURE;
          w.at = offset;
          return w;
        }
        if (sink) sink(ctx, {tag, offset, next});
        after_subnode = true;
        --depth;
        break;
      case FDT_END:
        if (depth != 0) {
          w.err = -FDT_ERR_BADSTRUCTURE;
          w.at = offset;
        }
        return w;
      case FDT_PROP: {
        if (after_subnode && depth > 0 && w.prop_after_node_at < 0) w.prop_after_node_at = offset;
        // The property's name must resolve inside the strings block: what
        // fdt_getprop_by_offset() checks in fdt_check_full(), without its second
        // fdt_next_tag() on a tag this walk has just read whole. fdt_next_tag()
        // returned a next offset only after checking (fdt_offset_ptr()) that the
        // tag, nameoff, len and value lie inside the structure block.
        const auto* prop = reinterpret_cast<const struct fdt_property*>(base + offset);
        int len = 0;
        const char* name = fdt_get_string(fdt, fdt32_to_cpu(prop->nameoff), &len);
        if (!name) {
          w.err = len < 0 ? len : -FDT_ERR_BADSTRUCTURE;
          w.at = offset;
          w.bad_name = true;
          return w;
        }
        if (sink) {
          // fdt_next_tag() checked that the value fits before `next`.
          sink(ctx, {tag, offset, next, name, len, reinterpret_cast<const std::uint8_t*>(prop->data),
                     static_cast<int>(fdt32_to_cpu(prop->len))});
        }
        break;
      }
      case FDT_NOP:
        break;
      default:
        w.err = -FDT_ERR_BADSTRUCTURE;
        w.at = offset;
        return w;
    }
    offset = next;
  }
}

const char* rule_for_libfdt(int err) {
  switch (-err) {
    case FDT_ERR_TRUNCATED: return "fdt_truncated";
    case FDT_ERR_BADMAGIC: return "fdt_bad_magic";
    case FDT_ERR_BADVERSION: return "fdt_bad_version";
    case FDT_ERR_BADSTATE: return "fdt_unfinished";
    default: return "fdt_bad_structure";
  }
}

}  // namespace

std::optional<std::uint32_t> peek_fdt_totalsize(std::span<const std::uint8_t> head) {
  // libfdt's accessors read through a whole struct fdt_header: copy what there
  // is into an aligned, zero-filled one.
  alignas(8) std::uint8_t hdr[sizeof(fdt_header)] = {};
  if (head.size() < 8) return std::nullopt;
  std::memcpy(hdr, head.data(), std::min(head.size(), sizeof hdr));
  if (fdt_magic(hdr) != FDT_MAGIC) return std::nullopt;
  return fdt_totalsize(hdr);
}

std::optional<std::string> root_compatible(std::span<const std::uint8_t> blob) {
  // libfdt wants the blob 8-byte aligned: work on an aligned copy.
  if (blob.size() < sizeof(fdt_header)) return std::nullopt;
  std::vector<std::uint64_t> copy((blob.size() + 7) / 8);
  std::memcpy(copy.data(), blob.data(), blob.size());
  const void* fdt = copy.data();
  if ( fdt_check_header(fdt) != 0 || fdt_totalsize(fdt) > blob.size())
    return std::nullopt;
  int len = 0;
  const auto* p = static_cast<const char*>(fdt_getprop(fdt, 0, "compatible", &len));
  if (!p || len <= 0) return std::nullopt;
  return std::string(p, strnlen(p, static_cast<std::size_t>(len)));
}

std::string fdt_err_name(int err) {
  int e = err < 0 ? -err : err;
  const char* s = fdt_strerror(-e);
  if (s && std::strncmp(s, "FDT_ERR_", 8) == 0) return s;
  return "FDT_ERR_(" + std::to_string(e) + ")";
}

void Blob::for_each_token(TokenSink sink, void* ctx) const {
  if (ok_) walk_struct(fdt(), sink, ctx);
}

Blob Blob::open(std::span<const std::uint8_t> bytes, const ReadOptions& opts, Report& report, FlatTree* flat) {
  if (flat) *flat = FlatTree{};
  Blob b;
  b.file_ = opts.file;
  b.size_ = bytes.size();
  // Round up to whole u64 words, zero-filled: the padding is never inside
  // [0, size) so libfdt (bounded by our size) cannot read it as blob content.
  b.storage_.reset(new std::uint64_t[(bytes.size() + 7) / 8 + 1]());
  if (!bytes.empty()) std::memcpy(b.storage_.get(), bytes.data(), bytes.size());

  Finder f{report, b.file_};
  const std::span<const std::uint8_t> buf = b.bytes();
  const char* hint_dump = "capture with: cp /sys/kernel/debug/kho/out/fdt FILE (debugfs exposes exactly fdt_totalsize() bytes)";

  if (buf.empty()) {
    f.add("fdt_empty", Level::error, 0, "input is empty (0 bytes); no FDT header",
          {"an empty debugfs file usually means KHO was not finalized (6.16-6.18) or is disabled (kho=off)"});
    return b;
  }
  const std::uint64_t whole = std::max<std::uint64_t>(opts.input_size.value_or(0), buf.size());
  if (whole > opts.max_size) {
    // The input's own size, not what was read of it (read_file() stops early).
    f.add("fdt_too_large", Level::error, 0,
          "input is " + std::to_string(whole) + " bytes (" + hex(whole) + "), above the size cap " + hex(opts.max_size),
          {"a KHO root FDT is one page since 6.16; raise the cap with --max-size if this is intended"});
    return b;
  }
  if (buf.size() < FDT_V1_SIZE || buf.size() < 8) {
    f.add("fdt_truncated", Level::error, buf.size(),
          "input is " + std::to_string(buf.size()) +
              " bytes, shorter than the smallest FDT header (FDT_ERR_TRUNCATED)",
          {hint_dump});
    return b;
  }
  const std::uint32_t magic = be32_at(buf, 0);
  if (magic == kSwMagic) {
    f.add("fdt_unfinished", Level::error, 0,
          "magic " + hex(magic) + " is libfdt's sequential-write magic: fdt_finish() was never called (FDT_ERR_BADSTATE)",
          {"the producer dumped its FDT before finishing it"});
    return b;
  }
  if (magic != FDT_MAGIC) {
    f.add("fdt_bad_magic", Level::error, 0,
          "magic " + hex(magic) + ", expected 0xd00dfeed (FDT_ERR_BADMAGIC)",
          {"this is not a flattened device tree; KHO dumps come from /sys/kernel/debug/kho/{in,out}/fdt"});
    return b;
  }
  const void* fdt = b.fdt();
  if (buf.size() < fdt_header_size(fdt)) {
    f.add("fdt_truncated", Level::error, buf.size(),
          "input is " + std::to_string(buf.size()) + " bytes, shorter than the version " +
              std::to_string(fdt_version(fdt)) + " header (FDT_ERR_TRUNCATED)",
          {hint_dump});
    return b;
  }
  if (int err = fdt_check_header(fdt); err != 0) {
    if (-err == FDT_ERR_BADVERSION) {
      f.add("fdt_bad_version", Level::error, kOffVersion,
            "version " + std::to_string(fdt_version(fdt)) + " / last_comp_version " +
                std::to_string(fdt_last_comp_version(fdt)) + " not supported by libfdt (" +
                fdt_err_name(err) + ")",
            {"KHO producers write FDT version 17 with libfdt's fdt_sw API"});
      return b;
    }
    // FDT_ERR_TRUNCATED from the header: name the block that does not fit.
    const std::uint64_t total = fdt_totalsize(fdt);
    struct Block { const char* name; std::uint64_t field; std::uint64_t off, size; };
    const Block blocks[] = {
        {"memory reservation block", kOffMemRsvmap, fdt_off_mem_rsvmap(fdt), 16},
        {"structure block", kOffDtStruct, fdt_off_dt_struct(fdt),
         fdt_version(fdt) >= 17 ? fdt_size_dt_struct(fdt) : 0},
        {"strings block", kOffDtStrings, fdt_off_dt_strings(fdt), fdt_size_dt_strings(fdt)}};
    for (const auto& blk : blocks) {
      if (total >= fdt_header_size(fdt) && (blk.off > total || blk.size > total - blk.off)) {
        f.add("fdt_block_out_of_bounds", Level::error, blk.field,
              std::string(blk.name) + " [" + hex(blk.off) + ", +" + hex(blk.size) +
                  ") extends past totalsize " + hex(total) + " (" + fdt_err_name(err) + ")",
              {"the header's block offsets and sizes must describe blocks inside the blob"});
        return b;
      }
    }
    f.add(rule_for_libfdt(err), Level::error, kOffTotalsize,
          "fdt_check_header: totalsize " + hex(total) + " cannot hold the header (" +
              fdt_err_name(err) + ")",
          {"the header is corrupt"});
    return b;
  }
  b.off_dt_struct_ = fdt_off_dt_struct(fdt);
  const std::uint64_t total = fdt_totalsize(fdt);
  if (total > opts.max_size) {
    f.add("fdt_too_large", Level::error, kOffTotalsize,
          "totalsize " + hex(total) + " is above the size cap " + hex(opts.max_size),
          {"a KHO root FDT is one page since 6.16; raise the cap with --max-size if this is intended"});
    return b;
  }
  if (total > buf.size()) {
    f.add("fdt_truncated", Level::error, kOffTotalsize,
          "totalsize " + hex(total) + " exceeds the " + hex(buf.size()) +
              " bytes read (FDT_ERR_TRUNCATED)",
          {"the blob was cut short; " + std::string(hint_dump),
           "known kernel quirk (Linux 7.x, kho-v2+): debugfs out/fdt keeps the size the root FDT had "
           "at kho_init(), so subtrees added later are cut off; read the root FDT page from memory, "
           "or in/fdt after kexec, instead"});
    return b;
  }

  // Versions 2-15 (node names as full paths) pass fdt_check_header(), but
  // libfdt 1.6.1's fdt_check_full() dereferences NULL on some of them
  // (fuzz/validate, crash on a version-3 blob), and no KHO producer writes them.
  if (fdt_version(fdt) < 16) {
    f.add("fdt_bad_version", Level::error, kOffVersion,
          "version " + std::to_string(fdt_version(fdt)) +
              " predates 16 (full-path node names): not read, libfdt cannot check it safely",
          {"KHO producers write FDT version 17 with libfdt's fdt_sw API"});
    return b;
  }

  // Alignment (DT spec: rsvmap 8, struct 4; every libfdt producer 4-aligns the
  // strings). libfdt 1.6.1 checks none of these (dtc #178).
  bool aligned = true;
  if (fdt_off_mem_rsvmap(fdt) % 8 != 0) {
    f.add("fdt_misaligned_rsvmap", Level::error, kOffMemRsvmap,
          "off_mem_rsvmap " + hex(fdt_off_mem_rsvmap(fdt)) + " is not 8-byte aligned",
          {"the memory reservation block must start on an 8-byte boundary"});
    aligned = false;
  }
  if (fdt_off_dt_struct(fdt) % 4 != 0) {
    f.add("fdt_misaligned_struct", Level::error, kOffDtStruct,
          "off_dt_struct " + hex(fdt_off_dt_struct(fdt)) + " is not 4-byte aligned",
          {"structure tokens are 32-bit words; the block must start on a 4-byte boundary"});
    aligned = false;
  }
  if (fdt_off_dt_strings(fdt) % 4 != 0) {
    f.add("fdt_misaligned_strings", Level::warning, kOffDtStrings,
          "off_dt_strings " + hex(fdt_off_dt_strings(fdt)) +
              " is not 4-byte aligned (allowed by the DT spec, never written by libfdt)",
          {"the blob was not produced by libfdt's fdt_sw/fdt_rw API as KHO does"});
  }
  if (!aligned) return b;

  if (fdt_version(fdt) != 17) {
    f.add("fdt_version_not_17", Level::warning, kOffVersion,
          "FDT version " + std::to_string(fdt_version(fdt)) +
              " is accepted by libfdt, but every KHO producer writes version 17",
          {"re-capture the blob from debugfs; a converted or hand-built blob may differ from the kernel's"});
  }

  // The decode is built during the walk (kept only when the blob is ok()).
  b.struct_size_ = fdt_version(fdt) >= 17 ? fdt_size_dt_struct(fdt) : total - std::min<std::uint64_t>(total, b.off_dt_struct_);
  std::optional<FlatBuilder> builder;
  if (flat) builder.emplace(*flat, b.off_dt_struct_, b.struct_size_);
  StructWalk walk = walk_struct(fdt, flat ? FlatBuilder::sink : nullptr, builder ? &*builder : nullptr);
  // fdt_check_full()'s verdict: the walk is its loop, and the reservation
  // block is the one check of it not made above (fdt_num_mem_rsv()).
  int err = walk.err == 0 && fdt_num_mem_rsv(fdt) >= 0 ? 0 : fdt_check_full(fdt, buf.size());
  bool structure_ok = err == 0 && walk.err == 0;
  if (walk.roots > 1) {
    f.add("fdt_two_roots", Level::error, b.abs_offset(walk.second_root_at),
          "a second top-level node follows the root (FDT_ERR_BADSTRUCTURE)",
          {"an FDT has exactly one root; the blob was concatenated or corrupted"});
    structure_ok = false;
  }
  if (walk.named_root_at >= 0) {
    f.add("fdt_named_root", Level::error, b.abs_offset(walk.named_root_at),
          "root node is named '" + walk.root_name + "'; the root name must be empty (FDT_ERR_BADSTRUCTURE)",
          {"KHO builds the root with fdt_begin_node(fdt, \"\"); the bindings' 'kho { ... }' wrapper is illustrative only"});
    structure_ok = false;
  }
  if (!structure_ok && walk.roots <= 1 && walk.named_root_at < 0) {
    int e = err != 0 ? err : walk.err;
    std::uint64_t where = walk.err != 0 ? b.abs_offset(walk.at) : kOffDtStruct;
    if (walk.bad_name) {
      f.add("fdt_bad_name_offset", Level::error, where,
            "property name offset does not resolve inside the strings block (" + fdt_err_name(e) + ")",
            {"size_dt_strings or the property's nameoff is corrupt; names live in the strings block"});
      return b;
    }
    f.add(rule_for_libfdt(e), Level::error, where,
          "fdt_check_full: " + fdt_err_name(e) +
              (walk.err != 0 ? " at structure offset " + hex(static_cast<std::uint64_t>(walk.at))
                             : std::string()),
          {-e == FDT_ERR_TRUNCATED
               ? "a token, name or value runs past the end of its block; " + std::string(hint_dump)
               : "the structure block is not a well-formed token stream (a token runs past "
                 "size_dt_struct, or BEGIN_NODE/END_NODE/END are unbalanced)"});
  }
  if (!structure_ok) {
    if (flat) *flat = FlatTree{};
    return b;
  }

  if (walk.prop_after_node_at >= 0) {
    f.add("fdt_property_after_subnode", Level::error, b.abs_offset(walk.prop_after_node_at),
          "a property follows a subnode of the same node; libfdt's property lookup stops at the "
          "first subnode, so fdt_getprop() never finds it",
          {"with fdt_sw, write every property of a node before its first fdt_begin_node(); KHO "
           "reserves preserved-memory-map as a placeholder for exactly this reason"});
  }

  int nrsv = fdt_num_mem_rsv(fdt);
  if (nrsv > 0) {
    f.add("fdt_rsvmap_not_empty", Level::warning, fdt_off_mem_rsvmap(fdt),
          std::to_string(nrsv) + " memory reservation entr" + (nrsv == 1 ? "y" : "ies") +
              "; KHO FDTs carry an empty reservation map",
          {"KHO never reads /memreserve/ entries: preserved memory is described by preserved-memory-map"});
  }
  b.ok_ = true;
  return b;
}

bool over_size_cap(std::span<const std::uint8_t> head, std::uint64_t seen, std::size_t max_size) {
  const auto claimed = peek_fdt_totalsize(head);
  return seen > max_size || (claimed && *claimed > max_size);
}

bool read_file(const std::string& path, std::vector<std::uint8_t>& out, std::string& error,
               std::size_t max_size, std::uint64_t* whole) {
  out.clear();
  if (whole) *whole = 0;
  // stdio, not an ifstream: no locale or stream buffer to set up for one read (start-up cost).
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  const bool regular = ::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode);
  if (regular && static_cast<std::uint64_t>(st.st_size) <= max_size) out.reserve(static_cast<std::size_t>(st.st_size));
  // Read at most max_size + 1 bytes so an oversized input is still diagnosed
  // (fdt_too_large) without being slurped whole. With `whole`, stop keeping
  // bytes as soon as the input is known to be too large (a regular file's size,
  // or the header's totalsize in the first 40 bytes): refusing a 100 MiB file
  // then costs one chunk, and `whole` says how large it was.
  constexpr std::size_t kChunk = 1 << 16;
  const std::unique_ptr<std::uint8_t[]> chunk(new std::uint8_t[kChunk]);
  bool bad = false, keep = true;
  std::uint64_t total = 0;
  for (;;) {
    const std::size_t got = std::fread(chunk.get(), 1, kChunk, f);
    total += got;
    if (!whole) {
      out.insert(out.end(), chunk.get(), chunk.get() + std::min(got, max_size + 1 - out.size()));
      if (out.size() > max_size) break;
    } else if (keep) {
      const std::uint64_t seen = regular ? static_cast<std::uint64_t>(st.st_size) : total;
      if (seen <= max_size) out.insert(out.end(), chunk.get(), chunk.get() + got);
      else if (out.empty()) out.assign(chunk.get(), chunk.get() + got);  // the header, for the finding
      if (over_size_cap(out, seen, max_size)) {
        keep = false;  // the header is all the finding needs
        out.resize(std::min(out.size(), kChunk));
        out.shrink_to_fit();
        if (regular) {  // the size is known: no need to read the rest
          total = static_cast<std::uint64_t>(st.st_size);
          break;
        }
      }
    }
    if (got < kChunk) {
      bad = std::ferror(f) != 0;
      break;
    }
  }
  const int read_errno = errno;
  if (f != stdin) std::fclose(f);
  if (bad) {
    out.clear();
    error = path + (read_errno == EISDIR ? ": is a directory (a debugfs tree is read with --live out|in --root DIR)"
                                         : ": read error: " + std::string(std::strerror(read_errno)));
    return false;
  }
  if (whole) *whole = total;
  return true;
}

}  // namespace khospec::fdt
