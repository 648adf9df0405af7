#include "core/abi.hpp"

#include "core/json.hpp"

namespace khospec::abi {

const Format* AbiSet::format(const std::string& compatible) const {
  for (const auto& f : formats)
    if (f.compatible == compatible) return &f;
  return nullptr;
}

const Layout* AbiSet::layout(const std::string& name) const {
  for (const auto& l : layouts)
    if (l.name == name) return &l;
  return nullptr;
}

std::optional<std::uint64_t> type_len(const std::string& type) {
  if (type == "u8") return 1;
  if (type == "u16") return 2;
  if (type == "u32") return 4;
  if (type == "u64" || type == "phys_addr") return 8;
  if (type == "empty") return 0;
  return std::nullopt;
}

namespace {

void write_strings(JsonWriter& w, const char* key, const std::vector<std::string>& v) {
  if (v.empty()) return;
  w.key(key).begin_array();
  for (const auto& s : v) w.value(s);
  w.end_array();
}

void write_value(JsonWriter& w, const Value& v) {
  w.key("type").value(v.type);
  if (v.len) w.key("len").value(*v.len);
  write_strings(w, "values", v.values);
  if (v.minimum) w.key("minimum").value(*v.minimum);
  if (v.maximum) w.key("maximum").value(*v.maximum);
  if (v.multiple_of) w.key("multipleOf").value(*v.multiple_of);
  write_strings(w, "points-to", v.points_to);
}

void write_node(JsonWriter& w, const Node& n) {
  w.begin_object();
  w.key("name").value(n.name);
  if (n.pattern) w.key("pattern").value(true);
  if (n.required) w.key("required").value(true);
  w.key("additional").value(n.additional);
  if (n.deprecated) w.key("deprecated").value(true);
  if (!n.description.empty()) w.key("description").value(n.description);
  w.key("properties").begin_array();
  for (const auto& p : n.props) {
    w.begin_object();
    w.key("name").value(p.name);
    write_value(w, p.value);
    if (p.required) w.key("required").value(true);
    if (p.deprecated) w.key("deprecated").value(true);
    if (!p.description.empty()) w.key("description").value(p.description);
    w.end_object();
  }
  w.end_array();
  w.key("children").begin_array();
  for (const auto& c : n.children) write_node(w, c);
  w.end_array();
  w.end_object();
}

}  // namespace

void write_json(JsonWriter& w, const AbiSet& set) {
  w.begin_object();
  w.key("abi_dump_version").value(1);
  w.key("origin").value(set.origin);
  if (!set.era.empty()) w.key("era").value(set.era);
  w.key("formats").begin_array();
  for (const auto& f : set.formats) {
    w.begin_object();
    w.key("compatible").value(f.compatible);
    w.key("kind").value(f.kind);
    if (!f.id.empty()) w.key("id").value(f.id);
    w.key("status").value(f.status);
    if (!f.title.empty()) w.key("title").value(f.title);
    if (!f.source.empty()) w.key("source").value(f.source);
    w.key("root");
    write_node(w, f.root);
    w.end_object();
  }
  w.end_array();
  w.key("layouts").begin_array();
  for (const auto& l : set.layouts) {
    w.begin_object();
    w.key("name").value(l.name);
    w.key("size").value(l.size);
    if (!l.title.empty()) w.key("title").value(l.title);
    w.key("fields").begin_array();
    for (const auto& f : l.fields) {
      w.begin_object();
      w.key("name").value(f.name);
      w.key("offset").value(f.offset);
      w.key("size").value(f.size);
      if (f.count != 1) w.key("count").value(f.count);
      if (f.bit_width) {
        w.key("bits").begin_array();
        w.value(static_cast<std::uint64_t>(f.bit_lsb)).value(static_cast<std::uint64_t>(f.bit_width));
        w.end_array();
      }
      write_value(w, f.value);
      if (!f.layout.empty()) w.key("layout").value(f.layout);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

}  // namespace khospec::abi
