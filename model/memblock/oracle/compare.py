#!/usr/bin/python3
"""Compares `khospec memblock replay` with the kernel's answer to the same trace.

usage: compare.py KHOSPEC TRACE KERNEL_TXT

KERNEL_TXT is what scripts/memblock-oracle printed for TRACE (the kernel's own
mm/memblock.c): per call "# L<line>: <call>" then "=> <value>" ("void" for a
call without one), then "# end of trace" and the final tables. Compared: every
return value, and the final tables' cnt, max, total_size and each region's base,
size and flags (nids differ by design: the simulator has MAX_NUMNODES 16).
A panic or BUG ends the simulator: the model must report one at that call, and
nothing after it is compared. A model HAZARD (an allocation over memblock's own
region array, whose reservation a caller freed) ends the comparison after that
call: the kernel's memset may have corrupted its table, memory contents the model
does not keep. Exit 0 when they agree, 1 with the differences listed otherwise.
"""
import json
import re
import subprocess
import sys


def kernel_answer(path):
    """Return values by line, the final tables, and the line the kernel stopped
    at (a panic or BUG: the simulator exits there) or None."""
    rets, tables, line = {}, [], None
    after_end = False
    last = None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            l = raw.rstrip("\n")
            m = re.match(r"# L(\d+): ", l)
            if m:
                line = last = int(m.group(1))
                continue
            if l.startswith("# end of trace"):
                after_end = True
                continue
            if l.startswith("=> ") and line is not None:
                rets[line] = l[3:]
                line = None
            elif after_end and re.match(r"(memory|reserved)", l):
                tables.append(l.split())
    return rets, tables, (None if after_end else last)


def number(v):
    try:
        return int(str(v), 0)
    except ValueError:
        return str(v)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    khospec, trace, expected = sys.argv[1:]
    rets, ktables, stopped = kernel_answer(expected)
    run = subprocess.run([khospec, "-f", "json", "memblock", "replay", trace], capture_output=True, text=True)
    if run.returncode not in (0, 100):
        print(f"khospec memblock replay failed ({run.returncode}): {run.stderr}")
        return 1
    model = json.loads(run.stdout)
    diffs = []
    compared = 0
    undefined_from = None  # a model HAZARD: the kernel's tables are undefined after it
    for c in model["calls"]:
        if undefined_from is not None:
            break
        if stopped is not None and c["line"] >= stopped:
            # The kernel stopped here (panic/BUG ends the simulator): the model
            # must report the same at this call, and what follows is moot.
            kinds = [e.get("kind") for e in c.get("events", [])]
            if c["line"] == stopped and not ({"PANIC", "BUG"} & set(kinds)):
                diffs.append(f"L{c['line']}: {c['call']}: the kernel stopped (panic/BUG), the model did not")
            break
        k = rets.get(c["line"])
        if k is None or k == "void":
            continue
        compared += 1
        if number(k) != number(c.get("ret", "void")):
            diffs.append(f"L{c['line']}: {c['call']}: kernel => {k}, model => {c.get('ret', 'void')}")
        if any(e.get("kind") == "HAZARD" for e in c.get("events", [])):
            undefined_from = c["line"]
    mtables = []
    for name in ("memory", "reserved"):
        t = model["final"][name]
        mtables.append([name, f"cnt={t['cnt']}", f"max={t['max']}", f"total_size={hex(number(t['total_size']))}"])
        for i, r in enumerate(t["regions"]):
            mtables.append([f"{name}[{i}]", hex(number(r["base"])), hex(number(r["size"])), hex(number(r["flags"]))])
    ktables = [row if "[" not in row[0] else row[:4] for row in ktables]
    ktables = [[row[0]] + [hex(number(x)) for x in row[1:]] if "[" in row[0] else row for row in ktables]
    if stopped is None and undefined_from is None and ktables != mtables:
        for a, b in zip(ktables + [["(none)"]] * len(mtables), mtables + [["(none)"]] * len(ktables)):
            if a != b:
                diffs.append(f"final table: kernel {' '.join(a)} | model {' '.join(b)}")
                break
    for d in diffs:
        print(d)
    tables = "the final tables" if stopped is None and undefined_from is None else (
        f"no tables (the kernel stopped at L{stopped})" if stopped is not None
        else f"no tables (model HAZARD at L{undefined_from}: memory contents are not modelled)")
    print(f"{trace}: {compared} return values and {tables} compared with {expected}: "
          f"{len(diffs)} difference(s)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
