// The schema pack's writer (the build-time generator), its reader (builtin()) and the
// structural comparison that keeps the two equal to compiling the YAML.
#include "conformance/schema/schema_pack.hpp"

#include <map>
#include <stdexcept>

namespace khospec::conformance {

using namespace schema_detail;

namespace {

constexpr std::string_view kMagic = "KHOSPAK1";
constexpr std::size_t kNone = ~std::size_t{0};
constexpr std::uint64_t kLastType = static_cast<std::uint64_t>(fdt::PropType::empty);

// Flag bits.
constexpr std::uint64_t kParsed = 1, kLayout = 2, kGraph = 4;                                  // doc
constexpr std::uint64_t kConst = 1, kConstNum = 2, kEnum = 4, kMin = 8, kMax = 16, kMultiple = 32,
                        kType = 64;                                                          // property
constexpr std::uint64_t kSkip = 1, kAdditional = 2;                                           // node
constexpr std::uint64_t kBegin = 1, kEnd = 2, kOneClassPlus = 4;                              // matcher

struct Writer {
  std::vector<std::uint8_t> out;
  void num(std::uint64_t v) {
    do {
      const auto b = static_cast<std::uint8_t>(v & 0x7f);
      v >>= 7;
      out.push_back(v ? b | 0x80 : b);
    } while (v);
  }
  void str(std::string_view s) {
    num(s.size());
    out.insert(out.end(), s.begin(), s.end());
  }
  void opt(const std::optional<std::uint64_t>& v) {
    num(v.has_value());
    if (v) num(*v);
  }
};

// Every read is bounds-checked; the first failure sticks (ok false, reads return zeros).
struct Reader {
  std::span<const std::uint8_t> in;
  std::size_t pos = 0;
  bool ok = true;

  bool fail() {
    ok = false;
    pos = in.size();
    return false;
  }
  std::uint64_t num() {
    std::uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (pos >= in.size()) return fail(), 0;
      const std::uint8_t b = in[pos++];
      if (shift == 63 && b > 1) return fail(), 0;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return fail(), 0;
  }
  // A count or index below `limit`.
  std::size_t below(std::uint64_t limit) {
    const std::uint64_t v = num();
    if (v >= limit) return fail(), 0;
    return static_cast<std::size_t>(v);
  }
  // A count of items that each take at least one byte.
  std::size_t count() { return below(in.size() - pos + 1); }
  std::string_view str() {
    const std::size_t n = count();
    if (!ok || n > in.size() - pos) return fail(), std::string_view();
    std::string_view s(reinterpret_cast<const char*>(in.data() + pos), n);
    pos += n;
    return s;
  }
  std::optional<std::uint64_t> opt() {
    const std::uint64_t has = num();
    if (has > 1) return fail(), std::nullopt;
    if (!has) return std::nullopt;
    return num();
  }
  std::optional<fdt::PropType> type() {
    const std::uint64_t t = num();
    if (t > kLastType) return fail(), std::nullopt;
    return static_cast<fdt::PropType>(t);
  }
};

// ------------------------------------------------------------------ writing

struct GraphWriter {
  const std::vector<SchemaDoc>& docs;
  const SchemaSet::Cache::Graph& g;
  Writer w;
  std::map<const SchemaSet::CompiledNode*, std::size_t> node_index;
  std::map<const cs::Prop*, std::size_t> prop_index;

  std::uint64_t target(const SchemaSet::CompiledNode* n, const cs::Prop* p) {
    return n ? node_index.at(n) * 2 + 1 : prop_index.at(p) * 2;
  }

