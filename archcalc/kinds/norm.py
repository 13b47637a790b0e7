"""Normalisation: ``BatchNorm2d``, ``BatchNorm1d``, ``LayerNorm2d``, ``LayerNorm``,
``GroupNorm``, ``RMSNorm`` and ``RMSNorm2d``."""

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
    _set,
    _spatial,
    invalid,
    register,
)
from ._rules import (
    NoMatmul,
    counts,
    counts_zero,
    params_per_sample,
    ptflops_no_hook,
    ptflops_no_patch,
    thop_no_hook,
)

# ---------------------------------------------------------------- normalisation


def _no_bias_without_affine(layer: Any) -> None:
    """``bias`` is a part of ``affine``: without ``affine`` there is no bias either (as in
    torch, which makes a bias only with the weight)."""
    if not layer.affine:
        _set(layer, "bias", False)


def _affine_params(layer: Any, c: Any) -> Num:
    # a weight per channel with ``affine``, a bias per channel with ``bias``
    return c * ((1 if layer.affine else 0) + (1 if layer.bias else 0))


def _norm_flops(layer: Any, out: Shape) -> Num:
    # per element: mean (1), centre (1), square (1), variance sum (1), normalise (2),
    # scale (1, with a weight), shift (1, with a bias)
    return (6 + (1 if layer.affine else 0) + (1 if layer.bias else 0)) * prod(out)


#: torch's own nn.LayerNorm (ptflops and thop look modules up by exact type: a subclass,
#: such as timm's LayerNorm or LayerNormNoBias, is not hooked)
_TORCH_LAYER_NORM = "torch.nn.modules.normalization.LayerNorm"
_TORCH_GROUP_NORM = "torch.nn.modules.normalization.GroupNorm"


def _exact_layer_norm(call: TorchCall) -> bool:
    """Whether the call is torch's ``nn.LayerNorm`` module itself (not a subclass)."""
    m = call.module
    return m is not None and f"{type(m).__module__}.{type(m).__qualname__}" == _TORCH_LAYER_NORM


def _ln_ptflops_hook(layer: Any, ins: Shapes, out: Shape, b: Any) -> Any:
    # bn_flops_counter_hook: input numel (nn.LayerNorm has no 'affine': no ×2)
    return b * prod(ins[0]) if layer.exact_type else 0


def _ln_thop(layer: Any, ins: Shapes, out: Shape, b: Any) -> Any:
    # count_normalization: calculate_norm 2·numel, doubled for elementwise_affine
    return (4 if layer.affine else 2) * b * prod(ins[0]) if layer.exact_type else 0


_LN_PTFLOPS_DOC = (
    "input numel when torch runs nn.LayerNorm itself (exact_type; ptflops "
    "bn_flops_counter_hook: nn.LayerNorm has no 'affine' attribute, so no ×2); 0 for a "
    "subclass (timm's LayerNorm/LayerNorm2d/LayerNormNoBias, torchvision's LayerNorm2d): "
    "MODULES_MAPPING is looked up by exact type"
)
_LN_THOP_DOC = (
    "4·numel, 2·numel without affine, when torch runs nn.LayerNorm itself (thop "
    "count_normalization -> calculate_norm: 2·numel, doubled for elementwise_affine); 0 for a "
    "subclass (register_hooks is looked up by exact type)"
)


