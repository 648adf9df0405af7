"""The vmtest harness's own logic, without a VM: the serial-log parser, the
revival expectations, the bzImage version reader, the fault arithmetic and
the verdict. (The harness on real kernels is the ctest label `vmtest`.)"""

import json
import struct

import pytest

from khospec_vmtest import faults, guestlog, kernels, run, scenarios

LOG = """\
[    0.000000] Linux version 7.3.4
@@VMTEST 1 boot 7.3.4
@@VMTEST 1 begin live-out
{"format_version": 1, "files": [], "diagnostics": []}
@@VMTEST 1 end live-out rc=0
@@VMTEST 1 begin dmesg
[    0.1] KHO: something
@@VMTEST 1 end dmesg rc=0
@@VMTEST 1 kexec
[    0.000000] KHO: found kexec handover data.
@@VMTEST 2 boot 7.3.4
@@VMTEST 2 begin dmesg
[    0.000000] KHO: found kexec handover data.
[    0.111096] Revived memory reservation 'trace' from KHO
[    0.485342] KHO: exec from: 7.3.4 (count 1)
@@VMTEST 2 end dmesg rc=0
@@VMTEST 2 begin out-scratch_len
0x6800000
0x0
@@VMTEST 2 end out-scratch_len rc=0
@@VMTEST 2 done
"""


def test_log_is_cut_into_stages_and_sections():
    st = guestlog.parse(LOG)
    assert [s.n for s in st] == [1, 2]
    assert st[0].release == "7.3.4" and st[0].kexec and not st[0].done
    doc, rc = st[0].json_section("live-out")
    assert rc == 0 and doc["format_version"] == 1
    assert st[1].done
    assert "KHO: found kexec handover data." in st[1].console
    assert st[1].revived() == ["kho: found hand-over", "reserve_mem: revived 'trace'",
                               "kexec-metadata: from 7.3.4 (count 1)"]
    assert st[1].trouble() == []


def test_a_kernel_that_never_reached_init_keeps_its_console():
    log = LOG.split("@@VMTEST 2 boot")[0] + "[    0.3] Kernel panic - not syncing: The incoming tree failed\n"
    st = guestlog.parse(log)
    assert st[1].n == 2 and st[1].release is None
    assert any("Kernel panic" in t for t in st[1].trouble())


def test_trouble_ignores_firmware_chatter_but_not_warnings():
    st = guestlog.Stage(1)
    st.console = ("[0.02] ..MP-BIOS bug: 8254 timer not connected to IO-APIC\n"
                  "[1.2] WARNING: kernel/liveupdate/kexec_handover.c:529 at kho_restore_page\n"
                  "[1.2] memfd_luo: Unable to restore folio at physical address: 7f849000")
    assert len(st.trouble()) == 2


def test_expected_revivals_follow_the_scenario_and_stage():
    sc = scenarios.by_name("test-kho-reserve-mem")
    assert scenarios.expected_revivals(sc, 1) == ["kho: found hand-over", "kexec-metadata: from",
                                                  "reserve_mem: revived 'trace'", "test_kho: restore succeeded"]
    # lib/test_kho.c, 7.3: a KHO-booted kernel restores and preserves nothing new.
    assert "test_kho: restore succeeded" not in scenarios.expected_revivals(sc, 2)


def test_every_fault_names_a_known_scenario():
    for name, (fn, sc, kwargs) in faults.FAULTS.items():
        assert callable(fn) and scenarios.by_name(sc), name


class FakeGdb:
    """Physical memory as a dict of pages, for the fault arithmetic."""

    def __init__(self):
        self.mem = {}

    def read(self, addr, n, phys=True):
        return bytes(self.mem.get(addr + i, 0) for i in range(n))

    def write(self, addr, data, phys=True):
        for i, b in enumerate(data):
            self.mem[addr + i] = b


