// The reader x writer compatibility matrix over every era the model knows
// (`khospec compat --matrix`). Each cell is computed twice:
//   schema: the writer era's ABI dump (model/kho/abi_dump.hpp) checked
//           forward against the reader era's (conformance/compat/compat.hpp);
//   model:  kernel A of the writer era preserves memory and kexecs into
//           kernel B of the reader era, which boots from those bytes.
// Outcomes: revive (B restores exactly A's preserved set), refuse (B
// disables revival: cold boot, preserved memory unprotected), misread (B
// accepts the hand-over but decodes a different preserved set). The same
// pairs again per KHO client (ClientCell).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "model/kho/era.hpp"
#include "model/kho/kernel.hpp"

namespace khospec::model {
class Machine;
}

namespace khospec::conformance {

struct MatrixCell {
  registry::EraId writer, reader;
  std::string schema_outcome, schema_why;  // from the ABI dumps
  std::string model_outcome, model_why;    // from running the model
  bool agree() const { return schema_outcome == model_outcome; }
};

// One KHO client (memblock, kho_test, kexec-metadata, luo, memfd) for one
// pair (client_matrix.cpp). Outcomes: revive (B's client reads back what
// A's wrote); refuse (B's client rejects it: the data is lost); panic (B's
// LUO cannot read the tree: luo_restore_fail()); ignored (B has no such
// client: the data stays unread); n/a (A hands nothing over for it); none
// and misread (the root hand-over was refused or misread, and the client's
// data with it).
struct ClientCell {
  registry::EraId writer, reader;
  std::string client;
  std::string abi_outcome, abi_why;      // from the registry's client formats
  std::string model_outcome, model_why;  // from running the model
  bool agree() const { return abi_outcome == model_outcome; }
};

struct CompatMatrix {
  std::vector<registry::EraId> eras;
  std::vector<MatrixCell> cells;  // writer-major
  std::vector<ClientCell> client_cells;  // writer-major, then matrix_clients() order
  const MatrixCell& at(registry::EraId writer, registry::EraId reader) const;
  const ClientCell& at(registry::EraId writer, registry::EraId reader, std::string_view client) const;
  bool all_agree() const;
};

CompatMatrix compat_matrix();
// The model column alone, for one pair.
MatrixCell run_matrix_cell(registry::EraId writer, registry::EraId reader);

// The clients of the matrix, in order.
const std::vector<std::string>& matrix_clients();
// The ABI column of one client cell, given the pair's root outcome (schema)
// and, for memfd, the pair's LUO outcome.
ClientCell abi_client_cell(registry::EraId writer, registry::EraId reader, const std::string& client,
                           const std::string& root_outcome, const std::string& luo_outcome);
// Kernel A of a client-matrix pair, booted on `m`: the writer era's model
// release with every client in use (reserve_mem "trace", test_kho,
// kexec-metadata, a LUO session "matrix" holding a 2-page memfd as token 1
// with matrix_memfd_bytes() at offset 100), finalized where the era needs it
// and loaded for kexec. Preflight's tests boot B from the same hand-over.
struct MatrixWriter {
  model::Kernel* a = nullptr;
  int err = 0;  // finalize / kexec_file_load
  bool luo_sent = false, memfd_sent = false, test_kho_sent = false;
  std::uint32_t kexec_count = 0;
};
inline constexpr const char* kMatrixCmdline = "kho=on liveupdate=on reserve_mem=4M:4096:trace";
model::KernelConfig matrix_kernel_config(registry::EraId e);
MatrixWriter boot_matrix_writer(model::Machine& m, registry::EraId writer);
const std::vector<std::uint8_t>& matrix_memfd_bytes();

// The model column of every client cell of one pair (one model run).
std::vector<ClientCell> run_client_cells(registry::EraId writer, registry::EraId reader);

void render_matrix_text(std::ostream& out, const CompatMatrix& m);
void render_matrix_markdown(std::ostream& out, const CompatMatrix& m);
void render_matrix_json(std::ostream& out, const CompatMatrix& m);  // one JSON object (no preamble)

}  // namespace khospec::conformance
