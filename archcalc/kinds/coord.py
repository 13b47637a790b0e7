"""``CoordAugment``: coordinate channels appended to a map."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._math import Num
from ._base import (
    Extra,
    Layer,
    Shape,
    Shapes,
    TorchCall,
    _spatial,
    register,
)


@register
@dataclass(frozen=True, slots=True)
class CoordAugment(Layer):
    """Position-sensitive convolution's input (CoordConv, exam Q1): append two channels,
    the row and column coordinates normalised to [−1, 1]; (C, H, W) → (C + 2, H, W)."""

    def out_shape(self, ins: Shapes) -> Shape:
        c, h, w = _spatial(self.kind, ins)
        return (c + 2, h, w)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.build.CoordAugment",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.CoordAugment()
