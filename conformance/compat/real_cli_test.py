#!/usr/bin/env python3
"""`khospec compat` through the CLI on the real captures and on wrong inputs.

Usage: real_cli_test.py KHOSPEC SOURCE_DIR DUMPS_DIR WORK_DIR

Every case runs twice, as text and with -f json: the exit code must be the
expected one, the JSON must parse (every path, errors included), and neither
stdout nor stderr may carry a raw control byte.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys


def main() -> int:
    khospec, src, dumps, work = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3]), pathlib.Path(sys.argv[4])
    work.mkdir(parents=True, exist_ok=True)
    a = dumps / "kho-v1-linux-6.16/reserve-mem-1-2stage/k1"
    b = dumps / "kho-v4-linux-7.3/luo-memfd-2stage/k1"
    r = dumps / "kho-v4-linux-7.3/reserve-mem-1-2stage/k1"
    binary = work / "binary.yaml"
    binary.write_bytes(b"\xd0\x0d\x00\x00\x1b[31mnot yaml\x00\x01")
    # name, args, exit, text that must appear in stdout+stderr (text mode)
    cases = [
        ("616-to-73", [a / "out_fdt.dtb", b / "out_fdt.dtb"], 100, "compat_version_bumped"),
        ("616-to-73-memory", ["--memory-old", a / "memory.elf", "--memory-new", b / "memory.elf",
                              a / "out_fdt.dtb", b / "out_fdt.dtb"], 100, "luo-v5 is new"),
        ("73-same", [b / "out_fdt.dtb", b / "out_fdt.dtb"], 0, "0 wire-breaking, 0 ABI-visible, 0 compatible"),
        ("73-same-memory", ["--memory-old", b / "memory.elf", "--memory-new", b / "memory.elf",
                            b / "out_fdt.dtb", b / "out_fdt.dtb"], 0, "0 wire-breaking, 0 ABI-visible, 0 compatible"),
        ("73-to-73-luo", ["--memory-old", r / "memory.elf", "--memory-new", b / "memory.elf",
                          r / "out_fdt.dtb", b / "out_fdt.dtb"], 0, "compat_node_added"),
        ("elf-core-as-handover", [b / "memory.elf", b / "out_fdt.dtb"], 1, "--memory-old"),
        ("sub-fdt-as-root", [a / "out_sub_fdt_memblock.dtb", b / "out_fdt.dtb"], 1, "not a root"),
        ("sub-blob-as-root", [a / "out_fdt.dtb", b / "out_sub_blob_LUO.bin"], 1, "KHO client blob (luo-v5)"),
        ("fdt-as-memory", ["--memory-new", b / "out_fdt.dtb", a / "out_fdt.dtb", b / "out_fdt.dtb"], 1,
         "not a memory image"),
        ("memory-with-schema", ["--memory-old", a / "memory.elf", src / "schemas/kho/kho-v1.yaml",
                                src / "schemas/kho/kho-v4.yaml"], 1, "drop --memory-old"),
        ("schema-dir-vs-handover", [src / "schemas", b / "out_fdt.dtb"], 1, "like with like"),
        ("binary-as-schema", [binary, src / "schemas/kho/kho-v1.yaml"], 1, "binary data"),
        ("missing", [work / "nonexistent.dtb", b / "out_fdt.dtb"], 1, "no such file"),
    ]
    failed = 0
    for name, args, want, says in cases:
        for fmt in ("text", "json"):
            argv = [khospec, "-f", fmt, "compat", *map(str, args)]
            p = subprocess.run(argv, capture_output=True, check=False)
            problems = []
            if p.returncode != want:
                problems.append(f"exit {p.returncode}, expected {want}")
            for stream, data in (("stdout", p.stdout), ("stderr", p.stderr)):
                bad = [c for c in data if c < 0x20 and c not in (0x09, 0x0a)]
                if bad:
                    problems.append(f"raw control byte 0x{bad[0]:02x} on {stream}")
            if fmt == "json":
                try:
                    doc = json.loads(p.stdout)
                    if doc.get("command") != "compat":
                        problems.append("JSON without command: compat")
                except ValueError as e:
                    problems.append(f"stdout is not JSON: {e}")
            elif says not in (p.stdout + p.stderr).decode(errors="replace"):
                problems.append(f"output lacks {says!r}")
            status = "FAIL" if problems else "ok"
            print(f"{status} {name} [{fmt}] {'; '.join(problems)}")
            if problems:
                failed += 1
                sys.stdout.write(p.stdout.decode(errors="backslashreplace")[-2000:])
                sys.stdout.write(p.stderr.decode(errors="backslashreplace")[-2000:])
    print(f"{len(cases) * 2 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
