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
    """Per-channel learned scale (ConvNeXt): C parameters, one multiply per element."""

    channels: Any = 1
    flops_per_element: ClassVar[int] = 1

    count_fvcore = fvcore_unhandled("mul")
    count_ptflops_hook = ptflops_no_hook("archcalc.torch's LayerScale")
    count_ptflops_functional = ptflops_no_patch("the x * weight operator")
    count_thop = thop_no_hook("archcalc.torch's LayerScale")
    count_torchinfo = counts(
        "weight numel·N (torchinfo calculate_macs: its parameter is named 'weight')",
        params_per_sample,
        short="N·params",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4), ((4, 9, 11),)

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

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.build.LayerScale",)
    torch_functions: ClassVar[tuple[str, ...]] = ("Tensor.mul", "Tensor.mul_", "torch.mul")
    #: a product with a parameter is named after the parameter (``features.1.0.layer_scale``)
    torch_named_after_parameter: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls(int(call.module.weight.numel()))
        ps = call.params()
        if len(ps) != 1 or len(call.inputs) != 1:
            raise UnsupportedError("not a product of one tensor and one parameter")
        p = ps[0]
        if not p.is_param:
            raise UnsupportedError(f"a product with the buffer '{p.param}' (not a parameter)")
        shape = tuple(p.shape)
        while len(shape) > 1 and shape[0] == 1:
            shape = shape[1:]
        x, layout = call.inputs[0], call.layouts[0]
        c = x[0] if x else None
        if not (
            (layout == "std" and len(x) == 3 and shape == (c, 1, 1))
            or (layout == "nhwc" and shape == (c,))
        ):
            raise UnsupportedError(
                f"a product with the parameter '{p.param}' of shape {p.shape}; archcalc's "
                f"LayerScale is one scale per channel ((C, 1, 1), or (C,) channels-last)"
            )
        return cls(int(x[0]))

    def to_torch(self, tb: Any) -> Any:
        return tb.LayerScale(self.channels)
