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
    assert d.hint and d.hints and d.category == "kho"
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
