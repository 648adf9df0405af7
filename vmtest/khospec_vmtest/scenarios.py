"""The built-in scenarios: the 7.3 capture set (kho-v4-linux-7.3,
one scenario per capture folder) plus chains across releases.

A scenario is data: its stages' command lines, kernels and clients. Each stage
N boots ``kernels[N-1]``: a release ("7.3") or a test-kernel variant of one
("7.3-memfd-bump", "7.3-no-memfd": scripts/test-kernel --variant).
"""

from dataclasses import dataclass
from typing import List, Optional, Tuple


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    cmdline: str = ""            # extra kernel parameters, every stage (unless `cmdlines`)
    stages: int = 2
    ram: str = "2G"
    test_kho: bool = False       # a kernel with TEST_KEXEC_HANDOVER
    luo: bool = False            # a LUO session with a memfd, stage 1 -> 2
    kernels: Optional[List[str]] = None  # per stage; None: the user's / default release
    tier: bool = True            # part of the ctest vmtest tier
    known: str = ""              # why it is out of the tier: a known, open disagreement
    cmdlines: Optional[List[str]] = None  # per stage extra parameters, instead of `cmdline`
    no_kho_on: Tuple[int, ...] = ()      # stages booted without kho=on
    preflight: bool = False      # at stage 1's kexec: `khospec preflight`, compared with what stage 2 revived


LUO_SESSION = "kho-dump-session"
LUO_TOKEN = 0x1234ABCD
PREFLIGHT_CMDLINE = "liveupdate=on reserve_mem=4M:4096:trace"

SCENARIOS = [
    Scenario("kho-only", "kexec-metadata only (always present from 7.1)"),
    Scenario("reserve-mem-1", "one reserve_mem range, 4 MiB at 4 KiB alignment (one order-10 or two order-9 blocks)",
             "reserve_mem=4M:4096:trace"),
    Scenario("reserve-mem-4", "four reserve_mem ranges, orders 0-9",
             "reserve_mem=4M:4096:trace reserve_mem=1M:4096:oops reserve_mem=12K:4096:small "
             "reserve_mem=2M:2M:aligned2m"),
    Scenario("reserve-mem-64m", "a 64 MiB range: one order-14 block, above MAX_PAGE_ORDER",
             "reserve_mem=64M:64M:big"),
    Scenario("scratch-explicit", "explicit scratch sizes lowmem,global,pernode",
             "kho_scratch=32M,256M,64M reserve_mem=4M:4096:trace"),
    Scenario("scratch-400pct", "scratch as a percentage of memblock reservations",
             "kho_scratch=400% reserve_mem=4M:4096:trace"),
    Scenario("mem6g", "6 GiB of RAM: memory above 4 GiB", "reserve_mem=4M:4096:trace", ram="6G"),
    Scenario("test-kho", "lib/test_kho.c: a folio FDT and a kho_vmalloc array", test_kho=True),
    Scenario("test-kho-reserve-mem", "test_kho beside a reserve_mem range", "reserve_mem=4M:4096:trace",
             test_kho=True),
    Scenario("recursive-3stage", "k1 -> k2 -> k3: reservations revived and handed on",
             "kho_scratch=64M,192M,96M reserve_mem=4M:4096:trace reserve_mem=12K:4096:small", stages=3),
    Scenario("recursive-test-kho-3stage", "test_kho through three kernels", stages=3, test_kho=True),
    Scenario("luo-memfd", "a LUO session with one memfd (5 pages, one a hole), retrieved in k2",
             "liveupdate=on reserve_mem=4M:4096:trace", luo=True),
    Scenario("chain-7.2-7.3", "a 7.2 kernel hands over to 7.3", "reserve_mem=4M:4096:trace",
             kernels=["7.2", "7.3"]),
    Scenario("chain-7.3-7.2", "a 7.3 kernel hands over to 7.2", "reserve_mem=4M:4096:trace",
             kernels=["7.3", "7.2"]),
    # Preflight proved (issue 20): at stage 1's machine_kexec the host asks
    # `khospec preflight` about the core with B's bzImage and command line; B's
    # dmesg, debugfs in/ and the agent then say what it revived.
    Scenario("preflight-7.2-7.3", "preflight: 7.2 hands a LUO memfd and reserve_mem to 7.3 (revive)",
             PREFLIGHT_CMDLINE, luo=True, kernels=["7.2", "7.3"], preflight=True),
    Scenario("preflight-7.3-7.2", "preflight: 7.3 hands a LUO memfd and reserve_mem to 7.2 (revive)",
             PREFLIGHT_CMDLINE, luo=True, kernels=["7.3", "7.2"], preflight=True),
    Scenario("preflight-memfd-bump", "preflight: B's memfd handler is memfd-v9, A's memfd is memfd-v2",
             PREFLIGHT_CMDLINE, luo=True, kernels=["7.3", "7.3-memfd-bump"], preflight=True),
    Scenario("preflight-no-memfd", "preflight: B is built without LIVEUPDATE_MEMFD",
             PREFLIGHT_CMDLINE, luo=True, kernels=["7.3", "7.3-no-memfd"], preflight=True),
    Scenario("preflight-no-kho", "preflight: B's command line has no kho=on",
             PREFLIGHT_CMDLINE, luo=True, no_kho_on=(2,), preflight=True),
    Scenario("preflight-no-reserve-name", "preflight: A reserves 'trace', B's command line does not name it",
             cmdlines=["reserve_mem=4M:4096:trace", ""], preflight=True),
]


def by_name(name):
    for s in SCENARIOS:
        if s.name == name:
            return s
    return None


def stage_extras(s, stage):
    """The scenario's own kernel parameters for `stage` (1-based)."""
    return s.cmdlines[stage - 1] if s.cmdlines else s.cmdline


def stage_cmdline(s, stage):
    # no_timer_check: a loaded TCG host can fail the IO-APIC timer check and panic.
    kho = "" if stage in s.no_kho_on else "kho=on"
    parts = ["console=ttyS0", "nokaslr", "no_timer_check", kho, "loglevel=4", "panic=-1", stage_extras(s, stage),
             f"khospec.stage={stage}"]
    return " ".join(p for p in parts if p)


def kernel_name(name):
    """"7.3-memfd-bump" -> ("7.3", "memfd-bump"); "7.3" -> ("7.3", None)."""
    release, _, variant = name.partition("-")
    return release, variant or None


def _reserve_names(params):
    return [p.split(":")[-1] for p in params.split() if p.startswith("reserve_mem=")]


def expected_revivals(s, stage):
    """What the kernel after `stage` must say it revived (guestlog.REVIVAL
    wording). test_kho generates data on a cold boot only (lib/test_kho.c
    kho_test_init(), 7.3): a KHO-booted kernel restores and hands on nothing."""
    out = ["kho: found hand-over", "kexec-metadata: from"]
    # A range is revived when both kernels name it (reserve_mem_kho_revive(), 7.3).
    nxt = _reserve_names(stage_extras(s, stage + 1)) if stage < s.stages else []
    out += [f"reserve_mem: revived '{n}'" for n in _reserve_names(stage_extras(s, stage)) if n in nxt]
    if s.test_kho and stage == 1:
        out.append("test_kho: restore succeeded")
    if s.luo and stage == 1:
        out.append("memfd: content verified")
    return out
