"""Preflight proved on real kernels: at A's machine_kexec the host asks
`khospec preflight` what B will do with each thing A preserved; after B booted,
its dmesg, debugfs in/ and the guest agent say what it did. Compared item by
item: revive against not revived, and the finer outcome where B's log tells."""

import json
import re
import subprocess

from khospec_vmtest import guestlog

OUTCOMES = ("revive", "refuse", "misread", "dropped")


def guest_scratch(serial_path, stage):
    """The scratch A hands to B, as /init printed it from debugfs out/ (read
    from the serial log while the guest sits at machine_kexec): [(phys, len)]."""
    try:
        with open(serial_path, errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    st = next((s for s in guestlog.parse(text) if s.n == stage), None)
    if not st:
        return []
    phys = st.sections.get("out-scratch_phys") or st.sections.get("out-bootmem_phys")
    lens = st.sections.get("out-scratch_len") or st.sections.get("out-bootmem_len")
    if not phys or not lens:
        return []
    try:
        pairs = zip([int(x, 16) for x in phys[0].split()], [int(x, 16) for x in lens[0].split()])
    except ValueError:
        return []
    return [(p, n) for p, n in pairs if n]


def command(khospec, core, root_phys, b_kernel, b_cmdline, scratch):
    cmd = [khospec, "-f", "json", "preflight", "--memory", core, "--fdt-phys", hex(root_phys),
           "--kernel", b_kernel, "--cmdline", b_cmdline]
    if scratch:
        cmd += ["--scratch", ",".join(f"{p:#x}+{n:#x}" for p, n in scratch)]
    return cmd


def parse_prediction(rc, stdout, stderr=""):
    """khospec preflight's answer: {"rc", "items", "b", "error"}; exit 0 and 100
    are answers, anything else (or no JSON) an error."""
    out = {"rc": rc, "items": [], "b": None, "a": None, "error": None}
    try:
        doc = json.loads(stdout)
    except (json.JSONDecodeError, TypeError):
        out["error"] = f"no JSON from khospec preflight (exit {rc}): {(stderr or '').strip()[:300]}"
        return out
    pf = doc.get("preflight") if isinstance(doc, dict) else None
    if rc not in (0, 100) or not isinstance(pf, dict):
        diags = [d.get("message", "") for d in (doc.get("diagnostics") or [])] if isinstance(doc, dict) else []
        out["error"] = f"khospec preflight exit {rc}: " + ("; ".join(diags) or (stderr or "").strip()[:300])
        return out
    out["a"], out["b"] = pf.get("a"), pf.get("b")
    for it in pf.get("items") or []:
        out["items"].append({k: it.get(k) for k in ("kind", "name", "path", "outcome", "why", "decided_by")})
    bad = [i for i in out["items"] if i["outcome"] not in OUTCOMES]
    if bad:
        out["error"] = f"khospec preflight: unknown outcome '{bad[0]['outcome']}'"
    elif (rc == 0) != all(i["outcome"] == "revive" for i in out["items"]):
        out["error"] = f"khospec preflight exit {rc} does not match its items"
    return out


def predict(khospec, core, root_phys, b_kernel, b_cmdline, scratch):
    cmd = command(khospec, core, root_phys, b_kernel, b_cmdline, scratch)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = parse_prediction(r.returncode, r.stdout, r.stderr)
    out["command"] = cmd
    return out


# What B says about each client: (pattern, fact). Facts are keyed by kind and name.
_FACTS = [
    (re.compile(r"KHO: found kexec handover data"), lambda m: ("found",)),
    (re.compile(r"KHO: disabling KHO revival"), lambda m: ("revival-off",)),
    (re.compile(r"handover FDT \(\S+\) is (invalid|incompatible)"), lambda m: ("root-refused", m.group(0))),
    (re.compile(r"KHO: exec from: (\S+)"), lambda m: ("exec-from", m.group(1))),
    (re.compile(r"kexec-metadata (blob too small|version \d+ not supported)"), lambda m: ("exec-refused", m.group(0))),
    (re.compile(r"Revived memory reservation '([^']+)' from KHO"), lambda m: ("reserve", m.group(1))),
    (re.compile(r"KHO reserve-mem '([^']+)' has wrong"), lambda m: ("reserve-refused", m.group(1))),
    (re.compile(r"FDT 'memblock' is incompatible"), lambda m: ("memblock-refused",)),
    (re.compile(r"test_kho: KHO restore succeeded"), lambda m: ("test_kho",)),
    (re.compile(r"luo: Retrieved live update data"), lambda m: ("luo",)),
    (re.compile(r"LUO state is incompatible|failed to retrieve LUO state"), lambda m: ("luo-refused", m.group(0))),
    (re.compile(r"Disabling liveupdate because KHO is disabled"), lambda m: ("luo-off",)),
    (re.compile(r"The incoming tree failed to initialize"), lambda m: ("luo-refused", m.group(0))),
    (re.compile(r"No registered handler for compatible '([^']*)'"), lambda m: ("no-handler", m.group(1))),
    (re.compile(r"Failed to deserialize files for session \[([^\]]*)\]"), lambda m: ("session-lost", m.group(1))),
    (re.compile(r"khospec-agent: luo-get VERIFIED session=(\S+) token=(0x[0-9a-f]+)"),
     lambda m: ("file-verified", m.group(1), int(m.group(2), 16))),
    (re.compile(r"khospec-agent: FAILED: (open /dev/liveupdate|RETRIEVE_SESSION|SESSION_RETRIEVE_FD|\w+): (.*)"),
     lambda m: ("agent-failed", m.group(1), m.group(2))),
    (re.compile(r"Unable to restore folio"), lambda m: ("memfd-refused", m.group(0))),
]


class Evidence:
    """What B's log shows, as facts plus the lines that show them."""

    def __init__(self, stage):
        self.booted = bool(stage and stage.release)
        self.facts = {}
        self.in_blobs = []
        if not stage:
            return
        text = "\n".join((stage.console, stage.dmesg(), stage.sections.get("setup", ("", None))[0]))
        for line in text.splitlines():
            for pat, fact in _FACTS:
                m = pat.search(line)
                if m:
                    self.facts.setdefault(fact(m), line.strip())
        self.in_blobs = in_sub_fdts(stage.sections.get("ls-kho", ("", None))[0])

    def has(self, *key):
        return key in self.facts

    def line(self, *key):
        return self.facts.get(key, "")

    def first(self, kind):
        return next(((k, v) for k, v in self.facts.items() if k[0] == kind), (None, ""))


def in_sub_fdts(ls_lr):
    """The sub-blobs B's debugfs lists under kho/in/sub_fdts (`ls -lR` output)."""
    names, inside = [], False
    for line in ls_lr.splitlines():
        if line.endswith(":"):
            inside = line.rstrip(":").endswith("/in/sub_fdts")
            continue
        parts = line.split()
        if inside and len(parts) >= 9 and not line.startswith("total"):
            names.append(parts[-1])
    return names


def _token(name):
    m = re.search(r"0x[0-9a-fA-F]+", name or "")
    return int(m.group(0), 16) if m else None


def observe(item, ev, luo_session, luo_token):
    """B's outcome for one predicted item: (outcome, evidence), outcome None when
    B's log cannot tell. "not-revived" when B did not revive it and did not say
    why; the finer outcomes when a line of B's says which."""
    if not ev.booted:
        return "not-revived", "B did not reach /init"
    kind, name = item.get("kind"), item.get("name") or ""
    found = ev.has("found") and not ev.has("revival-off")
    if kind in ("root", "map"):
        if found:
            return "revive", ev.line("found")
        k, line = ev.first("root-refused")
        return ("refuse", line) if k else ("refuse", ev.line("revival-off") or "no 'found kexec handover data'")
    if kind == "kexec-metadata":
        if ev.first("exec-from")[0]:
            return "revive", ev.first("exec-from")[1]
        k, line = ev.first("exec-refused")
        return ("refuse", line) if k else ("not-revived", "no 'KHO: exec from'")
    if kind == "reserve_mem":
        if ev.has("reserve", name):
            return "revive", ev.line("reserve", name)
        if ev.has("reserve-refused", name):
            return "refuse", ev.line("reserve-refused", name)
        if ev.has("memblock-refused"):
            return "refuse", ev.line("memblock-refused")
        # memblock reads a name only when B's reserve_mem= asks for it: silence
        # about a range A preserved is B having no reader for it.
        return ("dropped", "nothing in B's dmesg names it") if found else ("not-revived", "B did not take the hand-over")
    if kind == "test_kho":
        return ("revive", ev.line("test_kho")) if ev.has("test_kho") else ("not-revived", "no 'KHO restore succeeded'")
    if kind == "luo":
        k, agent = ev.first("agent-failed")
        if ev.has("luo") and k and k[1] == "open /dev/liveupdate" and "Input/output error" in agent:
            # luo_open(), 7.3: a failed session deserialization makes every open
            # of /dev/liveupdate EIO: B's LUO took the state but serves nothing.
            return "not-revived", f"{ev.line('luo')}; but {agent}"
        if ev.has("luo"):
            return "revive", ev.line("luo")
        k, line = ev.first("luo-refused")
        if k:
            return "refuse", line
        if ev.has("luo-off"):
            return "refuse", ev.line("luo-off")
        return "not-revived", "no 'luo: Retrieved live update data'"
    if kind == "luo_session":
        session = name or luo_session
        k, line = ev.first("file-verified")
        if k and k[1] == session:
            return "revive", line
        if ev.has("session-lost", session):
            return "dropped", ev.line("session-lost", session)
        k, line = ev.first("agent-failed")
        if k and k[1] in ("open /dev/liveupdate", "RETRIEVE_SESSION"):
            return "not-revived", line
        if k:  # the session came back, a file of it did not
            return "revive", f"RETRIEVE_SESSION succeeded ({line})"
        return None, "the agent did not ask for it"
    if kind in ("luo_file", "memfd"):
        token = _token(name) if kind == "luo_file" else None
        token = luo_token if token is None else token
        k, line = ev.first("file-verified")
        if k and k[2] == token:
            return "revive", line
        k, line = ev.first("no-handler")
        if k:
            return "dropped", line
        k, line = ev.first("memfd-refused")
        if k:
            return "refuse", line
        k, line = ev.first("agent-failed")
        if k:
            return "not-revived", line
        return None, "the agent did not ask for it"
    return None, "B's log says nothing about this kind of client"


def _observed_revivals(ev, luo_session, luo_token):
    """(kind, name) of everything B says it revived, so that a revival the
    prediction missed is a disagreement too."""
    out = [("reserve_mem", k[1]) for k in ev.facts if k[0] == "reserve"]
    if ev.first("exec-from")[0]:
        out.append(("kexec-metadata", None))
    if ev.has("test_kho"):
        out.append(("test_kho", None))
    if ev.has("luo"):
        out.append(("luo", None))
    k, _ = ev.first("file-verified")
    if k:
        out += [("luo_session", k[1]), ("luo_file", k[2])]
    return out


def compare(prediction, ev, luo_session, luo_token):
    """One row per predicted item plus one per revival nobody predicted."""
    rows = []
    for it in prediction.get("items") or []:
        obs, evidence = observe(it, ev, luo_session, luo_token)
        row = {"kind": it.get("kind"), "name": it.get("name"), "path": it.get("path"),
               "predicted": it.get("outcome"), "why": it.get("why"), "decided_by": it.get("decided_by"),
               "observed": obs, "evidence": evidence}
        if obs is None:
            row["agree"] = None  # B's log cannot tell: shown, not counted
        else:
            row["agree"] = (it.get("outcome") == "revive") == (obs == "revive")
            row["finer"] = obs not in ("revive", "not-revived")  # B said which kind of failure
            row["same_outcome"] = it.get("outcome") == obs
        rows.append(row)
    for kind, name in _observed_revivals(ev, luo_session, luo_token):
        if not any(_matches(it, kind, name, luo_session) for it in prediction.get("items") or []):
            rows.append({"kind": kind, "name": name if not isinstance(name, int) else f"<token {name:#x}>",
                         "path": None, "predicted": None, "why": "not in the prediction", "decided_by": None,
                         "observed": "revive", "evidence": "B revived it", "agree": False})
    return rows


def _matches(item, kind, name, luo_session):
    if item.get("kind") != kind and not (kind == "luo_file" and item.get("kind") == "memfd"):
        return False
    if name is None:
        return True
    if kind == "luo_file":
        return item.get("kind") == "memfd" or _token(item.get("name")) == name
    if kind == "luo_session":
        return (item.get("name") or luo_session) == name
    return item.get("name") == name


def agrees(rows):
    """Every counted row agrees and at least one was counted."""
    counted = [r for r in rows if r.get("agree") is not None]
    return bool(counted) and all(r["agree"] for r in counted)
