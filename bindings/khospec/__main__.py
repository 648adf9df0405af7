"""``python -m khospec ARGS`` behaves like the ``khospec`` command."""

from __future__ import annotations

import sys

from . import _core


def main(argv: "list[str] | None" = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    data = sys.stdin.buffer.read() if "-" in args else b""
    rc, out, err = _core.run_cli(args, data)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    sys.stderr.buffer.write(err)
    sys.stderr.flush()
    return int(rc)


if __name__ == "__main__":
    sys.exit(main())
