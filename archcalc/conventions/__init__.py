"""FLOP counts under the conventions of the popular counters, layer by layer.

:func:`count` gives, for every live node, what one counting tool reports for that layer over
the whole batch, such that the sum over the layers is the tool's printed total exactly. The
tools are run (in ``tests/test_conventions.py``) on :func:`archcalc.torch.to_torch` of the
model, in eval mode; every rule below names the tool's own function it mirrors.

=============  ===========================================================================
archcalc       archcalc's FLOPs (docs/conventions.md): 2·MAC of conv/linear + elementwise
fvcore         ``fvcore.nn.FlopCountAnalysis(model, x).total()`` (0.1.5), eval mode
flopcounter    ``torch.utils.flop_counter.FlopCounterMode().get_total_flops()``
torchvision    torchvision's published "GFLOPS": conv + matmul MACs, no bias
ptflops        ``ptflops.get_model_complexity_info`` (0.7.5, default pytorch backend)
thop           ``thop.profile(model, (x,))[0]`` (0.1.1)
torchinfo      ``torchinfo.summary(model, input_data=x).total_mult_adds`` (1.8.0)
=============  ===========================================================================

What each tool sees is the module :mod:`archcalc.torch` builds for a kind (``nn.Conv2d``,
``nn.BatchNorm2d``, ``nn.ReLU``, ``nn.MaxPool2d``, ``nn.AdaptiveAvgPool2d``, ``nn.Upsample``,
...; ``Add``/``Mul``/``LayerScale`` with the ``+``/``*`` operators; ``GlobalAvgPool`` a
custom module calling ``F.adaptive_avg_pool2d``; ``LayerNorm2d`` a subclass of
``nn.LayerNorm`` calling ``F.layer_norm`` on the channels-last view, as torchvision's). One
exception: a ``Linear`` is counted as the stock ``nn.Linear`` that torchvision uses (on a
channels-last map for a map input, as in ConvNeXt), although :mod:`archcalc.torch` builds a
subclass that ptflops and thop, which look modules up by exact type, would skip.

A kind that a tool does not count is 0 under that convention only where the tool really
gives 0 (each such rule says why); a kind with no rule raises
:class:`~archcalc.UnsupportedError`.

>>> from archcalc import zoo
>>> from archcalc.engine.shapes import infer_shapes
>>> m = zoo.get("resnet50")
>>> shapes = infer_shapes(m)
>>> sum(count(m, shapes, 1, "fvcore").values())
4111512576
>>> sum(count(m, shapes, 1, "ptflops").values())
4132436968
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from .._errors import OptionError, UnsupportedError
from .._math import is_symbolic, prod
from ..engine.graph import Model, Node, each_node
from ..kinds import Layer

__all__ = ["CONVENTIONS", "count", "total", "rule_kinds"]

#: convention name -> one-line description
CONVENTIONS: dict[str, str] = {
    "archcalc": "archcalc's FLOPs: 2·MACs of conv/linear plus the stated per-element "
    "operations of every other layer (docs/conventions.md)",
    "fvcore": "fvcore FlopCountAnalysis (eval mode, default handles): one multiply-add = one "
    "flop; conv/linear MACs, batch norm 2·numel, layer norm 5·numel, adaptive average pool "
    "input numel, upsampling; everything else 0",
    "flopcounter": "torch.utils.flop_counter.FlopCounterMode: 2·MACs of convolutions and "
    "matrix products only, bias ignored; everything else 0",
    "torchvision": "torchvision's published GFLOPS: MACs of convolutions and matrix products, "
    "no bias; everything else 0",
    "ptflops": "ptflops get_model_complexity_info (pytorch backend): MACs + bias, norms, "
    "activations and pools counted by module hooks (divided by the batch) and again by "
    "patched functionals (not divided)",
    "thop": "thop.profile: conv/linear MACs without bias, BatchNorm 4·numel, average pools, "
    "upsampling; ReLUs and max pools 0",
    "torchinfo": "torchinfo summary total_mult_adds: (weight + bias numel) × batch × output "
    "positions for convolutions, × batch only for every other layer with parameters",
}

Shape = tuple[Any, ...]
Shapes = tuple[Shape, ...]
#: (layer, input shapes, output shape, batch) -> the count over the batch
Rule = Callable[[Any, Shapes, Shape, Any], Any]


def _n(s: Shape) -> Any:
    return prod(s)


def _zero(layer: Any, ins: Shapes, out: Shape, b: Any) -> int:
    return 0


#: layer kinds without parameters (torchinfo and FlopCounterMode count them 0)
_PARAMETERLESS = (
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
    "Upsample",
    "CoordAugment",
    "Add",
    "Concat",
    "Mul",
)


def _zeros(*kinds: str) -> dict[str, Rule]:
    """``{kind: _zero}``: the kinds a tool really counts as 0 (each listed, never a default)."""
    return {k: _zero for k in kinds}


def _macs(layer: Any, ins: Shapes, out: Shape, b: Any) -> Any:
    return b * layer.macs(ins, out)


def _bias_out(layer: Any, out: Shape) -> Any:
    """One add per output element when the layer has a bias."""
    return _n(out) if layer.bias else 0


# ---------------------------------------------------------------- fvcore
# fvcore/nn/flop_count.py _DEFAULT_SUPPORTED_OPS and fvcore/nn/jit_handles.py. The model is
# traced (torch.jit); every aten op is either handled, in jit_analysis._IGNORED_OPS (0,
# silently) or unhandled (0, with a warning: "unsupported operator").

_FVCORE: dict[str, Rule] = {
    # conv_flop_jit -> conv_flop_count: N·prod(weight shape)·prod(output spatial), bias
    # ignored. padding="same"/"valid" traces as aten::_convolution_mode, which has no handle:
    # 0 (warned "unsupported operator")
    "Conv2d": lambda s, i, o, b: 0 if isinstance(s.padding, str) else b * s.macs(i, o),
    # conv_flop_count(transposed=True): N·prod(weight shape)·prod(*input* spatial)
    "ConvTranspose2d": _macs,
    # linear_flop_jit: prod(input shape)·out_features (a map on the 1×1-conv path of
    # archcalc.torch's Linear goes through conv_flop_jit: the same number)
    "Linear": _macs,
    # batchnorm_flop_jit, eval (training=False), affine: numel·2
    "BatchNorm2d": lambda s, i, o, b: 2 * b * _n(o),
    # norm_flop_counter(2) on aten::layer_norm with a weight: numel·5 (permutes are ignored)
    "LayerNorm2d": lambda s, i, o, b: 5 * b * _n(o),
    # elementwise_flop_counter(1, 0) on aten::adaptive_avg_pool2d: input numel
    "AdaptiveAvgPool2d": lambda s, i, o, b: b * _n(i[0]),
    "GlobalAvgPool": lambda s, i, o, b: b * _n(i[0]),
    # aten::upsample_nearest2d: elementwise_flop_counter(0, 1) = output numel;
    # aten::upsample_bilinear2d: elementwise_flop_counter(0, 4) = 4·output numel
    "Upsample": lambda s, i, o, b: b * _n(o) * (4 if s.mode == "bilinear" else 1),
    # in _IGNORED_OPS (0): aten::relu, aten::dropout (eval), aten::flatten, aten::cat,
    # aten::expand/view (CoordAugment); no op at all: Identity, StochasticDepth in eval
    "ReLU": _zero,
    "Dropout": _zero,
    "Flatten": _zero,
    "Concat": _zero,
    "Identity": _zero,
    "StochasticDepth": _zero,
    "CoordAugment": _zero,  # aten::linspace unhandled, expand/view/cat ignored
    # unhandled (0, warned): aten::hardtanh, leaky_relu, silu, gelu, sigmoid, hardswish,
    # hardsigmoid, tanh, max_pool2d, avg_pool2d, add, mul
    "ReLU6": _zero,
    "LeakyReLU": _zero,
    "SiLU": _zero,
    "GELU": _zero,
    "Sigmoid": _zero,
    "Hardswish": _zero,
    "Hardsigmoid": _zero,
    "Tanh": _zero,
    "MaxPool2d": _zero,
    "AvgPool2d": _zero,
    "Add": _zero,
    "Mul": _zero,
    "LayerScale": _zero,
}

# ---------------------------------------------------------------- FlopCounterMode
# torch/utils/flop_counter.py: only mm/addmm/bmm/baddbmm/convolution/attention have a
# registered formula (register_flop_formula); every other op counts 0, silently.

_FLOPCOUNTER: dict[str, Rule] = {
    # conv_flop_count: 2·N·c_out·c_in·prod(kernel)·prod(conv_shape), conv_shape the output
    # (the input when transposed; weight (C_in, C_out/g, k, k)) -> 2·MACs; bias ignored
    "Conv2d": lambda s, i, o, b: 2 * b * s.macs(i, o),
    "ConvTranspose2d": lambda s, i, o, b: 2 * b * s.macs(i, o),
    # mm_flop / addmm_flop: 2·m·n·k (a map's linear is one mm over N·H·W rows)
    "Linear": lambda s, i, o, b: 2 * b * s.macs(i, o),
    **_zeros("BatchNorm2d", "LayerNorm2d", "LayerScale", *_PARAMETERLESS),
}

# ---------------------------------------------------------------- torchvision
# torchvision's weights metadata "_ops" (GFLOPS column): MACs of conv and matmul, no bias.

_TORCHVISION: dict[str, Rule] = {
    "Conv2d": _macs,
    "ConvTranspose2d": _macs,
    "Linear": _macs,
    **{k: _zero for k in _FLOPCOUNTER if k not in ("Conv2d", "ConvTranspose2d", "Linear")},
}

# ---------------------------------------------------------------- ptflops
# ptflops/pytorch_engine.py get_flops_pytorch and ptflops/pytorch_ops.py. Two counters:
# * module hooks (MODULES_MAPPING, looked up by *exact* type) add to module.__flops__, and
#   compute_average_flops_cost divides their sum by __batch_counter__ (the batch of the
#   model input);
# * patched functionals (patch_functional: F.relu, F.gelu, F.silu, F.max_pool2d,
#   F.avg_pool2d, F.adaptive_avg_pool2d, F.interpolate, ...; patch_tensor_ops: torch.add,
#   Tensor.add, torch.mul, Tensor.mul, matmul ...) add to a list that is summed *without*
#   dividing by the batch. nn.ReLU.forward calls F.relu, so a ReLU is counted twice.
# Operators (x + y, x * y) are neither, so Add, Mul and LayerScale count 0.
# Each rule gives (module hook, functional), both over the whole batch as the tool computes
# them; the layer's count is hook / batch + functional, and the printed total is int() of
# the float sum over the layers.

_PT = tuple[Any, Any]
_PtRule = Callable[[Any, Shapes, Shape, Any], _PT]


def _pt_conv(layer: Any, ins: Shapes, out: Shape, b: Any) -> _PT:
    # conv_flops_counter_hook: prod(k)·C_in·(C_out/g) per position (output positions; input
    # positions when transposed) = MACs, plus N·C_out·H_out·W_out when there is a bias
    return (b * (layer.macs(ins, out) + _bias_out(layer, out)), 0)


def _pt_linear(layer: Any, ins: Shapes, out: Shape, b: Any) -> _PT:
    # linear_flops_counter_hook: (in·out + out if bias)·prod(input.shape[:-1]): the bias is
    # one add per output element (the functional hook, which adds it once per output
    # feature, is not used: F.linear's patch is commented out in 0.7.5)
    return (b * (layer.macs(ins, out) + _bias_out(layer, out)), 0)


def _pt_hook(scale: int, of: str) -> _PtRule:
    """scale·numel of the input or output, by the module hook only."""
    return lambda s, i, o, b: (b * scale * _n(i[0] if of == "in" else o), 0)


def _pt_twice(of: str) -> _PtRule:
    """numel by the module hook and again by the patched functional the module calls."""
    return lambda s, i, o, b: (b * _n(i[0] if of == "in" else o),) * 2


def _pt_functional(layer: Any, ins: Shapes, out: Shape, b: Any) -> _PT:
    """Input numel by a patched functional only (no module hook)."""
    return (0, b * _n(ins[0]))


def _pt_upsample(layer: Any, ins: Shapes, out: Shape, b: Any) -> _PT:
    # upsample_flops_counter_hook reads output[0], the *first sample*: "batch_size" is its
    # channel count and it adds one sample's output numel, whatever the batch (then divided
    # by the batch like every hook). The patched F.interpolate
    # (_interpolate_functional_flops_hook) adds input numel·prod(scale_factor) = output numel
    return (_n(out), b * _n(out))


def _pt_zero(layer: Any, ins: Shapes, out: Shape, b: Any) -> _PT:
    return (0, 0)


_PTFLOPS: dict[str, _PtRule] = {
    "Conv2d": _pt_conv,
    "ConvTranspose2d": _pt_conv,  # transpose=True: input positions; bias on the output
    "Linear": _pt_linear,
    # bn_flops_counter_hook: input numel, ×2 when affine (F.batch_norm is not patched)
    "BatchNorm2d": _pt_hook(2, "in"),
    # relu_flops_counter_hook = output numel; nn.ReLU and nn.GELU call the patched F.relu /
    # F.gelu (_numel_functional_flops_hook) as well
    "ReLU": _pt_twice("out"),
    "GELU": _pt_twice("out"),
    # nn.ReLU6 and nn.LeakyReLU call F.hardtanh / F.leaky_relu, which are not patched
    "ReLU6": _pt_hook(1, "out"),
    "LeakyReLU": _pt_hook(1, "out"),
    # nn.SiLU has no module hook; the patched F.silu counts input numel (not divided)
    "SiLU": _pt_functional,
    # pool_flops_counter_hook = input numel, and the patched F.max_pool2d / F.avg_pool2d /
    # F.adaptive_avg_pool2d again input numel
    "MaxPool2d": _pt_twice("in"),
    "AvgPool2d": _pt_twice("in"),
    "AdaptiveAvgPool2d": _pt_twice("in"),
    # archcalc.torch's GlobalAvgPool is not a hooked type; its F.adaptive_avg_pool2d is
    "GlobalAvgPool": _pt_functional,
    "Upsample": _pt_upsample,
    # no hook and no patched function: nn.LayerNorm subclass (type lookup is exact) calling
    # F.layer_norm; nn.Sigmoid/Tanh (torch.sigmoid/tanh), nn.Hardswish/Hardsigmoid,
    # nn.Identity, nn.Flatten, nn.Dropout (F.dropout), StochasticDepth (identity in eval),
    # CoordAugment (linspace/expand/cat), Concat (torch.cat), Add/Mul/LayerScale (operators)
    **{
        k: _pt_zero
        for k in [
            "LayerNorm2d",
            "Sigmoid",
            "Tanh",
            "Hardswish",
            "Hardsigmoid",
            "Identity",
            "Flatten",
            "Dropout",
            "StochasticDepth",
            "CoordAugment",
            "Concat",
            "Add",
            "Mul",
            "LayerScale",
        ]
    },
}

#: kinds whose module ptflops hooks (MODULES_MAPPING): a hooked module's __flops__ is taken
#: as is by accumulate_flops, which then skips the module's children
_PTFLOPS_HOOKED = {
    "Conv2d",
    "ConvTranspose2d",
    "Linear",
    "BatchNorm2d",
    "ReLU",
    "GELU",
    "ReLU6",
    "LeakyReLU",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Upsample",
}

# ---------------------------------------------------------------- thop
# thop/profile.py register_hooks (exact type) and thop/vision/basic_hooks.py + calc_func.py.
# Everything over the whole batch (no division); counts are float64, summed in dfs_count.


def _thop_conv(layer: Any, ins: Shapes, out: Shape, b: Any) -> Any:
    # count_convNd -> calculate_conv2d_flops: prod(output shape)·(in_c // groups)·prod(k),
    # no bias; for a transposed conv too (so its output positions, not its input's)
    kh, kw = layer.kernel_size
    return b * _n(out) * (ins[0][0] // layer.groups) * kh * kw


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
    return int(((h / oh) * (w / ow) + 1.0) * (b * _n(out)))


_THOP: dict[str, Rule] = {
    "Conv2d": _thop_conv,
    "ConvTranspose2d": _thop_conv,
    # count_linear -> calculate_linear: in_features·y.numel(), no bias
    "Linear": lambda s, i, o, b: b * s.in_features * _n(o),
    # count_normalization: calculate_norm = 2·numel, doubled when affine
    "BatchNorm2d": lambda s, i, o, b: 4 * b * _n(i[0]),
    # count_avgpool -> calculate_avgpool: y.numel()
    "AvgPool2d": lambda s, i, o, b: b * _n(o),
    "AdaptiveAvgPool2d": _thop_adaptive,
    # count_upsample -> calculate_upsample: y.nelement(), ×11 for bilinear
    "Upsample": lambda s, i, o, b: b * _n(o) * (11 if s.mode == "bilinear" else 1),
    # zero_ops: nn.ReLU, nn.ReLU6, nn.MaxPool2d, nn.Dropout; count_relu ->
    # calculate_relu_flops returns 0: nn.LeakyReLU
    "ReLU": _zero,
    "ReLU6": _zero,
    "MaxPool2d": _zero,
    "Dropout": _zero,
    "LeakyReLU": _zero,
    # no rule (type not in register_hooks; thop reports it only with report_missing): the
    # nn.LayerNorm subclass, SiLU, GELU, Sigmoid, Hardswish, Hardsigmoid, Tanh, Identity,
    # Flatten and archcalc.torch's custom modules
    **{
        k: _zero
        for k in [
            "LayerNorm2d",
            "SiLU",
            "GELU",
            "Sigmoid",
            "Hardswish",
            "Hardsigmoid",
            "Tanh",
            "Identity",
            "Flatten",
            "StochasticDepth",
            "LayerScale",
            "GlobalAvgPool",
            "CoordAugment",
            "Add",
            "Concat",
            "Mul",
        ]
    },
}

#: kinds thop hooks (dfs_count takes a hooked module's total_ops and skips its children)
_THOP_HOOKED = {
    "Conv2d",
    "ConvTranspose2d",
    "Linear",
    "BatchNorm2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Upsample",
    "ReLU",
    "ReLU6",
    "MaxPool2d",
    "Dropout",
    "LeakyReLU",
}

# ---------------------------------------------------------------- torchinfo
# torchinfo/layer_info.py LayerInfo.calculate_macs, summed over leaf layers by
# ModelStatistics: for each parameter named "weight" or "bias", numel × prod(output_size[:1]
# + output_size[2:]) when "Conv" is in the class name, else × output_size[0] (the batch
# only, even for a Linear on a map). Layers without parameters count 0.


def _ti_conv(layer: Any, ins: Shapes, out: Shape, b: Any) -> Any:
    return b * layer.params(ins) * prod(out[1:])


_TORCHINFO: dict[str, Rule] = {
    "Conv2d": _ti_conv,
    "ConvTranspose2d": _ti_conv,
    "Linear": lambda s, i, o, b: b * s.params(i),
    "BatchNorm2d": lambda s, i, o, b: b * s.params(i),
    "LayerNorm2d": lambda s, i, o, b: b * s.params(i),
    "LayerScale": lambda s, i, o, b: b * s.params(i),  # its parameter is named "weight"
    # no parameters
    **_zeros(*_PARAMETERLESS),
}

_TABLES: dict[str, dict[str, Rule]] = {
    "fvcore": _FVCORE,
    "flopcounter": _FLOPCOUNTER,
    "torchvision": _TORCHVISION,
    "thop": _THOP,
    "torchinfo": _TORCHINFO,
}


def rule_kinds(convention: str) -> set[str]:
    """The layer kinds that ``convention`` has a rule for."""
    _check(convention)
    if convention == "archcalc":
        from ..kinds import LAYER_KINDS

        return set(LAYER_KINDS)
    if convention == "ptflops":
        return set(_PTFLOPS)
    return set(_TABLES[convention])


def _check(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise OptionError(
            f"--convention = {convention!r}: unknown; valid: {', '.join(CONVENTIONS)}"
        )


def _unsupported(layer: Layer, convention: str) -> UnsupportedError:
    return UnsupportedError(f"{layer.kind}: no rule for how {convention} counts this layer kind")


def _nesting(model: Model) -> dict[str, list[str]]:
    """For each live node, the live nodes whose modules hold it as a descendant
    (:mod:`archcalc.torch` nests ``a.b`` under ``a``; names with an empty segment are
    registered flat)."""
    names = [n.name for n in model.live_nodes() if "" not in n.name.split(".")]
    out: dict[str, list[str]] = {n.name: [] for n in model.live_nodes()}
    nameset = set(names)
    for name in names:
        parts = name.split(".")
        out[name] = [".".join(parts[:k]) for k in range(1, len(parts))]
        out[name] = [a for a in out[name] if a in nameset]
    return out


def count(
    model: Model, shapes: dict[str, Shape], batch: Any = 1, convention: str = "archcalc"
) -> dict[str, Any]:
    """``{layer name: count}`` for every live node: what ``convention``'s tool counts for
    the layer over the whole batch; the values sum to the tool's total exactly.

    ``shapes`` are the per-sample shapes of :func:`archcalc.engine.shapes.infer_shapes`.

    >>> from archcalc import Conv2d, ReLU, sequential
    >>> from archcalc.engine.shapes import infer_shapes
    >>> m = sequential("c", [Conv2d(3, 8, 3, padding=1), ReLU()], input_shape=(3, 4, 4))
    >>> count(m, infer_shapes(m), 2, "ptflops")   # ReLU: hook 128/sample + F.relu 2·128
    {'0': 3584, '1': 384}
    """
    _check(convention)
    known = rule_kinds(convention)
    nesting = _nesting(model)
    by_name = {n.name: n for n in model.live_nodes()}
    parents = {a for ancestors in nesting.values() for a in ancestors}

    def shadowed(name: str, hooked: set[str]) -> bool:
        # a hooked ancestor module takes its own count and skips its children's
        return any(by_name[a].layer.kind in hooked for a in nesting[name])

    def one(i: int, node: Node) -> tuple[str, Any]:
        layer = node.layer
        if convention != "archcalc" and layer.kind not in known:
            raise _unsupported(layer, convention)
        ins = tuple(shapes[s] for s in node.inputs)
        out = shapes[node.name]
        if convention == "archcalc":
            return node.name, batch * layer.flops(ins, out)
        if convention == "ptflops":
            hook, functional = _PTFLOPS[layer.kind](layer, ins, out, batch)
            if shadowed(node.name, _PTFLOPS_HOOKED):
                hook = 0
            return node.name, _exact_div(hook, batch) + functional
        if convention == "thop" and shadowed(node.name, _THOP_HOOKED):
            return node.name, 0
        if convention == "torchinfo" and node.name in parents:
            return node.name, 0  # not a leaf layer: torchinfo sums leaves only
        return node.name, _TABLES[convention][layer.kind](layer, ins, out, batch)

    counts = dict(each_node(model, one))
    if convention == "ptflops":
        counts = _apportion(counts)
    return counts


def _exact_div(a: Any, b: Any) -> Any:
    if is_symbolic(a) or is_symbolic(b):
        return a / b
    q = Fraction(a, b)
    return int(q) if q.denominator == 1 else q


def _apportion(counts: dict[str, Any]) -> dict[str, Any]:
    """ptflops prints int() of a float sum, and its Upsample hook can make a layer's share
    fractional (one sample's output divided by the batch). Round the fractional shares by
    largest remainder so that the integers sum to the printed total."""
    fractional = [k for k, v in counts.items() if isinstance(v, Fraction)]
    if not fractional:
        return counts
    exact = sum(counts.values(), Fraction(0))
    out = {k: (math.floor(v) if k in fractional else v) for k, v in counts.items()}
    short = math.floor(exact) - sum(out.values())
    for k in sorted(fractional, key=lambda k: (-(counts[k] - math.floor(counts[k])), k))[:short]:
        out[k] += 1
    return out


def total(
    model: Model, shapes: dict[str, Shape], batch: Any = 1, convention: str = "archcalc"
) -> Any:
    """The tool's printed total: the sum of :func:`count` over the layers."""
    s: Any = 0
    for v in count(model, shapes, batch, convention).values():
        s = s + v
    return s
