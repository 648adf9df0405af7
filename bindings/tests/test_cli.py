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
        (["validate", "--memory", str(tmp_path), good], b"is a directory without page files (mem_*_0xADDR.bin)"),
        (["validate", "--fdt-phys", "0x1000", good], b"it needs --memory IMAGE"),
        (["validate", "--memory", good, "--memory", good, good], b"--memory given 2 images"),
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
        # ASan's shadow memory and quarantine are no part of khospec's footprint:
    # the bound holds for the uninstrumented build (the default preset).
    if os.environ.get("KHOSPEC_SANITIZED") != "1":
        assert rss < 48 * 1024, rss  # reading it whole cost 137 MB
    # Through a pipe the size is counted, and an FDT header's totalsize stops the keeping.
    r = subprocess.run([os.environ["KHOSPEC_BIN"], "validate", "-"], input=header + bytes(size - len(header)),
                       capture_output=True, check=False)
    assert r.returncode == 100 and f"input is {size} bytes".encode() in r.stderr, r.stderr


DUMPS = pathlib.Path(__file__).resolve().parents[2] / "../shared/dumps"


def memory_of(*args: str) -> "tuple[int, list, int]":
    """validate -f json dump: (exit code, decoded blocks, size of the followed hand-over)."""
    r = native("-f", "json", "dump", *args)
    doc = json.loads(r.stdout)
    f = doc["files"][0]
    return r.returncode, f["memory"]["blocks"], len(json.dumps(f["handover"]))


def test_page_files_read_as_one_image() -> None:
    # A capture's page files validate a hand-over as its memory.elf does: the
    # outgoing k2 -> k3 hand-over (the map, every blob) and k1's, in both eras.
    for era in ("kho-v1-linux-6.16", "kho-v4-linux-7.3"):
        for stage in ("recursive-3stage/k2", "test-kho-2stage/k1"):
            st = DUMPS / era / stage
            pages = memory_of("--memory", str(st), "--scratch", str(st), str(st / "out_fdt.dtb"))
            elf = memory_of("--memory", str(st / "memory.elf"), "--scratch", str(st), str(st / "out_fdt.dtb"))
            assert pages == elf and pages[0] == 0 and pages[1], (era, stage)
            r = native("validate", "--memory", str(st), "--scratch", str(st), str(st / "out_fdt.dtb"))
            assert r.returncode == 0 and b"0 error(s), 0 warning(s)" in r.stdout, (era, stage, r.stdout, r.stderr)
    # FILE@ADDR, repeated: 6.16 kho-only k1's chunk and its 512-byte bitmap.
    st = DUMPS / "kho-v1-linux-6.16/kho-only-2stage/k1"
    chunk = f"{st}/mem_chunk_0_0x15f000.bin@0x15f000"
    bitmap = f"{st}/mem_bitmap_c0_e0_order0_start0x0_at0x3d5e00.bin@0x3d5e00"
    rc, blocks, _ = memory_of("--memory", chunk, "--memory", bitmap, str(st / "out_fdt.dtb"))
    assert rc == 0 and blocks == [{"phys": "0x3de000", "order": 0, "size": "0x1000"}], blocks  # the root FDT page
    # Without the bitmap the map is not all there: a finding, not a guess.
    assert native("validate", "--memory", chunk, str(st / "out_fdt.dtb")).returncode == 100
    # Overlapping page files must agree; two whole images, or one with pages, are refused.
    refused = [
        (["--memory", chunk, "--memory", bitmap.replace("@0x3d5e00", "@0x15f000")],
         b"overlap at [0x15f000, +0x200) with different bytes"),
        (["--memory", str(st / "memory.elf"), "--memory", str(st / "memory.elf")], b"--memory given 2 images"),
        (["--memory", str(st / "memory.elf"), "--memory", chunk], b"is a whole image: it does not combine"),
        (["--memory-base", "0", "--memory", chunk], b"page files carry their own address"),
        (["--memory", f"{st}/nonexistent.bin@0x1000"], b"nonexistent.bin: cannot open"),
    ]
    for args, said in refused:
        r = native("validate", *args, str(st / "out_fdt.dtb"))
        assert r.returncode == 1 and said in r.stderr, (args, r.stderr)
    # 7.3 k1 reads the root FDT page twice (mem_out_fdt_*, mem_out_fdt_after_load_*): same bytes, one page.
    st73 = DUMPS / "kho-v4-linux-7.3/kho-only-2stage/k1"
    r = native("validate", "--memory", str(st73), "--fdt-phys", "0x1f5000")
    assert r.returncode == 0 and b"the image holds it there" in r.stdout, (r.stdout, r.stderr)


