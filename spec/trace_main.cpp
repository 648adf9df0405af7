// spec_trace: print docs/spec-trace.md (the same text as `khospec prove --trace`).
#include <iostream>

#include "spec/registry.hpp"

int main() {
  std::cout << khospec::spec::trace_markdown(khospec::spec::default_options());
  return 0;
}
