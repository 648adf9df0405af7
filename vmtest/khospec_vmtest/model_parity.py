"""The model running the scenario the guest ran: same RAM, same command lines,
same kernels' eras; compared stage by stage with what the real kernel handed over."""

from collections import Counter


def _unit(ram):
    n = ram.upper().rstrip("B")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(n[-1], 1)
    return int(n[:-1] if n[-1] in "KMG" else n) * mult


def run_model(scenario, releases, cmdlines):
    """Per stage: the model kernel's outgoing blocks at its kexec and its scratch,
    or an error string when the model cannot run it."""
    try:
        from khospec import model
    except ImportError as e:  # the bindings are not on PYTHONPATH
        return None, f"the khospec Python module is not importable ({e})"
    m = model.Machine(ram=_unit(scenario.ram))
    out = []
    try:
        k = m.boot(model.resolve_era(releases[0])[0], cmdlines[0], test_kho=scenario.test_kho)
        if scenario.luo:
            err = _luo_prep(k)
            if err:
                return out, f"model: {err}"
        for n in range(1, len(releases) + 1):
            if n < len(releases) and k.kexec_load() != 0:
                return out, f"the model's kexec_file_load() failed in stage {n}"
            out.append({"preserved": list(k.preserved), "scratch": list(k.scratch), "era": k.era,
                        "clients": sorted(n for n in k.out_blobs() if n != "fdt")})
            if n == len(releases):
                break
            k = m.kexec(model.resolve_era(releases[n])[0], cmdlines[n], test_kho=scenario.test_kho)
            if k is None:
                return out, f"the model's kexec into stage {n + 1} failed"
    except Exception as e:  # a model error is reported, never hidden
        return out, f"model: {e}"
    return out, None


def _luo_prep(k):
    """What khospec-agent luo-prep does in the guest (vmtest/guest/agent.c)."""
    from khospec_vmtest.scenarios import LUO_SESSION, LUO_TOKEN
    fd = k.memfd_create()
    if fd < 0:
        return f"memfd_create: {fd}"
    for page in (0, 1, 2, 4):  # page 3 stays a hole
        if k.memfd_write(fd, page * 4096, bytes([0x40 + page * 7]) * 4096) != 0:
            return "memfd_write failed"
    if k.memfd_truncate(fd, 5 * 4096) != 0 or k.memfd_seek(fd, 1234) != 0:
        return "memfd_truncate/seek failed"
    s = k.luo_create_session(LUO_SESSION)
    if s < 0:
        return f"luo_create_session: {s}"
    rc = k.luo_preserve_fd(s, fd, LUO_TOKEN)
    return f"luo_preserve_fd: {rc}" if rc != 0 else None


def _orders(blocks):
    return Counter(order for _, order in blocks)


def compare(real_blocks, real_clients, model_stage):
    """Differences between a real stage and the model's (empty: parity): the
    clients in the root, and the bytes they preserve."""
    diffs = []
    if sorted(real_clients) != model_stage["clients"]:
        diffs.append("clients: kernel " + ", ".join(sorted(real_clients)) + "; model " +
                     ", ".join(model_stage["clients"]))
    rb = sum(4096 << o for _, o in real_blocks)
    mb = sum(4096 << o for _, o in model_stage["preserved"])
    if rb != mb:
        diffs.append(f"preserved bytes: kernel {rb:#x}, model {mb:#x}")
    return diffs


def placement_note(real_blocks, model_stage):
    """Blocks by order follow where each region was placed (its alignment), which
    depends on this kernel's early allocations: shown, not counted (docs/vmtest.md)."""
    real, mod = _orders(real_blocks), _orders(model_stage["preserved"])
    if real == mod:
        return None
    return "blocks by order: kernel " + _fmt(real) + ", model " + _fmt(mod)


def scratch_note(real_scratch_len, model_stage):
    """Scratch sizes follow the boot footprint (RSRV_KERN), which the model takes
    from its calibration on the captured kernels, not from this kernel: a
    difference is shown, not counted against parity (docs/vmtest.md)."""
    if real_scratch_len is None:
        return None
    ms = [size for _, size in model_stage["scratch"]]
    if ms == real_scratch_len:
        return None
    return ("scratch sizes: kernel " + ", ".join(hex(x) for x in real_scratch_len) + "; model " +
            ", ".join(hex(x) for x in ms))


def _fmt(c):
    return "{" + ", ".join(f"o{o}:{c[o]}" for o in sorted(c)) + "}"
