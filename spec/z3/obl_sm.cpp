// The finalization state machines (spec/kho.md §5): bounded model checking
// of the spec table (spec/sm.cpp) per era, and the state-machine hazards.
#include "spec/z3/families.hpp"

#include <sstream>
#include <string>
#include <vector>

#include "model/kho/era.hpp"
#include "spec/sm.hpp"

namespace khospec::spec::z3enc {

namespace {

// Abstract preserved blocks for the state machine: U distinct blocks, each
// a bit of P (the tracker) and of the serialized map.
constexpr unsigned kU = 3;
enum Ev : unsigned { EV_W1, EV_W0, EV_FIN, EV_PRES, EV_UNPRES, EV_LOAD, EV_REBOOT, EV_LUO_REBOOT, EV_N };
const char* ev_name(unsigned e) {
  static const char* n[] = {"echo 1 > finalize", "echo 0 > finalize", "kho_finalize()", "preserve", "unpreserve",
                            "kexec_file_load", "kexec -e", "liveupdate_reboot() (finalize + kexec -e)"};
  return e < EV_N ? n[e] : "?";
}
enum MapSt : unsigned { MAP_NONE, MAP_VALID, MAP_FREED };

struct SmState {
  expr out, P, map, mapst, loaded, done;  // out: 0 disabled 1 idle 2 finalized; loaded: 0/1 plain/2 kho
};

struct SmMode {
  bool notifier_failures = false;
  bool plain_reboot = true;   // kexec -e without LUO's re-finalize
  bool luo_reboot = false;
};

}  // namespace

void sm_family(std::vector<Obligation>& out, const ProveOptions& opts, Mutation) {
  const unsigned steps = opts.bmc_steps;
  auto bmc = [steps](Query& q, const registry::Era& tr, SmMode mode, const std::string& prop) -> Outcome {
    auto& c = q.c;
    using model::OutEvent;
    using model::OutState;
    auto b8v = [&](unsigned v) { return c.bv_val(v, 8); };
    auto bu = [&](unsigned v) { return c.bv_val(v, kU); };
    std::vector<SmState> st;
    std::vector<expr> ev, blk, fail, ret, viol;
    st.push_back({c.bv_const("out0", 8), bu(0), bu(0), b8v(MAP_NONE), b8v(0), c.bool_val(false)});
    Conj hyps = {{"pre: KHO starts IDLE (or DISABLED where preserve still works)",
                  st[0].out == b8v(1) || (tr.finalize == registry::FinalizeModel::notifier_abort && st[0].out == b8v(0))}};
    const bool stateless = tr.finalize == registry::FinalizeModel::none;
    expr bad = c.bool_val(false);
    for (unsigned t = 0; t < steps; ++t) {
      const SmState& s = st.back();
      expr e = c.bv_const(("ev" + std::to_string(t)).c_str(), 8);
      expr b = c.bv_const(("blk" + std::to_string(t)).c_str(), kU);
      expr f = c.bool_const(("notifier_fails" + std::to_string(t)).c_str());
      ev.push_back(e);
      blk.push_back(b);
      fail.push_back(f);
      hyps.push_back({"pre: step " + std::to_string(t) + " is an event", z3::ult(e, b8v(EV_N))});
      hyps.push_back({"pre: one block per call", b != bu(0) && (b & (b - bu(1))) == bu(0)});
      if (!mode.notifier_failures) hyps.push_back({"pre: notifiers succeed", !f});
      if (!mode.plain_reboot) hyps.push_back({"pre: LUO reboots only", e != b8v(EV_REBOOT)});
      if (!mode.luo_reboot) hyps.push_back({"pre: no LUO", e != b8v(EV_LUO_REBOOT)});
      // Default: nothing changes.
      expr cur = s.out, P = s.P, map = s.map, mapst = s.mapst, loaded = s.loaded, r = bv(c, 0);
      const OutEvent evs[] = {OutEvent::debugfs_write_1, OutEvent::debugfs_write_0, OutEvent::finalize_call,
                              OutEvent::preserve, OutEvent::unpreserve, OutEvent::kexec_load};
      for (unsigned ei = 0; ei < 6; ++ei) {
        for (OutState from : {OutState::disabled, OutState::idle, OutState::finalized}) {
          auto row = spec_transition(tr, from, evs[ei]);
          const expr here = !s.done && e == b8v(ei) && s.out == b8v(static_cast<unsigned>(from));
          if (!row) {
            r = z3::ite(here, bv(c, static_cast<std::uint64_t>(-2)), r);
            continue;
          }
          expr nout = b8v(static_cast<unsigned>(row->on_success)), nP = P, nmap = map, nst = mapst, nl = loaded;
          expr nret = bv(c, static_cast<std::uint64_t>(static_cast<std::int64_t>(row->ret)));
          switch (row->effect) {
            case model::Effect::none: break;
            case model::Effect::finalize:  // failure -> internal kho_abort(): tracker wiped
              nout = z3::ite(f, b8v(static_cast<unsigned>(row->on_failure)), nout);
              nP = z3::ite(f, bu(0), s.P);
              nmap = z3::ite(f, bu(0), s.P);
              nst = z3::ite(f, b8v(MAP_FREED), b8v(MAP_VALID));
              nret = z3::ite(f, bv(c, static_cast<std::uint64_t>(-22)), nret);
              break;
            case model::Effect::abort:  // tracker and map freed; ABORT notifier may fail
              nout = z3::ite(f, b8v(static_cast<unsigned>(row->on_failure)), nout);
              nP = bu(0);
              nmap = bu(0);
              nst = b8v(MAP_FREED);
              nret = z3::ite(f, bv(c, static_cast<std::uint64_t>(-22)), nret);
              break;
            case model::Effect::refresh:
              nmap = s.P;
              nst = b8v(MAP_VALID);
              break;
            case model::Effect::mutate:
              nP = evs[ei] == OutEvent::unpreserve ? (s.P & ~b) : (s.P | b);
              break;
            case model::Effect::load_with_kho: nl = b8v(2); break;
            case model::Effect::load_plain: nl = b8v(1); break;
          }
          cur = z3::ite(here, nout, cur);
          P = z3::ite(here, nP, P);
          map = z3::ite(here, nmap, map);
          mapst = z3::ite(here, nst, mapst);
          loaded = z3::ite(here, nl, loaded);
          r = z3::ite(here, nret, r);
        }
      }
      // kexec -e (optionally through LUO, which re-finalizes first).
      const expr luo = !s.done && e == b8v(EV_LUO_REBOOT) && s.loaded != b8v(0);
      const expr reboot = (!s.done && e == b8v(EV_REBOOT) && s.loaded != b8v(0)) || luo;
      const expr rmap = z3::ite(luo, s.P, s.map), rst = z3::ite(luo, b8v(MAP_VALID), s.mapst);
      const expr kho = reboot && s.loaded == b8v(2);
      const expr complete = stateless ? c.bool_val(true) : (s.P == bu(0) || (rst == b8v(MAP_VALID) && rmap == s.P));
      const expr fresh = stateless ? c.bool_val(true) : (rst == b8v(MAP_VALID) && rmap == s.P);
      map = z3::ite(luo, s.P, map);
      mapst = z3::ite(luo, b8v(MAP_VALID), mapst);
      cur = z3::ite(luo, b8v(2), cur);
      const expr done = s.done || reboot;
      // Properties of this step.
      expr v = c.bool_val(false);
      if (prop == "INV_FINALIZED_MAP_EXACT")
        v = cur == b8v(2) && !(mapst == b8v(MAP_VALID) && map == P);
      else if (prop == "INV_KHO_HANDOVER_COMPLETE")
        v = kho && !complete;
      else if (prop == "INV_KHO_HANDOVER_COMPLETE/finalized")
        v = kho && s.out == b8v(2) && !complete;
      else if (prop == "INV_MAP_FRESH_AT_KEXEC")
        v = kho && !fresh;
      viol.push_back(v);
      bad = bad || v;
      ret.push_back(r);
      st.push_back({cur, P, map, mapst, loaded, done});
    }
    std::string id = prop.substr(0, prop.find('/'));
    Conj goals = {{id, !bad}};
    // A trace worth reading: the violation loses something preserved, and
    // every step before it succeeded (no refused no-ops padding the bound).
    {
      expr loses = c.bool_val(false), clean = c.bool_val(true), before = c.bool_val(false);
      for (unsigned t = 0; t < steps; ++t) {
        loses = loses || (viol[t] && st[t].P != bu(0));
        clean = clean && (before || ret[t] == c.bv_val(0, ret[t].get_sort().bv_size()));
        before = before || viol[t];
      }
      q.prefer = {loses, clean};
    }
    std::vector<SmState> states = st;
    return prove_goals(q, hyps, goals, [=, &tr](const z3::model& m) {
      std::ostringstream o;
      auto set_str = [&](const expr& v) {
        const auto x = val(m, v);
        std::string s = "{";
        for (unsigned i = 0; i < kU; ++i)
          if (x >> i & 1) s += std::string(s.size() > 1 ? "," : "") + "B" + std::to_string(i);
        return s + "}";
      };
      static const char* outn[] = {"DISABLED", "IDLE", "FINALIZED"};
      static const char* mapn[] = {"none", "valid", "freed (dangling)"};
      auto state_str = [&](const SmState& s) {
        const auto ou = val(m, s.out), ms = val(m, s.mapst), ld = val(m, s.loaded);
        return std::string(ou < 3 ? outn[ou] : "?") + " P=" + set_str(s.P) + " map=" + (ms < 3 ? mapn[ms] : "?") +
               (ms == MAP_VALID ? set_str(s.map) : "") + " image=" + (ld == 0 ? "none" : ld == 1 ? "plain" : "with KHO");
      };
      o << "  era " << tr.name << ", blocks B0..B" << kU - 1 << " (abstract preserved blocks)\n";
      o << "  state 0: " << state_str(states[0]) << "\n";
      unsigned idle = 0;  // refused steps that changed nothing, shown as a count
      for (unsigned t = 0; t < ev.size(); ++t) {
        const auto e = val(m, ev[t]);
        std::string what = ev_name(static_cast<unsigned>(e));
        if (e == EV_PRES || e == EV_UNPRES) what += "(" + set_str(blk[t]).substr(1, 2) + ")";
        if ((e == EV_W0 || e == EV_W1) && is_true(m, fail[t])) what += " with a failing notifier";
        const bool violated = is_true(m, viol[t]);
        const auto rv = static_cast<std::int64_t>(val(m, ret[t]));
        if (!violated && rv != 0 && state_str(states[t + 1]) == state_str(states[t])) {
          ++idle;
          continue;
        }
        if (idle) o << "  (" << idle << " refused step(s) that changed nothing)\n";
        idle = 0;
        o << "  " << t + 1 << ". " << what << " -> ret " << rv << "; " << state_str(states[t + 1]) << "\n";
        if (!violated) continue;
        o << "  violated here: " << prop << "\n";
        // What the next kernel gets, as `simulate` says it (the state kexec saw).
        // kexec sees the state before its step; a finalize's result is the state after it.
        const bool after = prop.rfind("INV_FINALIZED_MAP_EXACT", 0) == 0;
        const SmState& at = states[after ? t + 1 : t];
        const auto P = val(m, at.P), mp = val(m, at.map), ms = val(m, at.mapst);
        auto set_of = [&](std::uint64_t x) {
          std::string s = "{";
          for (unsigned i = 0; i < kU; ++i)
            if (x >> i & 1) s += std::string(s.size() > 1 ? "," : "") + "B" + std::to_string(i);
          return s + "}";
        };
        if (prop.rfind("INV_FINALIZED_MAP_EXACT", 0) == 0) {
          o << "  consequence: FINALIZED with the map " << (ms < 3 ? mapn[ms] : "?")
            << (ms == MAP_VALID ? " " + set_of(mp) : "") << " while " << set_of(P)
            << " is preserved: a kexec now hands the next kernel " << (ms == MAP_VALID ? "the wrong set" : "a map that is not there")
            << "\n";
        } else {
          const std::uint64_t revived = ms == MAP_VALID ? mp : 0;
          o << "  consequence: the next kernel revives " << set_of(revived)
            << (ms == MAP_VALID ? " (the map as last serialized)" : ms == MAP_NONE ? " (no map was serialized)" : " (the map was freed)")
            << "; preserved but lost: " << set_of(P & ~revived) << "\n";
        }
        break;
      }
      return o.str();
    });
  };
  for (auto era : registry::era_ids()) {
    const auto& tr = registry::era(era);
    const std::string en(tr.name);
    const std::string tag = "[k=" + std::to_string(steps) + "]";
    if (tr.finalize == registry::FinalizeModel::notifier_abort) {
      out.push_back({{"sm/" + en + "/bmc" + tag, en, ObligationKind::bmc, {"INV_FINALIZED_MAP_EXACT"}, false,
                      "with notifiers that succeed, FINALIZED always means a valid map equal to P"},
                     [bmc, tr](Query& q) { return bmc(q, tr, SmMode{false, true, false}, "INV_FINALIZED_MAP_EXACT"); }});
      out.push_back({{"sm/" + en + "/handover" + tag, en, ObligationKind::bmc, {"INV_KHO_HANDOVER_COMPLETE"}, false,
                      "kexec -e while FINALIZED (notifiers succeed) hands over exactly P"},
                     [bmc, tr](Query& q) { return bmc(q, tr, SmMode{false, true, false}, "INV_KHO_HANDOVER_COMPLETE/finalized"); }});
    } else if (tr.finalize == registry::FinalizeModel::refresh) {
      out.push_back({{"sm/" + en + "/bmc" + tag, en, ObligationKind::bmc, {"INV_MAP_FRESH_AT_KEXEC", "INV_KHO_HANDOVER_COMPLETE"}, false,
                      "rebooting through LUO (re-finalize, then kexec) always hands over a fresh map"},
                     [bmc, tr](Query& q) { return bmc(q, tr, SmMode{false, false, true}, "INV_MAP_FRESH_AT_KEXEC"); }});
    } else {
      out.push_back({{"sm/" + en + "/bmc" + tag, en, ObligationKind::bmc, {"INV_KHO_HANDOVER_COMPLETE"}, false,
                      "stateless KHO hands over the live set at every kexec"},
                     [bmc, tr](Query& q) { return bmc(q, tr, SmMode{false, true, false}, "INV_KHO_HANDOVER_COMPLETE"); }});
    }
  }
  const auto& t616 = registry::era(registry::EraId::v6_16);
  const auto& t619 = registry::era(registry::EraId::v6_19);
  out.push_back({{"hazard/v6.16/abort_dangling_map", "v6.16", ObligationKind::hazard, {"INV_FINALIZED_MAP_EXACT", "HAZARD_ABORT_DANGLING_MAP"}, true,
                  "echo 0 > finalize with a failing ABORT notifier stays FINALIZED with the map freed"},
                 [bmc, t616](Query& q) { return bmc(q, t616, SmMode{true, true, false}, "INV_FINALIZED_MAP_EXACT"); }});
  out.push_back({{"hazard/v6.16/unfinalized_load", "v6.16", ObligationKind::hazard, {"INV_KHO_HANDOVER_COMPLETE"}, true,
                  "6.16 attaches the unwritten FDT when loading before finalize: the next kernel gets nothing"},
                 [bmc, t616](Query& q) { return bmc(q, t616, SmMode{false, true, false}, "INV_KHO_HANDOVER_COMPLETE"); }});
  out.push_back({{"hazard/v6.19/stale_map", "v6.19", ObligationKind::hazard, {"INV_MAP_FRESH_AT_KEXEC", "INV_KHO_HANDOVER_COMPLETE"}, true,
                  "changes after the last finalize reach the next kernel only if something re-finalizes"},
                 [bmc, t619](Query& q) { return bmc(q, t619, SmMode{false, true, false}, "INV_MAP_FRESH_AT_KEXEC"); }});
}

}  // namespace khospec::spec::z3enc
