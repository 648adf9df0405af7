// Running the obligations (spec/z3/obligations.cpp, spec/z3/query.cpp) behind the z3-free API.
#include "spec/prove.hpp"

#include <fnmatch.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "core/json.hpp"
#include "spec/z3/obligations.hpp"

namespace khospec::spec {

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::proved: return "proved";
    case Verdict::refuted: return "refuted";
    case Verdict::unknown: return "unknown";
    case Verdict::timeout: return "timeout";
  }
  return "?";
}

std::string_view kind_name(ObligationKind k) {
  switch (k) {
    case ObligationKind::nonvacuous: return "nonvacuous";
    case ObligationKind::preserve: return "preserve";
    case ObligationKind::exact: return "exact";
    case ObligationKind::bmc: return "bmc";
    case ObligationKind::hazard: return "hazard";
  }
  return "?";
}

ProveOptions default_options() {
  ProveOptions o;
  if (const char* k = std::getenv("KHOSPEC_SPEC_K")) o.k = static_cast<unsigned>(std::strtoul(k, nullptr, 10));
  if (const char* b = std::getenv("KHOSPEC_SPEC_BMC")) o.bmc_steps = static_cast<unsigned>(std::strtoul(b, nullptr, 10));
  if (o.k < 2 || o.k > 8) o.k = 2;
  if (o.bmc_steps < 1 || o.bmc_steps > 16) o.bmc_steps = 6;
  return o;
}

bool name_matches(std::string_view pattern, std::string_view name) {
  if (pattern.empty()) return true;
  const std::string p(pattern), n(name);
  if (fnmatch(p.c_str(), n.c_str(), 0) == 0) return true;
  return n.find(p) != std::string::npos;
}

bool era_matches(std::string_view filter, std::string_view era) {
  return filter.empty() || era == "all" || era == filter;
}

std::vector<ObligationInfo> list_obligations(const ProveOptions& opts) {
  std::vector<ObligationInfo> out;
  for (const auto& ob : z3enc::build_obligations(opts))
    if (name_matches(opts.only, ob.info.name) && era_matches(opts.era, ob.info.era)) out.push_back(ob.info);
  return out;
}

namespace {

// The selection plus everything it assumes, in list order (lemmas come first
// in the list, so they are also started first).
std::vector<z3enc::Obligation> select_with_lemmas(const ProveOptions& opts) {
  auto all = z3enc::build_obligations(opts);
  std::vector<bool> take(all.size());
  std::vector<std::string> want;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (name_matches(opts.only, all[i].info.name) && era_matches(opts.era, all[i].info.era)) {
      take[i] = true;
      if (opts.run_lemmas) want.insert(want.end(), all[i].info.assumes.begin(), all[i].info.assumes.end());
    }
  while (!want.empty()) {
    const std::string name = want.back();
    want.pop_back();
    for (std::size_t i = 0; i < all.size(); ++i)
      if (!take[i] && all[i].info.name == name) {
        take[i] = true;
        want.insert(want.end(), all[i].info.assumes.begin(), all[i].info.assumes.end());
      }
  }
  std::vector<z3enc::Obligation> sel;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (take[i]) sel.push_back(std::move(all[i]));
  return sel;
}

}  // namespace

