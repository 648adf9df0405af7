"""khospec.model: Memblock, Machine/Kernel step by step, simulate."""

from __future__ import annotations

import pytest

import khospec
from khospec.model import Machine, Memblock, Region

pytestmark = pytest.mark.model


def test_memblock_add_reserve_merge_and_regions() -> None:
    mb = Memblock()
    assert mb.add(0x100000, 0x1000000) == 0
    assert mb.add(0x1100000, 0x100000) == 0  # adjacent: merges (memblock_merge_regions)
    # memblock_add() uses MAX_NUMNODES (64) as the node id; memblock_reserve() NUMA_NO_NODE (6.16).
    assert list(mb.regions("memory")) == [Region(0x100000, 0x1100000, "NONE", 64)]
    assert mb.reserve(0x200000, 0x1000) == 0
    r = next(mb.regions("reserved"))
    assert (r.base, r.end) == (0x200000, 0x201000)
    assert mb.phys_mem_size == 0x1100000 and mb.reserved_size == 0x1000
    assert mb.mark_nomap(0x400000, 0x100000) == 0
    assert [x.flags for x in mb.regions("memory")] == ["NONE", "NOMAP", "NONE"]
    assert mb.clear_nomap(0x400000, 0x100000) == 0
    assert mb.remove(0x800000, 0x100000) == 0
    assert len(list(mb.regions())) == 2
    assert mb.free(0x200000, 0x1000) == 0
    assert list(mb.regions("reserved")) == []
    assert mb.check_invariants() == []
    assert mb.failed is False
    with pytest.raises(ValueError):
        list(mb.regions("swap"))
    with pytest.raises(ValueError):
        Memblock(era="v2.6")


def test_memblock_alloc_and_scratch_only() -> None:
    mb = Memblock("v6.16")
    mb.add(0x100000, 0x10000000)
    mb.mark_kho_scratch(0x8000000, 0x1000000)
    mb.set_kho_scratch_only(True)
    a = mb.phys_alloc(0x1000, 0x1000)
    assert 0x8000000 <= a < 0x9000000  # scratch-only mode allocates from scratch only
    mb.set_kho_scratch_only(False)
    mb.set_bottom_up(True)
    b = mb.alloc(0x1000, 0x1000)
    assert b < 0x8000000
    assert mb.phys_alloc_range(0x1000, 0x1000, 0x2000000, 0x3000000) in range(0x2000000, 0x3000000)
    assert mb.alloc_node(0x1000, 0x1000, 0) != 0
    mb.set_current_limit(0x200000)
    assert mb.phys_alloc(0x1000000, 0x1000) == 0  # nothing fits below the limit
    mb.allow_resize()
    mb.mark_hotplug(0x100000, 0x1000)
    mb.clear_hotplug(0x100000, 0x1000)
    mb.mark_mirror(0x100000, 0x1000)
    mb.clear_kho_scratch(0x8000000, 0x1000000)
    mb.reserved_mark_noinit(a, 0x1000)
    assert any("RSRV_NOINIT" in r.flags.split("|") for r in mb.regions("reserved"))
    assert mb.check_invariants() == []
    assert isinstance(mb.events, list)


def test_machine_chain_step_by_step(handover) -> None:  # type: ignore[no-untyped-def]
    m, k1, folio = handover
    assert (k1.era, k1.index, k1.kho_boot) == ("v6.18", 1, False)
    assert k1.scratch and all(size % (2 << 20) == 0 for _, size in k1.scratch)
    assert (folio, 9) in k1.preserved
    k1.write(folio, b"payload")
    assert set(k1.out_blobs()) >= {"fdt"}
    k2 = m.kexec("v6.18", "kho=on reserve_mem=4M:4096:trace")
    assert k2 is not None and k2.kho_boot and k2.index == 2
    assert (folio, 9) in k2.incoming and sorted(k2.incoming) == sorted(k1.outgoing)
    assert k2.restore_folio(folio) == 9
    assert k2.read(folio, 7) == b"payload"
    assert k2.retrieve_subtree("memblock") is not None
    assert k2.retrieve_subtree("nope") is None
    assert [f for f in k2.findings if f[1] == "error"] == []
    assert k2.check_invariants() == []
    assert m.check_handover() == []  # the cross-kernel checks (Machine sees both sides)
    assert any("KHO" in line for line in k2.dmesg)
    assert k2.memblock_regions("reserved") and k2.phase
    assert [k.index for k in m.kernels] == [1, 2]
    assert m.ram and m.ram[0][0] < 0x100000  # QEMU-like low memory first


def test_kernel_misuse() -> None:
    m = Machine(ram=1 << 30)
    with pytest.raises(khospec.Error):
        m.kexec("v6.16")  # nothing booted
    k = m.boot("v6.16")
    with pytest.raises(khospec.Error):
        k.preserve_pages(0x100000, 1)  # 6.16 has kho_preserve_phys, not _pages
    with pytest.raises(khospec.Error):
        k.unpreserve_folio(0x100000, 0)
    assert k.preserve_phys(k.alloc_pages(0), 4096) == 0
    assert k.finalize() == 0 and k.abort() == 0
    m.boot("v6.18")
    with pytest.raises(khospec.Error):
        k.era  # the machine was cold-booted again
    with pytest.raises(ValueError):
        m.boot("v9.9")
    with pytest.raises(ValueError):
        Machine(ram="lots")
    with pytest.raises(ValueError):
        Machine(arch="sparc")
    assert Machine(nodes=2, arch="arm64").ram


