"""Training groups: which layer each parameter belongs to, which layers a ``freeze`` freezes,
and the layer-wise learning rates ``η_l = η0·α^(L−l)`` (exam Q5).

Shared by :func:`archcalc.design.finetune` (on a spec) and
:func:`archcalc.torch.groups.param_groups` (on a torch module): *layers* are the weighted
kinds (conv, linear) in order; a norm or scale with parameters joins the layer before it.
Messages name the Python arguments (``freeze=``, ``lr0=``, ``alpha=``).

>>> layer_groups([True, True, False, True], [True, False, False, True])
[1, 1, 0, 2]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from .._errors import OptionError, echo

__all__ = [
    "MAX_EXPONENT",
    "exact",
    "check_rates",
    "layer_groups",
    "layer_rates",
    "resolve_freeze",
]

#: largest order of magnitude of a rate written as text (``1e-300``); 10^±300 fits a float,
#: and a Fraction of ``1e999999999`` would hold a billion digits
MAX_EXPONENT = 300

_EXPONENT = re.compile(r"\s*[+-]?[0-9_]*\.?[0-9_]*[eE]\s*([+-]?\d+)\s*")


def exact(
    value: Any,
    argument: str,
    max_exponent: int = MAX_EXPONENT,
    limit: str = "archcalc.engine.groups.MAX_EXPONENT",
) -> Fraction:
    """``value`` as an exact fraction (decimal text and floats read as written: ``0.1`` is
    1/10), its order of magnitude at most ``max_exponent`` — checked on the text, before
    any digit exists. ``limit`` names the limit in the message.

    >>> exact("1e-3", "lr0"), exact(0.1, "alpha")
    (Fraction(1, 1000), Fraction(1, 10))
    """
    if isinstance(value, bool):
        raise OptionError(argument=argument, value=value, reason="must be a number, e.g. 0.001")
    if isinstance(value, float):
        value = str(value)
    magnitude = 0
    if isinstance(value, str):
        if len(value) > 1000:
            raise OptionError(
                argument=argument, value=value, reason="too long for a number (1,000 characters)"
            )
        m = _EXPONENT.fullmatch(value)
        if m:
            digits = m.group(1).lstrip("+-")
            magnitude = int(digits) if len(digits) <= 12 else 10**12
    if magnitude <= max_exponent:
        try:
            f = Fraction(value)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            raise OptionError(
                argument=argument, value=value, reason="must be a number, e.g. 0.001"
            ) from None
        if f and not Fraction(1, 10**max_exponent) <= abs(f) <= 10**max_exponent:
            top = int(max(abs(f.numerator), f.denominator).bit_length() * 0.30103)
            magnitude = max(top, max_exponent + 1)
    if magnitude > max_exponent:
        raise OptionError(
            argument=argument,
            value=value,
            reason=f"order of magnitude {magnitude:,}, over the limit {max_exponent:,} ({limit})",
        )
    return f


def layer_rates(layers: int, lr0: Any, alpha: Any) -> list[Fraction]:
    """``η_l = η0·α^(L−l)`` for ``l = 1 … L`` (exact fractions; the last layer gets η0).

    >>> [float(r) for r in layer_rates(3, "0.01", "0.1")]
    [0.0001, 0.001, 0.01]
    """
    eta, a = exact(lr0, "lr0"), exact(alpha, "alpha")
    check_rates(eta, a, lr0, alpha)
    rates = [eta]
    for _ in range(layers - 1):
        rates.append(rates[-1] * a)
    return rates[::-1]


_NUMBER_OR_NAME = "must be a number of layers or a layer name"


def check_rates(eta: Fraction, a: Fraction, lr0: Any = None, alpha: Any = None) -> None:
    """Raise unless ``η0 > 0`` and ``0 < α <= 1`` (``lr0``/``alpha``: the values as given, for
    the message)."""
    if eta <= 0:
        raise OptionError(
            argument="lr0", value=eta if lr0 is None else lr0, reason="must be positive"
        )
    if not 0 < a <= 1:
        raise OptionError(
            argument="alpha",
            value=a if alpha is None else alpha,
            reason="must be in (0, 1] (earlier layers learn slower)",
        )


def _module_hint(names: Sequence[str]) -> str:
    top = list(dict.fromkeys(n.split(".")[0] for n in names))
    return ", ".join(top[:8]) + (", …" if len(top) > 8 else "")


def resolve_freeze(
    freeze: int | str, names: Sequence[str], weighted: Sequence[bool], model: str = "model"
) -> int:
    """How many layers with weights (conv/linear, counted in order) ``freeze`` freezes.

    An int ``N`` freezes the first ``N`` (a negative one counts from the end: ``-1`` trains
    only the last layer); a name freezes every layer up to and including the last one whose
    name is ``freeze`` or starts with ``freeze + "."`` (a module such as ``features``).

    >>> resolve_freeze("b", ["a", "r", "b", "c"], [True, False, True, True])
    2
    """
    total = sum(weighted)
    if isinstance(freeze, str) and re.fullmatch(r"\s*-?\d{1,30}\s*", freeze):
        freeze = int(freeze)
    if isinstance(freeze, bool):
        raise OptionError(argument="freeze", value=freeze, reason=_NUMBER_OR_NAME)
    if isinstance(freeze, int):
        n = freeze + total if freeze < 0 else freeze
        if not 0 <= n < total:
            raise OptionError(
                argument="freeze",
                value=freeze,
                reason=f"model '{model}' has {total} layers with weights; valid: 0..{total - 1}, "
                f"-{total}..-1 (from the end) or a layer name",
            )
        return n
    if not isinstance(freeze, str) or not freeze:
        raise OptionError(argument="freeze", value=freeze, reason=_NUMBER_OR_NAME)
    hits = [i for i, nm in enumerate(names) if nm == freeze or nm.startswith(freeze + ".")]
    if not hits:
        raise OptionError(
            argument="freeze",
            value=freeze,
            reason=f"model '{model}' has no layer or module {echo(freeze)}; valid: "
            f"0..{total - 1} or a name such as {_module_hint(names)}",
        )
    n = sum(weighted[: hits[-1] + 1])
    if n >= total:
        last = [nm for nm, w in zip(names, weighted) if w][-1]
        raise OptionError(
            argument="freeze",
            value=freeze,
            reason=f"freezes all {total} layers with weights (through '{last}'); nothing is "
            f"left to train — name an earlier layer",
        )
    return n


def layer_groups(has_params: Sequence[bool], weighted: Sequence[bool]) -> list[int]:
    """The layer (1-based) each entry's parameters belong to, 0 for none: a conv/linear
    starts a layer; a norm or scale joins the layer before it (the first, if none)."""
    out, current = [], 0
    for p, w in zip(has_params, weighted):
        if w:
            current += 1
            out.append(current)
        else:
            out.append(max(current, 1) if p else 0)
    return out
