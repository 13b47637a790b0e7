"""Resampling: ``Upsample``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from .._errors import UnsupportedError
from .._math import Num, is_symbolic, prod
from ._base import (
    AxisGeom,
    Extra,
    Layer,
    Shape,
    Shapes,
    TorchCall,
    _pair,
    _set,
    _spatial,
    register,
)
from ._rules import Parameterless, counts


@register
@dataclass(frozen=True, slots=True)
class Upsample(Parameterless, Layer):
    """Upsampling by an integer ``scale_factor``, ``mode`` nearest or bilinear
    (``align_corners=False``). Bilinear: 7 FLOPs per output (4 multiplies, 3 adds)."""

    scale_factor: Any = 2
    mode: str = dataclasses.field(default="nearest", metadata={"valid": ("nearest", "bilinear")})

    count_fvcore = counts(
        "output numel, ×4 for bilinear (fvcore elementwise_flop_counter(0, 1) on "
        "aten::upsample_nearest2d, (0, 4) on aten::upsample_bilinear2d)",
        lambda s, i, o, b: b * prod(o) * (4 if s.mode == "bilinear" else 1),
        short="nearest N·out; bilinear 4N·out",
    )
    count_ptflops_hook = counts(
        "one sample's output numel whatever the batch (ptflops upsample_flops_counter_hook "
        "reads output[0]), later divided by the batch like every hook",
        lambda s, i, o, b: prod(o),
        short="out (one sample)",
    )
    count_ptflops_functional = counts(
        "input numel·prod(scale_factor) = output numel (ptflops "
        "_interpolate_functional_flops_hook on the patched F.interpolate)",
        lambda s, i, o, b: b * prod(o),
        short="N·out",
    )
    count_thop = counts(
        "output numel, ×11 for bilinear (thop count_upsample -> calculate_upsample)",
        lambda s, i, o, b: b * prod(o) * (11 if s.mode == "bilinear" else 1),
        short="nearest N·out; bilinear 11N·out",
    )
    ptflops_hooked: ClassVar[bool] = True
    thop_hooked: ClassVar[bool] = True

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((2, 3)), ((4, 9, 11),)

    def rf_note(self, geom: Any) -> str | None:
        return "fractional stride; size is the largest over output phases"

    def __post_init__(self) -> None:
        _set(self, "scale_factor", _pair(self.kind, "scale_factor", self.scale_factor))

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

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Upsample",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.nn.functional.interpolate",
        "torch.nn.functional.upsample",
        "torch.nn.functional.upsample_nearest",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        x = call.need_map("Upsample")
        m = call.module
        if m is not None:
            mode, align = m.mode, m.align_corners
        else:
            if call.arg(6, "antialias", False):
                raise UnsupportedError("interpolation with antialias=True")
            mode = "nearest" if "nearest" in call.op else call.arg(3, "mode", "nearest")
            align = call.arg(4, "align_corners")
        scale = []
        for o, i in zip(call.output[1:], x[1:]):
            if o % i:
                raise UnsupportedError(
                    f"upsampling {tuple(x[1:])} to {tuple(call.output[1:])}: archcalc's "
                    f"Upsample has an integer factor"
                )
            scale.append(o // i)
        if mode in ("nearest", "nearest-exact"):
            # for an integer factor nearest-exact picks the same pixels as nearest
            mode = "nearest"
        elif mode == "bilinear":
            if align:
                raise UnsupportedError("bilinear with align_corners=True")
        else:
            raise UnsupportedError(f"mode={mode!r}: archcalc upsamples nearest or bilinear")
        return cls(scale[0] if scale[0] == scale[1] else tuple(scale), mode)

    def to_torch(self, tb: Any) -> Any:
        s = self
        sf = (float(s.scale_factor[0]), float(s.scale_factor[1]))
        if s.mode == "bilinear":
            return tb.nn.Upsample(scale_factor=sf, mode="bilinear", align_corners=False)
        return tb.nn.Upsample(scale_factor=sf, mode="nearest")
