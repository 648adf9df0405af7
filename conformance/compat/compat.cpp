#include "conformance/compat/compat.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#include "conformance/compat/abi.hpp"
#include "conformance/compat/inputs.hpp"
#include "conformance/schema/pattern.hpp"
#include "conformance/schema/schema.hpp"
#include "core/rules.hpp"

namespace khospec::conformance {

std::optional<Direction> parse_direction(std::string_view s) {
  if (s == "both") return Direction::both;
  if (s == "forward") return Direction::forward;
  if (s == "backward") return Direction::backward;
  return std::nullopt;
}

std::string_view direction_name(Direction d) {
  switch (d) {
    case Direction::forward: return "forward";
    case Direction::backward: return "backward";
    case Direction::both: break;
  }
  return "both";
}

const std::vector<std::pair<std::string_view, std::string_view>>& compat_categories() {
  static const std::vector<std::pair<std::string_view, std::string_view>> c = {
      {"wire", "WIRE breaking: a reader of one side cannot read the other side's hand-over"},
      {"abi", "ABI visible: observable, not wire-breaking in the checked direction"},
      {"addition", "compatible additions: readers of both sides still read each other"},
  };
  return c;
}

int CompatResult::wire_count() const {
  int n = 0;
  for (const auto& c : changes) n += c.diag.type == "wire";
  return n;
}

// ------------------------------------------------------------------ allow-list

bool parse_allow_list(const std::string& text, const std::string& file, AllowList& out, std::string& error) {
  out.file = file;
  YAML::Node y;
  try {
    y = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    error = file + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg;
    return false;
  }
  if (!y.IsMap() || !y["allow"] || !y["allow"].IsSequence()) {
    error = file + ": expected a map with an `allow:` list (fix: `allow: [{rule: ..., reason: ...}]`)";
    return false;
  }
  int i = 0;
  for (const auto& e : y["allow"]) {
    ++i;
    const std::string at = file + ":" + std::to_string(e.Mark().line + 1) + ": entry " + std::to_string(i) + ": ";
    if (!e.IsMap()) {
      error = at + "an entry is a map (fix: {rule: RULE, reason: WHY})";
      return false;
    }
    for (const auto& kv : e) {
      const std::string k = kv.first.IsScalar() ? kv.first.as<std::string>() : std::string("(a map or list)");
      if (k != "rule" && k != "compatible" && k != "path" && k != "reason") {
        error = at + "unknown key '" + k + "' (fix: use rule, compatible, path, reason)";
        return false;
      }
    }
    AllowEntry a;
    a.line = e.Mark().line + 1;
    a.rule = yaml_str(e["rule"]);
    a.compatible = yaml_str(e["compatible"]);
    a.path = yaml_str(e["path"]);
    a.reason = yaml_str(e["reason"]);
    if (a.rule.empty() || !find_rule(a.rule) || a.rule.rfind("compat_", 0) != 0) {
      error = at + "rule '" + a.rule + "' is not a compat_* rule (fix: see `khospec rules`)";
      return false;
    }
    if (a.reason.find_first_not_of(" \t") == std::string::npos) {
      error = at + "has no reason (fix: say why the change is intentional and who reviewed it)";
      return false;
    }
    out.entries.push_back(std::move(a));
  }
  return true;
}

// --------------------------------------------------------------------- checker

namespace {

// Effect of each breaking rule on a reader: refuse (a check fails: no revival)
// or misread (the reader accepts the bytes and interprets them differently).
std::string_view rule_effect(std::string_view rule) {
  static const std::set<std::string_view> misread = {
      "compat_type_changed",         "compat_len_changed",        "compat_pointer_target_changed",
      "compat_layout_size_changed",  "compat_layout_field_moved", "compat_layout_field_resized",
      "compat_layout_field_removed", "compat_layout_field_added", "compat_compatible_reused"};
  return misread.count(rule) ? "misread" : "refuse";
}

enum class Kind { fwd, bwd, both, abi, addition };

// Names a pattern child is probed with to compare two regexes (regex
// inclusion is not decidable here; a witness is): real client node names plus
// every printable character in context.
const std::vector<std::string>& pattern_probes() {
  static const std::vector<std::string> p = [] {
    std::vector<std::string> v = {"memblock", "kho_test", "LUO", "kexec-metadata", "ftrace", "tracing",
                                  "luo-session", "a", "A", "0", "n1", "x,y", "a.b", "a_b", "a+b", "a-b",
                                  "reserve_mem", "very-long-client-name-0123456789"};
    for (char c = 0x21; c < 0x7f; ++c) {
      v.push_back(std::string(1, c));
      v.push_back(std::string("a") + c + "b");
    }
    v.push_back("");
    v.push_back("a b");
    return v;
  }();
  return p;
}

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : std::string(sep)) + e;
  return s;
}

