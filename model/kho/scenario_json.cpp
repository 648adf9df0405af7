// A scenario run as JSON (`khospec -f json simulate`): the same facts
// render_run_text() prints, as data. docs/cli.md "simulate" gives the shape.
#include <map>

#include "core/json.hpp"
#include "core/parse.hpp"
#include "model/kho/scenario.hpp"

namespace khospec::model {

namespace {

void write_blocks(JsonWriter& w, const std::vector<PreservedBlock>& blocks, bool list) {
  std::map<unsigned, std::uint64_t> per;
  for (const auto& b : blocks) ++per[b.order];
  w.begin_object();
  w.key("count").value(static_cast<std::uint64_t>(blocks.size()));
  w.key("per_order").begin_object();
  for (auto [o, n] : per) w.key(std::to_string(o)).value(n);
  w.end_object();
  if (list) {
    w.key("blocks").begin_array();
    for (const auto& b : blocks) w.begin_object().key("phys").value(hex(b.phys)).key("order").value(static_cast<std::uint64_t>(b.order)).end_object();
    w.end_array();
  }
  w.end_object();
}

void write_regions(JsonWriter& w, const MemblockType& t) {
  w.begin_object();
  w.key("cnt").value(static_cast<std::uint64_t>(t.cnt()));
  w.key("max").value(static_cast<std::uint64_t>(t.max));
  w.key("total_size").value(hex(t.total_size));
  w.key("regions").begin_array();
  for (const auto& r : t.regions)
    w.begin_object()
        .key("base").value(hex(r.base))
        .key("size").value(hex(r.size))
        .key("flags").value(flags_to_string(r.flags))
        .key("nid").value(r.nid)
        .end_object();
  w.end_array();
  w.end_object();
}

}  // namespace

void write_run_json(JsonWriter& w, const Scenario& s, const ScenarioRun& run, bool verbose) {
  const Machine& m = *run.machine;
  w.begin_object();
  w.key("scenario").value(s.name);
  w.key("description").value(s.description);
  w.key("era").value(era_name(s.kernel.era));
  std::uint64_t ram = 0;
  for (const auto& r : m.config().ram) ram += r.size;
  w.key("machine").begin_object();
  w.key("arch").value(m.config().arch == Arch::x86_64 ? "x86_64" : "arm64");
  w.key("ram_bytes").value(ram);
  w.key("ram_ranges").value(static_cast<std::uint64_t>(m.config().ram.size()));
  w.key("nodes").value(static_cast<std::uint64_t>(m.node_count()));
  w.end_object();
  w.key("steps").begin_array();
  for (const auto& st : run.steps)
    w.begin_object()
        .key("kernel").value(st.kernel)
        .key("op").value(st.op)
        .key("result").value(st.result)
        .key("expectation_failed").value(st.expectation_failed)
        .key("note").value(st.note)
        .end_object();
  w.end_array();
  w.key("error").value(run.error);
  w.key("kernels").begin_array();
  std::uint64_t errors = 0, warnings = 0;
  for (const auto& kp : m.kernels()) {
    const Kernel& k = *kp;
    w.begin_object();
    w.key("index").value(static_cast<std::uint64_t>(k.index() + 1));
    w.key("era").value(era_name(k.config().era));
    w.key("release").value(k.release().version);
    w.key("kho_boot").value(k.kho_boot());
    w.key("kho_enabled").value(k.kho_enabled());
    w.key("state").value(out_state_name(k.out_state()));
    w.key("phase").value(boot_phase_name(k.phase()));
    w.key("timeline").begin_array();
    for (const auto& t : k.timeline()) w.value(t.what);
    w.end_array();
    w.key("scratch").begin_array();
    for (const auto& a : k.scratch()) w.begin_object().key("addr").value(hex(a.addr)).key("size").value(hex(a.size)).end_object();
    w.end_array();
    if (!k.scratch().empty()) w.key("scratch_array_phys").value(hex(k.scratch_array_phys()));
    w.key("incoming_blocks");
    write_blocks(w, k.incoming_blocks(), verbose);
    if (k.tracker()) {
      w.key("outgoing_blocks");
      write_blocks(w, k.phase() == BootPhase::kexeced ? k.outgoing_at_kexec() : k.tracker()->blocks(), verbose);
    }
    w.key("subtrees").begin_array();
    for (const auto& st : k.subtrees())
      w.begin_object().key("name").value(st.name).key("phys").value(hex(st.phys)).key("size").value(st.size).end_object();
    w.end_array();
    if (verbose) {
      w.key("memblock").begin_object();
      w.key("memory");
      write_regions(w, k.memblock().memory());
      w.key("reserved");
      write_regions(w, k.memblock().reserved());
      w.end_object();
    }
    w.key("dmesg").begin_array();
    for (const auto& d : k.dmesg()) w.value(d);
    w.end_array();
    w.key("findings").begin_array();
    for (const auto& f : k.findings()) {
      (f.level == "error" ? errors : warnings)++;
      w.begin_object().key("id").value(f.id).key("level").value(f.level).key("detail").value(f.detail).end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("result").begin_object();
  w.key("kernels").value(static_cast<std::uint64_t>(m.kernels().size()));
  w.key("invariant_violations").value(errors);
  w.key("hazard_warnings").value(warnings);
  w.key("expectations_met").value(run.expectations_ok);
  w.end_object();
  w.end_object();
}

}  // namespace khospec::model