  void prop(const cs::Prop& p) {
    w.num((p.has_const ? kConst : 0) | (p.const_num ? kConstNum : 0) | (p.has_enum ? kEnum : 0) |
          (p.minimum ? kMin : 0) | (p.maximum ? kMax : 0) | (p.multiple_of ? kMultiple : 0) | (p.type ? kType : 0));
    w.str(p.const_str);
    if (p.const_num) w.num(*p.const_num);
    w.num(p.enum_str.size());
    for (std::size_t i = 0; i < p.enum_str.size(); ++i) {
      w.str(p.enum_str[i]);
      w.opt(p.enum_num[i]);
    }
    if (p.minimum) w.num(*p.minimum);
    if (p.maximum) w.num(*p.maximum);
    if (p.multiple_of) w.num(*p.multiple_of);
    if (p.type) w.num(static_cast<std::uint64_t>(*p.type));
  }

  void matcher(const cs::Matcher& m) {
    w.num(static_cast<std::uint64_t>(m.kind));
    w.num((m.begin ? kBegin : 0) | (m.end ? kEnd : 0) | (m.one_class_plus ? kOneClassPlus : 0));
    w.num(m.atoms.size());
    for (const auto& a : m.atoms) {
      for (std::size_t byte = 0; byte < 32; ++byte) {
        std::uint8_t b = 0;
        for (std::size_t bit = 0; bit < 8; ++bit) b |= static_cast<std::uint8_t>(a.set[byte * 8 + bit] << bit);
        w.out.push_back(b);
      }
      w.num(static_cast<unsigned char>(a.q));
    }
    w.str(m.kind == cs::Matcher::Kind::regex ? std::string_view(m.pattern) : std::string_view());
  }

  void node(const SchemaSet::CompiledNode& n) {
    w.num((n.skip ? kSkip : 0) | (n.additional_ok ? kAdditional : 0));
    std::size_t id = 0;
    for (std::size_t k = 0; n.id && k < docs.size(); ++k)
      if (&docs[k].id == n.id) id = k + 1;
    if (n.id && !id) throw std::logic_error("schema pack: a $id outside the set");
    w.num(id);
    w.num(static_cast<std::uint64_t>(n.ref_hops));
    w.num(n.required.size());
    for (const auto& r : n.required) w.str(r);
    w.num(n.props.size());
    for (const auto& e : n.props) {
      w.str(e.name);
      w.num(target(e.node, e.prop));
    }
    w.num(n.patterns.size());
    for (const auto& p : n.patterns) {
      matcher(p.m);
      w.num(target(p.node, p.prop));
    }
  }

