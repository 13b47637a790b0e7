"""Merges of several inputs: ``Add``, ``Mul``, ``Concat``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError
from .._math import Num, prod
from ._base import (
    Extra,
    Layer,
    Shape,
    Shapes,
    _eq_known_false,
    _fmt,
    register,
)

# ---------------------------------------------------------------- merges


@register
@dataclass(frozen=True, slots=True)
class Add(Layer):
    """Elementwise sum of two or more equal shapes (residual connection)."""

    arity: ClassVar[int | None] = None

    def out_shape(self, ins: Shapes) -> Shape:
        first = ins[0]
        for i, s in enumerate(ins[1:], 1):
            if len(s) != len(first) or any(_eq_known_false(a, b) for a, b in zip(s, first)):
                raise ShapeError(
                    f"{self.kind}: input {i} has shape {_fmt(s)} but input 0 has {_fmt(first)}; "
                    f"a sum needs equal shapes"
                )
        return first

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return (len(ins) - 1) * prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()


@register
@dataclass(frozen=True, slots=True)
class Mul(Layer):
    """Elementwise product; an input of shape (C, 1, 1) is broadcast (squeeze-excitation)."""

    arity: ClassVar[int | None] = None
    operands_for_each_other: ClassVar[bool] = True

    def out_shape(self, ins: Shapes) -> Shape:
        out = max(ins, key=lambda s: (len(s), not all(d == 1 for d in s[1:])))
        for i, s in enumerate(ins):
            if (
                len(s) != len(out)
                or _eq_known_false(s[0], out[0])
                or any(_eq_known_false(a, b) and a != 1 for a, b in zip(s[1:], out[1:]))
            ):
                raise ShapeError(
                    f"{self.kind}: input {i} has shape {_fmt(s)}, which does not broadcast "
                    f"to {_fmt(out)}; valid are equal shapes or (C, 1, 1)"
                )
        return out

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return (len(ins) - 1) * prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        # n inputs run as n - 1 binary products; each keeps both operands, so the n - 2
        # partial products are kept too
        partial = Extra((len(ins) - 2) * batch * prod(out), None, "partial products")
        return (*(f"in{i}" for i in range(len(ins))), *((partial,) if len(ins) > 2 else ()))


@register
@dataclass(frozen=True, slots=True)
class Concat(Layer):
    """Concatenation along channels of maps with equal height and width. One input is
    allowed: ``torch.cat([x])`` is a copy (DenseNet's first layer of a block does it)."""

    arity: ClassVar[int | None] = None
    min_inputs: ClassVar[int] = 1

    def out_shape(self, ins: Shapes) -> Shape:
        first = ins[0]
        for i, s in enumerate(ins[1:], 1):
            if len(s) != len(first) or any(_eq_known_false(a, b) for a, b in zip(s[1:], first[1:])):
                raise ShapeError(
                    f"{self.kind}: input {i} has shape {_fmt(s)} but input 0 has {_fmt(first)}; "
                    f"concatenation needs equal height and width"
                )
        total = ins[0][0]
        for s in ins[1:]:
            total = total + s[0]
        return (total, *first[1:])

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()
