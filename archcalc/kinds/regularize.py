"""Training-time regularisers and scales: ``Dropout``, ``StochasticDepth``, ``LayerScale``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError, UnsupportedError
from .._math import Num, prod
from ._base import (
    Extra,
    Layer,
    Shape,
    Shapes,
    TorchCall,
    _check_int,
    _check_probability,
    _eq_known_false,
    invalid,
    register,
)
from ._rules import (
    counts,
    counts_zero,
    fvcore_ignored,
    fvcore_unhandled,
    params_per_sample,
    ptflops_no_hook,
    ptflops_no_patch,
    thop_no_hook,
)
from .activation import _Elementwise


@register
@dataclass(frozen=True, slots=True)
class Dropout(_Elementwise):
    """Dropout. Inference: identity (a view). Training: autograd keeps the scaled noise
    tensor (torch's CPU path; the CUDA kernel keeps a bool mask, a quarter of it)."""

    p: float = 0.5
    alias: ClassVar[bool] = True

    count_fvcore = fvcore_ignored("dropout")
    count_ptflops_hook = ptflops_no_hook("nn.Dropout")
    count_ptflops_functional = ptflops_no_patch("F.dropout")
    count_thop = counts_zero("nn.Dropout is in thop's zero_ops")
    thop_hooked: ClassVar[bool] = True

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

    torch_modules: ClassVar[tuple[str, ...]] = (
        "torch.nn.Dropout",
        "torch.nn.Dropout1d",
        "torch.nn.Dropout2d",
        "torch.nn.Dropout3d",
        "torch.nn.AlphaDropout",
        "torch.nn.FeatureAlphaDropout",
    )
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.nn.functional.dropout",
        "torch.nn.functional.dropout1d",
        "torch.nn.functional.dropout2d",
        "torch.nn.functional.dropout3d",
        "torch.nn.functional.alpha_dropout",
        "torch.nn.functional.feature_alpha_dropout",
        "torch.dropout",
        "torch.alpha_dropout",
        "torch.feature_dropout",
    )
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        p = m.p if m is not None else call.arg(1, "p", 0.5)
        return cls(float(p))

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.Dropout(self.p)


@register
@dataclass(frozen=True, slots=True)
class StochasticDepth(_Elementwise):
    """Row-mode stochastic depth (torchvision). Inference: identity; training: x·noise,
    where autograd keeps the per-sample noise (one element per sample)."""

    p: float = 0.0
    alias: ClassVar[bool] = True

    count_fvcore = counts_zero("the identity in eval mode: no aten op")
    count_ptflops_hook = ptflops_no_hook("archcalc.torch's StochasticDepth")
    count_ptflops_functional = counts_zero("the identity in eval mode: no call")
    count_thop = thop_no_hook("archcalc.torch's StochasticDepth")

    def __post_init__(self) -> None:
        _check_probability(self.kind, self.p)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        if self.p == 0:
            return ()  # torchvision returns the input itself: nothing kept
        return (Extra(batch, None, "stochastic depth noise"),)

    def is_view(self, training: bool) -> bool:
        return not training or self.p == 0

    torch_modules: ClassVar[tuple[str, ...]] = ("StochasticDepth", "DropPath")
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        mode = getattr(m, "mode", "row")
        if mode != "row":
            raise UnsupportedError(f"StochasticDepth(mode={mode!r}): archcalc models row mode")
        p = getattr(m, "p", getattr(m, "drop_prob", 0.0))
        return cls(float(p or 0.0))

    def to_torch(self, tb: Any) -> Any:
        return tb.StochasticDepth(self.p)


