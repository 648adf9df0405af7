"""khospec: the formal, executable reference for Linux Kexec HandOver (KHO).

Validate KHO hand-overs (``/sys/kernel/debug/kho/{out,in}/fdt`` dumps, memory
images), check schema-version compatibility, and run the reference model of
memblock and the KHO lifecycle -- from Python. Names mirror the kernel and the
``khospec`` CLI (docs/python.md).

Bad input (a corrupt blob, image or schema) never raises: it yields findings in
a :class:`Report`. Exceptions are for misuse only: ``ValueError`` (a bad
argument value), ``LookupError`` (an unknown rule), ``OSError`` (a file that
cannot be read) and :class:`Error` (e.g. a kernel object of a machine that was
cold-booted again).
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from . import _core
from ._core import Blob, Diagnostic, Error, MemoryImage, Report
from . import model
from .model import simulate

__version__: str = _core.__version__

__all__ = [
    "Blob",
    "Diagnostic",
    "Error",
    "MemoryImage",
    "Report",
    "abi_dump",
    "compat",
    "compat_matrix",
    "dump",
    "handover",
    "kernel_image",
    "known_abis",
    "model",
    "preflight",
    "preserved",
    "prove",
    "rules",
    "simulate",
    "validate",
]

BlobLike = Union[Blob, bytes, bytearray, memoryview, str]
MemoryLike = Union[MemoryImage, str, None]


def _blob(blob: BlobLike) -> Blob:
    if isinstance(blob, Blob):
        return blob
    if isinstance(blob, str):
        return Blob.from_file(blob)
    if isinstance(blob, (bytes, bytearray, memoryview)):
        return Blob.from_bytes(blob)
    raise TypeError(f"expected a Blob, bytes or a path, not {type(blob).__name__}")


def _memory(memory: MemoryLike) -> Optional[MemoryImage]:
    if memory is None or isinstance(memory, MemoryImage):
        return memory
    if isinstance(memory, str):
        return MemoryImage.from_file(memory)
    raise TypeError(f"memory: expected a MemoryImage or a path, not {type(memory).__name__}")


def validate(
    blob: BlobLike,
    memory: MemoryLike = None,
    abi: str = "auto",
    rules: Optional[Mapping[str, str]] = None,
    as_era: Optional[str] = None,
    endian: str = "little",
    kho_v1_bitmap: Optional[str] = None,
    scratch: Union[List[Tuple[int, int]], str, None] = None,
    fdt_phys: Optional[int] = None,
) -> Report:
    """Check a KHO hand-over like ``khospec validate``.

    ``blob`` and ``memory`` take paths or objects alike. ``rules`` maps a rule ID
    (or ``FAMILY:*``) to ``"off"``, ``"warning"`` or ``"error"`` (the CLI's
    ``-W``/``-E``). ``as_era`` checks the blob against another era's reader
    (``validate --as``). With ``memory`` the preserved map and the sub-blobs are
    followed too and ``Report.preserved`` is set; ``scratch`` (``(addr, size)``
    pairs, or any ``--scratch`` spelling: ``"ADDR+SIZE,..."``, a directory of
    scratch files) and ``fdt_phys`` (where the root lies in ``memory``) are
    ``--scratch`` and ``--fdt-phys``. ValueError for a bad option, LookupError for an unknown
    rule, OSError for an unreadable path.
    """
    if isinstance(scratch, str):
        scratch = _core.parse_scratch(scratch)
    try:
        return _core.validate(_blob(blob), _memory(memory), abi, dict(rules) if rules else None, as_era, endian,
                              kho_v1_bitmap, scratch, fdt_phys)
    except KeyError as e:  # unknown rule in `rules`
        raise LookupError(str(e.args[0]) if e.args else "unknown rule") from None


def preserved(blob: BlobLike, memory: MemoryLike, kho_v1_bitmap: Optional[str] = None) -> Iterator[Tuple[int, int]]:
    """Iterate the preserved set ``(phys, order)`` the blob's memory map describes in ``memory``.

    Nothing is yielded when the map cannot be decoded; ``validate`` says why.
    ValueError without ``memory``: the map lives there.
    """
    image = _memory(memory)
    if image is None:
        raise ValueError("preserved() reads the map in memory: give memory= (a MemoryImage or a path)")
    report = _core.validate(_blob(blob), image, "auto", None, None, "little", kho_v1_bitmap)
    return iter(report.preserved or ())


def dump(blob: BlobLike, endian: str = "little") -> Dict[str, Any]:
    """Decode a blob to nested dicts: ``{"name", "ok", "abi", "tree", "report"}``.

    ``tree`` is ``{"name", "path", "offset", "properties": {name: value},
    "children": {name: node}}`` with values decoded natively: ``int`` for
    u32/u64/phys_addr, ``str`` for strings, ``list`` for string lists and arrays,
    ``bytes`` when the length is wrong for the type.
    """
    return _core.dump(_blob(blob), endian)


def handover(
    blob: BlobLike,
    memory: Optional[MemoryImage] = None,
    depth: Optional[int] = None,
    summary: bool = False,
    release: Optional[str] = None,
) -> Optional[Dict[str, Any]]:
    """The followed hand-over, the tree ``khospec dump -f json --memory`` prints.

    Each node is ``{"kind", "name", "format", "path", "phys", "size", "order",
    "preserved", "fields": [{"name", "value", "number"}], "children": [...],
    "omitted", "not_shown"}``: the root, the map summary (blocks per order) and
    every client decoded (reserve_mem regions, kexec-metadata, test_kho folios,
    LUO sessions -> files -> memfd -> folios). ``depth`` cuts the tree that many
    levels below the root; ``summary`` counts blocks, folios and chunk pages
    instead of listing them. A KHO root needs ``memory``; a client blob on its own
    (debugfs ``sub_fdts/LUO``, ``kexec-metadata``) does not. ``None`` when there
    is nothing to follow; ``validate`` says why.
    """
    if depth is not None and depth < 0:
        raise ValueError("depth must be 0 or more")
    text = _core.handover_json(_blob(blob), memory, -1 if depth is None else depth, summary, "little", release)
    return json.loads(text) if text else None


def kernel_image(path: str) -> Dict[str, Any]:
    """Read a kernel image like ``khospec kimage``: bzImage, arm64 Image or Image.gz, vmlinux.

    Returns ``{"ok": bool, "image": {...} | None, "error": {"kind", "message"} | None}``.
    ``image`` holds ``format``, ``arch``, ``compression``, ``release`` ("7.3.4"),
    ``major``, ``minor``, ``banner``, ``config`` (every ``CONFIG_*`` of the embedded
    .config, unset ones as ``"n"``; None when the image was built without
    CONFIG_IKCONFIG, said in ``config_missing``), ``config_text``,
    ``sections_known`` and ``liveupdate_sections`` (name, size, version, strings).
    A bad image is ``ok`` False with ``error.kind`` one of not_kernel_image,
    truncated, unknown_compression, corrupt, unsupported; an unreadable file
    raises OSError.
    """
    return _core.kernel_image(path)


def preflight(
    blob: BlobLike,
    memory: Optional[MemoryImage] = None,
    *,
    kernel: Optional[str] = None,
    release: Optional[str] = None,
    era: Optional[str] = None,
    cmdline: Optional[str] = None,
    scratch: Optional[List[Tuple[int, int]]] = None,
    fdt_phys: Optional[int] = None,
    ram: int = 0,
) -> Dict[str, Any]:
    """Before ``kexec -e``: what the next kernel (B) makes of everything this one preserved,
    like ``khospec preflight``.

    ``blob`` is A's root FDT (a path, bytes, a :class:`Blob`; ``Blob.from_live("out")`` brings
    its memory and scratch), ``memory`` A's memory image (``fdt_phys`` where the root lies in it).
    Name B by exactly one of ``kernel`` (an image path: its release, IKCONFIG and compatibles),
    ``release`` ("7.3") or ``era`` ("kho-v4"); ``cmdline`` is B's command line (None: assumed
    ``kho=on liveupdate=on`` plus A's reserve_mem names, said in ``notes``); ``scratch`` A's
    scratch areas as ``(addr, size)``.

    Returns ``{"a", "b", "items", "all_revive", "notes", "b_log"}``; each item is ``{"kind",
    "name", "path", "outcome", "why", "decided_by"}`` with outcome ``revive``, ``refuse``,
    ``misread``, ``dropped`` or ``unknown``. Raises ValueError for an unknown release or era,
    a bad image or a hand-over that cannot be followed, OSError for an unreadable file.
    """
    named = [(k, v) for k, v in (("kernel", kernel), ("release", release), ("era", era)) if v is not None]
    if len(named) != 1:
        raise ValueError("name the next kernel with exactly one of kernel=, release=, era=")
    kind, name = named[0]
    text = _core.preflight_json(_blob(blob), memory, kind, name, cmdline, scratch, fdt_phys, ram)
    result: Dict[str, Any] = json.loads(text)
    return result


def known_abis() -> List[str]:
    """Every ABI name ``validate(abi=...)`` accepts besides ``"auto"``."""
    return _core.known_abis()


def rules() -> List[Dict[str, str]]:
    """The rule registry (docs/rules.md): id, level, family, summary, hint, kernel, fix, reason."""
    return _core.rules()


def compat(
    old: str,
    new: str,
    direction: str = "both",
    allow: Optional[str] = None,
    old_memory: Optional[str] = None,
    new_memory: Optional[str] = None,
) -> Report:
    """Compare two hand-overs, schema files, schema directories or ABI dumps like ``khospec compat``.

    ``old`` and ``new`` are both hand-overs (a root FDT: debugfs ``kho/out/fdt``,
    a capture's ``out_fdt.dtb``; ``old_memory`` / ``new_memory``: its memory
    image, an ELF core, to follow the clients) or both schema-side inputs.
    ``direction``: ``"both"``, ``"forward"`` (new kernel reads old data) or
    ``"backward"``. ``allow``: a compat-allow.yaml path. An unusable input (an
    ELF core or a client sub-blob given as the hand-over, binary data, a
    hand-over against a schema) gives a report with ``compat_input_invalid``
    saying what was given and what to run, and ``exit_code`` 1.
    """
    return _core.compat(old, new, direction, allow, old_memory, new_memory)


def compat_matrix() -> Dict[str, Any]:
    """The reader x writer era matrix: ``{"eras", "all_agree", "cells": [...]}``.

    Each cell has ``writer``, ``reader``, ``outcome`` (revive / refuse /
    misread), ``agree`` and the ``schema`` and ``model`` derivations.
    """
    return json.loads(_core.compat_matrix_json())


def abi_dump(era: str) -> Dict[str, Any]:
    """The wire ABI a kernel of ``era`` writes (``khospec model abi-dump``)."""
    return json.loads(_core.abi_dump_json(era))


def prove(
    only: Optional[str] = None,
    era: Optional[str] = None,
    timeout: Optional[float] = None,
    k: Optional[int] = None,
    bmc: Optional[int] = None,
    jobs: int = 2,
    lemmas: bool = True,
    list_only: bool = False,
) -> List[Dict[str, Any]]:
    """Run the spec's Z3 proof obligations like ``khospec prove``; one dict per obligation.

    ``only`` (glob or substring), ``era``, ``timeout`` (seconds per query), ``k``
    (region bound, 2..8), ``bmc`` (state-machine depth, 1..16), ``jobs`` and
    ``lemmas=False`` (``--no-lemmas``) are the CLI's options; ``list_only=True``
    lists the selection without solving (``--list``). ValueError for a bad value
    or a pattern that matches nothing.
    """
    from . import _prove  # loads the solver: only when asked to prove

    extra: Dict[str, Any] = {"jobs": jobs, "lemmas": lemmas, "list": list_only}
    if k is not None:
        extra["k"] = k
    if bmc is not None:
        extra["bmc"] = bmc
    return list(json.loads(_prove.run(only, era, timeout, **extra)))
