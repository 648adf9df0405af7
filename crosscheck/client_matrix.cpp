// The client half of the compatibility matrix: for each writer x reader
// pair of eras (each era running its model release) and each KHO client,
// what the reader's client makes of what the writer's client handed over.
// Computed twice, from the registry's client formats (the clients' ABI:
// compatible, layout, releases) and by running the model with every client
// in use.
#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crosscheck/compat_matrix.hpp"
#include "model/kho/clients.hpp"
#include "model/kho/luo.hpp"
#include "model/kho/machine.hpp"
#include "model/kho/memfd.hpp"

namespace khospec::conformance {

using registry::EraId;

namespace {

// The formats of `family` a kernel of `era` (its model release) writes and reads.
std::vector<const registry::ClientFormat*> formats(EraId era, std::string_view family) {
  std::vector<const registry::ClientFormat*> out;
  const registry::Release& rel = registry::default_release(era);
  for (const auto& f : registry::client_formats())
    if (f.family == family && registry::kernel_writes(registry::era(era), rel, f)) out.push_back(&f);
  return out;
}

std::string describe(const std::vector<const registry::ClientFormat*>& fs) {
  std::string s;
  for (const auto* f : fs)
    s += (s.empty() ? "" : " + ") + f->label() + (f->layout.empty() ? "" : " (" + std::string(f->layout) + ")");
  return s;
}

std::string rel_of(EraId e) { return std::string(registry::default_release(e).version); }

// A client's data rides on the root: when B does not revive A's map, no
// client gets it intact.
bool root_blocks(const std::string& root, std::string& outcome, std::string& why) {
  if (root == "revive") return false;
  outcome = root == "refuse" ? "none" : "misread";
  why = "the root hand-over is " + root;
  return true;
}

}  // namespace

const std::vector<std::string>& matrix_clients() {
  static const std::vector<std::string> v = {"memblock", "kho_test", "kexec-metadata", "luo", "memfd"};
  return v;
}

ClientCell abi_client_cell(EraId w, EraId r, const std::string& client, const std::string& root_outcome,
                           const std::string& luo_outcome) {
  ClientCell c{w, r, client, "", "", "", ""};
  const auto fw = formats(w, client), fr = formats(r, client);
  if (fw.empty()) {
    c.abi_outcome = "n/a";
    c.abi_why = "A (" + rel_of(w) + ") writes no " + client;
    return c;
  }
  if (root_blocks(root_outcome, c.abi_outcome, c.abi_why)) return c;
  if (client == "memfd" && luo_outcome != "revive") {
    // memfd files travel inside LUO sessions.
    c.abi_outcome = luo_outcome;
    c.abi_why = "LUO: " + luo_outcome;
    return c;
  }
  if (fr.empty()) {
    c.abi_outcome = "ignored";
    c.abi_why = "B (" + rel_of(r) + ") has no " + client + ": " + describe(fw) + " stays unread";
    return c;
  }
  const bool same = fw.front()->label() == fr.front()->label() && fw.front()->layout == fr.front()->layout;
  if (!same) {
    // LUO's reader panics on a tree it cannot read (luo_restore_fail()).
    c.abi_outcome = client == "luo" ? "panic" : "refuse";
    c.abi_why = "A writes " + describe(fw) + ", B reads " + describe(fr);
    return c;
  }
  if (client == "luo") {
    const auto flb_w = formats(w, "luo-flb"), flb_r = formats(r, "luo-flb");
    if (!flb_r.empty() && flb_w.empty()) {
      c.abi_outcome = "panic";
      c.abi_why = "B requires the " + describe(flb_r) + " node A does not write";
      return c;
    }
  }
  c.abi_outcome = "revive";
  c.abi_why = "both " + describe(fw);
  return c;
}

model::KernelConfig matrix_kernel_config(EraId e) {
  model::KernelConfig k = *model::kernel_config_for(registry::era_name(e), kMatrixCmdline);
  k.test_kho = true;
  k.test_kho_max_mem = 1u << 20;
  return k;
}

const std::vector<std::uint8_t>& matrix_memfd_bytes() {
  static const std::vector<std::uint8_t> bytes(64, 0x5a);
  return bytes;
}

MatrixWriter boot_matrix_writer(model::Machine& m, EraId w) {
  MatrixWriter out;
  model::Kernel& a = m.boot_cold(matrix_kernel_config(w));
  out.a = &a;
  if (model::LuoClient* l = a.luo(); l && l->enabled()) {
    const int s = a.luo_create_session("matrix");
    out.luo_sent = s >= 0;
    const int fd = a.memfd_create();
    if (s >= 0 && a.memfd_truncate(fd, 2 * model::PAGE_SIZE_4K) == 0 && a.memfd_write(fd, 100, matrix_memfd_bytes()) == 0)
      out.memfd_sent = a.luo_preserve_fd(s, fd, 1) == 0;
  }
  auto* t = model::client_of<model::TestKhoClient>(a);
  out.test_kho_sent = t && t->folio_count() > 0;
  auto* md = model::client_of<model::KexecMetadataClient>(a);
  out.kexec_count = md ? md->count() : 0;
  const auto& traits = registry::era(w);
  if (traits.finalize == registry::FinalizeModel::notifier_abort) out.err = a.debugfs_finalize_write(1);
  if (traits.finalize == registry::FinalizeModel::refresh) out.err = a.kho_finalize();
  if (!out.err) out.err = a.kexec_file_load();
  return out;
}

// One model run per pair: boot_matrix_writer()'s kernel A kexecs into kernel
// B; each of B's clients is asked what it got.
std::vector<ClientCell> run_client_cells(EraId w, EraId r) {
  model::Machine m(model::machine_with_ram(2ull << 30));
  const MatrixWriter mw = boot_matrix_writer(m, w);
  model::Kernel& a = *mw.a;
  const std::vector<std::uint8_t>& bytes = matrix_memfd_bytes();
  const bool memfd_sent = mw.memfd_sent, luo_sent = mw.luo_sent, test_kho_sent = mw.test_kho_sent;
  const std::uint32_t a_count = mw.kexec_count;
  const int err = mw.err;
  auto test_kho = [](model::Kernel& k) { return model::client_of<model::TestKhoClient>(k); };
  auto metadata = [](model::Kernel& k) { return model::client_of<model::KexecMetadataClient>(k); };
  auto reserve_mem = [](model::Kernel& k) { return model::client_of<model::ReserveMemClient>(k); };
  model::Kernel* b = err ? nullptr : m.kexec(matrix_kernel_config(r));
  std::vector<ClientCell> out;
  auto cell = [&](const std::string& client, bool sent, const std::string& sent_what) -> ClientCell* {
    out.push_back({w, r, client, "", "", "", ""});
    ClientCell& c = out.back();
    if (!b) {
      c.model_outcome = "error";
      c.model_why = "the kexec did not happen (" + std::to_string(err) + ")";
      return nullptr;
    }
    if (!sent) {
      c.model_outcome = "n/a";
      c.model_why = "A did not hand over " + sent_what;
      return nullptr;
    }
    if (!b->kho_boot()) {
      c.model_outcome = "none";
      c.model_why = "B did not revive the hand-over";
      return nullptr;
    }
    return &c;
  };
  // A misread map reaches the clients too: B's own findings say so.
  bool map_misread = false;
  if (b && b->kho_boot()) {
    std::set<model::PreservedBlock> sent(a.outgoing_at_kexec().begin(), a.outgoing_at_kexec().end());
    std::set<model::PreservedBlock> got(b->incoming_blocks().begin(), b->incoming_blocks().end());
    map_misread = sent != got;
  }
  auto misread = [&](ClientCell* c) {
    if (!c || !map_misread) return false;
    c->model_outcome = "misread";
    c->model_why = "B decoded another preserved set";
    return true;
  };

  if (ClientCell* c = cell("memblock", reserve_mem(a) && !reserve_mem(a)->regions().empty(), "a reserve_mem region");
      c && !misread(c)) {
    bool revived = false;
    if (auto* rm = reserve_mem(*b))
      for (const auto& reg : rm->regions()) revived |= reg.name == "trace" && reg.revived;
    c->model_outcome = revived ? "revive" : "refuse";
    c->model_why = revived ? "B revived reserve_mem \"trace\"" : "B allocated \"trace\" afresh";
  }
  if (ClientCell* c = cell("kho_test", test_kho_sent, "test_kho folios"); c && !misread(c)) {
    auto* tk = test_kho(*b);
    if (!tk) {
      c->model_outcome = "ignored";
      c->model_why = "B has no test_kho";
    } else {
      c->model_outcome = tk->restored_ok() ? "revive" : "refuse";
      c->model_why = tk->restored_ok() ? "B: KHO restore succeeded" : "B: test_kho restore failed";
      for (const auto& f : b->findings())
        if (f.id == "TEST_KHO_RESTORE_FAILED") c->model_why = "B: " + f.detail;
    }
  }
  if (ClientCell* c = cell("kexec-metadata", a_count != 0, "kexec-metadata"); c && !misread(c)) {
    auto* md = metadata(*b);
    if (!md) {
      c->model_outcome = "ignored";
      c->model_why = "B has no kexec-metadata";
    } else {
      const bool ok = md->count() == a_count + 1;
      c->model_outcome = ok ? "revive" : "refuse";
      c->model_why = "B's kexec_count " + std::to_string(md->count()) + " after A's " + std::to_string(a_count);
    }
  }
  std::string luo_outcome = "n/a";
  if (ClientCell* c = cell("luo", luo_sent, "a LUO session"); c && !misread(c)) {
    model::LuoClient* l = b->luo();
    bool panic = false;
    for (const auto& f : b->findings())
      if (f.id == "HAZARD_LUO_PANIC") {
        panic = true;
        c->model_why = "B: " + f.detail;
      }
    if (!l) {
      c->model_outcome = "ignored";
      c->model_why = "B has no LUO";
    } else if (panic) {
      c->model_outcome = "panic";
    } else {
      const int s = b->luo_retrieve_session("matrix");
      c->model_outcome = s >= 0 ? "revive" : "refuse";
      c->model_why = s >= 0 ? "B retrieved session \"matrix\"" : "B: retrieve_session = " + std::to_string(s);
      if (s >= 0) {
        // memfd, inside the session.
        out.push_back({w, r, "memfd", "", "", "", ""});
        ClientCell& mc = out.back();
        if (!memfd_sent) {
          mc.model_outcome = "n/a";
          mc.model_why = "A did not preserve a memfd";
        } else {
          const int fd = b->luo_retrieve_fd(s, 1);
          const auto got = fd >= 0 ? b->memfd_read(fd, 100, bytes.size()) : std::nullopt;
          const bool ok = got && *got == bytes;
          mc.model_outcome = ok ? "revive" : "refuse";
          mc.model_why = ok ? "B retrieved the memfd with its bytes" : "B: retrieve_fd = " + std::to_string(fd);
        }
        return out;
      }
    }
    luo_outcome = c->model_outcome;
  } else if (!out.empty()) {
    luo_outcome = out.back().model_outcome;
  }
  // memfd when its session did not come back: what LUO got.
  out.push_back({w, r, "memfd", "", "", "", ""});
  ClientCell& mc = out.back();
  if (!memfd_sent) {
    mc.model_outcome = "n/a";
    mc.model_why = "A did not preserve a memfd";
  } else {
    mc.model_outcome = luo_outcome;
    mc.model_why = "LUO: " + luo_outcome;
  }
  return out;
}

}  // namespace khospec::conformance
