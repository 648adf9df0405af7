#include "crosscheck/compat_matrix.hpp"

#include <algorithm>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "conformance/compat/compat.hpp"
#include "core/json.hpp"
#include "core/rules.hpp"
#include "model/kho/abi_dump.hpp"
#include "model/kho/machine.hpp"

namespace khospec::conformance {

using registry::EraId;
using model::phys_addr_t;

const MatrixCell& CompatMatrix::at(EraId writer, EraId reader) const {
  for (const auto& c : cells)
    if (c.writer == writer && c.reader == reader) return c;
  return cells.front();
}

const ClientCell& CompatMatrix::at(EraId writer, EraId reader, std::string_view client) const {
  for (const auto& c : client_cells)
    if (c.writer == writer && c.reader == reader && c.client == client) return c;
  return client_cells.front();
}

bool CompatMatrix::all_agree() const {
  return std::all_of(cells.begin(), cells.end(), [](const MatrixCell& c) { return c.agree(); }) &&
         std::all_of(client_cells.begin(), client_cells.end(), [](const ClientCell& c) { return c.agree(); });
}

namespace {

void schema_cell(MatrixCell& c, const abi::AbiSet& w, const abi::AbiSet& r) {
  const std::string wc = w.formats.front().compatible, rc = r.formats.front().compatible;
  if (wc != rc) {
    c.schema_outcome = "refuse";
    c.schema_why = "compatible " + wc + " != " + rc;
    return;
  }
  CompatOptions o;
  o.direction = Direction::forward;  // the reader is the new side: it reads the writer's (old) data
  CompatResult res = compat_check(w, r, o);
  const CompatChange* first = nullptr;
  for (const auto& ch : res.changes) {
    if (ch.diag.type != "wire" || ch.diag.rule == "compat_break_without_version_bump") continue;
    if (!first || (ch.effect == "misread" && first->effect != "misread")) first = &ch;
  }
  if (!first) {
    c.schema_outcome = "revive";
    c.schema_why = "same compatible, no forward wire change";
    return;
  }
  c.schema_outcome = first->effect;
  // The message without the compat context prefix ("kho-v1: ") and the [breaks ...] suffix.
  std::string msg = first->diag.message;
  if (auto p = msg.find(": "); p != std::string::npos) msg = msg.substr(p + 2);
  if (auto p = msg.rfind(" ["); p != std::string::npos) msg = msg.substr(0, p);
  c.schema_why = first->diag.rule + " at " + first->diag.node + ": " + msg;
}

model::KernelConfig kernel_cfg(EraId era) {
  model::KernelConfig k;
  k.era = era;
  k.cmdline = "kho=on";
  return k;
}

}  // namespace

MatrixCell run_matrix_cell(EraId writer, EraId reader) {
  MatrixCell c{writer, reader, "", "", "", ""};
  model::Machine m(model::machine_with_ram(2ull << 30));
  model::Kernel& a = m.boot_cold(kernel_cfg(writer));
  // Order-0 folios at least 20 MiB apart over ~160 MiB of allocated memory:
  // they land in different 16 MiB windows (one 512-byte 6.16 bitmap each,
  // packed in shared pages) and at bit indices >= 4096 of 6.18+ PAGE_SIZE
  // bitmaps, so a reader assuming the other bitmap size decodes a different
  // set. Plus two order-9 folios.
  std::vector<std::pair<phys_addr_t, unsigned>> want;
  std::vector<phys_addr_t> blocks;
  for (int i = 0; i < 40; ++i)
    if (phys_addr_t p = a.alloc_pages(10)) blocks.push_back(p);
  std::sort(blocks.begin(), blocks.end());
  for (phys_addr_t p : blocks)
    if (want.empty() || p >= want.back().first + (20ull << 20)) want.push_back({p, 0});
  for (int i = 0; i < 2; ++i)
    if (phys_addr_t p = a.alloc_pages(9)) want.push_back({p, 9});
  for (const auto& [p, o] : want) {
    if (int err = a.kho_preserve_folio(p, o); err) {
      c.model_outcome = "error";
      c.model_why = "writer: kho_preserve_folio(" + hex_u64(p) + ", " + std::to_string(o) + ") = " + std::to_string(err);
      return c;
    }
  }
  const auto& t = registry::era(writer);
  int err = 0;
  if (t.finalize == registry::FinalizeModel::notifier_abort) err = a.debugfs_finalize_write(1);
  if (t.finalize == registry::FinalizeModel::refresh) err = a.kho_finalize();
  if (!err) err = a.kexec_file_load();
  if (err) {
    c.model_outcome = "error";
    c.model_why = "writer: finalize/kexec_file_load = " + std::to_string(err);
    return c;
  }
  model::Kernel* b = m.kexec(kernel_cfg(reader));
  if (!b) {
    c.model_outcome = "error";
    c.model_why = "kexec loaded nothing";
    return c;
  }
  if (!b->kho_boot()) {
    c.model_outcome = "refuse";
    std::string why = "no revival";
    for (const auto& l : b->dmesg())
      if (l.find("KHO") != std::string::npos && (l.find("incompatible") != std::string::npos || l.find("invalid") != std::string::npos))
        why = l;
    c.model_why = why;
    return c;
  }
  std::set<model::PreservedBlock> sent(a.outgoing_at_kexec().begin(), a.outgoing_at_kexec().end());
  std::set<model::PreservedBlock> got(b->incoming_blocks().begin(), b->incoming_blocks().end());
  std::size_t extra = 0, missing = 0;
  for (const auto& x : got) extra += !sent.count(x);
  for (const auto& x : sent) missing += !got.count(x);
  if (extra || missing) {
    c.model_outcome = "misread";
    c.model_why = "B decoded " + std::to_string(got.size()) + " blocks for A's " + std::to_string(sent.size()) + " (" +
                  std::to_string(missing) + " lost, " + std::to_string(extra) + " spurious)";
    return c;
  }
  for (const auto& f : b->findings()) {
    if (f.level == "error") {
      c.model_outcome = "misread";
      c.model_why = f.id + ": " + f.detail;
      return c;
    }
  }
  c.model_outcome = "revive";
  c.model_why = "B restored A's " + std::to_string(sent.size()) + " blocks";
  return c;
}

CompatMatrix compat_matrix() {
  CompatMatrix m;
  m.eras.assign(registry::era_ids().begin(), registry::era_ids().end());
  std::map<EraId, abi::AbiSet> dumps;
  for (EraId e : m.eras) dumps[e] = model::kho_abi_dump(e);
  for (EraId w : m.eras) {
    for (EraId r : m.eras) {
      MatrixCell c = run_matrix_cell(w, r);
      schema_cell(c, dumps[w], dumps[r]);
      // The clients: the model's cells, each given its ABI column.
      std::vector<ClientCell> run = run_client_cells(w, r);
      std::string luo = "n/a";
      for (const std::string& client : matrix_clients()) {
        ClientCell abi = abi_client_cell(w, r, client, c.schema_outcome, luo);
        if (client == "luo") luo = abi.abi_outcome;
        for (const auto& x : run)
          if (x.client == client) {
            abi.model_outcome = x.model_outcome;
            abi.model_why = x.model_why;
          }
        m.client_cells.push_back(std::move(abi));
      }
      m.cells.push_back(std::move(c));
    }
  }
  return m;
}

namespace {

std::string cell_label(const MatrixCell& c) {
  return c.agree() ? c.model_outcome : "DISAGREE schema=" + c.schema_outcome + " model=" + c.model_outcome;
}

std::string client_label(const ClientCell& c) {
  return c.agree() ? c.model_outcome : "DISAGREE abi=" + c.abi_outcome + " model=" + c.model_outcome;
}

// Worth a line of explanation: the client's own outcome, not the root's.
bool interesting(const ClientCell& c) {
  return !c.agree() || (c.model_outcome != "n/a" && c.model_outcome != "none" && c.model_outcome != "misread");
}

std::string client_pair(const ClientCell& c) {
  return c.client + " " + std::string(registry::era_name(c.writer)) + " (" +
         std::string(registry::default_release(c.writer).version) + ") -> " + std::string(registry::era_name(c.reader)) +
         " (" + std::string(registry::default_release(c.reader).version) + ")";
}

}  // namespace

void render_matrix_text(std::ostream& out, const CompatMatrix& m) {
  out << "KHO compatibility matrix: rows = writer (kernel A), columns = reader (kernel B)\n"
         "revive: B restores A's preserved memory; refuse: B disables revival (cold boot, preserved\n"
         "memory unprotected); misread: B accepts the hand-over and decodes something else.\n\n";
  const int w = 10;
  out << std::string(static_cast<std::size_t>(w), ' ');
  auto pad = [&](const std::string& s) { return s + std::string(s.size() < static_cast<std::size_t>(w) ? w - s.size() : 1, ' '); };
  for (EraId r : m.eras) out << pad(std::string(registry::era_name(r)));
  out << '\n';
  for (EraId wr : m.eras) {
    out << pad(std::string(registry::era_name(wr)));
    for (EraId r : m.eras) out << pad(cell_label(m.at(wr, r)));
    out << '\n';
  }
  out << "\nWhy (schema-derived | model run):\n";
  for (const auto& c : m.cells) {
    if (c.writer == c.reader) continue;
    out << "  " << registry::era_name(c.writer) << " -> " << registry::era_name(c.reader) << ": " << c.model_outcome
        << (c.agree() ? "" : " (schema says " + c.schema_outcome + ")") << "\n      schema: " << c.schema_why
        << "\n      model:  " << c.model_why << '\n';
  }
  for (const auto& client : matrix_clients()) {
    out << "\nClient " << client << ":\n" << std::string(static_cast<std::size_t>(w), ' ');
    for (EraId r : m.eras) out << pad(std::string(registry::era_name(r)));
    out << '\n';
    for (EraId wr : m.eras) {
      out << pad(std::string(registry::era_name(wr)));
      for (EraId r : m.eras) out << pad(client_label(m.at(wr, r, client)));
      out << '\n';
    }
  }
  out << "\nClients, why (ABI | model run), where it is not n/a, none or misread:\n";
  for (const auto& c : m.client_cells) {
    if (!interesting(c)) continue;
    out << "  " << client_pair(c) << ": " << c.model_outcome << (c.agree() ? "" : " (ABI says " + c.abi_outcome + ")")
        << "\n      ABI:   " << c.abi_why << "\n      model: " << c.model_why << '\n';
  }
  out << (m.all_agree() ? "\nThe schema-derived and model-run outcomes agree for every pair and client.\n"
                        : "\nThe schema-derived and model-run outcomes DISAGREE for some pairs.\n");
}

void render_matrix_markdown(std::ostream& out, const CompatMatrix& m) {
  out << "| writer \\ reader |";
  for (EraId r : m.eras) out << ' ' << registry::era_name(r) << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < m.eras.size(); ++i) out << "---|";
  out << '\n';
  for (EraId wr : m.eras) {
    out << "| **" << registry::era_name(wr) << "** |";
    for (EraId r : m.eras) out << ' ' << cell_label(m.at(wr, r)) << " |";
    out << '\n';
  }
  out << "\n| writer -> reader | outcome | schema-derived (ABI dumps) | model run |\n|---|---|---|---|\n";
  for (const auto& c : m.cells) {
    if (c.writer == c.reader) continue;
    out << "| " << registry::era_name(c.writer) << " -> " << registry::era_name(c.reader) << " | " << cell_label(c) << " | "
        << c.schema_why << " | " << c.model_why << " |\n";
  }
  out << "\n## Clients\n\n"
         "Each era runs its model release (docs/eras.md); kernel A uses every client (reserve_mem \"trace\",\n"
         "test_kho, kexec-metadata, a LUO session \"matrix\" with a memfd), kexecs, and each of kernel B's clients\n"
         "reports what it got. **revive**: B's client reads back A's data. **refuse**: B's client rejects it (the\n"
         "data is lost). **panic**: B's LUO cannot read the tree (`luo_restore_fail()`). **ignored**: B has no such\n"
         "client; the data stays unread. **n/a**: A hands nothing over for it. **none** / **misread**: the root\n"
         "hand-over was refused or misread, and the client's data with it. Each cell is computed from the\n"
         "registry's client formats (compatible, layout, releases) and by the model run, and a test requires\n"
         "both to agree. Differences between releases of one era are not cells here: 6.19's LUO tree panics 7.0\n"
         "(built-in scenario `luo-flb-missing`).\n";
  for (const auto& client : matrix_clients()) {
    out << "\n### " << client << "\n\n| writer \\ reader |";
    for (EraId r : m.eras) out << ' ' << registry::era_name(r) << " |";
    out << "\n|---|";
    for (std::size_t i = 0; i < m.eras.size(); ++i) out << "---|";
    out << '\n';
    for (EraId wr : m.eras) {
      out << "| **" << registry::era_name(wr) << "** |";
      for (EraId r : m.eras) out << ' ' << client_label(m.at(wr, r, client)) << " |";
      out << '\n';
    }
  }
  out << "\n| client, writer -> reader | outcome | from the client formats | model run |\n|---|---|---|---|\n";
  for (const auto& c : m.client_cells) {
    if (!interesting(c)) continue;
    out << "| " << client_pair(c) << " | " << client_label(c) << " | " << c.abi_why << " | " << c.model_why << " |\n";
  }
}

