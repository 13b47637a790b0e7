"""The record of one audited claim, how its verdict follows from its readings, and the exact
formatting the audit's text uses.

A :class:`Claim` holds one or more :class:`Reading` s: a way to read the claim, the exam's
value under that reading, archcalc's value and how close the two must be (a tolerance
declared per reading: ``0`` for exact claims, half a unit of the last digit shown for the
exam's rounded figures, a stated share for its ``≈``). The verdict is never written by hand:

* every reading holds → ``agrees``; none holds → ``differs``; some do → ``ambiguous``;
* no reading at all (an empirical figure no model fixes) → ``ambiguous``.

>>> r = Reading(name="to the digits shown", exam=Fraction("1.0078"), archcalc=Fraction(258, 256),
...             tolerance=Fraction("0.00005"))
>>> r.holds
True
>>> Claim(key="k", question=1, part="a", claim="…", exam_value="1.0078", archcalc_value="…",
...       reason="", how="", readings=(r,)).verdict
'agrees'
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from archcalc import Summary, sequential, summary

__all__ = ["Claim", "Reading", "VERDICTS", "BOUNDS", "convolutions", "empirical", "verdict_of"]

VERDICTS = ("agrees", "differs", "ambiguous")

#: how a reading compares archcalc's value with the exam's: ``=`` (within the tolerance),
#: ``<``/``<=``/``>``/``>=`` (archcalc's value against the exam's bound), ``in`` (the exam
#: gives a range ``(low, high)``)
BOUNDS = ("=", "<", "<=", ">", ">=", "in")


def _symbolic(x: Any) -> bool:
    return hasattr(x, "free_symbols")


def _equal(exam: Any, ours: Any, tolerance: Fraction) -> bool:
    if isinstance(exam, (tuple, list)) or isinstance(ours, (tuple, list)):
        if not isinstance(exam, (tuple, list)) or not isinstance(ours, (tuple, list)):
            return False
        return len(exam) == len(ours) and all(_equal(a, b, tolerance) for a, b in zip(exam, ours))
    if isinstance(exam, (bool, str)) or isinstance(ours, (bool, str)):
        return type(exam) is type(ours) and exam == ours
    if _symbolic(exam) or _symbolic(ours):
        import sympy

        return bool(sympy.simplify(exam - ours) == 0)
    return bool(abs(Fraction(exam) - Fraction(ours)) <= tolerance)


def _compare(bound: str, exam: Any, ours: Any) -> bool:
    if isinstance(ours, (tuple, list)):
        return all(_compare(bound, exam, v) for v in ours)
    if bound == "in":
        low, high = exam
        return bool(low <= ours <= high)
    return {
        "<": ours < exam,
        "<=": ours <= exam,
        ">": ours > exam,
        ">=": ours >= exam,
    }[bound]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """One way to read a claim: the exam's value, archcalc's and how close they must be.

    Values are exact: ints, :class:`~fractions.Fraction` s, sympy expressions (compared
    symbolically), bools (a behaviour the exam asserts, ``True``, against what a search or
    an exhaustive check finds), or tuples of these (compared element by element).
    ``tolerance`` is absolute, or a share of the exam's value when ``relative``; ``bound``
    is ``=`` unless the exam states a bound or a range (see :data:`BOUNDS`).
    """

    name: str
    exam: Any
    archcalc: Any
    tolerance: Fraction = Fraction(0)
    relative: bool = False
    bound: str = "="

    def __post_init__(self) -> None:
        if self.bound not in BOUNDS:
            raise ValueError(f"bound = {self.bound!r}: must be one of {', '.join(BOUNDS)}")
        if self.tolerance < 0:
            raise ValueError(f"tolerance = {self.tolerance!r}: must be >= 0")
        if self.bound != "=" and self.tolerance:
            raise ValueError(f"bound = {self.bound!r}: a bound takes no tolerance")

    @property
    def allowed(self) -> Fraction:
        """The absolute difference allowed (the tolerance, scaled when relative)."""
        if not self.relative:
            return Fraction(self.tolerance)
        return Fraction(self.tolerance) * abs(Fraction(self.exam))

    @property
    def holds(self) -> bool:
        """Whether archcalc's value meets the exam's under this reading."""
        if self.bound != "=":
            return _compare(self.bound, self.exam, self.archcalc)
        return _equal(self.exam, self.archcalc, self.allowed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ints and bools stay, other values (fractions, formulas) as text."""

        def plain(v: Any) -> Any:
            if isinstance(v, (tuple, list)):
                return [plain(x) for x in v]
            return v if isinstance(v, (bool, int, str)) else str(v)

        return {
            "name": self.name,
            "exam": plain(self.exam),
            "archcalc": plain(self.archcalc),
            "tolerance": plain(self.tolerance),
            "relative": self.relative,
            "bound": self.bound,
            "holds": self.holds,
        }