std::string opt_num(const std::optional<std::uint64_t>& v) { return v ? hex_u64(*v) : std::string("none"); }

// Wire classes: integers (differ only in length), strings, the rest by name.
std::string wire_class(const std::string& t) {
  if (t == "u8" || t == "u16" || t == "u32" || t == "u64" || t == "phys_addr") return "integer";
  if (t == "string-list") return "string";
  return t;
}

class Checker {
 public:
  Checker(const abi::AbiSet& o, const abi::AbiSet& n, const CompatOptions& opts, CompatResult& res)
      : o_(o), n_(n), opts_(opts), res_(res) {}

  void run() {
    std::vector<const abi::Format*> uo, un;
    for (const auto& f : o_.formats) {
      if (const abi::Format* g = n_.format(f.compatible)) {
        pair(f, *g);
      } else {
        uo.push_back(&f);
      }
    }
    for (const auto& f : n_.formats)
      if (!o_.format(f.compatible)) un.push_back(&f);
    // A successor: the only unmatched format of its kind on each side (kho-v1 -> kho-v2).
    for (const std::string kind : {"root", "client"}) {
      std::vector<const abi::Format*> a, b;
      for (auto* f : uo) if (f->kind == kind) a.push_back(f);
      for (auto* f : un) if (f->kind == kind) b.push_back(f);
      if (a.size() == 1 && b.size() == 1) {
        pair(*a[0], *b[0]);
        uo.erase(std::find(uo.begin(), uo.end(), a[0]));
        un.erase(std::find(un.begin(), un.end(), b[0]));
      }
    }
    for (auto* f : uo) {
      set_context(*f, *f);
      change("compat_format_removed", "/", "", Kind::fwd,
             f->compatible + " is no longer described: new readers cannot read hand-overs that use it");
    }
    for (auto* f : un) {
      set_context(*f, *f);
      change("compat_format_added", "/", "", Kind::addition, f->compatible + " is new (" + f->title + ")");
    }
    // Layouts no format reaches (scratch array, serialization blocks, or a layout-only input).
    old_compat_.clear();
    new_compat_.clear();
    same_compat_ = false;
    standalone_layouts();
  }

 private:
  const abi::AbiSet& o_;
  const abi::AbiSet& n_;
  const CompatOptions& opts_;
  CompatResult& res_;
  std::string old_compat_, new_compat_;
  bool same_compat_ = false;
  bool pair_wire_ = false;
  bool pair_changed_ = false;
  bool pair_fwd_ = false, pair_bwd_ = false;
  std::string first_layout_change_;
  int layout_depth_ = 0;
  std::set<std::pair<std::string, std::string>> visited_;
  std::set<std::string> reached_old_, reached_new_;

  void set_context(const abi::Format& fo, const abi::Format& fn) {
    old_compat_ = fo.compatible;
    new_compat_ = fn.compatible;
    same_compat_ = fo.compatible == fn.compatible;
  }

  bool selected(bool fwd, bool bwd) const {
    return (fwd && opts_.direction != Direction::backward) || (bwd && opts_.direction != Direction::forward);
  }

