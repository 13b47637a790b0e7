"""Pooling: max, average, adaptive (average and max), global average pooling and timm's
anti-aliased BlurPool2d."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from .._errors import ShapeError, SpecError, UnsupportedError
from .._math import Num, is_symbolic, prod
from ._base import (
    GLOBAL,
    AxisGeom,
    Extra,
    Layer,
    Pair,
    Shape,
    Shapes,
    TorchCall,
    _check_int,
    _eq_known_false,
    _Global,
    _pair,
    _set,
    _spatial,
    _window_out,
    register,
    torch_size,
)
from ._rules import (
    MatmulCounts,
    Parameterless,
    counts,
    counts_zero,
    fvcore_unhandled,
    numel,
    ptflops_no_hook,
    thop_no_hook,
)
from .reshape import Flatten

# ---------------------------------------------------------------- pooling

#: ptflops pool_flops_counter_hook (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)
_PT_POOL_HOOK = counts(
    "input numel (ptflops pool_flops_counter_hook)",
    lambda s, i, o, b: b * numel(i[0]),
    short="N·in",
)
#: the patched F.max_pool2d / F.avg_pool2d / F.adaptive_avg_pool2d the pool modules call
_PT_POOL_FUNCTIONAL = counts(
    "input numel again: the module calls the patched F.*pool2d (ptflops "
    "_pool_functional_flops_hook)",
    lambda s, i, o, b: b * numel(i[0]),
    short="N·in",
)
#: fvcore elementwise_flop_counter(1, 0) on aten::adaptive_avg_pool2d
_FV_ADAPTIVE = counts(
    "input numel (fvcore elementwise_flop_counter(1, 0) on aten::adaptive_avg_pool2d)",
    lambda s, i, o, b: b * numel(i[0]),
    short="N·in",
)


def _thop_adaptive(layer: Any, ins: Shapes, out: Shape, b: Any) -> Any:
    # count_adap_avgpool: kernel = DoubleTensor(in spatial) / DoubleTensor(out spatial),
    # calculate_adaptive_avg: int((prod(kernel) + 1)·y.numel()) in float64 (fractional
    # kernels when the output size does not divide the input)
    _, h, w = ins[0]
    _, oh, ow = out
    if any(is_symbolic(v) for v in (h, w, oh, ow, b, out[0])):
        raise UnsupportedError(
            "thop counts an adaptive average pool in floating point; give numbers, not symbols"
        )
    return int(((h / oh) * (w / ow) + 1.0) * (b * numel(out)))


@dataclass(frozen=True, slots=True)
class _Pool(Parameterless, Layer):
    kernel_size: Any = 2
    stride: Any = None
    padding: Any = 0
    ceil_mode: bool = False

    count_ptflops_hook = _PT_POOL_HOOK
    count_ptflops_functional = _PT_POOL_FUNCTIONAL
    ptflops_hooked: ClassVar[bool] = True
    thop_hooked: ClassVar[bool] = True

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(3, 2, padding=1, ceil_mode=True), ((4, 9, 11),)

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

    count_fvcore = fvcore_unhandled("max_pool2d")
    count_thop = counts_zero("nn.MaxPool2d is in thop's zero_ops")

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

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.MaxPool2d",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.nn.functional.max_pool2d",
        "torch.max_pool2d",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        call.need_map("MaxPool2d")
        m = call.module
        if m is not None:
            k, s, p, d, ceil, ri = (
                m.kernel_size,
                m.stride,
                m.padding,
                m.dilation,
                m.ceil_mode,
                m.return_indices,
            )
        else:
            k = call.arg(1, "kernel_size")
            s = call.arg(2, "stride") or k
            p, d = call.arg(3, "padding", 0), call.arg(4, "dilation", 1)
            ceil, ri = call.arg(5, "ceil_mode", False), call.arg(6, "return_indices", False)
        if ri:
            raise UnsupportedError("max pooling with return_indices")
        return cls(
            torch_size(k, "kernel_size"),
            torch_size(s, "stride"),
            torch_size(p, "padding"),
            dilation=torch_size(d, "dilation"),
            ceil_mode=bool(ceil),
        )

    def to_torch(self, tb: Any) -> Any:
        s = self
        return tb.nn.MaxPool2d(
            s.kernel_size, s.stride, s.padding, dilation=s.dilation, ceil_mode=s.ceil_mode
        )

    def to_torch_probe(self, tb: Any) -> Any:
        return tb.WindowSum(self)


@register
@dataclass(frozen=True, slots=True)
class AvgPool2d(_Pool):
    """Average pooling, as ``torch.nn.AvgPool2d``.

    FLOPs: kh·kw per output (kh·kw − 1 adds and one divide, nominal window).
    ``count_include_pad=False`` divides by the window's unpadded size instead: the same
    shapes, costs and receptive field.
    """

    count_include_pad: bool = True

    count_fvcore = fvcore_unhandled("avg_pool2d")
    count_thop = counts(
        "output numel (thop count_avgpool -> calculate_avgpool)",
        lambda s, i, o, b: b * numel(o),
        short="N·out",
    )

    def __post_init__(self) -> None:
        self._validate((1, 1))

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out) * self.kernel_size[0] * self.kernel_size[1]

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0",)

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.AvgPool2d",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.avg_pool2d",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        call.need_map("AvgPool2d")
        m = call.module
        if m is not None:
            k, s, p, ceil = m.kernel_size, m.stride, m.padding, m.ceil_mode
            inc, div = m.count_include_pad, m.divisor_override
        else:
            k = call.arg(1, "kernel_size")
            s = call.arg(2, "stride") or k
            p, ceil = call.arg(3, "padding", 0), call.arg(4, "ceil_mode", False)
            inc, div = call.arg(5, "count_include_pad", True), call.arg(6, "divisor_override")
        if div is not None:
            raise UnsupportedError(f"average pooling with divisor_override={div}")
        p = torch_size(p, "padding")
        return cls(
            torch_size(k, "kernel_size"),
            torch_size(s, "stride"),
            p,
            ceil_mode=bool(ceil),
            count_include_pad=bool(inc) or p in (0, (0, 0)),
        )

    def to_torch(self, tb: Any) -> Any:
        s = self
        return tb.nn.AvgPool2d(
            s.kernel_size,
            s.stride,
            s.padding,
            ceil_mode=s.ceil_mode,
            count_include_pad=s.count_include_pad,
        )


@register
@dataclass(frozen=True, slots=True)
class AdaptiveAvgPool2d(Parameterless, Layer):
    """Adaptive average pooling to ``output_size``, as ``torch.nn.AdaptiveAvgPool2d``.

    FLOPs: the sum of all window sizes (each window: size − 1 adds and one divide).
    """

    output_size: Any = 1

    def __post_init__(self) -> None:
        _set(self, "output_size", _pair(self.kind, "output_size", self.output_size))

    head_role: ClassVar[str | None] = "resize_pool"

    count_fvcore = _FV_ADAPTIVE
    count_ptflops_hook = _PT_POOL_HOOK
    count_ptflops_functional = _PT_POOL_FUNCTIONAL
    count_thop = counts(
        "int((prod(in/out spatial) + 1)·output numel) in float64 (thop count_adap_avgpool -> "
        "calculate_adaptive_avg)",
        _thop_adaptive,
        short="int(N·out·(H_in/H_out·W_in/W_out + 1)), float64",
    )
    ptflops_hooked: ClassVar[bool] = True
    thop_hooked: ClassVar[bool] = True

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((4, 3)), ((4, 9, 11),)

    def is_global(self) -> bool:
        return self.output_size == (1, 1)

    def is_global_pool(self) -> bool:
        return self.is_global()

    def identity_at(self, spatial: tuple[Any, Any]) -> bool:
        return tuple(self.output_size) == tuple(spatial)

    def rf_note(self, geom: Any) -> str | None:
        if geom is not GLOBAL and any(not isinstance(g[1], int) for g in geom):
            return "adaptive windows of unequal size; largest window, mean spacing"
        return None

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
        # window i is ceil((r_i + n)/o) wide, r_i = i·n mod o; summed over i: n + o − gcd(n, o)
        # (closed form: the work does not grow with the output size)
        return n + o - math.gcd(n, o)

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
                # the widest window, ceil((r + n)/o) at the largest r = o − gcd(n, o)
                widest = -(-(o - math.gcd(n, o) + n) // o)
                axes.append((widest, Fraction(n, o), 0))
        return (axes[0], axes[1])

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        # a 1x1 output is computed by torch as mean(), whose backward keeps only sizes
        return () if self.is_global() else ("in0",)

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.AdaptiveAvgPool2d",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.adaptive_avg_pool2d",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        call.need_map("AdaptiveAvgPool2d")
        _, oh, ow = call.output
        return cls(oh if oh == ow else (oh, ow))

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.AdaptiveAvgPool2d(self.output_size)


@register
@dataclass(frozen=True, slots=True)
class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    """Adaptive max pooling to ``output_size``, as ``torch.nn.AdaptiveMaxPool2d`` and
    ``F.adaptive_max_pool2d``: the windows of :class:`AdaptiveAvgPool2d` (shape, receptive
    field, head role), the maximum of each.

    FLOPs: window size − 1 comparisons per window. Training keeps the input and the int64
    index of every maximum (one per output element).

    >>> AdaptiveMaxPool2d((7, 1)).out_shape(((64, 14, 14),))
    (64, 7, 1)
    """

    count_fvcore = fvcore_unhandled("adaptive_max_pool2d")
    count_ptflops_hook = _PT_POOL_HOOK
    count_ptflops_functional = counts(
        "input numel: F.adaptive_max_pool2d is patched (ptflops "
        "_numel_functional_flops_hook), and nn.AdaptiveMaxPool2d calls it",
        lambda s, i, o, b: b * numel(i[0]),
        short="N·in",
    )
    count_thop = counts_zero("nn.AdaptiveMaxPool2d is in thop's register_hooks as zero_ops")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls((4, 3)), ((4, 9, 11),)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        # each window: its size − 1 comparisons; the window sizes sum as for the average
        c, h, w = ins[0]
        oh, ow = self.output_size
        return c * (self._window_sum(h, oh) * self._window_sum(w, ow) - oh * ow)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0", Extra(batch * prod(out), 8, "argmax indices"))

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.AdaptiveMaxPool2d",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.adaptive_max_pool2d",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        call.need_map("AdaptiveMaxPool2d")
        m = call.module
        ri = m.return_indices if m is not None else call.arg(2, "return_indices", False)
        if ri:
            raise UnsupportedError("adaptive max pooling with return_indices")
        _, oh, ow = call.output
        return cls(oh if oh == ow else (oh, ow))

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.AdaptiveMaxPool2d(self.output_size)

    def to_torch_probe(self, tb: Any) -> Any:
        # the same windows, summed (linear, positive): every input of a window reaches it
        return tb.nn.AdaptiveAvgPool2d(self.output_size)


@register
@dataclass(frozen=True, slots=True)
class BlurPool2d(MatmulCounts, Layer):
    """timm's anti-aliased downsampling ``BlurPool2d`` (TResNet): the map padded by
    ``(stride − 1 + filt_size − 1) // 2`` on every side (``pad_mode``, reflect by default),
    then a fixed binomial ``filt_size × filt_size`` filter per channel at ``stride`` (a
    depthwise convolution whose weight is a buffer).

    No parameters; buffers ``C·filt_size²`` (the filter; ``filt_size²`` when ``channels`` is
    None: one filter expanded to every channel). MACs ``C·filt_size²`` per output position.
    Training keeps the input (of the reflect pad), the padded copy and the filter (of the
    convolution), as measured with autograd.

    >>> BlurPool2d(64).out_shape(((64, 56, 56),))
    (64, 28, 28)
    """

    channels: Any = None
    filt_size: Any = 3
    stride: Any = 2
    pad_mode: str = dataclasses.field(
        default="reflect", metadata={"valid": ("reflect", "replicate", "constant", "circular")}
    )

    count_fvcore = counts(
        "N·MACs: the depthwise aten::_convolution (fvcore conv_flop_jit); the pad counts 0",
        lambda s, i, o, b: b * s.macs(i, o),
        short="N·MACs",
    )
    count_ptflops_hook = ptflops_no_hook("timm's BlurPool2d")
    count_ptflops_functional = counts_zero("F.pad and F.conv2d are not patched by ptflops")
    count_thop = thop_no_hook("timm's BlurPool2d")
    count_torchinfo = counts_zero(
        "no parameters (the filter is a buffer): torchinfo's calculate_macs reads parameters"
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4), ((4, 9, 11),)

    def __post_init__(self) -> None:
        k = self.kind
        if self.channels is not None:
            _check_int(k, "channels", self.channels, 1)
        _check_int(k, "filt_size", self.filt_size, 2)
        _check_int(k, "stride", self.stride, 1)

    def pad(self) -> Any:
        """Padding on every side (timm's get_padding(filt_size, stride))."""
        return (self.stride - 1 + self.filt_size - 1) // 2

    def out_shape(self, ins: Shapes) -> Shape:
        c, h, w = _spatial(self.kind, ins)
        if self.channels is not None and _eq_known_false(c, self.channels):
            raise ShapeError(f"BlurPool2d.channels = {self.channels} but the input has {c}")
        f, s, p = self.filt_size, self.stride, self.pad()
        return (
            c,
            _window_out(self.kind, "height", h, f, s, p, p, 1),
            _window_out(self.kind, "width", w, f, s, p, p, 1),
        )

    def buffers(self, ins: Shapes) -> Num:
        return (self.channels or 1) * self.filt_size**2

    def macs(self, ins: Shapes, out: Shape) -> Num:
        # every output element: filt_size² taps of its own channel
        return prod(out) * self.filt_size**2

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 2 * self.macs(ins, out)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        f, s, p = self.filt_size, self.stride, self.pad()
        return ((f, s, -p), (f, s, -p))

    def rf_note(self, geom: Any) -> str | None:
        if self.pad_mode == "constant":
            return None
        return f"{self.pad_mode} padding: border units also see mirrored or repeated rows"

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        c, h, w = ins[0]
        p = self.pad()
        kept: tuple[str | Extra, ...] = (
            ("in0",) if self.pad_mode in ("reflect", "replicate") else ()
        )
        return (
            *kept,
            Extra(batch * c * (h + 2 * p) * (w + 2 * p), None, "padded copy"),
            Extra(self.buffers(ins), None, "blur filter", buffer=True),
        )

    torch_modules: ClassVar[tuple[str, ...]] = ("BlurPool2d",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        call.need_map("BlurPool2d")
        m = call.module
        if list(m.padding) != [(m.stride - 1 + m.filt_size - 1) // 2] * 4:
            raise UnsupportedError(f"BlurPool2d with padding {m.padding}")
        return cls(m.channels, int(m.filt_size), int(m.stride), str(m.pad_mode))

    def to_torch(self, tb: Any) -> Any:
        s = self
        return tb.timm_layer(
            "blur_pool", "BlurPool2d", s.channels, s.filt_size, s.stride, s.pad_mode
        )


@register
@dataclass(frozen=True, slots=True)
class GlobalAvgPool(Parameterless, Layer):
    """Global average pooling to ``(C, 1, 1)`` (exam Q2); same as ``AdaptiveAvgPool2d(1)``.

    ``op`` is how torch computes it: ``"adaptive_avg_pool2d"`` (the default, as
    archcalc.torch builds it) or ``"mean"`` (``x.mean((2, 3), keepdim=True)``, as many
    networks write it): the same figures, but the foreign tools count the two calls apart
    (fvcore has no handle for ``aten::mean``, ptflops does not patch ``Tensor.mean``).
    """

    op: str = "adaptive_avg_pool2d"

    count_fvcore = counts(
        "input numel (fvcore elementwise_flop_counter(1, 0) on aten::adaptive_avg_pool2d); "
        "0 for op='mean': aten::mean has no fvcore handle",
        lambda s, i, o, b: 0 if s.op == "mean" else b * numel(i[0]),
        short="N·in; 0 for a mean",
    )
    count_ptflops_hook = ptflops_no_hook("archcalc.torch's GlobalAvgPool")
    count_ptflops_functional = counts(
        "input numel: the module calls the patched F.adaptive_avg_pool2d (ptflops "
        "_pool_functional_flops_hook); 0 for op='mean' (Tensor.mean is not patched)",
        lambda s, i, o, b: 0 if s.op == "mean" else b * numel(i[0]),
        short="N·in; 0 for a mean",
    )
    count_thop = thop_no_hook("archcalc.torch's GlobalAvgPool")

    def __post_init__(self) -> None:
        if self.op not in ("adaptive_avg_pool2d", "mean"):
            raise SpecError(
                f"GlobalAvgPool.op = {self.op!r}: must be 'adaptive_avg_pool2d' or 'mean'"
            )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((4, 9, 11),)

    def is_global_pool(self) -> bool:
        return True

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

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.build.GlobalAvgPool",)
    torch_functions: ClassVar[tuple[str, ...]] = ("Tensor.mean", "torch.mean")

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls(op=getattr(call.module, "op", "adaptive_avg_pool2d"))
        dims = call.arg(1, "dim")
        if call.layouts[0] != "std" or len(call.inputs[0]) != 3 or dims is None:
            raise UnsupportedError(
                "a mean that is not over the spatial axes of an (N, C, H, W) map"
            )
        dims = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
        if sorted(d % 4 for d in dims) != [2, 3]:
            raise UnsupportedError(f"a mean over dims {dims}; archcalc pools over (2, 3)")
        if call.arg(2, "keepdim", False):
            return cls(op="mean")
        return (cls(op="mean"), Flatten())

    def to_torch(self, tb: Any) -> Any:
        return tb.GlobalAvgPool(self.op)


# ---------------------------------------------------------------- 1-D pooling (C, L)


def _one_size(v: Any, what: str) -> Any:
    """An int read from a 1-D pool's size argument (``3``, ``(3,)``, ``[3]``)."""
    v = v[0] if isinstance(v, (list, tuple)) and len(v) == 1 else v
    if isinstance(v, bool) or not isinstance(v, int):
        raise UnsupportedError(f"1-D pooling {what} = {v!r} is not an integer")
    return v


def _need_seq(call: TorchCall, kind: str) -> None:
    x = call.inputs[0] if call.inputs else ()
    if not call.inputs or call.layouts[0] != "std" or len(x) != 2:
        raise UnsupportedError(f"{kind} needs an (N, C, L) tensor, got per-sample shape {tuple(x)}")


@dataclass(frozen=True, slots=True)
class _Pool1d(Parameterless, Layer):
    """A pooling window sliding over the last axis of a ``(C, L)`` tensor (torch's
    ``(N, C, L)``); the receptive field has one axis, as for :class:`~.conv.Conv1d` (a field
    on a map flattened to a sequence is a reported gap of the receptive-field engine)."""

    kernel_size: Any = 2
    stride: Any = None
    padding: Any = 0
    ceil_mode: bool = False

    count_ptflops_hook = counts(
        "input numel (ptflops pool_flops_counter_hook: nn.AvgPool1d / nn.MaxPool1d are in "
        "MODULES_MAPPING)",
        lambda s, i, o, b: b * numel(i[0]),
        short="N·in",
    )
    ptflops_hooked: ClassVar[bool] = True
    thop_hooked: ClassVar[bool] = True

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(3, 2, padding=1, ceil_mode=True), ((4, 11),)

    def _dil(self) -> Any:
        return 1

    def _validate(self) -> None:
        k = self.kind
        if self.stride is None:
            _set(self, "stride", self.kernel_size)
        _check_int(k, "kernel_size", self.kernel_size, 1)
        _check_int(k, "stride", self.stride, 1)
        _check_int(k, "padding", self.padding, 0)
        p, kk = self.padding, self.kernel_size
        if not any(is_symbolic(v) for v in (p, kk)) and 2 * p > kk:
            raise SpecError(
                f"{k}.padding = {p}: must be at most half the kernel size {kk} "
                f"(padding <= {kk // 2}), as torch requires"
            )

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        if len(s) != 2:
            raise ShapeError(
                f"{self.kind} needs a (C, L) sequence (torch's (N, C, L)), got shape "
                f"{'x'.join(map(str, s))}"
            )
        c, n = s
        p = self.padding
        k, st, d = self.kernel_size, self.stride, self._dil()
        return (c, _window_out(self.kind, "length", n, k, st, p, p, d, self.ceil_mode))

    def geometry(self, ins: Shapes, out: Shape) -> Any:
        # one axis (L): the window's extent, the stride, unit 0 starting `padding` early
        return ((self._dil() * (self.kernel_size - 1) + 1, self.stride, -self.padding),)

    def taps(self) -> Pair:
        return (self._dil(), self._dil())


@register
@dataclass(frozen=True, slots=True)
class AvgPool1d(_Pool1d):
    """Average pooling over the last axis of a ``(C, L)`` tensor, as ``torch.nn.AvgPool1d``
    (Next-ViT's spatial reduction of the keys and values: ``sr(x.transpose(1, 2))``).

    FLOPs: ``k`` per output (k − 1 adds and one divide, the nominal window). Training keeps
    the input. ``count_include_pad=False`` divides by the unpadded window size: the same
    shapes, costs and field.

    >>> AvgPool1d(4).out_shape(((96, 196),))
    (96, 49)
    """

    count_include_pad: bool = True

    count_fvcore = fvcore_unhandled("avg_pool1d")
    count_ptflops_functional = counts(
        "input numel again: nn.AvgPool1d calls the patched F.avg_pool1d (ptflops "
        "_numel_functional_flops_hook)",
        lambda s, i, o, b: b * numel(i[0]),
        short="N·in",
    )
    count_thop = counts(
        "output numel (thop count_avgpool -> calculate_avgpool)",
        lambda s, i, o, b: b * numel(o),
        short="N·out",
    )

    def __post_init__(self) -> None:
        self._validate()

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out) * self.kernel_size

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0",)

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.AvgPool1d",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.nn.functional.avg_pool1d",
        "torch.avg_pool1d",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        _need_seq(call, "AvgPool1d")
        m = call.module
        if m is not None:
            k, s, p, ceil, inc = (
                m.kernel_size,
                m.stride,
                m.padding,
                m.ceil_mode,
                m.count_include_pad,
            )
        else:
            k = call.arg(1, "kernel_size")
            s = call.arg(2, "stride") or k
            p, ceil = call.arg(3, "padding", 0), call.arg(4, "ceil_mode", False)
            inc = call.arg(5, "count_include_pad", True)
        p = _one_size(p, "padding")
        return cls(
            _one_size(k, "kernel_size"),
            _one_size(s, "stride"),
            p,
            ceil_mode=bool(ceil),
            count_include_pad=bool(inc) or p == 0,
        )

    def to_torch(self, tb: Any) -> Any:
        s = self
        return tb.nn.AvgPool1d(
            s.kernel_size,
            s.stride,
            s.padding,
            ceil_mode=s.ceil_mode,
            count_include_pad=s.count_include_pad,
        )


@register
@dataclass(frozen=True, slots=True)
class MaxPool1d(_Pool1d):
    """Max pooling over the last axis of a ``(C, L)`` tensor, as ``torch.nn.MaxPool1d``.

    FLOPs: ``k − 1`` comparisons per output (the nominal window). Training keeps the input
    and the int64 index of every maximum.

    >>> MaxPool1d(3, 2, padding=1).out_shape(((8, 10),))
    (8, 5)
    """

    dilation: Any = 1

    count_fvcore = fvcore_unhandled("max_pool1d")
    count_ptflops_functional = counts(
        "input numel again: nn.MaxPool1d calls the patched F.max_pool1d (ptflops "
        "_numel_functional_flops_hook)",
        lambda s, i, o, b: b * numel(i[0]),
        short="N·in",
    )
    count_thop = counts_zero("nn.MaxPool1d is in thop's register_hooks as zero_ops")

    def __post_init__(self) -> None:
        _check_int(self.kind, "dilation", self.dilation, 1)
        self._validate()

    def _dil(self) -> Any:
        return self.dilation

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out) * (self.kernel_size - 1)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0", Extra(batch * prod(out), 8, "argmax indices"))

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.MaxPool1d",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.nn.functional.max_pool1d",
        "torch.max_pool1d",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        _need_seq(call, "MaxPool1d")
        m = call.module
        if m is not None:
            k, s, p, d = m.kernel_size, m.stride, m.padding, m.dilation
            ceil, ri = m.ceil_mode, m.return_indices
        else:
            k = call.arg(1, "kernel_size")
            s = call.arg(2, "stride") or k
            p, d = call.arg(3, "padding", 0), call.arg(4, "dilation", 1)
            ceil, ri = call.arg(5, "ceil_mode", False), call.arg(6, "return_indices", False)
        if ri:
            raise UnsupportedError("max pooling with return_indices")
        return cls(
            _one_size(k, "kernel_size"),
            _one_size(s, "stride"),
            _one_size(p, "padding"),
            ceil_mode=bool(ceil),
            dilation=_one_size(d, "dilation"),
        )

    def to_torch(self, tb: Any) -> Any:
        s = self
        return tb.nn.MaxPool1d(
            s.kernel_size, s.stride, s.padding, dilation=s.dilation, ceil_mode=s.ceil_mode
        )

    def to_torch_probe(self, tb: Any) -> Any:
        # the windows summed (linear, positive): every input of a window reaches its unit
        if self.dilation != 1:
            raise UnsupportedError("the receptive-field probe of a dilated MaxPool1d")
        return tb.nn.AvgPool1d(self.kernel_size, self.stride, self.padding, self.ceil_mode)
