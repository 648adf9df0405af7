"""A QMP (QEMU Machine Protocol) client: JSON lines over a Unix socket."""

import json

from khospec_vmtest.gdbremote import connect_unix


class QmpError(RuntimeError):
    pass


class Qmp:
    def __init__(self, path, timeout=30.0):
        self.sock = connect_unix(path, timeout)
        if self.sock is None:
            raise QmpError(f"no QMP socket at {path}")
        self.file = self.sock.makefile("rwb")
        self._line()  # greeting
        self.execute("qmp_capabilities")

    def _line(self):
        line = self.file.readline()
        if not line:
            raise QmpError("QEMU closed the QMP socket")
        return json.loads(line)

    def execute(self, command, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            r = self._line()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise QmpError(f"{command}: {r['error'].get('desc', r['error'])}")
            # events ("STOP", "DUMP_COMPLETED", ...) are not replies

    def dump_guest_memory(self, path):
        # paging=false: PT_LOAD segments by physical address, what khospec reads.
        self.execute("dump-guest-memory", paging=False, protocol=f"file:{path}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
