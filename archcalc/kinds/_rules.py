"""What a kind says about itself beyond its own quantities: how each foreign counting tool
counts it, the traits the engine reads, and an example instance.

Every layer kind inherits :class:`KindRules` (through :class:`~archcalc.kinds.Layer`). A
foreign convention's rule is a method ``count_<tool>(ins, out, b)`` giving the tool's count for
the layer over a batch of ``b`` (``ins``/``out`` are per-sample shapes); the base raises
:class:`~archcalc.UnsupportedError`, so a kind without a rule is never silently 0. A kind that a
tool really counts as 0 says so with :func:`counts_zero` and the reason. Every rule's docstring
cites the tool function it mirrors; the docs table of conventions is generated from them
(:func:`convention_table`).

=========================  ==================================================================
``count_fvcore``           ``fvcore.nn.FlopCountAnalysis(model, x).total()`` (0.1.5), eval
``count_flopcounter``      ``torch.utils.flop_counter.FlopCounterMode().get_total_flops()``
``count_torchvision``      torchvision's published "GFLOPS" (conv + matmul MACs, no bias)
``count_ptflops_hook``     ptflops (0.7.5, pytorch backend): the module hook's count, before
                           ``compute_average_flops_cost`` divides by the batch
``count_ptflops_functional``  ptflops: patched ``F.*``/``torch.*`` calls (not divided)
``count_thop``             ``thop.profile(model, (x,))[0]`` (0.1.1)
``count_torchinfo``        ``torchinfo.summary(model, input_data=x).total_mult_adds`` (1.8.0)
=========================  ==================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from .._errors import UnsupportedError
from .._math import Num, prod

#: a layer kind's instance (``kinds._base.Layer``, which mixes this module in: not imported
#: here, so that the two modules do not import each other)
Layer = Any

__all__ = [
    "KindRules",
    "FOREIGN_RULES",
    "NoMatmul",
    "Parameterless",
    "MatmulCounts",
    "fvcore_ignored",
    "fvcore_unhandled",
    "ptflops_no_hook",
    "ptflops_no_patch",
    "thop_no_hook",
    "macs_plus_bias",
    "params_per_sample",
    "numel",
    "counts",
    "counts_zero",
    "is_zero_rule",
    "missing_rules",
    "convention_table",
    "with_convention_table",
]

Shape = tuple[Any, ...]
Shapes = tuple[Shape, ...]
#: (layer, per-sample input shapes, per-sample output shape, batch) -> count over the batch
Rule = Callable[[Any, Shapes, Shape, Any], Any]

#: foreign convention part -> the method holding a kind's rule for it
FOREIGN_RULES: dict[str, str] = {
    "fvcore": "count_fvcore",
    "flopcounter": "count_flopcounter",
    "torchvision": "count_torchvision",
    "ptflops_hook": "count_ptflops_hook",
    "ptflops_functional": "count_ptflops_functional",
    "thop": "count_thop",
    "torchinfo": "count_torchinfo",
}


def counts(doc: str, fn: Rule, short: str) -> Rule:
    """A rule computing ``fn(layer, ins, out, b)``; ``doc`` says what the tool counts and
    which of its functions this mirrors, ``short`` is the formula over a batch of N for the
    docs table (``out``/``in``: per-sample numel of the output/input)."""

    def rule(self: Any, ins: Shapes, out: Shape, b: Any) -> Any:
        return fn(self, ins, out, b)

    rule.__doc__ = doc
    rule.short = short  # type: ignore[attr-defined]
    return rule


def counts_zero(reason: str) -> Rule:
    """The rule of a kind the tool really counts as 0; ``reason`` says why, citing the tool."""

    def rule(self: Any, ins: Shapes, out: Shape, b: Any) -> int:
        return 0

    rule.__doc__ = f"0: {reason}"
    rule.zero_reason = reason  # type: ignore[attr-defined]
    rule.short = "0"  # type: ignore[attr-defined]
    return rule


def is_zero_rule(rule: Any) -> bool:
    """Whether ``rule`` was made by :func:`counts_zero`."""
    return hasattr(rule, "zero_reason")


def fvcore_ignored(op: str) -> Rule:
    """0 under fvcore: ``op`` is in ``fvcore.nn.jit_analysis._IGNORED_OPS``."""
    return counts_zero(f"aten::{op} is in fvcore's jit_analysis._IGNORED_OPS")


def fvcore_unhandled(op: str) -> Rule:
    """0 under fvcore: ``op`` has no handle (reported as unsupported, counted 0)."""
    return counts_zero(f"aten::{op} has no fvcore handle (warned 'unsupported operator')")


def ptflops_no_hook(module: str) -> Rule:
    """0 by ptflops' module hooks: the module's exact type is not in MODULES_MAPPING."""
    return counts_zero(f"{module} is not in ptflops' MODULES_MAPPING (looked up by exact type)")


def ptflops_no_patch(call: str) -> Rule:
    """0 by ptflops' patched functionals: ``call`` is not patched."""
    return counts_zero(f"{call} is not patched by ptflops (patch_functional/patch_tensor_ops)")


