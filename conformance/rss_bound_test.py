#!/usr/bin/env python3
"""The memory bound (docs/fuzz.md): no input may make khospec use more than
twice its size plus a fixed bound.

Runs the khospec binary (validate, dump, compat, memblock replay, simulate) on
hostile inputs and measures each run's peak RSS with os.wait4() (ru_maxrss):
  - large files made here, under WORK, one at a time and deleted after: ~100 MB
    of zeros, an FDT header claiming 100 MB, an ELF core whose PT_LOAD claims
    the whole file, a memblock trace, a scenario, a baseline and a schema of
    100 MB of short lines;
  - the fuzzers' outputs (fuzz/work/*/corpus beside WORK when the fuzz tests
    ran first, fuzz/long/*/corpus when scripts/fuzz did; up to 40 files each).
Asserts RSS <= 2 * (total input size) + FIXED and an exit code of 0, 1 or 100
(never a signal). FIXED = 64 MiB: the static binary, the compiled schema pack
and the model's machine state; `khospec simulate` of every era, the largest
legitimate run, peaks at ~17 MiB.
usage: rss_bound_test.py KHOSPEC WORK SOURCE_DIR
"""
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

FIXED = 64 << 20
SIZE = 100 << 20
TIMEOUT = 120

khospec, work, src = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []
runs = 0


def run(args, inputs):
    """Runs khospec ARGS; checks its exit and its peak RSS against the inputs' sizes."""
    global runs
    runs += 1
    size = sum(os.path.getsize(p) for p in inputs if os.path.isfile(p))
    bound = 2 * size + FIXED
    t0 = time.time()
    with open(os.devnull, "wb") as null:
        p = subprocess.Popen([khospec] + args, stdin=subprocess.DEVNULL, stdout=null, stderr=null)
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.time() - t0 > TIMEOUT:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                failures.append(f"{' '.join(args)}: still running after {TIMEOUT} s")
                return
            time.sleep(0.01)
    rss = ru.ru_maxrss * 1024
    what = f"khospec {' '.join(args)}: input {size} B, max RSS {rss} B, bound {bound} B"
    if os.WIFSIGNALED(status):
        failures.append(f"{what}: killed by signal {os.WTERMSIG(status)}")
    elif os.WEXITSTATUS(status) not in (0, 1, 100):
        failures.append(f"{what}: exit {os.WEXITSTATUS(status)}")
    elif rss > bound:
        failures.append(f"{what}: over the bound")
    if size >= SIZE // 2 or rss > FIXED // 2:
        print(f"{what} ({time.time() - t0:.1f} s)", flush=True)


def make(name, head, line, tail=b""):
    """A file of ~SIZE bytes: head, then `line` repeated (line may be a callable of the index)."""
    path = os.path.join(work, name)
    with open(path, "wb") as f:
        f.write(head)
        n, i = len(head), 0
        while n < SIZE:
            chunk = b"".join(line(i + k) if callable(line) else line for k in range(256))
            f.write(chunk)
            n += len(chunk)
            i += 256
        f.write(tail)
    return path


small_dtb = None
for root, _, files in os.walk(os.path.join(src, "..", "shared", "dumps")):
    if "out_fdt.dtb" in files:
        small_dtb = os.path.join(root, "out_fdt.dtb")
        break
if small_dtb is None:
    small_dtb = os.path.join(work, "empty.dtb")
    open(small_dtb, "wb").close()


