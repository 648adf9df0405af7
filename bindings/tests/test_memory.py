"""MemoryImage and preserved(): the map decoded from a model hand-over."""

from __future__ import annotations

import pathlib

import pytest

import khospec


def test_memory_image_from_model(handover) -> None:  # type: ignore[no-untyped-def]
    m, k1, folio = handover
    mem = m.memory()
    assert mem.ok and mem.segments and mem.findings == []
    assert mem.read(folio, 8) == k1.read(folio, 8)
    assert mem.read(1 << 62, 8) is None
    blob = khospec.Blob.from_bytes(k1.out_fdt(), "k1/out/fdt")
    r = khospec.validate(blob, memory=mem)
    assert r.exit_code == 0, [str(d) for d in r]
    got = list(khospec.preserved(blob, mem))
    assert (folio, 9) in got
    assert sorted(got) == sorted(r.preserved or [])
    assert sorted(got) == sorted(k1.preserved)


def test_memory_image_files_and_bytes(tmp_path: pathlib.Path, handover) -> None:  # type: ignore[no-untyped-def]
    m, k1, _ = handover
    elf = tmp_path / "memory.elf"
    elf.write_bytes(m.memory_elf())
    a = khospec.MemoryImage.from_file(str(elf))
    b = khospec.MemoryImage.from_bytes(elf.read_bytes(), name="mem")
    assert a.segments == b.segments and b.name == "mem"
    raw = khospec.MemoryImage.from_bytes(b"\x00" * 8192, base=0x1000)
    assert raw.segments == [(0x1000, 8192)]
    with pytest.raises(OSError):
        khospec.MemoryImage.from_file(str(tmp_path / "missing.elf"))
    broken = khospec.MemoryImage.from_bytes(b"\x7fELF" + b"\x00" * 60)  # bad input: findings, not exceptions
    assert not broken.ok and broken.findings
    blob = khospec.Blob.from_bytes(k1.out_fdt())
    r = khospec.validate(blob, memory=broken)
    assert r.exit_code == 100 and any(d.rule.startswith("kho_image_") for d in r)
    assert list(khospec.preserved(blob, broken)) == []


def test_page_files_as_one_image(tmp_path: pathlib.Path) -> None:
    # A capture's page directory decodes the map as its memory.elf does.
    st = pathlib.Path(__file__).resolve().parents[2] / "../shared/dumps/kho-v1-linux-6.16/reserve-mem-4-2stage/k1"
    blob = khospec.Blob.from_file(str(st / "out_fdt.dtb"))
    pages = khospec.MemoryImage.from_pages(str(st))
    elf = khospec.MemoryImage.from_file(str(st / "memory.elf"))
    a, b = khospec.validate(blob, pages), khospec.validate(blob, elf)
    assert a.exit_code == 0 and b.exit_code == 0 and len(a) == 0
    assert a.preserved == b.preserved and a.preserved
    chunk = st / "mem_chunk_0_0x15f000.bin"
    one = khospec.MemoryImage.from_pages([(str(chunk), 0x15F000)])
    assert one.segments == [(0x15F000, chunk.stat().st_size)]
    assert one.read(0x15F000, 16) == chunk.read_bytes()[:16]
    with pytest.raises(OSError, match="different bytes"):
        khospec.MemoryImage.from_pages([(str(chunk), 0x15F000), (str(st / "out_fdt.dtb"), 0x15F000)])
    with pytest.raises(OSError, match="no page files"):
        khospec.MemoryImage.from_pages(str(tmp_path))
