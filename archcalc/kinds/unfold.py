"""Sliding blocks: ``Unfold`` (im2col: every window of a map as a column) and ``Fold``
(col2im: columns summed back into a map), as ``torch.nn.Unfold`` / ``torch.nn.Fold``.

A map ``(C, H, W)`` unfolds into ``(C·kh·kw, L)``: column ``l`` is the window of block
``(l // W_out, l mod W_out)`` of the ``H_out × W_out`` grid of a convolution with the same
kernel, stride, padding and dilation. Fold takes such columns back to a map, summing where
windows overlap. Neither has parameters; torch's autograd keeps nothing for either (the
backward of one is the other, which needs only the sizes).

>>> Unfold(3, padding=1, stride=2).out_shape(((4, 9, 11),))
(36, 30)
>>> Fold((9, 11), 3, padding=1, stride=2).out_shape(((36, 30),))
(4, 9, 11)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError, UnsupportedError
from .._math import Num, floordiv, is_symbolic, prod
from ._base import (
    AxisGeom,
    Extra,
    Layer,
    Pair,
    Shape,
    Shapes,
    TorchCall,
    _fmt,
    _pair,
    _set,
    _spatial,
    _window_out,
    register,
    torch_size,
)
from ._rules import (
    Parameterless,
    fvcore_unhandled,
    ptflops_no_hook,
    ptflops_no_patch,
    thop_no_hook,
)
from .conv import ConvTranspose2d


class _Blocks(Parameterless, Layer):
    """What Unfold and Fold share (each declares its fields in torch's order: kernel_size,
    dilation, padding, stride; Fold's output_size first)."""

    __slots__ = ()
    kernel_size: Any
    dilation: Any
    padding: Any
    stride: Any

    def _validate(self) -> None:
        k = self.kind
        _set(self, "kernel_size", _pair(k, "kernel_size", self.kernel_size))
        _set(self, "dilation", _pair(k, "dilation", self.dilation))
        _set(self, "padding", _pair(k, "padding", self.padding, minimum=0))
        _set(self, "stride", _pair(k, "stride", self.stride))

    def grid(self, h: Any, w: Any) -> Pair:
        """The blocks' ``(H_out, W_out)`` on an ``h × w`` map (a convolution's output size)."""
        (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (
            self.kernel_size,
            self.dilation,
            self.padding,
            self.stride,
        )
        return (
            _window_out(self.kind, "height", h, kh, sh, ph, ph, dh),
            _window_out(self.kind, "width", w, kw, sw, pw, pw, dw),
        )

    def taps(self) -> Pair:
        return self.dilation

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        # the backward of im2col is col2im and vice versa: sizes only (measured: nothing)
        return ()

    @classmethod
    def _torch_args(cls, call: TorchCall) -> dict[str, Any]:
        m = call.module
        if m is not None:
            k, d, p, s = m.kernel_size, m.dilation, m.padding, m.stride
        else:  # F.unfold(x, kernel_size, ...), F.fold(x, output_size, kernel_size, ...)
            off = 2 if call.op.endswith(".fold") else 1
            k = call.arg(off, "kernel_size")
            d = call.arg(off + 1, "dilation", 1)
            p = call.arg(off + 2, "padding", 0)
            s = call.arg(off + 3, "stride", 1)
        return {
            "kernel_size": torch_size(k, "kernel_size"),
            "dilation": torch_size(d, "dilation"),
            "padding": torch_size(p, "padding"),
            "stride": torch_size(s, "stride"),
        }


@register
@dataclass(frozen=True, slots=True)
class Unfold(_Blocks):
    """Every ``kh × kw`` window of a ``(C, H, W)`` map as a column of ``(C·kh·kw, L)``, as
    ``torch.nn.Unfold`` / ``F.unfold`` (im2col; TNT's and VOLO's patches). A copy: no
    FLOPs. Its receptive field is a convolution's, on the grid of blocks the ``L`` axis
    enumerates row by row.
    """

    kernel_size: Any
    dilation: Any = 1
    padding: Any = 0
    stride: Any = 1

    count_fvcore = fvcore_unhandled("im2col")
    count_ptflops_hook = ptflops_no_hook("nn.Unfold")
    count_ptflops_functional = ptflops_no_patch("F.unfold")
    count_thop = thop_no_hook("nn.Unfold")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(3, padding=1, stride=2), ((4, 9, 11),)

    def __post_init__(self) -> None:
        self._validate()

    def out_shape(self, ins: Shapes) -> Shape:
        c, h, w = _spatial(self.kind, ins)
        oh, ow = self.grid(h, w)
        kh, kw = self.kernel_size
        return (c * kh * kw, oh * ow)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (
            self.kernel_size,
            self.dilation,
            self.padding,
            self.stride,
        )
        return ((dh * (kh - 1) + 1, sh, -ph), (dw * (kw - 1) + 1, sw, -pw))

    def rf_note(self, geom: Any) -> str | None:
        return "column l is the window of block (l // W_out, l mod W_out); the field keeps two axes"

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Unfold",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.unfold",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        call.need_map("Unfold")
        return cls(**cls._torch_args(call))

    def to_torch(self, tb: Any) -> Any:
        s = self
        return tb.nn.Unfold(s.kernel_size, s.dilation, s.padding, s.stride)


@register
@dataclass(frozen=True, slots=True)
class Fold(_Blocks):
    """Columns ``(C·kh·kw, L)`` summed back into a ``(C, H, W)`` map of ``output_size``, as
    ``torch.nn.Fold`` / ``F.fold`` (col2im; VOLO's outlook attention). ``L`` must be the
    number of blocks a convolution of the same geometry has on that map.

    FLOPs: one add per input element (each is accumulated into the zeroed output). Its
    receptive field is a transposed convolution's (output pixels gather the blocks covering
    them) on the grid of blocks.
    """

    output_size: Any
    kernel_size: Any
    dilation: Any = 1
    padding: Any = 0
    stride: Any = 1

    count_fvcore = fvcore_unhandled("col2im")
    count_ptflops_hook = ptflops_no_hook("nn.Fold")
    count_ptflops_functional = ptflops_no_patch("F.fold")
    count_thop = thop_no_hook("nn.Fold")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((9, 11), 3, padding=1, stride=2), ((36, 30),)

    def __post_init__(self) -> None:
        self._validate()
        _set(self, "output_size", _pair(self.kind, "output_size", self.output_size))

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if len(s) != 2:
            raise ShapeError(f"Fold needs columns (C·kh·kw, L), got shape {_fmt(s)}")
        ck, n = s
        kh, kw = self.kernel_size
        h, w = self.output_size
        oh, ow = self.grid(h, w)
        if not any(is_symbolic(v) for v in (ck, n, oh, ow)) and (ck % (kh * kw) or n != oh * ow):
            raise ShapeError(
                f"Fold: columns {_fmt(s)} are not (C·{kh}·{kw}, {oh}·{ow}) blocks of a {h}x{w} map"
            )
        return (floordiv(ck, kh * kw), h, w)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(ins[0])

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        # output pixel j gathers block i's tap t when j = i·s − p + d·t: a transposed
        # convolution's geometry (kinds/conv.py derives it per phase)
        t = ConvTranspose2d(
            1,
            1,
            self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
        )
        return t.geometry(((1, 1, 1),), (1, 1, 1))

    def rf_note(self, geom: Any) -> str | None:
        return "fractional stride; size is the largest over output phases"

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Fold",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.fold",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        x = call.inputs[0] if call.inputs else ()
        if not call.inputs or call.layouts[0] != "std" or len(x) != 2:
            raise UnsupportedError(f"Fold needs (N, C·kh·kw, L) columns, got {tuple(x)}")
        m = call.module
        size = m.output_size if m is not None else call.arg(1, "output_size")
        return cls(output_size=torch_size(size, "output_size"), **cls._torch_args(call))

    def to_torch(self, tb: Any) -> Any:
        s = self
        return tb.nn.Fold(s.output_size, s.kernel_size, s.dilation, s.padding, s.stride)
