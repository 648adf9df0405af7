"""Shared fixtures: the source tree, a compiled corpus, and a small KHO chain."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

import khospec

SOURCE_DIR = pathlib.Path(os.environ.get("KHOSPEC_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


@pytest.fixture(scope="session")
def source_dir() -> pathlib.Path:
    return SOURCE_DIR


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The conformance corpus compiled to .dtb (khospec corpus build)."""
    out = tmp_path_factory.mktemp("corpus")
    r = subprocess.run([os.environ["KHOSPEC_BIN"], "corpus", "build", str(out), "--src", str(SOURCE_DIR / "conformance/corpus")],
                       capture_output=True, check=False)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture()
def handover() -> "tuple[khospec.model.Machine, khospec.model.Kernel, int]":
    """Kernel 1 of a v6.18 machine that preserved one order-9 folio and loaded kexec."""
    m = khospec.model.Machine(ram="2G")
    k1 = m.boot("v6.18", "kho=on reserve_mem=4M:4096:trace")
    folio = k1.alloc_pages(9)
    assert folio is not None
    assert k1.preserve_folio(folio, 9) == 0
    assert k1.finalize() == 0
    assert k1.kexec_load() == 0
    return m, k1, folio