def _affine_of(call: TorchCall) -> tuple[bool, bool]:
    """(weight, bias) present in a norm's torch call: the module's attributes, or the
    ``weight``/``bias`` arguments of ``F.layer_norm``/``F.group_norm``/``F.rms_norm``
    (each a parameter or absent)."""
    m = call.module
    if m is not None:
        return (getattr(m, "weight", None) is not None, getattr(m, "bias", None) is not None)
    i = 2
    w, b = call.arg(i, "weight"), call.arg(i + 1, "bias")
    for t, what in ((w, "weight"), (b, "bias")):
        if t is not None and getattr(t, "param", None) is None:
            raise UnsupportedError(f"{call.op} with a {what} that is not a parameter")
    if w is None and b is not None:
        raise UnsupportedError(f"{call.op} with a bias and no weight")
    return (w is not None, b is not None)


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
class BatchNorm1d(BatchNorm2d):
    """Batch normalisation over the channels of a vector ``(C,)`` or a sequence ``(C, L)``,
    as ``torch.nn.BatchNorm1d`` (torch's ``(N, C)`` or ``(N, C, L)``; affine, tracked stats).

    The rules of :class:`BatchNorm2d` on one spatial axis or none: params 2C, buffers
    2C + 1, 2 FLOPs per element in inference (scale and shift folded per channel), the
    input, running statistics and a batch mean and invstd saved in training.

    ``folded``: the sample's ``k`` rows are folded into torch's batch axis, as LeViT's
    ``bn(x.flatten(0, 1))`` on ``(N, k, C)``: the per-sample shape is ``(k, C)`` (or
    ``(k, C, L)``), torch normalises ``(N·k, C[, L])``. torchinfo then counts its parameters
    once per row of torch's batch (N·k).

    >>> BatchNorm1d(384).out_shape(((384,),))
    (384,)
    >>> BatchNorm1d(256, folded=True).out_shape(((196, 256),))
    (196, 256)
    """

    folded: bool = False

    count_torchinfo = counts(
        "(weight + bias numel)·N, times k when folded: torch's batch is N·k (torchinfo "
        "calculate_macs: output_size[0]·numel)",
        lambda s, i, o, b: b * s.params(i) * (i[0][0] if s.folded else 1),
        short="N·params (·k folded)",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4), ((4, 7),)

    def out_shape(self, ins: Shapes) -> Shape:
        s = ins[0]
        lead = 1 if self.folded else 0
        if len(s) - lead not in (1, 2):
            want = "(k, C) or (k, C, L)" if self.folded else "a (C,) vector or a (C, L) sequence"
            raise ShapeError(
                f"{self.kind} needs {want}, got shape {'x'.join(map(str, s))}; use "
                f"BatchNorm2d on a (C, H, W) map"
            )
        if _eq_known_false(s[lead], self.num_features):
            raise ShapeError(
                f"{self.kind}.num_features = {self.num_features} but the input has {s[lead]} "
                f"channels"
            )
        return s

    def geometry(self, ins: Shapes, out: Shape) -> Any:
        # per position: the identity step on each axis but the channels'
        return ((1, 1, 0),) * (len(ins[0]) - 1)

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.BatchNorm1d",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.batch_norm",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        x = call.inputs[0] if call.inputs else ()
        layout = call.layouts[0] if call.inputs else ""
        folded = layout == "fold"
        if layout not in ("std", "fold") or len(x) - folded not in (1, 2):
            raise UnsupportedError(
                f"BatchNorm1d needs an (N, C) or (N, C, L) tensor, got a {layout} tensor of "
                f"per-sample shape {tuple(x)}"
            )
        m = call.module
        if m is None:
            stats = (call.arg(1, "running_mean"), call.arg(2, "running_var"))
            affine = (call.arg(3, "weight"), call.arg(4, "bias"))
            if any(getattr(t, "param", None) is None for t in (*stats, *affine)):
                raise UnsupportedError(
                    "F.batch_norm without running statistics, weight and bias of a module: "
                    "archcalc's BatchNorm1d is affine with tracked running statistics"
                )
            return cls(int(affine[0].shape[0]), folded)
        if not (m.affine and m.track_running_stats):
            raise UnsupportedError(
                "archcalc's BatchNorm1d is affine with tracked running statistics "
                f"(affine={m.affine}, track_running_stats={m.track_running_stats})"
            )
        return cls(int(m.num_features), folded)

    def to_torch(self, tb: Any) -> Any:
        bn = tb.nn.BatchNorm1d(self.num_features)
        return tb.Folded(bn) if self.folded else bn