std::vector<ObligationResult> run_obligations(const ProveOptions& opts,
                                              const std::function<void(const ObligationResult&)>& on_result) {
  std::vector<z3enc::Obligation> sel = select_with_lemmas(opts);
  std::vector<ObligationResult> res(sel.size());
  std::vector<bool> done(sel.size()), emitted(sel.size());
  auto index_of = [&](const std::string& name) {
    for (std::size_t i = 0; i < sel.size(); ++i)
      if (sel[i].info.name == name) return i;
    return sel.size();
  };
  // Under `mu`: emit every finished result whose lemmas are final, folding a
  // lemma that is not proved into the result.
  auto emit_ready = [&] {
    for (bool more = true; more;) {
      more = false;
      for (std::size_t i = 0; i < sel.size(); ++i) {
        if (!done[i] || emitted[i]) continue;
        bool ready = true;
        // A lemma outside the run (run_lemmas off) is checked on its own.
        for (const auto& a : sel[i].info.assumes) ready = ready && (index_of(a) == sel.size() || emitted[index_of(a)]);
        if (!ready) continue;
        for (const auto& a : sel[i].info.assumes)
          if (index_of(a) != sel.size()) fold_lemma(res[i], res[index_of(a)]);
        emitted[i] = more = true;
        if (on_result) on_result(res[i]);
      }
    }
  };
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  auto worker = [&] {
    for (;;) {
      const std::size_t i = next++;
      if (i >= sel.size()) return;
      ObligationResult r = z3enc::run_one(sel[i], opts);
      std::lock_guard<std::mutex> lock(mu);
      res[i] = std::move(r);
      done[i] = true;
      emit_ready();
    }
  };
  const unsigned jobs = opts.jobs < 1 ? 1 : opts.jobs;
  std::vector<std::thread> pool;
  for (unsigned j = 1; j < jobs; ++j) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return res;
}

void fold_lemma(ObligationResult& r, const ObligationResult& lemma) {
  if (r.verdict != Verdict::proved || lemma.verdict == Verdict::proved) return;
  r.verdict = Verdict::unknown;
  r.as_expected = false;
  r.reason = "assumes " + lemma.info.name + ", which is " + std::string(verdict_name(lemma.verdict));
}

std::string result_line(const ObligationResult& r) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2fs", r.seconds);
  std::string v(verdict_name(r.verdict));
  if (r.verdict == Verdict::refuted && r.info.expect_refuted) v += " (expected hazard)";
  if (r.verdict == Verdict::proved && r.info.expect_refuted) v += " (UNEXPECTED: hazard not found)";
  std::string line = r.info.name + ": " + v + " [" + secs + "]";
  if (!r.failing.empty()) {
    line += " ";
    for (std::size_t i = 0; i < r.failing.size(); ++i) line += (i ? "," : "") + r.failing[i];
  }
  if (!r.reason.empty()) line += " (" + r.reason + ")";
  if (!r.info.assumes.empty()) {
    line += " (lemmas: ";
    for (std::size_t i = 0; i < r.info.assumes.size(); ++i) line += (i ? ", " : "") + r.info.assumes[i];
    line += ")";
  }
  if (r.subqueries > 1) {
    std::snprintf(secs, sizeof secs, "%.2fs", r.slowest_seconds);
    line += " {" + std::to_string(r.subqueries) + " queries, slowest " + secs + ": " + r.slowest + "}";
  }
  return line;
}

namespace {

void info_fields(JsonWriter& w, const ObligationInfo& i) {
  w.key("name").value(i.name);
  w.key("era").value(i.era);
  w.key("kind").value(kind_name(i.kind));
  w.key("expect_refuted").value(i.expect_refuted);
  w.key("invariants").begin_array();
  for (const auto& id : i.invariants) w.value(id);
  w.end_array();
  w.key("summary").value(i.summary);
  w.key("assumes").begin_array();
  for (const auto& a : i.assumes) w.value(a);
  w.end_array();
}

}  // namespace

void write_json(JsonWriter& w, const ObligationInfo& i) {
  w.begin_object();
  info_fields(w, i);
  w.end_object();
}

void write_json(JsonWriter& w, const ObligationResult& r) {
  w.begin_object();
  info_fields(w, r.info);
  w.key("verdict").value(verdict_name(r.verdict));
  w.key("as_expected").value(r.as_expected);
  w.key("seconds").raw(std::to_string(r.seconds));
  w.key("failing").begin_array();
  for (const auto& id : r.failing) w.value(id);
  w.end_array();
  w.key("counterexample").value(r.counterexample);
  w.key("reason").value(r.reason);
  w.end_object();
}

}  // namespace khospec::spec