  void run() {
    for (std::size_t i = 0; i < g.props.size(); ++i) prop_index[g.props[i].get()] = i;
    for (std::size_t i = 0; i < g.nodes.size(); ++i) node_index[g.nodes[i].get()] = i;
    w.num(g.props.size());
    for (const auto& p : g.props) prop(*p);
    w.num(g.nodes.size());
    w.num(node_index.at(g.root));
    for (const auto& n : g.nodes) node(*n);
  }
};

// ------------------------------------------------------------------ reading

bool read_matcher(Reader& r, cs::Matcher& m) {
  const std::uint64_t kind = r.num();
  if (kind > static_cast<std::uint64_t>(cs::Matcher::Kind::never)) return r.fail();
  m.kind = static_cast<cs::Matcher::Kind>(kind);
  const std::uint64_t flags = r.num();
  m.begin = flags & kBegin;
  m.end = flags & kEnd;
  m.one_class_plus = flags & kOneClassPlus;
  const std::size_t atoms = r.below(63);  // match() keeps a 64-bit position set
  for (std::size_t i = 0; i < atoms && r.ok; ++i) {
    if (r.in.size() - r.pos < 32) return r.fail();
    cs::Atom a;
    for (std::size_t byte = 0; byte < 32; ++byte)
      for (std::size_t bit = 0; bit < 8; ++bit) a.set[byte * 8 + bit] = r.in[r.pos + byte] >> bit & 1;
    r.pos += 32;
    const std::uint64_t q = r.num();
    if (q != 0 && q != '*' && q != '?') return r.fail();
    a.q = static_cast<char>(q);
    m.atoms.push_back(a);
  }
  if (m.one_class_plus && m.atoms.size() != 2) return r.fail();
  const std::string_view pattern = r.str();
  if (m.kind == cs::Matcher::Kind::regex) {
    m.pattern = std::string(pattern);
    m.re = cached_regex(m.pattern);
    if (!m.re) return r.fail();
  }
  return r.ok;
}

bool read_prop(Reader& r, cs::Prop& p) {
  const std::uint64_t flags = r.num();
  p.has_const = flags & kConst;
  p.const_str = std::string(r.str());
  if (flags & kConstNum) p.const_num = r.num();
  p.has_enum = flags & kEnum;
  const std::size_t n = r.count();
  for (std::size_t i = 0; i < n && r.ok; ++i) {
    p.enum_str.emplace_back(r.str());
    p.enum_num.push_back(r.opt());
  }
  if (flags & kMin) p.minimum = r.num();
  if (flags & kMax) p.maximum = r.num();
  if (flags & kMultiple) p.multiple_of = r.num();
  if (flags & kType) p.type = r.type();
  return r.ok;
}

}  // namespace

std::vector<std::uint8_t> SchemaPackAccess::write(const SchemaSet& set) {
  Writer w;
  w.out.assign(kMagic.begin(), kMagic.end());
  const auto& docs = set.docs();
  w.num(docs.size());
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const SchemaDoc& d = docs[i];
    // What for_abi() and layout() read from the YAML.
    const bool has_layout = d.parsed && d.root["layout"];
    w.str(d.path);
    w.str(d.id);
    w.str(d.parsed ? str(d.root["select"]) : std::string());
    w.str(has_layout ? str(d.root["layout"]["name"]) : std::string());
    const SchemaSet::CompiledNode* root = set.compiled(d);
    w.num((d.parsed ? kParsed : 0) | (has_layout ? kLayout : 0) | (root ? kGraph : 0));
    if (!root) continue;
    GraphWriter gw{docs, *set.cache_->graph_at[i].load(), {}, {}, {}};
    gw.run();
    w.num(gw.w.out.size());
    w.out.insert(w.out.end(), gw.w.out.begin(), gw.w.out.end());
  }
  set.prop_type_by_name("");  // fills the table
  const auto& names = set.cache_->names;
  w.num(names.size());
  for (const auto& [name, type] : names) {
    w.str(name);
    w.num(type ? static_cast<std::uint64_t>(*type) + 1 : 0);
  }
  return w.out;
}

bool SchemaPackAccess::index(SchemaSet& s, std::span<const std::uint8_t> pack) {
  if (pack.size() < kMagic.size() || std::string_view(reinterpret_cast<const char*>(pack.data()), kMagic.size()) != kMagic)
    return false;
  Reader r{pack, kMagic.size()};
  const std::size_t n = r.count();
  if (n != embedded_schema_count()) return false;  // doc i's YAML is builtin_sources()[i]
  std::vector<SchemaDoc> docs(n);
  SchemaSet::Cache c;
  c.layouts.resize(n);
  c.selects.resize(n);
  c.select_ok.assign(n, 0);
  c.pack_graphs.assign(n, kNone);
  for (std::size_t i = 0; i < n && r.ok; ++i) {
    docs[i].path = std::string(r.str());
    docs[i].id = std::string(r.str());
    c.selects[i] = std::string(r.str());
    const std::string_view layout = r.str();
    const std::uint64_t flags = r.num();
    docs[i].parsed = flags & kParsed;
    c.select_ok[i] = docs[i].parsed;
    if (flags & kLayout) c.layouts[i] = std::string(layout);
    if (flags & kGraph) {
      c.pack_graphs[i] = r.pos;  // read_graph() reads the length again
      const std::size_t len = r.count();
      if (len > r.in.size() - r.pos) return false;
      r.pos += len;
    }
  }
  c.pack_names = r.pos;
  if (!r.ok) return false;
  SchemaSet::Cache& out = *s.cache_;
  s.docs_ = std::move(docs);
  out.lazy.assign(n, 1);
  out.once = std::make_unique<std::once_flag[]>(n);
  out.loaded = std::make_unique<std::atomic<bool>[]>(n);
  out.layouts = std::move(c.layouts);
  out.selects = std::move(c.selects);
  out.select_ok = std::move(c.select_ok);
  out.have_selects = true;
  out.pack = pack;
  out.pack_graphs = std::move(c.pack_graphs);
  out.pack_names = c.pack_names;
  s.seal();
  return true;
}

