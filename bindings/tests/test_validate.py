"""Blob, validate, Report, Diagnostic, dump, rules, known_abis."""

from __future__ import annotations

import json
import pathlib

import pytest

import khospec


def good_root(corpus: pathlib.Path) -> pathlib.Path:
    return corpus / "kho-v1/good/docs-example-root.dtb"


def test_blob_constructors_agree(corpus: pathlib.Path) -> None:
    path = good_root(corpus)
    data = path.read_bytes()
    a = khospec.Blob.from_file(str(path))
    b = khospec.Blob.from_bytes(data, name="x.dtb")
    c = khospec.Blob.from_bytes(memoryview(bytearray(data)))
    assert a.data == b.data == c.data == data
    assert len(a) == len(data)
    assert a.name == str(path) and b.name == "x.dtb" and c.name == "<bytes>"
    assert a.sub_blobs == [] and a.scratch is None
    assert "Blob" in repr(a)


def test_validate_clean_blob(corpus: pathlib.Path) -> None:
    r = khospec.validate(str(good_root(corpus)))
    assert r.exit_code == 0
    assert len(r) == 0 and list(r) == []
    assert r.abi == "kho-v1"
    assert r.schema.endswith("kho-v1.yaml#")
    assert r.preserved is None  # no memory image
    doc = json.loads(r.to_json())
    assert doc["exit_code"] == 0 and doc["diagnostics"] == []


def test_validate_bad_blob_yields_findings_not_exceptions(corpus: pathlib.Path) -> None:
    r = khospec.validate(khospec.Blob.from_file(str(corpus / "kho-v1/bad/zero-memory-map-fail.dtb")))
    rules = [d.rule for d in r]
    assert "kho_map_empty" in rules
    d = next(d for d in r if d.rule == "kho_map_empty")
    assert d.level == "warning" and d.node == "/" and d.prop == "preserved-memory-map"
    assert isinstance(d.offset, int) and d.offset > 0
    assert d.hints and all(d.hints) and d.category == "kho"
    assert "kho_map_empty" in str(d) and "kho_map_empty" in repr(d)
    assert r[0].rule == rules[0] and r[-1].rule == rules[-1]
    with pytest.raises(IndexError):
        r[len(r)]
    for garbage in (b"", b"\xd0\x0d\xfe\xed" + b"\x00" * 36, bytes(range(256)) * 3):
        g = khospec.validate(garbage)
        assert g.exit_code == 100 and len(g) >= 1
        assert all(x.rule.startswith("fdt_") for x in g)


def test_rules_argument_controls_levels(corpus: pathlib.Path) -> None:
    blob = khospec.Blob.from_file(str(corpus / "kho-v1/bad/zero-memory-map-fail.dtb"))
    assert khospec.validate(blob).exit_code == 0  # a warning only
    assert khospec.validate(blob, rules={"kho_map_empty": "error"}).exit_code == 100
    assert [d.rule for d in khospec.validate(blob, rules={"kho_map_empty": "off"})] == []
    assert khospec.validate(blob, rules={"map:*": "off"}).count("warning") == 0
    with pytest.raises(LookupError):
        khospec.validate(blob, rules={"no_such_rule": "error"})
    with pytest.raises(ValueError):
        khospec.validate(blob, rules={"kho_map_empty": "loud"})


def test_validate_misuse_raises(corpus: pathlib.Path) -> None:
    blob = khospec.Blob.from_file(str(good_root(corpus)))
    with pytest.raises(ValueError):
        khospec.validate(blob, abi="kho-v9")
    with pytest.raises(ValueError):
        khospec.validate(blob, as_era="v5.10")
    with pytest.raises(ValueError):
        khospec.validate(blob, endian="middle")
    with pytest.raises(ValueError):
        khospec.validate(blob, kho_v1_bitmap="1024")
    with pytest.raises(OSError):
        khospec.Blob.from_file("/nonexistent/kho/fdt")
    with pytest.raises(TypeError):
        khospec.validate(42)  # type: ignore[arg-type]
    assert "kho-v4" in khospec.known_abis()


def test_validate_as_another_era(corpus: pathlib.Path) -> None:
    blob = khospec.Blob.from_file(str(corpus / "kho-v2/bad/reader-refuses-fail.dtb"))
    assert khospec.validate(blob).exit_code == 0
    r = khospec.validate(blob, as_era="v6.19")
    assert [d.rule for d in r] == ["kho_reader_refuses"]


def test_big_endian_producer(corpus: pathlib.Path) -> None:
    blob = khospec.Blob.from_file(str(corpus / "kho-v1/good/big-endian-producer.dtb"))
    assert khospec.validate(blob, endian="big").exit_code == 0


def test_dump_decodes_natively(corpus: pathlib.Path) -> None:
    d = khospec.dump(str(good_root(corpus)))
    assert d["ok"] and d["abi"] == "kho-v1"
    root = d["tree"]
    assert root["path"] == "/"
    assert root["properties"]["compatible"] == ["kho-v1"]
    assert root["properties"]["preserved-memory-map"] == 0x116BE4000
    assert root["children"]["memblock"]["properties"]["fdt"] == 0x117150000
    assert len(d["report"]) == 0
    bad = khospec.dump(b"not an fdt")
    assert bad["ok"] is False and bad["tree"] is None and bad["report"].exit_code == 100


