"""Seeded random-argument calls to every public khospec function (docs/fuzz.md).

libFuzzer cannot drive Python, and the C++ behind each binding has its own
libFuzzer target; what only Python can reach is the binding layer itself:
argument conversion (bytes, buffers, paths, ints past 64 bits, None, wrong
types), the Python wrappers and the objects they return. So each public
function, constructor and method is called with arguments drawn from the
captures' bytes (mutated), paths of every kind and hostile scalars, and may
only return or raise what the package documents: ValueError, LookupError,
OSError, khospec.Error, or TypeError for an argument of the wrong type.

The seed is printed; KHOSPEC_PYFUZZ_SEED and KHOSPEC_PYFUZZ_CALLS override it
and the call count (scripts/fuzz runs the long count).

Not called with their defaults (the zero-argument call is the whole
expensive job, each covered by its own test): prove() (every Z3 obligation;
it is called only with an `only` that names no obligation, its argument
checks), compat_matrix() and model.simulate("chain") (every era).
"""

from __future__ import annotations

import inspect
import os
import pathlib
import random
import re
import time
import pytest
from typing import Any, Callable, List

import khospec
from khospec import model

SEED = int(os.environ.get("KHOSPEC_PYFUZZ_SEED", "1"))
CALLS = int(os.environ.get("KHOSPEC_PYFUZZ_CALLS", "3000"))
# A native crash (SIGFPE, a sanitizer abort) ends the process before any report:
# with this set, each call is written there first, so the last one is the culprit.
# Absolute now: the test runs in a temporary directory.
LAST = os.path.abspath(os.environ["KHOSPEC_PYFUZZ_LAST"]) if os.environ.get("KHOSPEC_PYFUZZ_LAST") else None
SOURCE = pathlib.Path(os.environ.get("KHOSPEC_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
DUMPS = pathlib.Path(os.environ.get("KHOSPEC_DUMPS_DIR", SOURCE / ".." / "shared" / "dumps"))

ALLOWED = (ValueError, LookupError, OSError, TypeError, khospec.Error)

# Undocumented exceptions this test found in code it may not change (the
# binding glue in bindings/src, the Python section of issue 21), by
# (function, exception, message start): docs/fuzz.md lists them. They are
# printed on every run; any other one fails the test.
KNOWN: dict = {}


def seed_files() -> List[pathlib.Path]:
    files = sorted(DUMPS.glob("*/*/k1/out_fdt.dtb"))[:6] + sorted(DUMPS.glob("*/*/k1/memory.elf"))[:3]
    files += sorted((SOURCE / "schemas" / "kho").glob("*.yaml"))[:2]
    files += sorted((SOURCE / "model" / "memblock" / "testdata").glob("*.trace"))[:1]
    return [f for f in files if f.is_file()]


class Pool:
    """The argument values, drawn with one seeded random.Random."""

    def __init__(self, rng: random.Random, tmp: pathlib.Path) -> None:
        self.rng = rng
        self.tmp = tmp
        self.plain = tmp / "a-file"  # a path under it is missing for everyone, root included (ENOTDIR)
        self.plain.write_bytes(b"x")
        self.files = seed_files()
        self.blobs = [f.read_bytes() for f in self.files]
        self.n = 0
        self.scalars: List[Any] = [
            None, True, False, 0, 1, -1, 9, 4096, 0x7F400000, 2**63, 2**64, -(2**63), 10**30, 1.5, float("nan"),
            "", "auto", "kho-v1", "kho-v4", "v6.16", "v6.19", "7.3", "little", "big", "page", "512", "out", "in",
            "both", "forward", "backward", "chain", "stale-map", "2G", "64M", "1T", "0", "kho=on", "x" * 5000,
            "\udcff", "a\0b", "kho_map_order_above_max", "error", "off", [], [(0, 4096)], [(2**64, 1)],
            [(0x7F400000, 0x6C00000)], [1, 2], {}, {"kho_blob_null": "off"}, {"nope": 1}, (), object(),
        ]

    def bytes_value(self) -> bytes:
        b = bytearray(self.rng.choice(self.blobs)) if self.blobs else bytearray()
        for _ in range(self.rng.randrange(4)):
            r = self.rng.randrange(3)
            if r == 0 and b:
                b[self.rng.randrange(len(b))] = self.rng.randrange(256)
            elif r == 1:
                del b[self.rng.randrange(len(b) + 1):]
            else:
                b += bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(16)))
        return bytes(b)

    def path_value(self) -> str:
        r = self.rng.randrange(6)
        if r == 0 and self.files:
            return str(self.rng.choice(self.files))
        if r == 1:
            return str(self.tmp)
        if r == 2:
            # Missing paths live under tmp: simulate(out=) creates what it is given, and a
            # /nonexistent it made once broke every later test that expects it to be missing.
            return str(self.rng.choice([self.tmp / "missing" / "khospec", self.plain / "khospec"]))
        if r == 3:
            return "/dev/null"
        self.n += 1
        p = self.tmp / f"input-{self.n % 8}"
        p.write_bytes(self.bytes_value())
        return str(p)

    def value(self) -> Any:
        r = self.rng.randrange(10)
        if r < 3:
            return self.rng.choice(self.scalars)
        if r < 5:
            v = self.bytes_value()
            return self.rng.choice([v, bytearray(v), memoryview(v)])
        if r < 7:
            return self.path_value()
        if r < 8:
            return khospec.Blob.from_bytes(self.bytes_value())
        if r < 9:
            return khospec.MemoryImage.from_bytes(self.bytes_value(), self.rng.choice([None, 0, 0x100000]))
        return self.rng.randrange(-(2**65), 2**65)


