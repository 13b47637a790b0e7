"""Compute ops on tensors of any rank: products of two tensors (``Matmul``, ``Einsum``), a
softmax (``Softmax``), reductions over axes (``Reduce``: sum, mean, amax, amin, max, min,
argmax, argmin, the 2-norm), ``F.normalize`` (``Normalize``),
``F.scaled_dot_product_attention`` (``ScaledDotProductAttention``, and with a mask
``MaskedScaledDotProductAttention``), and the elementwise ``Div`` (tensor by tensor),
``Pow`` (tensor to a number), ``Unary`` (exp, log, sqrt, rsqrt, sin, ...) and ``Clamp`` —
the pieces of an attention, a norm or a position embedding written out by hand.

Shapes are per sample: torch's shape without the batch axis, of any rank (a ``(N, h, L, d)``
tensor of heads is ``(h, L, d)``). Axes (``dim``, ``dims``) are per-sample axes too: ``0`` is
torch's dim 1, and a negative axis counts from the end as in torch. Two operands broadcast
as torch broadcasts them, the trailing axes aligned (:func:`broadcast`). ``from_torch``
reads the importer's layouts: the batch first (``std``), at axis ``j`` (``batch@j``) or
folded into axis 0 (``fold``), and ``const`` operands (parameters, buffers, constants: the
same for every sample, never reaching the batch axis).

Receptive fields: a product of two activations (and an attention) makes every output unit
depend on every position of the inputs (GLOBAL; ``q @ kᵀ``'s unit ``(i, j)`` sees tokens
``i`` and ``j``, which no per-axis box holds: archcalc reports the union over the sequence,
as the softmax over the keys after it does). A softmax, a reduction or a normalisation keeps
the field when it runs over the channels (axis 0 of a ``(C, H, W)`` map, the last axis of
``(L, C)`` tokens) and is GLOBAL over a position axis; on tensors of other ranks, whose axes
archcalc cannot tell apart, the field is an explicit gap (an error the summary reports).

>>> Matmul().out_shape(((3, 5, 4), (3, 4, 7)))
(3, 5, 7)
>>> Softmax(-1).out_shape(((3, 5, 7),))
(3, 5, 7)
>>> Reduce("mean", (0,)).out_shape(((196, 768),))
(768,)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .._errors import ShapeError, UnsupportedError
from .._math import Num, is_symbolic, prod
from ._base import (
    GLOBAL,
    AxisGeom,
    Extra,
    Layer,
    Shape,
    Shapes,
    TensorArg,
    TorchCall,
    _eq_known_false,
    _fmt,
    _Global,
    invalid,
    register,
)
from ._operands import batch_at, broadcast, elementwise_operands
from ._rules import (
    MatmulCounts,
    Parameterless,
    counts,
    counts_zero,
    fvcore_unhandled,
    numel,
    ptflops_no_hook,
    ptflops_no_patch,
    thop_no_hook,
)

__all__ = [
    "Matmul",
    "Einsum",
    "Softmax",
    "Reduce",
    "Normalize",
    "ScaledDotProductAttention",
    "MaskedScaledDotProductAttention",
    "Div",
    "Pow",
    "Unary",
    "Clamp",
    "broadcast",
    "torch_axis",
    "elementwise_operands",
]

_POINTWISE: tuple[AxisGeom, AxisGeom] = ((1, 1, 0), (1, 1, 0))

_NO_PARAMS = counts_zero(
    "no parameters: torchinfo's LayerInfo.calculate_macs multiplies weight/bias numel only"
)

# ---------------------------------------------------------------- shared helpers


def _axis(kind: str, d: Any, rank: int) -> int:
    if isinstance(d, bool) or not isinstance(d, int) or not -rank <= d < rank:
        raise ShapeError(f"{kind}: axis {d!r} is not an axis of a rank-{rank} tensor")
    return d % rank


def torch_axis(call: TorchCall, d: Any, i: int = 0) -> int:
    """The per-sample axis of torch's dim ``d`` of input ``i`` (negative when torch's is and
    it lies after the batch axis); the batch axis raises :class:`UnsupportedError`."""
    x, layout = call.inputs[i], call.layouts[i]
    rank = len(x) + (0 if layout in ("fold", "const") else 1)
    if isinstance(d, bool) or not isinstance(d, int) or not -rank <= d < rank:
        raise UnsupportedError(f"dim {d!r} of a tensor of {rank} dimensions")
    if layout == "const":  # no batch axis: torch's axes are the tensor's
        return d
    if layout == "nhwc":  # torch (N, H, W, C) holds archcalc's (C, H, W)
        if d % 4 == 0:
            raise UnsupportedError("an operation over the batch axis (dim 0)")
        return {1: 1, 2: 2, 3: 0}[d % 4]
    j = batch_at(layout)
    if j is None:
        raise UnsupportedError(f"an axis of a tensor in layout {layout}")
    if d % rank == j:
        raise UnsupportedError(f"an operation over the batch axis (dim {j})")
    if layout == "fold" or d % rank < j:
        return d % rank
    return d if d < 0 else d - 1


def _dims_arg(call: TorchCall, v: Any) -> tuple[int, ...]:
    if v is None or (isinstance(v, (list, tuple)) and not v):
        raise UnsupportedError(f"{call.op} over every axis (the batch axis too)")
    dims = v if isinstance(v, (list, tuple)) else (v,)
    return tuple(torch_axis(call, d) for d in dims)


def _field(kind: str, shape: Shape, axes: tuple[int, ...]) -> tuple[AxisGeom, AxisGeom] | _Global:
    """The receptive-field step of an op that mixes the values along ``axes``."""
    rank = len(shape)
    if rank == 3:  # a (C, H, W) map: the channels are axis 0
        positions = {1, 2}
    elif rank == 2:  # tokens (L, C): the tokens are axis 0
        positions = {0}
    else:
        raise UnsupportedError(
            f"{kind}: the receptive field of an op over axes {axes} of a rank-{rank} tensor "
            f"(archcalc tells positions from channels in (C, H, W) maps and (L, C) tokens only)"
        )
    mixed = positions & {a % rank for a in axes}
    if mixed and mixed != positions:
        # every unit sees its whole row (or column) and only its own column (or row): no
        # (size, stride, offset) per axis and not the whole image
        raise UnsupportedError(
            f"{kind} over axis {sorted(mixed)[0]} of a (C, H, W) map mixes one spatial axis "
            f"only: its receptive field spans that whole axis and is not followed"
        )
    return GLOBAL if mixed else _POINTWISE


def _traced(call: TorchCall, n: int, what: str) -> None:
    """``call`` has ``n`` tensor operands, no parameter as such, all with the batch at one
    torch axis (``std``, ``batch@j`` or ``fold``: then per-sample shapes align as torch's
    do), or all ``const`` (a parameter, buffer or constant: the same for every sample)."""
    layouts = set(call.layouts)
    if (
        len(call.inputs) != n
        or call.params()
        or len(layouts) != 1
        or (batch_at(call.layouts[0]) is None and layouts != {"const"})
    ):
        got = ", ".join(f"{s} ({lay})" for s, lay in zip(call.inputs, call.layouts))
        params = ", ".join(f"'{p.param}'" for p in call.params())
        raise UnsupportedError(
            f"{what} of {n} activations with the batch at one axis; got {len(call.inputs)} "
            f"({got})" + (f" and the parameters {params}" if params else "")
        )


def _batch_leads(call: TorchCall, what: str) -> None:
    """The batch is one of the leading (batched) axes of a matrix product's operands."""
    layout, x = call.layouts[0], call.inputs[0]
    rank = len(x) + (0 if layout == "fold" else 1)
    j = batch_at(layout)
    if j is None or j > rank - 3:
        raise UnsupportedError(
            f"{what} of operands of torch rank {rank} with the batch at axis {j}; archcalc "
            f"needs the batch among the leading axes (rank >= 3)"
        )


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ---------------------------------------------------------------- products of two tensors