def thop_no_hook(module: str) -> Rule:
    """0 under thop: the module's exact type is not in ``register_hooks``."""
    return counts_zero(f"{module} is not in thop's register_hooks (no rule: thop adds nothing)")


def macs_plus_bias(layer: Any, ins: Shapes, out: Shape, b: Any) -> Any:
    """MACs plus one add per output element when the layer has a bias, over the batch."""
    return b * (layer.macs(ins, out) + (numel(out) if layer.bias else 0))


def params_per_sample(layer: Any, ins: Shapes, out: Shape, b: Any) -> Any:
    """(weight + bias numel) × batch (torchinfo LayerInfo.calculate_macs, no 'Conv' in
    the class name: × output_size[0] only)."""
    return b * layer.params(ins)


def _missing(tool: str) -> Rule:
    def rule(self: Any, ins: Shapes, out: Shape, b: Any) -> Any:
        raise UnsupportedError(f"{self.kind}: no rule for how {tool} counts this layer kind")

    rule.__doc__ = f"(no rule: {tool} raises UnsupportedError)"
    rule.missing = True  # type: ignore[attr-defined]
    return rule


def numel(s: Shape) -> Num:
    """Elements of one per-sample shape."""
    return prod(s)


class KindRules:
    """The foreign conventions, engine traits and example of a kind (mixed into ``Layer``)."""

    __slots__ = ()

    # ------------------------------------------------------------ foreign conventions
    count_fvcore: ClassVar[Rule] = _missing("fvcore")
    count_flopcounter: ClassVar[Rule] = _missing("flopcounter")
    count_torchvision: ClassVar[Rule] = _missing("torchvision")
    count_ptflops_hook: ClassVar[Rule] = _missing("ptflops")
    count_ptflops_functional: ClassVar[Rule] = _missing("ptflops")
    count_thop: ClassVar[Rule] = _missing("thop")
    count_torchinfo: ClassVar[Rule] = _missing("torchinfo")
    #: ptflops' MODULES_MAPPING holds the built module's exact type: its __flops__ is taken
    #: as is by accumulate_flops, which then skips the module's children
    ptflops_hooked: ClassVar[bool] = False
    #: thop's register_hooks holds the built module's exact type: dfs_count takes its
    #: total_ops and skips its children
    thop_hooked: ClassVar[bool] = False

    # ------------------------------------------------------------ engine traits
    #: a Flatten: the heads put the feature map before it
    flattens: ClassVar[bool] = False
    #: what the ``conv`` head does with this kind after the feature map: "keep" (works
    #: unchanged per position on a larger map), "dense" (a Linear, becomes a convolution),
    #: "resize_pool" (dropped when the identity at the training size), None (unsupported)
    head_role: ClassVar[str | None] = None
    #: may be the model's classifier (``--classes`` resizes the last such layer)
    classifier: ClassVar[bool] = False
    #: a product of its inputs: an operand is saved only for another operand's gradient
    operands_for_each_other: ClassVar[bool] = False
    #: backward hands the output's gradient itself to every input (a sum)
    grad_shared: ClassVar[bool] = False
    #: backward hands each input a view (a slice) of the output's gradient (a concatenation)
    grad_views: ClassVar[bool] = False

    def is_global_pool(self) -> bool:
        """Pools every position into one (the heads' global pooling)."""
        return False

    def with_outputs(self, n: int) -> Layer | None:
        """This classifier producing ``n`` outputs; None when it cannot be resized."""
        return None

    def identity_at(self, spatial: tuple[Any, Any]) -> bool:
        """A ``resize_pool``: whether it is the identity on a map of this (h, w)."""
        return False

    def as_conv(self, flat: tuple[Any, Any, Any] | None) -> Layer:
        """A ``dense`` layer as the equivalent convolution: on the ``(C, h, w)`` map that a
        Flatten before it flattened (``flat``), or per position (``flat`` None)."""
        raise UnsupportedError(f"{type(self).__name__}: no convolutional equivalent")

    def rf_note(self, geom: Any) -> str | None:
        """A note for the receptive-field report about this layer's step ``geom``."""
        return None

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        """A valid instance and per-sample input shapes it runs on (registry tests)."""
        raise UnsupportedError(f"{cls.__name__}: no example instance")


