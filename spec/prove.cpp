// Running the obligations (spec/z3/obligations.cpp) behind the z3-free API.
#include "spec/prove.hpp"

#include <fnmatch.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

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

std::vector<ObligationResult> run_obligations(const ProveOptions& opts,
                                              const std::function<void(const ObligationResult&)>& on_result) {
  std::vector<z3enc::Obligation> sel;
  for (auto& ob : z3enc::build_obligations(opts))
    if (name_matches(opts.only, ob.info.name) && era_matches(opts.era, ob.info.era)) sel.push_back(std::move(ob));
  std::vector<ObligationResult> res(sel.size());
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  auto worker = [&] {
    for (;;) {
      const std::size_t i = next++;
      if (i >= sel.size()) return;
      res[i] = z3enc::run_one(sel[i], opts);
      if (on_result) {
        std::lock_guard<std::mutex> lock(mu);
        on_result(res[i]);
      }
    }
  };
  const unsigned jobs = opts.jobs < 1 ? 1 : opts.jobs;
  std::vector<std::thread> pool;
  for (unsigned j = 1; j < jobs; ++j) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return res;
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
  if (r.subqueries > 1) {
    std::snprintf(secs, sizeof secs, "%.2fs", r.slowest_seconds);
    line += " {" + std::to_string(r.subqueries) + " queries, slowest " + secs + ": " + r.slowest + "}";
  }
  return line;
}

}  // namespace khospec::spec