_MATMUL_OPS = ("matmul", "@", "bmm")


def _matmul_shapes(kind: str, ins: Shapes) -> tuple[Shape, Any, Any, Any]:
    """(broadcast batch axes, m, k, n) of ``a @ b`` on per-sample shapes."""
    a, b = ins
    if len(a) < 2 or len(b) < 2:
        raise ShapeError(
            f"{kind}: operands of per-sample shapes {_fmt(a)} and {_fmt(b)}; archcalc "
            f"multiplies tensors of rank >= 2 per sample: (..., m, k) and (..., k, n)"
        )
    if _eq_known_false(a[-1], b[-2]):
        raise ShapeError(
            f"{kind}: (..., {a[-2]}, {a[-1]}) @ (..., {b[-2]}, {b[-1]}): the inner sizes differ"
        )
    return broadcast(kind, (a[:-2], b[:-2])), a[-2], a[-1], b[-1]


def _first_operand_macs(layer: Any, ins: Shapes, out: Shape, b: Any) -> Any:
    """prod(first operand's shape, batch included) · last size of the second."""
    return b * prod(ins[0]) * ins[1][-1]


@register
@dataclass(frozen=True, slots=True)
class Matmul(MatmulCounts, Layer):
    """The product of two tensors, ``a @ b``, ``torch.matmul(a, b)`` or ``torch.bmm(a, b)``
    (``op``: ``"@"``, ``"matmul"``, ``"bmm"``: how it is called, which ptflops' patches tell
    apart), per sample ``(..., m, k) @ (..., k, n) -> (..., m, n)``, the leading axes
    broadcast (trailing aligned). ``a`` is an activation; ``b`` an activation of the same
    rank or a parameter or constant (``x @ w``, the same for every sample).

    MACs ``prod(batch axes)·m·k·n``, FLOPs ``2·MACs``. Saved for backward (measured with
    ``saved_tensors_hooks``): both operands; an operand whose leading axes broadcast (a 1
    stretched) is kept as matmul's expanded contiguous copy (``prod(batch axes)·rows·cols``).
    Not modelled: an operand whose permuted leading axes do not fold into one (torch then
    keeps a contiguous copy of the same size instead of the operand).

    >>> Matmul().macs(((3, 5, 4), (3, 4, 7)), (3, 5, 7))   # 3 heads · 5·4·7
    420
    """

    op: str = field(default="matmul", metadata={"valid": _MATMUL_OPS})
    #: ``b`` is a parameter or constant, the same for every sample (``x @ w``): each output
    #: row depends on its own row of ``a`` only (a per-position map: the receptive field is
    #: kept); otherwise every output unit sees every position (GLOBAL)
    const_second: bool = False

    arity: ClassVar[int | None] = 2

    count_fvcore = counts(
        "prod(a's shape)·n (fvcore matmul_flop_jit / bmm_flop_jit: the first operand's "
        "numel, batch included, times the second's last size; a broadcast first operand is "
        "counted once)",
        _first_operand_macs,
        short="N·numel(a)·n",
    )
    count_ptflops_hook = ptflops_no_hook("a matrix product (not a module)")
    count_ptflops_functional = counts(
        "prod(a's shape)·n for torch.matmul, Tensor.matmul, torch.bmm (ptflops "
        "_matmul_tensor_flops_hook, not divided by the batch); 0 for `a @ b` "
        "(Tensor.__matmul__ is not patched)",
        lambda s, i, o, b: 0 if s.op == "@" else _first_operand_macs(s, i, o, b),
        short="N·numel(a)·n (0 for @)",
    )
    count_thop = thop_no_hook("a matrix product (not a module)")
    count_torchinfo = _NO_PARAMS

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((2, 4, 4), (1, 4, 4))  # a broadcast operand

    def __post_init__(self) -> None:
        pass

    def out_shape(self, ins: Shapes) -> Shape:
        batch, m, _, n = _matmul_shapes(self.kind, ins)
        if self.op == "bmm" and len(batch) != 0:
            raise ShapeError(f"Matmul(op='bmm') takes (m, k) and (k, n) per sample, got {ins}")
        return (*batch, m, n)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return prod(out) * ins[0][-1]

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 2 * self.macs(ins, out)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom] | _Global:
        return _POINTWISE if self.const_second else GLOBAL

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        lead = out[:-2]
        items: list[str | Extra] = []
        for i, s in enumerate(ins):
            if all(not _eq_known_false(x, y) for x, y in zip(s[:-2], lead)):
                items.append(f"in{i}")
            else:  # expand + reshape of a broadcast operand: a contiguous copy
                items.append(
                    Extra(batch * prod(lead) * s[-2] * s[-1], None, f"operand {i} expanded")
                )
        return tuple(items)

    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.matmul",
        "torch.matmul",
        "Tensor.bmm",
        "torch.bmm",
    )
    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tensor_math.Matmul",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls(call.module.op, bool(getattr(call.module, "const_second", False)))
        if len(call.layouts) == 2 and call.layouts[1] == "const" and call.layouts[0] != "const":
            # x @ W, W a parameter or constant (the same for every sample): its axes align
            # with the trailing axes of x's per-sample shape; never the batch axis
            if len(call.inputs[1]) > len(call.inputs[0]):
                raise UnsupportedError("a matrix product whose second operand meets the batch axis")
            first = dataclasses.replace(call, inputs=call.inputs[:1], layouts=call.layouts[:1])
            _traced(first, 1, "a matrix product")
        else:
            _traced(call, 2, "a matrix product")
            if set(call.layouts) == {"const"}:
                # fvcore and ptflops count it once, archcalc's counts are per sample
                raise UnsupportedError("a matrix product of parameters or constants only")
            if len(call.inputs[0]) != len(call.inputs[1]):
                raise UnsupportedError(
                    f"a matrix product of batch-first tensors of ranks {len(call.inputs[0]) + 1} "
                    f"and {len(call.inputs[1]) + 1}: torch aligns the batch of one with another axis"
                )
        _batch_leads(call, "a matrix product")
        const = call.layouts[1] == "const"
        if call.op == "operator.matmul":
            return cls("@", const)
        return cls("bmm" if call.op.endswith("bmm") else "matmul", const)

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.Matmul(self.op, self.const_second)


