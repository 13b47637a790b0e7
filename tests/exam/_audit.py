"""Shared by the per-question exam tests: the audit's claims and their readings' values.

Expected values in tests/exam/ are derived by hand in each test (the arithmetic written out,
or enumerated), never read from archcalc.exam's helpers; this module only looks claims up.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sympy

from archcalc import symbol
from archcalc.exam import Claim, audit


@cache
def _claims() -> dict[str, Claim]:
    return {c.key: c for c in audit()}


def claim(key: str) -> Claim:
    return _claims()[key]


def ours(key: str) -> list[Any]:
    """archcalc's value under each reading of the claim, in order."""
    return [r.archcalc for r in claim(key).readings]


def theirs(key: str) -> list[Any]:
    """The exam's value under each reading of the claim, in order."""
    return [r.exam for r in claim(key).readings]


def held(key: str) -> list[bool]:
    return [r.holds for r in claim(key).readings]


def same(a: Any, b: Any) -> bool:
    """Symbolic equality (element by element for tuples)."""
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bool(sympy.simplify(a - b) == 0)


def sym(*names: str) -> list[Any]:
    """archcalc's size symbols (public API), for writing the expected formulas."""
    return [symbol(n) for n in names]
