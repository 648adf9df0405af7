// libFuzzer target over one YAML schema file (docs/fuzz.md): load, lint (the
// meta-validation: keywords, $refs, regexes, layouts, every example compiled
// and checked), the compiled node schema's property types and a tree checked
// against it, and the layouts it declares. Seeds: schemas/**/*.yaml.
//
// Cap: inputs above 16 KiB are skipped. A schema's patternProperties become
// std::regex objects whose compile and match cost grows with the pattern
// (libstdc++'s recursive matcher), and lint compiles every example, so a
// legitimately super-linear load needs a bound; the real schemas are <= 8 KiB.
#include <cstdint>
#include <string>

#include "conformance/schema/schema.hpp"

using namespace khospec;
using namespace khospec::conformance;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  Report report;
  SchemaSet set = SchemaSet::load({{"schemas/kho/fuzz.yaml", text}}, report);
  set.lint(report);
  // A small KHO-looking tree: a root with a compatible, a u64 and a subnode.
  const auto prop = [](std::string name, std::vector<std::uint8_t> raw) {
    fdt::Property p;
    p.name = std::move(name);
    p.raw = std::move(raw);
    return p;
  };
  fdt::Tree tree;
  tree.root.path = "/";
  tree.root.props.push_back(prop("compatible", {'k', 'h', 'o', '-', 'v', '1', 0}));
  tree.root.props.push_back(prop("preserved-memory-map", std::vector<std::uint8_t>(8, 0x11)));
  fdt::Node child;
  child.name = "memblock";
  child.path = "/memblock";
  child.props.push_back(prop("fdt", std::vector<std::uint8_t>(8, 0)));
  tree.root.children.push_back(child);
  for (std::size_t i = 0; i < set.doc_count(); ++i) {
    const SchemaDoc& doc = set.doc(i);
    set.validate_tree(tree, doc, "fuzz.dtb", report);
    (void)set.prop_type(doc, tree.root, "preserved-memory-map");
    (void)set.prop_type_by_name("fdt");
    if (doc.parsed && doc.root.IsMap() && doc.root["layout"] && doc.root["layout"].IsMap() &&
        doc.root["layout"]["name"] && doc.root["layout"]["name"].IsScalar())
      (void)set.layout(doc.root["layout"]["name"].Scalar());
  }
  (void)set.for_abi("kho-v1");
  return 0;
}
