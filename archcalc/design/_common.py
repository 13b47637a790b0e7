"""What the design calculators share: reading their arguments, one-line errors that name the
Python argument, and the limits that bound their work.

Errors keep the Python argument as an attribute and in their message (``budget =
'1e999999999': ...``; another argument named in the text is written ```input```); the CLI
names its flags instead (:mod:`archcalc.cli.flags`). Echoed values are capped
(:func:`archcalc._errors.echo`).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .._errors import OptionError, echo
from .._math import is_symbolic, pair
from ..engine.groups import exact

__all__ = [
    "Limits",
    "limits",
    "show",
    "Raw",
    "bad",
    "pos_int",
    "int_list",
    "hw",
    "number",
    "ratio",
    "spatial",
    "windows",
]


@dataclass
class Limits:
    """Bounds on the work of the design calculators, checked before the work starts.

    Change one for a session with ``archcalc.design.limits.<name> = value`` or, before
    archcalc is imported (the CLI), with the environment variable ``ARCHCALC_LIMIT_<NAME>``
    (``ARCHCALC_LIMIT_SWEEP_CONFIGURATIONS=1e8``). A request over a limit raises
    :class:`~archcalc.OptionError` naming the value and the limit.
    """

    #: largest size, count or width a calculator takes (``input=``, ``channels=``, a sweep's
    #: values ...): 2^32, so every divisor scan is at most 2^16 steps
    size: int = 2**32
    #: largest order of magnitude of a number (``1e300``; 10^±300 also fits a float): a
    #: Fraction of ``1e999999999`` would hold a billion digits
    exponent: int = 300
    #: stride schedules :func:`~archcalc.design.plan_schedules` enumerates
    schedules: int = 20_000
    #: layers of a schedule
    schedule_layers: int = 1_000
    #: interval steps of the coverage walk over all schedules (pixels are counted by
    #: intervals of units, so this grows with the number of holes, not with the input)
    coverage_steps: int = 20_000_000
    #: configurations of one sweep (families x depths x widths x kernels x resolutions);
    #: at >= 10^6 configurations/s this is a few seconds
    sweep_configurations: int = 10_000_000
    #: configurations of a sweep whose figures pass 2^63 - 1 (Python ints, ~20x slower)
    sweep_configurations_exact: int = 500_000

    @classmethod
    def from_environment(cls) -> Limits:
        out = cls()
        for f in dataclasses.fields(cls):
            text = os.environ.get(f"ARCHCALC_LIMIT_{f.name.upper()}")
            if text is not None:
                try:
                    value = int(exact(text, f"ARCHCALC_LIMIT_{f.name.upper()}", 30))
                except OptionError:
                    value = -1
                if value < 1:
                    raise OptionError(
                        argument=f"ARCHCALC_LIMIT_{f.name.upper()}",
                        value=text,
                        reason=f"must be a positive integer (default {getattr(out, f.name)})",
                    )
                setattr(out, f.name, value)
        return out

    def check(
        self, name: str, argument: str, value: Any, amount: int, what: str, literal: bool = False
    ) -> None:
        """Raise when ``amount`` (what ``argument=value`` asks for; ``what`` formats it)
        passes the limit ``name``. ``literal``: echo ``value`` as it is, not its repr."""
        limit = getattr(self, name)
        if amount > limit:
            reason = (
                f"{what.format(amount)}, over the limit {limit:,} "
                f"(archcalc.design.limits.{name}, or ARCHCALC_LIMIT_{name.upper()})"
            )
            raise OptionError(
                argument=argument, value=Raw(value) if literal else value, reason=reason
            )


#: the limits in force (see :class:`Limits`)
limits = Limits.from_environment()


class Raw(str):
    """Text echoed as it is in a message (``600x600``, not ``'600x600'``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def show(value: Any) -> str:
    """``repr(value)`` capped (:func:`archcalc._errors.echo`), for a message's text."""
    return echo(value)


def bad(argument: str, value: Any, why: str) -> OptionError:
    """The error ``argument=value: why`` (raise it)."""
    return OptionError(argument=argument, value=value, reason=why)


def pos_int(value: Any, argument: str, minimum: int = 1) -> int:
    """An integer ``>= minimum`` and within :attr:`Limits.size` (digit strings accepted)."""
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,30}\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise bad(argument, value, f"must be an integer >= {minimum}")
    limits.check("size", argument, value, value, "size {:,}")
    return value


