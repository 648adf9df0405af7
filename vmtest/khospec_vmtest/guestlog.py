"""The guest's serial log, cut into stages and sections by its "@@VMTEST" lines."""

import json
import re

MARK = re.compile(r"^@@VMTEST (\d+) (begin|end|boot|kexec|kexec-failed|done)\b ?(.*)$")

# What the next kernel says when it revives (or refuses) a hand-over.
REVIVAL = [
    (re.compile(r"KHO: found kexec handover data"), "kho: found hand-over"),
    (re.compile(r"KHO: exec from: (\S+) \(count (\d+)\)"), "kexec-metadata: from {0} (count {1})"),
    (re.compile(r"Revived memory reservation '([^']+)' from KHO"), "reserve_mem: revived '{0}'"),
    (re.compile(r"test_kho: KHO restore succeeded"), "test_kho: restore succeeded"),
    (re.compile(r"luo: Retrieved live update data, liveupdate number: (\d+)"), "luo: retrieved (number {0})"),
    (re.compile(r"khospec-agent: luo-get VERIFIED.*"), "memfd: content verified"),
]
TROUBLE = re.compile(r"(?i:(KHO|luo|test_kho|memblock|memfd).*(fail|error|invalid|unable|cannot|corrupt|mismatch|"
                     r"refus|incompatible))|WARNING:|\bBUG:|Kernel panic|khospec-agent: FAILED")


class Stage:
    def __init__(self, n):
        self.n = n
        self.release = None
        self.sections = {}       # name -> (text, rc)
        self.kexec = False
        self.done = False
        self.console = ""        # the serial console while this kernel booted (loglevel 4: warnings up)

    def json_section(self, name):
        text, rc = self.sections.get(name, (None, None))
        if text is None:
            return None, rc
        start = text.find("{")
        try:
            return (json.loads(text[start:]) if start >= 0 else None), rc
        except json.JSONDecodeError:
            return None, rc

    def dmesg(self):
        return self.sections.get("dmesg", ("", None))[0]

    def revived(self):
        out = []
        text = self.dmesg() + "\n" + self.sections.get("setup", ("", None))[0]
        for line in text.splitlines():
            for pat, fmt in REVIVAL:
                m = pat.search(line)
                if m:
                    out.append(fmt.format(*m.groups()))
        return out

    def trouble(self):
        text = self.console + "\n" + self.dmesg() + "\n" + self.sections.get("setup", ("", None))[0]
        return [line.strip() for line in text.splitlines() if TROUBLE.search(line)]


def parse(text):
    stages = {}
    open_section = None
    buf = []
    console = []          # kernel console lines since the last kexec (or power-on)
    last_kexec = 0
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        m = MARK.match(line)
        if not m:
            if open_section:
                buf.append(line)
            else:
                console.append(line)
            continue
        n, kind, rest = int(m.group(1)), m.group(2), m.group(3)
        st = stages.setdefault(n, Stage(n))
        if kind == "boot":
            st.release = rest.strip()
            st.console = "\n".join(console)
            console = []
        elif kind == "begin":
            open_section = (st, rest.strip())
            buf = []
        elif kind == "end" and open_section:
            name = rest.split()[0] if rest else ""
            rc = re.search(r"rc=(\d+)", rest)
            open_section[0].sections[name] = ("\n".join(buf), int(rc.group(1)) if rc else None)
            open_section = None
        elif kind == "kexec":
            st.kexec = True
            last_kexec = n
            console = []
        elif kind == "done":
            st.done = True
    if last_kexec and last_kexec + 1 not in stages:
        # The next kernel never reached /init: keep what it said (a panic, ...).
        st = stages.setdefault(last_kexec + 1, Stage(last_kexec + 1))
        st.console = "\n".join(console)
    return [stages[k] for k in sorted(stages)]
