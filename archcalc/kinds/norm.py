"""Normalisation: ``BatchNorm2d`` and ``LayerNorm2d``."""

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
    _eq_known_false,
    _spatial,
    register,
)
from ._rules import (
    NoMatmul,
    counts,
    params_per_sample,
    ptflops_no_hook,
    ptflops_no_patch,
    thop_no_hook,
)

# ---------------------------------------------------------------- normalisation


@register
@dataclass(frozen=True, slots=True)
class BatchNorm2d(NoMatmul, Layer):
    """Batch normalisation over channels, as ``torch.nn.BatchNorm2d`` (affine, tracked stats).

    Params 2C (weight, bias); buffers 2C + 1 (running mean and variance, num_batches_tracked).
    """

    num_features: Any

    head_role: ClassVar[str | None] = "keep"

    count_fvcore = counts(
        "2·numel (fvcore batchnorm_flop_jit, eval mode, affine)",
        lambda s, i, o, b: 2 * b * prod(o),
        short="2N·out",
    )
    count_ptflops_hook = counts(
        "input numel, ×2 when affine (ptflops bn_flops_counter_hook)",
        lambda s, i, o, b: 2 * b * prod(i[0]),
        short="2N·in",
    )
    count_ptflops_functional = ptflops_no_patch("F.batch_norm")
    count_thop = counts(
        "2·numel, doubled when affine (thop count_normalization -> calculate_norm)",
        lambda s, i, o, b: 4 * b * prod(i[0]),
        short="4N·in",
    )
    count_torchinfo = counts(
        "(weight + bias numel)·N (torchinfo calculate_macs)", params_per_sample, short="N·params"
    )
    ptflops_hooked: ClassVar[bool] = True
    thop_hooked: ClassVar[bool] = True

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4), ((4, 9, 11),)

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

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.BatchNorm2d", "torch.nn.SyncBatchNorm")

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if not (m.affine and m.track_running_stats):
            raise UnsupportedError(
                "archcalc's BatchNorm2d is affine with tracked running statistics "
                f"(affine={m.affine}, track_running_stats={m.track_running_stats})"
            )
        call.need_map("BatchNorm2d")
        return cls(int(m.num_features))

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.BatchNorm2d(self.num_features)


@register
@dataclass(frozen=True, slots=True)
class LayerNorm2d(NoMatmul, Layer):
    """Layer normalisation over the channels of each position (ConvNeXt's LayerNorm2d).

    Params 2C (weight, bias).
    """

    num_channels: Any

    head_role: ClassVar[str | None] = "keep"

    count_fvcore = counts(
        "5·numel (fvcore norm_flop_counter(2) on aten::layer_norm with a weight; the "
        "channels-last permutes are ignored)",
        lambda s, i, o, b: 5 * b * prod(o),
        short="5N·out",
    )
    count_ptflops_hook = ptflops_no_hook("archcalc.torch's LayerNorm2d (an nn.LayerNorm subclass)")
    count_ptflops_functional = ptflops_no_patch("F.layer_norm")
    count_thop = thop_no_hook("archcalc.torch's LayerNorm2d (an nn.LayerNorm subclass)")
    count_torchinfo = counts(
        "(weight + bias numel)·N (torchinfo calculate_macs)", params_per_sample, short="N·params"
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4), ((4, 9, 11),)

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

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.LayerNorm", "LayerNorm2d")
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.layer_norm",)
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if m is not None and type(m).__name__ == "LayerNorm2d":
            c = call.need_map("LayerNorm2d")
            return cls(c[0])
        if m is not None:
            normalized = tuple(m.normalized_shape)
            if not m.elementwise_affine or m.bias is None:
                raise UnsupportedError("LayerNorm without a weight and a bias")
        else:
            w, b = call.arg(2, "weight"), call.arg(3, "bias")
            if getattr(w, "param", None) is None or getattr(b, "param", None) is None:
                raise UnsupportedError("F.layer_norm without a weight and a bias parameter")
            ns = call.arg(1, "normalized_shape")
            normalized = tuple(ns) if isinstance(ns, (list, tuple)) else (ns,)
        if len(normalized) != 1:
            raise UnsupportedError(
                f"LayerNorm over {normalized}: archcalc normalises over channels"
            )
        x, layout = call.inputs[0], call.layouts[0]
        if layout == "nhwc" or (layout == "std" and len(x) == 1):
            return cls(normalized[0])
        raise UnsupportedError(
            f"LayerNorm over the last axis of a tensor of per-sample shape {x}: archcalc "
            f"normalises over the channels of a channels-last map or of a vector"
        )

    def to_torch(self, tb: Any) -> Any:
        return tb.LayerNorm2d(self.num_channels, eps=1e-6)
