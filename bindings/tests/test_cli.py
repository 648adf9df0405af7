"""python -m khospec behaves like the khospec binary."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import khospec.__main__ as main


def run(*args: str, stdin: bytes = b"") -> "subprocess.CompletedProcess[bytes]":
    return subprocess.run([sys.executable, "-m", "khospec", *args], input=stdin, capture_output=True, check=False)


def test_help_and_version() -> None:
    r = run("--help")
    assert r.returncode == 0 and b"Commands:" in r.stdout
    assert run("--version").stdout.strip().endswith(b"0.1.0")
    assert run("frobnicate").returncode == 1


def test_same_output_as_the_binary(corpus: pathlib.Path) -> None:
    path = str(corpus / "kho-v1/bad/no-compatible-fail.dtb")
    py = run("-f", "json", "validate", path)
    native = subprocess.run([os.environ["KHOSPEC_BIN"], "-f", "json", "validate", path], capture_output=True, check=False)
    assert py.returncode == native.returncode == 100
    assert py.stdout == native.stdout


def test_stdin_and_main_function(corpus: pathlib.Path, capsysbinary) -> None:  # type: ignore[no-untyped-def]
    data = (corpus / "kho-v1/good/docs-example-root.dtb").read_bytes()
    r = run("validate", "-", stdin=data)
    assert r.returncode == 0, r.stderr
    assert main.main(["rules"]) == 0
    out = capsysbinary.readouterr().out
    assert b"fdt_bad_magic" in out