void render_matrix_json(std::ostream& out, const CompatMatrix& m) {
  JsonWriter w(out);
  w.begin_object();
  w.key("eras").begin_array();
  for (EraId e : m.eras) w.value(registry::era_name(e));
  w.end_array();
  w.key("all_agree").value(m.all_agree());
  w.key("cells").begin_array();
  for (const auto& c : m.cells) {
    w.begin_object();
    w.key("writer").value(registry::era_name(c.writer));
    w.key("reader").value(registry::era_name(c.reader));
    w.key("outcome").value(c.model_outcome);
    w.key("agree").value(c.agree());
    w.key("schema").begin_object().key("outcome").value(c.schema_outcome).key("why").value(c.schema_why).end_object();
    w.key("model").begin_object().key("outcome").value(c.model_outcome).key("why").value(c.model_why).end_object();
    w.end_object();
  }
  w.end_array();
  w.key("clients").begin_array();
  for (const auto& c : m.client_cells) {
    w.begin_object();
    w.key("client").value(c.client);
    w.key("writer").value(registry::era_name(c.writer));
    w.key("reader").value(registry::era_name(c.reader));
    w.key("outcome").value(c.model_outcome);
    w.key("agree").value(c.agree());
    w.key("abi").begin_object().key("outcome").value(c.abi_outcome).key("why").value(c.abi_why).end_object();
    w.key("model").begin_object().key("outcome").value(c.model_outcome).key("why").value(c.model_why).end_object();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  out << '\n';
}

}  // namespace khospec::conformance
