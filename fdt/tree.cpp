#include "fdt/tree.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
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

std::optional<PropType> standard_prop_type(const Node&, std::string_view prop) {
  if (prop == "compatible") return PropType::string_list;
  return std::nullopt;
}

const DecodeHints& generic_decode_hints() {
  static const DecodeHints h{
      "the value's length does not match its declared type; a reader of that type rejects it",
      "the nodes nest deeper than the decoder follows; the blob is corrupt or hostile",
      "fdt_subnode_offset() finds only the first, so a reader looking the node up by name ignores the second"};
  return h;
}

namespace {

// decode_string_list(v) succeeds, without building the list.
bool string_list_ok(std::span<const std::uint8_t> v) {
  if (v.empty() || v.back() != 0 || v.front() == 0) return false;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i] == 0 && v[i - 1] == 0) return false;  // an empty entry
  return true;
}

// decode(v, t, e) succeeds (and its number, for the scalar types), without allocating.
bool shape_ok(std::span<const std::uint8_t> v, PropType t, Endian e, std::uint64_t& number) {
  switch (t) {
    case PropType::u32:
      if (v.size() != 4) return false;
      number = load_u32(v.data(), e);
      return true;
    case PropType::u64:
    case PropType::phys_addr:
      if (v.size() != 8) return false;
      number = load_u64(v.data(), e);
      return true;
    case PropType::string:
      return decode_string(v).has_value();
    case PropType::string_list:
      return string_list_ok(v);
    case PropType::u32_array: return v.size() % 4 == 0;
    case PropType::u64_array: return v.size() % 8 == 0;
    case PropType::empty: return v.empty();
    case PropType::bytes: return true;
  }
  return false;
}

}  // namespace

