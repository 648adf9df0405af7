#include "model/kho/abi_dump.hpp"

#include <string>

#include "model/kho/mem_track.hpp"

namespace khospec::model {

namespace {

constexpr std::uint64_t kPage = 1ull << KHO_PAGE_SHIFT;
// kho_add_subtree() node names: the schemas' child pattern (any libfdt-legal name).
constexpr const char* kChildPattern = "^[A-Za-z0-9,._+-]+$";

abi::Prop prop(std::string name, std::string type, bool required) {
  abi::Prop p;
  p.name = std::move(name);
  p.value.type = std::move(type);
  p.value.len = abi::type_len(p.value.type);
  p.required = required;
  return p;
}

abi::Field field(std::string name, std::uint64_t offset, std::uint64_t size, std::string type,
                 std::uint64_t count = 1) {
  abi::Field f;
  f.name = std::move(name);
  f.offset = offset;
  f.size = size;
  f.count = count;
  f.value.type = std::move(type);
  f.value.len = size;
  return f;
}

std::string bitmap_layout_name(MemMapFormat fmt) {
  return fmt == MemMapFormat::bitmap512 ? "kho_mem_phys_bits_512" : "kho_mem_phys_bits_page";
}

// kho-v1: chunk list -> bitmap pointers -> bitmaps (kernel/kexec_handover.c
// struct khoser_mem_chunk, khoser_mem_bitmap_ptr, kho_mem_phys_bits; 6.16-6.19).
void bitmap_layouts(MemMapFormat fmt, abi::AbiSet& s) {
  abi::Layout chunk{"khoser_mem_chunk", kPage, {}, "kho-v1 memory-map chunk page"};
  abi::Field next = field("next", 0, 8, "phys_addr");
  next.value.multiple_of = kPage;
  next.value.points_to = {"khoser_mem_chunk"};
  abi::Field order = field("order", 8, 4, "u32");
  order.value.maximum = KHO_MAX_WIRE_ORDER;
  abi::Field num = field("num_elms", 12, 4, "u32");
  num.value.maximum = KHOSER_BITMAP_SIZE;
  abi::Field bitmaps = field("bitmaps", 16, 16, "struct", KHOSER_BITMAP_SIZE);
  bitmaps.layout = "khoser_mem_bitmap_ptr";
  chunk.fields = {next, order, num, bitmaps};

  abi::Layout ptr{"khoser_mem_bitmap_ptr", 16, {}, "kho-v1 chunk entry"};
  abi::Field bm = field("bitmap", 8, 8, "phys_addr");
  bm.value.minimum = 1;
  bm.value.points_to = {bitmap_layout_name(fmt)};
  ptr.fields = {field("phys_start", 0, 8, "phys_addr"), bm};

  const std::uint64_t bytes = kho_preserve_bits(fmt) / 8;  // PRESERVE_BITS / 8
  abi::Layout bits{bitmap_layout_name(fmt), bytes, {field("preserve", 0, 8, "u64", bytes / 8)},
                   "kho-v1 bitmap"};
  s.layouts.push_back(chunk);
  s.layouts.push_back(ptr);
  s.layouts.push_back(bits);
}

// kho-v2+: radix nodes down to level-0 bitmaps (include/linux/kho_radix_tree.h).
void radix_layouts(abi::AbiSet& s) {
  const std::uint64_t entries = 1ull << KHO_TABLE_SIZE_LOG2;
  abi::Field table = field("table", 0, 8, "phys_addr", entries);
  table.value.multiple_of = kPage;
  table.value.points_to = {"kho_radix_node", "kho_radix_leaf"};
  s.layouts.push_back({"kho_radix_node", kPage, {table}, "kho-v2+ radix table node"});
  const std::uint64_t words = (1ull << KHO_BITMAP_SIZE_LOG2) / 64;
  s.layouts.push_back({"kho_radix_leaf", kPage, {field("bitmap", 0, 8, "u64", words)}, "kho-v2+ radix leaf"});
}

}  // namespace

abi::AbiSet kho_abi_dump(KhoEra era) {
  const EraTraits& t = era_traits(era);
  abi::AbiSet s;
  s.origin = "model:" + std::string(t.name);
  s.era = std::string(t.name);

  abi::Format f;
  f.compatible = std::string(t.compatible);
  f.kind = "root";
  f.status = "model";
  f.title = "KHO root FDT, " + std::string(t.compatible);
  f.source = s.origin;
  f.root.name = "/";
  f.root.additional = false;
  abi::Prop compat = prop("compatible", "string-list", true);
  compat.value.values = {std::string(t.compatible)};
  abi::Prop map = prop("preserved-memory-map", "phys_addr", true);
  map.value.minimum = 1;  // the root FDT page is itself preserved: never an empty map
  map.value.multiple_of = kPage;
  map.value.points_to = {t.mem_map == MemMapFormat::radix ? "kho_radix_node" : "khoser_mem_chunk"};
  f.root.props = {compat, map};

  abi::Node child;
  child.name = kChildPattern;
  child.pattern = true;
  child.additional = false;
  abi::Prop ptr = prop(std::string(t.subtree_prop), "phys_addr", true);
  ptr.value.multiple_of = kPage;
  // kho-v1 and kho-v2 children are sub-FDTs; blob-size (kho-v3+) admits packed structs.
  ptr.value.points_to = {t.blob_size ? "blob" : "fdt"};
  child.props.push_back(ptr);
  if (t.blob_size) child.props.push_back(prop("blob-size", "u64", true));
  f.root.children.push_back(child);
  s.formats.push_back(std::move(f));

  if (t.mem_map == MemMapFormat::radix) {
    radix_layouts(s);
  } else {
    bitmap_layouts(t.mem_map, s);
  }
  // The scratch array travels as its own kexec segment (struct kho_scratch).
  s.layouts.push_back({"kho_scratch", 16, {field("addr", 0, 8, "phys_addr"), field("size", 8, 8, "u64")},
                       "scratch area descriptor"});
  if (t.kho_block) {
    abi::Field next = field("next", 0, 8, "phys_addr");
    next.value.multiple_of = kPage;
    abi::Field count = field("count", 8, 8, "u64");
    count.value.minimum = 1;
    s.layouts.push_back({"kho_block_header_ser", 16, {next, count}, "KHO serialization block header"});
  }
  return s;
}

}  // namespace khospec::model
