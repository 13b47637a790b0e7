"""Fully connected layers: ``Linear``, ``LinearBiasInput`` (a bias the model computes)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError, UnsupportedError
from .._math import Num, prod
from ._base import (
    GLOBAL,
    AxisGeom,
    Extra,
    Layer,
    Shape,
    Shapes,
    TorchCall,
    _check_int,
    _eq_known_false,
    _fmt,
    _Global,
    register,
)
from ._rules import MatmulCounts, counts, counts_zero, macs_plus_bias, params_per_sample
from .conv import Conv2d


@register
@dataclass(frozen=True, slots=True)
class Linear(MatmulCounts, Layer):
    """Fully connected layer, as ``torch.nn.Linear``.

    On a flat input ``(F,)`` it is the usual layer; on a ``(C, H, W)`` map it acts on the
    channels of every position (a channels-last ``nn.Linear``, as in ConvNeXt); on a token
    sequence ``(L, C)`` (channels last, as torch holds ``(N, L, C)``) it acts on the channels
    of every token (a transformer's projections and MLP); with ``channels_last`` it acts on
    the last axis of a tensor of any rank (``nn.Linear`` on ``(N, h, L, C)``: torch's own
    rule), which for ranks 1 and 2 is the default already. ``fixed``: the weight (and bias)
    are buffers, a fixed transform called as ``F.linear(x, buffer)`` (csatv2's DCT): no
    parameters, as many buffers; the same MACs.

    >>> Linear(9216, 4096).params(((9216,),))
    37752832
    """

    in_features: Any
    out_features: Any
    bias: bool = True
    channels_last: bool = False
    fixed: bool = False

    weighted: ClassVar[bool] = True
    classifier: ClassVar[bool] = True
    head_role: ClassVar[str | None] = "dense"

    count_fvcore = counts(
        "MACs: prod(input shape)·out_features (fvcore linear_flop_jit; a map on "
        "archcalc.torch's 1×1-conv path goes through conv_flop_jit, the same number)",
        lambda s, i, o, b: b * s.macs(i, o),
        short="N·MACs",
    )
    count_ptflops_hook = counts(
        "MACs + one add per output when biased (ptflops linear_flops_counter_hook)",
        macs_plus_bias,
        short="N·(MACs + [bias]·out)",
    )
    count_ptflops_functional = counts_zero("F.linear's patch is commented out in ptflops 0.7.5")
    count_thop = counts(
        "in_features·output numel, no bias (thop count_linear -> calculate_linear)",
        lambda s, i, o, b: b * s.in_features * prod(o),
        short="N·in_features·out",
    )
    count_torchinfo = counts(
        "(weight + bias numel)·N, not per position (torchinfo LayerInfo.calculate_macs)",
        params_per_sample,
        short="N·params",
    )
    ptflops_hooked: ClassVar[bool] = True
    thop_hooked: ClassVar[bool] = True

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4 * 9 * 11, 10), ((4 * 9 * 11,),)

    def with_outputs(self, n: int) -> Layer | None:
        """This layer with ``n`` output features."""
        return dataclasses.replace(self, out_features=n)

    def as_conv(self, flat: tuple[Any, Any, Any] | None) -> Layer:
        """The same weights as a convolution: ``Conv2d(C, out, (h, w))`` after a Flatten of a
        ``(C, h, w)`` map, else a 1×1 convolution."""
        if flat is not None:
            cin, fh, fw = flat
            return Conv2d(cin, self.out_features, (fh, fw), bias=self.bias)
        return Conv2d(self.in_features, self.out_features, 1, bias=self.bias)

    def __post_init__(self) -> None:
        _check_int(self.kind, "in_features", self.in_features, 1)
        _check_int(self.kind, "out_features", self.out_features, 1)

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        # tokens (L, C) carry their channels last, a (C, H, W) map first
        axis = -1 if len(s) == 2 or self.channels_last else 0
        if _eq_known_false(s[axis], self.in_features):
            raise ShapeError(
                f"{self.kind}.in_features = {self.in_features} but the input has "
                f"{s[axis]} {'features' if len(s) == 1 else 'channels'} (shape {_fmt(s)})"
            )
        if axis == -1:
            return (*s[:-1], self.out_features)
        return (self.out_features, *s[1:])

    def _weights(self) -> Num:
        # weight out x in, bias out
        return self.in_features * self.out_features + (self.out_features if self.bias else 0)

    def params(self, ins: Shapes) -> Num:
        return 0 if self.fixed else self._weights()

    def buffers(self, ins: Shapes) -> Num:
        return self._weights() if self.fixed else 0

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return prod(ins[0]) * self.out_features

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 2 * self.macs(ins, out)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom] | _Global:
        return GLOBAL if len(ins[0]) == 1 else ((1, 1, 0), (1, 1, 0))

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        if self.fixed:
            # no weight gradient: autograd keeps the weight (for the input's gradient), not
            # the input
            w = self.in_features * self.out_features
            return (Extra(w, None, "fixed weight", buffer=True),)
        return ("in0",)

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Linear",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.linear",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        fixed = False
        if m is not None:
            fin, fout, bias = m.in_features, m.out_features, m.bias is not None
        else:
            w, b = call.arg(1, "weight"), call.arg(2, "bias")
            if getattr(w, "param", None) is None or (
                b is not None and getattr(b, "param", None) is None
            ):
                raise UnsupportedError("F.linear with weights that are not parameters")
            fixed = not getattr(w, "is_param", True)
            if b is not None and getattr(b, "is_param", True) == fixed:
                raise UnsupportedError("F.linear with a parameter and a buffer for weights")
            (fout, fin), bias = w.shape, b is not None
        x, layout = call.inputs[0], call.layouts[0]
        channel = m is not None and type(m).__name__ == "ChannelLinear"
        if layout == "std" and len(x) >= 3 and not channel:
            # torch's rule on a batch-first tensor of any rank: the last axis
            return cls(fin, fout, bias=bias, channels_last=True, fixed=fixed)
        lead = layout.removeprefix("batch@")
        if layout == "fold" or (lead.isdigit() and int(lead) < len(x)):
            # the batch folded into axis 0 (Swin-style windows) or at an axis before the last:
            # the last axis of the per-sample shape is torch's last axis
            return cls(fin, fout, bias=bias, channels_last=len(x) >= 3, fixed=fixed)
        if not ((layout == "std" and len(x) in (1, 2, 3)) or layout == "nhwc"):
            raise UnsupportedError(
                f"a linear layer on the last axis of a tensor of per-sample shape {x} "
                f"({layout}); archcalc maps it on batch-first tensors of any rank and "
                f"channels-last maps (N, H, W, C)"
            )
        return cls(fin, fout, bias=bias, fixed=fixed)

    def to_torch(self, tb: Any) -> Any:
        s = self
        if s.channels_last:
            built = tb.nn.Linear(s.in_features, s.out_features, bias=s.bias)
        else:
            built = tb.ChannelLinear(s.in_features, s.out_features, bias=s.bias)
        if s.fixed:  # the weights made buffers (the module reads them by the same names)
            for name, p in list(built.named_parameters(recurse=False)):
                delattr(built, name)
                built.register_buffer(name, p.detach())
        return built


@register
@dataclass(frozen=True, slots=True)
class LinearBiasInput(MatmulCounts, Layer):
    """``F.linear(x, weight, bias)`` whose bias is a tensor the model computes (BEiT's and
    Swin v2's ``torch.cat((q_bias, k_bias, v_bias))``), its second input: a Linear on the
    last axis whose own parameters are the weight only (the bias's parameters are counted
    where they are read, once).

    MACs ``prod(input)·out_features``, FLOPs ``2·MACs`` plus one add per output element.
    Saved for backward: the input (the weight is a parameter). Called as a function: hooks
    see nothing; fvcore's linear_flop_jit and FlopCounterMode's addmm count the MACs.

    >>> LinearBiasInput(8, 24).out_shape(((5, 8), (24,)))
    (5, 24)
    """

    in_features: Any
    out_features: Any

    arity: ClassVar[int | None] = 2
    weighted: ClassVar[bool] = True

    count_fvcore = counts(
        "MACs: prod(input shape)·out_features (fvcore linear_flop_jit; the bias is not counted)",
        lambda s, i, o, b: b * s.macs(i, o),
        short="N·MACs",
    )
    count_ptflops_hook = counts_zero(
        "archcalc's module is not in ptflops' MODULES_MAPPING (a model's F.linear: no hook)"
    )
    count_ptflops_functional = counts_zero("F.linear's patch is commented out in ptflops 0.7.5")
    count_thop = counts_zero("archcalc's module is not in thop's register_hooks (no rule)")
    count_torchinfo = counts(
        "weight numel·N (torchinfo LayerInfo.calculate_macs on archcalc's module, whose "
        "parameter is 'weight'); a model's F.linear is a function call: 0 there (via)",
        params_per_sample,
        short="N·params",
    )

    def __post_init__(self) -> None:
        _check_int(self.kind, "in_features", self.in_features, 1)
        _check_int(self.kind, "out_features", self.out_features, 1)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(8, 24), ((5, 8), (24,))

    def out_shape(self, ins: Shapes) -> Shape:
        x, b = ins
        if _eq_known_false(x[-1], self.in_features) or tuple(b) not in (
            (self.out_features,),
            (1, self.out_features),
        ):
            raise ShapeError(
                f"{self.kind}({self.in_features}, {self.out_features}) on {_fmt(x)} with a "
                f"bias of shape {_fmt(b)}"
            )
        return (*x[:-1], self.out_features)

    def params(self, ins: Shapes) -> Num:
        return self.in_features * self.out_features

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return prod(ins[0]) * self.out_features

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 2 * self.macs(ins, out) + prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0",)

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tensor_math.LinearBiasInput",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.linear",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            fout, fin = call.module.weight.shape
            return cls(int(fin), int(fout))
        w, b = call.arg(1, "weight"), call.arg(2, "bias")
        if getattr(w, "param", None) is None or not getattr(w, "is_param", False):
            raise UnsupportedError("F.linear whose weight is not a parameter")
        if getattr(b, "index", None) != 1 or len(call.inputs) != 2:
            raise UnsupportedError("F.linear whose bias is not a computed tensor")
        x, lay = call.inputs[0], call.layouts[0]
        lead = lay.removeprefix("batch@")
        if not (lay in ("std", "fold") or (lead.isdigit() and int(lead) < len(x))):
            raise UnsupportedError(f"F.linear on a {lay} tensor")
        if call.layouts[1] != "const":
            raise UnsupportedError("F.linear with a bias that differs per sample")
        fout, fin = w.shape
        return cls(int(fin), int(fout))

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.LinearBiasInput(self.in_features, self.out_features)
