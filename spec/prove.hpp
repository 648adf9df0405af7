// khospec::spec: the proof obligations of spec/kho.md and how to run them.
//
// z3-free on purpose: the CLI (`khospec prove`) and the Python bindings use
// this header; the Z3 encodings live in spec/z3/*.cpp.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace khospec {
class JsonWriter;
}

namespace khospec::spec {

enum class Verdict { proved, refuted, unknown, timeout };
std::string_view verdict_name(Verdict v);

// nonvacuous: SAT(Inv ∧ Pre(op)); preserve: Inv ∧ Pre(op) ⇒ Inv(op(S));
// exact: a closed bit-vector theorem (encodings, split); bmc: bounded model
// checking of a state machine; hazard: a documented upstream hazard the
// solver must refute (expected counterexample).
enum class ObligationKind { nonvacuous, preserve, exact, bmc, hazard };
std::string_view kind_name(ObligationKind k);

struct ObligationInfo {
  std::string name;                     // "memblock/add/preserve[k=4]"
  std::string era;                      // "all" or an era name ("v6.16")
  ObligationKind kind = ObligationKind::preserve;
  std::vector<std::string> invariants;  // INV_* (or HAZARD_*) IDs it checks
  bool expect_refuted = false;          // documented hazard
  std::string summary;                  // one line
  // Obligations whose proved goals this one assumes as lemmas (a composed
  // operation takes each step's result as a fresh state constrained by that
  // step's proved goals). It counts as proved only if they are proved too;
  // running it runs them.
  std::vector<std::string> assumes = {};
};

struct ObligationResult {
  ObligationInfo info;
  Verdict verdict = Verdict::unknown;
  bool as_expected = false;             // proved, or refuted when expect_refuted
  double seconds = 0;
  std::vector<std::string> failing;     // IDs that fail in the counterexample / unsat core
  std::string counterexample;           // rendered as domain objects (text)
  std::string reason;                   // for unknown / timeout / unexpected results
  unsigned subqueries = 0;              // solver checks run (goals x cases, lemmas)
  double slowest_seconds = 0;           // the slowest of them
  std::string slowest;                  // its goal ID and case
};

struct ProveOptions {
  std::string only;          // glob (fnmatch) or substring over names; "" = all
  std::string era;           // "" = every era; else only obligations of that era (and "all")
  unsigned timeout_s = 60;   // per solver query
  std::string dump_smt2_dir; // write every query as NAME.smt2 here ("" = off)
  unsigned k = 2;            // memblock region slots
  unsigned bmc_steps = 6;    // state-machine unrolling
  unsigned jobs = 1;         // obligations run in parallel (one Z3 context each)
  bool run_lemmas = true;    // also run the obligations the selected ones assume
                             // (spec_proof_test turns it off: each lemma is its own test)
};

// The default bounds. KHOSPEC_SPEC_K / KHOSPEC_SPEC_BMC in the environment
// override them (the ASan build uses this and says so).
ProveOptions default_options();

// Every obligation for these bounds, in a stable order.
std::vector<ObligationInfo> list_obligations(const ProveOptions& opts);
// Does `name` match the --only pattern (fnmatch glob, else substring)?
bool name_matches(std::string_view pattern, std::string_view name);
// Does an obligation of `era` run under --era `filter`?
bool era_matches(std::string_view filter, std::string_view era);

// Run the selected obligations and the ones they assume (transitively);
// `on_result` (optional) sees each one once its verdict is final (after its
// assumptions). Results are returned in list order. An obligation proved
// from a lemma that is not proved comes out `unknown`, naming the lemma.
std::vector<ObligationResult> run_obligations(const ProveOptions& opts,
                                              const std::function<void(const ObligationResult&)>& on_result = {});

// An obligation proved from `lemma` (one of its `assumes`) is proved only if
// the lemma is: otherwise it becomes unknown, naming the lemma.
void fold_lemma(ObligationResult& r, const ObligationResult& lemma);

// One text line per result ("proved", "refuted (expected hazard)", ...).
std::string result_line(const ObligationResult& r);

// The JSON objects of `khospec -f json prove` (--list prints infos), shared
// by the CLI and the Python bindings.
void write_json(JsonWriter& w, const ObligationInfo& i);
void write_json(JsonWriter& w, const ObligationResult& r);

}  // namespace khospec::spec