def _einsum_terms(kind: str, equation: str) -> tuple[str, str, str]:
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    letters = set(lhs.replace(",", "")) | set(out)
    if (
        not arrow
        or len(terms) != 2
        or not all(c.isalpha() and c.isascii() for c in letters)
        or any(len(set(t)) != len(t) for t in (*terms, out))
        or not set(out) <= set(lhs)
    ):
        raise invalid(
            kind,
            "equation",
            equation,
            "must be an explicit equation of two operands 'ab,bc->ac' (letters only, no "
            "'...', no letter twice in one term, output letters from the inputs)",
        )
    return terms[0], terms[1], out


def _einsum_sizes(kind: str, equation: str, ins: Shapes) -> tuple[dict[str, Any], bool, str]:
    """Each letter's size, whether a letter is summed, the output term."""
    a, b, out = _einsum_terms(kind, equation)
    sizes: dict[str, Any] = {}
    for term, s in ((a, ins[0]), (b, ins[1])):
        if len(term) != len(s):
            raise ShapeError(f"{kind}: term '{term}' of '{equation}' on shape {_fmt(s)}")
        for c, d in zip(term, s):
            if c in sizes and _eq_known_false(sizes[c], d):
                raise ShapeError(f"{kind}: '{c}' is {sizes[c]} and {d} in '{equation}'")
            sizes.setdefault(c, d)
    return sizes, bool(set(a + b) - set(out)), out


@register
@dataclass(frozen=True, slots=True)
class Einsum(MatmulCounts, Layer):
    """``torch.einsum`` of two tensors, its ``equation`` per sample (torch's without the
    batch letter, which must lead every batched term: ``"bhld,bhmd->bhlm"`` is
    ``"hld,hmd->hlm"``). The second operand may be a parameter or constant
    (``second_batched=False``: no batch letter; mvitv2's ``"byhwc,hkc->byhwk"`` is
    ``"yhwc,hkc->yhwk"``).

    MACs: the product of every letter's size (one multiply-accumulate per combination);
    FLOPs ``2·MACs`` when a letter is summed, else ``MACs`` (products only). Saved for
    backward (measured): both operands.

    >>> Einsum("hld,hmd->hlm").macs(((2, 5, 4), (2, 7, 4)), (2, 5, 7))
    280
    """

    equation: str = "ij,jk->ik"
    #: the second operand is an activation; False: a parameter or constant (no batch letter)
    second_batched: bool = True
    #: the model's tensors hold the batch folded into the first letter's axis ((N·k, ...):
    #: SAM's relative positions of N·heads): its equation is this one (fvcore reads it)
    folded: bool = False

    arity: ClassVar[int | None] = 2

    count_fvcore = counts(
        "fvcore einsum_flop_jit on the batch-first equation: 'abc,abd->acd' and "
        "'abc,adc->adb' exactly (N·MACs); any other via np.einsum_path's printed 'Optimized "
        "FLOP count' (sizes·(1 + summed), plus 1, to 4 significant digits) halved and floored",
        lambda s, i, o, b: s._fvcore(i, b),
        short="N·MACs (4 digits)",
    )
    count_flopcounter = counts(
        "2·MACs when a letter is summed (torch's einsum runs bmm: flop_counter bmm_flop), "
        "else 0 (a product: aten::mul has no formula)",
        lambda s, i, o, b: 2 * b * s.macs(i, o) if _einsum_sizes(s.kind, s.equation, i)[1] else 0,
        short="2N·MACs (summed) or 0",
    )
    count_ptflops_hook = ptflops_no_hook("torch.einsum (not a module)")
    count_ptflops_functional = ptflops_no_patch("torch.einsum")
    count_thop = thop_no_hook("torch.einsum (not a module)")
    count_torchinfo = _NO_PARAMS

    def __post_init__(self) -> None:
        _einsum_terms(self.kind, self.equation)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls("hld,hmd->hlm"), ((2, 5, 4), (2, 7, 4))

    def out_shape(self, ins: Shapes) -> Shape:
        sizes, _, out = _einsum_sizes(self.kind, self.equation, ins)
        return tuple(sizes[c] for c in out)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return prod(tuple(_einsum_sizes(self.kind, self.equation, ins)[0].values()))

    def flops(self, ins: Shapes, out: Shape) -> Num:
        summed = _einsum_sizes(self.kind, self.equation, ins)[1]
        return (2 if summed else 1) * self.macs(ins, ())

    def _fvcore(self, ins: Shapes, b: Any) -> Any:
        sizes, summed, _ = _einsum_sizes(self.kind, self.equation, ins)
        a, c, out = _einsum_terms(self.kind, self.equation)
        # fvcore renames the letters of the batch-first equation in order of appearance
        lead = "" if self.folded else "@"
        full = f"{lead}{a},{lead if self.second_batched else ''}{c}->{lead}{out}"
        order = {
            x: chr(97 + i)
            for i, x in enumerate(dict.fromkeys(full.replace(",", "").replace("->", "")))
        }
        canon = "".join(order.get(x, x) for x in full)
        total = b * prod(tuple(sizes.values()))
        if canon in ("abc,abd->acd", "abc,adc->adb"):
            return total
        if is_symbolic(total):
            raise UnsupportedError("fvcore's einsum count of symbolic sizes (numpy rounds it)")
        cost = total * (2 if summed else 1) + 1  # numpy _flop_count, + 1 in einsum_path
        return int(math.floor(float(f"{cost:.3e}") / 2))

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom] | _Global:
        """A parameter or constant as the second operand, summed over the first operand's
        last letter only and keeping its other letters (``yhwc,hkc->yhwk``): each output
        position reads its own input position (the field kept); otherwise GLOBAL. (No letter
        repeats within a term, so ``summed == {a[-1]}`` keeps every other letter of ``a``.)"""
        a, b, out_term = _einsum_terms(self.kind, self.equation)
        summed = set(a + b) - set(out_term)
        if not self.second_batched and summed == {a[-1]}:
            return _POINTWISE
        return GLOBAL

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0", "in1")

    torch_functions: ClassVar[tuple[str, ...]] = ("torch.einsum",)
    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tensor_math.Einsum",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        folded = False
        if call.module is not None:
            eq, second = call.module.equation, call.module.second_batched
            folded = call.module.folded
        else:
            eq = call.arg(0, "equation")
            second = not (len(call.layouts) == 2 and call.layouts[1] == "const")
            first = (
                call
                if second
                else dataclasses.replace(call, inputs=call.inputs[:1], layouts=call.layouts[:1])
            )
            _traced(first, 2 if second else 1, "torch.einsum")
            folded = call.layouts[0] == "fold"
        if not isinstance(eq, str) or "..." in eq or "->" not in eq:
            raise UnsupportedError(
                f"einsum equation {eq!r}: archcalc needs explicit letters and '->'"
            )
        lhs, out = eq.replace(" ", "").split("->")
        terms = lhs.split(",")
        batched = [terms[0], *(terms[1:] if second else []), out]
        lead = {t[:1] for t in batched}
        rest = "".join(t[1:] for t in batched) + ("" if second else "".join(terms[1:]))
        if len(terms) != 2 or len(lead) != 1 or "" in lead or lead.pop() in rest:
            raise UnsupportedError(
                f"einsum '{eq}': archcalc needs two operands and the batch letter first in "
                f"the output and every batched operand, and nowhere else"
            )
        if folded:  # the first letter is the folded axis: a letter of the per-sample shape
            return cls(f"{terms[0]},{terms[1]}->{out}", second, folded=True)
        b = terms[1][1:] if second else terms[1]
        return cls(f"{terms[0][1:]},{b}->{out[1:]}", second)

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.Einsum(self.equation, self.second_batched, self.folded)