PropType guess_type(std::span<const std::uint8_t> v) {
  if (v.empty()) return PropType::empty;
  if (string_list_ok(v)) {
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

std::string hint_for(PropType t, const DecodeHints& hints) {
  if (t == PropType::string || t == PropType::string_list)
    return "strings are written with fdt_property_string(): the value must end in its NUL";
  return std::string(hints.value_length);
}

// Names of a node's properties or children are compared linearly while there are
// few (KHO nodes have a handful), through a set beyond that.
constexpr std::uint32_t kLinearNames = 16;

}  // namespace

std::string FlatTree::path(const FlatNode& n) const {
  if (n.parent < 0) return "/";
  std::size_t len = 0;
  for (const FlatNode* p = &n; p->parent >= 0; p = &nodes[static_cast<std::size_t>(p->parent)]) len += 1 + p->name.size();
  std::string out(len, '/');
  for (const FlatNode* p = &n; p->parent >= 0; p = &nodes[static_cast<std::size_t>(p->parent)]) {
    len -= p->name.size();
    out.replace(len, p->name.size(), p->name);
    --len;  // the '/' before it
  }
  return out;
}

FlatBuilder::FlatBuilder(FlatTree& tree, std::uint64_t off_dt_struct, std::size_t struct_size, int max_depth)
    : t_(tree), off_dt_struct_(off_dt_struct), max_depth_(max_depth) {
  t_.max_depth = max_depth;
  // A node takes 12+ structure bytes (BEGIN_NODE and its padded name, END_NODE), a
  // property 12+ (tag, len, nameoff): enough for both, and for a small blob small
  // enough that malloc serves the arrays from its per-thread cache.
  const std::size_t most = std::min<std::size_t>(struct_size / 12 + 1, 4096);
  t_.nodes.reserve(most);
  t_.props.reserve(most);
}

FlatBuilder::~FlatBuilder() = default;

void FlatBuilder::feed(const Blob::Token& tok) {
  if (done_) return;
  if (tok.tag == FDT_PROP) {
    if (!props_open_ || !tok.data || !tok.name || tok.len < 0) return;  // fdt_check_full() vetted these
    FlatNode& n = t_.nodes[static_cast<std::size_t>(cur_)];
    FlatProp p;
    p.name = std::string_view(tok.name, static_cast<std::size_t>(tok.name_len));  // views into the blob
    p.raw = {tok.data, static_cast<std::size_t>(tok.len)};
    p.offset = off_dt_struct_ + static_cast<std::uint64_t>(tok.offset);
    if (n.prop_count < kLinearNames) {
      for (const auto& q : t_.props_of(n))
        if (same_name(q.name, p.name)) p.duplicate = true;
      if (n.prop_count + 1 == kLinearNames) {
        for (const auto& q : t_.props_of(n)) prop_set_.insert(q.name);
        prop_set_.insert(p.name);
      }
    } else {
      p.duplicate = !prop_set_.insert(p.name).second;
    }
    t_.props.push_back(p);
    ++n.prop_count;
  } else if (tok.tag == FDT_END_NODE) {
    props_open_ = false;
    if (depth_ <= max_depth_ && cur_ >= 0) cur_ = t_.nodes[static_cast<std::size_t>(cur_)].parent;
    if (--depth_ < 0) done_ = true;
  } else if (tok.tag == FDT_BEGIN_NODE) {
    begin_node(tok);
  }
}

void FlatBuilder::begin_node(const Blob::Token& tok) {
  props_open_ = false;
  ++depth_;
  const std::uint64_t offset = off_dt_struct_ + static_cast<std::uint64_t>(tok.offset);
  if (depth_ > max_depth_) {
    // Nodes deeper than max_depth are dropped with their properties.
    if (!t_.too_deep) {
      t_.too_deep = true;
      t_.too_deep_before = t_.nodes.size();
      t_.too_deep_offset = offset;
      t_.too_deep_parent = cur_;
    }
    return;
  }
  // fdt_get_name(): the name's NUL lies before the next tag.
  const int room = tok.next - tok.offset - static_cast<int>(FDT_TAGSIZE);
  const std::size_t len = tok.name && room > 0 ? strnlen(tok.name, static_cast<std::size_t>(room)) : 0;
  FlatNode n;
  n.name = len > 0 ? std::string_view(tok.name, len) : std::string_view();
  n.offset = offset;
  n.depth = depth_;
  n.first_prop = static_cast<std::uint32_t>(t_.props.size());
  const int me = static_cast<int>(t_.nodes.size());
  if (depth_ > 0 && cur_ >= 0) {
    n.parent = cur_;
    FlatNode& parent = t_.nodes[static_cast<std::size_t>(cur_)];
    const auto pd = static_cast<std::size_t>(parent.depth);
    if (parent.child_count < kLinearNames) {
      for (int c = parent.first_child; c >= 0; c = t_.nodes[static_cast<std::size_t>(c)].next_sibling)
        if (same_name(t_.nodes[static_cast<std::size_t>(c)].name, n.name)) n.duplicate = true;
      if (parent.child_count + 1 == kLinearNames) {
        if (child_sets_.size() <= pd) child_sets_.resize(pd + 1);
        for (int c = parent.first_child; c >= 0; c = t_.nodes[static_cast<std::size_t>(c)].next_sibling)
          child_sets_[pd].insert(t_.nodes[static_cast<std::size_t>(c)].name);
        child_sets_[pd].insert(n.name);
      }
    } else {
      n.duplicate = !child_sets_[pd].insert(n.name).second;
    }
    ++parent.child_count;
    if (parent.last_child >= 0) t_.nodes[static_cast<std::size_t>(parent.last_child)].next_sibling = me;
    else parent.first_child = me;
    parent.last_child = me;
  }
  // A node opened at this depth starts with no children (its set is reused).
  if (child_sets_.size() > static_cast<std::size_t>(depth_)) child_sets_[static_cast<std::size_t>(depth_)].clear();
  prop_set_.clear();
  t_.nodes.push_back(n);
  cur_ = me;
  props_open_ = true;
}

FlatTree read_flat(const Blob& blob, int max_depth) {
  FlatTree t;
  t.max_depth = max_depth;
  if (!blob.ok()) return t;
  FlatBuilder b(t, blob.abs_offset(0), blob.struct_size(), max_depth);
  blob.for_each_token(FlatBuilder::sink, &b);
  return t;
}

void declare_types(FlatTree& t, const FlatResolver& resolver) {
  for (std::size_t i = 0; i < t.nodes.size(); ++i) {
    const FlatNode& n = t.nodes[i];
    for (std::uint32_t k = 0; k < n.prop_count; ++k) {
      FlatProp& p = t.props[n.first_prop + k];
      auto declared = resolver ? resolver(t, static_cast<int>(i), p.name) : std::nullopt;
      p.type_known = declared.has_value();
      if (declared) p.type = *declared;
    }
  }
}

void type_flat(FlatTree& t, const Blob& blob, Endian endian, const FlatResolver& resolver, Report& report) {
  declare_types(t, resolver);
  type_flat_declared(t, blob, endian, report);
}

void type_flat_declared(FlatTree& t, const Blob& blob, Endian endian, Report& report) {
  t.endian = endian;
  const DecodeHints& hints = t.hints ? *t.hints : generic_decode_hints();
  for (std::size_t i = 0; i <= t.nodes.size(); ++i) {
    if (t.too_deep && t.too_deep_before == i) {
      report.add({"fdt_too_deep", rule_level("fdt_too_deep"), blob.file(), t.too_deep_offset,
                  t.too_deep_parent < 0 ? std::string("/") : std::string(t.path(t.too_deep_parent)), "",
                  "nodes nest deeper than " + std::to_string(t.max_depth) +
                      " levels; deeper nodes are not decoded",
                  {std::string(hints.too_deep)},
                  "decode"});
    }
    if (i == t.nodes.size()) break;
    const FlatNode& n = t.nodes[i];
    if (n.duplicate) {
      report.add({"fdt_duplicate_node_name", rule_level("fdt_duplicate_node_name"), blob.file(), n.offset,
                  std::string(t.path(n.parent)), "",
                  "child node '" + std::string(n.name) + "' appears more than once",
                  {std::string(hints.duplicate_node)},
                  "decode"});
    }
    for (std::uint32_t k = 0; k < n.prop_count; ++k) {
      FlatProp& p = t.props[n.first_prop + k];
      if (p.duplicate) {
        report.add({"fdt_duplicate_property_name", rule_level("fdt_duplicate_property_name"), blob.file(), p.offset,
                    std::string(t.path(n)), std::string(p.name), "property appears more than once in this node",
                    {"libfdt's fdt_getprop() returns only the first; the producer wrote it twice"},
                    "decode"});
      }
      if (!p.type_known) p.type = guess_type(p.raw);
      p.value_ok = shape_ok(p.raw, p.type, endian, p.number);
      if (!p.value_ok) {
        report.add({len_rule(p.type), rule_level(len_rule(p.type)), blob.file(), p.offset, std::string(t.path(n)),
                    std::string(p.name), "length " + std::to_string(p.raw.size()) + ", expected " + expected_len(p.type),
                    {hint_for(p.type, hints)}, "kho"});
      }
    }
  }
}

std::optional<Value> flat_value(const FlatTree& t, const FlatProp& p) {
  if (!p.value_ok) return std::nullopt;
  return decode(p.raw, p.type, t.endian);
}

std::vector<std::string_view> flat_strings(const FlatProp& p) {
  std::vector<std::string_view> out;
  if (!p.value_ok || (p.type != PropType::string && p.type != PropType::string_list)) return out;
  std::string_view all(reinterpret_cast<const char*>(p.raw.data()), p.raw.size() - 1);  // value_ok: ends in its NUL
  for (std::size_t pos = 0;;) {
    const std::size_t end = all.find('\0', pos);
    out.push_back(all.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return out;
}

Tree to_tree(const FlatTree& t) {
  Tree tree;
  tree.endian = t.endian;
  if (t.nodes.empty()) return tree;
  // Preorder, so each node's parent is open on the stack (index = depth - root depth).
  std::vector<Node*> stack;
  for (const FlatNode& fn : t.nodes) {
    Node* node = nullptr;
    if (fn.parent < 0) {
      node = &tree.root;
      stack.clear();
    } else {
      while (!stack.empty() && stack.size() > static_cast<std::size_t>(fn.depth)) stack.pop_back();
      stack.back()->children.emplace_back();
      node = &stack.back()->children.back();
    }
    node->name = std::string(fn.name);
    node->path = std::string(t.path(fn));
    node->offset = fn.offset;
    node->props.reserve(fn.prop_count);
    for (const FlatProp& fp : t.props_of(fn)) {
      Property p;
      p.name = std::string(fp.name);
      p.offset = fp.offset;
      p.raw.assign(fp.raw.begin(), fp.raw.end());
      p.type = fp.type;
      p.type_known = fp.type_known;
      p.value = flat_value(t, fp);
      node->props.push_back(std::move(p));
    }
    stack.push_back(node);
  }
  return tree;
}

Tree decode_tree(const Blob& blob, const DecodeOptions& opts, Report& report) {
  FlatTree t = read_flat(blob, opts.max_depth);
  t.hints = opts.hints;
  FlatResolver adapter;
  if (opts.resolver) {
    // TypeResolver takes a Node: hand it one with the node's name and path.
    adapter = [&opts, tmp = std::make_shared<std::pair<int, Node>>(-1, Node{})](const FlatTree& ft, int node,
                                                                               std::string_view prop) {
      if (tmp->first != node) {
        tmp->first = node;
        tmp->second.name = std::string(ft.nodes[static_cast<std::size_t>(node)].name);
        tmp->second.path = std::string(ft.path(node));
        tmp->second.offset = ft.nodes[static_cast<std::size_t>(node)].offset;
      }
      return opts.resolver(tmp->second, prop);
    };
  }
  type_flat(t, blob, opts.endian, adapter, report);
  Tree tree = to_tree(t);
  tree.endian = opts.endian;
  return tree;
}

}  // namespace khospec::fdt
