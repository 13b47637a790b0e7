"""Padding a map: ``Pad`` (``F.pad``, ``nn.ZeroPad2d``, ``nn.ConstantPad2d``, and the reflect,
replicate and circular modes and modules)."""

from __future__ import annotations

import dataclasses
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
from ._rules import Parameterless, counts_zero, ptflops_no_patch, thop_no_hook


@register
@dataclass(frozen=True, slots=True)
class Pad(Parameterless, Layer):
    """Pad the height and width of a ``(C, H, W)`` map with ``value``: ``pad`` is
    ``(left, right, top, bottom)`` as ``F.pad`` takes it (negative crops). A copy: no FLOPs,
    nothing saved for backward; output row ``i`` is input row ``i - top``.

    ``mode`` as ``F.pad``'s: ``"constant"`` (``value``), ``"reflect"``, ``"replicate"``
    (autograd keeps the input: measured) or ``"circular"`` (timm's BlurPool2d pads by
    reflection). The border rows of the last three read mirrored, repeated or wrapped input
    rows: the receptive-field report says so.

    >>> Pad((0, 1, 0, 1)).out_shape(((8, 7, 7),))
    (8, 8, 8)
    """

    pad: Any
    #: a number; -inf too (timm pads its 'same' max pools with -inf)
    value: Any = 0.0
    mode: str = dataclasses.field(
        default="constant", metadata={"valid": ("constant", "reflect", "replicate", "circular")}
    )

    count_fvcore = counts_zero(
        "aten::constant_pad_nd is in fvcore's jit_analysis._IGNORED_OPS; "
        "reflection_pad2d / replication_pad2d have no handle (and circular runs as copies)"
    )
    count_ptflops_hook = counts_zero(
        "nn.ZeroPad2d/ConstantPad2d are not in ptflops' MODULES_MAPPING"
    )
    count_ptflops_functional = ptflops_no_patch("F.pad")
    count_thop = thop_no_hook("nn.ZeroPad2d / nn.ConstantPad2d")

    torch_modules: ClassVar[tuple[str, ...]] = (
        "torch.nn.ZeroPad2d",
        "torch.nn.ConstantPad2d",
        "torch.nn.ReflectionPad2d",
        "torch.nn.ReplicationPad2d",
        "torch.nn.CircularPad2d",
    )
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
        if self.mode != "constant" and v != 0:
            raise invalid(
                self.kind, "value", v, f"applies to mode 'constant' only, not {self.mode!r}"
            )

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

    def rf_note(self, geom: Any) -> str | None:
        if self.mode == "constant":
            return None
        return {
            "reflect": "reflect padding: border units also see the mirrored rows (inside the "
            "clipped box when the padding is at most half of the next window)",
            "replicate": "replicate padding: border units also see the edge rows (inside the "
            "clipped box)",
            "circular": "circular padding: border units also see the opposite border",
        }[self.mode]

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        # reflection_pad2d / replication_pad2d backward read their input (measured)
        return ("in0",) if self.mode in ("reflect", "replicate") else ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        call.need_map("Pad")
        m = call.module
        if m is not None:
            name = type(m).__name__
            mode = {"ReflectionPad2d": "reflect", "ReplicationPad2d": "replicate"}.get(
                name, "circular" if name == "CircularPad2d" else "constant"
            )
            return cls(tuple(int(p) for p in m.padding), float(getattr(m, "value", 0.0)), mode)
        pad = tuple(call.arg(1, "pad"))
        mode, value = call.arg(2, "mode", "constant"), call.arg(3, "value", None)
        if mode not in ("constant", "reflect", "replicate", "circular"):
            raise UnsupportedError(f"F.pad(mode={mode!r})")
        if len(pad) == 2:
            pad = (*pad, 0, 0)
        if len(pad) != 4:
            raise UnsupportedError(f"F.pad of {len(pad) // 2} axes: archcalc pads height/width")
        return cls(tuple(int(p) for p in pad), float(value or 0.0), mode)

    def to_torch(self, tb: Any) -> Any:
        if self.mode == "constant":
            return tb.nn.ConstantPad2d(self.pad, self.value)
        cls = {"reflect": "ReflectionPad2d", "replicate": "ReplicationPad2d"}
        return getattr(tb.nn, cls.get(self.mode, "CircularPad2d"))(self.pad)