  void change(std::string_view rule, const std::string& node, const std::string& prop, Kind kind,
              std::string message) {
    // A struct the compatible points to changed shape: the compatible is reused.
    if (layout_depth_ > 0 && kind == Kind::both && first_layout_change_.empty())
      first_layout_change_ = node + (prop.empty() ? "" : "." + prop) + ": " + message;
    CompatChange c;
    c.breaks_forward = kind == Kind::fwd || kind == Kind::both;
    c.breaks_backward = kind == Kind::bwd || kind == Kind::both;
    c.old_compatible = old_compat_;
    c.new_compatible = new_compat_;
    std::string category;
    Level level;
    if (selected(c.breaks_forward, c.breaks_backward)) {
      category = "wire";
      level = Level::error;
      c.effect = std::string(rule_effect(rule));
      if (rule == "compat_break_without_version_bump")  // a summary: its causes carry the effect
        message += c.breaks_forward && c.breaks_backward ? " [breaks forward and backward]"
                   : c.breaks_forward                    ? " [breaks forward]"
                                                         : " [breaks backward]";
      else
        message += c.breaks_forward && c.breaks_backward ? " [breaks forward and backward: readers " + c.effect + "]"
                   : c.breaks_forward ? " [breaks forward: a new reader would " + c.effect + " old data]"
                                      : " [breaks backward: an old reader would " + c.effect + " new data]";
    } else if (c.breaks_forward || c.breaks_backward) {
      category = "abi";
      level = Level::warning;
      message += c.breaks_forward ? " [breaks only forward, not checked]" : " [breaks only backward, not checked]";
    } else if (kind == Kind::abi) {
      category = "abi";
      level = Level::warning;
    } else {
      category = "addition";
      level = Level::info;
    }
    std::string ctx = old_compat_.empty() ? std::string()
                      : same_compat_     ? old_compat_ + ": "
                                         : old_compat_ + " -> " + new_compat_ + ": ";
    c.diag = make_finding(rule, n_.origin, std::nullopt, node, prop, ctx + message, category);
    c.diag.level = level;
    if (rule != "compat_version_bumped") pair_changed_ = true;
    if (category == "wire") pair_wire_ = true;
    pair_fwd_ |= c.breaks_forward;
    pair_bwd_ |= c.breaks_backward;
    res_.changes.push_back(std::move(c));
  }

  void pair(const abi::Format& fo, const abi::Format& fn) {
    set_context(fo, fn);
    pair_wire_ = false;
    pair_changed_ = false;
    pair_fwd_ = pair_bwd_ = false;
    first_layout_change_.clear();
    if (!same_compat_)
      change("compat_version_bumped", "/", "compatible", Kind::abi,
             "compatible bumped: a reader of either version refuses the other's hand-over (kho_populate() "
             "compares the root compatible: cold boot, preserved memory unprotected)");
    if (fo.title != fn.title)
      change("compat_description_changed", "/", "", Kind::addition, "title: '" + fo.title + "' -> '" + fn.title + "'");
    node(fo.root, fn.root, "");
    if (same_compat_ && !first_layout_change_.empty())
      change("compat_compatible_reused", "/", "", Kind::both,
             "the compatible now names a different layout (" + first_layout_change_ + ")");
    if (same_compat_ && pair_wire_)
      change("compat_break_without_version_bump", "/", "compatible",
             pair_fwd_ && pair_bwd_ ? Kind::both : pair_fwd_ ? Kind::fwd : Kind::bwd,
             "wire-breaking changes kept the compatible string; readers cannot tell the formats apart");
    if (same_compat_ && pair_changed_ && !fo.id.empty() && fo.id == fn.id && fo.status == "released")
      change("compat_released_schema_edited", "/", "", Kind::abi,
             "the released schema " + fo.id + " was edited; released files are frozen");
  }

  // A node's display path: "/*" for the only pattern child of its parent
  // (every KHO root has exactly one: the client subtrees), else "/{regex}".
  static std::string path_of(const std::string& parent, const abi::Node& n, bool lone_pattern = true) {
    if (n.name == "/") return "/";
    return parent + "/" + (!n.pattern ? n.name : lone_pattern ? std::string("*") : "{" + n.name + "}");
  }

