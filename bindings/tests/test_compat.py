"""compat, compat_matrix, abi_dump."""

from __future__ import annotations

import json
import pathlib

import khospec


def test_compat_schema_files(source_dir: pathlib.Path) -> None:
    r = khospec.compat(str(source_dir / "schemas/kho/kho-v1.yaml"), str(source_dir / "schemas/kho/kho-v2.yaml"))
    assert r.exit_code == 100
    wire = {d.rule for d in r if d.category == "wire"}
    assert {"compat_required_added", "compat_pointer_target_changed"} <= wire
    assert "compat_break_without_version_bump" not in wire
    assert any(d.rule == "compat_version_bumped" for d in r)
    fwd = khospec.compat(str(source_dir / "schemas/kho/kho-v1.yaml"), str(source_dir / "schemas/kho/kho-v2.yaml"),
                         direction="forward")
    # `fdt` removed breaks only old readers: a warning when checking forward.
    assert any(d.rule == "compat_property_removed" and d.level == "warning" for d in fwd)
    assert any(d.rule == "compat_property_removed" and d.level == "error" for d in r)


def test_compat_abi_dumps_and_allow_list(tmp_path: pathlib.Path, source_dir: pathlib.Path) -> None:
    for era in ("v6.16", "v6.18"):
        (tmp_path / f"{era}.json").write_text(json.dumps(khospec.abi_dump(era)))
    old, new = str(tmp_path / "v6.16.json"), str(tmp_path / "v6.18.json")
    r = khospec.compat(old, new)
    assert "compat_break_without_version_bump" in {d.rule for d in r}
    ok = khospec.compat(old, new, allow=str(source_dir / "conformance/compat/compat-allow.yaml"))
    assert ok.exit_code == 0 and len(ok.allowed) == 5
    diag, reason = ok.allowed[0]
    assert diag.rule.startswith("compat_") and reason


def test_compat_bad_inputs(tmp_path: pathlib.Path) -> None:
    import pytest

    (tmp_path / "x.yaml").write_text("hello: world\n")
    r = khospec.compat(str(tmp_path / "x.yaml"), str(tmp_path / "missing.yaml"))
    assert r.exit_code == 1 and {d.rule for d in r} == {"compat_input_invalid"}

    with pytest.raises(ValueError):
        khospec.compat(str(tmp_path / "x.yaml"), str(tmp_path / "x.yaml"), direction="sideways")
    (tmp_path / "allow.yaml").write_text("allow:\n  - rule: compat_required_added\n")
    with pytest.raises(ValueError, match="has no reason"):
        khospec.compat(str(tmp_path / "x.yaml"), str(tmp_path / "x.yaml"), allow=str(tmp_path / "allow.yaml"))


def test_abi_dump() -> None:
    d = khospec.abi_dump("v6.16")
    assert d["abi_dump_version"] == 1 and d["era"] == "v6.16"
    assert d["formats"][0]["compatible"] == "kho-v1"
    sizes = {l["name"]: l["size"] for l in d["layouts"]}
    assert sizes["kho_mem_phys_bits_512"] == 512
    assert {l["name"]: l["size"] for l in khospec.abi_dump("v6.18")["layouts"]}["kho_mem_phys_bits_page"] == 4096


def test_compat_matrix() -> None:
    m = khospec.compat_matrix()
    assert m["all_agree"] is True
    assert m["eras"] == khospec.model.eras()
    cells = {(c["writer"], c["reader"]): c for c in m["cells"]}
    assert len(cells) == 36
    assert cells[("v6.16", "v6.18")]["outcome"] == "misread"
    assert cells[("v6.18", "v6.19")]["outcome"] == "revive"
    assert cells[("kho-v2", "kho-v3")]["outcome"] == "refuse"
    assert all(c["schema"]["outcome"] == c["model"]["outcome"] for c in m["cells"])
    clients = {(c["client"], c["writer"], c["reader"]): c for c in m["clients"]}
    assert len(clients) == 36 * 5
    assert clients[("luo", "kho-v4", "kho-v4")]["outcome"] == "revive"
    assert clients[("luo", "v6.19", "v6.18")]["outcome"] == "ignored"
    assert clients[("kho_test", "v6.18", "v6.19")]["outcome"] == "refuse"
    assert all(c["abi"]["outcome"] == c["model"]["outcome"] for c in m["clients"])


def _dumps(source_dir: pathlib.Path) -> pathlib.Path:
    import os

    import pytest

    d = pathlib.Path(os.environ.get("KHOSPEC_DUMPS_DIR", source_dir.parent / "shared/dumps"))
    if not (d / "kho-v4-linux-7.3").is_dir():
        if "KHOSPEC_DUMPS_DIR" in os.environ:
            raise AssertionError(f"KHOSPEC_DUMPS_DIR={d} holds no captures")
        pytest.skip(f"no real captures at {d} (set KHOSPEC_DUMPS_DIR)")
    return d


def test_compat_real_handovers(source_dir: pathlib.Path) -> None:
    d = _dumps(source_dir)
    a = d / "kho-v1-linux-6.16/reserve-mem-1-2stage/k1"
    b = d / "kho-v4-linux-7.3/luo-memfd-2stage/k1"
    r = khospec.compat(str(a / "out_fdt.dtb"), str(b / "out_fdt.dtb"),
                       old_memory=str(a / "memory.elf"), new_memory=str(b / "memory.elf"))
    assert r.exit_code == 100
    rules = {d.rule for d in r}
    assert "compat_version_bumped" in rules and "compat_break_without_version_bump" not in rules
    # LUO and kexec-metadata are new clients of the 7.3 hand-over.
    added = {d.node for d in r if d.rule == "compat_node_added"}
    assert {"/LUO", "/kexec-metadata"} <= added
    same = khospec.compat(str(b / "out_fdt.dtb"), str(b / "out_fdt.dtb"),
                          old_memory=str(b / "memory.elf"), new_memory=str(b / "memory.elf"))
    assert same.exit_code == 0 and len(list(same)) == 0


def test_compat_real_wrong_inputs(source_dir: pathlib.Path) -> None:
    d = _dumps(source_dir)
    k1 = d / "kho-v4-linux-7.3/luo-memfd-2stage/k1"
    for given, memory, says in [
        (k1 / "memory.elf", None, "ELF core"),
        (k1 / "out_sub_fdt_memblock.dtb", None, "sub-FDT"),
        (k1 / "out_sub_blob_LUO.bin", None, "client blob"),
        (k1 / "out_fdt.dtb", k1 / "out_fdt.dtb", "not a memory image"),
        (source_dir / "schemas", None, "like with like"),
    ]:
        r = khospec.compat(str(given), str(k1 / "out_fdt.dtb"), new_memory=str(memory) if memory else None)
        assert r.exit_code == 1, given
        msgs = [x.message for x in r if x.rule == "compat_input_invalid"]
        assert msgs and any(says in m for m in msgs), (given, msgs)
