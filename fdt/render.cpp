#include "fdt/render.hpp"

#include "core/parse.hpp"

#include <cstdio>

extern "C" {
#include <libfdt.h>
}

namespace khospec::fdt {

namespace {


// On the wire a phys_addr_t is a u64; label it the way developers read it.
std::string label(const Property& p) {
  std::string t(p.type == PropType::phys_addr ? "u64" : type_name(p.type));
  return p.type_known ? t : t + "?";
}

std::string hex_string(const std::vector<std::uint8_t>& raw) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto b : raw) {
    s.push_back(d[b >> 4]);
    s.push_back(d[b & 15]);
  }
  return s;
}

void node_text(std::ostream& out, const Node& n, int depth, const RenderOptions& o) {
  std::string ind(static_cast<std::size_t>(depth) * 4, ' ');
  out << ind << (depth == 0 ? "/" : n.name);
  if (o.offsets) out << " @" << hex(n.offset);
  out << " {\n";
  for (const auto& p : n.props) {
    out << ind << "    " << p.name;
    if (o.offsets) out << " @" << hex(p.offset);
    if (p.value) {
      out << " = " << format_value(*p.value) << " (" << label(p) << ")\n";
    } else {
      out << " = " << format_bytes(p.raw) << " (" << label(p) << ": bad length " << p.raw.size()
          << ")\n";
    }
  }
  for (const auto& c : n.children) node_text(out, c, depth + 1, o);
  out << ind << "}\n";
}

void node_json(JsonWriter& w, const Node& n) {
  w.begin_object();
  w.key("name").value(n.name);
  w.key("path").value(n.path);
  w.key("offset").value(n.offset);
  w.key("properties").begin_array();
  for (const auto& p : n.props) {
    w.begin_object();
    w.key("name").value(p.name);
    w.key("offset").value(p.offset);
    w.key("type").value(type_name(p.type));
    w.key("type_known").value(p.type_known);
    w.key("length").value(static_cast<std::uint64_t>(p.raw.size()));
    w.key("raw").value(hex_string(p.raw));
    w.key("value");
    if (!p.value) {
      w.null();
    } else {
      const Value& v = *p.value;
      switch (v.type) {
        case PropType::u32:
        case PropType::u64:
        case PropType::phys_addr:
          w.value(v.number);
          w.key("hex").value(hex(v.number));
          break;
        case PropType::string:
          w.value(v.strings.empty() ? std::string() : v.strings[0]);
          break;
        case PropType::string_list:
          w.begin_array();
          for (const auto& s : v.strings) w.value(s);
          w.end_array();
          break;
        case PropType::u32_array:
        case PropType::u64_array:
          w.begin_array();
          for (auto x : v.numbers) w.value(x);
          w.end_array();
          break;
        case PropType::empty:
          w.value(true);
          break;
        case PropType::bytes:
          w.value(hex_string(v.raw));
          break;
      }
    }
    w.end_object();
  }
  w.end_array();
  w.key("children").begin_array();
  for (const auto& c : n.children) node_json(w, c);
  w.end_array();
  w.end_object();
}

}  // namespace

void render_tree_text(std::ostream& out, const Tree& tree, const RenderOptions& opts) {
  node_text(out, tree.root, 0, opts);
}

void write_tree_json(JsonWriter& w, const Tree& tree) { node_json(w, tree.root); }

void write_header_json(JsonWriter& w, const Blob& blob) {
  const void* f = blob.fdt();
  w.begin_object();
  w.key("magic").value(std::uint64_t{fdt_magic(f)});
  w.key("totalsize").value(std::uint64_t{fdt_totalsize(f)});
  w.key("off_dt_struct").value(std::uint64_t{fdt_off_dt_struct(f)});
  w.key("off_dt_strings").value(std::uint64_t{fdt_off_dt_strings(f)});
  w.key("off_mem_rsvmap").value(std::uint64_t{fdt_off_mem_rsvmap(f)});
  w.key("version").value(std::uint64_t{fdt_version(f)});
  w.key("last_comp_version").value(std::uint64_t{fdt_last_comp_version(f)});
  w.key("boot_cpuid_phys").value(std::uint64_t{fdt_boot_cpuid_phys(f)});
  w.key("size_dt_strings").value(std::uint64_t{fdt_size_dt_strings(f)});
  w.key("size_dt_struct").value(std::uint64_t{fdt_size_dt_struct(f)});
  w.end_object();
}

std::string header_summary(const Blob& blob) {
  const void* f = blob.fdt();
  return "FDT v" + std::to_string(fdt_version(f)) + ", totalsize " + hex(fdt_totalsize(f)) + " (" +
         std::to_string(fdt_totalsize(f)) + " bytes), buffer " + std::to_string(blob.buffer_size()) +
         " bytes";
}

}  // namespace khospec::fdt
