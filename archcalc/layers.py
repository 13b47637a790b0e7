"""Layer specs: frozen, validated dataclasses, and the one registry of layer kinds.

Each kind states its rules once, as methods that the quantity modules call:

=================  ==========================================================
``out_shape``      shape of the output, per sample: ``(C, H, W)`` or ``(F,)``
``params``         trainable parameters (what ``numel`` of ``parameters()`` counts)
``buffers``        non-trainable state (BatchNorm running statistics)
``macs``           multiply-accumulates of conv / linear layers, per sample
``flops``          FLOPs per sample under archcalc's convention (docs/conventions.md)
``geometry``       the receptive-field step: kernel extent, stride, start of unit 0
``saved``          what autograd keeps for backward in a training step
=================  ==========================================================

Shapes are per sample; batch and dtype are applied by :mod:`archcalc.memory`.
Every field accepts an ``int`` or a sympy expression (symbolic mode).

>>> from archcalc.layers import Conv2d
>>> Conv2d(3, 64, 7, stride=2, padding=3).out_shape(((3, 224, 224),))
(64, 112, 112)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from ._errors import ShapeError, SpecError, UnsupportedError
from ._math import Num, ceildiv, floordiv, is_symbolic, known_lt, minimum, prod

__all__ = [
    "Layer",
    "LAYER_KINDS",
    "GLOBAL",
    "Extra",
    "Conv2d",
    "ConvTranspose2d",
    "Linear",
    "BatchNorm2d",
    "LayerNorm2d",
    "Identity",
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "SiLU",
    "GELU",
    "Sigmoid",
    "Hardswish",
    "Hardsigmoid",
    "Tanh",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "GlobalAvgPool",
    "Flatten",
    "Dropout",
    "StochasticDepth",
    "LayerScale",
    "Upsample",
    "CoordAugment",
    "Add",
    "Concat",
    "Mul",
    "layer_from_dict",
]

Shape = tuple[Any, ...]
Shapes = tuple[Shape, ...]
Pair = tuple[Any, Any]
#: receptive-field step of one axis: (kernel extent in input units, stride, start of unit 0)
AxisGeom = tuple[Any, Any, Any]

LAYER_KINDS: dict[str, type[Layer]] = {}


class _Global:
    """Marker: every output unit sees the whole input (global pooling, flatten, linear)."""

    def __repr__(self) -> str:
        return "GLOBAL"


GLOBAL = _Global()


@dataclass(frozen=True, slots=True)
class Extra:
    """A tensor autograd saves that is neither an input nor the output of the layer.

    ``elements`` counts the whole batch; ``itemsize`` is its bytes per element, ``None``
    for the activation dtype, or ``"acc"`` for the accumulate dtype (float32, or float64 for
    float64 activations).
    """

    elements: Any
    itemsize: int | str | None
    what: str


def register(cls: type[Layer]) -> type[Layer]:
    """Add a layer class to :data:`LAYER_KINDS` under its class name."""
    LAYER_KINDS[cls.__name__] = cls
    return cls


# ---------------------------------------------------------------- validation helpers


def _check_int(kind: str, name: str, value: Any, minimum: int) -> Any:
    if is_symbolic(value):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(
            f"{kind}.{name} = {value!r}: must be an integer >= {minimum} "
            f"(or a pair of them where a pair is allowed)"
        )
    if value < minimum:
        raise SpecError(f"{kind}.{name} = {value!r}: must be >= {minimum}")
    return value


def _pair(kind: str, name: str, value: Any, minimum: int = 1) -> Pair:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise SpecError(
                f"{kind}.{name} = {value!r}: must be an integer or a pair (h, w), "
                f"got {len(value)} values"
            )
        return (
            _check_int(kind, name, value[0], minimum),
            _check_int(kind, name, value[1], minimum),
        )
    v = _check_int(kind, name, value, minimum)
    return (v, v)


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def _eq_known_false(a: Any, b: Any) -> bool:
    """True when ``a != b`` is certain (ints differ, or sympy proves it)."""
    if is_symbolic(a) or is_symbolic(b):
        diff = a - b
        return bool(getattr(diff, "is_zero", None) is False)
    return bool(a != b)


def _check_probability(kind: str, p: Any) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise SpecError(f"{kind}.p = {p!r}: must be a probability in [0, 1]")


def _spatial(kind: str, ins: Shapes, i: int = 0) -> Shape:
    s = ins[i]
    if len(s) != 3:
        raise ShapeError(
            f"{kind} needs a (C, H, W) feature map, got shape {_fmt(s)} "
            f"(a flattened vector); put it before Flatten"
        )
    return s


def _fmt(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)


def _window_out(
    kind: str,
    axis: str,
    size: Any,
    k: Any,
    s: Any,
    lo: Any,
    hi: Any,
    d: Any,
    ceil_mode: bool = False,
) -> Any:
    """Output length of a sliding window (torch's formula, ceil_mode's last-window rule)."""
    span = size + lo + hi - d * (k - 1) - 1
    if known_lt(span, 0):
        raise ShapeError(
            f"{kind}: kernel extent {d * (k - 1) + 1} is larger than the padded input "
            f"{axis} {size + lo + hi}; use a smaller kernel, more padding or a larger input"
        )
    if not ceil_mode:
        return floordiv(span, s) + 1
    # torch: ceil, then drop the last window if it starts in the right padding; the same as
    # capping the count so that the last start (out - 1)·s stays below size + lo
    # (checked exhaustively against torch's rule for small sizes in tests/test_layers.py)
    return minimum(ceildiv(span, s) + 1, floordiv(size + lo - 1, s) + 1)


# ---------------------------------------------------------------- base class


@dataclass(frozen=True, slots=True)
class Layer:
    """Base of every layer kind. Subclasses are frozen dataclasses registered by name."""

    #: number of inputs; ``None`` means ``min_inputs`` or more
    arity: ClassVar[int | None] = 1
    min_inputs: ClassVar[int] = 2
    #: output shares storage with input 0 in an inference pass (a view)
    alias: ClassVar[bool] = False
    #: a conv/linear layer: contributes MACs and is "trainable weight" for heads
    weighted: ClassVar[bool] = False

    @property
    def kind(self) -> str:
        return type(self).__name__

    def out_shape(self, ins: Shapes) -> Shape:
        raise NotImplementedError

    def params(self, ins: Shapes) -> Num:
        return 0

    def buffers(self, ins: Shapes) -> Num:
        return 0

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def flops(self, ins: Shapes, out: Shape) -> Num:
        raise NotImplementedError

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom] | _Global:
        """Receptive-field step (per axis) of a single-input layer."""
        return ((1, 1, 0), (1, 1, 0))

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        """Tensors autograd keeps: ``"in0"``, ``"in1"``, ``"out"`` or :class:`Extra`."""
        raise NotImplementedError

    def taps(self) -> Pair:
        """Spacing of the kernel's taps per axis (dilation; 1 for dense windows)."""
        return (1, 1)

    def is_view(self, training: bool) -> bool:
        """Whether the output shares its input's storage (a view) in this mode."""
        return self.alias

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data, ``{"kind": ..., field: value}``."""
        d: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            d[f.name] = list(v) if isinstance(v, tuple) else v
        return d


# ---------------------------------------------------------------- weighted layers


@register
@dataclass(frozen=True, slots=True)
class Conv2d(Layer):
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
                raise SpecError(
                    f"{k}.padding = {self.padding!r}: must be an integer, a pair, 'same' or 'valid'"
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
        if not isinstance(self.bias, bool):
            raise SpecError(f"{k}.bias = {self.bias!r}: must be true or false")

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


@register
@dataclass(frozen=True, slots=True)
class ConvTranspose2d(Layer):
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
            # output j reads input i when j = i*s - p + d*t, t in [0, k)
            extent = 1
            for phase in range(s):
                ts = [t for t in range(k) if (phase + p - d * t) % s == 0]
                if ts:
                    extent = max(extent, d * (max(ts) - min(ts)) // s + 1)
            ts0 = [t for t in range(k) if (p - d * t) % s == 0]
            start = min((p - d * t) // s for t in ts0) if ts0 else ceildiv(p - d * (k - 1), s)
            axes.append((extent, Fraction(1, s), start))
        return (axes[0], axes[1])

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0",)


@register
@dataclass(frozen=True, slots=True)
class Linear(Layer):
    """Fully connected layer, as ``torch.nn.Linear``.

    On a flat input ``(F,)`` it is the usual layer; on a ``(C, H, W)`` map it acts on the
    channels of every position (a channels-last ``nn.Linear``, as in ConvNeXt).

    >>> Linear(9216, 4096).params(((9216,),))
    37752832
    """

    in_features: Any
    out_features: Any
    bias: bool = True

    weighted: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_int(self.kind, "in_features", self.in_features, 1)
        _check_int(self.kind, "out_features", self.out_features, 1)

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if _eq_known_false(s[0], self.in_features):
            raise ShapeError(
                f"{self.kind}.in_features = {self.in_features} but the input has "
                f"{s[0]} {'features' if len(s) == 1 else 'channels'} (shape {_fmt(s)})"
            )
        return (self.out_features, *s[1:])

    def params(self, ins: Shapes) -> Num:
        # weight out x in, bias out
        return self.in_features * self.out_features + (self.out_features if self.bias else 0)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return prod(ins[0]) * self.out_features

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 2 * self.macs(ins, out)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom] | _Global:
        return GLOBAL if len(ins[0]) == 1 else ((1, 1, 0), (1, 1, 0))

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0",)


# ---------------------------------------------------------------- normalisation


@register
@dataclass(frozen=True, slots=True)
class BatchNorm2d(Layer):
    """Batch normalisation over channels, as ``torch.nn.BatchNorm2d`` (affine, tracked stats).

    Params 2C (weight, bias); buffers 2C + 1 (running mean and variance, num_batches_tracked).
    """

    num_features: Any

    def __post_init__(self) -> None:
        _check_int(self.kind, "num_features", self.num_features, 1)

    def out_shape(self, ins: Shapes) -> Shape:
        c = _spatial(self.kind, ins)[0]
        if _eq_known_false(c, self.num_features):
            raise ShapeError(
                f"{self.kind}.num_features = {self.num_features} but the input has {c} channels"
            )
        return ins[0]

    def params(self, ins: Shapes) -> Num:
        return 2 * self.num_features

    def buffers(self, ins: Shapes) -> Num:
        return 2 * self.num_features + 1

    def flops(self, ins: Shapes, out: Shape) -> Num:
        # inference: y = x * scale + shift per element (scale, shift folded per channel)
        return 2 * prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        # input, running mean and var (model dtype), save_mean and save_invstd (float32)
        c = self.num_features
        return (
            "in0",
            Extra(2 * c, None, "running stats"),
            Extra(2 * c, "acc", "batch mean/invstd"),
        )


@register
@dataclass(frozen=True, slots=True)
class LayerNorm2d(Layer):
    """Layer normalisation over the channels of each position (ConvNeXt's LayerNorm2d).

    Params 2C (weight, bias).
    """

    num_channels: Any

    def __post_init__(self) -> None:
        _check_int(self.kind, "num_channels", self.num_channels, 1)

    def out_shape(self, ins: Shapes) -> Shape:
        c = ins[0][0]
        if _eq_known_false(c, self.num_channels):
            raise ShapeError(
                f"{self.kind}.num_channels = {self.num_channels} but the input has {c} channels"
            )
        return ins[0]

    def params(self, ins: Shapes) -> Num:
        return 2 * self.num_channels

    def flops(self, ins: Shapes, out: Shape) -> Num:
        # mean (1), centre (1), square (1), variance sum (1), normalise (2), affine (2)
        return 8 * prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        positions = batch * prod(ins[0][1:])
        return ("in0", Extra(2 * positions, "acc", "mean/rstd"))


# ---------------------------------------------------------------- elementwise activations


@dataclass(frozen=True, slots=True)
class _Elementwise(Layer):
    #: FLOPs per element under archcalc's convention
    flops_per_element: ClassVar[int] = 0
    #: which tensor autograd saves: "in0" or "out"
    saves: ClassVar[str] = "in0"

    def out_shape(self, ins: Shapes) -> Shape:
        return ins[0]

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return self.flops_per_element * prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return (self.saves,)


@register
@dataclass(frozen=True, slots=True)
class Identity(_Elementwise):
    """Identity; a view of its input."""

    alias: ClassVar[bool] = True

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()


@register
@dataclass(frozen=True, slots=True)
class ReLU(_Elementwise):
    """max(x, 0): one comparison per element; autograd keeps the output."""

    flops_per_element: ClassVar[int] = 1
    saves: ClassVar[str] = "out"


@register
@dataclass(frozen=True, slots=True)
class ReLU6(_Elementwise):
    """min(max(x, 0), 6): two comparisons; autograd keeps the input (hardtanh)."""

    flops_per_element: ClassVar[int] = 2


@register
@dataclass(frozen=True, slots=True)
class LeakyReLU(_Elementwise):
    """x if x > 0 else a·x: a comparison and a multiply; autograd keeps the input."""

    negative_slope: float = 0.01
    flops_per_element: ClassVar[int] = 2


@register
@dataclass(frozen=True, slots=True)
class SiLU(_Elementwise):
    """x·sigmoid(x): 5 FLOPs per element by convention; autograd keeps the input."""

    flops_per_element: ClassVar[int] = 5


@register
@dataclass(frozen=True, slots=True)
class GELU(_Elementwise):
    """Gaussian error linear unit: 5 FLOPs per element by convention; keeps the input."""

    flops_per_element: ClassVar[int] = 5


@register
@dataclass(frozen=True, slots=True)
class Sigmoid(_Elementwise):
    """1 / (1 + exp(-x)): 4 FLOPs per element by convention; autograd keeps the output."""

    flops_per_element: ClassVar[int] = 4
    saves: ClassVar[str] = "out"


@register
@dataclass(frozen=True, slots=True)
class Hardswish(_Elementwise):
    """x·relu6(x + 3)/6: 5 FLOPs per element by convention; autograd keeps the input."""

    flops_per_element: ClassVar[int] = 5


@register
@dataclass(frozen=True, slots=True)
class Hardsigmoid(_Elementwise):
    """relu6(x + 3)/6: 4 FLOPs per element by convention; autograd keeps the input."""

    flops_per_element: ClassVar[int] = 4


@register
@dataclass(frozen=True, slots=True)
class Tanh(_Elementwise):
    """tanh(x): 1 FLOP per element by convention (one library call); keeps the output."""

    flops_per_element: ClassVar[int] = 1
    saves: ClassVar[str] = "out"


@register
@dataclass(frozen=True, slots=True)
class Dropout(_Elementwise):
    """Dropout. Inference: identity (a view). Training: autograd keeps the scaled noise
    tensor (torch's CPU path; the CUDA kernel keeps a bool mask, a quarter of it)."""

    p: float = 0.5
    alias: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_probability(self.kind, self.p)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        if self.p == 0:
            return ()  # torch returns the input itself: nothing kept
        # torch's CPU path computes input * noise and keeps the noise tensor (activation
        # dtype); CUDA's fused native_dropout keeps a 1-byte mask instead
        return (Extra(batch * prod(out), None, "dropout noise"),)

    def is_view(self, training: bool) -> bool:
        return not training or self.p == 0


@register
@dataclass(frozen=True, slots=True)
class StochasticDepth(_Elementwise):
    """Row-mode stochastic depth (torchvision). Inference: identity; training: x·noise,
    where autograd keeps the per-sample noise (one element per sample)."""

    p: float = 0.0
    alias: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_probability(self.kind, self.p)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        if self.p == 0:
            return ()  # torchvision returns the input itself: nothing kept
        return (Extra(batch, None, "stochastic depth noise"),)

    def is_view(self, training: bool) -> bool:
        return not training or self.p == 0


@register
@dataclass(frozen=True, slots=True)
class LayerScale(_Elementwise):
    """Per-channel learned scale (ConvNeXt): C parameters, one multiply per element."""

    channels: Any = 1
    flops_per_element: ClassVar[int] = 1

    def __post_init__(self) -> None:
        _check_int(self.kind, "channels", self.channels, 1)

    def out_shape(self, ins: Shapes) -> Shape:
        if _eq_known_false(ins[0][0], self.channels):
            raise ShapeError(
                f"{self.kind}.channels = {self.channels} but the input has {ins[0][0]} channels"
            )
        return ins[0]

    def params(self, ins: Shapes) -> Num:
        return self.channels


# ---------------------------------------------------------------- pooling


@dataclass(frozen=True, slots=True)
class _Pool(Layer):
    kernel_size: Any = 2
    stride: Any = None
    padding: Any = 0
    ceil_mode: bool = False

    def _validate(self, dilation: Pair) -> None:
        k = self.kind
        _set(self, "kernel_size", _pair(k, "kernel_size", self.kernel_size))
        _set(
            self,
            "stride",
            _pair(k, "stride", self.stride if self.stride is not None else self.kernel_size),
        )
        _set(self, "padding", _pair(k, "padding", self.padding, minimum=0))
        for p, kk in zip(self.padding, self.kernel_size):
            # torch checks the nominal kernel, whatever the dilation
            if not any(is_symbolic(v) for v in (p, kk)) and 2 * p > kk:
                raise SpecError(
                    f"{k}.padding = {p}: must be at most half the kernel size {kk} "
                    f"(padding <= {kk // 2}), as torch requires"
                )
        if not isinstance(self.ceil_mode, bool):
            raise SpecError(f"{k}.ceil_mode = {self.ceil_mode!r}: must be true or false")

    def _dil(self) -> Pair:
        return (1, 1)

    def out_shape(self, ins: Shapes) -> Shape:
        c, h, w = _spatial(self.kind, ins)
        d = self._dil()
        p = self.padding
        ho = _window_out(
            self.kind,
            "height",
            h,
            self.kernel_size[0],
            self.stride[0],
            p[0],
            p[0],
            d[0],
            self.ceil_mode,
        )
        wo = _window_out(
            self.kind,
            "width",
            w,
            self.kernel_size[1],
            self.stride[1],
            p[1],
            p[1],
            d[1],
            self.ceil_mode,
        )
        return (c, ho, wo)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (
            self.kernel_size,
            self.stride,
            self.padding,
            self._dil(),
        )
        return ((dh * (kh - 1) + 1, sh, -ph), (dw * (kw - 1) + 1, sw, -pw))


@register
@dataclass(frozen=True, slots=True)
class MaxPool2d(_Pool):
    """Max pooling, as ``torch.nn.MaxPool2d`` (stride defaults to the kernel size).

    FLOPs: kh·kw − 1 comparisons per output (the nominal window). Training keeps the input
    and int64 indices of the maxima.

    >>> MaxPool2d(3, 2, ceil_mode=True).out_shape(((64, 112, 112),))
    (64, 56, 56)
    """

    dilation: Any = 1

    def __post_init__(self) -> None:
        _set(self, "dilation", _pair(self.kind, "dilation", self.dilation))
        self._validate(self.dilation)

    def _dil(self) -> Pair:
        return self.dilation

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out) * (self.kernel_size[0] * self.kernel_size[1] - 1)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0", Extra(batch * prod(out), 8, "argmax indices"))

    def taps(self) -> Pair:
        return self.dilation


@register
@dataclass(frozen=True, slots=True)
class AvgPool2d(_Pool):
    """Average pooling, as ``torch.nn.AvgPool2d`` (``count_include_pad=True``).

    FLOPs: kh·kw per output (kh·kw − 1 adds and one divide, nominal window).
    """

    def __post_init__(self) -> None:
        self._validate((1, 1))

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out) * self.kernel_size[0] * self.kernel_size[1]

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0",)


