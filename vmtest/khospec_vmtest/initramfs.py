"""The guest's initramfs: busybox-static, kexec-tools with its shared libraries,
the static khospec binary, our agent, /init, and the plan for every stage."""

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile

from khospec_vmtest.kernels import REPO, KernelError

GUEST = os.path.join(REPO, "vmtest", "guest")


def _need(path, package):
    if not path or not os.path.exists(path):
        raise KernelError(f"{path or package}: missing (install the Debian package '{package}')")
    return path


def _copy_with_libs(binary, root):
    dst = os.path.join(root, binary.lstrip("/"))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy2(binary, dst)
    out = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        lib = parts[2] if "=>" in parts and len(parts) > 2 else parts[0] if parts and parts[0].startswith("/") else None
        if lib and os.path.exists(lib):
            d = os.path.join(root, lib.lstrip("/"))
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.copy2(lib, d)


def _liveupdate_header():
    tree = subprocess.run([os.path.join(REPO, "scripts", "kernel-source"), "7.3"], stdout=subprocess.PIPE,
                          text=True)
    header = os.path.join(tree.stdout.strip(), "include/uapi/linux/liveupdate.h")
    if tree.returncode != 0 or not os.path.exists(header):
        raise KernelError("the agent needs <linux/liveupdate.h> from scripts/kernel-source 7.3")
    return header


def agent(cache, src=None, header=None):
    """khospec-agent, built static against a 7.x <linux/liveupdate.h> (Debian's linux-source).

    Cached under the hash of its inputs, not their mtimes (a fresh clone's files
    are all newer than the cache); built under a lock, since the ctest tier runs
    two scenarios at once and both may find it missing."""
    src = src or os.path.join(GUEST, "agent.c")
    header = header or _liveupdate_header()
    h = hashlib.sha256()
    for f in (src, header):
        with open(f, "rb") as fh:
            h.update(fh.read())
    out = os.path.join(cache, f"khospec-agent-{h.hexdigest()[:16]}")
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, "khospec-agent.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(out):
            return out
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            inc = os.path.join(tmp, "linux")
            os.makedirs(inc)
            shutil.copy2(header, os.path.join(inc, "liveupdate.h"))
            built = os.path.join(tmp, "khospec-agent")
            subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", built, src, "-I", tmp], check=True)
            os.replace(built, out)
    return out


def build(work, cache, khospec_bin, stage_kernels, stage_cmdlines, stage_setups):
    """Writes work/initramfs.cpio; stage N (1-based) boots stage_kernels[N-1]."""
    root = os.path.join(work, "initramfs")
    shutil.rmtree(root, ignore_errors=True)
    for d in ("bin", "sbin", "proc", "sys", "dev", "run", "tmp", "vmtest"):
        os.makedirs(os.path.join(root, d))
    shutil.copy2(_need(shutil.which("busybox") or "/bin/busybox", "busybox-static"), os.path.join(root, "bin/busybox"))
    _copy_with_libs(_need(shutil.which("kexec") or "/usr/sbin/kexec", "kexec-tools"), root)
    os.symlink("/usr/sbin/kexec", os.path.join(root, "sbin/kexec"))
    # The static khospec, without its debug info (a few MiB instead of ~60).
    subprocess.run(["strip", "-o", os.path.join(root, "bin/khospec"), khospec_bin], check=True)
    shutil.copy2(agent(cache), os.path.join(root, "bin/khospec-agent"))
    shutil.copy2(os.path.join(GUEST, "init"), os.path.join(root, "init"))
    for n, (k, cmdline, setup) in enumerate(zip(stage_kernels, stage_cmdlines, stage_setups), start=1):
        with open(os.path.join(root, f"vmtest/stage{n}.cmdline"), "w") as f:
            f.write(cmdline + "\n")
        if n > 1:
            shutil.copy2(k.bzimage, os.path.join(root, f"vmtest/stage{n}.kernel"))
        if setup:
            with open(os.path.join(root, f"vmtest/stage{n}.setup"), "w") as f:
                f.write(setup + "\n")
    out = os.path.join(work, "initramfs.cpio")
    files = subprocess.run(["find", "."], cwd=root, stdout=subprocess.PIPE, check=True).stdout
    with open(out, "wb") as f:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=files, stdout=f, check=True)
    return out