bool SchemaPackAccess::read_graph(std::span<const std::uint8_t> pack, std::size_t at, const SchemaSet& set,
                                  SchemaSet::Cache::Graph& g) {
  if (at > pack.size()) return false;
  Reader r{pack, at};
  const std::size_t len = r.count();
  if (!r.ok || len > pack.size() - r.pos) return false;
  r.in = pack.subspan(0, r.pos + len);
  const std::size_t nprops = r.count();
  for (std::size_t i = 0; i < nprops && r.ok; ++i) {
    g.props.push_back(std::make_unique<cs::Prop>());
    read_prop(r, *g.props.back());
  }
  const std::size_t nnodes = r.count();
  const std::size_t root = r.below(nnodes);
  if (!r.ok) return false;
  for (std::size_t i = 0; i < nnodes; ++i) g.nodes.push_back(std::make_unique<SchemaSet::CompiledNode>());
  auto target = [&](const SchemaSet::CompiledNode*& node, const cs::Prop*& prop) {
    const std::uint64_t t = r.num();
    if (t & 1) node = (t >> 1) < nnodes ? g.nodes[t >> 1].get() : (r.fail(), nullptr);
    else prop = (t >> 1) < nprops ? g.props[t >> 1].get() : (r.fail(), nullptr);
  };
  for (std::size_t i = 0; i < nnodes && r.ok; ++i) {
    SchemaSet::CompiledNode& n = *g.nodes[i];
    const std::uint64_t flags = r.num();
    n.skip = flags & kSkip;
    n.additional_ok = flags & kAdditional;
    if (const std::size_t id = r.below(set.docs_.size() + 1)) n.id = &set.docs_[id - 1].id;
    n.ref_hops = static_cast<int>(r.below(1u << 16));
    const std::size_t nreq = r.count();
    for (std::size_t k = 0; k < nreq && r.ok; ++k) n.required.emplace_back(r.str());
    const std::size_t nentries = r.count();
    for (std::size_t k = 0; k < nentries && r.ok; ++k) {
      SchemaSet::CompiledNode::Entry e;
      e.name = std::string(r.str());
      target(e.node, e.prop);
      n.props.push_back(std::move(e));
    }
    const std::size_t npatterns = r.count();
    for (std::size_t k = 0; k < npatterns && r.ok; ++k) {
      SchemaSet::CompiledNode::Pattern p;
      read_matcher(r, p.m);
      target(p.node, p.prop);
      n.patterns.push_back(std::move(p));
    }
  }
  if (!r.ok || r.pos != r.in.size()) return false;
  g.root = g.nodes[root].get();
  return true;
}

bool SchemaPackAccess::read_names(std::span<const std::uint8_t> pack, std::size_t at,
                                  std::vector<std::pair<std::string, std::optional<fdt::PropType>>>& names) {
  if (at > pack.size()) return false;
  Reader r{pack, at};
  const std::size_t n = r.count();
  for (std::size_t i = 0; i < n && r.ok; ++i) {
    std::string name(r.str());
    const std::uint64_t t = r.num();
    if (t > kLastType + 1) return false;
    names.emplace_back(std::move(name), t ? std::optional(static_cast<fdt::PropType>(t - 1)) : std::nullopt);
  }
  return r.ok && r.pos == pack.size();
}

// ------------------------------------------------------------------ comparing

