// The obligation table: every family (families.hpp, one obl_*.cpp each) in
// list order. Running one obligation is query.cpp's run_one().
#include "spec/z3/obligations.hpp"

#include "spec/z3/families.hpp"

namespace khospec::spec::z3enc {

std::vector<Obligation> build_obligations(const ProveOptions& opts, Mutation m) {
  std::vector<Obligation> out;
  for (Family family : kFamilies) family(out, opts, m);
  return out;
}

}  // namespace khospec::spec::z3enc