# ---------------------------------------------------------------- softmax, reductions


_SOFTMAX_OPS = ("F.softmax", "Tensor.softmax")


def _thop_softmax(layer: Any, ins: Shapes, out: Shape, b: Any) -> Any:
    n = ins[0][layer.dim]
    return b * (numel(ins[0]) // n) * (3 * n - 1) if layer.op == "F.softmax" else 0


@register
@dataclass(frozen=True, slots=True)
class Softmax(Parameterless, Layer):
    """Softmax over per-sample axis ``dim`` of a tensor of any rank: ``F.softmax``,
    ``nn.Softmax`` (which calls ``F.softmax``; ``op="F.softmax"``) or ``x.softmax``,
    ``torch.softmax`` (``op="Tensor.softmax"``): ptflops patches the first only.

    FLOPs 5 per element (max, subtract, exp, sum, divide), as the attention kinds count a
    score. Saved for backward (measured): the output.

    >>> Softmax(-1).flops(((2, 5, 5),), (2, 5, 5))
    250
    """

    dim: Any = -1
    op: str = field(default="F.softmax", metadata={"valid": _SOFTMAX_OPS})

    head_role: ClassVar[str | None] = None
    thop_hooked: ClassVar[bool] = True

    count_fvcore = fvcore_unhandled("softmax")
    count_ptflops_hook = ptflops_no_hook("nn.Softmax")
    count_ptflops_functional = counts(
        "input numel for F.softmax and nn.Softmax, which calls it (ptflops "
        "_numel_functional_flops_hook, not divided by the batch); 0 for Tensor.softmax / "
        "torch.softmax (not patched)",
        lambda s, i, o, b: b * numel(i[0]) if s.op == "F.softmax" else 0,
        short="N·in (0 for Tensor.softmax)",
    )
    count_thop = counts(
        "nn.Softmax: rows·(3n - 1) for n values along dim (thop count_softmax -> "
        "calculate_softmax: n exp, n - 1 adds, n divides); 0 for archcalc's Tensor.softmax "
        "module (not in register_hooks)",
        _thop_softmax,
        short="N·in/n·(3n-1)",
    )

    def __post_init__(self) -> None:
        if isinstance(self.dim, bool) or not isinstance(self.dim, int):
            raise invalid(self.kind, "dim", self.dim, "must be an integer axis", wrong_type=True)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(-1), ((2, 5, 7),)

    def out_shape(self, ins: Shapes) -> Shape:
        _axis(self.kind, self.dim, len(ins[0]))
        return ins[0]

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 5 * prod(out)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom] | _Global:
        return _field(self.kind, ins[0], (self.dim,))

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("out",)

    torch_modules: ClassVar[tuple[str, ...]] = (
        "torch.nn.Softmax",
        "archcalc.torch.tensor_math.TensorSoftmax",
    )
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.nn.functional.softmax",
        "Tensor.softmax",
        "torch.softmax",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if m is not None:
            if m.dim is None:
                raise UnsupportedError("nn.Softmax(dim=None): an implicit dim")
            op = "Tensor.softmax" if type(m).__name__ == "TensorSoftmax" else "F.softmax"
            return cls(torch_axis(call, m.dim), op)
        d = call.arg(1, "dim")
        if d is None:
            raise UnsupportedError("softmax with an implicit dim")
        op = "F.softmax" if call.op.startswith("torch.nn.functional") else "Tensor.softmax"
        if op == "F.softmax" and call.layouts[0] == "const":
            # ptflops counts F.softmax of a parameter once, archcalc's counts are per sample
            raise UnsupportedError("F.softmax of a parameter or constant")
        return cls(torch_axis(call, d), op)

    def to_torch(self, tb: Any) -> Any:
        d = tb.tensor_math.torch_dim(self.dim)
        if self.op == "F.softmax":
            return tb.nn.Softmax(dim=d)
        return tb.tensor_math.TensorSoftmax(d)


_REDUCE_OPS = ("sum", "mean", "amax", "amin", "norm", "max", "min", "argmax", "argmin")


