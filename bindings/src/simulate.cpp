// eras(), releases(), scenarios(), simulate().
#include "bindings/src/common.hpp"

#include <fstream>
#include <sstream>

#include "model/kho/scenario.hpp"

namespace khospec::bindings {

namespace {

py::dict run_to_dict(const model::Scenario& s, const model::ScenarioRun& run) {
  py::dict d;
  d["name"] = s.name;
  d["era"] = std::string(registry::era_name(s.kernel.era));
  d["ok"] = run.expectations_ok && run.error.empty();
  d["error"] = run.error;
  py::list steps;
  for (const auto& st : run.steps) {
    py::dict sd;
    sd["kernel"] = st.kernel;
    sd["op"] = st.op;
    sd["result"] = st.result;
    sd["expectation_failed"] = st.expectation_failed;
    sd["note"] = st.note;
    steps.append(sd);
  }
  d["steps"] = steps;
  py::list kernels;
  if (run.machine) {
    for (const auto& k : run.machine->kernels()) {
      py::dict kd;
      kd["index"] = k->index() + 1;
      kd["era"] = std::string(k->era().name);
      kd["kho_boot"] = k->kho_boot();
      kd["incoming"] = blocks(k->incoming_blocks());
      kd["outgoing"] = blocks(k->outgoing_at_kexec());
      py::list f;
      for (const auto& x : k->findings()) f.append(py::make_tuple(x.id, x.level, x.detail));
      kd["findings"] = f;
      kernels.append(kd);
    }
  }
  d["kernels"] = kernels;
  std::ostringstream text;
  model::render_run_text(text, s, run, false);
  d["text"] = text.str();
  return d;
}

}  // namespace

void init_simulate(py::module_& m) {
  m.def("eras", [] {
    std::vector<std::string> v;
    for (const auto& e : registry::eras()) v.emplace_back(e.name);
    return v;
  });
  m.def("releases", [] {
    py::list l;
    for (const auto& r : registry::releases()) {
      py::dict d;
      d["version"] = std::string(r.version);
      d["era"] = std::string(registry::era_name(r.era));
      d["scratch_param"] = std::string(r.scratch_param);
      d["debugfs_scratch"] = py::make_tuple(std::string(r.debugfs.scratch_phys), std::string(r.debugfs.scratch_len));
      d["finalize"] = r.debugfs.finalize_file;
      py::list clients;
      for (const auto& f : registry::client_formats())
        if (registry::writes(r, f)) clients.append(f.label());
      d["clients"] = clients;
      l.append(d);
    }
    return l;
  });
  m.def("resolve_era", [](const std::string& name) {
    const registry::Resolved r = resolve_era(name);
    return py::make_tuple(std::string(r.era->name), r.release ? py::object(py::str(std::string(r.release->version))) : py::object(py::none()),
                          r.describe());
  }, py::arg("name"));
  m.def("scenarios", [] { return model::builtin_scenarios(); });
  m.def("simulate", [](const std::string& scenario, const std::optional<std::string>& era, const std::optional<std::string>& out_dir) {
    // A built-in name, a YAML file or YAML text.
    std::vector<std::pair<std::string, std::string>> texts;  // (display name, yaml)
    const auto names = model::builtin_scenarios();
    if (std::find(names.begin(), names.end(), scenario) != names.end()) {
      for (const auto& re : registry::eras()) {
        const auto e = re.id;
        if (era && resolve_era(*era).era->id != e) continue;
        if (auto t = model::builtin_scenario_text(scenario, e)) texts.push_back({scenario, *t});
      }
      if (texts.empty()) throw py::value_error("scenario '" + scenario + "' has no variant for era " + era.value_or("?"));
    } else if (scenario.find('\n') != std::string::npos || scenario.find(':') != std::string::npos) {
      if (scenario.size() < 260 && scenario.find('\n') == std::string::npos && std::ifstream(scenario)) {
        auto b = read_file(scenario, 1u << 20);
        texts.push_back({scenario, std::string(b.begin(), b.end())});
      } else {
        texts.push_back({"<text>", scenario});
      }
    } else if (scenario.find('/') == std::string::npos && scenario.find('.') == std::string::npos &&
               !std::ifstream(scenario)) {
      // A bare word that names no built-in: a misspelt name, not a missing file.
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      throw py::value_error("'" + scenario + "' is neither a built-in scenario (" + known +
                            ") nor a scenario file or YAML text");
    } else {
      auto b = read_file(scenario, 1u << 20);  // OSError for a missing file
      texts.push_back({scenario, std::string(b.begin(), b.end())});
    }
    py::list out;
    for (const auto& [name, yaml] : texts) {
      model::ScenarioError err;
      auto s = model::parse_scenario(yaml, name, err);
      if (!s) throw py::value_error(err.message);
      if (era) {
        const registry::Resolved r = resolve_era(*era);
        s->kernel.era = r.era->id;
        if (r.release) s->kernel.release = model::uname_release(r);
      }
      model::ScenarioRun run;
      {
        py::gil_scoped_release nogil;
        run = model::run_scenario(*s, out_dir.has_value());
      }
      if (out_dir) {
        // As `simulate --out`: one folder per era for a built-in.
        const std::string dir = texts.size() > 1 || std::find(names.begin(), names.end(), scenario) != names.end()
                                    ? *out_dir + "/" + std::string(registry::era_name(s->kernel.era))
                                    : *out_dir;
        std::string error;
        if (!model::write_run_files(run, dir, error)) {
          PyErr_SetString(PyExc_OSError, error.c_str());
          throw py::error_already_set();
        }
      }
      out.append(run_to_dict(*s, run));
    }
    return out;
  }, py::arg("scenario") = "chain", py::arg("era") = py::none(), py::arg("out") = py::none());
}

}  // namespace khospec::bindings
