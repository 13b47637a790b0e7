"""Resampling: ``Upsample`` (an integer factor) and ``Resize`` (any size or scale)."""

from __future__ import annotations

import dataclasses
import math
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
    invalid,
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


# ---------------------------------------------------------------- resize by any size or scale

#: per output element, the taps an interpolation reads (per axis: 1, 2 or 4) and its FLOPs:
#: a weighted sum of the taps, one multiply per tap and one add fewer
_MODES = {"nearest": (1, 0), "nearest-exact": (1, 0), "bilinear": (2, 7), "bicubic": (4, 31)}
#: thop calculate_upsample's multiplier per output element (nearest-exact: not implemented, 0)
_THOP = {"nearest": 1, "nearest-exact": 0, "bilinear": 11, "bicubic": 224 + 35}
#: fvcore's handles: upsample_nearest2d (0, 1), upsample_bilinear2d (0, 4); none for
#: _upsample_nearest_exact2d and upsample_bicubic2d
_FVCORE = {"nearest": 1, "nearest-exact": 0, "bilinear": 4, "bicubic": 0}


def _ptflops_functional(s: Any, i: Shapes, o: Shape, b: Any) -> Any:
    # _interpolate_functional_flops_hook: with a size, prod(size)·N·C; with a scalar
    # scale factor, input numel·scale² (a float, truncated when summed)
    if s.size is not None:
        return b * prod(o)
    v = b * prod(i[0]) * s.scale_factor**2
    return int(v) if isinstance(v, float) else v