def targets(pool: Pool) -> List[tuple]:
    """(name, callable, parameter names or None) for every public function and method."""
    out = []
    for mod in (khospec, model):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if callable(obj) and not inspect.isclass(obj) and not inspect.ismodule(obj):
                out.append((f"{mod.__name__}.{name}", obj))
    out += [
        ("Blob.from_bytes", khospec.Blob.from_bytes),
        ("Blob.from_file", khospec.Blob.from_file),
        ("MemoryImage.from_bytes", khospec.MemoryImage.from_bytes),
        ("MemoryImage.from_file", khospec.MemoryImage.from_file),
        ("model.Machine", model.Machine),
        ("model.Memblock", model.Memblock),
    ]
    return out


def method_targets(pool: Pool) -> List[tuple]:
    """Bound public methods of fresh objects (a booted kernel, a memblock, a blob, an image)."""
    out = []
    m = model.Machine(ram="256M")
    k = m.boot("v6.19", "kho=on")
    objs = [("Machine", m), ("Kernel", k), ("Memblock", model.Memblock("v6.16")),
            ("Blob", khospec.Blob.from_bytes(pool.bytes_value())),
            ("MemoryImage", khospec.MemoryImage.from_bytes(pool.bytes_value(), 0))]
    for tname, obj in objs:
        for name in dir(obj):
            if name.startswith("_"):
                continue
            attr = getattr(obj, name, None)
            if callable(attr):
                out.append((f"{tname}.{name}", attr))
    return out


def skipped(name: str, args: list, kwargs: dict) -> bool:
    """The expensive whole-job calls (module docstring)."""
    if name == "khospec.prove":
        only = args[0] if args else kwargs.get("only")
        return not isinstance(only, str) or only in ("", "auto") or only.isidentifier()
    if name == "khospec.compat_matrix":
        return True
    if name == "khospec.model.simulate" and (not args or args[0] == "chain") and not kwargs.get("era") \
            and (len(args) < 2 or args[1] is None):
        return True
    return False


findings: dict = {}
cost: dict = {}