  void node(const abi::Node& a, const abi::Node& b, const std::string& parent, bool lone = true) {
    const std::string path = a.name == "/" ? "/" : path_of(parent, a, lone);
    const std::string base = path == "/" ? "" : path;
    if (a.additional != b.additional)
      change("compat_additional_properties", path, "", Kind::abi,
             b.additional ? "additionalProperties opened: writers may add properties old validators reject"
                          : "additionalProperties closed: validators now reject unknown properties and nodes "
                            "(kernel readers ignore them)");
    if (!a.deprecated && b.deprecated)
      change("compat_property_deprecated", path, "", Kind::abi, "the node is deprecated");
    // Properties.
    for (const auto& p : a.props) {
      auto it = std::find_if(b.props.begin(), b.props.end(), [&](const abi::Prop& q) { return q.name == p.name; });
      if (it == b.props.end()) {
        change("compat_property_removed", path, p.name, p.required ? Kind::bwd : Kind::abi,
               p.required ? "required property removed: old readers require it, new writers omit it"
                          : "optional property removed: new readers ignore it in old data");
        continue;
      }
      prop(p, *it, path);
    }
    for (const auto& q : b.props) {
      if (std::any_of(a.props.begin(), a.props.end(), [&](const abi::Prop& p) { return p.name == q.name; })) continue;
      if (q.required) {
        change("compat_required_added", path, q.name, Kind::fwd,
               "new required property (" + q.value.type + "): old writers never wrote it");
        targets({}, q.value.points_to, path + ":" + q.name, false);
      } else {
        change("compat_property_added", path, q.name, Kind::addition,
               "new optional property (" + q.value.type + "); old readers ignore it");
      }
    }
    // Child nodes: fixed names by name, pattern children by regex (a lone pair is compared).
    auto patterns = [](const abi::Node& x) {
      return std::count_if(x.children.begin(), x.children.end(), [](const abi::Node& c) { return c.pattern; });
    };
    const bool lone_kids = patterns(a) <= 1 && patterns(b) <= 1;
    std::vector<const abi::Node*> ua, ub;
    for (const auto& c : a.children) {
      auto it = std::find_if(b.children.begin(), b.children.end(),
                             [&](const abi::Node& d) { return d.name == c.name && d.pattern == c.pattern; });
      if (it == b.children.end()) {
        ua.push_back(&c);
      } else {
        child_flags(c, *it, base);
        node(c, *it, base, lone_kids);
      }
    }
    for (const auto& d : b.children) {
      if (!std::any_of(a.children.begin(), a.children.end(),
                       [&](const abi::Node& c) { return c.name == d.name && c.pattern == d.pattern; }))
        ub.push_back(&d);
    }
    auto single = [](const std::vector<const abi::Node*>& v) {
      return std::count_if(v.begin(), v.end(), [](const abi::Node* x) { return x->pattern; }) == 1;
    };
    if (single(ua) && single(ub)) {
      auto pa = std::find_if(ua.begin(), ua.end(), [](const abi::Node* x) { return x->pattern; });
      auto pb = std::find_if(ub.begin(), ub.end(), [](const abi::Node* x) { return x->pattern; });
      pattern(**pa, **pb, base);
      node(**pa, **pb, base, lone_kids);
      ua.erase(pa);
      ub.erase(pb);
    }
    for (const auto* c : ua)
      change("compat_node_removed", path_of(base, *c, lone_kids), "", c->required ? Kind::bwd : Kind::abi,
             c->required ? "required node removed: old readers require it, new writers omit it"
                         : "node removed: new readers ignore it in old data");
    for (const auto* d : ub) {
      if (d->required)
        change("compat_required_added", path_of(base, *d, lone_kids), "", Kind::fwd, "new required node: old writers never wrote it");
      else
        change("compat_node_added", path_of(base, *d, lone_kids), "", Kind::addition, "new optional node; old readers ignore it");
    }
  }