def test_as_leads_with_the_verdict() -> None:
    # 6.16 test-kho k1 read as v6.18: the verdict first, the misreading's consequences under it.
    st = DUMPS / "kho-v1-linux-6.16/test-kho-2stage/k1"
    args = ["validate", "--as", "v6.18", "--memory", str(st / "memory.elf"), str(st / "out_fdt.dtb")]
    r = native(*args)
    assert r.returncode == 100
    assert b"# read as v6.18: MISREAD (kho_reader_misreads), 11 finding(s) follow from it" in r.stdout, r.stdout
    lines = r.stderr.decode().splitlines()
    assert "error (kho_reader_misreads)" in lines[0], lines
    assert "\t(11 more finding(s) follow from this one; -v shows them)" in lines, lines
    assert "kho_image_addr_missing" not in r.stderr.decode()
    v = native("-v", *args).stderr.decode()
    assert "\tconsequences of the above (11):" in v and v.count("\t  ") >= 11, v
    doc = json.loads(native("-f", "json", *args).stdout)
    rules = [(d["rule"], d.get("derived_from")) for d in doc["diagnostics"]]
    assert rules[0] == ("kho_reader_misreads", None), rules
    assert len(rules) == 12 and all(df == "kho_reader_misreads" for _, df in rules[1:]), rules
    # The same blob read by its own era's reader: no verdict to lead with.
    same = native("validate", "--as", "v6.16", "--memory", str(st / "memory.elf"), str(st / "out_fdt.dtb"))
    assert same.returncode == 0 and b"# read as v6.16: no refusal or misreading found" in same.stdout, same.stdout
    # Without the image, the map cannot be read as that kernel would: said, not implied clean.
    k1 = DUMPS / "kho-v1-linux-6.16/kho-only-2stage/k1/out_fdt.dtb"
    bare = native("validate", "--as", "v6.18", str(k1))
    assert bare.returncode == 0 and b"without --memory only the root is read" in bare.stderr, bare.stderr
    assert b"# read as v6.18: no refusal found (the map needs --memory)" in bare.stdout, bare.stdout


def fdt_with_compatible(compatible: bytes) -> bytes:
    """A one-node FDT (version 17) whose root has only `compatible`."""
    def be(*words: int) -> bytes:
        return b"".join(w.to_bytes(4, "big") for w in words)

    def pad(b: bytes) -> bytes:
        return b + bytes(-len(b) % 4)

    strings = b"compatible\0"
    value = compatible + b"\0"
    struct = be(1) + pad(b"\0") + be(3, len(value), 0) + pad(value) + be(2, 9)
    total = 56 + len(struct) + len(strings)
    header = be(0xD00DFEED, total, 56, 56 + len(struct), 40, 17, 16, 0, len(strings), len(struct))
    return header + bytes(16) + struct + strings


def test_endian_and_not_kho_are_said(tmp_path: pathlib.Path) -> None:
    st = DUMPS / "kho-v1-linux-6.16/kho-only-2stage/k1"
    for memory in ([], ["--memory", str(st / "memory.elf")]):
        big = native("--endian", "big", "validate", *memory, str(st / "out_fdt.dtb"))
        assert b"try --endian little" in big.stdout, (memory, big.stdout)
        if memory:  # the finding the wrong order causes carries the hint too
            assert big.returncode == 100 and b"hint: the pointers read as addresses no kernel can hold" in big.stderr
        doc = json.loads(native("-f", "json", "--endian", "big", "validate", *memory, str(st / "out_fdt.dtb")).stdout)
        assert doc["files"][0]["endian_hint"].endswith("try --endian little"), doc
        little = native("validate", *memory, str(st / "out_fdt.dtb"))
        assert little.returncode == 0 and b"--endian" not in little.stdout + little.stderr
    plain = tmp_path / "board.dtb"
    plain.write_bytes(fdt_with_compatible(b"acme,board"))
    r = native("validate", str(plain))
    assert r.returncode == 100, r.stderr
    assert b'not a KHO blob (root compatible "acme,board", a device tree\'s)' in r.stdout, r.stdout
    assert b"this is not a KHO blob" in r.stderr, r.stderr
    d = native("dump", str(plain))
    assert d.returncode == 0 and b"not a KHO blob" in d.stdout, d.stdout
    # An unknown KHO-like compatible is not called a device tree.
    kho9 = tmp_path / "kho9.dtb"
    kho9.write_bytes(fdt_with_compatible(b"kho-v9"))
    r = native("validate", str(kho9))
    assert r.returncode == 100 and b"not a KHO blob" not in r.stdout + r.stderr, r.stdout


def test_simulate_prefers_the_builtin_over_a_directory_of_its_name(tmp_path: pathlib.Path) -> None:
    """`simulate --out chain` leaves a directory `chain`; `simulate chain` still runs the built-in."""
    (tmp_path / "chain").mkdir()
    r = subprocess.run([os.environ["KHOSPEC_BIN"], "-f", "json", "simulate", "--era", "kho-v4", "chain"],
                       capture_output=True, check=False, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["runs"][0]["scenario"] == "chain"
