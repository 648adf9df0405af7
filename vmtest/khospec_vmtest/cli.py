"""khospec vmtest [--kernel BZIMAGE [--next-kernel BZIMAGE]] [--release 7.3] [SCENARIO ...]

Exit 0: every stage of every scenario agrees (guest, host, model, next kernel);
100: a disagreement; 1: usage, a missing tool or kernel, an internal error."""

import argparse
import json
import os
import sys

from khospec_vmtest import faults, kernels, run, scenarios


def _parser():
    p = argparse.ArgumentParser(prog="khospec vmtest", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Scenarios:\n" + "\n".join(f"  {s.name:28} {s.description}"
                                                                  for s in scenarios.SCENARIOS) +
                                "\nFaults (--fault):\n" + "\n".join(f"  {n}" for n in faults.FAULTS))
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="default: kho-only")
    p.add_argument("--kernel", help="your KHO kernel's bzImage (System.map beside it or --system-map)")
    p.add_argument("--system-map")
    p.add_argument("--next-kernel", help="the kernel the first one kexecs into (default: the same)")
    p.add_argument("--next-system-map")
    p.add_argument("--release", default="7.3", help="the project's test kernel when no --kernel (7.3 or 7.2)")
    p.add_argument("--tier", action="store_true", help="every scenario of the ctest tier")
    p.add_argument("--fault", choices=sorted(faults.FAULTS), help="corrupt the hand-over just before the jump")
    p.add_argument("--faults", action="store_true", help="run every fault on its scenario")
    p.add_argument("--accel", default="tcg", choices=["tcg", "kvm", "auto"])
    p.add_argument("--timeout", type=float, default=240, help="seconds per stage")
    p.add_argument("--keep", metavar="DIR", help="keep the guest cores (ELF) in DIR")
    p.add_argument("--keep-work", action="store_true", help="keep the work directory of passing runs too")
    p.add_argument("-f", "--format", default="text", choices=["text", "json"])
    p.add_argument("--khospec", default=os.environ.get("KHOSPEC_BIN"), help="the khospec binary for guest and host")
    p.add_argument("--list", action="store_true", help="the scenarios (name, description)")
    p.add_argument("--list-tier", action="store_true", help="the ctest tier: scenario and fault runs, one per line")
    return p


def _kernels_for(sc, args, cache):
    if args.kernel:
        if sc.kernels or sc.test_kho:
            return None
        first = kernels.load(args.kernel, args.system_map)
        nxt = kernels.load(args.next_kernel, args.next_system_map) if args.next_kernel else first
        return [first] + [nxt] * (sc.stages - 1)
    rels = sc.kernels or [args.release] * sc.stages
    key = {}
    out = []
    for r in rels:
        if (r, sc.test_kho) not in key:
            release, variant = scenarios.kernel_name(r)
            key[(r, sc.test_kho)] = kernels.test_kernel(release, sc.test_kho, variant)
        out.append(key[(r, sc.test_kho)])
    return out


def _text(results, out):
    for r in results:
        head = f"{r['scenario']}" + (f" + fault {r['fault']}" if r.get("fault") else "")
        rels = " -> ".join(str(s.get("release") or "?") for s in r["stages"])
        out.write(f"{head}: {'AGREE' if r['ok'] else 'DISAGREE'}  ({rels}; {r['accel']}, "
                  f"{r.get('seconds', 0)} s)\n")
        if r.get("error"):
            out.write(f"  error: {r['error']}\n")
        if r.get("model_error"):
            out.write(f"  model: {r['model_error']}\n")
        for e in r["stages"]:
            parts = []
            for side, label in (("guest_live_in", "guest --live in"), ("guest_live_out", "guest --live out")):
                v = e.get(side)
                if v is not None:
                    parts.append(f"{label}: {'clean' if v['rc'] == 0 else 'exit ' + str(v['rc'])}")
            if "host" in e:
                h = e["host"]
                parts.append(f"host: {'clean' if h['rc'] == 0 else 'exit ' + str(h['rc'])} "
                             f"({h['blocks']} blocks, root {h['root_phys']})")
                mp = e.get("model_parity")
                parts.append("model: " + ("parity" if mp == [] else "n/a" if mp is None else "DIFFERS"))
            out.write(f"  stage {e['stage']}: " + ("; ".join(parts) if e["booted"] else "did not reach /init") + "\n")
            for side in ("guest_live_in", "guest_live_out"):
                for f in (e.get(side) or {}).get("findings", []):
                    out.write(f"      guest: {f}\n")
            for f in (e.get("host") or {}).get("findings", []):
                out.write(f"      host: {f}\n")
            for d in e.get("model_parity") or []:
                out.write(f"      model: {d}\n")
            for d in e.get("model_notes") or []:
                out.write(f"      model (not counted): {d}\n")
            if e.get("next_kernel"):
                out.write("      next kernel: " + "; ".join(e["next_kernel"]) + "\n")
            if e.get("not_revived"):
                out.write("      next kernel did not say: " + "; ".join(e["not_revived"]) + "\n")
            for t in e.get("trouble") or []:
                out.write(f"      kernel says: {t}\n")
        _text_preflight(r.get("preflight"), out)
        f = r.get("fault_result")
        if f:
            out.write(f"  fault: {f['applied']}\n")
            out.write(f"    khospec before the jump: exit {f['khospec_rc']}"
                      + "".join(f"\n      {x}" for x in f["khospec_findings"][:6]) + "\n")
            out.write("    next kernel: " + ("" if f.get("next_kernel_booted") else "did not reach /init; ") +
                      ("; ".join(f["next_kernel"] or []) or "revived nothing") + "\n")
            for t in f.get("next_kernel_trouble") or []:
                out.write(f"      kernel says: {t}\n")
            out.write("    verdicts: " + ("the kernel failed" if f.get("kernel_failed") else "the kernel accepted it") +
                      ", khospec " + ("flagged it (exit 100)" if f["khospec_rc"] == 100 else
                                      "warned (exit 0)" if f["khospec_findings"] else "said clean") +
                      (": khospec is wrong" if f.get("kernel_failed") and f["khospec_rc"] != 100 else "") + "\n")
        if r.get("work"):
            out.write(f"  work directory kept: {r['work']}\n")