  void child_flags(const abi::Node& a, const abi::Node& b, const std::string& base) {
    if (!a.required && b.required)
      change("compat_required_added", path_of(base, b), "", Kind::fwd, "node became required: old writers may omit it");
    if (a.required && !b.required)
      change("compat_required_removed", path_of(base, b), "", Kind::bwd,
             "node no longer required: new writers may omit what old readers require");
  }

  void pattern(const abi::Node& a, const abi::Node& b, const std::string& base) {
    const auto ra = compile_pattern(a.name), rb = compile_pattern(b.name);
    if (!ra || !rb) return;  // schema lint reports bad patterns (schema_bad_pattern)
    std::vector<std::string> only_old, only_new;
    for (const auto& s : pattern_probes()) {
      const bool ia = std::regex_search(s, *ra), ib = std::regex_search(s, *rb);
      if (ia && !ib) only_old.push_back("'" + s + "'");
      if (ib && !ia) only_new.push_back("'" + s + "'");
    }
    auto few = [](std::vector<std::string> v) {
      if (v.size() > 4) v.resize(4), v.push_back("...");
      return join(v);
    };
    const std::string where = path_of(base, b);
    if (!only_old.empty())
      change("compat_pattern_tightened", where, "", Kind::fwd,
             "child names '" + a.name + "' -> '" + b.name + "' no longer match " + few(only_old));
    if (!only_new.empty())
      change("compat_pattern_loosened", where, "", Kind::bwd,
             "child names '" + a.name + "' -> '" + b.name + "' now also match " + few(only_new));
  }

  void prop(const abi::Prop& a, const abi::Prop& b, const std::string& path) {
    if (!a.required && b.required)
      change("compat_required_added", path, b.name, Kind::fwd, "property became required: old writers may omit it");
    if (a.required && !b.required)
      change("compat_required_removed", path, b.name, Kind::bwd,
             "property no longer required: new writers may omit what old readers require");
    if (!a.deprecated && b.deprecated)
      change("compat_property_deprecated", path, b.name, Kind::abi, "the property is deprecated");
    if (a.description != b.description && !a.description.empty() && !b.description.empty())
      change("compat_description_changed", path, b.name, Kind::addition, "description changed");
    const bool compat_prop = path == "/" && b.name == "compatible" && !same_compat_;
    value(a.value, b.value, path, b.name, compat_prop);
  }

  // Type, length, values and range of a property or field.
  void value(const abi::Value& a, const abi::Value& b, const std::string& node, const std::string& prop,
             bool skip_values) {
    if (wire_class(a.type) != wire_class(b.type)) {
      change("compat_type_changed", node, prop, Kind::both, "type " + a.type + " -> " + b.type);
    } else if (a.len != b.len) {
      change("compat_len_changed", node, prop, Kind::both,
             "length " + (a.len ? std::to_string(*a.len) : std::string("variable")) + " -> " +
                 (b.len ? std::to_string(*b.len) : std::string("variable")) + " bytes (" + a.type + " -> " + b.type + ")");
    } else if (a.type != b.type) {
      change("compat_type_refined", node, prop, Kind::abi, "type " + a.type + " -> " + b.type + " (same encoding)");
    }
    if (!skip_values) {
      std::vector<std::string> removed, added;
      for (const auto& v : a.values)
        if (!b.values.empty() && std::find(b.values.begin(), b.values.end(), v) == b.values.end()) removed.push_back(v);
      for (const auto& v : b.values)
        if (!a.values.empty() && std::find(a.values.begin(), a.values.end(), v) == a.values.end()) added.push_back(v);
      if (a.values.empty() && !b.values.empty())
        change("compat_enum_value_removed", node, prop, Kind::fwd, "any value -> only " + join(b.values));
      if (!removed.empty())
        change("compat_enum_value_removed", node, prop, Kind::fwd, "values no longer accepted: " + join(removed));
      if (!a.values.empty() && b.values.empty())
        change("compat_enum_value_added", node, prop, Kind::bwd, "only " + join(a.values) + " -> any value");
      if (!added.empty())
        change("compat_enum_value_added", node, prop, Kind::bwd, "new values old readers reject: " + join(added));
    }
    range(a, b, node, prop);
    targets(a.points_to, b.points_to, prop.empty() ? node : node + ":" + prop, true);
  }

