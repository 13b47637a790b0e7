"""The claim record: verdicts follow from readings and their declared tolerances, and every
audited claim has a test of its own in tests/exam/test_exam_q<n>.py."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
import sympy

from archcalc.exam import QUESTIONS, VERDICTS, Claim, Reading, audit, verdict_of

HERE = Path(__file__).resolve().parent


def _claim(*readings: Reading) -> Claim:
    return Claim(
        key="k", question=1, part="a", claim="c", exam_value="e", archcalc_value="a",
        reason="r", how="h", readings=readings,
    )  # fmt: skip


def test_verdict_follows_from_the_readings():
    yes = Reading(name="y", exam=3, archcalc=3)
    no = Reading(name="n", exam=3, archcalc=4)
    assert _claim(yes).verdict == "agrees"
    assert _claim(yes, yes).verdict == "agrees"
    assert _claim(no).verdict == "differs"
    assert _claim(no, no).verdict == "differs"
    assert _claim(yes, no).verdict == "ambiguous" == _claim(no, yes).verdict
    assert _claim().verdict == "ambiguous"  # empirical: nothing to compute
    assert verdict_of([]) == "ambiguous"


def test_a_verdict_cannot_be_written_by_hand():
    with pytest.raises(TypeError):
        Claim(
            key="k", question=1, part="a", claim="c", exam_value="e", archcalc_value="a",
            reason="r", how="h", verdict="agrees",
        )  # type: ignore[call-arg]  # fmt: skip
    with pytest.raises(TypeError):  # keyword arguments only
        Claim("k", 1, "a", "c", "e", "a", "r", "h")  # type: ignore[misc]


def test_absolute_and_relative_tolerances():
    # "6.2M" shown to one decimal: half a unit of 0.1M either way
    tol = Fraction(50_000)
    assert Reading(name="", exam=6_200_000, archcalc=6_250_000, tolerance=tol).holds
    assert not Reading(name="", exam=6_200_000, archcalc=6_250_001, tolerance=tol).holds
    assert Reading(name="", exam=6_200_000, archcalc=6_150_000, tolerance=tol).holds
    # ≈ within 10% of the exam's value
    ten = Fraction(1, 10)
    assert Reading(name="", exam=Fraction(155, 10), archcalc=14, tolerance=ten, relative=True).holds
    assert not Reading(name="", exam=20, archcalc=14, tolerance=ten, relative=True).holds
    assert Reading(name="", exam=20, archcalc=18, tolerance=ten, relative=True).allowed == 2
    # exact by default
    assert not Reading(
        name="", exam=Fraction(1, 3), archcalc=Fraction(1, 3) + Fraction(1, 10**9)
    ).holds


def test_bounds_and_ranges():
    assert Reading(name="", exam=Fraction(1, 100), archcalc=Fraction(1, 128), bound="<").holds
    assert not Reading(name="", exam=Fraction(1, 100), archcalc=Fraction(2, 3), bound="<").holds
    assert not Reading(name="", exam=1, archcalc=1, bound="<").holds
    assert Reading(name="", exam=1, archcalc=1, bound="<=").holds
    assert Reading(name="", exam=(8, 9), archcalc=(Fraction(84, 10), 9), bound="in").holds
    assert not Reading(name="", exam=(8, 9), archcalc=(7, 8), bound="in").holds
    assert Reading(name="", exam=Fraction(1, 10), archcalc=(Fraction(2, 3),), bound=">").holds
    with pytest.raises(ValueError, match="bound"):
        Reading(name="", exam=1, archcalc=1, bound="~")
    with pytest.raises(ValueError, match="takes no tolerance"):
        Reading(name="", exam=1, archcalc=1, bound="<", tolerance=Fraction(1))


def test_tuples_booleans_and_formulas():
    assert Reading(name="", exam=(1, 2), archcalc=(1, 2)).holds
    assert not Reading(name="", exam=(1, 2), archcalc=(1, 3)).holds
    assert not Reading(name="", exam=(1, 2), archcalc=(1, 2, 3)).holds
    assert not Reading(name="", exam=(1, 2), archcalc=3).holds
    assert Reading(name="", exam=True, archcalc=True).holds
    assert not Reading(name="", exam=True, archcalc=1).holds  # a behaviour is not a count
    C = sympy.Symbol("C", positive=True)
    assert Reading(name="", exam=(C + 2) / C, archcalc=1 + 2 / C).holds
    assert not Reading(name="", exam=C**3, archcalc=C**2).holds


def test_readings_are_json_ready():
    import json

    r = Reading(name="n", exam=Fraction(1, 3), archcalc=(1, True), tolerance=Fraction(1, 10))
    assert r.to_dict() == {
        "name": "n", "exam": "1/3", "archcalc": [1, True], "tolerance": "1/10",
        "relative": False, "bound": "=", "holds": False,
    }  # fmt: skip
    json.dumps([c.to_dict() for c in audit()])


def test_every_claim_has_its_own_test():
    for q in QUESTIONS:
        source = (HERE / f"test_exam_q{q}.py").read_text(encoding="utf-8")
        tests = set(re.findall(r"^def test_(\w+)\(", source, re.M))
        keys = {c.key.replace("-", "_") for c in audit(q)}
        assert keys == tests, f"question {q}: {sorted(keys ^ tests)}"


def test_verdict_counts():
    claims = audit()
    assert len(claims) >= 104
    counts = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
    assert counts == {"agrees": 51, "differs": 23, "ambiguous": 32}
    for c in claims:  # every verdict is the one its readings give
        assert c.verdict == verdict_of(c.readings)
        assert c.readings or c.archcalc_value == "not computable", c.key
