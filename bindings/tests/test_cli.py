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


def test_input_errors_are_not_findings(tmp_path: pathlib.Path) -> None:
    # A closed or empty stdin is no hand-over: an input error, not fdt_empty.
    for shell in ('"$0" validate - </dev/null', '"$0" validate - <&-', '"$0" -f json validate - </dev/null'):
        r = subprocess.run(["sh", "-c", shell, os.environ["KHOSPEC_BIN"]], capture_output=True, check=False)
        assert r.returncode == 1, (shell, r.stderr)
        assert b"standard input is closed or empty" in r.stderr, (shell, r.stderr)
        assert b"fdt_empty" not in r.stdout + r.stderr
    # An empty file stays a finding (an unfinalized debugfs fdt).
    empty = tmp_path / "empty.dtb"
    empty.write_bytes(b"")
    assert native("validate", str(empty)).returncode == 100
    # A device has no size: said as such, exit 1.
    r = native("validate", "--memory", "/dev/zero", str(empty))
    assert r.returncode == 1 and b"/dev/zero: is a character device, not a regular file" in r.stderr, r.stderr


# Runs the binary in a child of a fresh interpreter and returns its max RSS in KiB.
RSS = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def test_too_large_says_the_size_and_does_not_read_it(tmp_path: pathlib.Path) -> None:
    size = 100_000_000
    header = (0xD00DFEED).to_bytes(4, "big") + size.to_bytes(4, "big") + bytes(32)
    for name, head in (("big.dtb", header), ("big.bin", b"not an fdt")):
        f = tmp_path / name
        with open(f, "wb") as out:
            out.write(head)
            out.truncate(size)  # sparse: the size is real, the disk cost is not
        doc = json.loads(native("-f", "json", "validate", str(f)).stdout)
        [d] = doc["diagnostics"]
        assert d["rule"] == "fdt_too_large" and f"input is {size} bytes" in d["message"], d
        assert doc["files"][0]["size"] == size
        rss = int(subprocess.run([sys.executable, "-c", RSS, os.environ["KHOSPEC_BIN"], "validate", str(f)],
                                 capture_output=True, check=True).stdout)
        print(f"{name}: max RSS {rss} KiB")
        assert rss < 48 * 1024, rss  # reading it whole cost 137 MB
    # Through a pipe the size is counted, and an FDT header's totalsize stops the keeping.
    r = subprocess.run([os.environ["KHOSPEC_BIN"], "validate", "-"], input=header + bytes(size - len(header)),
                       capture_output=True, check=False)
    assert r.returncode == 100 and f"input is {size} bytes".encode() in r.stderr, r.stderr
