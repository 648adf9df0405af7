"""End to end: a three-kernel chain in Python; every hand-over validates clean
with its memory, and the decoded preserved set equals the model's."""

from __future__ import annotations

import pytest

import khospec

pytestmark = pytest.mark.model


@pytest.mark.parametrize("era", khospec.model.eras())
def test_three_kernel_chain(era: str) -> None:
    m = khospec.model.Machine(ram="2G")
    cmdline = "kho=on reserve_mem=4M:4096:trace"
    k = m.boot(era, cmdline)
    folios = []
    for step in range(2):  # kernel 1 -> 2 -> 3
        for order in (0, 3, 9):
            p = k.alloc_pages(order)
            assert p is not None
            k.write(p, f"kernel {k.index} order {order}".encode())
            assert k.preserve_folio(p, order) == 0
            folios.append((p, order, k.index))
        assert k.finalize() == 0
        assert k.kexec_load() == 0
        blob = khospec.Blob.from_bytes(k.out_fdt(), f"{era}/k{k.index}/out/fdt")
        memory = m.memory()
        report = khospec.validate(blob, memory=memory, as_era=era)
        assert report.exit_code == 0, [str(d) for d in report]
        decoded = sorted(khospec.preserved(blob, memory))
        assert decoded == sorted(k.preserved), f"kernel {k.index}"
        nxt = m.kexec(era, cmdline)
        assert nxt is not None and nxt.kho_boot
        assert sorted(nxt.incoming) == decoded
        # The new kernel restores what this kernel preserved (its own folios).
        for p, order, owner in folios:
            if owner == k.index:
                assert nxt.restore_folio(p) == order
                assert nxt.read(p, 32).startswith(f"kernel {owner} order {order}".encode())
        assert [f for f in nxt.findings if f[1] == "error"] == []
        k = nxt
    assert [x.index for x in m.kernels] == [1, 2, 3]
