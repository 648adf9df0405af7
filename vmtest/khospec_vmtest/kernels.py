"""Kernel images for the guest: a user's bzImage with its System.map, or a test
kernel the project builds (scripts/test-kernel)."""

import os
import re
import subprocess
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class KernelError(RuntimeError):
    pass


@dataclass
class KernelImage:
    bzimage: str
    system_map: str
    release: str            # "7.3" (from the image's version string)
    machine_kexec: int      # where the host stops the guest: the last moment before the jump
    kho_out: int            # struct kho_out; its first field is the root FDT (7.1+)


def _symbols(path, names):
    found = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] in names:
                found[parts[2]] = int(parts[0], 16)
    return found


def _release(bzimage):
    # x86 boot protocol: the setup header's kernel_version offset (at 0x20e) + 0x200.
    with open(bzimage, "rb") as f:
        head = f.read(0x10000)
    if len(head) < 0x210 or head[0x202:0x206] != b"HdrS":
        raise KernelError(f"{bzimage}: not an x86 bzImage (no HdrS setup header)")
    off = int.from_bytes(head[0x20E:0x210], "little") + 0x200
    version = head[off:off + 64].split(b"\0")[0].decode("latin-1")
    m = re.match(r"(\d+)\.(\d+)", version)
    if not m:
        raise KernelError(f"{bzimage}: no version string in the setup header")
    return f"{m.group(1)}.{m.group(2)}"


def load(bzimage, system_map=None):
    if not os.path.isfile(bzimage):
        raise KernelError(f"{bzimage}: no such kernel image")
    system_map = system_map or os.path.join(os.path.dirname(os.path.abspath(bzimage)), "System.map")
    if not os.path.isfile(system_map):
        raise KernelError(f"{system_map}: the kernel's System.map is needed (machine_kexec, kho_out); "
                          "give --system-map")
    syms = _symbols(system_map, {"machine_kexec", "kho_out"})
    for s in ("machine_kexec", "kho_out"):
        if s not in syms:
            raise KernelError(f"{system_map}: no '{s}' (a kernel with KEXEC_HANDOVER 7.1+ is needed)")
    return KernelImage(bzimage, system_map, _release(bzimage), syms["machine_kexec"], syms["kho_out"])


def test_kernel(release, test_kho=False, variant=None):
    """The project's test kernel for `release` (a variant of it: "memfd-bump",
    "no-memfd"), built once and cached."""
    cmd = [os.path.join(REPO, "scripts", "test-kernel")] + (["--test-kho"] if test_kho else []) + \
        (["--variant", variant] if variant else []) + [release]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None, text=True)
    if r.returncode != 0:
        raise KernelError(f"scripts/test-kernel {' '.join(cmd[1:])} failed (exit {r.returncode})")
    return load(r.stdout.strip().splitlines()[-1])
