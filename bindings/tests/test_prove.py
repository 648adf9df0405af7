"""prove(): the spec's Z3 obligations from Python (a fast subset; ctest runs them all)."""

from __future__ import annotations

import pytest

import khospec


def test_prove_radix_obligations() -> None:
    results = khospec.prove(only="kho/radix*")
    assert results, "no obligation matched"
    for r in results:
        assert r["name"].startswith("kho/radix")
        assert r["verdict"] == "proved" and r["as_expected"] is True
        assert r["invariants"] and all(i.startswith("INV_") for i in r["invariants"])


def test_prove_expected_hazard_is_refuted_with_a_counterexample() -> None:
    results = khospec.prove(only="hazard/v6.16/order_above_max")
    assert [r["verdict"] for r in results] == ["refuted"]
    assert results[0]["as_expected"] is True and results[0]["counterexample"]


def test_prove_misuse() -> None:
    with pytest.raises(ValueError):
        khospec.prove(era="v9.9")


def test_prove_takes_the_cli_options() -> None:
    import pytest

    listed = khospec.prove(only="hazard/*", list_only=True)
    assert listed and all("verdict" not in o for o in listed)
    assert {o["name"] for o in listed} >= {"hazard/v6.19/stale_map"}
    deeper = khospec.prove(only="sm/v6.19/bmc*", bmc=3, list_only=True)
    assert [o["name"] for o in deeper] == ["sm/v6.19/bmc[k=3]"]
    with pytest.raises(ValueError, match="k must be 2..8"):
        khospec.prove(only="hazard/*", k=9)
    r = khospec.prove(only="hazard/v6.19/stale_map", bmc=4, jobs=1)
    assert r[0]["verdict"] == "refuted" and "preserved but lost" in r[0]["counterexample"]
