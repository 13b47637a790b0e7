"""Merges of several inputs: ``Add``, ``Mul``, ``Concat``."""

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
    _eq_known_false,
    _fmt,
    invalid,
    register,
)
from ._operands import broadcast, elementwise_operands
from ._rules import (
    Parameterless,
    counts,
    fvcore_ignored,
    fvcore_unhandled,
    ptflops_no_hook,
    ptflops_no_patch,
    thop_no_hook,
)


def _patched(call: TorchCall, names: tuple[str, ...]) -> bool | None:
    """Whether ``call`` is one ptflops patches (``names``: a method or function, not an
    operator); ``None`` when it is, with a parameter or constant operand: ptflops then
    broadcasts the full shapes aligning their leading axes, which depends on the operand's
    rank before the importer dropped its leading 1s (not kept): unknown."""
    if call.op not in names:
        return False
    return None if "const" in call.layouts else True


def _patched_count(layer: Any, ins: Shapes, out: Shape, b: Any) -> Any:
    if layer.patched is None:
        raise UnsupportedError(
            f"{layer.kind}: ptflops' count of a patched call with a parameter or constant "
            f"operand depends on the operand's rank before broadcasting (not known)"
        )
    return b * prod(out) if layer.patched else 0


def _check_patched(layer: Any) -> None:
    if layer.patched not in (False, True, None):
        raise invalid(layer.kind, "patched", layer.patched, "must be true, false or null")


# ---------------------------------------------------------------- merges


@register
@dataclass(frozen=True, slots=True)
class Add(Parameterless, Layer):
    """Elementwise sum of two or more tensors (a residual connection), broadcast as torch
    broadcasts them, the trailing axes aligned (a ``(1, L, L)`` mask added to ``(h, L, L)``
    scores): one add per output element and summand after the first. ``patched``: called
    as ``x.add(y)`` / ``torch.add(x, y)``, which ptflops patches (not the ``+`` operator);
    ``None``: so called with a parameter or constant operand, whose count by ptflops is not
    known (that convention raises)."""

    patched: Any = False

    arity: ClassVar[int | None] = None
    grad_shared: ClassVar[bool] = True

    count_fvcore = fvcore_unhandled("add")
    count_ptflops_hook = ptflops_no_hook("archcalc.torch's Add")
    count_ptflops_functional = counts(
        "the output numel for x.add(y) / torch.add(x, y) (ptflops "
        "_elementwise_tensor_flops_hook, not divided by the batch); 0 for the + operator "
        "(not patched)",
        _patched_count,
        short="N·out (patched add), else 0",
    )
    count_thop = thop_no_hook("archcalc.torch's Add")

    def __post_init__(self) -> None:
        _check_patched(self)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((4, 9, 11), (4, 9, 11), (4, 9, 11))

    def out_shape(self, ins: Shapes) -> Shape:
        return broadcast(self.kind, ins)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return (len(ins) - 1) * prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    torch_modules: ClassVar[tuple[str, ...]] = (
        "archcalc.torch.build.Add",
        "archcalc.torch.tensor_math.Binary",
    )
    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.add",
        "Tensor.add_",
        "Tensor.__radd__",
        "torch.add",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            if getattr(call.module, "op", "add") != "add":
                raise UnsupportedError("not an addition")
            return cls(patched=getattr(call.module, "patched", False))
        alpha = call.arg(2, "alpha", 1)
        if alpha != 1:
            raise UnsupportedError(f"add with alpha={alpha!r}")
        if len(call.inputs) == 1:
            other = _other_operand(call)
            if isinstance(other, (int, float)) and not isinstance(other, bool) and other == 0:
                return None  # x + 0 (sum() starts with 0)
            raise UnsupportedError(f"an addition of {_describe(other)}; archcalc adds tensors")
        elementwise_operands(call, "an addition")
        return cls(patched=_patched(call, ("Tensor.add", "torch.add")))

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.Binary("add") if self.patched is not False else tb.Add()