def _text_preflight(pf, out):
    if not pf:
        return
    p = pf["prediction"]
    out.write(f"  preflight before the jump (B {pf['b_kernel']}):\n    cmdline: {pf['b_cmdline']}\n")
    if pf.get("scratch"):
        out.write("    scratch: " + ", ".join(f"{a}:{b}" for a, b in pf["scratch"]) + "\n")
    if p.get("error"):
        out.write(f"    error: {p['error']}\n")
    for row in pf.get("rows") or []:
        mark = {True: "agree", False: "DISAGREE", None: "not observable"}[row.get("agree")]
        finer = "" if row.get("agree") is None or not row.get("finer") else \
            (" (same outcome)" if row.get("same_outcome") else " (finer outcome differs)")
        out.write(f"    {row['kind']} {row.get('name') or ''}: predicted {row['predicted']}, "
                  f"B: {row['observed'] or '?'} -> {mark}{finer}\n")
        if row.get("why"):
            out.write(f"        why: {row['why']}\n")
        if row.get("evidence"):
            out.write(f"        B: {row['evidence']}\n")
    if pf.get("b_in_sub_fdts") is not None:
        out.write("    B's debugfs in/sub_fdts: " + (", ".join(pf["b_in_sub_fdts"]) or "(none)") + "\n")
    out.write("    preflight and B " + ("agree" if pf.get("agree") else "DISAGREE") + "\n")


def _fail(args, message):
    """A usage, tool or kernel problem: exit 1, and with -f json still one JSON document."""
    if args.format == "json":
        json.dump({"format_version": 1, "tool": "khospec vmtest", "ok": False, "error": message, "scenarios": []},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
    print(f"khospec vmtest: {message}", file=sys.stderr)
    return 1


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.list:
        for s in scenarios.SCENARIOS:
            print(f"{s.name:28} {s.description}" + (f"  [not in the tier: {s.known}]" if s.known else ""))
        return 0
    if args.list_tier:
        for s in scenarios.SCENARIOS:
            if s.tier:
                print(s.name)
        for f, (_, sc_name, _) in sorted(faults.FAULTS.items()):
            print(f"{sc_name}:{f}")
        return 0
    if not args.khospec or not os.access(args.khospec, os.X_OK):
        return _fail(args, "no khospec binary (run it as `khospec vmtest`, or give --khospec)")
    cache = os.path.join(os.environ.get("KHOSPEC_CACHE", os.path.expanduser("~/.cache/khospec")), "vmtest")
    os.makedirs(cache, exist_ok=True)
    args.cache = cache
    args.work = os.environ.get("TMPDIR", "/tmp")
    jobs = []
    names = [s.name for s in scenarios.SCENARIOS if s.tier] if args.tier else \
        (args.scenarios or ([] if args.faults else ["kho-only"]))
    for n in names:
        sc = scenarios.by_name(n)
        if not sc:
            return _fail(args, f"no scenario '{n}' (--list shows them)")
        jobs.append((sc, args.fault))
    if args.faults:
        jobs += [(scenarios.by_name(sc_name), f) for f, (_, sc_name, _) in sorted(faults.FAULTS.items())]
    results = []
    for sc, fault in jobs:
        try:
            ks = _kernels_for(sc, args, cache)
        except kernels.KernelError as e:
            return _fail(args, str(e))
        if ks is None:
            return _fail(args, f"scenario '{sc.name}' needs the project's test kernels "
                               f"({'test_kho' if sc.test_kho else 'releases ' + ', '.join(sc.kernels or [])}), "
                               "not --kernel")
        args.fault = fault
        r = run.run(sc, ks, args)
        results.append(r)
        if args.format == "text":
            _text([r], sys.stdout)
            sys.stdout.flush()
    if args.format == "json":
        json.dump({"format_version": 1, "tool": "khospec vmtest", "ok": all(r["ok"] for r in results),
                   "scenarios": results}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0 if all(r["ok"] for r in results) else 100
