"""One scenario through a real kexec chain: boot, stop at every machine_kexec,
capture and check the hand-over from outside, let the next kernel judge it."""

import json
import os
import shutil
import struct
import subprocess
import tempfile
import time

from khospec_vmtest import faults, guestlog, initramfs, model_parity, preflight
from khospec_vmtest.gdbremote import Gdb
from khospec_vmtest.qmp import Qmp
from khospec_vmtest.scenarios import LUO_SESSION, LUO_TOKEN, expected_revivals, stage_cmdline

PAGE_OFFSET = 0xFFFF888000000000  # x86_64 direct map, 4-level paging, nokaslr


def accel(choice):
    if choice != "auto":
        return choice
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return "kvm"
    except OSError:
        return "tcg"


def reached_init(serial_path, stage):
    """Whether the serial log shows `stage`'s /init (its "@@VMTEST N boot" line)."""
    try:
        with open(serial_path, errors="replace") as f:
            return any(s.n == stage and s.release for s in guestlog.parse(f.read()))
    except OSError:
        return False


def host_validate(khospec, core, root_phys):
    """khospec's verdict on the memory the next kernel will read."""
    r = subprocess.run([khospec, "-f", "json", "validate", "--memory", core, "--fdt-phys", hex(root_phys)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        doc = json.loads(r.stdout)
    except json.JSONDecodeError:
        return {"rc": r.returncode, "errors": [f"no JSON from khospec: {r.stderr.strip()[:300]}"], "report": None}
    errors = [f"{d.get('level')} ({d.get('rule')}): {d.get('message')}" for d in doc.get("diagnostics", [])
              if d.get("level") in ("error", "warning")]
    files = doc.get("files") or []
    report = files[0] if files else None
    return {"rc": r.returncode, "errors": errors, "report": report}


def _blocks(report):
    if not report or "memory" not in report:
        return []
    return [(int(b["phys"], 16), b["order"]) for b in report["memory"]["blocks"]]


def _guest_verdict(stage, name):
    doc, rc = stage.json_section(name)
    if rc is None:
        return None
    errs = []
    if doc:
        errs += [f"{d['level']} ({d['rule']}): {d['message']}" for d in doc.get("diagnostics", []) or []
                 if d.get("level") in ("error", "warning")]
    elif rc != 0:
        errs.append(stage.sections[name][0].strip()[:300])
    return {"rc": rc, "findings": errs}


def run(sc, kernels, opts):
    """Runs scenario `sc` with kernels[N-1] for stage N; returns the result dict."""
    res = {"scenario": sc.name, "description": sc.description, "stages": [], "ok": False, "error": None,
           "accel": accel(opts.accel), "fault": opts.fault}
    work = tempfile.mkdtemp(prefix=f"khospec-vmtest-{sc.name}-", dir=opts.work)
    res["work"] = work
    cmdlines = [stage_cmdline(sc, n) for n in range(1, sc.stages + 1)]
    setups = [""] * sc.stages
    if sc.luo:
        setups[0] = f"khospec-agent luo-prep {LUO_SESSION} {LUO_TOKEN:#x}"
        setups[1] = f"khospec-agent luo-get {LUO_SESSION} {LUO_TOKEN:#x}"
    start = time.monotonic()
    try:
        initrd = initramfs.build(work, opts.cache, opts.khospec, kernels, cmdlines, setups)
    except Exception as e:
        res["error"] = f"initramfs: {e}"
        return res
    serial = os.path.join(work, "serial.log")
    gdb_sock, qmp_sock = os.path.join(work, "gdb.sock"), os.path.join(work, "qmp.sock")
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        res["error"] = "qemu-system-x86_64 is missing: install the Debian package 'qemu-system-x86'"
        return res
    cmd = [qemu, "-accel", res["accel"], "-m", sc.ram, "-smp", "1", "-no-reboot", "-display", "none",
           "-monitor", "none", "-serial", f"file:{serial}", "-kernel", kernels[0].bzimage, "-initrd", initrd,
           "-append", cmdlines[0], "-gdb", f"unix:{gdb_sock},server=on,wait=off",
           "-qmp", f"unix:{qmp_sock},server=on,wait=off", "-S"]
    if res["accel"] == "kvm":
        cmd += ["-cpu", "host"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "qemu.err"), "w"))
    host = {}
    fault_note = {}
    try:
        gdb, qmp = Gdb(gdb_sock), Qmp(qmp_sock)
        gdb.add_breakpoint(kernels[0].machine_kexec)
        for n in range(1, sc.stages + 1):
            state = gdb.cont(opts.timeout)
            # A stop before this stage's kernel reached /init is not its
            # machine_kexec: the previous kernel stopped again on the same
            # address (seen under load, A and B sharing it). Step off, go on.
            for _ in range(3):
                if state != "stopped" or n == 1 or reached_init(serial, n):
                    break
                res.setdefault("spurious_stops", []).append(n)
                gdb.remove_breakpoint(kernels[n - 1].machine_kexec)
                gdb.step()
                gdb.add_breakpoint(kernels[n - 1].machine_kexec)
                state = gdb.cont(opts.timeout)
            if n == sc.stages:
                if state != "exited":
                    res["error"] = f"stage {n} stopped at machine_kexec though it is the last"
                break
            if state == "exited":
                res["error"] = f"stage {n} ended before its kexec (see the serial log)"
                break
            k = kernels[n - 1]
            core = os.path.join(work, f"stage{n}.elf")
            qmp.dump_guest_memory(core)
            root = struct.unpack("<Q", gdb.read(k.kho_out, 8))[0] - PAGE_OFFSET
            host[n] = host_validate(opts.khospec, core, root)
            host[n]["root"] = root
            if sc.preflight and n == 1:
                # The prediction, before the jump: B's image and command line,
                # the scratch A hands over (as /init printed it).
                scratch = preflight.guest_scratch(serial, n)
                res["preflight"] = {"prediction": preflight.predict(opts.khospec, core, root, kernels[n].bzimage,
                                                                    cmdlines[n], scratch),
                                    "b_kernel": kernels[n].bzimage, "b_cmdline": cmdlines[n],
                                    "scratch": [[hex(p), hex(ln)] for p, ln in scratch]}
            if opts.fault and n == 1:
                fn, _, kwargs = faults.FAULTS[opts.fault]
                try:
                    fault_note["applied"] = fn(gdb, host[n]["report"], root, **kwargs)
                    bad = os.path.join(work, f"stage{n}-fault.elf")
                    qmp.dump_guest_memory(bad)
                    after = host_validate(opts.khospec, bad, root)
                    fault_note["khospec"] = after
                    if not opts.keep:
                        os.remove(bad)
                except faults.FaultError as e:
                    res["error"] = f"fault {opts.fault}: {e}"
                    break
            if opts.keep:
                os.makedirs(opts.keep, exist_ok=True)
                shutil.move(core, os.path.join(opts.keep, f"{sc.name}-stage{n}.elf"))
            else:
                os.remove(core)
            gdb.remove_breakpoint(k.machine_kexec)
            gdb.step()  # off this breakpoint: the next kernel's may be at the same address
            gdb.add_breakpoint(kernels[n].machine_kexec)
        gdb.close()
        qmp.close()
    except Exception as e:
        res["error"] = f"{type(e).__name__}: {e}"
    finally:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    res["seconds"] = round(time.monotonic() - start, 1)
    log = open(serial, errors="replace").read() if os.path.exists(serial) else ""
    stages = guestlog.parse(log)
    releases = [k.release for k in kernels]
    model, model_err = model_parity.run_model(sc, releases, cmdlines)
    res["model_error"] = model_err
    for n in range(1, sc.stages + 1):
        st = next((s for s in stages if s.n == n), None)
        nxt = next((s for s in stages if s.n == n + 1), None)
        entry = {"stage": n, "release": st.release if st else None, "booted": bool(st and st.release)}
        if st and not st.release:
            entry["trouble"] = st.trouble()
        if st and st.release:
            entry["guest_live_in"] = _guest_verdict(st, "live-in")
            entry["guest_live_out"] = _guest_verdict(st, "live-out")
            sl = st.sections.get("out-scratch_len") or st.sections.get("out-bootmem_len")
            sp = st.sections.get("out-scratch_phys") or st.sections.get("out-bootmem_phys")
            entry["scratch_len"] = [int(x, 16) for x in sl[0].split()] if sl else None
            entry["scratch_phys"] = [int(x, 16) for x in sp[0].split()] if sp else None
            entry["setup"] = st.sections.get("setup", ("", None))[0].strip() or None
            entry["trouble"] = st.trouble()
        if n in host:
            h = host[n]
            entry["host"] = {"rc": h["rc"], "findings": h["errors"], "root_phys": hex(h["root"]),
                             "blocks": len(_blocks(h["report"]))}
            if model and n <= len(model):
                clients = [b["node"].strip("/") for b in (h["report"] or {}).get("memory", {}).get("sub_blobs", [])]
                entry["model_parity"] = model_parity.compare(_blocks(h["report"]), clients, model[n - 1])
                entry["model_notes"] = [x for x in (
                    model_parity.placement_note(_blocks(h["report"]), model[n - 1]),
                    model_parity.scratch_note(entry.get("scratch_len"), model[n - 1])) if x]
            entry["next_kernel"] = nxt.revived() if nxt else []
            # A preflight scenario's expectations are the prediction's (res["preflight"]).
            entry["not_revived"] = [] if sc.preflight else [
                x for x in expected_revivals(sc, n) if not any(r.startswith(x) for r in entry["next_kernel"])]
        res["stages"].append(entry)
    # Scratch reuse across kexecs: a KHO-booted kernel hands on the scratch it
    # booted from (kho_populate(), 7.3); the model must agree stage by stage.
    if model:
        first = res["stages"][0].get("scratch_phys") if res["stages"] else None
        for e in res["stages"][1:]:
            if e.get("scratch_phys") is None or first is None or e["stage"] > len(model):
                continue
            real_same = e["scratch_phys"] == first
            model_same = model[e["stage"] - 1]["scratch"] == model[0]["scratch"]
            if real_same != model_same:
                e.setdefault("model_parity", []).append(
                    f"scratch reuse: kernel {'reuses' if real_same else 'moves'} stage 1's scratch, model "
                    f"{'reuses' if model_same else 'moves'} it")
    if sc.preflight and "preflight" in res:
        b = next((s for s in stages if s.n == 2), None)
        ev = preflight.Evidence(b)
        pf = res["preflight"]
        pf["rows"] = preflight.compare(pf["prediction"], ev, LUO_SESSION, LUO_TOKEN) \
            if not pf["prediction"]["error"] else []
        pf["b_in_sub_fdts"] = ev.in_blobs
        pf["agree"] = not pf["prediction"]["error"] and preflight.agrees(pf["rows"])
    if fault_note:
        res["fault_result"] = {"applied": fault_note.get("applied"),
                               "khospec_rc": fault_note["khospec"]["rc"] if "khospec" in fault_note else None,
                               "khospec_findings": fault_note["khospec"]["errors"] if "khospec" in fault_note else [],
                               "next_kernel": res["stages"][0].get("next_kernel"),
                               "next_kernel_booted": res["stages"][1]["booted"] if len(res["stages"]) > 1 else None,
                               "next_kernel_trouble": res["stages"][1].get("trouble") if len(res["stages"]) > 1 else None}
    res["ok"] = judge(res, sc)
    if not opts.keep_work and res["ok"]:
        shutil.rmtree(work, ignore_errors=True)
        res["work"] = None
    return res