def test_radix_leaf_bit_walks_the_kho_v4_key():
    # Key of 0x3bc000 at order 0: (1 << 52) | 0x3bc; five table levels, then the leaf bit.
    g = FakeGdb()
    key = (1 << 52) | (0x3BC000 >> 12)
    tables = [0x10000, 0x11000, 0x12000, 0x13000, 0x14000, 0x15000]  # L5..L1, then the leaf
    for level, (t, nxt) in zip(range(5, 0, -1), zip(tables, tables[1:])):
        idx = (key >> ((level - 1) * 9 + 15)) & 511
        g.write(t + idx * 8, struct.pack("<Q", nxt))
    byte, mask = faults._radix_leaf_bit(g, tables[0], 0x3BC000, 0)
    bit = key & 32767
    assert (byte, mask) == (0x15000 + bit // 8, 1 << (bit % 8))
    with pytest.raises(faults.FaultError):
        faults._radix_leaf_bit(g, tables[0], 0x7000000, 3)  # no path: nothing there


def test_bzimage_release_comes_from_the_setup_header(tmp_path):
    img = bytearray(0x1000)
    img[0x202:0x206] = b"HdrS"
    img[0x20E:0x210] = struct.pack("<H", 0x300)
    img[0x500:0x50A] = b"7.2.13 (x)"
    p = tmp_path / "bzImage"
    p.write_bytes(bytes(img))
    assert kernels._release(str(p)) == "7.2"
    p.write_bytes(b"\0" * 0x300)
    with pytest.raises(kernels.KernelError):
        kernels._release(str(p))


def _result(**stage2):
    s1 = {"stage": 1, "booted": True, "host": {"rc": 0}, "model_parity": [], "not_revived": []}
    s2 = {"stage": 2, "booted": True}
    s2.update(stage2)
    return {"error": None, "stages": [s1, s2]}


def test_verdict_needs_guest_host_model_and_the_next_kernel():
    sc = scenarios.by_name("kho-only")
    assert run.judge(_result(), sc)
    assert not run.judge(_result(guest_live_in={"rc": 100, "findings": []}), sc)
    assert not run.judge(_result(trouble=["Kernel panic"]), sc)
    r = _result()
    r["stages"][0]["model_parity"] = ["clients: kernel LUO; model"]
    assert not run.judge(r, sc)
    r = _result()
    del r["stages"][0]["model_parity"]  # the model could not run: no parity, no agreement
    assert not run.judge(r, sc)


def test_fault_verdict_blames_khospec_only_when_the_kernel_failed():
    sc = scenarios.by_name("reserve-mem-1")
    failed = _result(booted=False)
    failed["fault"] = "bump-compatible"
    failed["fault_result"] = {"khospec_rc": 0}
    assert not run.judge(failed, sc)          # the kernel failed, khospec said clean: khospec is wrong
    failed["fault_result"] = {"khospec_rc": 100}
    assert run.judge(failed, sc)
    fine = _result()
    fine["fault"] = "shorten-blob-size"
    fine["fault_result"] = {"khospec_rc": 0}
    assert run.judge(fine, sc)                # accepted by the kernel, warned by khospec


def test_json_errors_are_json(capsys):
    from khospec_vmtest import cli
    assert cli.main(["-f", "json", "--khospec", "/bin/true", "--kernel", "/nonexistent", "kho-only"]) == 1
    import json
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and "no such kernel image" in doc["error"]
    assert cli.main(["--khospec", "/bin/true", "nope"]) == 1


def test_agent_is_built_once_when_scenarios_race(tmp_path):
    # The ctest tier runs two scenarios at once on a cold cache (CI, stop 24):
    # both must get the same complete binary, built once, keyed by its inputs.
    from concurrent.futures import ProcessPoolExecutor
    from khospec_vmtest import initramfs
    src, header = tmp_path / "agent.c", tmp_path / "liveupdate.h"
    header.write_text("#define KHOSPEC_ANSWER 42\n")
    src.write_text('#include <linux/liveupdate.h>\nint main(void) { return KHOSPEC_ANSWER; }\n')
    cache = tmp_path / "cache"
    with ProcessPoolExecutor(4) as ex:
        outs = list(ex.map(initramfs.agent, [str(cache)] * 4, [str(src)] * 4, [str(header)] * 4))
    assert len(set(outs)) == 1
    import subprocess
    assert subprocess.run([outs[0]]).returncode == 42
    assert sorted(p.name for p in cache.iterdir() if p.name.startswith("khospec-agent-")) == [
        outs[0].rsplit("/", 1)[1]]
    src.write_text('#include <linux/liveupdate.h>\nint main(void) { return KHOSPEC_ANSWER + 1; }\n')
    assert initramfs.agent(str(cache), str(src), str(header)) != outs[0]  # a changed source rebuilds


# --- preflight proved on real kernels (issue 20 item 5) ---

from khospec_vmtest import preflight  # noqa: E402


def test_stages_may_differ_in_command_line_and_kernel():
    sc = scenarios.by_name("preflight-no-kho")
    assert " kho=on " in scenarios.stage_cmdline(sc, 1)
    assert "kho=on" not in scenarios.stage_cmdline(sc, 2)
    assert "reserve_mem=4M:4096:trace" in scenarios.stage_cmdline(sc, 2)
    sc = scenarios.by_name("preflight-no-reserve-name")
    assert "reserve_mem=4M:4096:trace" in scenarios.stage_cmdline(sc, 1)
    assert "reserve_mem" not in scenarios.stage_cmdline(sc, 2) and "kho=on" in scenarios.stage_cmdline(sc, 2)
    # B does not name 'trace': B is not expected to revive it.
    assert "reserve_mem: revived 'trace'" not in scenarios.expected_revivals(sc, 1)
    assert "reserve_mem: revived 'trace'" in scenarios.expected_revivals(scenarios.by_name("reserve-mem-1"), 1)
    assert scenarios.kernel_name("7.3-memfd-bump") == ("7.3", "memfd-bump")
    assert scenarios.kernel_name("7.2") == ("7.2", None)


def test_variant_kernels_are_asked_of_scripts_test_kernel(monkeypatch):
    from khospec_vmtest import cli
    asked = []
    monkeypatch.setattr(kernels, "test_kernel", lambda r, t=False, v=None: asked.append((r, t, v)) or (r, v))
    args = cli._parser().parse_args([])
    ks = cli._kernels_for(scenarios.by_name("preflight-memfd-bump"), args, "/nonexistent")
    assert ks == [("7.3", None), ("7.3", "memfd-bump")]
    assert asked == [("7.3", False, None), ("7.3", False, "memfd-bump")]


def test_scripts_test_kernel_names_its_variants_and_refuses_others():
    import subprocess
    script = kernels.REPO + "/scripts/test-kernel"
    h = subprocess.run([script, "--help"], stdout=subprocess.PIPE, text=True)
    assert h.returncode == 0 and "memfd-bump" in h.stdout and "no-memfd" in h.stdout
    assert subprocess.run([script, "--variant", "nope", "7.3"], stderr=subprocess.DEVNULL).returncode == 1
    assert subprocess.run([script, "--variant", "no-memfd", "7.2"], stderr=subprocess.DEVNULL).returncode == 1


def test_scratch_is_read_from_the_serial_log_so_far(tmp_path):
    p = tmp_path / "serial.log"
    p.write_text("@@VMTEST 1 boot 7.3.4\n@@VMTEST 1 begin out-scratch_phys\n0x7a000000\n0x1000000\n"
                 "@@VMTEST 1 end out-scratch_phys rc=0\n@@VMTEST 1 begin out-scratch_len\n0x6800000\n0x0\n"
                 "@@VMTEST 1 end out-scratch_len rc=0\n")
    assert preflight.guest_scratch(str(p), 1) == [(0x7A000000, 0x6800000)]
    assert preflight.guest_scratch(str(p), 2) == []
    assert preflight.guest_scratch(str(tmp_path / "missing"), 1) == []
    cmd = preflight.command("khospec", "c.elf", 0x1000, "bz", "kho=on", [(0x7A000000, 0x6800000)])
    assert cmd[-2:] == ["--scratch", "0x7a000000+0x6800000"] and "--cmdline" in cmd


def _prediction(**outcomes):
    items = [{"kind": "root", "name": "", "path": "/", "outcome": "revive"},
             {"kind": "map", "name": "", "path": "/preserved-memory-map", "outcome": "revive"},
             {"kind": "kexec-metadata", "name": "kexec-metadata", "path": "/kexec-metadata", "outcome": "revive"},
             {"kind": "reserve_mem", "name": "trace", "path": "/memblock/trace", "outcome": "revive"},
             {"kind": "luo", "name": "LUO", "path": "/LUO", "outcome": "revive"},
             {"kind": "luo_session", "name": "kho-dump-session", "path": "/LUO/sessions", "outcome": "revive"},
             {"kind": "luo_file", "name": "<token 0x1234abcd>", "path": "/LUO/sessions/0", "outcome": "revive"},
             {"kind": "memfd", "name": "<token 0x1234abcd>", "path": "/LUO/sessions/0/memfd", "outcome": "revive"}]
    for it in items:
        it["outcome"] = outcomes.get(it["kind"].replace("-", "_"), it["outcome"])
        it.update(why="because", decided_by="reader")
    rc = 0 if all(i["outcome"] == "revive" for i in items) else 100
    return preflight.parse_prediction(rc, json.dumps({"format_version": 1, "preflight": {
        "a": {"abi": "kho-v4"}, "b": {"release": "7.3.4", "era": "kho-v4"}, "items": items}, "diagnostics": []}))


B_REVIVED = """\
@@VMTEST 2 boot 7.3.4
@@VMTEST 2 begin setup
khospec-agent: luo-get VERIFIED session=kho-dump-session token=0x1234abcd
@@VMTEST 2 end setup rc=0
@@VMTEST 2 begin ls-kho
/sys/kernel/debug/kho/in/sub_fdts:
-r--r--r--    1 0        0              210 Jan  1 00:00 memblock
-r--r--r--    1 0        0               64 Jan  1 00:00 kexec-metadata
@@VMTEST 2 end ls-kho rc=0
@@VMTEST 2 begin dmesg
[    0.000000] KHO: found kexec handover data.
[    0.111096] Revived memory reservation 'trace' from KHO
[    0.485342] KHO: exec from: 7.3.4 (count 1)
[    0.5] luo: Retrieved live update data, liveupdate number: 1
@@VMTEST 2 end dmesg rc=0
"""

B_NO_HANDLER = B_REVIVED.replace(
    "khospec-agent: luo-get VERIFIED session=kho-dump-session token=0x1234abcd",
    "khospec-agent: FAILED: open /dev/liveupdate: Input/output error").replace(
    "liveupdate number: 1\n", "liveupdate number: 1\n[    3.1] luo: No registered handler for compatible 'memfd-v2'\n"
    "[    3.1] luo: Failed to deserialize files for session [kho-dump-session] -ENOENT\n")


def _b(log):
    return next(s for s in guestlog.parse(log) if s.n == 2)


def test_prediction_json_is_checked():
    p = _prediction()
    assert p["error"] is None and len(p["items"]) == 8 and p["b"]["era"] == "kho-v4"
    assert "does not match" in preflight.parse_prediction(100, json.dumps(
        {"preflight": {"items": [{"kind": "root", "outcome": "revive"}]}}))["error"]
    assert "unknown outcome" in preflight.parse_prediction(100, json.dumps(
        {"preflight": {"items": [{"kind": "root", "outcome": "maybe"}]}}))["error"]
    assert "no JSON" in preflight.parse_prediction(1, "", "boom")["error"]
    assert "exit 1" in preflight.parse_prediction(1, json.dumps(
        {"diagnostics": [{"message": "no such file"}]}))["error"]


def test_b_in_sub_fdts_come_from_ls_lr():
    assert _b(B_REVIVED).sections["ls-kho"][0]
    assert preflight.Evidence(_b(B_REVIVED)).in_blobs == ["memblock", "kexec-metadata"]


def test_everything_revived_as_predicted_agrees():
    rows = preflight.compare(_prediction(), preflight.Evidence(_b(B_REVIVED)), "kho-dump-session", 0x1234ABCD)
    assert [r["observed"] for r in rows] == ["revive"] * 8
    assert preflight.agrees(rows)


def test_a_client_b_has_no_handler_for_is_dropped_and_costs_its_session():
    ev = preflight.Evidence(_b(B_NO_HANDLER))
    good = _prediction(luo="refuse", luo_session="dropped", luo_file="dropped", memfd="dropped")
    rows = preflight.compare(good, ev, "kho-dump-session", 0x1234ABCD)
    by = {r["kind"]: r for r in rows}
    assert by["memfd"]["observed"] == "dropped" and "memfd-v2" in by["memfd"]["evidence"]
    assert by["luo_session"]["observed"] == "dropped" and by["luo_session"]["same_outcome"]
    assert by["reserve_mem"]["observed"] == "revive"
    # luo_open(), 7.3: LUO took A's state, but every open of /dev/liveupdate is EIO.
    assert by["luo"]["observed"] == "not-revived" and "Input/output error" in by["luo"]["evidence"]
    assert preflight.agrees(rows)
    # A prediction that the session survives its file is wrong on this kernel.
    rows = preflight.compare(_prediction(luo="refuse", luo_file="dropped", memfd="dropped"), ev, "kho-dump-session",
                             0x1234ABCD)
    assert not preflight.agrees(rows)
    assert [r["kind"] for r in rows if r["agree"] is False] == ["luo_session"]
    # "refuse" for a dropped file is still "not revived": agrees, finer outcome differs.
    rows = preflight.compare(_prediction(luo="refuse", luo_session="refuse", luo_file="refuse", memfd="refuse"), ev,
                             "kho-dump-session", 0x1234ABCD)
    assert preflight.agrees(rows) and not {r["kind"]: r for r in rows}["memfd"]["same_outcome"]


def test_a_revival_nobody_predicted_is_a_disagreement():
    p = _prediction()
    p["items"] = [i for i in p["items"] if i["kind"] != "reserve_mem"]
    rows = preflight.compare(p, preflight.Evidence(_b(B_REVIVED)), "kho-dump-session", 0x1234ABCD)
    assert rows[-1]["kind"] == "reserve_mem" and rows[-1]["name"] == "trace" and rows[-1]["agree"] is False
    assert not preflight.agrees(rows)


def test_silence_about_a_range_is_dropped_and_no_kho_refuses_luo():
    log = B_REVIVED.replace("[    0.111096] Revived memory reservation 'trace' from KHO\n", "").replace(
        "[    0.5] luo: Retrieved live update data, liveupdate number: 1",
        "[    0.5] luo: Disabling liveupdate because KHO is disabled")
    ev = preflight.Evidence(_b(log))
    item = {"kind": "reserve_mem", "name": "trace"}
    assert preflight.observe(item, ev, "s", 1)[0] == "dropped"
    assert preflight.observe({"kind": "luo"}, ev, "s", 1)[0] == "refuse"
    assert preflight.observe({"kind": "client", "name": "x"}, ev, "s", 1)[0] is None
    nob = preflight.Evidence(None)
    assert preflight.observe(item, nob, "s", 1) == ("not-revived", "B did not reach /init")


def _pf_result(agree=True, trouble=None, stage2=None):
    r = _result(**(stage2 or {}))
    r["stages"][1]["trouble"] = trouble or []
    r["preflight"] = {"agree": agree}
    return r


def test_preflight_verdict_counts_the_comparison_and_panics_not_refusals():
    sc = scenarios.by_name("preflight-memfd-bump")
    assert run.judge(_pf_result(trouble=["luo: No registered handler for compatible 'memfd-v2'"]), sc)
    assert not run.judge(_pf_result(agree=False), sc)
    assert not run.judge(_pf_result(trouble=["[1.0] Kernel panic - not syncing"]), sc)
    r = _pf_result()
    del r["preflight"]
    assert not run.judge(r, sc)
    # Without kho=on B has no KHO debugfs: its guest verdict is not counted there.
    bad_guest = {"guest_live_out": {"rc": 1, "findings": []}}
    assert run.judge(_pf_result(stage2=bad_guest), scenarios.by_name("preflight-no-kho"))
    assert not run.judge(_pf_result(stage2=bad_guest), sc)


def test_a_stop_before_the_stage_reached_init_is_recognised(tmp_path):
    # Under load the guest once stopped again at the same machine_kexec before
    # the next kernel said anything: that stop is not the next stage's.
    p = tmp_path / "serial.log"
    p.write_text(LOG.split("@@VMTEST 2 boot")[0])
    assert run.reached_init(str(p), 1) and not run.reached_init(str(p), 2)
    p.write_text(LOG)
    assert run.reached_init(str(p), 2)
    assert not run.reached_init(str(tmp_path / "missing"), 1)