@register
@dataclass(frozen=True, slots=True)
class Reduce(Parameterless, Layer):
    """A reduction over per-sample axes ``dims``: ``x.sum(dims)``, ``x.mean(dims)``,
    ``x.amax(dims)``, ``x.amin(dims)`` or the 2-norm (``x.norm(dim=dims)``,
    ``torch.linalg.vector_norm(x, dim=dims)``; ``op="norm"``); ``keepdim`` keeps each
    reduced axis as a 1.

    ``max``/``min`` are the values and ``argmax``/``argmin`` the indices of
    ``torch.max(x, dim)`` / ``torch.min(x, dim)`` (two outputs) or of ``torch.argmax``
    (one axis).

    FLOPs, for ``n`` input and ``r`` output elements: sum ``n - r`` adds; mean ``n`` (``n -
    r`` adds, ``r`` divides); amax, amin, max, min, argmax, argmin ``n - r`` comparisons
    (both outputs of one ``torch.max`` are counted when both are used); norm ``2n`` (``n``
    squares, ``n - r`` adds, ``r`` square roots). Saved for backward (measured): nothing for
    sum, mean and the indices, the input and the output for amax, amin and norm, the int64
    indices for max and min. Every foreign tool counts 0.

    >>> Reduce("sum", (-1,), keepdim=True).out_shape(((3, 5, 7),))
    (3, 5, 1)
    """

    op: str = field(default="sum", metadata={"valid": _REDUCE_OPS})
    dims: Any = (-1,)
    keepdim: bool = False

    count_fvcore = counts_zero(
        "aten::sum, mean, amax, amin, norm, argmax and argmin have no fvcore handle; "
        "aten::max and aten::min are in its _IGNORED_OPS"
    )
    count_ptflops_hook = ptflops_no_hook("a reduction (not a module)")
    count_ptflops_functional = ptflops_no_patch("Tensor.sum / mean / amax / amin / norm")
    count_thop = thop_no_hook("a reduction (not a module)")

    def __post_init__(self) -> None:
        ok = (
            isinstance(self.dims, tuple)
            and self.dims
            and all(isinstance(d, int) and not isinstance(d, bool) for d in self.dims)
        )
        if not ok:
            raise invalid(self.kind, "dims", self.dims, "must be a non-empty list of axes")
        if self.op in ("max", "min", "argmax", "argmin") and len(self.dims) != 1:
            raise invalid(self.kind, "dims", self.dims, f"must be one axis for {self.op}")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls("mean", (0,)), ((5, 7),)

    def _axes(self, shape: Shape) -> tuple[int, ...]:
        axes = tuple(_axis(self.kind, d, len(shape)) for d in self.dims)
        if len(set(axes)) != len(axes):
            raise ShapeError(f"{self.kind}: axis repeated in dims {self.dims}")
        return axes

    def out_shape(self, ins: Shapes) -> Shape:
        axes = self._axes(ins[0])
        if self.keepdim:
            return tuple(1 if i in axes else d for i, d in enumerate(ins[0]))
        return tuple(d for i, d in enumerate(ins[0]) if i not in axes)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        n, r = prod(ins[0]), prod(out)
        return {"sum": n - r, "mean": n, "norm": 2 * n}.get(self.op, n - r)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom] | _Global:
        return _field(self.kind, ins[0], self._axes(ins[0]))

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        if self.op in ("max", "min"):
            return (Extra(batch * prod(out), 8, "indices (int64)"),)
        return () if self.op in ("sum", "mean", "argmax", "argmin") else ("in0", "out")

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tensor_math.Reduce",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.sum",
        "torch.sum",
        "Tensor.mean",
        "torch.mean",
        "Tensor.amax",
        "torch.amax",
        "Tensor.amin",
        "torch.amin",
        "Tensor.norm",
        "torch.norm",
        "torch.linalg.vector_norm",
        "torch.linalg.norm",
        "Tensor.max",
        "torch.max",
        "Tensor.min",
        "torch.min",
        "Tensor.argmax",
        "torch.argmax",
        "Tensor.argmin",
        "torch.argmin",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if m is not None:
            return cls(m.op, _dims_arg(call, m.dims), m.keepdim)
        name = call.op.rsplit(".", 1)[-1]
        if name in ("norm", "vector_norm"):
            p = call.arg(
                1, "ord" if name == "vector_norm" else "p", 2 if name == "vector_norm" else "fro"
            )
            if call.op.endswith("linalg.norm") and "ord" in call.kwargs:
                p = call.kwargs["ord"]
            if p not in (2, 2.0, "fro", None):  # (linalg.norm's None: the 2-norm of the values)
                raise UnsupportedError(f"a {p!r}-norm; archcalc's Reduce takes the 2-norm")
            if call.arg(4, "dtype") is not None:
                raise UnsupportedError("a norm with a dtype")
            op = "norm"
        else:
            op = name
            if call.kwargs.get("dtype") is not None:
                raise UnsupportedError(f"{name} with a dtype")
        if op in ("max", "min"):
            if len(call.outputs) != 2 or not isinstance(call.arg(1, "dim"), int):
                raise UnsupportedError(f"torch.{op} without a dim or of two tensors")
            op = op if call.output_index == 0 else f"arg{op}"
        _traced(call, 1, f"a reduction ({op})")
        dims = _dims_arg(call, call.arg(2 if op == "norm" else 1, "dim"))
        keep = call.arg(3 if op == "norm" else 2, "keepdim", False)
        return cls(op, dims, bool(keep))

    def to_torch(self, tb: Any) -> Any:
        dims = tuple(tb.tensor_math.torch_dim(d) for d in self.dims)
        return tb.tensor_math.Reduce(self.op, dims, self.keepdim)


@register
@dataclass(frozen=True, slots=True)
class Normalize(Parameterless, Layer):
    """``F.normalize(x, p=2, dim=dim)``: ``x / max(‖x‖₂, eps)`` along per-sample axis
    ``dim``.

    FLOPs, for ``n`` elements and ``r = n / size(dim)`` norms: the norms ``2n`` (squares,
    adds, square roots), ``r`` clamps, ``n`` divides: ``3n + r``. Saved for backward
    (measured): the input, the norms and the clamped norms (``r`` each). Every foreign tool
    counts 0.

    >>> Normalize(-1).flops(((2, 5, 4),), (2, 5, 4))   # 3·40 + 10
    130
    """

    dim: Any = -1

    count_fvcore = fvcore_unhandled("linalg_vector_norm / aten::clamp_min / aten::div")
    count_ptflops_hook = ptflops_no_hook("F.normalize (not a module)")
    count_ptflops_functional = ptflops_no_patch("F.normalize")
    count_thop = thop_no_hook("F.normalize (not a module)")

    def __post_init__(self) -> None:
        if isinstance(self.dim, bool) or not isinstance(self.dim, int):
            raise invalid(self.kind, "dim", self.dim, "must be an integer axis", wrong_type=True)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(-1), ((2, 5, 4),)

    def _norms(self, shape: Shape) -> Any:
        return prod(shape) // shape[_axis(self.kind, self.dim, len(shape))]

    def out_shape(self, ins: Shapes) -> Shape:
        _axis(self.kind, self.dim, len(ins[0]))
        return ins[0]

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 3 * prod(ins[0]) + self._norms(ins[0])

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom] | _Global:
        return _field(self.kind, ins[0], (self.dim,))

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        r = batch * self._norms(ins[0])
        return ("in0", Extra(r, None, "norms"), Extra(r, None, "clamped norms"))

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tensor_math.Normalize",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.normalize",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls(torch_axis(call, call.module.dim))
        _traced(call, 1, "F.normalize")
        if call.arg(1, "p", 2.0) != 2:
            raise UnsupportedError(f"F.normalize with p={call.arg(1, 'p')!r}; archcalc's is p=2")
        return cls(torch_axis(call, call.arg(2, "dim", 1)))

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.Normalize(tb.tensor_math.torch_dim(self.dim))


# ---------------------------------------------------------------- attention