@register
@dataclass(frozen=True, slots=True)
class Mul(Parameterless, Layer):
    """Elementwise product of two or more tensors, broadcast as torch broadcasts them (a
    ``(C, 1, 1)`` squeeze-excitation gate, ``x * sigmoid(gate)`` of any rank). ``patched``:
    called as ``x.mul(y)`` / ``torch.mul(x, y)``, which ptflops patches (not ``*``);
    ``None``: so called with a parameter or constant operand (ptflops' count unknown)."""

    patched: Any = False

    arity: ClassVar[int | None] = None
    operands_for_each_other: ClassVar[bool] = True

    count_fvcore = fvcore_unhandled("mul")
    count_ptflops_hook = ptflops_no_hook("archcalc.torch's Mul")
    count_ptflops_functional = counts(
        "the output numel for x.mul(y) / torch.mul(x, y) (ptflops "
        "_elementwise_tensor_flops_hook, not divided by the batch); 0 for the * operator "
        "(not patched)",
        _patched_count,
        short="N·out (patched mul), else 0",
    )
    count_thop = thop_no_hook("archcalc.torch's Mul")

    def __post_init__(self) -> None:
        _check_patched(self)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((4, 9, 11), (4, 1, 1))

    def out_shape(self, ins: Shapes) -> Shape:
        return broadcast(self.kind, ins)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return (len(ins) - 1) * prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        # n inputs run as n - 1 binary products; each keeps both operands, so the n - 2
        # partial products are kept too
        partial = Extra((len(ins) - 2) * batch * prod(out), None, "partial products")
        return (*(f"in{i}" for i in range(len(ins))), *((partial,) if len(ins) > 2 else ()))

    torch_modules: ClassVar[tuple[str, ...]] = (
        "archcalc.torch.build.Mul",
        "archcalc.torch.tensor_math.Binary",
    )
    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.mul",
        "Tensor.mul_",
        "Tensor.__rmul__",
        "Tensor.multiply",
        "torch.mul",
        "torch.multiply",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            if getattr(call.module, "op", "mul") != "mul":
                raise UnsupportedError("not a product")
            return cls(patched=getattr(call.module, "patched", False))
        if len(call.inputs) == 2:
            elementwise_operands(call, "a product")
            names = ("Tensor.mul", "torch.mul", "Tensor.multiply", "torch.multiply")
            return cls(patched=_patched(call, names))
        other = _other_operand(call)
        if isinstance(other, (int, float)) and not isinstance(other, bool) and other == 1:
            return None
        raise UnsupportedError(f"a product with {_describe(other)}; archcalc multiplies tensors")

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.Binary("mul") if self.patched is not False else tb.Mul()


@register
@dataclass(frozen=True, slots=True)
class Concat(Parameterless, Layer):
    """Concatenation along channels of maps with equal height and width. One input is
    allowed: ``torch.cat([x])`` is a copy (DenseNet's first layer of a block does it)."""

    arity: ClassVar[int | None] = None
    min_inputs: ClassVar[int] = 1
    grad_views: ClassVar[bool] = True

    count_fvcore = fvcore_ignored("cat")
    count_ptflops_hook = ptflops_no_hook("archcalc.torch's Concat")
    count_ptflops_functional = ptflops_no_patch("torch.cat")
    count_thop = thop_no_hook("archcalc.torch's Concat")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((4, 9, 11), (3, 9, 11))

    def out_shape(self, ins: Shapes) -> Shape:
        first = ins[0]
        for i, s in enumerate(ins[1:], 1):
            if len(s) != len(first) or any(_eq_known_false(a, b) for a, b in zip(s[1:], first[1:])):
                raise ShapeError(
                    f"{self.kind}: input {i} has shape {_fmt(s)} but input 0 has {_fmt(first)}; "
                    f"concatenation needs equal height and width"
                )
        total = ins[0][0]
        for s in ins[1:]:
            total = total + s[0]
        return (total, *first[1:])

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return 0

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.build.Concat",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.cat", "torch.concat", "torch.concatenate")

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls()
        dim = call.arg(1, "dim", 0)
        if call.kwargs.get("axis") is not None:
            dim = call.kwargs["axis"]
        ndim = len(call.inputs[0]) + 1
        if call.params():
            raise UnsupportedError("a concatenation with a parameter (a learned token)")
        if not isinstance(dim, int) or dim % ndim != 1 or any(v != "std" for v in call.layouts):
            raise UnsupportedError(
                f"a concatenation along dim {dim}; archcalc concatenates channels"
            )
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.Concat()


def _other_operand(call: TorchCall) -> Any:
    for v in (call.arg(0, "input"), call.arg(1, "other")):
        if getattr(v, "index", None) is None:
            return v
    return None


def _describe(v: Any) -> str:
    if getattr(v, "param", None) is not None:
        return f"the {'parameter' if v.is_param else 'buffer'} '{v.param}'"
    if isinstance(v, (int, float)):
        return f"the constant {v!r}"
    return f"a {type(v).__name__}"