def test_eras_and_releases_from_the_registry() -> None:
    eras = khospec.model.eras()
    assert eras[0] == "v6.16" and "kho-v4" in eras
    rels = {r["version"]: r for r in khospec.model.releases()}
    assert rels["6.17"]["era"] == "v6.16" and "kho-test-v1" in rels["6.17"]["clients"]
    assert rels["7.4-rc1"]["debugfs_scratch"] == ("bootmem_phys", "bootmem_len")
    assert khospec.model.resolve_era("7.3") == ("kho-v4", "7.3", "kho-v4 (release 7.3)")
    assert khospec.model.resolve_era("kho-v2")[1] is None
    with pytest.raises(ValueError):
        khospec.model.resolve_era("stateless")
    m = Machine()
    k = m.boot("7.1")  # a release boots the era it writes
    assert k.era == "kho-v3"
    with pytest.raises(khospec.Error):
        m.check_handover()  # nothing kexec'd yet


def test_stateless_finalize_is_a_no_op_and_free_pages() -> None:
    m = Machine()
    k = m.boot("kho-v4")
    p = k.alloc_pages(0)
    assert p is not None
    k.free_pages(p, 0)
    assert k.finalize() == 0
    assert k.kexec_load() == 0
    k2 = m.kexec("kho-v4")
    assert k2 is not None and k2.kho_boot


def test_simulate_builtin_and_yaml() -> None:
    assert "chain" in khospec.model.scenarios()
    assert khospec.model.eras() == ["v6.16", "v6.18", "v6.19", "kho-v2", "kho-v3", "kho-v4"]
    runs = khospec.model.simulate("chain", era="kho-v3")
    assert len(runs) == 1 and runs[0]["ok"] and runs[0]["era"] == "kho-v3"
    assert [k["index"] for k in runs[0]["kernels"]] == [1, 2, 3]
    assert "kexec" in runs[0]["text"]
    hazard = khospec.model.simulate("abort-dangling-map")
    assert [r["era"] for r in hazard] == ["v6.16"] and hazard[0]["ok"]
    text = "machine: {ram: 1G}\nkernel: {era: v6.19, cmdline: kho=on}\nsteps:\n  - boot\n  - kexec_load\n  - kexec\n"
    (run,) = khospec.model.simulate(text)
    assert run["ok"] and len(run["kernels"]) == 2
    with pytest.raises(ValueError):
        khospec.model.simulate("kernel: {era: v9}\nsteps: [boot]\n")
    with pytest.raises(OSError):
        khospec.model.simulate("/nonexistent/scenario.yaml")


def test_simulate_at_package_level_mirrors_the_cli(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    assert khospec.simulate is khospec.model.simulate
    with pytest.raises(ValueError, match="neither a built-in scenario .*chain"):
        khospec.simulate("nope")
    with pytest.raises(OSError):
        khospec.simulate("no/such/file.yaml")
    runs = khospec.simulate("chain", era="kho-v4", out=str(tmp_path))
    assert len(runs) == 1 and runs[0]["ok"]
    k1 = tmp_path / "kho-v4" / "k1"
    assert (k1 / "out_fdt.dtb").exists() and (k1 / "memory.elf").exists()
    # The stage validates against its own memory, as the CLI's round trip does.
    report = khospec.validate(str(k1 / "out_fdt.dtb"), memory=str(k1 / "memory.elf"), scratch=str(k1))
    assert report.exit_code == 0, [str(d) for d in report]


def test_fuzz_findings_raise_the_documented_errors() -> None:
    """The Python fuzz run's findings (docs/fuzz.md): ValueError / TypeError, not MemoryError / RuntimeError."""
    m = Machine("512M")
    k = m.boot("7.3")
    with pytest.raises(ValueError, match="past the machine's RAM"):
        k.read(9, 2**63 - 1)
    assert len(k.read(0x100000, 16)) == 16
    with pytest.raises(TypeError, match="ram: expected a size"):
        Machine(ram=1.5)  # type: ignore[arg-type]
    # An order past 51 shifted the page size past 64 bits (UBSan, under the ASan preset).
    for call in (lambda: k.preserve_folio(0x100000, 4096), lambda: k.unpreserve_folio(0x100000, 52),
                 lambda: k.alloc_pages(64), lambda: k.free_pages(0x100000, 4096)):
        with pytest.raises(ValueError, match=r"is not a page order \(0..51\)"):
            call()
    assert k.preserve_folio(0x100000, 51) != 0  # in range: the model answers (not a folio here)
    # The long Python fuzz run: Machine(ram=1, nodes=2) divided by zero (SIGFPE) in
    # machine_with_ram(); a RAM a scenario refuses is a ValueError here too.
    for ram, why in ((1, "at least 64M"), ("63M", "at least 64M"), (2**52, "less than 4P")):
        with pytest.raises(ValueError, match=f"ram: {why}"):
            Machine(ram=ram, nodes=2)
    assert Machine(ram="64M", nodes=2).boot("7.3").era
    with pytest.raises(ValueError, match="no UTF-8"):  # the 150000-call run: RuntimeError from pybind11
        Machine("\udcff")
