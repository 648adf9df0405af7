// The reader x writer compatibility matrix over every era the model knows
// (`khospec compat --matrix`). Each cell is computed twice:
//   schema: the writer era's ABI dump (model/kho/abi_dump.hpp) checked
//           forward against the reader era's (conformance/compat/compat.hpp);
//   model:  kernel A of the writer era preserves memory and kexecs into
//           kernel B of the reader era, which boots from those bytes.
// Outcomes: revive (B restores exactly A's preserved set), refuse (B
// disables revival: cold boot, preserved memory unprotected), misread (B
// accepts the hand-over but decodes a different preserved set).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "model/kho/era.hpp"

namespace khospec::conformance {

struct MatrixCell {
  registry::EraId writer, reader;
  std::string schema_outcome, schema_why;  // from the ABI dumps
  std::string model_outcome, model_why;    // from running the model
  bool agree() const { return schema_outcome == model_outcome; }
};

struct CompatMatrix {
  std::vector<registry::EraId> eras;
  std::vector<MatrixCell> cells;  // writer-major
  const MatrixCell& at(registry::EraId writer, registry::EraId reader) const;
  bool all_agree() const;
};

CompatMatrix compat_matrix();
// The model column alone, for one pair.
MatrixCell run_matrix_cell(registry::EraId writer, registry::EraId reader);

void render_matrix_text(std::ostream& out, const CompatMatrix& m);
void render_matrix_markdown(std::ostream& out, const CompatMatrix& m);
void render_matrix_json(std::ostream& out, const CompatMatrix& m);  // one JSON object (no preamble)

}  // namespace khospec::conformance
