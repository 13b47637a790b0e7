"""The values the converter follows: a traced tensor (:class:`T`), a parameter (:class:`P`),
a tensor left out (:class:`X`), and the two orientations of a map."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: the batch of the meta run (2, so that the batch axis is told from a 1)
BATCH = 2


class Unmappable(Exception):
    """An operation archcalc cannot map; the message is the reason."""


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class T:
    """A tensor: archcalc node ``node`` of per-sample shape ``shape``, seen by torch as
    ``tshape`` (batch first) in layout ``std`` (``(N, *shape)``), ``nhwc`` (the
    channels-last permute of a ``(C, H, W)`` map), ``bcast`` (an ``expand`` of it, which
    only a product takes) or ``view`` (any other view of it, which no layer takes)."""

    node: str
    shape: tuple[Any, ...]
    layout: str
    tshape: tuple[int, ...]


@dataclass(frozen=True)
class P:
    """A parameter or buffer (or a view of one)."""

    target: str
    is_param: bool
    tshape: tuple[int, ...]
    numel: int


@dataclass(frozen=True)
class X:
    """A tensor left out by a partial import, or one made without the input (a constant)."""

    tshape: tuple[int, ...]


def torch_shape(shape: tuple[Any, ...], layout: str) -> tuple[Any, ...]:
    if layout == "nhwc":
        c, h, w = shape
        return (BATCH, h, w, c)
    return (BATCH, *shape)


def archcalc_shape(tshape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    if layout == "nhwc":
        _, h, w, c = tshape
        return (c, h, w)
    return tuple(tshape[1:])


def listify(v: Any) -> list[Any]:
    if isinstance(v, (list, tuple)):
        return list(v)
    return [v]