def _sdpa_shapes(kind: str, ins: Shapes) -> tuple[Shape, Any, Any, Any, Any]:
    """(batch axes, L, S, E, Ev) of q (..., L, E), k (..., S, E), v (..., S, Ev)."""
    q, k, v = ins
    if not (len(q) == len(k) == len(v) >= 2):
        raise ShapeError(
            f"{kind}: q, k, v of per-sample shapes {_fmt(q)}, {_fmt(k)}, {_fmt(v)}; archcalc "
            f"takes one rank >= 2 per sample: (..., L, E), (..., S, E), (..., S, Ev)"
        )
    if _eq_known_false(k[-2], v[-2]) or _eq_known_false(q[-1], k[-1]):
        raise ShapeError(
            f"{kind}: q {_fmt(q)}, k {_fmt(k)}, v {_fmt(v)} do not fit (..., L, E), "
            f"(..., S, E), (..., S, Ev)"
        )
    # the leading axes broadcast (multi-query attention: one key/value head for all)
    lead = broadcast(kind, (q[:-2], k[:-2], v[:-2]))
    if len(lead) != len(q) - 2 or any(_eq_known_false(x, y) for x, y in zip(lead, q[:-2])):
        raise ShapeError(f"{kind}: k {_fmt(k)} and v {_fmt(v)} broadcast q {_fmt(q)}")
    return lead, q[-2], k[-2], q[-1], v[-1]


@register
@dataclass(frozen=True, slots=True)
class ScaledDotProductAttention(MatmulCounts, Layer):
    """``F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)`` on per-sample
    ``q (..., L, E)``, ``k (..., S, E)``, ``v (..., S, Ev)`` → ``(..., L, Ev)``, without a
    mask or dropout. With ``B = prod(leading axes)``:

    MACs ``B·L·S·E`` (QKᵀ) ``+ B·L·S·Ev`` (AV). FLOPs ``2·MACs`` plus the scaling of q
    (``B·L·E``) and 5 per score for the softmax (``5·B·L·S``), as the attention kinds count
    (a causal mask is not subtracted). Every output sees every key: GLOBAL.

    On CPU torch runs the fused flash kernel (``_scaled_dot_product_flash_attention_for_cpu``)
    for torch ranks 3 and 4 (per sample 2 and 3) with ``Ev = E``, else the composite math
    path (``bmm``s): which one decides what FlopCounterMode counts and what autograd keeps
    (measured): fused, q, k, v, the output and the log-sum-exp per query (``B·L``, float32);
    math, the scaled q (``B·L·E``), the scaled kᵀ (``B·S·E``), the attention weights
    (``B·L·S``) and v. k and v may broadcast over q's leading axes (multi-query attention:
    one key/value head, MobileNetV5's ``(N, 1, S, E)``).

    >>> ScaledDotProductAttention().macs(((3, 5, 4), (3, 7, 4), (3, 7, 4)), (3, 5, 4))
    840
    """

    is_causal: bool = False
    #: the model's tensors hold the batch folded into axis 0 (torch's rank is the per-sample
    #: rank, not one more): torch's rank decides the CPU kernel
    folded: bool = False

    arity: ClassVar[int | None] = 3

    count_fvcore = counts_zero("aten::scaled_dot_product_attention has no fvcore handle")
    count_flopcounter = counts(
        "0 on the fused CPU path (aten::_scaled_dot_product_flash_attention_for_cpu has no "
        "register_flop_formula); on the math path 2·MACs (flop_counter bmm_flop)",
        lambda s, i, o, b: 0 if s.fused(i) else 2 * b * s.macs(i, o),
        short="0 fused, else 2N·MACs",
    )
    count_ptflops_hook = ptflops_no_hook("F.scaled_dot_product_attention (not a module)")
    count_ptflops_functional = ptflops_no_patch("F.scaled_dot_product_attention")
    count_thop = thop_no_hook("F.scaled_dot_product_attention (not a module)")
    count_torchinfo = _NO_PARAMS

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((3, 4, 4), (3, 4, 4), (3, 4, 4))

    def fused(self, ins: Shapes) -> bool:
        """Whether torch runs the fused CPU kernel (torch rank 3 or 4, ``Ev == E``)."""
        _, _, _, e, ev = _sdpa_shapes(self.kind, ins)
        rank = len(ins[0]) + (0 if self.folded else 1)
        return rank in (3, 4) and not _eq_known_false(e, ev)

    def out_shape(self, ins: Shapes) -> Shape:
        batch, n, _, _, ev = _sdpa_shapes(self.kind, ins)
        return (*batch, n, ev)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        batch, n, s, e, ev = _sdpa_shapes(self.kind, ins)
        return prod(batch) * n * s * (e + ev)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        batch, n, s, e, _ = _sdpa_shapes(self.kind, ins)
        return 2 * self.macs(ins, out) + prod(batch) * n * e + 5 * prod(batch) * n * s

    def geometry(self, ins: Shapes, out: Shape) -> _Global:
        return GLOBAL

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        lead, n, s, e, _ = _sdpa_shapes(self.kind, ins)
        b = batch * prod(lead)
        if self.fused(ins):
            return ("in0", "in1", "in2", "out", Extra(b * n, "acc", "log-sum-exp per query"))
        return (
            Extra(b * n * e, None, "scaled q"),
            Extra(b * s * e, None, "scaled k (transposed)"),
            Extra(b * n * s, None, "attention weights"),
            "in2",
        )

    torch_modules: ClassVar[tuple[str, ...]] = (
        "archcalc.torch.tensor_math.ScaledDotProductAttention",
    )
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.nn.functional.scaled_dot_product_attention",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            m = call.module
            return cls(bool(m.is_causal), bool(getattr(m, "folded", False)))
        why = [
            what
            for what, bad in (
                ("an attention mask", call.arg(3, "attn_mask") is not None),
                ("dropout", call.arg(4, "dropout_p", 0.0) not in (0, 0.0)),
                ("enable_gqa", bool(call.kwargs.get("enable_gqa", False))),
            )
            if bad
        ]
        if why:
            raise UnsupportedError(f"scaled_dot_product_attention with {', '.join(why)}")
        if len(call.inputs) != 3 or any(
            not isinstance(call.arg(i, n), TensorArg) or call.arg(i, n).index is None
            for i, n in enumerate(("query", "key", "value"))
        ):
            raise UnsupportedError("scaled_dot_product_attention of q, k, v not all activations")
        _traced(call, 3, "scaled_dot_product_attention")
        _batch_leads(call, "scaled_dot_product_attention")
        return cls(bool(call.arg(5, "is_causal", False)), call.layouts[0] == "fold")

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.ScaledDotProductAttention(self.is_causal, self.folded)