def int_list(value: Any, argument: str) -> tuple[int, ...]:
    """Positive integers from ``"4,2,1"``, one int or a sequence."""
    if isinstance(value, str):
        parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
        if not parts or not all(re.fullmatch(r"\d{1,30}", p) for p in parts):
            raise bad(argument, value, "write positive integers separated by commas, e.g. 4,2,1")
        return tuple(pos_int(int(p), argument) for p in parts)
    if isinstance(value, int):
        return (pos_int(value, argument),)
    try:
        items = list(value)
    except TypeError:
        raise bad(argument, value, "must be an integer or a sequence of them") from None
    return tuple(pos_int(v, argument) for v in items)


def hw(value: Any, argument: str) -> tuple[int, int]:
    """``224``, ``"224"``, ``"224x160"`` or ``(224, 160)`` as ``(h, w)``."""
    nums: Any
    if isinstance(value, str):
        parts = re.split(r"[xX×]", value.strip())
        if len(parts) not in (1, 2) or not all(re.fullmatch(r"\d{1,30}", p) for p in parts):
            raise bad(argument, value, "write N or HxW, e.g. 224 or 224x160")
        nums = int(parts[0]) if len(parts) == 1 else [int(p) for p in parts]
    else:
        nums = value
    try:
        h, w = pair(nums)
    except (TypeError, ValueError):
        raise bad(argument, value, "write N or HxW") from None
    return (pos_int(h, argument), pos_int(w, argument))


def number(value: Any, argument: str) -> Fraction:
    """A number as an exact fraction (decimal text and floats read as written), its order of
    magnitude within :attr:`Limits.exponent`, checked before any digit exists
    (:func:`archcalc.engine.groups.exact`).

    >>> number("1e-3", "lr0"), number(0.1, "alpha")
    (Fraction(1, 1000), Fraction(1, 10))
    """
    return exact(
        value,
        argument,
        limits.exponent,
        "archcalc.design.limits.exponent, or ARCHCALC_LIMIT_EXPONENT",
    )


def ratio(f: Fraction) -> float:
    """A ratio rounded to 6 decimals, for tables."""
    return round(float(f), 6)


def spatial(shape: tuple[Any, ...], argument: str) -> tuple[int, int]:
    """The numeric ``(h, w)`` of a ``(C, H, W)`` shape."""
    if len(shape) != 3:
        raise bad(argument, "x".join(map(str, shape)), "needs an image input (C, H, W)")
    h, w = shape[1:]
    if is_symbolic(h) or is_symbolic(w):
        raise OptionError(
            argument=argument, value=Raw(f"{h}x{w}"), reason="needs numbers, not symbols"
        )
    return (int(h), int(w))


def windows(size: int, window: int, stride: int) -> int:
    """Positions of a ``window`` sliding by ``stride`` inside ``size`` pixels (no padding):
    ``floor((size − window)/stride) + 1``.

    >>> windows(512, 224, 32)       # (512 − 224)/32 = 9, plus the window at 0
    10
    """
    if window > size:
        raise bad("window", window, f"larger than the input ({size} pixels)")
    return (size - window) // stride + 1


def check_window(hw_: tuple[int, int], win: tuple[int, int]) -> None:
    """Raise unless the window fits inside the image on both axes."""
    for axis, (n, w) in enumerate(zip(hw_, win)):
        if w > n:
            raise OptionError(
                argument="window",
                value=Raw(f"{win[0]}x{win[1]}"),
                reason=f"larger than the input {hw_[0]}x{hw_[1]} "
                f"({'height' if axis == 0 else 'width'})",
            )
