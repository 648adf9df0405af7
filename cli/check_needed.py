#!/usr/bin/env python3
"""Check the shared libraries an ELF program asks the dynamic loader for.

    check_needed.py [--absent PREFIX PROGRAM] ... [--present PREFIX PROGRAM] ...

Reads each PROGRAM's DT_NEEDED entries (from its PT_DYNAMIC segment, as the
loader does) and fails when a library starting with PREFIX is needed by an
--absent program, or not needed by a --present one. The ctest case
cli/khospec_does_not_load_z3 uses it: khospec must not need libz3 (only
khospec-prove loads the solver), and khospec-prove must, which shows that the
reader finds the entries at all.
"""

import struct
import sys

PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5


def needed(path: str) -> list[str]:
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path}: not an ELF file")
    e = {1: "<", 2: ">"}[data[5]]
    if data[4] == 2:  # ELF64
        (phoff,) = struct.unpack_from(e + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(e + "HH", data, 0x36)
        ph = lambda off: struct.unpack_from(e + "IIQQQQQQ", data, off)  # type flags offset vaddr paddr filesz memsz align
        fields = lambda p: (p[0], p[2], p[3], p[5])
        dyn_fmt = e + "qQ"
    else:  # ELF32
        (phoff,) = struct.unpack_from(e + "I", data, 0x1C)
        phentsize, phnum = struct.unpack_from(e + "HH", data, 0x2A)
        ph = lambda off: struct.unpack_from(e + "IIIIIIII", data, off)  # type offset vaddr paddr filesz memsz flags align
        fields = lambda p: (p[0], p[1], p[2], p[4])
        dyn_fmt = e + "iI"
    loads, dynamic = [], None
    for i in range(phnum):
        ptype, offset, vaddr, filesz = fields(ph(phoff + i * phentsize))
        if ptype == PT_LOAD:
            loads.append((vaddr, offset, filesz))
        elif ptype == PT_DYNAMIC:
            dynamic = (offset, filesz)
    if dynamic is None:
        return []  # a static program needs nothing
    names, strtab = [], None
    size = struct.calcsize(dyn_fmt)
    for off in range(dynamic[0], dynamic[0] + dynamic[1], size):
        tag, val = struct.unpack_from(dyn_fmt, data, off)
        if tag == DT_NULL:
            break
        if tag == DT_NEEDED:
            names.append(val)
        elif tag == DT_STRTAB:
            strtab = val
    if strtab is None:
        raise ValueError(f"{path}: PT_DYNAMIC without DT_STRTAB")
    base = next((off + strtab - va for va, off, sz in loads if va <= strtab < va + sz), None)
    if base is None:
        raise ValueError(f"{path}: DT_STRTAB outside every PT_LOAD segment")
    return [data[base + n:data.index(b"\0", base + n)].decode() for n in names]


def main(argv: list[str]) -> int:
    if not argv or len(argv) % 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    ok = True
    for i in range(0, len(argv), 3):
        mode, prefix, program = argv[i:i + 3]
        if mode not in ("--absent", "--present"):
            print(f"unknown check {mode}", file=sys.stderr)
            return 2
        libs = needed(program)
        hits = [lib for lib in libs if lib.startswith(prefix)]
        good = not hits if mode == "--absent" else bool(hits)
        ok &= good
        print(f"{'ok' if good else 'FAIL'}: {program} needs {', '.join(libs) or 'nothing'}"
              f" ({prefix}* must be {'absent' if mode == '--absent' else 'present'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