  void range(const abi::Value& a, const abi::Value& b, const std::string& node, const std::string& prop) {
    std::vector<std::string> tight, loose;
    const std::uint64_t amin = a.minimum.value_or(0), bmin = b.minimum.value_or(0);
    if (bmin > amin) tight.push_back("minimum " + opt_num(a.minimum) + " -> " + opt_num(b.minimum));
    if (bmin < amin) loose.push_back("minimum " + opt_num(a.minimum) + " -> " + opt_num(b.minimum));
    const std::uint64_t amax = a.maximum.value_or(~0ull), bmax = b.maximum.value_or(~0ull);
    if (bmax < amax) tight.push_back("maximum " + opt_num(a.maximum) + " -> " + opt_num(b.maximum));
    if (bmax > amax) loose.push_back("maximum " + opt_num(a.maximum) + " -> " + opt_num(b.maximum));
    const std::uint64_t am = std::max<std::uint64_t>(a.multiple_of.value_or(1), 1);
    const std::uint64_t bm = std::max<std::uint64_t>(b.multiple_of.value_or(1), 1);
    // Multiples of bm include every multiple of am iff bm divides am.
    if (am % bm != 0) tight.push_back("multipleOf " + opt_num(a.multiple_of) + " -> " + opt_num(b.multiple_of));
    if (bm % am != 0) loose.push_back("multipleOf " + opt_num(a.multiple_of) + " -> " + opt_num(b.multiple_of));
    if (!tight.empty())
      change("compat_range_tightened", node, prop, Kind::fwd, join(tight) + ": old writers may produce values new readers refuse");
    if (!loose.empty())
      change("compat_range_loosened", node, prop, Kind::bwd, join(loose) + ": new writers may produce values old readers refuse");
  }

  // Pointer targets: sets of layout names (or fdt / blob); `blob` admits an FDT.
  void targets(const std::vector<std::string>& a, const std::vector<std::string>& b, const std::string& where,
               bool compare) {
    for (const auto& t : a) reach(o_, t, reached_old_);
    for (const auto& t : b) reach(n_, t, reached_new_);
    if (!compare) return;
    auto in = [](const std::vector<std::string>& v, const std::string& t) {
      return std::find(v.begin(), v.end(), t) != v.end() || (t == "fdt" && std::find(v.begin(), v.end(), "blob") != v.end());
    };
    std::vector<std::string> removed, added;
    for (const auto& t : a) if (!in(b, t)) removed.push_back(t);
    for (const auto& t : b) if (!in(a, t)) added.push_back(t);
    if (!removed.empty() || !added.empty()) {
      const Kind k = !removed.empty() && !added.empty() ? Kind::both : !removed.empty() ? Kind::fwd : Kind::bwd;
      const std::string what = "points to " + (a.empty() ? std::string("nothing") : join(a, " | ")) + " -> " +
                               (b.empty() ? std::string("nothing") : join(b, " | "));
      change("compat_pointer_target_changed", where, "", k, what);
      // Replaced (not merely widened or narrowed): the bytes now mean another struct.
      if (k == Kind::both && first_layout_change_.empty()) first_layout_change_ = where + " " + what;
      if (removed.size() == 1 && added.size() == 1)
        layout(o_.layout(removed[0]), n_.layout(added[0]), where + " -> " + removed[0]);
    }
    for (const auto& t : a)
      if (std::find(b.begin(), b.end(), t) != b.end()) layout(o_.layout(t), n_.layout(t), where + " -> " + t);
  }

  static void reach(const abi::AbiSet& s, const std::string& name, std::set<std::string>& seen) {
    const abi::Layout* l = s.layout(name);
    if (!l || !seen.insert(name).second) return;
    for (const auto& f : l->fields) {
      for (const auto& t : f.value.points_to) reach(s, t, seen);
      if (!f.layout.empty()) reach(s, f.layout, seen);
    }
  }