@register
@dataclass(frozen=True, slots=True)
class MaskedScaledDotProductAttention(ScaledDotProductAttention):
    """``F.scaled_dot_product_attention(q, k, v, attn_mask=mask)``: a float mask (a
    relative-position bias, MaxViT's and CoAtNet's) added to the scores, or a boolean one,
    the fourth input, broadcast to ``(..., L, S)``. Counts as :class:`ScaledDotProductAttention`
    plus one add per score (``B·L·S``).

    ``mask_grad``: the mask requires grad, as one computed from parameters or activations
    does in a model run with grad enabled (the tools' runs, a training step). On CPU torch's
    fused kernel does not take such a mask: the math path runs (FlopCounterMode 2·MACs, the
    math path's saved tensors). A constant mask (``mask_grad=False``) runs the fused kernel
    where :class:`ScaledDotProductAttention` does, which then also keeps the mask. The
    importer cannot see whether a mask requires grad and assumes it does (a mask made of
    constants only is the exception: not modelled).

    >>> MaskedScaledDotProductAttention().out_shape(((3, 5, 4), (3, 7, 4), (3, 7, 4), (3, 5, 7)))
    (3, 5, 4)
    """

    mask_grad: bool = True

    arity: ClassVar[int | None] = 4

    count_flopcounter = counts(
        "2·MACs on the math path (flop_counter bmm_flop), which CPU runs for a mask that "
        "requires grad; with a constant mask as ScaledDotProductAttention (0 fused)",
        lambda s, i, o, b: 0 if s.fused(i) else 2 * b * s.macs(i, o),
        short="2N·MACs (0 fused: constant mask)",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((3, 4, 4), (3, 4, 4), (3, 4, 4), (1, 4, 4))

    def fused(self, ins: Shapes) -> bool:
        """Whether torch runs the fused CPU kernel: a constant mask where the unmasked
        attention would."""
        return not self.mask_grad and ScaledDotProductAttention.fused(self, ins[:3])

    def out_shape(self, ins: Shapes) -> Shape:
        if len(ins) != 4:
            raise ShapeError(f"{self.kind} takes q, k, v and a mask, got {len(ins)} inputs")
        batch, n, s, _, ev = _sdpa_shapes(self.kind, ins[:3])
        if broadcast(self.kind, (ins[3], (*batch, n, s))) != (*batch, n, s):
            raise ShapeError(f"{self.kind}: a mask of shape {_fmt(ins[3])} for {n}x{s} scores")
        return (*batch, n, ev)

    def macs(self, ins: Shapes, out: Shape) -> Num:
        return ScaledDotProductAttention.macs(self, ins[:3], out)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        batch, n, s, _, _ = _sdpa_shapes(self.kind, ins[:3])
        return ScaledDotProductAttention.flops(self, ins[:3], out) + prod(batch) * n * s

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        kept = ScaledDotProductAttention.saved(self, ins[:3], out, batch)
        return (*kept, "in3") if self.fused(ins) else kept

    torch_modules: ClassVar[tuple[str, ...]] = (
        "archcalc.torch.tensor_math.MaskedScaledDotProductAttention",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            m = call.module
            return cls(folded=bool(getattr(m, "folded", False)), mask_grad=bool(m.mask_grad))
        mask = call.arg(3, "attn_mask")
        if getattr(mask, "index", None) is None or bool(call.arg(5, "is_causal", False)):
            raise UnsupportedError("scaled_dot_product_attention: no mask given as a tensor")
        if call.arg(4, "dropout_p", 0.0) not in (0, 0.0) or call.kwargs.get("enable_gqa"):
            raise UnsupportedError("scaled_dot_product_attention with dropout or enable_gqa")
        qkv = [call.arg(i, n) for i, n in enumerate(("query", "key", "value"))]
        if len(call.inputs) != 4 or [getattr(t, "index", None) for t in qkv] != [0, 1, 2]:
            raise UnsupportedError("scaled_dot_product_attention of q, k, v not all activations")
        first = dataclasses.replace(call, inputs=call.inputs[:3], layouts=call.layouts[:3])
        _traced(first, 3, "scaled_dot_product_attention")
        _batch_leads(first, "scaled_dot_product_attention")
        elementwise_operands(call, "an attention mask")
        return cls(folded=call.layouts[0] == "fold")

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.MaskedScaledDotProductAttention(self.mask_grad, self.folded)


# ---------------------------------------------------------------- elementwise


@register
@dataclass(frozen=True, slots=True)
class Div(Parameterless, Layer):
    """``a / b`` of two activations, broadcast as torch does (``x / norm``); a tensor by a
    number is :class:`~archcalc.kinds.arith.Scale`. One FLOP per output element. Saved for
    backward (measured): both operands (``g / b`` and ``-g·a / b²``).

    >>> Div().out_shape(((3, 5, 7), (1, 5, 1)))
    (3, 5, 7)
    """

    arity: ClassVar[int | None] = None
    head_role: ClassVar[str | None] = "keep"

    count_fvcore = fvcore_unhandled("div")
    count_ptflops_hook = ptflops_no_hook("a division (not a module)")
    count_ptflops_functional = ptflops_no_patch("the / operator, Tensor.div and torch.div")
    count_thop = thop_no_hook("a division (not a module)")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((3, 5, 7), (1, 5, 1))

    def out_shape(self, ins: Shapes) -> Shape:
        if len(ins) != 2:
            raise ShapeError(f"Div takes two inputs, got {len(ins)}")
        return broadcast(self.kind, ins)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0", "in1")

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tensor_math.Div",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.div",
        "Tensor.div_",
        "Tensor.__truediv__",
        "Tensor.true_divide",
        "torch.div",
        "torch.true_divide",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls()
        if call.arg(2, "rounding_mode") is not None:
            raise UnsupportedError("a division with rounding")
        if len(call.inputs) != 2:
            raise UnsupportedError("not a division of two tensors")
        elementwise_operands(call, "a division")
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.Div()


@register
@dataclass(frozen=True, slots=True)
class Pow(Parameterless, Layer):
    """``x ** exponent`` for a number ``exponent`` (``x.pow(p)``, ``torch.pow``,
    ``x.square()``). One FLOP per element. Saved for backward (measured): the input.

    >>> Pow(2.0).flops(((3, 5),), (3, 5))
    15
    """

    exponent: float = 2.0

    head_role: ClassVar[str | None] = "keep"

    count_fvcore = fvcore_unhandled("pow")
    count_ptflops_hook = ptflops_no_hook("a power (not a module)")
    count_ptflops_functional = ptflops_no_patch("the ** operator, Tensor.pow and torch.pow")
    count_thop = thop_no_hook("a power (not a module)")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(3.0), ((3, 5, 7),)

    def out_shape(self, ins: Shapes) -> Shape:
        return ins[0]

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        return _POINTWISE

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in0",)

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tensor_math.Pow",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.pow",
        "Tensor.__pow__",
        "torch.pow",
        "Tensor.square",
        "torch.square",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls(float(call.module.exponent))
        _traced(call, 1, "a power of a tensor")
        p = 2 if call.op.endswith("square") else call.arg(1, "exponent")
        if not _number(p) or not isinstance(call.arg(0, "input"), TensorArg):
            raise UnsupportedError(f"a power with exponent {p!r}; archcalc's Pow takes a number")
        if p == 1:
            return None
        return cls(float(p))

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.Pow(self.exponent)


#: elementwise functions of one tensor and what their backward keeps (measured)
_UNARY_SAVES: dict[str, tuple[str, ...]] = {
    "exp": ("out",),
    "log": ("in0",),
    "sqrt": ("out",),
    "rsqrt": ("out",),
    "reciprocal": ("out",),
    "sin": ("in0",),
    "cos": ("in0",),
    "abs": ("in0",),
    "erf": ("in0",),
    "sign": (),
}


@register
@dataclass(frozen=True, slots=True)
class Unary(Parameterless, Layer):
    """An elementwise function of one tensor, ``op``: ``exp``, ``log``, ``sqrt``, ``rsqrt``,
    ``reciprocal`` (also ``1 / x``; ``c / x`` is it followed by :class:`~.arith.Scale`),
    ``sin``, ``cos``, ``abs``, ``erf``, ``sign`` (rotary and Fourier position features, RMS
    norms written out). One FLOP per element. Saved for backward (measured): the output for
    exp, sqrt, rsqrt and reciprocal, the input for log, sin, cos, abs and erf, nothing for
    sign. Every foreign tool counts 0.

    >>> Unary("rsqrt").saved(((4, 5),), (4, 5), 2)
    ('out',)
    """

    op: str = field(default="exp", metadata={"valid": tuple(_UNARY_SAVES)})

    head_role: ClassVar[str | None] = "keep"

    count_fvcore = fvcore_unhandled("exp / log / sqrt / rsqrt / reciprocal / sin / cos / abs ...")
    count_ptflops_hook = ptflops_no_hook("an elementwise function (not a module)")
    count_ptflops_functional = ptflops_no_patch("torch.exp, torch.sin, ... and their methods")
    count_thop = thop_no_hook("an elementwise function (not a module)")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls("sin"), ((3, 5, 7),)

    def out_shape(self, ins: Shapes) -> Shape:
        return ins[0]

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out)

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        return _POINTWISE

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return _UNARY_SAVES[self.op]

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tensor_math.Unary",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        *(f"Tensor.{op}" for op in _UNARY_SAVES),
        *(f"torch.{op}" for op in _UNARY_SAVES),
        "torch.Tensor.__rdiv__",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls(call.module.op)
        _traced(call, 1, "an elementwise function")
        name = call.op.rsplit(".", 1)[-1]
        if name in _UNARY_SAVES:
            return cls(name)
        # `c / x` runs torch.Tensor.__rdiv__(x, c) (traced as a function call, shown as
        # operator.truediv): c times the reciprocal
        c = call.arg(1, "other")
        reflected = "rdiv" in name or (name == "truediv" and call.called_as == "function")
        if reflected and _number(c) and c != 0:
            from .arith import Scale  # (arith imports this module)

            return cls("reciprocal") if c == 1 else (cls("reciprocal"), Scale(float(c)))
        raise UnsupportedError(f"{call.op}: not an elementwise function archcalc knows")

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.Unary(self.op)


@register
@dataclass(frozen=True, slots=True)
class Clamp(Parameterless, Layer):
    """``torch.clamp(x, min, max)`` with numbers (``x.clamp_min(c)``, ``x.clamp_max(c)``; a
    bound ``None`` is absent), or with ``tensor_bounds`` bounds given as 0-d buffers (Gemma
    4's clippable linears; each counted as one buffer element, their values unknown to
    archcalc): one comparison per bound and element. Saved for backward (measured): the
    input (the mask of the elements inside the bounds is computed from it), and the bound
    buffers themselves.

    >>> Clamp(max=4.6).flops(((3, 5),), (3, 5))
    15
    """

    min: Any = None
    max: Any = None
    tensor_bounds: Any = 0

    head_role: ClassVar[str | None] = "keep"

    count_fvcore = counts_zero(
        "aten::clamp is in fvcore's _IGNORED_OPS; aten::clamp_min / clamp_max have no handle"
    )
    count_ptflops_hook = ptflops_no_hook("a clamp (not a module)")
    count_ptflops_functional = ptflops_no_patch("torch.clamp and Tensor.clamp")
    count_thop = thop_no_hook("a clamp (not a module)")

    def __post_init__(self) -> None:
        for name in ("min", "max"):
            v = getattr(self, name)
            if v is not None and (not _number(v) or not math.isfinite(v)):
                raise invalid(self.kind, name, v, "must be a finite number or None")
        if not (isinstance(self.tensor_bounds, int) and 0 <= self.tensor_bounds <= 2) or (
            isinstance(self.tensor_bounds, bool)
        ):
            raise invalid(self.kind, "tensor_bounds", self.tensor_bounds, "must be 0, 1 or 2")
        if self.min is None and self.max is None and not self.tensor_bounds:
            raise invalid(self.kind, "min", None, "must be a number when max is None")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(0.0, 6.0), ((3, 5, 7),)

    def out_shape(self, ins: Shapes) -> Shape:
        return ins[0]

    def flops(self, ins: Shapes, out: Shape) -> Num:
        bounds = (self.min is not None) + (self.max is not None) + self.tensor_bounds
        return bounds * prod(out)

    def buffers(self, ins: Shapes) -> Num:
        return self.tensor_bounds

    def geometry(self, ins: Shapes, out: Shape) -> tuple[AxisGeom, AxisGeom]:
        return _POINTWISE

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        if self.tensor_bounds:
            return ("in0", Extra(self.tensor_bounds, None, "the bound buffers", buffer=True))
        return ("in0",)

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tensor_math.Clamp",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.clamp",
        "torch.clamp",
        "Tensor.clip",
        "torch.clip",
        "Tensor.clamp_min",
        "torch.clamp_min",
        "Tensor.clamp_max",
        "torch.clamp_max",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            m = call.module
            return cls(m.min, m.max, int(getattr(m, "tensor_bounds", 0)))
        bufs = call.params()
        if bufs:
            # bounds given as 0-d buffers (their values are not known: meta tensors)
            if any(b.is_param or tuple(b.shape) != () for b in bufs) or len(call.inputs) != 1:
                raise UnsupportedError("a clamp whose tensor bounds are not 0-d buffers")
            first = dataclasses.replace(call, args=call.args[:1], kwargs={})
            _traced(first, 1, "a clamp")
            names = ("min", "max")
            if any(
                call.arg(i, n) is not None and not isinstance(call.arg(i, n), TensorArg)
                for i, n in enumerate(names, 1)
            ):
                raise UnsupportedError("a clamp with a number and a tensor bound")
            return cls(tensor_bounds=len(bufs))
        _traced(call, 1, "a clamp")
        name = call.op.rsplit(".", 1)[-1]
        if name in ("clamp_min", "clamp_max"):
            lo, hi = (
                (call.arg(1, "min"), None) if name == "clamp_min" else (None, call.arg(1, "max"))
            )
        else:
            lo, hi = call.arg(1, "min"), call.arg(2, "max")
        if any(v is not None and not _number(v) for v in (lo, hi)) or (lo is None and hi is None):
            raise UnsupportedError("a clamp whose bounds are not numbers")
        return cls(None if lo is None else float(lo), None if hi is None else float(hi))

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.Clamp(self.min, self.max)