namespace {

bool same_matcher(const cs::Matcher& a, const cs::Matcher& b) {
  if (a.kind != b.kind || a.begin != b.begin || a.end != b.end || a.one_class_plus != b.one_class_plus ||
      a.pattern != b.pattern || (a.re == nullptr) != (b.re == nullptr) || a.atoms.size() != b.atoms.size())
    return false;
  for (std::size_t i = 0; i < a.atoms.size(); ++i)
    if (a.atoms[i].set != b.atoms[i].set || a.atoms[i].q != b.atoms[i].q) return false;
  return true;
}

bool same_prop(const cs::Prop& a, const cs::Prop& b) {
  return a.has_const == b.has_const && a.const_str == b.const_str && a.const_num == b.const_num &&
         a.has_enum == b.has_enum && a.enum_str == b.enum_str && a.enum_num == b.enum_num &&
         a.minimum == b.minimum && a.maximum == b.maximum && a.multiple_of == b.multiple_of && a.type == b.type;
}

// Walks both graphs together; a node of one must always meet the same node of the other.
struct Compare {
  std::map<const SchemaSet::CompiledNode*, const SchemaSet::CompiledNode*> seen;
  std::string& why;

  bool target(const SchemaSet::CompiledNode* an, const cs::Prop* ap, const SchemaSet::CompiledNode* bn,
              const cs::Prop* bp, const std::string& at) {
    if ((an == nullptr) != (bn == nullptr) || (ap == nullptr) != (bp == nullptr)) return why = at + ": node vs property", false;
    if (ap && !same_prop(*ap, *bp)) return why = at + ": property schemas differ", false;
    return !an || node(an, bn, at);
  }

  bool node(const SchemaSet::CompiledNode* a, const SchemaSet::CompiledNode* b, const std::string& at) {
    if (auto it = seen.find(a); it != seen.end()) return it->second == b || (why = at + ": shared differently", false);
    seen.emplace(a, b);
    static const std::string kNoId = "(none)";
    if (a->skip != b->skip || a->additional_ok != b->additional_ok || a->ref_hops != b->ref_hops ||
        a->required != b->required || (a->id ? *a->id : kNoId) != (b->id ? *b->id : kNoId))
      return why = at + ": skip, additionalProperties, $ref hops, required or $id differ", false;
    if (a->props.size() != b->props.size() || a->patterns.size() != b->patterns.size())
      return why = at + ": property or pattern counts differ", false;
    for (std::size_t i = 0; i < a->props.size(); ++i) {
      const auto &x = a->props[i], &y = b->props[i];
      if (x.name != y.name) return why = at + ": property " + x.name + " vs " + y.name, false;
      if (!target(x.node, x.prop, y.node, y.prop, at + "/" + x.name)) return false;
    }
    for (std::size_t i = 0; i < a->patterns.size(); ++i) {
      const auto &x = a->patterns[i], &y = b->patterns[i];
      const std::string here = at + "/pattern " + std::to_string(i);
      if (!same_matcher(x.m, y.m)) return why = here + ": matchers differ", false;
      if (!target(x.node, x.prop, y.node, y.prop, here)) return false;
    }
    return true;
  }
};

}  // namespace

bool SchemaPackAccess::same_graph(const SchemaSet::CompiledNode* a, const SchemaSet::CompiledNode* b,
                                  const std::string& at, std::string& why) {
  if (!a || !b) {
    if (a != b) why = at + ": compiled on one side only";
    return a == b;
  }
  Compare c{{}, why};
  return c.node(a, b, at);
}

const SchemaSet::CompiledNode* SchemaPackAccess::compiled(const SchemaSet& set, const SchemaDoc& doc) {
  return set.compiled(doc);
}

bool SchemaPackAccess::same_names(const SchemaSet& a, const SchemaSet& b, std::string& why) {
  a.prop_type_by_name("");
  b.prop_type_by_name("");
  if (a.cache_->names == b.cache_->names) return true;
  why = "prop_type_by_name() tables differ (" + std::to_string(a.cache_->names.size()) + " vs " +
        std::to_string(b.cache_->names.size()) + " names)";
  return false;
}

}  // namespace khospec::conformance
