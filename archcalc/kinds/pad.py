"""Padding a map with a constant: ``Pad`` (``F.pad``, ``nn.ZeroPad2d``, ``nn.ConstantPad2d``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError, UnsupportedError
from .._math import Num
from ._base import (
    AxisGeom,
    Extra,
    Layer,
    Shape,
    Shapes,
    TorchCall,
    _check_int,
    _set,
    _spatial,
    invalid,
    register,
)
from ._rules import Parameterless, counts_zero, fvcore_ignored, ptflops_no_patch, thop_no_hook


@register
@dataclass(frozen=True, slots=True)
class Pad(Parameterless, Layer):
    """Pad the height and width of a ``(C, H, W)`` map with ``value``: ``pad`` is
    ``(left, right, top, bottom)`` as ``F.pad`` takes it (negative crops). A copy: no FLOPs,
    nothing saved for backward; output row ``i`` is input row ``i - top``.

    >>> Pad((0, 1, 0, 1)).out_shape(((8, 7, 7),))
    (8, 8, 8)
    """

    pad: Any
    #: a number; -inf too (timm pads its 'same' max pools with -inf)
    value: Any = 0.0

    count_fvcore = fvcore_ignored("constant_pad_nd")
    count_ptflops_hook = counts_zero(
        "nn.ZeroPad2d/ConstantPad2d are not in ptflops' MODULES_MAPPING"
    )
    count_ptflops_functional = ptflops_no_patch("F.pad")
    count_thop = thop_no_hook("nn.ZeroPad2d / nn.ConstantPad2d")

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.ZeroPad2d", "torch.nn.ConstantPad2d")
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.pad",)

    def __post_init__(self) -> None:
        pad = tuple(self.pad) if isinstance(self.pad, (list, tuple)) else (self.pad,) * 4
        if len(pad) != 4:
            raise invalid(
                self.kind, "pad", self.pad, "give (left, right, top, bottom) or one integer"
            )
        _set(self, "pad", tuple(_check_int(self.kind, "pad", p, -(2**62)) for p in pad))
        v = self.value
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            raise invalid(self.kind, "value", v, "must be a number (inf and -inf allowed)")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((1, 2, 0, 1)), ((4, 9, 11),)

    def out_shape(self, ins: Shapes) -> Shape:
        c, h, w = _spatial(self.kind, ins)
        left, right, top, bottom = self.pad
        ho, wo = h + top + bottom, w + left + right
        if isinstance(ho, int) and isinstance(wo, int) and (ho < 1 or wo < 1):
            raise ShapeError(f"Pad.pad = {self.pad} crops the {h}x{w} map to nothing")
        return (c, ho, wo)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        left, _, top, _ = self.pad
        return ((1, 1, -top), (1, 1, -left))

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        call.need_map("Pad")
        m = call.module
        if m is not None:
            return cls(tuple(int(p) for p in m.padding), float(getattr(m, "value", 0.0)))
        pad = tuple(call.arg(1, "pad"))
        mode, value = call.arg(2, "mode", "constant"), call.arg(3, "value", None)
        if mode != "constant":
            raise UnsupportedError(f"F.pad(mode={mode!r}): archcalc pads with a constant")
        if len(pad) == 2:
            pad = (*pad, 0, 0)
        if len(pad) != 4:
            raise UnsupportedError(f"F.pad of {len(pad) // 2} axes: archcalc pads height/width")
        return cls(tuple(int(p) for p in pad), float(value or 0.0))

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.ConstantPad2d(self.pad, self.value)