def parameters(fn: Callable) -> List[tuple]:
    """(name, annotation text, required) of fn's parameters: from its signature,
    or from the first line of a pybind11 docstring ("f(data: Buffer, base: int = 0) -> X")."""
    try:
        return [(p.name, str(p.annotation), p.default is p.empty) for p in inspect.signature(fn).parameters.values()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    except (TypeError, ValueError):
        pass
    m = re.match(r"[\w.]+\((.*?)\) ->", (fn.__doc__ or "").split("\n", 1)[0])
    if not m:
        return []
    out = []
    for part in re.findall(r"(\w+): ([^,=]+(?:\[[^\]]*\])?)( = [^,]+)?", m.group(1)):
        if part[0] != "self":
            out.append((part[0], part[1], not part[2]))
    return out


def typed_value(pool: Pool, annotation: str) -> Any:
    """A value of roughly the annotated type (hostile within that type)."""
    a = annotation.lower()
    rng = pool.rng
    if "blob" in a or "buffer" in a or "bytes" in a:
        return rng.choice([pool.bytes_value(), khospec.Blob.from_bytes(pool.bytes_value()), pool.path_value()])
    if "memory" in a:
        return rng.choice([None, pool.path_value(),
                           khospec.MemoryImage.from_bytes(pool.bytes_value(), rng.choice([None, 0, 0x100000]))])
    if "list" in a or "tuple" in a:
        return [(rng.randrange(-(2**64), 2**65), rng.randrange(2**65)) for _ in range(rng.randrange(3))]
    if "mapping" in a or "dict" in a:
        return {rng.choice(["kho_blob_null", "fdt_truncated", "x"]): rng.choice(["off", "error", "warning", "x"])}
    if "bool" in a:
        return rng.choice([True, False])
    if "float" in a:
        return rng.choice([0.0, 0.001, -1.0, float("inf")])
    if "int" in a and "str" not in a:
        return rng.choice([0, 1, -1, 9, 12, 4096, 0x100000, 2**63 - 1, 2**64 - 1, rng.randrange(2**52)])
    if "str" in a:
        return rng.choice([s for s in pool.scalars if isinstance(s, str)] + [pool.path_value()])
    return pool.value()


def call(pool: Pool, name: str, fn: Callable) -> None:
    params = parameters(fn)
    args: list = []
    kwargs: dict = {}
    if params and pool.rng.randrange(3):  # mostly arguments of the declared types
        for pname, ann, required in params:
            if required or pool.rng.randrange(2):
                kwargs[pname] = typed_value(pool, ann)
    else:
        args = [pool.value() for _ in range(pool.rng.randrange(4))]
    if skipped(name, args, kwargs):
        return
    if LAST:
        with open(LAST, "w") as f:
            f.write(f"{name}(*{args!r:.2000}, **{kwargs!r:.2000})\n")
    t = time.time()
    try:
        fn(*args, **kwargs)
    except ALLOWED:
        pass
    except Exception as e:  # anything else is a finding: keep one example per kind
        key = (name.split(".")[-1] if name.startswith(("Kernel.", "Machine.", "Memblock.")) else name,
               type(e).__name__, str(e)[:60])
        findings.setdefault(key, f"{name}(*{args!r:.200}, **{kwargs!r:.200}) raised {type(e).__name__}: {e}")
    finally:
        cost[name] = cost.get(name, 0.0) + time.time() - t


def test_every_public_function_takes_hostile_arguments(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    print(f"seed {SEED}, {CALLS} calls (KHOSPEC_PYFUZZ_SEED, KHOSPEC_PYFUZZ_CALLS)")
    # Relative paths the calls write (simulate(out="chain"), ...) land here, not in the build tree.
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    rng = random.Random(SEED)
    pool = Pool(rng, tmp_path)
    outside = pathlib.Path("/nonexistent")
    outside_before = outside.exists()
    assert pool.blobs, f"no seed files under {DUMPS} or {SOURCE}"
    funcs = targets(pool)
    t0 = time.time()
    done = 0
    while done < CALLS:
        methods = method_targets(pool)  # fresh objects every 200 calls: methods change their state
        for _ in range(200):
            name, fn = rng.choice(funcs + methods)
            call(pool, name, fn)
            done += 1
    print(f"{done} calls in {time.time() - t0:.1f} s over {len(funcs)} functions and {len(methods)} methods")
    print("slowest:", sorted(cost.items(), key=lambda kv: -kv[1])[:4])
    for k, v in sorted(findings.items()):
        print("KNOWN" if k in KNOWN else "FINDING", k, "\n   ", v)
    assert outside.exists() == outside_before, "a call created /nonexistent: the pool must keep writes in tmp"
    new = {k: v for k, v in findings.items() if k not in KNOWN}
    assert not new, f"seed {SEED}: {len(new)} undocumented exception(s), first: {next(iter(new.values()))}"
