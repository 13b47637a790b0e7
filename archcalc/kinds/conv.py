"""Convolutions: ``Conv2d``, ``ConvTranspose2d``, ``Conv1d``, timm's ``Conv2dSame`` (TensorFlow's
'SAME' padding) and weight-standardised ``StdConv2d``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from typing import Any, ClassVar

from .._errors import ShapeError, SpecError, UnsupportedError
from .._math import Num, ceildiv, floordiv, is_symbolic, known_lt, prod
from ._base import (
    AxisGeom,
    Extra,
    Layer,
    Pair,
    Shape,
    Shapes,
    TorchCall,
    _check_int,
    _eq_known_false,
    _pair,
    _set,
    _spatial,
    _window_out,
    invalid,
    register,
    torch_size,
)
from ._rules import MatmulCounts, counts, counts_zero, macs_plus_bias, numel

# ---------------------------------------------------------------- weighted layers


def _thop_conv(layer: Any, ins: Shapes, out: Shape, b: Any) -> Any:
    kh, kw = layer.kernel_size
    return b * numel(out) * (ins[0][0] // layer.groups) * kh * kw


class _ConvCounts(MatmulCounts):
    """The foreign rules Conv2d and ConvTranspose2d share (kinds/_rules.py)."""

    __slots__ = ()

    count_ptflops_hook = counts(
        "MACs + one add per output when biased, over input positions when transposed "
        "(ptflops pytorch_ops.conv_flops_counter_hook)",
        macs_plus_bias,
        short="N·(MACs + [bias]·out)",
    )
    count_ptflops_functional = counts_zero("F.conv2d / F.conv_transpose2d are not patched")
    count_thop = counts(
        "output numel·(C_in/groups)·kh·kw, no bias, output positions also when transposed "
        "(thop count_convNd -> calculate_conv2d_flops)",
        _thop_conv,
        short="N·out·(C_in/groups)·k_h·k_w",
    )
    count_torchinfo = counts(
        "(weight + bias numel)·N·H_out·W_out ('Conv' in the class name: torchinfo "
        "LayerInfo.calculate_macs)",
        lambda s, i, o, b: b * s.params(i) * prod(o[1:]),
        short="N·(weight + bias numel)·H_out·W_out",
    )
    ptflops_hooked = True
    thop_hooked = True


@register
@dataclass(frozen=True, slots=True)
class Conv2d(_ConvCounts, Layer):
    """2-D convolution, as ``torch.nn.Conv2d``.

    ``padding`` is an int, a pair, ``"same"`` (stride 1 only, as in torch; an odd total is
    padded one more at the bottom/right) or ``"valid"``.

    >>> Conv2d(64, 64, 3, padding=1, bias=False).params(((64, 56, 56),))
    36864
    """

    in_channels: Any
    out_channels: Any
    kernel_size: Any
    stride: Any = 1
    padding: Any = 0
    dilation: Any = 1
    groups: Any = 1
    bias: bool = True

    weighted: ClassVar[bool] = True
    classifier: ClassVar[bool] = True
    head_role: ClassVar[str | None] = "keep"

    count_fvcore = counts(
        "MACs: N·prod(weight shape)·prod(output spatial), bias ignored (fvcore "
        "jit_handles.conv_flop_jit); padding 'same'/'valid' traces as aten::_convolution_mode, "
        "which has no handle: 0",
        lambda s, i, o, b: 0 if isinstance(s.padding, str) else b * s.macs(i, o),
        short="N·MACs; 0 with padding 'same'/'valid'",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4, 6, 3, stride=2, padding=1), ((4, 9, 11),)

    def with_outputs(self, n: int) -> Layer | None:
        """This convolution with ``n`` output channels (not a grouped one)."""
        return None if self.groups != 1 else dataclasses.replace(self, out_channels=n)

    def __post_init__(self) -> None:
        k = self.kind
        _check_int(k, "in_channels", self.in_channels, 1)
        _check_int(k, "out_channels", self.out_channels, 1)
        _set(self, "kernel_size", _pair(k, "kernel_size", self.kernel_size))
        _set(self, "stride", _pair(k, "stride", self.stride))
        _set(self, "dilation", _pair(k, "dilation", self.dilation))
        _check_int(k, "groups", self.groups, 1)
        if isinstance(self.padding, str):
            if self.padding not in ("same", "valid"):
                raise invalid(
                    k, "padding", self.padding, "must be an integer, a pair, 'same' or 'valid'"
                )
            if self.padding == "same" and self.stride != (1, 1):
                raise SpecError(
                    f"{k}.padding = 'same' needs stride 1 (as in torch), got stride={self.stride}"
                )
        else:
            _set(self, "padding", _pair(k, "padding", self.padding, minimum=0))
        for name in ("in_channels", "out_channels"):
            v = getattr(self, name)
            if not is_symbolic(v) and not is_symbolic(self.groups) and v % self.groups:
                raise SpecError(f"{k}.{name} (={v}) must be divisible by groups (={self.groups})")

    def pads(self) -> tuple[Pair, Pair]:
        """((top, bottom), (left, right)) padding actually applied."""
        if self.padding == "valid":
            return ((0, 0), (0, 0))
        if self.padding == "same":
            out = []
            for k, d in zip(self.kernel_size, self.dilation):
                total = d * (k - 1)
                lo = floordiv(total, 2)
                out.append((lo, total - lo))
            return (out[0], out[1])
        ph, pw = self.padding
        return ((ph, ph), (pw, pw))

    def out_shape(self, ins: Shapes) -> Shape:
        c, h, w = _spatial(self.kind, ins)
        if _eq_known_false(c, self.in_channels):
            raise ShapeError(
                f"{self.kind}.in_channels = {self.in_channels} but the input has {c} channels"
            )
        (pt, pb), (pl, pr) = self.pads()
        ho = _window_out(
            self.kind, "height", h, self.kernel_size[0], self.stride[0], pt, pb, self.dilation[0]
        )
        wo = _window_out(
            self.kind, "width", w, self.kernel_size[1], self.stride[1], pl, pr, self.dilation[1]
        )
        return (self.out_channels, ho, wo)

    def params(self, ins: Shapes) -> Num:
        # weight: C_out x (C_in / groups) x kh x kw, plus one bias per output channel
        kh, kw = self.kernel_size
        w = (
            self.out_channels
            * (
                self.in_channels // self.groups
                if not is_symbolic(self.groups)
                else self.in_channels / self.groups
            )
            * kh
            * kw
        )
        return w + (self.out_channels if self.bias else 0)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        # every output element: (C_in / groups) * kh * kw multiply-accumulates
        kh, kw = self.kernel_size
        cin_g = (
            self.in_channels // self.groups
            if not is_symbolic(self.groups)
            else (self.in_channels / self.groups)
        )
        return prod(out) * cin_g * kh * kw

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 2 * self.macs(ins, out)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        (pt, _), (pl, _) = self.pads()
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        return ((dh * (kh - 1) + 1, sh, -pt), (dw * (kw - 1) + 1, sw, -pl))

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        if self.padding == "same":
            (pt, pb), (pl, pr) = self.pads()
            dh, dw = pb - pt, pr - pl
            if dh != 0 or dw != 0:
                # torch pads a copy by the odd remainder and convolves that: the copy is kept
                c, h, w = ins[0]
                return (Extra(batch * c * (h + dh) * (w + dw), None, "padded input copy"),)
        return ("in0",)

    def taps(self) -> Pair:
        """Spacing of the kernel's taps per axis (the dilation)."""
        return self.dilation

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Conv2d",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.conv2d", "torch.conv2d")

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        c = call.need_map("Conv2d")
        m = call.module
        if m is not None:
            if m.padding_mode != "zeros":
                raise UnsupportedError(
                    f"padding_mode={m.padding_mode!r}: archcalc's Conv2d pads with zeros"
                )
            padding = m.padding if isinstance(m.padding, str) else torch_size(m.padding, "padding")
            return cls(
                m.in_channels,
                m.out_channels,
                torch_size(m.kernel_size, "kernel_size"),
                stride=torch_size(m.stride, "stride"),
                padding=padding,
                dilation=torch_size(m.dilation, "dilation"),
                groups=m.groups,
                bias=m.bias is not None,
            )
        w, bias = call.arg(1, "weight"), call.arg(2, "bias")
        if getattr(w, "param", None) is None or (
            bias is not None and getattr(bias, "param", None) is None
        ):
            raise UnsupportedError("conv2d with weights that are not parameters")
        cout, cin_g, kh, kw = w.shape
        groups = int(call.arg(6, "groups", 1))
        padding = call.arg(4, "padding", 0)
        return cls(
            cin_g * groups if cin_g * groups == c[0] else c[0],
            cout,
            (kh, kw),
            stride=torch_size(call.arg(3, "stride", 1), "stride"),
            padding=padding if isinstance(padding, str) else torch_size(padding, "padding"),
            dilation=torch_size(call.arg(5, "dilation", 1), "dilation"),
            groups=groups,
            bias=bias is not None,
        )

    def to_torch(self, tb: Any) -> Any:
        s = self
        return tb.nn.Conv2d(
            s.in_channels,
            s.out_channels,
            s.kernel_size,
            stride=s.stride,
            padding=s.padding,
            dilation=s.dilation,
            groups=s.groups,
            bias=s.bias,
        )


