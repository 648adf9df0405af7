#include "conformance/handover/walk.hpp"

#include <algorithm>
#include <bit>
#include <map>
#include <mutex>

#include "core/rules.hpp"

namespace khospec::conformance::follow {

std::string hex(std::uint64_t v) { return hex_u64(v); }
std::string dec(std::uint64_t v) { return std::to_string(v); }

std::string c_string(std::span<const std::uint8_t> bytes, bool* terminated) {
  auto nul = std::find(bytes.begin(), bytes.end(), std::uint8_t{0});
  if (terminated) *terminated = nul != bytes.end();
  return std::string(bytes.begin(), nul);
}

std::string printable(std::string_view s) {
  std::string o;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      o.push_back(static_cast<char>(c));
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      o += b;
    }
  }
  return o;
}

const Layout& layout(std::string_view name) {
  // Parsed on first use, one schema file per layout (the schema pack carries no
  // layout fields yet): a hand-over without clients parses none.
  static std::mutex mu;
  static std::map<std::string, Layout, std::less<>> cache;
  static const Layout none;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(name);
  if (it == cache.end()) {
    auto l = SchemaSet::builtin().layout(name);
    it = cache.emplace(std::string(name), l ? std::move(*l) : Layout{}).first;
  }
  return it->second.size ? it->second : none;
}

const LayoutField* Struct::find(std::string_view field) const {
  for (const auto& f : l_.fields)
    if (f.name == field) return &f;
  return nullptr;
}

std::uint64_t Struct::u(std::string_view field) const {
  const LayoutField* f = find(field);
  if (!f || f->size == 0 || f->size > 8 || f->offset + f->size > b_.size()) return 0;
  std::uint64_t v = 0;
  for (std::uint64_t i = 0; i < f->size; ++i) {
    const std::uint64_t byte = b_[f->offset + i];
    const unsigned shift = static_cast<unsigned>(e_ == fdt::Endian::little ? 8 * i : 8 * (f->size - 1 - i));
    v |= byte << shift;
  }
  if (f->bit_width) {
    v >>= f->bit_lsb;
    if (f->bit_width < 64) v &= (std::uint64_t{1} << f->bit_width) - 1;
  }
  return v;
}

std::string Struct::str(std::string_view field, bool* terminated) const {
  const LayoutField* f = find(field);
  if (!f || f->offset >= b_.size()) {
    if (terminated) *terminated = false;
    return {};
  }
  const std::uint64_t n = std::min<std::uint64_t>(f->size * f->count, b_.size() - f->offset);
  return c_string(b_.subspan(f->offset, n), terminated);
}

std::uint64_t Struct::offset(std::string_view field) const {
  const LayoutField* f = find(field);
  return f ? f->offset : 0;
}

std::uint64_t Struct::field_size(std::string_view field) const {
  const LayoutField* f = find(field);
  return f ? f->size * f->count : 0;
}

Walk::Walk(const MemoryImage* image, const MapDecode* map, const FollowOptions& opts, Report& report,
           std::string root_compatible)
    : image_(image), map_(map), opts_(opts), report_(report), root_compat_(std::move(root_compatible)) {}

void Walk::add(std::string_view rule, const std::string& path, std::string message) {
  // A broken array of a million entries is one problem: the first findings of a
  // rule are listed, the rest counted (finish()).
  std::size_t& n = per_rule_[std::string(rule)];
  if (++n > kMaxPerRule) return;
  report_.add(make_finding(rule, opts_.file, std::nullopt, path, "", std::move(message), "kho"));
}

void Walk::finish(const std::string& path) {
  for (const auto& [rule, n] : per_rule_) {
    if (n <= kMaxPerRule) continue;
    report_.add(make_finding(rule, opts_.file, std::nullopt, path, "",
                             dec(n - kMaxPerRule) + " more " + rule + " findings like the ones above are not listed",
                             "kho"));
  }
  per_rule_.clear();
}

bool Walk::blocked(std::string_view rule) const {
  // Prerequisites are errors; their answer changes only when the report grows.
  const std::size_t n = report_.diagnostics().size();
  auto it = blocked_.find(rule);
  if (it != blocked_.end() && it->second.first == n) return it->second.second;
  bool any_error = false;
  for (const auto& d : report_.diagnostics()) any_error |= d.level == Level::error;
  const bool b = any_error && prereq_failed(rule, report_);
  blocked_[std::string(rule)] = {n, b};
  return b;
}

bool Walk::in_image(std::uint64_t phys, std::uint64_t len) const { return image_ && image_->contains(phys, len); }

std::optional<std::vector<std::uint8_t>> Walk::read(const std::string& path, std::uint64_t phys, std::uint64_t len,
                                                    std::string_view what) {
  if (len > (std::uint64_t{64} << 20)) len = std::uint64_t{64} << 20;  // never more than a sub-FDT may be
  // A client blob given on its own, without --memory: its pointers are shown, not
  // followed (as a root FDT's are without an image).
  if (!image_) return std::nullopt;
  if (auto v = image_->read_vec(phys, static_cast<std::size_t>(len))) return v;
  if (!missing_.count(phys) && !blocked("kho_image_addr_missing")) {
    missing_.insert(phys);
    add("kho_image_addr_missing", path,
        std::string(what) + " " + hex(phys) + " (" + hex(len) + " bytes) is not in the memory image " +
            image_->name());
  }
  return std::nullopt;
}

std::optional<PreservedBlock> Walk::block_at(std::uint64_t phys) const {
  if (!map_) return std::nullopt;
  const auto& b = map_->blocks;
  auto it = std::lower_bound(b.begin(), b.end(), PreservedBlock{phys, 0});
  if (it != b.end() && it->phys == phys) return *it;
  return std::nullopt;
}