def test_rules_registry() -> None:
    rules = khospec.rules()
    ids = {r["id"] for r in rules}
    assert {"fdt_bad_magic", "kho_map_empty", "compat_break_without_version_bump"} <= ids
    assert all(r["level"] in ("error", "warning", "info") for r in rules)


def test_from_live_fake_tree(tmp_path: pathlib.Path, corpus: pathlib.Path) -> None:
    kho = tmp_path / "sys/kernel/debug/kho/out"
    (kho / "sub_fdts").mkdir(parents=True)
    (kho / "fdt").write_bytes(good_root(corpus).read_bytes())
    (kho / "sub_fdts/memblock").write_bytes((corpus / "memblock-v1/good/docs-example-memblock.dtb").read_bytes())
    (kho / "scratch_phys").write_text("0x76400000\n")
    (kho / "scratch_len").write_text("0x6c00000\n")
    blob = khospec.Blob.from_live("out", root=str(tmp_path))
    assert blob.data == good_root(corpus).read_bytes()
    assert [b.data for b in blob.sub_blobs] == [(corpus / "memblock-v1/good/docs-example-memblock.dtb").read_bytes()]
    assert blob.scratch == [(0x76400000, 0x6C00000)]
    assert khospec.validate(blob).exit_code == 0
    with pytest.raises(ValueError):
        khospec.Blob.from_live("sideways", root=str(tmp_path))
    with pytest.raises(OSError):
        khospec.Blob.from_live("out", root=str(tmp_path / "empty"))


def _fake_kcore(elf: bytes, kho_out_target: int) -> bytes:
    """A /proc/kcore in miniature from a model memory ELF: its RAM segments at
    direct-map addresses, plus a kernel image whose kho_out points at the root."""
    import struct

    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phnum, = struct.unpack_from("<H", elf, 0x38)
    segs = []
    for i in range(phnum):
        p_type, _, off, _, paddr, filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * 56)
        if p_type == 1 and filesz:
            segs.append((0xFFFF888000000000 + paddr, paddr, elf[off:off + filesz]))
    text = bytearray(0x2000)
    struct.pack_into("<Q", text, 0x800, 0xFFFF888000000000 + kho_out_target)
    segs.append((0xFFFFFFFF81000000, 0x100000000, bytes(text)))  # outside the 2G of RAM
    head = bytearray(64 + 56 * len(segs))
    head[0:16] = b"\x7fELF\x02\x01\x01" + bytes(9)
    struct.pack_into("<HHIQQQIHHHHHH", head, 16, 4, 62, 1, 0, 64, 0, 0, 64, 56, len(segs), 0, 0, 0)
    out = bytearray()
    off = len(head)
    for i, (vaddr, paddr, data) in enumerate(segs):
        struct.pack_into("<IIQQQQQQ", head, 64 + i * 56, 1, 4, off, vaddr, paddr, len(data), len(data), 0)
        out += data
        off += len(data)
    return bytes(head) + bytes(out)


def test_from_live_reads_a_truncated_7x_root_through_kcore(tmp_path: pathlib.Path) -> None:
    # 7.3: debugfs out/fdt keeps the root's size at kho_init(); the root and the
    # map are read from /proc/kcore (kho_out from /proc/kallsyms) instead.
    m = khospec.model.Machine(ram="2G")
    k1 = m.boot("kho-v4", "kho=on reserve_mem=4M:4096:trace")
    assert k1.kexec_load() == 0
    root = k1.out_fdt()
    elf = m.memory_elf()
    image = m.memory()
    at = next(p for p, _ in k1.preserved if image.read(p, len(root)) == root)
    kho = tmp_path / "sys/kernel/debug/kho/out"
    kho.mkdir(parents=True)
    (kho / "fdt").write_bytes(root[:0x40])
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/kcore").write_bytes(_fake_kcore(elf, at))
    (tmp_path / "proc/kallsyms").write_text("ffffffff81000000 T _text\nffffffff81000800 b kho_out\n")
    blob = khospec.Blob.from_live("out", root=str(tmp_path))
    assert blob.data == root
    assert blob.fdt_phys == at
    assert blob.memory is not None
    report = khospec.validate(blob)
    assert report.exit_code == 0, [str(d) for d in report.diagnostics]
    assert sorted(report.preserved) == sorted(k1.preserved)


def test_paths_options_and_exceptions_like_the_cli(source_dir: pathlib.Path) -> None:
    d = source_dir / "../shared/dumps/kho-v4-linux-7.3/reserve-mem-1-2stage/k1"
    root, mem = str(d / "mem_out_fdt_0x1f5000.bin"), str(d / "memory.elf")
    # Paths for blob and memory alike; --fdt-phys and --scratch as arguments.
    r = khospec.validate(root, mem, fdt_phys=0x1F5000, scratch=[(0x75800000, 0x7400000)])
    assert r.abi == "kho-v4" and len(r.preserved) == 5
    assert len(list(khospec.preserved(root, mem))) == 5
    with pytest.raises(ValueError, match="give memory="):
        khospec.preserved(root, None)
    with pytest.raises(ValueError, match="give memory="):
        khospec.validate(root, fdt_phys=0x1F5000)
    with pytest.raises(OSError, match="is a directory"):
        khospec.Blob.from_file(str(d))
    with pytest.raises(OSError, match="is a directory"):
        khospec.MemoryImage.from_file(str(d))
    with pytest.raises(OSError):
        khospec.validate(root, "/nonexistent/memory.elf")
    with pytest.raises(TypeError, match="memory: expected"):
        khospec.validate(root, 42)  # type: ignore[arg-type]
