// Internal to spec/z3: the obligation families (spec/z3/obl_*.cpp), which
// build_obligations() (obligations.cpp) calls in kFamilies order, and what
// more than one family uses beyond the solver façade (query.hpp) and the
// encodings (enc.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "spec/z3/query.hpp"

namespace khospec::spec::z3enc {

// CMA_MIN_ALIGNMENT_BYTES on x86-64 (include/linux/cma.h: PAGE_SIZE *
// pageblock_nr_pages, 2 MiB): the alignment of the scratch areas and of
// the pageblocks kho_release_scratch() marks MIGRATE_CMA.
inline constexpr std::uint64_t kPageblock = 2ull << 20;

// ---- memblock_phys_alloc_range() as a proof step (alloc_step.cpp) ----------
// memblock/alloc/preserve proves it; scratch/reserve/layout composes three.

// The search (mb_find) encoded, the reservation __memblock_reserve(addr,
// size, NUMA_NO_NODE, RSRV_KERN) as the add lemma on a fresh state NAME (the
// call's precondition assumes that the reservation fits, so the lemma
// applies).
struct AllocStep {
  expr found, best, addr;  // addr = If(found, best, 0)
  expr pre;                // the call's precondition (FindResult::pre)
  expr start, end;         // FindResult::start, end
  std::vector<FindCandidate> cands;  // FindResult::cands
  SymType after;     // the fresh state of the add lemma (meaningful when found)
  SymType reserved;  // the reserved array after the call: If(found, after, res)
};
// Adds the call's preconditions and the lemma's facts (when an address is
// found) to `hyps`. With `abstract_search` the search's result is a fresh
// value tied to the candidates by "the result is a candidate".
AllocStep alloc_step(z3::context& c, const std::string& name, const SymType& mem, const SymType& res, const expr& so,
                     const expr& size, const expr& align, const expr& start, const expr& end, const expr& x, Mutation mut,
                     Conj& hyps, bool abstract_search = false);
// lo <= a <= a + size <= hi: [a, a + size) lies in [lo, hi) and does not wrap.
expr fits_in(const expr& a, const expr& size, const expr& lo, const expr& hi);
// x in [a, a + size).
expr in_range(const expr& x, const expr& a, const expr& size);
// The arithmetic of one search candidate (fit_top_down()): under the call's
// precondition a range that fits yields an address aligned to `align`,
// inside the free range [lo, hi) and the clamped [start, end).
Generic fit_lemma(z3::context& c);
// Its instances for every candidate of one allocation, appended to `step`.
void add_fit_instances(const Generic& fit, Step& step, const AllocStep& a, const expr& size, const expr& align,
                       const std::string& name);
// A found address is one of the candidates.
expr is_candidate(z3::context& c, const expr& found, const expr& best, const std::vector<FindCandidate>& cands);

// ---- the families: each appends its obligations to `out` --------------------
// Order matters: it is the list order of `khospec prove`, and lemmas come
// before the obligations that assume them.
using Family = void (*)(std::vector<Obligation>& out, const ProveOptions& opts, Mutation mut);
void memblock_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation mut);  // obl_memblock.cpp
void scratch_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation mut);   // obl_scratch.cpp
void preserve_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation mut);  // obl_preserve.cpp
void window_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation mut);    // obl_window.cpp
void encoding_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation mut);  // obl_encoding.cpp
void sm_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation mut);        // obl_sm.cpp
void boot_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation mut);      // obl_boot.cpp
void luo_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation mut);       // obl_luo.cpp
inline constexpr Family kFamilies[] = {memblock_family, scratch_family, preserve_family, window_family,
                                       encoding_family, sm_family,      boot_family,    luo_family};

}  // namespace khospec::spec::z3enc
