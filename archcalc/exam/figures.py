"""The audit's own small rules, derived differently from the design calculators on purpose.

:func:`window_count` reads a window count off the engine (the output length of a pooling
layer with that kernel and stride) where ``archcalc.design.windows`` writes the closed form
``⌊(size − window)/stride⌋ + 1``; :func:`layer_rates` builds the rates by the recurrence
``η_(l−1) = α·η_l`` where ``archcalc.design.layer_rates`` writes ``η0·α^(L−l)``. The audit
compares each with the exam's closed form, so it must not reuse one.
"""

from __future__ import annotations

from fractions import Fraction

from archcalc import MaxPool2d, Model

from ._claim import chain

__all__ = ["window_count", "layer_rates", "stage_names"]


def window_count(size: int, window: int, stride: int) -> int:
    """Positions of a ``window`` sliding by ``stride`` inside ``size`` pixels, as archcalc
    counts them: the output length of a pooling layer with that kernel and stride.

    >>> window_count(512, 224, 32)
    10
    """
    s = chain("windows", [MaxPool2d(window, stride)], (1, size, size))
    return int(s.output_shape[1])


def layer_rates(layers: int, eta0: Fraction, alpha: Fraction) -> list[Fraction]:
    """Layer-wise learning rates, layer 1 first: the last layer gets ``eta0`` and each layer
    ``alpha`` times the rate of the layer after it (so ``η_l = η0·α^(L−l)``).

    >>> layer_rates(3, Fraction(1, 100), Fraction(1, 10))
    [Fraction(1, 10000), Fraction(1, 1000), Fraction(1, 100)]
    """
    rates = [Fraction(eta0)]
    for _ in range(layers - 1):
        rates.append(rates[-1] * alpha)
    return rates[::-1]


def stage_names(model: Model) -> list[str]:
    """The top-level ``layer*`` modules of ``model``, in order (its residual stages)."""
    stages: list[str] = []
    for node in model.live_nodes():
        top = node.name.split(".")[0]
        if top.startswith("layer") and top not in stages:
            stages.append(top)
    return stages
