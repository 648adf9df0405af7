"""A QMP (QEMU Machine Protocol) client: JSON lines over a Unix socket."""

import json
import socket
import time


class QmpError(RuntimeError):
    pass


class Qmp:
    def __init__(self, path, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise QmpError(f"no QMP socket at {path}")
                time.sleep(0.05)
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
