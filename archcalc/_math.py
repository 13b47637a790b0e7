"""Arithmetic that works on exact ints and on sympy expressions alike.

Every formula in archcalc is written once with these helpers, so it accepts ``int`` or a
sympy expression. sympy is imported only when an argument is already symbolic.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

Num = Any  # int | Fraction | sympy.Expr


def is_symbolic(x: object) -> bool:
    """True when ``x`` is a sympy object (checked without importing sympy)."""
    return type(x).__module__.startswith("sympy")


def _sympy() -> Any:
    import sympy

    return sympy


def floordiv(a: Num, b: Num) -> Num:
    """``floor(a / b)``, exact for ints, ``sympy.floor`` for symbols."""
    if is_symbolic(a) or is_symbolic(b):
        return _sympy().floor(_sympy().Rational(1) * a / b)
    return a // b


def ceildiv(a: Num, b: Num) -> Num:
    """``ceil(a / b)``, exact for ints, ``sympy.ceiling`` for symbols."""
    if is_symbolic(a) or is_symbolic(b):
        return _sympy().ceiling(_sympy().Rational(1) * a / b)
    return -((-a) // b)


def maximum(*xs: Num) -> Num:
    """Maximum of ints (``max``) or of symbols (``sympy.Max``)."""
    if any(is_symbolic(x) for x in xs):
        return _sympy().Max(*xs)
    return max(xs)


def minimum(*xs: Num) -> Num:
    """Minimum of ints (``min``) or of symbols (``sympy.Min``)."""
    if any(is_symbolic(x) for x in xs):
        return _sympy().Min(*xs)
    return min(xs)


def known_lt(a: Num, b: Num) -> bool | None:
    """``a < b`` when decidable, else ``None`` (symbolic and undecided)."""
    if is_symbolic(a) or is_symbolic(b):
        rel = _sympy().Lt(a, b)
        if rel in (True, False):
            return bool(rel)
        return None
    return bool(a < b)


def if_ge(a: Num, b: Num, then: Num, other: Num) -> Num:
    """``then if a >= b else other``, a ``Piecewise`` when undecidable."""
    if is_symbolic(a) or is_symbolic(b):
        sp = _sympy()
        rel = sp.Ge(a, b)
        if rel is sp.true:
            return then
        if rel is sp.false:
            return other
        return sp.Piecewise((then, rel), (other, True))
    return then if a >= b else other


def prod(xs: Any) -> Num:
    """Product of ints or symbols, starting from the int 1."""
    out: Num = 1
    for x in xs:
        out = out * x
    return out


def simplify(x: Num) -> Num:
    """Expand a sympy expression for display; ints pass through."""
    if is_symbolic(x):
        return _sympy().expand(x)
    if isinstance(x, Fraction) and x.denominator == 1:
        return int(x)
    return x


def as_int_or_expr(x: Num) -> Num:
    """Return a plain ``int`` for an integer-valued sympy number, else ``x``."""
    if is_symbolic(x) and getattr(x, "is_Integer", False):
        return int(x)
    return x


def pair(value: Any) -> tuple[Any, Any]:
    """``(h, w)`` from one number (both axes) or a sequence of two; ValueError otherwise.

    >>> pair(3), pair((3, 5))
    ((3, 3), (3, 5))
    """
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"expected one value or a pair (h, w), got {len(value)} values")
        return (value[0], value[1])
    return (value, value)


def jsonable(x: Any) -> Any:
    """Convert ints, fractions, sympy objects, tuples and dicts to JSON-ready data."""
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, Fraction):
        return int(x) if x.denominator == 1 else str(x)
    if is_symbolic(x):
        if getattr(x, "is_Integer", False):
            return int(x)
        return str(x)
    return x