@register
@dataclass(frozen=True, slots=True)
class LayerNorm2d(NoMatmul, Layer):
    """Layer normalisation over the channels of each position (ConvNeXt's LayerNorm2d).

    Params 2C (weight, bias); C without a bias (``bias=False``: timm's metaformer
    ``LayerNorm2dNoBias``); 0 without ``affine``. FLOPs per element: mean (1), centre (1),
    square (1), variance sum (1), normalise (2), scale (1, with ``affine``), shift (1, with
    ``bias``).

    ``exact_type``: torch runs ``nn.LayerNorm`` itself on the channels-last map
    (torchvision's ConvNeXt blocks), which ptflops and thop hook; a subclass (timm's and
    torchvision's ``LayerNorm2d``, timm's ``LayerNorm``) they do not.
    """

    num_channels: Any
    affine: bool = True
    bias: bool = True
    exact_type: bool = False

    head_role: ClassVar[str | None] = "keep"

    count_fvcore = counts(
        "5·numel with a weight, 4·numel without (fvcore norm_flop_counter(2) on "
        "aten::layer_norm: 5 when its weight is given; the channels-last permutes are "
        "ignored)",
        lambda s, i, o, b: (5 if s.affine else 4) * b * prod(o),
        short="5N·out; 4N·out without affine",
    )
    count_ptflops_hook = counts(
        _LN_PTFLOPS_DOC, _ln_ptflops_hook, short="N·in for nn.LayerNorm itself, else 0"
    )
    count_ptflops_functional = ptflops_no_patch("F.layer_norm")
    count_thop = counts(_LN_THOP_DOC, _ln_thop, short="4N·in for nn.LayerNorm itself, else 0")
    count_torchinfo = counts(
        "(weight + bias numel)·N (torchinfo calculate_macs)", params_per_sample, short="N·params"
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4), ((4, 9, 11),)

    def __post_init__(self) -> None:
        _check_int(self.kind, "num_channels", self.num_channels, 1)
        _no_bias_without_affine(self)

    def out_shape(self, ins: Shapes) -> Shape:
        c = ins[0][0]
        if _eq_known_false(c, self.num_channels):
            raise ShapeError(
                f"{self.kind}.num_channels = {self.num_channels} but the input has {c} channels"
            )
        return ins[0]

    def params(self, ins: Shapes) -> Num:
        return _affine_params(self, self.num_channels)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return _norm_flops(self, out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        positions = batch * prod(ins[0][1:])
        return ("in0", Extra(2 * positions, "acc", "mean/rstd"))

    torch_modules: ClassVar[tuple[str, ...]] = (
        "torch.nn.LayerNorm",
        "LayerNorm2d",
        "archcalc.torch.timm_layers.ChannelsLastLayerNorm",
    )
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.layer_norm",)
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if m is not None and type(m).__name__ == "ChannelsLastLayerNorm":
            # archcalc's own build of exact_type=True: nn.LayerNorm between two permutes
            n = m.norm
            return cls(n.normalized_shape[0], n.weight is not None, n.bias is not None, True)
        affine, bias = _affine_of(call)
        if m is not None and any(c.__name__ == "LayerNorm2d" for c in type(m).__mro__):
            x = call.inputs[0] if call.inputs else ()
            if type(m).__module__ == "archcalc.torch.build" and len(x) == 1:
                return cls(x[0], affine, bias)  # archcalc's build on a vector (maxvit_t's head)
            # timm's and torchvision's LayerNorm2d, timm's LayerNorm2dNoBias
            c = call.need_map("LayerNorm2d")
            return cls(c[0], affine, bias)
        if m is not None:
            normalized = tuple(m.normalized_shape)
        else:
            ns = call.arg(1, "normalized_shape")
            normalized = tuple(ns) if isinstance(ns, (list, tuple)) else (ns,)
        if len(normalized) != 1:
            raise UnsupportedError(
                f"LayerNorm over {normalized}: archcalc normalises over channels"
            )
        x, layout = call.inputs[0], call.layouts[0]
        if layout == "nhwc" or (layout == "std" and len(x) == 1):
            return cls(normalized[0], affine, bias, _exact_layer_norm(call))
        raise UnsupportedError(
            f"LayerNorm over the last axis of a tensor of per-sample shape {x}: archcalc "
            f"normalises over the channels of a channels-last map or of a vector"
        )

    def to_torch(self, tb: Any) -> Any:
        s = self
        cls = tb.ChannelsLastLayerNorm if s.exact_type else tb.LayerNorm2d
        return cls(s.num_channels, eps=1e-6, elementwise_affine=s.affine, bias=s.bias)


@register
@dataclass(frozen=True, slots=True)
class LayerNorm(NoMatmul, Layer):
    """Layer normalisation over the last axis, as ``torch.nn.LayerNorm(normalized_shape)``
    on a token sequence ``(L, C)`` (a transformer's norms) or a vector ``(C,)``.

    Params 2C (weight, bias); C without a bias (``bias=False``: timm's metaformer
    ``LayerNormNoBias``), 0 without ``affine``. FLOPs per element as LayerNorm2d: mean (1),
    centre (1), square (1), variance sum (1), normalise (2), scale (1) and shift (1) when
    present. Each token is normalised on its own: the receptive field is unchanged. Autograd
    keeps the input and a mean and a rstd per token (float32 for float32 and half inputs).

    >>> LayerNorm(768, eps=1e-6).params(((197, 768),))
    1536
    """

    normalized_shape: Any
    eps: float = 1e-5
    affine: bool = True
    bias: bool = True
    #: torch runs nn.LayerNorm itself (hooked by ptflops and thop), not a subclass (timm's
    #: LayerNorm, LayerNormNoBias: not hooked, their lookups being by exact type)
    exact_type: bool = True

    head_role: ClassVar[str | None] = "keep"

    count_fvcore = counts(
        "5·numel with a weight, 4·numel without (fvcore norm_flop_counter(2) on aten::layer_norm)",
        lambda s, i, o, b: (5 if s.affine else 4) * b * prod(o),
        short="5N·out; 4N·out without affine",
    )
    count_ptflops_hook = counts(
        _LN_PTFLOPS_DOC, _ln_ptflops_hook, short="N·in for nn.LayerNorm itself, else 0"
    )
    count_ptflops_functional = ptflops_no_patch("F.layer_norm")
    count_thop = counts(
        _LN_THOP_DOC, _ln_thop, short="4N·in (2N·in without affine) for nn.LayerNorm, else 0"
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
        _no_bias_without_affine(self)

    def out_shape(self, ins: Shapes) -> Shape:
        c = ins[0][-1]
        if _eq_known_false(c, self.normalized_shape):
            raise ShapeError(
                f"{self.kind}.normalized_shape = {self.normalized_shape} but the last axis of "
                f"the input has {c} (shape {'x'.join(map(str, ins[0]))})"
            )
        return ins[0]

    def params(self, ins: Shapes) -> Num:
        return _affine_params(self, self.normalized_shape)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return _norm_flops(self, out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        positions = batch * prod(ins[0][:-1])
        return ("in0", Extra(2 * positions, "acc", "mean/rstd"))

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.LayerNorm",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.layer_norm",)
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        affine, bias = _affine_of(call)
        if m is not None:
            normalized, eps = tuple(m.normalized_shape), float(m.eps)
        else:
            ns = call.arg(1, "normalized_shape")
            normalized = tuple(ns) if isinstance(ns, (list, tuple)) else (ns,)
            eps = float(call.arg(4, "eps", 1e-5))
        x, layout = call.inputs[0], call.layouts[0]
        if len(normalized) != 1 or layout != "std" or len(x) < 2:
            raise UnsupportedError(
                f"LayerNorm over {normalized} of a tensor of per-sample shape {x} ({layout}): "
                f"archcalc's LayerNorm normalises the last axis of a batch-first tensor "
                f"(N, ..., C)"
            )
        exact = m is None or _exact_layer_norm(call)
        return cls(int(normalized[0]), eps, affine, bias, exact)

    def to_torch(self, tb: Any) -> Any:
        s = self
        cls = tb.nn.LayerNorm if s.exact_type else tb.LayerNormSubclass
        return cls(s.normalized_shape, eps=s.eps, elementwise_affine=s.affine, bias=s.bias)


@register
@dataclass(frozen=True, slots=True)
class GroupNorm(NoMatmul, Layer):
    """Group normalisation, as ``torch.nn.GroupNorm(num_groups, num_channels, eps, affine)``.

    The C channels are split into ``num_groups`` groups; each sample's group is normalised
    by the mean and variance over its channels and *every position*, so each output depends
    on the whole input (a global receptive field, unlike LayerNorm2d or BatchNorm2d in eval).
    Params 2C (weight, bias) when ``affine``, C with ``bias=False`` (timm's
    ``GroupNorm1NoBias``), else 0; no buffers (no running statistics); no MACs. FLOPs per
    element as LayerNorm2d: mean (1), centre (1), square (1), variance sum (1), normalise
    (2), scale (1) and shift (1) when present: 8, 7 without a bias, 6 without affine.

    >>> GroupNorm(32, 256).params(((256, 14, 14),))
    512
    """

    num_groups: Any
    num_channels: Any
    eps: float = 1e-5
    affine: bool = True
    bias: bool = True
    #: torch runs nn.GroupNorm itself (ptflops hooks it), not a subclass (timm's GroupNorm,
    #: GroupNorm1, GroupNorm1NoBias: ptflops looks modules up by exact type)
    exact_type: bool = True

    count_fvcore = counts(
        "5·numel with affine, 4·numel without (fvcore norm_flop_counter(2) on aten::group_norm)",
        lambda s, i, o, b: (5 if s.affine else 4) * b * prod(o),
        short="5N·out; 4N·out without affine",
    )
    count_ptflops_hook = counts(
        "input numel, ×2 when affine, when torch runs nn.GroupNorm itself (ptflops "
        "bn_flops_counter_hook; MODULES_MAPPING is looked up by exact type: 0 for a subclass)",
        lambda s, i, o, b: (2 if s.affine else 1) * b * prod(i[0]) if s.exact_type else 0,
        short="2N·in (N·in without affine) for nn.GroupNorm itself, else 0",
    )
    count_ptflops_functional = ptflops_no_patch("F.group_norm")
    count_thop = thop_no_hook("nn.GroupNorm")
    count_torchinfo = counts(
        "(weight + bias numel)·N (torchinfo calculate_macs); 0 without affine",
        params_per_sample,
        short="N·params",
    )
    ptflops_hooked: ClassVar[bool] = True

    #: timm's GroupNorm and GroupNorm1 (its metaformer GroupNorm1NoBias) run F.group_norm in
    #: a forward of their own: one leaf each, as torchinfo counts them
    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.GroupNorm", "GroupNorm", "GroupNorm1")
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
        _no_bias_without_affine(self)

    def out_shape(self, ins: Shapes) -> Shape:
        c = ins[0][0]
        if _eq_known_false(c, self.num_channels):
            raise ShapeError(
                f"{self.kind}.num_channels = {self.num_channels} but the input has {c} channels"
            )
        return ins[0]

    def params(self, ins: Shapes) -> Num:
        return _affine_params(self, self.num_channels)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return _norm_flops(self, out)

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
        affine, bias = _affine_of(call)
        if m is not None:
            g, c, eps = int(m.num_groups), int(m.num_channels), float(m.eps)
            exact = f"{type(m).__module__}.{type(m).__qualname__}" == _TORCH_GROUP_NORM
            return cls(g, c, eps, affine, bias, exact)
        groups = call.arg(1, "num_groups")
        eps = float(call.arg(4, "eps", 1e-5))
        return cls(int(groups), call.inputs[0][0], eps, affine, bias)

    def to_torch(self, tb: Any) -> Any:
        s = self
        cls = tb.nn.GroupNorm if s.exact_type else tb.GroupNormSubclass
        return cls(s.num_groups, s.num_channels, eps=s.eps, affine=s.affine, bias=s.bias)


class _RmsRules(NoMatmul):
    """The foreign rules RMSNorm and RMSNorm2d share (measured on nn.RMSNorm, timm's RmsNorm
    and RmsNorm2d)."""

    __slots__ = ()

    count_fvcore = counts_zero(
        "fvcore has no handle for aten::rms_norm nor for the pow, mean, add, rsqrt and mul it "
        "runs as (measured 0)"
    )
    count_ptflops_hook = ptflops_no_hook("nn.RMSNorm and timm's RmsNorm/RmsNorm2d")
    count_ptflops_functional = ptflops_no_patch("F.rms_norm (and the aten ops it runs)")
    count_thop = thop_no_hook("nn.RMSNorm and timm's RmsNorm/RmsNorm2d")
    count_torchinfo = counts(
        "weight numel·N (torchinfo calculate_macs); 0 without affine",
        params_per_sample,
        short="N·params",
    )
    probe_identity: ClassVar[bool] = True


def _check_eps(layer: Any) -> None:
    e = layer.eps
    if e is not None and (isinstance(e, bool) or not isinstance(e, (int, float)) or e < 0):
        raise invalid(layer.kind, "eps", e, "must be None (torch's default) or a number >= 0")


def _rms_flops(layer: Any, out: Shape) -> Num:
    # per element: square (1), sum for the mean (1), multiply by the rstd (1), scale by the
    # weight (1, with affine); the per-position add of eps and rsqrt are not counted (as
    # LayerNorm's per-position terms are not)
    return (3 + (1 if layer.affine else 0)) * prod(out)


@register
@dataclass(frozen=True, slots=True)
class RMSNorm(_RmsRules, Layer):
    """Root-mean-square normalisation over the last axis, as ``torch.nn.RMSNorm``,
    ``F.rms_norm`` and timm's ``RmsNorm``: ``x / sqrt(mean(x²) + eps)``, times a learned
    weight with ``affine``; no centring, no bias.

    Params C with ``affine``, else 0. FLOPs per element: square, sum, multiply by the rstd
    (3), scale (1, with affine). Autograd keeps the input, the rstd per position and, with
    ``affine``, the normalised input (for the weight's gradient), in the accumulate dtype
    (in half precision torch keeps a float32 copy of the input instead of the input itself:
    not modelled).

    >>> RMSNorm(1024).params(((257, 1024),))
    1024
    """

    normalized_shape: Any
    eps: Any = None
    affine: bool = True

    head_role: ClassVar[str | None] = "keep"

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(6, 1e-6), ((5, 6),)

    def __post_init__(self) -> None:
        _check_int(self.kind, "normalized_shape", self.normalized_shape, 1)
        _check_eps(self)

    def out_shape(self, ins: Shapes) -> Shape:
        c = ins[0][-1]
        if _eq_known_false(c, self.normalized_shape):
            raise ShapeError(
                f"{self.kind}.normalized_shape = {self.normalized_shape} but the last axis of "
                f"the input has {c} (shape {'x'.join(map(str, ins[0]))})"
            )
        return ins[0]

    def params(self, ins: Shapes) -> Num:
        return self.normalized_shape if self.affine else 0

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return _rms_flops(self, out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        positions = batch * prod(ins[0][:-1])
        kept: tuple[str | Extra, ...] = ("in0", Extra(positions, "acc", "rstd"))
        if self.affine:
            kept += (Extra(batch * prod(ins[0]), "acc", "normalised input"),)
        return kept

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.RMSNorm", "RmsNorm")
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.rms_norm",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if m is not None:
            normalized, eps = tuple(m.normalized_shape), m.eps
            affine = getattr(m, "weight", None) is not None
        else:
            ns = call.arg(1, "normalized_shape")
            normalized = tuple(ns) if isinstance(ns, (list, tuple)) else (ns,)
            w, eps = call.arg(2, "weight"), call.arg(3, "eps")
            if w is not None and getattr(w, "param", None) is None:
                raise UnsupportedError("F.rms_norm with a weight that is not a parameter")
            affine = w is not None
        x, layout = call.inputs[0], call.layouts[0]
        if len(normalized) != 1 or layout != "std" or not x:
            raise UnsupportedError(
                f"RMSNorm over {normalized} of a tensor of per-sample shape {x} ({layout}): "
                f"archcalc's RMSNorm normalises the last axis of a batch-first tensor"
            )
        return cls(int(normalized[0]), None if eps is None else float(eps), affine)

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.RMSNorm(self.normalized_shape, eps=self.eps, elementwise_affine=self.affine)


@register
@dataclass(frozen=True, slots=True)
class RMSNorm2d(_RmsRules, Layer):
    """Root-mean-square normalisation over the channels of each position of a ``(C, H, W)``
    map, as timm's ``RmsNorm2d`` (MobileNetV5): the rules of :class:`RMSNorm` over the
    channel axis. timm computes it in the activation dtype (no upcast): the rstd and the
    normalised input are kept in it.

    >>> RMSNorm2d(64).params(((64, 56, 56),))
    64
    """

    num_channels: Any
    eps: Any = 1e-6
    affine: bool = True

    head_role: ClassVar[str | None] = "keep"

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(4), ((4, 9, 11),)

    def __post_init__(self) -> None:
        _check_int(self.kind, "num_channels", self.num_channels, 1)
        _check_eps(self)

    def out_shape(self, ins: Shapes) -> Shape:
        c = _spatial(self.kind, ins)[0]
        if _eq_known_false(c, self.num_channels):
            raise ShapeError(
                f"{self.kind}.num_channels = {self.num_channels} but the input has {c} channels"
            )
        return ins[0]

    def params(self, ins: Shapes) -> Num:
        return self.num_channels if self.affine else 0

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return _rms_flops(self, out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        positions = batch * prod(ins[0][1:])
        kept: tuple[str | Extra, ...] = ("in0", Extra(positions, None, "rstd"))
        if self.affine:
            kept += (Extra(batch * prod(ins[0]), None, "normalised input"),)
        return kept

    torch_modules: ClassVar[tuple[str, ...]] = ("RmsNorm2d",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        c = call.need_map("RMSNorm2d")
        return cls(c[0], float(m.eps), getattr(m, "weight", None) is not None)

    def to_torch(self, tb: Any) -> Any:
        return tb.rms_norm2d(self)
