"""Elementwise activations (and ``Identity``): one input, output of the same shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._math import Num, prod
from ._base import (
    Extra,
    Layer,
    Shape,
    Shapes,
    register,
)

# ---------------------------------------------------------------- elementwise activations


@dataclass(frozen=True, slots=True)
class _Elementwise(Layer):
    #: FLOPs per element under archcalc's convention
    flops_per_element: ClassVar[int] = 0
    #: which tensor autograd saves: "in0" or "out"
    saves: ClassVar[str] = "in0"
    head_role: ClassVar[str | None] = "keep"

    def out_shape(self, ins: Shapes) -> Shape:
        return ins[0]

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return self.flops_per_element * prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return (self.saves,)


@register
@dataclass(frozen=True, slots=True)
class Identity(_Elementwise):
    """Identity; a view of its input."""

    alias: ClassVar[bool] = True

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()


@register
@dataclass(frozen=True, slots=True)
class ReLU(_Elementwise):
    """max(x, 0): one comparison per element; autograd keeps the output."""

    flops_per_element: ClassVar[int] = 1
    saves: ClassVar[str] = "out"


@register
@dataclass(frozen=True, slots=True)
class ReLU6(_Elementwise):
    """min(max(x, 0), 6): two comparisons; autograd keeps the input (hardtanh)."""

    flops_per_element: ClassVar[int] = 2


@register
@dataclass(frozen=True, slots=True)
class LeakyReLU(_Elementwise):
    """x if x > 0 else a·x: a comparison and a multiply; autograd keeps the input."""

    negative_slope: float = 0.01
    flops_per_element: ClassVar[int] = 2


@register
@dataclass(frozen=True, slots=True)
class SiLU(_Elementwise):
    """x·sigmoid(x): 5 FLOPs per element by convention; autograd keeps the input."""

    flops_per_element: ClassVar[int] = 5


@register
@dataclass(frozen=True, slots=True)
class GELU(_Elementwise):
    """Gaussian error linear unit: 5 FLOPs per element by convention; keeps the input."""

    flops_per_element: ClassVar[int] = 5


@register
@dataclass(frozen=True, slots=True)
class Sigmoid(_Elementwise):
    """1 / (1 + exp(-x)): 4 FLOPs per element by convention; autograd keeps the output."""

    flops_per_element: ClassVar[int] = 4
    saves: ClassVar[str] = "out"


@register
@dataclass(frozen=True, slots=True)
class Hardswish(_Elementwise):
    """x·relu6(x + 3)/6: 5 FLOPs per element by convention; autograd keeps the input."""

    flops_per_element: ClassVar[int] = 5


@register
@dataclass(frozen=True, slots=True)
class Hardsigmoid(_Elementwise):
    """relu6(x + 3)/6: 4 FLOPs per element by convention; autograd keeps the input."""

    flops_per_element: ClassVar[int] = 4


@register
@dataclass(frozen=True, slots=True)
class Tanh(_Elementwise):
    """tanh(x): 1 FLOP per element by convention (one library call); keeps the output."""

    flops_per_element: ClassVar[int] = 1
    saves: ClassVar[str] = "out"
