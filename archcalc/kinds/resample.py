"""Resampling: ``Upsample``."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .._errors import SpecError, UnsupportedError
from .._math import Num, is_symbolic, prod
from ._base import (
    AxisGeom,
    Extra,
    Layer,
    Shape,
    Shapes,
    _pair,
    _set,
    _spatial,
    register,
)


@register
@dataclass(frozen=True, slots=True)
class Upsample(Layer):
    """Upsampling by an integer ``scale_factor``, ``mode`` nearest or bilinear
    (``align_corners=False``). Bilinear: 7 FLOPs per output (4 multiplies, 3 adds)."""

    scale_factor: Any = 2
    mode: str = "nearest"

    def rf_note(self, geom: Any) -> str | None:
        return "fractional stride; size is the largest over output phases"

    def __post_init__(self) -> None:
        _set(self, "scale_factor", _pair(self.kind, "scale_factor", self.scale_factor))
        if self.mode not in ("nearest", "bilinear"):
            raise SpecError(f"{self.kind}.mode = {self.mode!r}: must be 'nearest' or 'bilinear'")

    def out_shape(self, ins: Shapes) -> Shape:
        c, h, w = _spatial(self.kind, ins)
        return (c, h * self.scale_factor[0], w * self.scale_factor[1])

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0 if self.mode == "nearest" else 7 * prod(out)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        axes = []
        for s in self.scale_factor:
            if is_symbolic(s):
                raise UnsupportedError(f"{self.kind}: receptive field with a symbolic scale")
            if self.mode == "nearest" or s == 1:
                axes.append((1, Fraction(1, s), 0))
            else:
                # output j samples at (j + 0.5)/s - 0.5: two taps, the first at floor of that
                axes.append((2, Fraction(1, s), -1))
        return (axes[0], axes[1])

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()
