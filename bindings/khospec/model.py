"""The reference model from Python: memblock and a KHO chain of kernels.

``Memblock`` mirrors mm/memblock.c (``add``, ``reserve``, ``remove``, ``free``,
``alloc``...); ``Machine``/``Kernel`` run a KHO chain step by step (boot,
preserve, finalize, kexec_load, kexec, restore) and hand back the FDT bytes
and the memory image; ``simulate`` runs a YAML scenario or a built-in one.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple

from . import _core
from ._core import Kernel, Machine

__all__ = ["Kernel", "Machine", "Memblock", "Region", "eras", "releases", "resolve_era", "scenarios", "simulate"]


class Region(NamedTuple):
    """One memblock region: ``[base, base + size)`` with its flags and node."""

    base: int
    size: int
    flags: str
    nid: int

    @property
    def end(self) -> int:
        return self.base + self.size


class Memblock(_core.Memblock):
    """memblock as ``mm/memblock.c`` implements it (era ``"v6.16"`` or ``"v6.12"``)."""

    def regions(self, type: str = "memory") -> Iterator[Region]:
        """Iterate the regions of ``"memory"``, ``"reserved"`` or ``"physmem"``, in address order."""
        for base, size, flags, nid in self._regions(type):
            yield Region(base, size, flags, nid)


def eras() -> List[str]:
    """Every KHO era the model knows, oldest first (the registry's order)."""
    return _core.eras()


def releases() -> List[Dict[str, Any]]:
    """Every kernel release khospec knows, oldest first: ``version``, the
    ``era`` it writes, its debugfs scratch file names, whether it has a
    finalize file, its scratch parameter and the client formats it writes."""
    return _core.releases()


def resolve_era(name: str) -> Tuple[str, Optional[str], str]:
    """What an era or release name means: ``(era, release or None, description)``,
    e.g. ``resolve_era("7.3") == ("kho-v4", "7.3", "kho-v4 (release 7.3)")``.
    ``ValueError`` for a name that is neither."""
    return _core.resolve_era(name)


def scenarios() -> List[str]:
    """The built-in scenario names (``khospec simulate --list``)."""
    return _core.scenarios()


def simulate(scenario: str = "chain", era: Optional[str] = None, out: Optional[str] = None) -> List[Dict[str, Any]]:
    """Run a scenario like ``khospec simulate``: a built-in name (every era, or ``era``), a YAML file or YAML text.

    Returns one dict per run: ``name``, ``era``, ``ok``, ``error``, ``steps``,
    ``kernels`` (each with ``incoming``/``outgoing`` blocks and ``findings``)
    and ``text`` (the CLI's rendering). ``out`` writes what ``--out DIR`` writes
    (per kernel ``kN/out_fdt.dtb``, sub-blobs, scratch files and ``memory.elf``
    at its kexec; a built-in under ``DIR/ERA/``). ``ValueError`` for a name that
    is no built-in or a scenario with errors, ``OSError`` for a file that cannot
    be read or written.
    """
    return _core.simulate(scenario, era, out)
