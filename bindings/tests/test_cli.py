"""python -m khospec behaves like the khospec binary."""

from __future__ import annotations

import json
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


def native(*args: str) -> "subprocess.CompletedProcess[bytes]":
    return subprocess.run([os.environ["KHOSPEC_BIN"], *args], capture_output=True, check=False)


# One error path per command (and the dispatcher's own): with -f json each prints
# exactly one JSON document naming the error, exit 1 (docs/cli.md "JSON output").
ERROR_PATHS = [
    ["validate", "/nonexistent"],
    ["validate", "--live", "out", "--root", "/nonexistent"],
    ["dump", "/nonexistent"],
    ["memblock", "replay", "/nonexistent"],
    ["compat", "/nonexistent", "/nonexistent2"],
    ["simulate", "nope"],
    ["kimage", "/nonexistent"],
    ["preflight", "--release", "7.3"],
    ["schema", "/nonexistent"],
    ["corpus", "check", "/nonexistent"],
    ["model", "abi-dump", "--era", "nope"],
    ["prove", "--only", "nope/*"],
    ["rules", "--bogus"],
    ["eras", "--bogus"],
    ["demo", "--bogus"],
    ["frobnicate"],
    [],
    ["validate", "-o", "/nonexistent/dir/out.json", "x"],
]


def test_every_error_path_prints_one_json_document() -> None:
    for args in ERROR_PATHS:
        r = native("-f", "json", *args)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        doc = json.loads(r.stdout)
        assert doc["format_version"] == 1 and doc["tool"].startswith("khospec"), args
        errors = [d for d in doc.get("diagnostics", []) if d["level"] == "error"]
        said = (doc.get("error") or {}).get("message") or (errors[0]["message"] if errors else "")
        assert said, (args, doc)
        assert b"khospec: error: " in r.stderr, args


def test_every_command_prints_the_envelope(corpus: pathlib.Path, source_dir: pathlib.Path) -> None:
    """Success paths too: one document opening with format_version, tool, command, ok."""
    good = str(corpus / "kho-v1/good/docs-example-root.dtb")
    trace = str(source_dir / "model/memblock/testdata/alloc-sentinel-ends.trace")
    kho = source_dir / "schemas/kho"
    cases = [
        ["validate", good],
        ["dump", good],
        ["simulate", "stale-map"],
        ["simulate", "--list"],
        ["memblock", "replay", trace],
        ["compat", "--exit-zero", str(kho / "kho-v1.yaml"), str(kho / "kho-v2.yaml")],
        ["prove", "--list", "--only", "kho/radix*"],
        ["eras"],
        ["rules"],
        ["demo"],
    ]
    for args in cases:
        r = native("-f", "json", *args)
        assert r.returncode in (0, 100), (args, r.stderr)
        doc = json.loads(r.stdout)
        assert list(doc)[:3] == ["format_version", "tool", "command"], (args, list(doc))
        assert doc["format_version"] == 1 and doc["command"] == args[0], args
        assert "ok" in doc, (args, list(doc))


def test_simulate_json_says_what_the_text_says() -> None:
    """-f json simulate: the runs, kernels and findings the text timeline prints."""
    text = native("simulate", "stale-map").stdout.decode()
    doc = json.loads(native("-f", "json", "simulate", "stale-map").stdout)
    assert doc["ok"] is True and len(doc["runs"]) == 1
    run = doc["runs"][0]
    assert run["scenario"] == "stale-map" and run["era"] == "v6.19"
    ids = [f["id"] for k in run["kernels"] for f in k["findings"]]
    assert "INV_MAP_FRESH_AT_KEXEC" in ids
    for k in run["kernels"]:
        for line in k["timeline"]:
            assert line in text
    errors = sum(f["level"] == "error" for k in run["kernels"] for f in k["findings"])
    assert f"{errors} invariant violation(s)" in text
    assert run["result"]["invariant_violations"] == errors
    # -v adds every block and the memblock tables.
    v = json.loads(native("-v", "-f", "json", "simulate", "--era", "kho-v4", "chain").stdout)
    k1 = v["runs"][0]["kernels"][0]
    assert k1["memblock"]["reserved"]["cnt"] == len(k1["memblock"]["reserved"]["regions"])
    assert len(k1["outgoing_blocks"]["blocks"]) == k1["outgoing_blocks"]["count"]


def test_validate_goes_on_past_an_unreadable_file(corpus: pathlib.Path) -> None:
    good = str(corpus / "kho-v1/good/docs-example-root.dtb")
    r = native("-f", "json", "validate", "/nonexistent", good)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert [f["file"] for f in doc["files"]] == [good]
    assert doc["diagnostics"][0]["type"] == "cli" and doc["diagnostics"][0]["file"] == "/nonexistent"


def test_messages_say_what_is_wrong(corpus: pathlib.Path, source_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    good = str(corpus / "kho-v1/good/docs-example-root.dtb")
    cases = [
        (["validate", str(tmp_path)], b"is a directory"),
        (["validate", "--memory", str(tmp_path), good], b"is a directory; --memory takes one ELF core"),
        (["validate", "--fdt-phys", "0x1000", good], b"it needs --memory IMAGE"),
        (["validate", "--memory", good, "--memory", good, good], b"--memory given 2 times"),
        (["-q", "-v", "validate", good], b"-q and -v contradict"),
        (["--werror", "--exit-zero", "validate", good], b"--werror and --exit-zero contradict"),
    ]
    for args, said in cases:
        r = native(*args)
        assert r.returncode == 1, (args, r.stderr)
        assert said in r.stderr, (args, r.stderr)
    # --fdt-phys is checked against the image, not echoed as "found".
    stage = source_dir / "../shared/dumps/kho-v4-linux-7.3/reserve-mem-1-2stage/k1"
    right = native("validate", "--memory", str(stage / "memory.elf"), "--fdt-phys", "0x1f5000",
                   str(stage / "mem_out_fdt_0x1f5000.bin"))
    assert b"(--fdt-phys): the image holds it there" in right.stdout, right.stdout
    wrong = native("validate", "--memory", str(stage / "memory.elf"), "--fdt-phys", "0x3ce000",
                   str(stage / "mem_out_fdt_0x1f5000.bin"))
    assert b"does NOT hold this FDT there" in wrong.stdout, wrong.stdout
    assert b"found in the image" not in wrong.stdout
