"""A client for QEMU's gdbstub (the GDB remote serial protocol), just enough to
stop a guest at a kernel function and read or write its memory."""

import socket
import time


class RemoteError(RuntimeError):
    pass


def connect_unix(path, timeout):
    """A connected socket to QEMU's Unix socket `path` (QEMU creates it a
    moment after it starts), or None after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)


class Gdb:
    def __init__(self, path, timeout=30.0):
        self.sock = connect_unix(path, timeout)
        if self.sock is None:
            raise RemoteError(f"no gdbstub at {path}")
        self.buf = b""
        self.phys = False
        self.request("?")

    def close(self):
        self.sock.close()

    def _send(self, data):
        csum = sum(data.encode()) & 0xFF
        self.sock.sendall(f"${data}#{csum:02x}".encode())

    def _read_packet(self, timeout):
        self.sock.settimeout(timeout)
        while True:
            start = self.buf.find(b"$")
            end = self.buf.find(b"#", start + 1) if start >= 0 else -1
            if start >= 0 and end >= 0 and len(self.buf) >= end + 3:
                body = self.buf[start + 1:end].decode("latin-1")
                self.buf = self.buf[end + 3:]
                try:
                    self.sock.sendall(b"+")
                except OSError:
                    pass  # QEMU may exit right after its last packet
                return body
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("gdbstub: no reply")
            except ConnectionResetError:
                return None
            if not chunk:
                return None  # QEMU exited
            self.buf += chunk

    def request(self, data, timeout=30.0):
        self._send(data)
        reply = self._read_packet(timeout)
        if reply is None:
            raise RemoteError(f"gdbstub closed on '{data[:20]}'")
        return reply

    def _ok(self, data):
        r = self.request(data)
        if r != "OK":
            raise RemoteError(f"gdbstub refused '{data[:40]}': {r!r}")

    def set_phys(self, phys):
        # QEMU extension: memory accesses by physical address.
        if self.phys != phys:
            self._ok(f"Qqemu.PhyMemMode:{1 if phys else 0}")
            self.phys = phys

    def add_breakpoint(self, addr):
        self._ok(f"Z0,{addr:x},1")

    def remove_breakpoint(self, addr):
        self._ok(f"z0,{addr:x},1")

    def step(self):
        """One instruction: how to leave a breakpoint the guest sits on."""
        r = self.request("s")
        if not r.startswith(("T", "S")):
            raise RemoteError(f"gdbstub: step gave {r!r}")

    def cont(self, timeout):
        """Resumes; returns 'stopped' at a breakpoint or 'exited' when QEMU ends."""
        try:
            self._send("c")
        except OSError:
            return "exited"
        reply = self._read_packet(timeout)
        if reply is None or reply.startswith(("W", "X")):
            return "exited"
        if reply.startswith(("T", "S")):
            return "stopped"
        raise RemoteError(f"gdbstub: unexpected stop reply {reply!r}")

    def read(self, addr, length, phys=False):
        self.set_phys(phys)
        out = b""
        while len(out) < length:
            n = min(2048, length - len(out))
            r = self.request(f"m{addr + len(out):x},{n:x}")
            if r.startswith("E") or not r:
                raise RemoteError(f"cannot read {n} bytes at {addr + len(out):#x}: {r}")
            out += bytes.fromhex(r)
        return out

    def write(self, addr, data, phys=True):
        self.set_phys(phys)
        self._ok(f"M{addr:x},{len(data):x}:{data.hex()}")
