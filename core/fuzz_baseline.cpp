// libFuzzer target over the baseline reader (`validate --baseline FILE`,
// docs/fuzz.md): RuleConfig::load_baseline() on the input as a file, then
// filter() over a report holding findings with the names, nodes and
// properties a baseline line may carry. Seeds: baselines `khospec validate
// --write-baseline` wrote over the corpus ($KHOSPEC_FUZZ_BASELINES, the
// fixture test fuzz/baseline/write-seeds).
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

#include "core/diag.hpp"
#include "core/rules.hpp"

using namespace khospec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/khospec-fuzz-baseline-" + std::to_string(getpid());
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  RuleConfig cfg;
  std::string error;
  const bool ok = cfg.load_baseline(path, error);
  std::remove(path.c_str());
  if (!ok) return 0;
  Report report;
  for (const char* rule : {"fdt_truncated", "kho_map_order_above_max", "schema_required_missing"}) {
    Diagnostic d;
    d.rule = rule;
    d.file = "fuzz.dtb";
    d.node = "/memblock";
    d.property = "fdt";
    report.add(d);
    d.node.clear();
    d.property.clear();
    report.add(d);
  }
  (void)cfg.filter(report);
  return 0;
}
