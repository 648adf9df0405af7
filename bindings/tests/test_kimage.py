"""khospec.kernel_image and `khospec -f json kimage` on images built here with
Python's own gzip/lzma (an implementation independent of the C++ side)."""

from __future__ import annotations

import gzip
import json
import lzma
import os
import pathlib
import struct
import subprocess

import pytest

import khospec

CONFIG = ("# Linux/x86 7.2.13 Kernel Configuration\nCONFIG_KEXEC_HANDOVER=y\n"
          "# CONFIG_KEXEC_HANDOVER_ENABLE_DEFAULT is not set\nCONFIG_LIVEUPDATE=y\nCONFIG_LIVEUPDATE_MEMFD=y\n")


def kernel(ikconfig: bool = True) -> bytes:
    body = b"\x90" * 4096 + b"Linux version 7.2.13 (py@khospec) (gcc) #1 SMP\n\x00"
    if ikconfig:
        body += b"IKCFG_ST" + gzip.compress(CONFIG.encode()) + b"IKCFG_ED"
    return body + b"\xcc" * 4096


def bzimage(payload: bytes, version: bytes = b"7.2.13 (py@khospec) #1 SMP") -> bytes:
    """The x86 boot protocol's setup header (2.15): one setup sector, payload 0x10 in."""
    b = bytearray(1024 + 0x10)
    b[0x1F1] = 1
    b[0x1FE:0x200] = b"\x55\xaa"
    b[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", b, 0x206, 0x020F)
    struct.pack_into("<H", b, 0x20E, 0x100)
    b[0x300:0x300 + len(version) + 1] = version + b"\x00"
    struct.pack_into("<II", b, 0x248, 0x10, len(payload))
    return bytes(b) + payload


def xz_payload(k: bytes) -> bytes:
    return lzma.compress(k, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32) + struct.pack("<I", len(k))


def test_bzimage_release_and_config(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "bzImage"
    f.write_bytes(bzimage(xz_payload(kernel())))
    r = khospec.kernel_image(str(f))
    assert r["ok"], r["error"]
    img = r["image"]
    assert (img["format"], img["compression"], img["release"], img["major"], img["minor"]) == \
        ("bzImage", "xz", "7.2.13", 7, 2)
    assert img["config"]["CONFIG_KEXEC_HANDOVER"] == "y"
    assert img["config"]["CONFIG_KEXEC_HANDOVER_ENABLE_DEFAULT"] == "n"
    assert img["config_text"] == CONFIG
    assert img["liveupdate_sections"] == [] and img["sections_known"] is False


def test_missing_ikconfig_names_the_option(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "bzImage"
    f.write_bytes(bzimage(xz_payload(kernel(ikconfig=False))))
    img = khospec.kernel_image(str(f))["image"]
    assert img["config"] is None
    assert "CONFIG_IKCONFIG=y" in img["config_missing"]


@pytest.mark.parametrize("cut,kind", [(50, "truncated"), (None, "not_kernel_image")])
def test_bad_images_are_errors_not_exceptions(tmp_path: pathlib.Path, cut: int, kind: str) -> None:
    f = tmp_path / "bad"
    f.write_bytes(bzimage(xz_payload(kernel()))[:-cut] if cut else b"#!/bin/sh\necho not a kernel\n" * 10)
    r = khospec.kernel_image(str(f))
    assert not r["ok"] and r["image"] is None
    assert r["error"]["kind"] == kind, r["error"]


def test_unreadable_file_raises_oserror(tmp_path: pathlib.Path) -> None:
    with pytest.raises(OSError):
        khospec.kernel_image(str(tmp_path / "absent"))


def test_cli_json_is_one_document_on_every_path(tmp_path: pathlib.Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_bytes(gzip.compress(b"\x00" * 0x38 + b"ARM\x64" + b"\x00" * 4 + kernel()))
    bad.write_bytes(bzimage(b"\xab" * 64))
    for path, rc, ok in [(good, 0, True), (bad, 1, False)]:
        p = subprocess.run([os.environ["KHOSPEC_BIN"], "-f", "json", "kimage", str(path)],
                           capture_output=True, text=True)
        assert p.returncode == rc, p.stderr
        doc = json.loads(p.stdout)
        assert doc["command"] == "kimage" and doc["ok"] is ok
    assert doc["error"]["kind"] == "unknown_compression"
    p = subprocess.run([os.environ["KHOSPEC_BIN"], "-f", "json", "kimage", str(good)], capture_output=True, text=True)
    img = json.loads(p.stdout)["image"]
    assert (img["format"], img["arch"], img["release"]) == ("arm64 Image.gz", "arm64", "7.2.13")
    assert img["config"]["options"]["CONFIG_LIVEUPDATE_MEMFD"] == "y"