@register
@dataclass(frozen=True, slots=True)
class LayerScale(_Elementwise):
    """Per-channel learned scale, ``x * weight``: C parameters, one multiply per element.
    The channels are axis 0 of a ``(C, H, W)`` map (ConvNeXt's ``(C, 1, 1)`` parameter), or
    with ``channels_last`` the last axis of a tensor of any rank (timm's ``LayerScale``:
    ``x * gamma``, ``gamma`` of shape ``(C,)``, on ``(L, C)`` tokens). ``param`` is the
    parameter's name, which torchinfo reads (it multiplies only parameters named
    ``weight`` or ``bias``; timm's is ``gamma``).

    >>> LayerScale(768, channels_last=True).out_shape(((197, 768),))
    (197, 768)
    """

    channels: Any = 1
    channels_last: bool = False
    param: str = "weight"
    #: called as ``x.mul(w)`` / ``torch.mul(x, w)`` (timm's ConvNeXt), which ptflops patches
    patched: bool = False
    flops_per_element: ClassVar[int] = 1

    count_fvcore = fvcore_unhandled("mul")
    count_ptflops_hook = ptflops_no_hook("archcalc.torch's LayerScale")
    count_ptflops_functional = counts(
        "the output numel for x.mul(w) / torch.mul(x, w) with w of x's rank (ptflops "
        "_elementwise_tensor_flops_hook, not divided by the batch); 0 for the * operator",
        lambda s, i, o, b: b * prod(o) if s.patched else 0,
        short="N·out (patched mul), else 0",
    )
    count_thop = thop_no_hook("archcalc.torch's LayerScale")
    count_torchinfo = counts(
        "weight numel·N when the parameter is named 'weight' (torchinfo "
        "LayerInfo.calculate_macs multiplies parameters named weight or bias only), else 0",
        lambda s, i, o, b: params_per_sample(s, i, o, b) if s.param in ("weight", "bias") else 0,
        short="N·params ('weight'), else 0",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4), ((4, 9, 11),)

    def __post_init__(self) -> None:
        _check_int(self.kind, "channels", self.channels, 1)
        if not self.param.isidentifier():
            raise invalid(self.kind, "param", self.param, "must be a parameter name")

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        where = "last axis" if self.channels_last else "channels (axis 0)"
        if not s:
            raise ShapeError(
                f"{self.kind}.channels = {self.channels} but the input is a scalar (shape ()): "
                f"valid is a tensor whose {where} has {self.channels}"
            )
        c = s[-1] if self.channels_last else s[0]
        if _eq_known_false(c, self.channels):
            raise ShapeError(
                f"{self.kind}.channels = {self.channels} but the input's {where} has {c} "
                f"(shape {'x'.join(map(str, s))})"
            )
        return s

    def params(self, ins: Shapes) -> Num:
        return self.channels

    torch_modules: ClassVar[tuple[str, ...]] = (
        "archcalc.torch.build.LayerScale",
        "archcalc.torch.tensor_math.ChannelScale",
        "timm.layers.layer_scale.LayerScale",
        "LayerScale2d",  # timm.layers', fastvit's, swiftformer's: x * gamma on NCHW
        "timm.models.metaformer.Scale",
    )
    torch_functions: ClassVar[tuple[str, ...]] = ("Tensor.mul", "Tensor.mul_", "torch.mul")
    #: a product with a parameter is named after the parameter (``features.1.0.layer_scale``)
    torch_named_after_parameter: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        x, layout = call.inputs[0], call.layouts[0]
        m = call.module
        patched = bool(getattr(m, "patched", False))
        if m is not None:
            (name, p), *more = list(m.named_parameters(recurse=False)) or [("", None)]
            if p is None or more:
                raise UnsupportedError(f"{type(m).__name__} without one scale parameter")
            shape = tuple(p.shape)
            c = int(p.numel())
            if type(m).__name__ == "LayerScale2d":
                shape = (c, 1, 1)  # timm: x * gamma.view(1, -1, 1, 1)
            elif isinstance(getattr(m, "shape", None), tuple):
                shape = m.shape  # timm's metaformer Scale: x * scale.view(shape)
        else:
            ps = call.params()
            if len(ps) != 1 or len(call.inputs) != 1:
                raise UnsupportedError("not a product of one tensor and one parameter")
            p = ps[0]
            if not p.is_param:
                raise UnsupportedError(f"a product with the buffer '{p.param}' (not a parameter)")
            # a product in a forward (not a module call): no tool hooks it, the name is moot
            name, shape = "weight", tuple(p.shape)
            patched = call.op in ("Tensor.mul", "torch.mul")
            if patched and len(shape) != len(x) + 1:
                raise UnsupportedError(
                    f"{call.op} with the parameter '{p.param}' of shape {shape}: ptflops "
                    f"counts it with a broadcast aligning the leading axes (not modelled)"
                )
            while len(shape) > 1 and shape[0] == 1:
                shape = shape[1:]
            if not shape:  # a 0-d parameter (NFNet's skipinit_gain): one scale, not per channel
                raise UnsupportedError(f"a product with the scalar parameter '{p.param}'")
            c = shape[0]
        if layout == "nhwc" and shape == (x[0],):
            return cls(int(c), param=name, patched=patched)
        if layout == "std" and len(x) == 3 and shape == (x[0], 1, 1):
            return cls(int(c), param=name, patched=patched)
        if layout == "std" and x and shape == (x[-1],):
            return cls(int(c), channels_last=True, param=name, patched=patched)
        raise UnsupportedError(
            f"a product with the parameter '{name}' of shape {shape} on a tensor of per-sample "
            f"shape {x} ({layout}); archcalc's LayerScale is one scale per channel ((C, 1, 1) "
            f"on a map, or (C,) on the last axis)"
        )

    def to_torch(self, tb: Any) -> Any:
        if not self.channels_last and self.param == "weight" and not self.patched:
            return tb.LayerScale(self.channels)
        return tb.tensor_math.ChannelScale(
            self.channels, self.channels_last, self.param, patched=self.patched
        )
