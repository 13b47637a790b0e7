"""Reshaping: ``Flatten``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._math import Num, prod
from ._base import (
    GLOBAL,
    Extra,
    Layer,
    Shape,
    Shapes,
    _Global,
    register,
)
from ._rules import Parameterless, counts_zero, fvcore_ignored, ptflops_no_hook, thop_no_hook

# ---------------------------------------------------------------- reshaping


@register
@dataclass(frozen=True, slots=True)
class Flatten(Parameterless, Layer):
    """Flatten ``(C, H, W)`` to ``(C·H·W,)``; a view, no FLOPs, nothing saved."""

    alias: ClassVar[bool] = True
    flattens: ClassVar[bool] = True

    count_fvcore = fvcore_ignored("flatten")
    count_ptflops_hook = ptflops_no_hook("nn.Flatten")
    count_ptflops_functional = counts_zero("nn.Flatten calls Tensor.flatten, not patched")
    count_thop = thop_no_hook("nn.Flatten")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((4, 9, 11),)

    def out_shape(self, ins: Shapes) -> Shape:
        return (prod(ins[0]),)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def geometry(self, ins: Shapes, out: Shape) -> _Global:
        return GLOBAL

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.Flatten(1)