def verdict_of(readings: Sequence[Reading]) -> str:
    """``agrees`` when every reading holds, ``differs`` when none does, else ``ambiguous``
    (also for no readings: an empirical figure that no model fixes)."""
    held = [r.holds for r in readings]
    if held and all(held):
        return "agrees"
    if held and not any(held):
        return "differs"
    return "ambiguous"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """One claim of the worked answers and archcalc's verdict on it.

    ``exam_value`` is what the answer states (an ``int`` where it states an exact count, else
    its text); ``archcalc_value`` is archcalc's figure (an exact ``int``, or text built from
    exact figures). ``readings`` carry the values compared; ``verdict`` follows from them
    (:func:`verdict_of`). ``how`` says which model archcalc built and which figure it read.
    """

    key: str
    question: int
    part: str
    claim: str
    exam_value: int | str
    archcalc_value: int | str
    reason: str
    how: str
    readings: tuple[Reading, ...] = ()
    counterexample: str | None = None
    verdict: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "readings", tuple(self.readings))
        object.__setattr__(self, "verdict", verdict_of(self.readings))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (every field; ints stay ints)."""
        return {
            "key": self.key,
            "question": self.question,
            "part": self.part,
            "claim": self.claim,
            "exam_value": self.exam_value,
            "archcalc_value": self.archcalc_value,
            "verdict": self.verdict,
            "reason": self.reason,
            "how": self.how,
            "counterexample": self.counterexample,
            "readings": [r.to_dict() for r in self.readings],
        }


def empirical(*, key: str, question: int, part: str, claim: str, exam: str, note: str) -> Claim:
    """A claim that no model fixes (a wall-clock or accuracy figure): no readings."""
    return Claim(
        key=key,
        question=question,
        part=part,
        claim=claim,
        exam_value=exam,
        archcalc_value="not computable",
        reason=f"an empirical figure that no model fixes and the exam gives no source for; {note}",
        how="nothing: archcalc counts, it does not train",
    )


# ============================================================== exact formatting


def n(x: int) -> str:
    """``1,234,567``."""
    return f"{x:,}"


def dec(x: Fraction | int, digits: int) -> str:
    """``x`` rounded half up to ``digits`` decimals, exactly."""
    q = Fraction(x) * 10**digits
    sign = "-" if q < 0 else ""
    r = math.floor(abs(q) + Fraction(1, 2))
    if digits == 0:
        return f"{sign}{r}"
    s = str(r).rjust(digits + 1, "0")
    return f"{sign}{s[:-digits]}.{s[-digits:]}"


def pct(x: Fraction, digits: int = 2) -> str:
    return dec(100 * x, digits) + "%"


def times(x: Fraction, digits: int = 2) -> str:
    return dec(x, digits) + "×"


def mega(x: int, digits: int = 1) -> str:
    return dec(Fraction(x, 10**6), digits) + "M"


def mb(x: int, digits: int = 1) -> str:
    return dec(Fraction(x, 10**6), digits) + " MB"


def giga(x: int, digits: int = 1) -> str:
    return dec(Fraction(x, 10**9), digits) + "G"


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def formula(expr: Any) -> str:
    """A sympy expression as the exam writes it: ``·`` for products, superscript powers."""
    text = re.sub(r"\*\*(\d+)", lambda m: m.group(1).translate(_SUPERSCRIPT), str(expr))
    return text.replace("**", "^").replace("*", "·").replace(" - ", " − ")


def rate(x: Fraction) -> str:
    """A learning rate: ``10^-k`` when it is one, else the fraction."""
    k = len(str(x.denominator)) - 1
    return f"10^-{k}" if k and x == Fraction(1, 10**k) else str(x)


# ============================================================== models and symbols


def sympy() -> Any:
    """sympy, imported only when a symbolic claim is built."""
    import sympy as sp

    return sp


def symbols(*names: str) -> list[Any]:
    from archcalc.engine.shapes import symbol

    return [symbol(name) for name in names]


def convolutions(s: Summary) -> list[Any]:
    """The rows of ``s`` that multiply-accumulate over a feature map (its convolutions: the
    layers with MACs and a C×H×W output), read from the figures, not the kinds."""
    return [r for r in s.layers if r.macs > 0 and len(r.output_shape) == 3]


def chain(name: str, layers: Sequence[Any], shape: Sequence[Any], **kw: Any) -> Summary:
    """The summary of a ``sequential`` stack of ``layers`` on an input of ``shape``."""
    return summary(sequential(name, list(layers), input_shape=tuple(shape)), **kw)