class NoMatmul(KindRules):
    """Rules every kind that runs no convolution or matrix product shares."""

    __slots__ = ()

    count_flopcounter = counts_zero(
        "FlopCounterMode has formulas (register_flop_formula) only for mm, addmm, bmm, "
        "convolution and attention; this kind runs none of them"
    )
    count_torchvision = counts_zero("torchvision's GFLOPS count convolutions and matmuls only")


class Parameterless(NoMatmul):
    """Rules every kind without parameters (and without a conv/matmul) shares."""

    __slots__ = ()

    count_torchinfo = counts_zero(
        "no parameters: torchinfo's LayerInfo.calculate_macs multiplies weight/bias numel only"
    )


class MatmulCounts(KindRules):
    """Rules of a convolution or matrix product (``macs`` is its multiply-accumulates)."""

    __slots__ = ()

    count_flopcounter = counts(
        "2·MACs, bias ignored (flop_counter.conv_flop_count / mm_flop / addmm_flop: 2·m·n·k)",
        lambda s, i, o, b: 2 * b * s.macs(i, o),
        short="2N·MACs",
    )
    count_torchvision = counts(
        "MACs, no bias (torchvision weights meta '_ops')",
        lambda s, i, o, b: b * s.macs(i, o),
        short="N·MACs",
    )


# ---------------------------------------------------------------- reading the registry


def missing_rules(cls: type) -> list[str]:
    """Names of the rule methods ``cls`` lacks (still the base's raising default)."""
    return [m for m in FOREIGN_RULES.values() if getattr(getattr(cls, m), "missing", False)]


#: columns of the docs table: (heading, rule part)
_TABLE_COLUMNS = (
    ("fvcore", "fvcore"),
    ("flopcounter", "flopcounter"),
    ("torchvision", "torchvision"),
    ("ptflops hook (÷N)", "ptflops_hook"),
    ("ptflops functional", "ptflops_functional"),
    ("thop", "thop"),
    ("torchinfo", "torchinfo"),
)
DOCS_BEGIN = "<!-- begin: generated from the kinds registry (archcalc.kinds._rules) -->"
DOCS_END = "<!-- end: generated from the kinds registry -->"


def _short(cls: type[KindRules], part: str) -> str:
    rule = getattr(cls, FOREIGN_RULES[part])
    cell = str(getattr(rule, "short", "?"))
    if (part == "ptflops_hook" and cls.ptflops_hooked) or (part == "thop" and cls.thop_hooked):
        cell += " †"
    return cell.replace("|", "\\|")


def convention_table(kinds: Mapping[str, type[KindRules]]) -> str:
    """The Markdown table of every kind's count under each foreign convention (one row per
    kind, cells for a batch of N; † marks a module the tool hooks), followed by where each
    rule comes from: the rules' docstrings. docs/conventions.md holds it between
    :data:`DOCS_BEGIN` and :data:`DOCS_END` (:func:`with_convention_table`)."""
    lines = [
        "| kind | " + " | ".join(h for h, _ in _TABLE_COLUMNS) + " |",
        "|" + "---|" * (len(_TABLE_COLUMNS) + 1),
    ]
    for name, cls in kinds.items():
        cells = [_short(cls, part) for _, part in _TABLE_COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Where each rule comes from (the rules' docstrings):", ""]
    for name, cls in kinds.items():
        docs = []
        for heading, part in _TABLE_COLUMNS:
            doc = " ".join((getattr(cls, FOREIGN_RULES[part]).__doc__ or "").split())
            docs.append(f"{heading.split(' (')[0]}: {doc}")
        lines.append(f"* **{name}**: " + "; ".join(docs) + ".")
    return "\n".join(lines) + "\n"


def with_convention_table(text: str, kinds: Mapping[str, type[KindRules]]) -> str:
    """``text`` (docs/conventions.md) with the generated table between the markers."""
    i, j = text.index(DOCS_BEGIN), text.index(DOCS_END)
    return text[: i + len(DOCS_BEGIN)] + "\n\n" + convention_table(kinds) + "\n" + text[j:]
