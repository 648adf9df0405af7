"""handover(): the followed hand-over, the same objects `dump -f json --memory` prints."""

from __future__ import annotations

import pathlib
from typing import Any, Dict, List

import pytest

import khospec


def nodes(n: Dict[str, Any], kind: str) -> List[Dict[str, Any]]:
    out = [n] if n["kind"] == kind else []
    for c in n["children"]:
        out += nodes(c, kind)
    return out


def field(n: Dict[str, Any], name: str) -> Any:
    return next(f for f in n["fields"] if f["name"] == name)


def luo_memfd(corpus: pathlib.Path) -> "tuple[str, khospec.MemoryImage]":
    stem = corpus / "handover/good/luo-memfd"
    return str(stem.with_suffix(".dtb")), khospec.MemoryImage.from_file(str(stem.with_suffix(".mem")))


def test_sessions_files_memfd_and_folios(corpus: pathlib.Path) -> None:
    blob, mem = luo_memfd(corpus)
    h = khospec.handover(blob, mem)
    assert h is not None and h["kind"] == "handover" and h["format"] == "kho-v4"
    [session] = nodes(h, "session")
    assert session["name"] == "kho-dump-session"
    [f] = nodes(session, "file")
    assert field(f, "token")["number"] == 0x1234ABCD
    [memfd] = nodes(f, "memfd")
    assert field(memfd, "size")["value"] == "0x5000" and field(memfd, "pos")["number"] == 1234
    folios = nodes(memfd, "folio")
    assert [field(x, "index")["number"] for x in folios] == [0, 1, 2, 3, 4]
    assert all(x["preserved"] is True and x["order"] == 0 for x in folios)
    assert folios[3]["path"] == '/LUO -> session "kho-dump-session" -> file token 0x1234abcd -> memfd folio 3'
    assert khospec.validate(blob, mem).exit_code == 0


def test_summary_and_depth_keep_it_readable(corpus: pathlib.Path) -> None:
    blob, mem = luo_memfd(corpus)
    s = khospec.handover(blob, mem, summary=True)
    assert s is not None
    assert nodes(s, "folio") == [] and nodes(s, "block") == []
    [memfd] = nodes(s, "memfd")
    assert memfd["not_shown"] == {"folio": 5}
    assert [x["name"] for x in nodes(s, "session")] == ["kho-dump-session"]
    top = khospec.handover(blob, mem, depth=1)
    assert top is not None
    assert {c["kind"] for c in top["children"]} == {"map", "client"}
    assert all(c["children"] == [] for c in top["children"])
    with pytest.raises(ValueError):
        khospec.handover(blob, mem, depth=-1)


def test_a_root_without_memory_has_nothing_to_follow(corpus: pathlib.Path) -> None:
    blob, _ = luo_memfd(corpus)
    assert khospec.handover(blob) is None


def test_a_client_blob_on_its_own() -> None:
    meta = b"\x01\x00\x00\x00" + b"7.3.4".ljust(65, b"\x00") + b"\x02\x00\x00\x00"
    h = khospec.handover(khospec.Blob.from_bytes(meta, name="sub_fdts/kexec-metadata"))
    assert h is not None
    [c] = nodes(h, "client")
    assert field(c, "previous_release")["value"] == "7.3.4" and field(c, "kexec_count")["number"] == 2


def test_rules_say_why_they_have_their_level() -> None:
    assert all(r["reason"] for r in khospec.rules())