def kernel_failed(res):
    """The next kernel refused, lost or misused something: it did not boot, said
    so, or did not revive what the scenario preserved."""
    if len(res["stages"]) < 2:
        return True
    first, second = res["stages"][0], res["stages"][1]
    return (not second["booted"]) or bool(second.get("trouble")) or bool(first.get("not_revived"))


def judge(res, sc):
    """All agree: every stage booted; guest and host clean; model parity; the
    next kernel revived everything and reported no trouble. With a fault: when
    the next kernel fails, khospec must have said so before the jump."""
    if res["error"] or len(res["stages"]) != sc.stages:
        return False
    if sc.preflight:
        return judge_preflight(res, sc)
    if res.get("fault"):
        f = res.get("fault_result") or {}
        f["kernel_failed"] = kernel_failed(res)
        return f.get("khospec_rc") == 100 or not f["kernel_failed"]
    for e in res["stages"]:
        if not e["booted"] or e.get("trouble") or e.get("not_revived"):
            return False
        for side in ("guest_live_in", "guest_live_out"):
            v = e.get(side)
            if v is not None and v["rc"] != 0:
                return False
        if e.get("host") and e["host"]["rc"] != 0:
            return False
        if e.get("model_parity"):
            return False
        if "host" in e and "model_parity" not in e:
            return False
    return True


FATAL = ("Kernel panic", "BUG:")


def judge_preflight(res, sc):
    """A preflight run agrees when A's hand-over was sound (guest, host, model),
    B booted without a panic, and B did with every item what khospec preflight
    said before the jump. B's refusals are expected here, so its complaints are
    shown, not counted; stages booted without kho=on have no KHO debugfs to judge."""
    pf = res.get("preflight")
    if not pf or not pf.get("agree"):
        return False
    for e in res["stages"]:
        if not e["booted"] or any(t.startswith(FATAL) or any(f in t for f in FATAL) for t in e.get("trouble") or []):
            return False
        if e["stage"] not in sc.no_kho_on:
            for side in ("guest_live_in", "guest_live_out"):
                v = e.get(side)
                if v is not None and v["rc"] != 0:
                    return False
        if e.get("host") and e["host"]["rc"] != 0:
            return False
        if "host" in e and e.get("model_parity") != []:
            return False
    return True