def _adaptive_windows(n: int, o: int) -> list[tuple[int, int]]:
    """torch's adaptive pooling windows: [floor(i·n/o), ceil((i+1)·n/o))."""
    return [((i * n) // o, -((-(i + 1) * n) // o)) for i in range(o)]


@register
@dataclass(frozen=True, slots=True)
class AdaptiveAvgPool2d(Layer):
    """Adaptive average pooling to ``output_size``, as ``torch.nn.AdaptiveAvgPool2d``.

    FLOPs: the sum of all window sizes (each window: size − 1 adds and one divide).
    """

    output_size: Any = 1

    def __post_init__(self) -> None:
        _set(self, "output_size", _pair(self.kind, "output_size", self.output_size))

    def is_global(self) -> bool:
        return self.output_size == (1, 1)

    def out_shape(self, ins: Shapes) -> Shape:
        c = _spatial(self.kind, ins)[0]
        return (c, *self.output_size)

    def _window_sum(self, n: Any, o: Any) -> Any:
        if o == 1:
            return n
        if is_symbolic(n) or is_symbolic(o):
            raise UnsupportedError(
                f"{self.kind}(output_size={o}): its window sizes on a symbolic input size "
                f"have no closed form; give a numeric --input (only output size 1 is symbolic)"
            )
        return sum(e - s for s, e in _adaptive_windows(n, o))

    def flops(self, ins: Shapes, out: Shape) -> Num:
        c, h, w = ins[0]
        return (
            c * self._window_sum(h, self.output_size[0]) * self._window_sum(w, self.output_size[1])
        )

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom] | _Global:
        if self.is_global():
            return GLOBAL
        axes = []
        for n, o in zip(ins[0][1:], self.output_size):
            if is_symbolic(n) or is_symbolic(o):
                raise UnsupportedError(
                    f"{self.kind}: receptive field of output size {o} on a symbolic input size"
                )
            if n % o == 0:
                axes.append((n // o, n // o, 0))
            else:
                # windows of unequal size and spacing: report the largest window and the
                # mean spacing n/o (flagged as non-uniform by the receptive-field module)
                wins = _adaptive_windows(n, o)
                axes.append((max(e - s for s, e in wins), Fraction(n, o), 0))
        return (axes[0], axes[1])

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        # a 1x1 output is computed by torch as mean(), whose backward keeps only sizes
        return () if self.is_global() else ("in0",)


@register
@dataclass(frozen=True, slots=True)
class GlobalAvgPool(Layer):
    """Global average pooling to ``(C, 1, 1)`` (exam Q2); same as ``AdaptiveAvgPool2d(1)``."""

    def out_shape(self, ins: Shapes) -> Shape:
        c = _spatial(self.kind, ins)[0]
        return (c, 1, 1)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        # H·W − 1 adds and one divide per channel
        return prod(ins[0])

    def geometry(self, ins: Shapes, out: Shape) -> _Global:
        return GLOBAL

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()


# ---------------------------------------------------------------- reshaping


@register
@dataclass(frozen=True, slots=True)
class Flatten(Layer):
    """Flatten ``(C, H, W)`` to ``(C·H·W,)``; a view, no FLOPs, nothing saved."""

    alias: ClassVar[bool] = True

    def out_shape(self, ins: Shapes) -> Shape:
        return (prod(ins[0]),)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def geometry(self, ins: Shapes, out: Shape) -> _Global:
        return GLOBAL

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()


@register
@dataclass(frozen=True, slots=True)
class Upsample(Layer):
    """Upsampling by an integer ``scale_factor``, ``mode`` nearest or bilinear
    (``align_corners=False``). Bilinear: 7 FLOPs per output (4 multiplies, 3 adds)."""

    scale_factor: Any = 2
    mode: str = "nearest"

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


# ---------------------------------------------------------------- merges


@register
@dataclass(frozen=True, slots=True)
class Add(Layer):
    """Elementwise sum of two or more equal shapes (residual connection)."""

    arity: ClassVar[int | None] = None

    def out_shape(self, ins: Shapes) -> Shape:
        first = ins[0]
        for i, s in enumerate(ins[1:], 1):
            if len(s) != len(first) or any(_eq_known_false(a, b) for a, b in zip(s, first)):
                raise ShapeError(
                    f"{self.kind}: input {i} has shape {_fmt(s)} but input 0 has {_fmt(first)}; "
                    f"a sum needs equal shapes"
                )
        return first

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return (len(ins) - 1) * prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()


@register
@dataclass(frozen=True, slots=True)
class Mul(Layer):
    """Elementwise product; an input of shape (C, 1, 1) is broadcast (squeeze-excitation)."""

    arity: ClassVar[int | None] = None

    def out_shape(self, ins: Shapes) -> Shape:
        out = max(ins, key=lambda s: (len(s), not all(d == 1 for d in s[1:])))
        for i, s in enumerate(ins):
            if (
                len(s) != len(out)
                or _eq_known_false(s[0], out[0])
                or any(_eq_known_false(a, b) and a != 1 for a, b in zip(s[1:], out[1:]))
            ):
                raise ShapeError(
                    f"{self.kind}: input {i} has shape {_fmt(s)}, which does not broadcast "
                    f"to {_fmt(out)}; valid are equal shapes or (C, 1, 1)"
                )
        return out

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return (len(ins) - 1) * prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        # n inputs run as n - 1 binary products; each keeps both operands, so the n - 2
        # partial products are kept too
        partial = Extra((len(ins) - 2) * batch * prod(out), None, "partial products")
        return (*(f"in{i}" for i in range(len(ins))), *((partial,) if len(ins) > 2 else ()))


@register
@dataclass(frozen=True, slots=True)
class Concat(Layer):
    """Concatenation along channels of maps with equal height and width. One input is
    allowed: ``torch.cat([x])`` is a copy (DenseNet's first layer of a block does it)."""

    arity: ClassVar[int | None] = None
    min_inputs: ClassVar[int] = 1

    def out_shape(self, ins: Shapes) -> Shape:
        first = ins[0]
        for i, s in enumerate(ins[1:], 1):
            if len(s) != len(first) or any(_eq_known_false(a, b) for a, b in zip(s[1:], first[1:])):
                raise ShapeError(
                    f"{self.kind}: input {i} has shape {_fmt(s)} but input 0 has {_fmt(first)}; "
                    f"concatenation needs equal height and width"
                )
        total = ins[0][0]
        for s in ins[1:]:
            total = total + s[0]
        return (total, *first[1:])

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()


# ---------------------------------------------------------------- from plain data


def layer_from_dict(d: dict[str, Any]) -> Layer:
    """Build a layer from ``{"kind": "Conv2d", "in_channels": 3, ...}``.

    >>> layer_from_dict({"kind": "MaxPool2d", "kernel_size": 2}).stride
    (2, 2)
    """
    if not isinstance(d, dict):
        raise SpecError(f"a layer must be a mapping with a 'kind', got {d!r}")
    kind = d.get("kind")
    cls = LAYER_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise SpecError(
            f"kind = {kind!r}: unknown layer kind; valid kinds: {', '.join(sorted(LAYER_KINDS))}"
        )
    names = {f.name for f in dataclasses.fields(cls)}
    extra = set(d) - names - {"kind", "name", "inputs"}
    if extra:
        raise SpecError(
            f"{kind}: unknown field(s) {', '.join(sorted(extra))}; "
            f"valid fields: {', '.join(sorted(names)) or '(none)'}"
        )
    args = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names}
    try:
        return cls(**args)
    except TypeError as e:
        required = [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        raise SpecError(f"{kind}: {e}; required fields: {', '.join(required)}") from None