def large_cases():
    # 100 MB of zeros as every kind of input.
    z = make("zeros.bin", b"", b"\0" * 256)
    run(["validate", z], [z])
    run(["dump", z], [z])
    run(["validate", "--memory", z, small_dtb], [z, small_dtb])
    run(["dump", "--memory", z, small_dtb], [z, small_dtb])
    run(["validate", "--memory", z, "--memory-base", "0x100000", small_dtb], [z, small_dtb])
    run(["compat", z, z], [z, z])
    run(["memblock", "replay", z], [z])
    run(["simulate", z], [z])
    run(["validate", "--baseline", z, small_dtb], [z, small_dtb])
    os.remove(z)
    # An FDT header claiming the whole file (magic, totalsize, offsets, version 17).
    hdr = bytes.fromhex("d00dfeed") + SIZE.to_bytes(4, "big") + (56).to_bytes(4, "big") + (SIZE - 64).to_bytes(4, "big") \
        + (40).to_bytes(4, "big") + (17).to_bytes(4, "big") + (16).to_bytes(4, "big") + bytes(4) + (8).to_bytes(4, "big") \
        + (SIZE - 120).to_bytes(4, "big")
    f = make("header.dtb", hdr, bytes(range(256)) * 16)
    run(["validate", f], [f])
    run(["dump", f], [f])
    run(["compat", f, f], [f, f])
    os.remove(f)
    # An ELF64 core whose one PT_LOAD claims the whole file at physical 0.
    eh = b"\x7fELF\x02\x01\x01" + bytes(9) + (4).to_bytes(2, "little") + (62).to_bytes(2, "little") \
        + (1).to_bytes(4, "little") + bytes(8) + (64).to_bytes(8, "little") + bytes(8) + bytes(4) \
        + (64).to_bytes(2, "little") + (56).to_bytes(2, "little") + (1).to_bytes(2, "little") + bytes(6)
    ph = (1).to_bytes(4, "little") + (6).to_bytes(4, "little") + (4096).to_bytes(8, "little") + bytes(8) + bytes(8) \
        + (SIZE - 4096).to_bytes(8, "little") * 2 + (4096).to_bytes(8, "little")
    e = make("core.elf", (eh + ph).ljust(4096, b"\0"), b"\xff" * 4096)
    run(["validate", "--memory", e, small_dtb], [e, small_dtb])
    run(["dump", "--memory", e, small_dtb], [e, small_dtb])
    run(["compat", "--memory-old", e, small_dtb, small_dtb], [e, small_dtb, small_dtb])
    os.remove(e)
    # Text inputs of many short lines: each line a parsed object in a naive reader.
    t = make("calls.trace", b"era v6.16\n", lambda i: b"add %#x 0x1000\n" % (i << 12))
    run(["memblock", "replay", t], [t])
    os.remove(t)
    s = make("scenario.yaml", b"name: big\nsteps:\n", b"  - boot\n")
    run(["simulate", s], [s])
    os.remove(s)
    b = make("baseline.txt", b"", lambda i: b"r%x\tf\tn\tp\n" % i)
    run(["validate", "--baseline", b, small_dtb], [b, small_dtb])
    os.remove(b)
    y = make("schema.yaml", b"$id: x\nproperties:\n", lambda i: b"  p%x: {}\n" % i)
    run(["compat", y, y], [y, y])
    os.remove(y)


def fuzz_outputs():
    base = os.path.join(work, "..", "work")
    commands = {
        "validate": lambda p: [["validate", p], ["dump", p]],
        "schema": lambda p: [["compat", p, p]],
        "compat": lambda p: [["compat", p, p]],
        "image": lambda p: [["validate", "--memory", p, small_dtb]],
        "memblock_replay": lambda p: [["memblock", "replay", p]],
        "scenario": lambda p: [["simulate", p]],
        "baseline": lambda p: [["validate", "--baseline", p, small_dtb]],
    }
    for target, cmds in commands.items():
        for d in (os.path.join(base, target, "corpus"), os.path.join(base, "..", "long", target, "corpus")):
            if not os.path.isdir(d):
                continue
            for name in sorted(os.listdir(d))[:40]:
                p = os.path.join(d, name)
                for args in cmds(p):
                    run(args, [a for a in args if os.path.isfile(a)])


large_cases()
fuzz_outputs()
shutil.rmtree(work, ignore_errors=True)
print(f"{runs} runs, fixed bound {FIXED >> 20} MiB")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