  void layout(const abi::Layout* a, const abi::Layout* b, const std::string& where) {
    if (!a || !b) return;  // fdt / blob, or a name lint reports (schema_bad_points_to)
    reach(o_, a->name, reached_old_);
    reach(n_, b->name, reached_new_);
    if (!visited_.insert({a->name, b->name}).second) return;
    ++layout_depth_;
    compare_layout(*a, *b, where);
    --layout_depth_;
  }

  void compare_layout(const abi::Layout& la, const abi::Layout& lb, const std::string& at) {
    const abi::Layout* a = &la;
    const abi::Layout* b = &lb;
    if (a->size != b->size)
      change("compat_layout_size_changed", at, "", Kind::both,
             a->name + " " + std::to_string(a->size) + " -> " + b->name + " " + std::to_string(b->size) + " bytes");
    // Unrelated structs (no field in common, e.g. chunk list -> radix node):
    // the target change says it all; field-by-field noise would not help.
    const bool related = std::any_of(a->fields.begin(), a->fields.end(), [&](const abi::Field& f) {
      return std::any_of(b->fields.begin(), b->fields.end(), [&](const abi::Field& g) { return g.name == f.name; });
    });
    if (!related && a->name != b->name) return;
    for (const auto& f : a->fields) {
      auto it = std::find_if(b->fields.begin(), b->fields.end(), [&](const abi::Field& g) { return g.name == f.name; });
      if (it == b->fields.end()) {
        change("compat_layout_field_removed", at, f.name, Kind::both, a->name + "." + f.name + " removed");
        continue;
      }
      const abi::Field& g = *it;
      if (f.offset != g.offset)
        change("compat_layout_field_moved", at, f.name,
               Kind::both, b->name + "." + f.name + " moved: offset " + std::to_string(f.offset) + " -> " +
                               std::to_string(g.offset));
      if (f.size != g.size || f.count != g.count || f.bit_lsb != g.bit_lsb || f.bit_width != g.bit_width)
        change("compat_layout_field_resized", at, f.name, Kind::both,
               b->name + "." + f.name + " resized: " + std::to_string(f.size) + " x " + std::to_string(f.count) +
                   " -> " + std::to_string(g.size) + " x " + std::to_string(g.count) + " bytes");
      abi::Value fa = f.value, ga = g.value;
      fa.len = ga.len = std::nullopt;  // sizes were compared above
      value(fa, ga, at, f.name, false);
      if (!f.layout.empty() || !g.layout.empty())
        layout(o_.layout(f.layout), n_.layout(g.layout), at + "." + f.name + " -> " + g.layout);
    }
    for (const auto& g : b->fields)
      if (std::none_of(a->fields.begin(), a->fields.end(), [&](const abi::Field& f) { return f.name == g.name; }))
        change("compat_layout_field_added", at, g.name, Kind::both,
               b->name + "." + g.name + " added at offset " + std::to_string(g.offset));
  }

  void standalone_layouts() {
    std::vector<const abi::Layout*> ua, ub;
    auto reached = [&](const std::string& name) { return reached_old_.count(name) || reached_new_.count(name); };
    for (const auto& l : o_.layouts)
      if (!l.builtin && !reached(l.name)) ua.push_back(&l);
    for (const auto& l : n_.layouts)
      if (!l.builtin && !reached(l.name)) ub.push_back(&l);
    std::vector<const abi::Layout*> ra, rb;
    for (const auto* l : ua) {
      auto it = std::find_if(ub.begin(), ub.end(), [&](const abi::Layout* m) { return m->name == l->name; });
      if (it != ub.end()) {
        layout(l, *it, "layout " + l->name);
        ub.erase(it);
      } else {
        ra.push_back(l);
      }
    }
    rb = ub;
    // Two single-layout inputs (old.yaml / new.yaml of one struct): compare them.
    if (ra.size() == 1 && rb.size() == 1 && o_.formats.empty() && n_.formats.empty()) {
      layout(ra[0], rb[0], "layout " + ra[0]->name);
      return;
    }
    for (const auto* l : ra)
      change("compat_layout_removed", "layout " + l->name, "", Kind::abi, l->name + " is no longer described");
    for (const auto* l : rb)
      change("compat_layout_added", "layout " + l->name, "", Kind::addition,
             l->name + " (" + std::to_string(l->size) + " bytes) is new");
  }
};

