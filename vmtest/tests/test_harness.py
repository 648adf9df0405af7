"""The vmtest harness's own logic, without a VM: the serial-log parser, the
revival expectations, the bzImage version reader, the fault arithmetic and
the verdict. (The harness on real kernels is the ctest label `vmtest`.)"""

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
