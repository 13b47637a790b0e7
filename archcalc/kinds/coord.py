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
from ._rules import Parameterless, counts_zero, ptflops_no_hook, thop_no_hook


@register
@dataclass(frozen=True, slots=True)
class CoordAugment(Parameterless, Layer):
    """Position-sensitive convolution's input (CoordConv, exam Q1): append two channels,
    the row and column coordinates normalised to [−1, 1]; (C, H, W) → (C + 2, H, W)."""

    count_fvcore = counts_zero(
        "aten::linspace has no fvcore handle; expand/view/cat are in _IGNORED_OPS"
    )
    count_ptflops_hook = ptflops_no_hook("archcalc.torch's CoordAugment")
    count_ptflops_functional = counts_zero("torch.linspace/expand/cat are not patched")
    count_thop = thop_no_hook("archcalc.torch's CoordAugment")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((4, 9, 11),)

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