bool allow_matches(const AllowEntry& a, const CompatChange& c) {
  if (a.rule != c.diag.rule) return false;
  if (!a.compatible.empty() && a.compatible != c.old_compatible && a.compatible != c.new_compatible) return false;
  if (!a.path.empty()) {
    const std::string where = c.diag.node + (c.diag.property.empty() ? "" : ":" + c.diag.property);
    if (where.rfind(a.path, 0) != 0) return false;
  }
  return true;
}

}  // namespace

CompatResult compat_check(const abi::AbiSet& old_set, const abi::AbiSet& new_set, const CompatOptions& opts) {
  CompatResult res;
  Checker(old_set, new_set, opts, res).run();
  if (opts.allow) {
    std::vector<bool> used(opts.allow->entries.size(), false);
    std::vector<CompatChange> kept;
    for (auto& c : res.changes) {
      bool allowed = false;
      for (std::size_t i = 0; i < opts.allow->entries.size() && !allowed; ++i) {
        if (allow_matches(opts.allow->entries[i], c)) {
          used[i] = true;
          allowed = true;
          res.allowed.push_back({c, opts.allow->entries[i].reason});
        }
      }
      if (!allowed) kept.push_back(std::move(c));
    }
    res.changes = std::move(kept);
    for (std::size_t i = 0; i < used.size(); ++i) {
      if (used[i]) continue;
      const AllowEntry& a = opts.allow->entries[i];
      Diagnostic d = make_finding("compat_allow_unused", opts.allow->file + ":" + std::to_string(a.line), std::nullopt,
                                  "", "", "allow entry for " + a.rule + " matches no change (stale entry)", "abi");
      CompatChange c;
      c.diag = std::move(d);
      res.changes.push_back(std::move(c));
    }
  }
  // Report order: wire, abi, addition (stable within a category).
  std::stable_sort(res.changes.begin(), res.changes.end(), [](const CompatChange& x, const CompatChange& y) {
    auto rank = [](const std::string& t) { return t == "wire" ? 0 : t == "abi" ? 1 : 2; };
    return rank(x.diag.type) < rank(y.diag.type);
  });
  for (const auto& c : res.changes) res.report.add(c.diag);
  return res;
}

std::optional<CompatResult> compat_check_paths(const std::string& old_path, const std::string& new_path,
                                               const CompatOptions& opts, Report& load) {
  auto o = load_compat_input(old_path, opts.old_memory, "--memory-old", load);
  auto n = load_compat_input(new_path, opts.new_memory, "--memory-new", load);
  if (!o || !n) return std::nullopt;
  // Like with like: a hand-over's named clients against a schema's client pattern is noise, not a diff.
  const bool observed_o = !o->formats.empty() && o->formats.front().status == "observed";
  const bool observed_n = !n->formats.empty() && n->formats.front().status == "observed";
  if (observed_o != observed_n) {
    const std::string& h = observed_o ? old_path : new_path;
    const std::string& sch = observed_o ? new_path : old_path;
    load.add(make_finding("compat_input_invalid", escape_nonprintable(sch), std::nullopt, "", "",
                          escape_nonprintable(h) + " is a hand-over and " + escape_nonprintable(sch) +
                              " a schema input: compat compares like with like (two hand-overs, or two schema "
                              "inputs); `khospec validate " + escape_nonprintable(h) +
                              "` checks a hand-over against the schemas, `khospec validate --as ERA " +
                              escape_nonprintable(h) + "` against another era's reader",
                          "compat"));
    return std::nullopt;
  }
  return compat_check(*o, *n, opts);
}

}  // namespace khospec::conformance
