"""Normalisation: ``BatchNorm2d``, ``LayerNorm2d``, ``LayerNorm`` and ``GroupNorm``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError, UnsupportedError
from .._math import Num, is_symbolic, prod
from ._base import (
    GLOBAL,
    Extra,
    Layer,
    Shape,
    Shapes,
    TorchCall,
    _check_int,
    _eq_known_false,
    _Global,
    _spatial,
    invalid,
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
            Extra(2 * c, None, "running stats", buffer=True),
            Extra(2 * c, "acc", "batch mean/invstd"),
        )

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.BatchNorm2d", "torch.nn.SyncBatchNorm")
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.batch_norm",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if m is None:  # F.batch_norm(x, running_mean, running_var, weight, bias, ...)
            stats = (call.arg(1, "running_mean"), call.arg(2, "running_var"))
            affine = (call.arg(3, "weight"), call.arg(4, "bias"))
            if any(getattr(t, "param", None) is None for t in (*stats, *affine)):
                raise UnsupportedError(
                    "F.batch_norm without running statistics, weight and bias of a module: "
                    "archcalc's BatchNorm2d is affine with tracked running statistics"
                )
            call.need_map("BatchNorm2d")
            return cls(int(affine[0].shape[0]))
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


@register
@dataclass(frozen=True, slots=True)
class LayerNorm(NoMatmul, Layer):
    """Layer normalisation over the last axis, as ``torch.nn.LayerNorm(normalized_shape)``
    on a token sequence ``(L, C)`` (a transformer's norms) or a vector ``(C,)``.

    Params 2C (weight, bias). FLOPs per element as LayerNorm2d: mean (1), centre (1),
    square (1), variance sum (1), normalise (2), affine (2). Each token is normalised on its
    own: the receptive field is unchanged. Autograd keeps the input and a mean and a rstd
    per token (float32 for float32 and half inputs).

    >>> LayerNorm(768, eps=1e-6).params(((197, 768),))
    1536
    """

    normalized_shape: Any
    eps: float = 1e-5

    head_role: ClassVar[str | None] = "keep"

    count_fvcore = counts(
        "5·numel (fvcore norm_flop_counter(2) on aten::layer_norm with a weight)",
        lambda s, i, o, b: 5 * b * prod(o),
        short="5N·out",
    )
    count_ptflops_hook = counts(
        "input numel (ptflops bn_flops_counter_hook: nn.LayerNorm has no 'affine' "
        "attribute, so the ×2 is not applied)",
        lambda s, i, o, b: b * prod(i[0]),
        short="N·in",
    )
    count_ptflops_functional = ptflops_no_patch("F.layer_norm")
    count_thop = counts(
        "4·numel (thop count_normalization -> calculate_norm: 2·numel, doubled for "
        "elementwise_affine)",
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
        return cls(6, eps=1e-6), ((5, 6),)

    def __post_init__(self) -> None:
        _check_int(self.kind, "normalized_shape", self.normalized_shape, 1)
        if self.eps < 0:
            raise invalid(self.kind, "eps", self.eps, "must be >= 0")

    def out_shape(self, ins: Shapes) -> Shape:
        c = ins[0][-1]
        if _eq_known_false(c, self.normalized_shape):
            raise ShapeError(
                f"{self.kind}.normalized_shape = {self.normalized_shape} but the last axis of "
                f"the input has {c} (shape {'x'.join(map(str, ins[0]))})"
            )
        return ins[0]

    def params(self, ins: Shapes) -> Num:
        return 2 * self.normalized_shape

    def flops(self, ins: Shapes, out: Shape) -> Num:
        # mean (1), centre (1), square (1), variance sum (1), normalise (2), affine (2)
        return 8 * prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        positions = batch * prod(ins[0][:-1])
        return ("in0", Extra(2 * positions, "acc", "mean/rstd"))

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.LayerNorm",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.layer_norm",)
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if m is not None:
            normalized, eps = tuple(m.normalized_shape), float(m.eps)
            if not m.elementwise_affine or m.bias is None:
                raise UnsupportedError("LayerNorm without a weight and a bias")
        else:
            w, b = call.arg(2, "weight"), call.arg(3, "bias")
            if getattr(w, "param", None) is None or getattr(b, "param", None) is None:
                raise UnsupportedError("F.layer_norm without a weight and a bias parameter")
            ns = call.arg(1, "normalized_shape")
            normalized = tuple(ns) if isinstance(ns, (list, tuple)) else (ns,)
            eps = float(call.arg(4, "eps", 1e-5))
        x, layout = call.inputs[0], call.layouts[0]
        if len(normalized) != 1 or layout != "std" or len(x) != 2:
            raise UnsupportedError(
                f"LayerNorm over {normalized} of a tensor of per-sample shape {x} ({layout}): "
                f"archcalc's LayerNorm normalises the last axis of a token sequence (N, L, C)"
            )
        return cls(int(normalized[0]), eps)

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.LayerNorm(self.normalized_shape, eps=self.eps)


@register
@dataclass(frozen=True, slots=True)
class GroupNorm(NoMatmul, Layer):
    """Group normalisation, as ``torch.nn.GroupNorm(num_groups, num_channels, eps, affine)``.

    The C channels are split into ``num_groups`` groups; each sample's group is normalised
    by the mean and variance over its channels and *every position*, so each output depends
    on the whole input (a global receptive field, unlike LayerNorm2d or BatchNorm2d in eval).
    Params 2C (weight, bias) when ``affine``, else 0; no buffers (no running statistics); no
    MACs. FLOPs per element as LayerNorm2d: mean (1), centre (1), square (1), variance sum
    (1), normalise (2), affine (2, only when ``affine``): 8, or 6 without affine.

    >>> GroupNorm(32, 256).params(((256, 14, 14),))
    512
    """

    num_groups: Any
    num_channels: Any
    eps: float = 1e-5
    affine: bool = True

    count_fvcore = counts(
        "5·numel with affine, 4·numel without (fvcore norm_flop_counter(2) on aten::group_norm)",
        lambda s, i, o, b: (5 if s.affine else 4) * b * prod(o),
        short="5N·out; 4N·out without affine",
    )
    count_ptflops_hook = counts(
        "input numel, ×2 when affine (ptflops bn_flops_counter_hook: nn.GroupNorm is in "
        "MODULES_MAPPING)",
        lambda s, i, o, b: (2 if s.affine else 1) * b * prod(i[0]),
        short="2N·in; N·in without affine",
    )
    count_ptflops_functional = ptflops_no_patch("F.group_norm")
    count_thop = thop_no_hook("nn.GroupNorm")
    count_torchinfo = counts(
        "(weight + bias numel)·N (torchinfo calculate_macs); 0 without affine",
        params_per_sample,
        short="N·params",
    )
    ptflops_hooked: ClassVar[bool] = True

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.GroupNorm",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.group_norm",)
    #: the statistics mix every position of a group: not an identity in the RF probe
    probe_identity: ClassVar[bool] = False

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(2, 4), ((4, 9, 11),)

    def __post_init__(self) -> None:
        k = self.kind
        _check_int(k, "num_groups", self.num_groups, 1)
        _check_int(k, "num_channels", self.num_channels, 1)
        if self.eps < 0:
            raise invalid(k, "eps", self.eps, "must be >= 0")
        c, g = self.num_channels, self.num_groups
        if not (is_symbolic(c) or is_symbolic(g)) and c % g:
            raise invalid(k, "num_channels", c, f"must be divisible by num_groups (={g})")

    def out_shape(self, ins: Shapes) -> Shape:
        c = ins[0][0]
        if _eq_known_false(c, self.num_channels):
            raise ShapeError(
                f"{self.kind}.num_channels = {self.num_channels} but the input has {c} channels"
            )
        return ins[0]

    def params(self, ins: Shapes) -> Num:
        return 2 * self.num_channels if self.affine else 0

    def flops(self, ins: Shapes, out: Shape) -> Num:
        # mean (1), centre (1), square (1), variance sum (1), normalise (2), affine (2)
        return (8 if self.affine else 6) * prod(out)

    def geometry(self, ins: Shapes, out: Shape) -> _Global:
        return GLOBAL

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        # NativeGroupNormBackward0 keeps the input, the weight (a parameter, not counted) and
        # the mean and rstd of every (sample, group): shape (N, G), in the input's dtype
        # (measured on CPU for float32, float64 and bfloat16 inputs)
        return ("in0", Extra(2 * batch * self.num_groups, None, "mean/rstd per group"))

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if m is not None:
            return cls(int(m.num_groups), int(m.num_channels), float(m.eps), bool(m.affine))
        w, b = call.arg(2, "weight"), call.arg(3, "bias")
        if w is None and b is None:
            affine = False
        elif getattr(w, "param", None) is not None and getattr(b, "param", None) is not None:
            affine = True
        else:
            raise UnsupportedError(
                "F.group_norm with only one of weight and bias, or with one that is not a "
                "parameter: archcalc's GroupNorm has both parameters or neither"
            )
        groups = call.arg(1, "num_groups")
        return cls(int(groups), call.inputs[0][0], float(call.arg(4, "eps", 1e-5)), affine)

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.GroupNorm(self.num_groups, self.num_channels, eps=self.eps, affine=self.affine)
