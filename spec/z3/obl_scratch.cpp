// Scratch obligations (spec/kho.md §3): kho_populate() in kernel N >= 2,
// the layout kho_reserve_scratch() allocates on a cold boot (three composed
// allocations) and the documented underflow of scratch_size_update().
#include "spec/z3/families.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace khospec::spec::z3enc {

namespace {

constexpr std::uint64_t kMB = 1ull << 20;
constexpr std::uint64_t kLowLimit = 0xffffffffull;  // ARCH_LOW_ADDRESS_LIMIT on x86-64

std::vector<expr> le_bytes(const expr& v) {
  std::vector<expr> b;
  for (unsigned i = 0; i < 8; ++i) b.push_back(v.extract(8 * i + 7, 8 * i));
  return b;
}
expr le_load(const std::vector<expr>& b) {
  expr v = b[7];
  for (unsigned i = 7; i-- > 0;) v = z3::concat(v, b[i]);
  return v;
}

}  // namespace

void scratch_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation) {
  const unsigned K = opts.k;
  // kho_populate() in kernel N >= 2: memblock_add + memblock_mark_kho_scratch.
  out.push_back({{"scratch/populate/preserve" + k_tag(K), "all", ObligationKind::preserve,
                  {"INV_SCRATCH_IN_MEMORY", "INV_SCRATCH_STABLE", "INV_MEMBLOCK_SORTED_DISJOINT", "INV_MEMBLOCK_MERGED"},
                  false, "kho_populate(): each handed-over area becomes KHO_SCRATCH memory; the array round-trips"},
                 [K](Query& q) {
                   auto& c = q.c;
                   SymType mem = mk_type(c, "memory", K);
                   expr a = c.bv_const("scratch.addr", 64), s = c.bv_const("scratch.size", 64), x = c.bv_const("x", 64);
                   Conj hyps = memblock_state_inv(c, mem), goals;
                   hyps.push_back({"pre: the area does not wrap", z3::ule(a, ~s)});
                   // memblock_add(addr, size) then memblock_mark_kho_scratch(addr, size),
                   // both assumed to fit (pre), as lemmas on fresh states.
                   const Lemma add = add_lemma(c, "memory'", mem, a, s, x);  // nid MAX_NUMNODES, flags 0
                   const Lemma mark = setclr_lemma(c, "memory''", add.next, a, s, true, bv(c, model::MEMBLOCK_KHO_SCRATCH, 32), x);
                   append(hyps, add.facts);
                   append(hyps, mark.facts);
                   append(goals, memblock_state_inv(c, mark.next));
                   const expr in = z3::uge(x, a) && z3::ult(x - a, s);
                   goals.push_back({"INV_SCRATCH_IN_MEMORY",
                                    z3::implies(in, covered(c, mark.next, x) &&
                                                        (flags_at(c, mark.next, x) & bv(c, model::MEMBLOCK_KHO_SCRATCH, 32)) != bv(c, 0, 32))});
                   // struct kho_scratch {addr, size} copied as native-endian bytes by
                   // kho_fill_kimage and read back by kho_populate.
                   goals.push_back({"INV_SCRATCH_STABLE", le_load(le_bytes(a)) == a && le_load(le_bytes(s)) == s});
                   const SymType next = mark.next;
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     return "  scratch area [" + hex(val(m, a)) + ", +" + hex(val(m, s)) + ")\n  before:\n" +
                            render_type("memory", eval_type(m, mem)) + "  after add + mark:\n" +
                            render_type("memory", eval_type(m, next)) + "  witness x = " + hex(val(m, x)) + "\n";
                   });
                 }});
  out.back().info.assumes = {"memblock/add/preserve" + k_tag(K), "memblock/setclr_flag/preserve" + k_tag(K)};
  // kho_reserve_scratch() on a cold boot, one node: lowmem, global, node 0.
  const unsigned Ks = K;
  out.push_back({{"scratch/reserve/layout" + k_tag(Ks), "all", ObligationKind::preserve,
                  {"INV_SCRATCH_COUNT", "INV_SCRATCH_ALIGNED"},
                  false, "kho_reserve_scratch(): 2 + nodes areas, pageblock aligned, disjoint, lowmem below 4 GiB"},
                 [Ks](Query& q) {
                   auto& c = q.c;
                   SymType mem = mk_type(c, "memory", Ks), res = mk_type(c, "reserved", Ks);
                   const expr x = c.bv_const("x", 64);
                   Conj hyps = tagged(memblock_state_inv(c, mem), " (memory)");
                   append(hyps, tagged(memblock_state_inv(c, res), " (reserved)"));
                   const char* names[3] = {"lowmem", "global", "node0"};
                   std::vector<expr> addr, size;
                   SymType cur = res;
                   std::vector<SymType> curs = {res};  // reserved before each allocation, and after the last
                   // memblock/alloc/preserve, per allocation, with the search's result
                   // abstracted: "the result is a candidate", the candidates'
                   // arithmetic (the generic lemma, instantiated), the reservation's
                   // INV_MEMBLOCK_ADD_MONOTONE, and "the allocated range was free".
                   const Generic fit = fit_lemma(c);
                   Step fit_step = fit.step;
                   std::vector<Conj> found_facts(3);  // pre, candidate, fit instances
                   std::vector<Named> monotone, was_free;
                   auto pick = [](const Conj& v, const std::string& what) {
                     auto it = std::find_if(v.begin(), v.end(), [&](const Named& n) { return n.id.find(what) != std::string::npos; });
                     if (it == v.end()) throw std::logic_error("alloc_step() made no fact '" + what + "'");
                     return *it;
                   };
                   for (int i = 0; i < 3; ++i) {
                     size.push_back(c.bv_const((std::string(names[i]) + ".size").c_str(), 64));
                     Conj local;
                     const AllocStep al = alloc_step(c, std::string("reserved after ") + names[i], mem, cur, c.bool_val(false),
                                                     size.back(), bv(c, kPageblock), bv(c, 0), i == 0 ? bv(c, kLowLimit) : bv(c, 0),
                                                     x, Mutation::none, local, true);
                     const std::size_t first = fit_step.instances.size();
                     add_fit_instances(fit, fit_step, al, size.back(), bv(c, kPageblock), std::string(names[i]) + ": ");
                     found_facts[i] = {pick(local, "pre:"), pick(local, "the result is a candidate")};
                     found_facts[i].insert(found_facts[i].end(), fit_step.instances.begin() + first, fit_step.instances.end());
                     monotone.push_back(pick(local, "INV_MEMBLOCK_ADD_MONOTONE"));
                     was_free.push_back({std::string("lemma INV_MEMBLOCK_SCRATCH_ONLY_ALLOC (") + names[i] + ")",
                                         z3::implies(al.addr != bv(c, 0) && in_range(x, al.addr, size.back()), !covered(c, cur, x))});
                     append(hyps, local);
                     hyps.push_back(was_free.back());
                     addr.push_back(al.addr);
                     cur = al.reserved;
                     curs.push_back(cur);
                   }
                   // Each goal under only the facts it needs (bit-blasting the rest is
                   // most of the cost): an area's alignment and the lowmem limit from
                   // its own search; a pair's disjointness, at every address x, from
                   // the first area's extent, the reservations in between and the
                   // second allocation's "was free".
                   Steps steps = {fit_step};
                   std::vector<Named> aligned;
                   auto in = [&](int i) { return addr[i] != bv(c, 0) && in_range(x, addr[i], size[i]); };
                   for (int i = 0; i < 3; ++i) {
                     aligned.push_back({std::string("INV_SCRATCH_ALIGNED (") + names[i] + " aligned)",
                                        (addr[i] & bv(c, kPageblock - 1)) == bv(c, 0) &&
                                            z3::implies(addr[i] != bv(c, 0), z3::ule(addr[i], addr[i] + size[i]))});
                     steps.push_back({aligned.back(), found_facts[i], {}});
                   }
                   steps.push_back({{"INV_SCRATCH_COUNT", z3::implies(addr[0] != bv(c, 0), z3::ule(addr[0] + size[0], bv(c, kLowLimit)))},
                                    found_facts[0], {}});
                   // Coverage only (INV_MEMBLOCK_ADD_MONOTONE also speaks of flags):
                   // an area is reserved once allocated, and stays reserved.
                   std::vector<Named> covers, keeps;
                   for (int i = 0; i < 3; ++i) {
                     covers.push_back({std::string("INV_SCRATCH_ALIGNED (") + names[i] + " reserved by its allocation)",
                                       z3::implies(in(i), covered(c, curs[i + 1], x))});
                     steps.push_back({covers.back(), Conj{aligned[i], monotone[i]}, {}});
                     keeps.push_back({std::string("INV_SCRATCH_ALIGNED (") + names[i] + "'s reservation keeps what was reserved)",
                                      z3::implies(covered(c, curs[i], x), covered(c, curs[i + 1], x))});
                     steps.push_back({keeps.back(), Conj{monotone[i]}, {}});
                   }
                   for (int i = 0; i < 3; ++i)
                     for (int j = i + 1; j < 3; ++j) {
                       Conj under = {covers[i], was_free[j]};
                       for (int k = i + 1; k < j; ++k) under.push_back(keeps[k]);
                       steps.push_back({{std::string("INV_SCRATCH_ALIGNED (") + names[i] + " and " + names[j] + " disjoint)", !(in(i) && in(j))},
                                        under, {}});
                     }
                   const Conj goals;
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     std::string o = render_type("memory", eval_type(m, mem)) + render_type("reserved", eval_type(m, res));
                     for (int i = 0; i < 3; ++i)
                       o += std::string("  ") + names[i] + ": size " + hex(val(m, size[i])) + " at " + hex(val(m, addr[i])) + "\n";
                     return o + "  witness x = " + hex(val(m, x)) + "\n";
                   }, {}, steps);
                 }});
  out.back().info.assumes = {"memblock/alloc/preserve" + k_tag(Ks)};
  // The underflow in scratch_size_update() (kernel/kexec_handover.c, 6.16;
  // spec/kho.md §3): global goes negative.
  out.push_back({{"hazard/all/scratch_global_underflow", "all", ObligationKind::hazard,
                  {"HAZARD_SCRATCH_GLOBAL_UNDERFLOW", "INV_SCRATCH_COUNT"}, true,
                  "scratch_size_update(): global = round_up(R(any)*scale/100 - lowmem) wraps to 0 on small machines"},
                 [](Query& q) {
                   auto& c = q.c;
                   expr mem = c.bv_const("machine_memory", 64), rlow = c.bv_const("R_low", 64), rany = c.bv_const("R_any", 64);
                   const expr scale = bv(c, 200), al = bv(c, kPageblock);
                   auto round_up = [&](const expr& v) { return (v + al - bv(c, 1)) & ~(al - bv(c, 1)); };
                   const expr lowmem = round_up(rlow * scale / bv(c, 100));
                   const expr global = round_up(rany * scale / bv(c, 100) - lowmem);
                   Conj hyps = {{"pre: a small machine: 128 MiB <= memory <= 4 GiB, a multiple of 128 MiB",
                                 z3::ule(bv(c, 128 * kMB), mem) && z3::ule(mem, bv(c, 1ull << 32)) &&
                                     (mem & bv(c, (128 * kMB) - 1)) == bv(c, 0)},
                                {"pre: 0 < R(low) <= memory / 4", z3::ult(bv(c, 0), rlow) && z3::ule(rlow * bv(c, 4), mem)},
                                {"pre: all RSRV_KERN memory lies below 4 GiB, so R(any) = R(low)", rany == rlow}};
                   // The property the kernel needs: a KHO kernel gets a non-empty global area.
                   Conj goals = {{"HAZARD_SCRATCH_GLOBAL_UNDERFLOW", global != bv(c, 0)}};
                   return prove_goals(q, hyps, goals, [=](const z3::model& m) {
                     std::ostringstream o;
                     o << "  machine memory " << hex(val(m, mem)) << " (" << val(m, mem) / kMB << " MiB), kho_scratch=200%\n"
                       << "  R(ARCH_LOW_ADDRESS_LIMIT) = " << hex(val(m, rlow)) << ", R(ANYWHERE) = " << hex(val(m, rany))
                       << " (all RSRV_KERN memory below 4 GiB)\n"
                       << "  lowmem = round_up(" << hex(val(m, rlow)) << " * 2, 2M) = " << hex(val(m, lowmem)) << "\n"
                       << "  global = round_up(" << hex(val(m, rany)) << " * 2 - lowmem, 2M) = "
                       << hex(val(m, rany * scale / bv(q.c, 100) - lowmem)) << " rounded -> " << hex(val(m, global))
                       << "  <- empty global scratch area (R(any) - lowmem underflows)\n";
                     return o.str();
                   });
                 }});
}

}  // namespace khospec::spec::z3enc