std::vector<PreservedBlock> Walk::blocks_in(std::uint64_t phys, std::uint64_t len, std::size_t max) const {
  std::vector<PreservedBlock> out;
  if (!map_ || len == 0) return out;
  const std::uint64_t end = phys + len < phys ? ~std::uint64_t{0} : phys + len;
  const auto& b = map_->blocks;
  // Blocks are at most 2^51 pages; start a little before phys so a block that begins
  // earlier and reaches into the range is found (sorted by phys, the largest orders
  // matter only when they overlap, which check_overlaps() reports).
  auto it = std::lower_bound(b.begin(), b.end(), PreservedBlock{phys, 0});
  while (it != b.begin() && std::prev(it)->end() > phys) --it;
  for (; it != b.end() && it->phys < end && out.size() < max; ++it)
    if (it->end() > phys) out.push_back(*it);
  return out;
}

namespace {

unsigned ilog2(std::uint64_t v) { return 63u - static_cast<unsigned>(std::countl_zero(v)); }

std::string bytes_text(std::uint64_t len) { return len == kPageSize ? "1 page" : hex(len) + " bytes"; }

}  // namespace

bool Walk::require(HandoverNode& node, std::uint64_t phys, std::uint64_t len, Claim claim,
                   std::optional<unsigned> order, std::string_view restorer) {
  if (len == 0) len = 1;
  if (auto b = block_at(phys)) node.order = b->order;
  if (!can_check() || blocked("kho_not_preserved")) return true;
  const auto& blocks = map_->blocks;
  const std::uint64_t first = phys & ~(kPageSize - 1);
  const std::uint64_t last_end = phys + len < phys ? ~std::uint64_t{0} & ~(kPageSize - 1)
                                                   : (phys + len + kPageSize - 1) & ~(kPageSize - 1);
  const std::uint64_t span = last_end > first ? last_end - first : kPageSize;
  const bool any = covered(blocks, first, span);
  std::string why;
  switch (claim) {
    case Claim::covered:
      if (!any) why = "is not preserved";
      break;
    case Claim::folio: {
      auto b = block_at(phys);
      if (!b) {
        why = any ? "is preserved, but no preserved block starts there (the folio head kho_restore_folio() needs)"
                  : "is not preserved";
      } else if (order && b->order != *order) {
        why = "is preserved as an order-" + dec(b->order) + " block, not the order-" + dec(*order) + " folio it claims";
      } else if (b->size() < (phys - b->phys) + len && !covered(blocks, first, span)) {
        why = "starts an order-" + dec(b->order) + " block, but its " + bytes_text(len) + " reach past it into memory that is not preserved";
      }
      break;
    }
    case Claim::pages: {
      if (phys % kPageSize || len % kPageSize) {
        if (!any) why = "is not preserved";
        break;
      }
      // kho_preserve_pages() / kho_restore_pages(): maximal naturally aligned blocks.
      std::uint64_t pfn = phys >> kPageShift;
      const std::uint64_t end_pfn = pfn + (len >> kPageShift);
      std::size_t steps = 0;
      while (pfn < end_pfn && why.empty() && steps++ < 128) {
        const unsigned o = std::min<unsigned>(pfn ? static_cast<unsigned>(std::countr_zero(pfn)) : 63u, ilog2(end_pfn - pfn));
        const PreservedBlock want{pfn << kPageShift, o};
        if (!std::binary_search(blocks.begin(), blocks.end(), want)) {
          why = any ? "is preserved, but not as the blocks kho_preserve_pages() writes (no order-" + dec(o) + " block at " +
                          hex(want.phys) + ")"
                    : "is not preserved";
        }
        pfn += std::uint64_t{1} << o;
      }
      break;
    }
  }
  node.preserved = why.empty();
  if (!why.empty())
    add("kho_not_preserved", node.path,
        hex(phys) + " (" + bytes_text(len) + ") " + why +
            (restorer.empty() ? std::string()
             // kho_restore_*() refuses an unpreserved page; other readers (e.g.
             // reserve_mem_kho_revive(), 7.3 under vmtest) read it anyway, from
             // memory the next kernel has not reserved and may already reuse.
             : std::string_view(restorer).find("kho_restore") != std::string_view::npos
                 ? ": " + std::string(restorer) + " fails in the next kernel"
                 : ": " + std::string(restorer) + " reads it from memory the next kernel does not reserve "
                   "(free for reuse)"));
  return why.empty();
}

bool Walk::spend(std::uint64_t n, const std::string& path) {
  if (spent_ + n <= opts_.max_items) {
    spent_ += n;
    return true;
  }
  if (!limit_reported_) {
    limit_reported_ = true;
    add("kho_follow_limit", path,
        "not followed further: the walk reached its limit of " + dec(opts_.max_items) +
            " blocks and entries (--map-limit); the structures after it are not checked");
  }
  return false;
}

void Walk::keep(HandoverNode& parent, HandoverNode&& child) {
  if (nodes_ >= opts_.max_nodes) {
    ++parent.omitted;
    return;
  }
  ++nodes_;
  parent.children.push_back(std::move(child));
}

HandoverNode make_node(std::string kind, std::string name, std::string path, std::uint64_t phys, std::uint64_t size) {
  HandoverNode n;
  n.kind = std::move(kind);
  n.name = std::move(name);
  n.path = std::move(path);
  n.phys = phys;
  n.size = size;
  return n;
}

void add_field(HandoverNode& n, std::string name, std::uint64_t v, bool as_hex) {
  n.fields.push_back({std::move(name), as_hex ? hex(v) : dec(v), v});
}

void add_text(HandoverNode& n, std::string name, std::string text) {
  n.fields.push_back({std::move(name), std::move(text), std::nullopt});
}

}  // namespace khospec::conformance::follow
