// What every reader of the followed hand-over shares (internal to
// conformance/handover/): reads from the image, packed structs through their
// layout schemas, findings named by the pointer path, the budget that bounds
// every walk, and the cardinal rule.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/handover/handover.hpp"
#include "conformance/schema/schema.hpp"

namespace khospec::conformance::follow {

std::string hex(std::uint64_t v);
std::string dec(std::uint64_t v);
// A C string read from a char array: up to the first NUL (`terminated` false when none).
std::string c_string(std::span<const std::uint8_t> bytes, bool* terminated = nullptr);
// Printable form of a name for paths and messages ("kho-dump-session", "\x01..").
std::string printable(std::string_view s);

// A layout from the built-in schemas (schemas/layouts/*.yaml). Every layout a
// reader names exists (the handover test checks); a missing one reads as size 0.
const Layout& layout(std::string_view name);

// A packed struct viewed through its layout. Reads outside `bytes` give 0.
class Struct {
 public:
  Struct(const Layout& l, std::span<const std::uint8_t> bytes, fdt::Endian e) : l_(l), b_(bytes), e_(e) {}
  std::uint64_t u(std::string_view field) const;  // an integer field or bit-field
  std::string str(std::string_view field, bool* terminated = nullptr) const;  // a char array
  std::uint64_t offset(std::string_view field) const;
  std::uint64_t field_size(std::string_view field) const;
  std::uint64_t size() const { return l_.size; }

 private:
  const LayoutField* find(std::string_view field) const;
  const Layout& l_;
  std::span<const std::uint8_t> b_;
  fdt::Endian e_;
};

// How the next kernel takes a range back (the order the writer claims for it).
enum class Claim {
  covered,  // only read: every page in some preserved block (kho_is_preserved())
  folio,    // kho_restore_folio() / kho_restore_free(): one block starts at the address (at `order` when given)
  pages,    // kho_restore_pages(): the blocks kho_preserve_pages() writes, maximal and naturally aligned
};

class Walk {
 public:
  Walk(const MemoryImage* image, const MapDecode* map, const FollowOptions& opts, Report& report,
       std::string root_compatible);

  const FollowOptions& opts() const { return opts_; }
  fdt::Endian endian() const { return opts_.endian; }
  const std::string& root_compatible() const { return root_compat_; }
  bool can_check() const { return map_ && map_->complete; }

  // Findings: `path` is the finding's node. At most kMaxPerRule of one rule are
  // listed; finish() adds one finding that counts the rest.
  static constexpr std::size_t kMaxPerRule = 64;
  void add(std::string_view rule, const std::string& path, std::string message);
  void finish(const std::string& path);
  bool blocked(std::string_view rule) const;

  // The structure's bytes; kho_image_addr_missing (once per address) when the image lacks them.
  std::optional<std::vector<std::uint8_t>> read(const std::string& path, std::uint64_t phys, std::uint64_t len,
                                                std::string_view what);
  bool in_image(std::uint64_t phys, std::uint64_t len) const;

  // The cardinal rule: [phys, phys+len) lies in preserved memory, claimed as `claim`.
  // Records node.preserved / node.order; a miss is kho_not_preserved naming `restorer`
  // (the kernel call that then fails). True when preserved (or not checkable).
  bool require(HandoverNode& node, std::uint64_t phys, std::uint64_t len, Claim claim,
               std::optional<unsigned> order, std::string_view restorer);
  // The preserved block that starts at `phys`, if any.
  std::optional<PreservedBlock> block_at(std::uint64_t phys) const;
  // The blocks that intersect [phys, phys+len), in address order (at most `max`).
  std::vector<PreservedBlock> blocks_in(std::uint64_t phys, std::uint64_t len, std::size_t max) const;

  // The walk budget (FollowOptions::max_items): false once spent; the first miss
  // reports kho_follow_limit at `path`.
  bool spend(std::uint64_t n, const std::string& path);
  // Appends `child` to `parent.children` unless the tree already keeps max_nodes.
  void keep(HandoverNode& parent, HandoverNode&& child);

 private:
  const MemoryImage* image_;
  const MapDecode* map_;
  const FollowOptions& opts_;
  Report& report_;
  std::string root_compat_;
  std::uint64_t spent_ = 0;
  bool limit_reported_ = false;
  std::size_t nodes_ = 0;
  std::set<std::uint64_t> missing_;  // addresses already reported missing
  std::map<std::string, std::size_t, std::less<>> per_rule_;
  mutable std::map<std::string, std::pair<std::size_t, bool>, std::less<>> blocked_;
};

// Shorthands for building nodes.
HandoverNode make_node(std::string kind, std::string name, std::string path, std::uint64_t phys = 0,
                       std::uint64_t size = 0);
void add_field(HandoverNode& n, std::string name, std::uint64_t v, bool as_hex = true);
void add_text(HandoverNode& n, std::string name, std::string text);

}  // namespace khospec::conformance::follow
