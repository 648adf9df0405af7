"""``python -m khospec ARGS`` runs the ``khospec`` command with ARGS.

The package calls the libraries for everything it offers as functions; the
command line is the ``khospec`` program's, so this entry point runs it: from
``$KHOSPEC_BIN``, beside the package in a build tree or an install prefix,
or from ``PATH``.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
from typing import List, Optional


def find_binary() -> Optional[str]:
    env = os.environ.get("KHOSPEC_BIN")
    if env:
        return env
    pkg = pathlib.Path(__file__).resolve().parent
    # build/<preset>/python/khospec -> build/<preset>/khospec;
    # <prefix>/lib/python3/dist-packages/khospec -> <prefix>/bin/khospec
    for cand in (pkg.parent.parent / "khospec", pkg.parents[3] / "bin" / "khospec"):
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return shutil.which("khospec")


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    exe = find_binary()
    if exe is None:
        sys.stderr.write("khospec: error: the khospec program was not found (set KHOSPEC_BIN or put it on PATH)\n")
        return 1
    sys.stdout.flush()
    sys.stderr.flush()
    # Inherit the standard streams when they are real files; copy them when
    # a caller (pytest's capture) replaced them with Python objects.
    try:
        sys.stdout.fileno()
        sys.stderr.fileno()
        return subprocess.call([exe, *args])
    except (AttributeError, OSError, ValueError):
        r = subprocess.run([exe, *args], capture_output=True, check=False)
        sys.stdout.buffer.write(r.stdout)
        sys.stderr.buffer.write(r.stderr)
        return r.returncode


if __name__ == "__main__":
    sys.exit(main())
