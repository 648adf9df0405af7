"""khospec.preflight() and `khospec preflight` on the real 7.3 capture: the same
prediction both ways, JSON on every path, errors as exceptions."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest

import khospec

STAGE = "../shared/dumps/kho-v4-linux-7.3/reserve-mem-1-2stage/k1"


@pytest.fixture(scope="module")
def stage(source_dir: pathlib.Path) -> pathlib.Path:
    d = source_dir / STAGE
    assert (d / "memory.elf").exists(), d
    return d


def scratch_of(d: pathlib.Path) -> "list[tuple[int, int]]":
    phys = [int(x, 16) for x in (d / "out_scratch_phys.txt").read_text().split()]
    lens = [int(x, 16) for x in (d / "out_scratch_len.txt").read_text().split()]
    return list(zip(phys, lens))


def root_of(d: pathlib.Path, mem: khospec.MemoryImage) -> bytes:
    return (d / "mem_out_fdt_0x1f5000.bin").read_bytes()


def test_api_predicts_each_item(stage: pathlib.Path) -> None:
    mem = khospec.MemoryImage.from_file(str(stage / "memory.elf"))
    p = khospec.preflight(root_of(stage, mem), mem, release="7.3", cmdline="kho=on reserve_mem=4M:4096:trace",
                          scratch=scratch_of(stage), fdt_phys=0x1F5000)
    kinds = {i["kind"]: i["outcome"] for i in p["items"]}
    assert kinds == {"root": "revive", "map": "revive", "reserve_mem": "revive", "kexec-metadata": "revive"}
    assert p["all_revive"] is True
    # Without the name on B's command line the region alone is dropped, and B's line says so.
    q = khospec.preflight(root_of(stage, mem), mem, release="7.3", cmdline="kho=on", scratch=scratch_of(stage),
                          fdt_phys=0x1F5000)
    rm = [i for i in q["items"] if i["kind"] == "reserve_mem"][0]
    assert rm["outcome"] == "dropped" and rm["decided_by"] == "B's command line"
    # A kho-v3 reader refuses the kho-v4 root: nothing of A's is protected.
    r = khospec.preflight(root_of(stage, mem), mem, era="kho-v3", fdt_phys=0x1F5000)
    assert {i["outcome"] for i in r["items"]} == {"refuse"}
    assert "incompatible" in r["items"][0]["why"]


def test_api_errors(stage: pathlib.Path) -> None:
    mem = khospec.MemoryImage.from_file(str(stage / "memory.elf"))
    root = root_of(stage, mem)
    with pytest.raises(ValueError, match="exactly one"):
        khospec.preflight(root, mem)
    with pytest.raises(ValueError, match="exactly one"):
        khospec.preflight(root, mem, release="7.3", era="kho-v4")
    with pytest.raises(ValueError, match="not an era"):
        khospec.preflight(root, mem, release="9.9")
    with pytest.raises(ValueError, match="in memory"):
        khospec.preflight(root, release="7.3")
    with pytest.raises(OSError):
        khospec.preflight(root, mem, kernel="/nonexistent/bzImage")
    with pytest.raises(ValueError, match="no section headers"):  # an ELF core is no vmlinux
        khospec.preflight(root, mem, kernel=str(stage / "memory.elf"))
    with pytest.raises(ValueError, match="not a kernel image"):
        khospec.preflight(root, mem, kernel=str(stage / "dmesg.txt"))


def test_api_refuses_a_ram_no_machine_has(stage: pathlib.Path) -> None:
    """ram=1 once laid out a machine whose low RAM range underflowed to ~2^64 bytes."""
    mem = khospec.MemoryImage.from_file(str(stage / "memory.elf"))
    for ram, why in ((1, "at least 64M"), (1 << 52, "less than 4P")):
        with pytest.raises(ValueError, match=f"ram: {why}"):
            khospec.preflight(root_of(stage, mem), mem, release="7.3", fdt_phys=0x1F5000, ram=ram)


def cli(*args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([os.environ["KHOSPEC_BIN"], *args], capture_output=True, text=True, check=False)


def test_cli_agrees_with_the_api_and_is_json_on_every_path(stage: pathlib.Path) -> None:
    mem = khospec.MemoryImage.from_file(str(stage / "memory.elf"))
    api = khospec.preflight(root_of(stage, mem), mem, release="7.3", cmdline="kho=on", scratch=scratch_of(stage),
                            fdt_phys=0x1F5000)
    r = cli("-f", "json", "preflight", "--memory", str(stage / "memory.elf"), "--fdt-phys", "0x1f5000",
            "--scratch", str(stage), "--release", "7.3", "--cmdline", "kho=on")
    assert r.returncode == 100, r.stderr  # the reserve_mem region is dropped
    doc = json.loads(r.stdout)
    assert doc["ok"] is True
    assert [(i["kind"], i["outcome"]) for i in doc["preflight"]["items"]] == [(i["kind"], i["outcome"]) for i in api["items"]]
    for bad in (["--release", "7.3"],                                      # no memory
                ["--memory", str(stage / "memory.elf"), "--fdt-phys", "0x1f5000"],  # no B
                ["--memory", "/nonexistent", "--release", "7.3"],
                ["--memory", str(stage / "memory.elf"), "--fdt-phys", "0x1f5000", "--kernel", str(stage / "dmesg.txt")],
                ["--memory", str(stage / "memory.elf"), "--fdt-phys", "0x1f5000", "--era", "kho-v9"],
                # A RAM machine_with_ram() cannot lay out (machine_ram_problem()).
                ["--memory", str(stage / "memory.elf"), "--fdt-phys", "0x1f5000", "--release", "7.3", "--ram", "1M"],
                ["--memory", str(stage / "memory.elf"), "--fdt-phys", "0x1f5000", "--release", "7.3", "--ram", "8P"]):
        r = cli("-f", "json", "preflight", *bad)
        assert r.returncode == 1, (bad, r.stdout, r.stderr)
        doc = json.loads(r.stdout)
        assert doc["ok"] is False and doc["error"]["message"], bad
        assert r.stderr.startswith("khospec: error: "), bad
