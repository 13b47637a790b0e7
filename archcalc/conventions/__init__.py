"""FLOP counts under the conventions of the popular counters, layer by layer.

:func:`count` gives, for every live node, what one counting tool reports for that layer over
the whole batch, such that the sum over the layers is the tool's printed total exactly. The
tools are run (in ``tests/test_conventions.py``) on :func:`archcalc.torch.to_torch` of the
model, in eval mode.

The per-kind rules live in the kinds (``count_fvcore``, ``count_ptflops_hook``, ... of every
class in :mod:`archcalc.kinds`, each naming the tool function it mirrors; see
:mod:`archcalc.kinds._rules`). This module holds only what the tools do across layers:

* ptflops (``ptflops/pytorch_engine.py``) has two counters: module hooks add to
  ``module.__flops__`` and ``compute_average_flops_cost`` divides their sum by the batch;
  patched functionals add to a list summed *without* that division. It prints ``int()`` of
  the float sum (:func:`_apportion` keeps the per-layer integers summing to it).
* ptflops' ``accumulate_flops`` and thop's ``dfs_count`` take a hooked module's own count
  and skip its children (``ptflops_hooked`` / ``thop_hooked`` of the parent's kind).
* torchinfo sums leaf layers only: a node whose module holds other nodes counts 0.
* How torch calls a layer (:attr:`~archcalc.engine.graph.Node.via`): a hook sees modules
  only, so a layer called as a function (``F.relu(x)``, ``F.adaptive_avg_pool2d``,
  ``torch.cat``) or a tensor method (``x.mean()``, ``a + b``) counts only its patched
  functional part under ptflops (``count_ptflops_functional``, not divided by the batch),
  0 under thop and torchinfo, and is never a hooked parent or a non-leaf. fvcore,
  FlopCounterMode and torchvision's figure count aten operators: the call makes no
  difference to them.

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
from fractions import Fraction
from typing import Any

from .._errors import OptionError, UnsupportedError
from .._math import is_symbolic
from ..engine.graph import Model, Node, each_node
from ..kinds import LAYER_KINDS, Layer
from ..kinds._rules import FOREIGN_RULES, missing_rules

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

#: convention -> the parts of a kind's rule it adds (kinds/_rules.py FOREIGN_RULES)
_PARTS: dict[str, tuple[str, ...]] = {
    "fvcore": ("fvcore",),
    "flopcounter": ("flopcounter",),
    "torchvision": ("torchvision",),
    "ptflops": ("ptflops_hook", "ptflops_functional"),
    "thop": ("thop",),
    "torchinfo": ("torchinfo",),
}


def _has_rule(cls: type[Layer], convention: str) -> bool:
    missing = set(missing_rules(cls))
    return not any(FOREIGN_RULES[p] in missing for p in _PARTS[convention])


def _rule(layer: Layer, part: str) -> Any:
    return getattr(layer, FOREIGN_RULES[part])


def rule_kinds(convention: str) -> set[str]:
    """The layer kinds that ``convention`` has a rule for."""
    _check(convention)
    if convention == "archcalc":
        return set(LAYER_KINDS)
    return {k for k, cls in LAYER_KINDS.items() if _has_rule(cls, convention)}


def _check(convention: str) -> None:
    if not isinstance(convention, str) or convention not in CONVENTIONS:
        raise OptionError(
            argument="convention",
            value=convention,
            reason="unknown convention",
            valid=list(CONVENTIONS),
        )


def _unsupported(layer: Layer, convention: str) -> UnsupportedError:
    return UnsupportedError(f"{layer.kind}: no rule for how {convention} counts this layer kind")


def _nesting(model: Model) -> dict[str, list[str]]:
    """For each live node, the live nodes whose modules hold it as a descendant
    (:mod:`archcalc.torch` nests ``a.b`` under ``a``; names with an empty segment are
    registered flat; a function or method call is no module and holds nothing)."""
    names = [
        n.name for n in model.live_nodes() if n.via == "module" and "" not in n.name.split(".")
    ]
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
    nesting = _nesting(model)
    by_name = {n.name: n for n in model.live_nodes()}
    parents = {a for ancestors in nesting.values() for a in ancestors}

    def shadowed(name: str, hooked: str) -> bool:
        # a hooked ancestor module takes its own count and skips its children's
        return any(getattr(by_name[a].layer, hooked) for a in nesting[name])

    def one(i: int, node: Node) -> tuple[str, Any]:
        layer = node.layer
        if convention != "archcalc" and not _has_rule(type(layer), convention):
            raise _unsupported(layer, convention)
        ins = tuple(shapes[s] for s in node.inputs)
        out = shapes[node.name]
        if convention == "archcalc":
            return node.name, batch * layer.flops(ins, out)
        module = node.via == "module"  # else a function or method call: no hook sees it
        if convention == "ptflops":
            functional = _rule(layer, "ptflops_functional")(ins, out, batch)
            if not module or shadowed(node.name, "ptflops_hooked"):
                return node.name, functional
            hook = _rule(layer, "ptflops_hook")(ins, out, batch)
            return node.name, _exact_div(hook, batch) + functional
        if convention in ("thop", "torchinfo") and not module:
            return node.name, 0  # thop and torchinfo count modules only
        if convention == "thop" and shadowed(node.name, "thop_hooked"):
            return node.name, 0
        if convention == "torchinfo" and node.name in parents:
            return node.name, 0  # not a leaf layer: torchinfo sums leaves only
        return node.name, _rule(layer, convention)(ins, out, batch)

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