@register
@dataclass(frozen=True, slots=True)
class Resize(Parameterless, Layer):
    """Interpolation of a ``(C, H, W)`` map to a ``size`` or by a ``scale_factor`` of any
    value, as ``F.interpolate`` / ``nn.Upsample`` (``mode`` nearest, nearest-exact, bilinear
    or bicubic; ``align_corners`` for the last two): CrossViT's 224 → 240 bicubic resize.
    :class:`Upsample` is the integer-factor case.

    With ``scale_factor`` the output is floor(size · scale) (torch's rule) and the sampling
    positions use 1/scale; with ``size`` they use in/out. FLOPs per output element: a
    weighted sum of the taps (nearest 0, bilinear 4 taps: 7, bicubic 16 taps: 31). ``op`` is
    how torch calls it: ``"interpolate"`` (``F.interpolate`` in a forward: only ptflops'
    patched functional counts it) or ``"upsample"`` (the ``nn.Upsample`` module, which
    ptflops and thop hook too). Autograd keeps nothing (the backward needs sizes only).

    >>> Resize(size=(240, 240), mode="bicubic").out_shape(((3, 224, 224),))
    (3, 240, 240)
    >>> Resize(scale_factor=1.5).out_shape(((4, 9, 11),))
    (4, 13, 16)
    """

    size: Any = None
    scale_factor: Any = None
    mode: str = dataclasses.field(default="nearest", metadata={"valid": tuple(_MODES)})
    align_corners: bool = False
    op: str = dataclasses.field(
        default="interpolate", metadata={"valid": ("interpolate", "upsample")}
    )

    count_fvcore = counts(
        "output numel for nearest, 4× for bilinear, 0 for nearest-exact and bicubic (fvcore "
        "elementwise_flop_counter(0, 1) on aten::upsample_nearest2d, (0, 4) on "
        "aten::upsample_bilinear2d; no handle for the other two)",
        lambda s, i, o, b: b * prod(o) * _FVCORE[s.mode],
        short="N·out·(1 nearest, 4 bilinear, 0 bicubic/nearest-exact)",
    )
    count_ptflops_hook = counts(
        "one sample's output numel for the nn.Upsample module (ptflops "
        "upsample_flops_counter_hook reads output[0]), later divided by the batch; 0 for "
        "F.interpolate in a forward (no module)",
        lambda s, i, o, b: prod(o) if s.op == "upsample" else 0,
        short="out (one sample) for nn.Upsample, else 0",
    )
    count_ptflops_functional = counts(
        "prod(size)·N·C with a size, input numel·scale² with a scale factor (ptflops "
        "_interpolate_functional_flops_hook on the patched F.interpolate, which nn.Upsample "
        "calls too)",
        _ptflops_functional,
        short="N·out (size); N·in·scale² (scale)",
    )
    count_thop = counts(
        "output numel × 1 (nearest), 11 (bilinear), 259 (bicubic), 0 (nearest-exact: not "
        "implemented) for the nn.Upsample module (thop count_upsample -> calculate_upsample); "
        "0 for F.interpolate in a forward (thop sees modules only)",
        lambda s, i, o, b: b * prod(o) * _THOP[s.mode] if s.op == "upsample" else 0,
        short="nn.Upsample: N·out·(1, 11, 259); else 0",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(size=(12, 7), mode="bicubic"), ((4, 9, 11),)

    def __post_init__(self) -> None:
        k = self.kind
        f = self.scale_factor
        if f is not None and (
            isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < float("inf")
        ):
            raise invalid(k, "scale_factor", f, "must be a positive number (or None)")
        if (self.size is None) == (f is None):
            raise invalid(k, "size", self.size, "give exactly one of size and scale_factor")
        if self.size is not None:
            _set(self, "size", _pair(k, "size", self.size))
        if self.align_corners and self.mode not in ("bilinear", "bicubic"):
            raise invalid(k, "align_corners", True, "applies to bilinear and bicubic only")

    def out_shape(self, ins: Shapes) -> Shape:
        c, h, w = _spatial(self.kind, ins)
        if self.size is not None:
            return (c, *self.size)
        f = self.scale_factor
        if is_symbolic(h) or is_symbolic(w):
            raise UnsupportedError(f"{self.kind}: a non-integer scale of a symbolic size")
        return (c, math.floor(h * f), math.floor(w * f))

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return _MODES[self.mode][1] * prod(out)

    def _ratio(self, n: Any, o: Any) -> Fraction:
        if is_symbolic(n) or is_symbolic(o):
            raise UnsupportedError(f"{self.kind}: receptive field of a symbolic size")
        if self.align_corners:
            return Fraction(n - 1, o - 1) if o > 1 else Fraction(0)
        if self.size is None:
            return 1 / Fraction(self.scale_factor)
        return Fraction(n, o)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        axes = []
        taps = _MODES[self.mode][0]
        for n, o in zip(ins[0][1:], out[1:]):
            r = self._ratio(n, o)
            # unit 0 samples at 0 (nearest, align_corners), 0.5·r (nearest-exact) or
            # 0.5·r − 0.5 (linear and cubic); its first tap: that floor, one more before
            # for cubic; unit j at j·r further, within one input unit of the rounding
            if self.mode == "nearest":
                x0 = Fraction(0)
            elif self.mode == "nearest-exact":
                x0 = r / 2
            else:
                x0 = Fraction(0) if self.align_corners else r / 2 - Fraction(1, 2)
            start = math.floor(x0) - (1 if taps == 4 else 0)
            axes.append((taps, r, start))
        return (axes[0], axes[1])

    def rf_note(self, geom: Any) -> str | None:
        return "fractional stride; size is the largest over output phases"

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Upsample",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.nn.functional.interpolate",
        "torch.nn.functional.upsample",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        call.need_map("Resize")
        m = call.module
        if m is not None:
            size, scale, mode, align = m.size, m.scale_factor, m.mode, m.align_corners
            recompute = m.recompute_scale_factor
        else:
            if call.arg(6, "antialias", False):
                raise UnsupportedError("interpolation with antialias=True")
            size, scale = call.arg(1, "size"), call.arg(2, "scale_factor")
            mode, align = call.arg(3, "mode", "nearest"), call.arg(4, "align_corners")
            recompute = call.arg(5, "recompute_scale_factor")
        if mode not in _MODES:
            raise UnsupportedError(f"mode={mode!r}: archcalc resizes {', '.join(_MODES)}")
        if scale is not None:
            if recompute:
                raise UnsupportedError("a scale factor with recompute_scale_factor=True")
            if isinstance(scale, (list, tuple)):
                if len(set(scale)) != 1:
                    raise UnsupportedError(f"scale_factor={scale}: one factor for both axes")
                scale = scale[0]
            size = None
        elif isinstance(size, (list, tuple)):
            size = tuple(int(v) for v in size)
        op = "upsample" if m is not None else "interpolate"
        return cls(size, scale, mode, bool(align) if mode in ("bilinear", "bicubic") else False, op)

    def to_torch(self, tb: Any) -> Any:
        s = self
        align = s.align_corners if s.mode in ("bilinear", "bicubic") else None
        if s.op == "upsample":
            return tb.nn.Upsample(s.size, s.scale_factor, mode=s.mode, align_corners=align)
        return tb.Interpolate(s.size, s.scale_factor, s.mode, align)