@register
@dataclass(frozen=True, slots=True)
class ConvTranspose2d(_ConvCounts, Layer):
    """Transposed 2-D convolution, as ``torch.nn.ConvTranspose2d``.

    >>> ConvTranspose2d(8, 4, 4, stride=2, padding=1).out_shape(((8, 16, 16),))
    (4, 32, 32)
    """

    in_channels: Any
    out_channels: Any
    kernel_size: Any
    stride: Any = 1
    padding: Any = 0
    output_padding: Any = 0
    dilation: Any = 1
    groups: Any = 1
    bias: bool = True

    weighted: ClassVar[bool] = True

    count_fvcore = counts(
        "MACs: N·prod(weight shape)·prod(*input* spatial) (fvcore conv_flop_count, "
        "transposed=True)",
        lambda s, i, o, b: b * s.macs(i, o),
        short="N·MACs",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4, 6, 3, stride=2, padding=1, output_padding=1), ((4, 9, 11),)

    def rf_note(self, geom: Any) -> str | None:
        return "fractional stride; size is the largest over output phases"

    def __post_init__(self) -> None:
        k = self.kind
        _check_int(k, "in_channels", self.in_channels, 1)
        _check_int(k, "out_channels", self.out_channels, 1)
        _set(self, "kernel_size", _pair(k, "kernel_size", self.kernel_size))
        _set(self, "stride", _pair(k, "stride", self.stride))
        _set(self, "padding", _pair(k, "padding", self.padding, minimum=0))
        _set(self, "output_padding", _pair(k, "output_padding", self.output_padding, minimum=0))
        _set(self, "dilation", _pair(k, "dilation", self.dilation))
        _check_int(k, "groups", self.groups, 1)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if not (is_symbolic(op) or is_symbolic(s) or is_symbolic(d)) and op >= max(s, d):
                raise SpecError(
                    f"{k}.output_padding = {op}: must be smaller than stride ({s}) or dilation ({d})"
                )
        for name in ("in_channels", "out_channels"):
            v = getattr(self, name)
            if not is_symbolic(v) and not is_symbolic(self.groups) and v % self.groups:
                raise SpecError(f"{k}.{name} (={v}) must be divisible by groups (={self.groups})")

    def out_shape(self, ins: Shapes) -> Shape:
        c, h, w = _spatial(self.kind, ins)
        if _eq_known_false(c, self.in_channels):
            raise ShapeError(
                f"{self.kind}.in_channels = {self.in_channels} but the input has {c} channels"
            )
        dims = []
        for n, k, s, p, op, d, ax in zip(
            (h, w),
            self.kernel_size,
            self.stride,
            self.padding,
            self.output_padding,
            self.dilation,
            ("height", "width"),
        ):
            o = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
            if known_lt(o, 1):
                raise ShapeError(f"{self.kind}: output {ax} would be {o}; reduce padding")
            dims.append(o)
        return (self.out_channels, dims[0], dims[1])

    def params(self, ins: Shapes) -> Num:
        # weight: C_in x (C_out / groups) x kh x kw, plus bias C_out
        kh, kw = self.kernel_size
        return self.in_channels * (self.out_channels // self.groups) * kh * kw + (
            self.out_channels if self.bias else 0
        )

    def macs(self, ins: Shapes, out: Shape) -> Num:
        # every input element is scattered into (C_out / groups) * kh * kw outputs
        kh, kw = self.kernel_size
        return prod(ins[0]) * (self.out_channels // self.groups) * kh * kw

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 2 * self.macs(ins, out)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        axes = []
        for k, s, p, d in zip(self.kernel_size, self.stride, self.padding, self.dilation):
            if any(is_symbolic(v) for v in (k, s, p, d)):
                raise UnsupportedError(
                    f"{self.kind}: receptive field with symbolic kernel/stride/padding"
                )
            # output j reads input i when j = i*s - p + d*t, t in [0, k). In the output phase
            # where j + p = r (mod s) the taps are the t with d*t = r (mod s): none unless
            # g = gcd(d, s) divides r, else t = t_r (mod m), m = s/g. Closed forms (a walk
            # over s phases x k taps hangs at k = s = 100,000; equal to that walk for every
            # k, s < 9, p < 9, d < 6 in tests/engine/test_receptive_phases.py):
            g = gcd(d, s)
            m = s // g
            # the widest phase has t_r = 0 (r = 0): taps 0, m, ..., its inputs d/g apart
            extent = (d // g) * ((k - 1) // m) + 1
            # unit 0 (r = p): its first input comes from the largest tap t with d*t = p (mod s)
            start = ceildiv(p - d * (k - 1), s)
            if p % g == 0:
                t1 = (p // g) * pow(d // g, -1, m) % m
                if t1 <= k - 1:
                    start = (p - d * (t1 + (k - 1 - t1) // m * m)) // s
            axes.append((extent, Fraction(1, s), start))
        return (axes[0], axes[1])

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0",)

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.ConvTranspose2d",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if m.padding_mode != "zeros":
            raise UnsupportedError(f"padding_mode={m.padding_mode!r}")
        x = call.need_map("ConvTranspose2d")
        k = _pair2(m.kernel_size)
        s, d = _pair2(m.stride), _pair2(m.dilation)
        p = _pair2(torch_size(m.padding, "padding"))
        # output_padding from the output torch made (also when forward got output_size)
        op = tuple(
            o - ((i - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + 1)
            for o, i, k_, s_, p_, d_ in zip(call.output[1:], x[1:], k, s, p, d)
        )
        return cls(
            m.in_channels,
            m.out_channels,
            k,
            stride=s,
            padding=p,
            output_padding=op,
            dilation=d,
            groups=m.groups,
            bias=m.bias is not None,
        )

    def to_torch(self, tb: Any) -> Any:
        s = self
        return tb.nn.ConvTranspose2d(
            s.in_channels,
            s.out_channels,
            s.kernel_size,
            stride=s.stride,
            padding=s.padding,
            output_padding=s.output_padding,
            groups=s.groups,
            bias=s.bias,
            dilation=s.dilation,
        )


def _pair2(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


# ---------------------------------------------------------------- one spatial axis


def _seq(kind: str, ins: Shapes) -> Shape:
    s = ins[0]
    if len(s) != 2:
        raise ShapeError(
            f"{kind} needs a (C, L) sequence (torch's (N, C, L)), got shape {'x'.join(map(str, s))}"
        )
    return s


@register
@dataclass(frozen=True, slots=True)
class Conv1d(MatmulCounts, Layer):
    """1-D convolution over the last axis of a ``(C, L)`` tensor, as ``torch.nn.Conv1d``
    (torch's ``(N, C, L)``): ECA attention's convolution across channels, a sequence model's
    temporal convolution.

    ``padding`` is an int, ``"same"`` (stride 1; an odd total pads one more on the right, as
    torch does) or ``"valid"``. Params ``C_out·(C_in/groups)·k`` + ``C_out`` bias; MACs
    ``C_out·L_out·(C_in/groups)·k``. The receptive field has one axis (the ``L`` axis).

    >>> Conv1d(1, 1, 5, padding=2, bias=False).out_shape(((1, 64),))
    (1, 64)
    """

    in_channels: Any
    out_channels: Any
    kernel_size: Any
    stride: Any = 1
    padding: Any = 0
    dilation: Any = 1
    groups: Any = 1
    bias: bool = True

    weighted: ClassVar[bool] = True

    count_fvcore = counts(
        "MACs: N·prod(weight shape)·L_out, bias ignored (fvcore jit_handles.conv_flop_jit "
        "on aten::_convolution); padding 'same'/'valid' traces as aten::_convolution_mode, "
        "which has no handle: 0",
        lambda s, i, o, b: 0 if isinstance(s.padding, str) else b * s.macs(i, o),
        short="N·MACs; 0 with padding 'same'/'valid'",
    )
    count_ptflops_hook = counts(
        "MACs + one add per output when biased (ptflops conv_flops_counter_hook; nn.Conv1d "
        "is in MODULES_MAPPING)",
        macs_plus_bias,
        short="N·(MACs + [bias]·out)",
    )
    count_ptflops_functional = counts_zero("F.conv1d is not patched by ptflops")
    count_thop = counts(
        "output numel·(C_in/groups)·k, no bias (thop count_convNd -> calculate_conv2d_flops)",
        lambda s, i, o, b: b * numel(o) * (i[0][0] // s.groups) * s.kernel_size,
        short="N·out·(C_in/groups)·k",
    )
    count_torchinfo = counts(
        "(weight + bias numel)·N·L_out ('Conv' in the class name: torchinfo "
        "LayerInfo.calculate_macs)",
        lambda s, i, o, b: b * s.params(i) * o[1],
        short="N·(weight + bias numel)·L_out",
    )
    ptflops_hooked: ClassVar[bool] = True
    thop_hooked: ClassVar[bool] = True

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4, 6, 3, stride=2, padding=1), ((4, 11),)

    def __post_init__(self) -> None:
        k = self.kind
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups"):
            _check_int(k, name, getattr(self, name), 1)
        if isinstance(self.padding, str):
            if self.padding not in ("same", "valid"):
                raise invalid(k, "padding", self.padding, "must be an integer, 'same' or 'valid'")
            if self.padding == "same" and self.stride != 1:
                raise SpecError(
                    f"{k}.padding = 'same' needs stride 1 (as in torch), got stride={self.stride}"
                )
        else:
            _check_int(k, "padding", self.padding, 0)
        for name in ("in_channels", "out_channels"):
            v = getattr(self, name)
            if not is_symbolic(v) and not is_symbolic(self.groups) and v % self.groups:
                raise SpecError(f"{k}.{name} (={v}) must be divisible by groups (={self.groups})")

    def pads(self) -> Pair:
        """(left, right) padding actually applied."""
        if self.padding == "valid":
            return (0, 0)
        if self.padding == "same":
            total = self.dilation * (self.kernel_size - 1)
            return (floordiv(total, 2), total - floordiv(total, 2))
        return (self.padding, self.padding)

    def out_shape(self, ins: Shapes) -> Shape:
        c, n = _seq(self.kind, ins)
        if _eq_known_false(c, self.in_channels):
            raise ShapeError(
                f"{self.kind}.in_channels = {self.in_channels} but the input has {c} channels"
            )
        lo, hi = self.pads()
        k, s, d = self.kernel_size, self.stride, self.dilation
        return (self.out_channels, _window_out(self.kind, "length", n, k, s, lo, hi, d))

    def _cin_g(self) -> Any:
        g = self.groups
        return self.in_channels // g if not is_symbolic(g) else self.in_channels / g

    def params(self, ins: Shapes) -> Num:
        # weight: C_out x (C_in / groups) x k, plus one bias per output channel
        w = self.out_channels * self._cin_g() * self.kernel_size
        return w + (self.out_channels if self.bias else 0)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        # every output element: (C_in / groups) * k multiply-accumulates
        return prod(out) * self._cin_g() * self.kernel_size

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 2 * self.macs(ins, out)

    def geometry(self, ins: Shapes, out: Shape) -> Any:
        # one axis: the L axis (a field on a (C, H, W) map viewed as (C, L) is a reported
        # gap of the receptive-field engine: 2 axes meet 1)
        lo, _ = self.pads()
        return ((self.dilation * (self.kernel_size - 1) + 1, self.stride, -lo),)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        lo, hi = self.pads()
        if self.padding == "same" and lo != hi:
            # torch pads a copy by the odd remainder and convolves that: the copy is kept
            c, n = ins[0]
            return (Extra(batch * c * (n + hi - lo), None, "padded input copy"),)
        return ("in0",)

    def taps(self) -> Pair:
        return (self.dilation, self.dilation)

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Conv1d",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.conv1d", "torch.conv1d")

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        x = call.inputs[0] if call.inputs else ()
        if not call.inputs or call.layouts[0] != "std" or len(x) != 2:
            raise UnsupportedError(
                f"Conv1d needs an (N, C, L) tensor, got per-sample shape {tuple(x)}"
            )
        m = call.module
        if m is not None:
            if m.padding_mode != "zeros":
                raise UnsupportedError(
                    f"padding_mode={m.padding_mode!r}: archcalc's Conv1d pads with zeros"
                )
            p = m.padding if isinstance(m.padding, str) else int(m.padding[0])
            return cls(
                m.in_channels,
                m.out_channels,
                int(m.kernel_size[0]),
                stride=int(m.stride[0]),
                padding=p,
                dilation=int(m.dilation[0]),
                groups=m.groups,
                bias=m.bias is not None,
            )
        w, bias = call.arg(1, "weight"), call.arg(2, "bias")
        if getattr(w, "param", None) is None or (
            bias is not None and getattr(bias, "param", None) is None
        ):
            raise UnsupportedError("conv1d with weights that are not parameters")
        cout, cin_g, k = w.shape
        groups = int(call.arg(6, "groups", 1))

        def one(v: Any, what: str) -> Any:
            v = v[0] if isinstance(v, (list, tuple)) and len(v) == 1 else v
            if isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)):
                return v
            raise UnsupportedError(f"conv1d {what} = {v!r} is not an integer")

        return cls(
            x[0],
            cout,
            k,
            stride=one(call.arg(3, "stride", 1), "stride"),
            padding=one(call.arg(4, "padding", 0), "padding"),
            dilation=one(call.arg(5, "dilation", 1), "dilation"),
            groups=groups,
            bias=bias is not None,
        )

    def to_torch(self, tb: Any) -> Any:
        s = self
        return tb.nn.Conv1d(
            s.in_channels,
            s.out_channels,
            s.kernel_size,
            stride=s.stride,
            padding=s.padding,
            dilation=s.dilation,
            groups=s.groups,
            bias=s.bias,
        )


# ---------------------------------------------------------------- weight standardisation


def _tf_same(size: Any, k: Any, s: Any, d: Any) -> Pair:
    """TensorFlow's 'SAME' padding of one axis (timm ``pad_same``): the output has
    ceil(size / s) units; the total padding that needs, the smaller half first."""
    total = (ceildiv(size, s) - 1) * s + d * (k - 1) + 1 - size
    if not is_symbolic(total):
        total = max(total, 0)
    return (floordiv(total, 2), total - floordiv(total, 2))


@register
@dataclass(frozen=True, slots=True)
class Conv2dSame(Conv2d):
    """A convolution with TensorFlow's 'SAME' padding at any stride, as timm's
    ``Conv2dSame`` (the ``tf_`` EfficientNets, MixNets): ``pad_same`` pads the input so that
    the output has ceil(size / stride) units (the smaller half top/left), then convolves.

    The rules of :class:`Conv2d` (params, MACs, FLOPs) on the padded input; training keeps
    the padded copy (``F.pad`` makes one, even when it pads nothing). ``padding`` is always
    ``"same"``.

    >>> Conv2dSame(3, 32, 3, stride=2).out_shape(((3, 225, 225),))
    (32, 113, 113)
    """

    padding: Any = "same"

    classifier: ClassVar[bool] = False

    count_fvcore = counts(
        "N·MACs (fvcore conv_flop_jit on the aten::_convolution of F.conv2d); the pad's "
        "aten::constant_pad_nd is in _IGNORED_OPS",
        lambda s, i, o, b: b * s.macs(i, o),
        short="N·MACs",
    )
    count_ptflops_hook = counts_zero(
        "timm's Conv2dSame is not in ptflops' MODULES_MAPPING (looked up by exact type)"
    )
    count_ptflops_functional = counts_zero("F.conv2d and F.pad are not patched by ptflops")
    count_thop = counts_zero("timm's Conv2dSame is not in thop's register_hooks (exact type)")
    ptflops_hooked = False
    thop_hooked = False

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4, 6, 3, stride=2), ((4, 9, 11),)

    def __post_init__(self) -> None:
        if self.padding != "same":
            raise invalid(self.kind, "padding", self.padding, "must be 'same' (TensorFlow's)")
        self._post_init_same()

    def _post_init_same(self) -> None:
        # Conv2d's checks but its 'same' (stride 1 only): TF's 'SAME' takes any stride
        _set(self, "padding", 0)
        try:
            Conv2d.__post_init__(self)
        finally:
            _set(self, "padding", "same")

    def with_outputs(self, n: int) -> Layer | None:
        return None

    def pads_on(self, ins: Shapes) -> tuple[Pair, Pair]:
        """((top, bottom), (left, right)) padding on this input."""
        if self.padding != "same":
            return self.pads()
        _, h, w = _spatial(self.kind, ins)
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        return (_tf_same(h, kh, sh, dh), _tf_same(w, kw, sw, dw))

    def out_shape(self, ins: Shapes) -> Shape:
        c, h, w = _spatial(self.kind, ins)
        if _eq_known_false(c, self.in_channels):
            raise ShapeError(
                f"{self.kind}.in_channels = {self.in_channels} but the input has {c} channels"
            )
        (pt, pb), (pl, pr) = self.pads_on(ins)
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        ho = _window_out(self.kind, "height", h, kh, sh, pt, pb, dh)
        wo = _window_out(self.kind, "width", w, kw, sw, pl, pr, dw)
        return (self.out_channels, ho, wo)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        (pt, _), (pl, _) = self.pads_on(ins)
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        return ((dh * (kh - 1) + 1, sh, -pt), (dw * (kw - 1) + 1, sw, -pl))

    def padded_copy(self, ins: Shapes, batch: Any) -> Extra:
        """The input padded by ``pad_same``, which the convolution keeps for backward."""
        (pt, pb), (pl, pr) = self.pads_on(ins)
        c, h, w = ins[0]
        return Extra(batch * c * (h + pt + pb) * (w + pl + pr), None, "padded copy")

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return (self.padded_copy(ins, batch),)

    torch_modules: ClassVar[tuple[str, ...]] = ("Conv2dSame",)
    torch_functions: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        call.need_map("Conv2dSame")
        m = call.module
        if m is None or torch_size(m.padding, "padding") not in (0, (0, 0)):
            raise UnsupportedError("timm's Conv2dSame with a padding of its own besides 'SAME'")
        return cls(
            m.in_channels,
            m.out_channels,
            torch_size(m.kernel_size, "kernel_size"),
            stride=torch_size(m.stride, "stride"),
            dilation=torch_size(m.dilation, "dilation"),
            groups=m.groups,
            bias=m.bias is not None,
        )

    def to_torch(self, tb: Any) -> Any:
        s = self
        return tb.timm_layer(
            "conv2d_same",
            "Conv2dSame",
            s.in_channels,
            s.out_channels,
            s.kernel_size,
            stride=s.stride,
            dilation=s.dilation,
            groups=s.groups,
            bias=s.bias,
        )

    def to_torch_probe(self, tb: Any) -> Any:
        # the same geometry: the plain 'SAME'-padding convolution of torch/timm_layers.py
        return tb.std_conv2d(self, "Conv2dSame", probe=True)


@register
@dataclass(frozen=True, slots=True)
class StdConv2d(Conv2dSame):
    """A convolution whose weight is standardised in every forward pass, as timm's
    ``StdConv2d`` / ``StdConv2dSame`` (BiT) and, with ``gain``, ``ScaledStdConv2d`` /
    ``ScaledStdConv2dSame`` (NFNets): per output channel the weight is centred and divided by
    its standard deviation (``F.batch_norm`` in training mode over the weight), then scaled
    by a learned gain when ``gain``.

    ``padding`` is an int, a pair, or ``"same"``: TensorFlow's 'SAME' for any stride (the
    output has ceil(size / stride) units; timm's ``pad_same`` pads the input first, the
    smaller half top/left, except when stride 1 and an even ``d·(k − 1)`` make it static).

    Params: the convolution's, plus ``C_out`` gains with ``gain``. MACs as Conv2d. FLOPs:
    2·MACs; the standardisation runs once per forward on the weights, whatever the batch
    (in inference the standardised weight is a constant, folded as BatchNorm2d's statistics
    are), so archcalc's FLOPs leave it out and fvcore's rule, which counts it, adds it once.
    Training keeps the (padded) input, the standardised weight, the weights' mean and
    invstd per output channel, and the gain·scale vector with ``gain``.

    >>> StdConv2d(3, 16, 3, stride=2, padding="same", gain=True).out_shape(((3, 225, 225),))
    (16, 113, 113)
    """

    padding: Any = 0
    gain: bool = False
    eps: float = 1e-6

    weighted: ClassVar[bool] = True
    classifier: ClassVar[bool] = False
    head_role: ClassVar[str | None] = "keep"

    count_fvcore = counts(
        "MACs + the weight's standardisation once per forward: 5·weight numel with a gain, "
        "4·without (fvcore conv_flop_jit on aten::_convolution; batchnorm_flop_jit in training "
        "mode -> norm_flop_counter(1): 5 when the batch_norm has a weight); aten::mul of the "
        "gain has no handle, aten::constant_pad_nd is ignored",
        lambda s, i, o, b: b * s.macs(i, o) + (5 if s.gain else 4) * s.weight_numel(),
        short="N·MACs + (5 with gain, else 4)·weight numel",
    )
    count_ptflops_hook = counts_zero(
        "timm's StdConv2d/ScaledStdConv2d(Same) are not in ptflops' MODULES_MAPPING (looked up "
        "by exact type; measured 0)"
    )
    count_ptflops_functional = counts_zero(
        "F.conv2d, F.batch_norm and F.pad are not patched by ptflops; the gain product is "
        "Tensor.__mul__, not the patched Tensor.mul (measured 0)"
    )
    count_thop = counts_zero(
        "timm's StdConv2d/ScaledStdConv2d(Same) are not in thop's register_hooks (exact type)"
    )
    count_torchinfo = counts(
        "(weight + bias numel)·N·H_out·W_out ('Conv' in the class name: torchinfo "
        "LayerInfo.calculate_macs; the parameter 'gain' is neither a weight nor a bias)",
        lambda s, i, o, b: b * (s.params(i) - (s.out_channels if s.gain else 0)) * prod(o[1:]),
        short="N·(weight + bias numel)·H_out·W_out",
    )
    ptflops_hooked = False
    thop_hooked = False

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4, 6, 3, stride=2, padding="same", gain=True), ((4, 9, 11),)

    def __post_init__(self) -> None:
        k = self.kind
        if self.eps <= 0:
            raise invalid(k, "eps", self.eps, "must be > 0")
        if self.padding == "same":
            self._post_init_same()
            return
        if self.padding == "valid":
            raise invalid(k, "padding", self.padding, "must be an integer, a pair or 'same'")
        Conv2d.__post_init__(self)

    def weight_numel(self) -> Num:
        """Elements of the convolution's weight, C_out·(C_in/groups)·kh·kw."""
        return Conv2d.params(self, ()) - (self.out_channels if self.bias else 0)

    def static(self) -> bool:
        """'same' padding that timm applies in the convolution (stride 1, even d·(k − 1))."""
        return all(
            s == 1 and (d * (k - 1)) % 2 == 0
            for k, s, d in zip(self.kernel_size, self.stride, self.dilation)
        )

    def params(self, ins: Shapes) -> Num:
        # the convolution's weight and bias, and one gain per output channel
        return Conv2d.params(self, ins) + (self.out_channels if self.gain else 0)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        c = self.out_channels
        weights: tuple[Extra, ...] = (
            # the standardised weight (a new tensor: the convolution's weight operand)
            Extra(self.weight_numel(), None, "standardised weight"),
            # batch_norm over the weight in training mode: its mean and invstd per channel
            Extra(2 * c, "acc", "weight mean/invstd"),
        )
        if self.gain:  # batch_norm's weight operand: gain·scale, a new (C_out,) tensor
            weights += (Extra(c, None, "gain·scale"),)
        if self.padding == "same" and not self.static():
            # timm's pad_same makes a padded copy (even when it pads nothing): kept
            return (self.padded_copy(ins, batch), *weights)
        return ("in0", *weights)

    torch_modules: ClassVar[tuple[str, ...]] = (
        "StdConv2d",
        "StdConv2dSame",
        "ScaledStdConv2d",
        "ScaledStdConv2dSame",
    )
    torch_functions: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        call.need_map("StdConv2d")
        m = call.module
        if m is None or m.padding_mode != "zeros":
            raise UnsupportedError("a weight-standardised convolution that pads with zeros")
        padding = "same" if getattr(m, "same_pad", False) else torch_size(m.padding, "padding")
        return cls(
            m.in_channels,
            m.out_channels,
            torch_size(m.kernel_size, "kernel_size"),
            stride=torch_size(m.stride, "stride"),
            padding=padding,
            dilation=torch_size(m.dilation, "dilation"),
            groups=m.groups,
            bias=m.bias is not None,
            gain=getattr(m, "gain", None) is not None,
            eps=float(m.eps),
        )

    def timm_class(self) -> str:
        """timm's class of this layer (``timm.layers.std_conv``)."""
        return ("ScaledStdConv2d" if self.gain else "StdConv2d") + (
            "Same" if self.padding == "same" else ""
        )

    def to_torch(self, tb: Any) -> Any:
        return tb.std_conv2d(self, self.timm_class())

    def to_torch_probe(self, tb: Any) -> Any:
        # the same geometry, linear: a plain convolution padding as this one does
        return tb.std_conv2d(self, self.timm_class(), probe=True)
