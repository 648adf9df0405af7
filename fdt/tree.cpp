#include "fdt/tree.hpp"

#include <set>

#include "core/rules.hpp"

extern "C" {
#include <libfdt.h>
}

namespace khospec::fdt {

const Property* Node::prop(std::string_view n) const {
  for (const auto& p : props) {
    if (p.name == n) return &p;
  }
  return nullptr;
}

const Node* Node::child(std::string_view n) const {
  for (const auto& c : children) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

std::optional<PropType> kho_prop_type(const Node& node, std::string_view prop) {
  (void)node;  // names are unambiguous across every KHO ABI so far
  struct Entry { std::string_view name; PropType type; };
  static constexpr Entry kTable[] = {
      {"compatible", PropType::string_list},
      // root (kho-v1..v4): kernel/kexec_handover.c, include/linux/kho/abi/kexec_handover.h
      {"preserved-memory-map", PropType::phys_addr},
      {"preserved-order-table", PropType::phys_addr},  // RFC "Make KHO Stateless" v1
      // subtree pointers: "fdt" (kho-v1), "preserved-data" + "blob-size" (kho-v2+)
      {"fdt", PropType::phys_addr},
      {"preserved-data", PropType::phys_addr},
      {"blob-size", PropType::u64},
      // memblock reserve-mem-v1 nodes (mm/memblock.c reserve_mem_kho_*)
      {"start", PropType::phys_addr},
      {"size", PropType::u64},
      // lib/test_kho.c kho-test-v1
      {"magic", PropType::u32},
      {"nr_folios", PropType::u32},
      {"csum", PropType::u32},
      {"folios_info", PropType::u64_array},
      // LUO v1/v2 FDTs
      {"liveupdate-number", PropType::u64},
      {"luo-session-header", PropType::phys_addr},
      {"luo-flb-header", PropType::phys_addr},
      {"luo-abi-header", PropType::phys_addr},
      // Graf RFC (G0/G1): mem = kho_mem{addr,len}[]; ftrace bindings
      {"mem", PropType::u64_array},
      {"events", PropType::u32_array},
      {"trace-flags", PropType::u32},
      {"cpu", PropType::u32},
  };
  for (const auto& e : kTable) {
    if (e.name == prop) return e.type;
  }
  return std::nullopt;
}

PropType guess_type(std::span<const std::uint8_t> v) {
  if (v.empty()) return PropType::empty;
  if (decode_string_list(v)) {
    bool printable = true;
    for (auto c : v) {
      if (c != 0 && (c < 0x20 || c >= 0x7f)) printable = false;
    }
    if (printable) return PropType::string_list;
  }
  if (v.size() == 4) return PropType::u32;
  if (v.size() == 8) return PropType::u64;
  return PropType::bytes;
}

namespace {

std::string hint_for(PropType t) {
  if (t == PropType::string || t == PropType::string_list)
    return "strings are written with fdt_property_string(): the value must end in its NUL";
  return "KHO properties are native-endian fixed-size C values written with "
         "fdt_property(fdt, name, &val, sizeof(val)); the kernel's readers reject any other length";
}

// Names seen so far among a node's properties or children: a linear scan while
// there are few (KHO nodes have a handful), a set beyond that.
class NameSet {
 public:
  // False when `name` was already inserted.
  bool insert(std::string_view name) {
    if (set_.empty()) {
      for (auto n : small_)
        if (n == name) return false;
      if (small_.size() < 16) {
        small_.push_back(name);
        return true;
      }
      for (auto n : small_) set_.emplace(n);
    }
    return set_.emplace(name).second;
  }

 private:
  std::vector<std::string_view> small_;  // views into the blob (names are read in place)
  std::set<std::string> set_;
};

// One property (struct offset `off`) of `node`.
void decode_prop(const Blob& blob, int off, Node& node, const DecodeOptions& opts, NameSet& seen, Report& report) {
  const void* fdt = blob.fdt();
  const char* name = nullptr;
  int len = 0;
  const void* data = nullptr;
  if (fdt_version(fdt) >= 0x10) {
    // What fdt_getprop_by_offset() returns, without its re-walk of the tag: the walk
    // just read this PROP tag whole (fdt_next_tag() bounds header and value) and
    // fdt_check_full() resolved its name.
    const auto* prop = static_cast<const struct fdt_property*>(fdt_offset_ptr(fdt, off, sizeof(struct fdt_property)));
    if (!prop) return;
    name = fdt_get_string(fdt, fdt32_to_cpu(prop->nameoff), nullptr);
    len = static_cast<int>(fdt32_to_cpu(prop->len));
    data = prop->data;
  } else {
    data = fdt_getprop_by_offset(fdt, off, &name, &len);  // realigns pre-v16 values
  }
  if (!data || !name || len < 0) return;  // fdt_check_full() already vetted these
  Property p;
  p.name = name;
  p.offset = blob.abs_offset(off);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  p.raw.assign(bytes, bytes + len);
  if (!seen.insert(std::string_view(name))) {  // `name` points into the blob, which outlives the walk
    report.add({"fdt_duplicate_property_name", rule_level("fdt_duplicate_property_name"), blob.file(), p.offset, node.path,
                p.name, "property appears more than once in this node",
                {"libfdt's fdt_getprop() returns only the first; the producer wrote it twice"},
                "decode"});
  }
  auto declared = opts.resolver ? opts.resolver(node, p.name) : std::nullopt;
  p.type_known = declared.has_value();
  p.type = declared ? *declared : guess_type(p.raw);
  p.value = decode(p.raw, p.type, opts.endian);
  if (!p.value) {
    report.add({len_rule(p.type), rule_level(len_rule(p.type)), blob.file(), p.offset, node.path, p.name,
                "length " + std::to_string(p.raw.size()) + ", expected " + expected_len(p.type),
                {hint_for(p.type)}, "kho"});
  }
  node.props.push_back(std::move(p));
}

}  // namespace

Tree decode_tree(const Blob& blob, const DecodeOptions& opts, Report& report) {
  Tree tree;
  tree.endian = opts.endian;
  if (!blob.ok()) return tree;
  const void* fdt = blob.fdt();

  // One pass of libfdt's tokenizer (fdt_next_tag) in document order: the nodes
  // fdt_next_node() would visit, each followed by the properties
  // fdt_for_each_property_offset() would list (the PROP tags before the node's
  // first subnode or end). The blob passed fdt_check_full(), so every tag reads.
  // Iterative, so hostile nesting cannot exhaust the stack; `stack[d]` is the node
  // open at depth d.
  std::vector<Node*> stack;
  std::vector<NameSet> names;  // child names seen per open node
  int depth = -1;              // the root is depth 0
  bool too_deep_reported = false;
  Node* props_of = nullptr;    // the node whose properties the next PROP tags are
  NameSet prop_names;
  for (int off = 0;;) {
    int next = 0;
    const std::uint32_t tag = fdt_next_tag(fdt, off, &next);
    if (next < 0 || tag == FDT_END) break;
    if (tag == FDT_PROP) {
      if (props_of) decode_prop(blob, off, *props_of, opts, prop_names, report);
    } else if (tag == FDT_END_NODE) {
      props_of = nullptr;
      if (--depth < 0) break;
    } else if (tag == FDT_BEGIN_NODE) {
      props_of = nullptr;
      ++depth;
      if (depth > opts.max_depth) {
        if (!too_deep_reported) {
          report.add({"fdt_too_deep", rule_level("fdt_too_deep"), blob.file(), blob.abs_offset(off),
                      stack.empty() ? "/" : stack.back()->path, "",
                      "nodes nest deeper than " + std::to_string(opts.max_depth) +
                          " levels; deeper nodes are not decoded",
                      {"KHO trees are at most a few levels deep; the blob is corrupt or hostile"},
                      "decode"});
          too_deep_reported = true;
        }
        off = next;
        continue;
      }
      int len = 0;
      const char* nm = fdt_get_name(fdt, off, &len);
      std::string name = nm && len > 0 ? std::string(nm, static_cast<std::size_t>(len)) : std::string();
      stack.resize(static_cast<std::size_t>(depth));
      names.resize(static_cast<std::size_t>(depth));
      Node* node = nullptr;
      if (depth == 0) {
        node = &tree.root;
        node->path = "/";
      } else {
        Node* parent = stack.back();
        if (!names.back().insert(nm && len > 0 ? std::string_view(nm, static_cast<std::size_t>(len)) : std::string_view())) {
          report.add({"fdt_duplicate_node_name", rule_level("fdt_duplicate_node_name"), blob.file(), blob.abs_offset(off),
                      parent->path, "",
                      "child node '" + name + "' appears more than once",
                      {"fdt_subnode_offset() finds only the first, so the kernel's kho_retrieve_subtree() "
                       "would ignore the second"},
                      "decode"});
        }
        parent->children.emplace_back();
        node = &parent->children.back();
        node->path = (parent->path == "/" ? "" : parent->path) + "/" + name;
      }
      node->name = std::move(name);
      node->offset = blob.abs_offset(off);
      props_of = node;
      prop_names = NameSet();
      stack.push_back(node);
      names.emplace_back();
    }
    off = next;
  }
  return tree;
}

}  // namespace khospec::fdt
