"""Elementwise arithmetic beyond sums and products of tensors: ``Sub`` (``x - y``),
``Scale`` (``x * c``, ``x / c``, ``-x`` for a number ``c``) and ``Shift`` (``x + c``,
``x - c``, ``c - x``)."""

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
    invalid,
    register,
)
from ._operands import broadcast, elementwise_operands
from ._rules import (
    Parameterless,
    counts,
    fvcore_unhandled,
    ptflops_no_hook,
    ptflops_no_patch,
    thop_no_hook,
)


@register
@dataclass(frozen=True, slots=True)
class Sub(Parameterless, Layer):
    """Elementwise difference ``x - y`` of two tensors, broadcast as torch broadcasts them
    (the trailing axes aligned): one FLOP per output element, nothing saved for backward
    (the gradients are ``g`` and ``-g``, summed over a broadcast axis).

    >>> Sub().out_shape(((4, 5, 5), (4, 5, 5)))
    (4, 5, 5)
    """

    #: two inputs (checked by out_shape); None: the receptive fields of both are united
    arity: ClassVar[int | None] = None
    head_role: ClassVar[str | None] = "keep"

    count_fvcore = fvcore_unhandled("sub")
    count_ptflops_hook = ptflops_no_hook("archcalc.torch's Sub (a tensor subtraction)")
    count_ptflops_functional = ptflops_no_patch("the - operator / Tensor.sub")
    count_thop = thop_no_hook("archcalc.torch's Sub (a tensor subtraction)")

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.build.Sub",)
    torch_functions: ClassVar[tuple[str, ...]] = ("Tensor.sub", "Tensor.sub_", "torch.sub")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((4, 9, 11), (4, 9, 11))

    def out_shape(self, ins: Shapes) -> Shape:
        if len(ins) != 2:
            raise ShapeError(f"Sub takes two inputs, got {len(ins)}")
        return broadcast(self.kind, ins)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls()
        alpha = call.arg(2, "alpha", 1)
        if alpha != 1:
            raise UnsupportedError(f"sub with alpha={alpha!r}")
        if len(call.inputs) != 2:
            raise UnsupportedError("not a difference of two tensors")
        elementwise_operands(call, "a difference")
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.Sub()


@register
@dataclass(frozen=True, slots=True)
class Scale(Parameterless, Layer):
    """``x * factor`` for a number ``factor`` (``x / c`` is ``factor = 1 / c``, ``-x`` is
    ``factor = -1``): one FLOP per element, nothing saved for backward (the gradient is
    ``factor · g``).

    >>> Scale(0.17).out_shape(((8, 3, 3),))
    (8, 3, 3)
    """

    factor: float

    head_role: ClassVar[str | None] = "keep"

    count_fvcore = fvcore_unhandled("mul / aten::div (by a number)")
    count_ptflops_hook = ptflops_no_hook("a product with a number (not a module)")
    count_ptflops_functional = ptflops_no_patch("the * and / operators")
    count_thop = thop_no_hook("a product with a number (not a module)")

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.build.Scale",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.mul",
        "Tensor.mul_",
        "Tensor.__rmul__",
        "torch.mul",
        "Tensor.div",
        "Tensor.div_",
        "Tensor.__truediv__",
        "Tensor.__itruediv__",
        "torch.div",
        "Tensor.neg",
        "torch.neg",
        "Tensor.negative",
        "torch.negative",
    )

    def __post_init__(self) -> None:
        if self.factor == 0:
            raise invalid(self.kind, "factor", self.factor, "must not be 0")

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(0.5), ((4, 9, 11),)

    def out_shape(self, ins: Shapes) -> Shape:
        return ins[0]

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            return cls(float(call.module.factor))
        if len(call.inputs) != 1:
            raise UnsupportedError("not a product of one tensor and a number")
        if call.op.rsplit(".", 1)[-1] in ("neg", "negative"):
            return cls(-1.0)  # -x
        pos = (call.arg(0, "input"), call.arg(1, "other"))
        c = next((v for v in pos if getattr(v, "index", None) is None), None)
        if isinstance(c, bool) or not isinstance(c, (int, float)):
            raise UnsupportedError("not a product of one tensor and a number")
        if "div" in call.op:
            if call.arg(2, "rounding_mode") is not None or c == 0:
                raise UnsupportedError("a division with rounding or by 0")
            if getattr(pos[0], "index", None) is None:
                raise UnsupportedError("a number divided by a tensor")
            c = 1.0 / c
        if c == 1:
            return None
        return cls(float(c))

    def to_torch(self, tb: Any) -> Any:
        return tb.Scale(self.factor)


@register
@dataclass(frozen=True, slots=True)
class Shift(Parameterless, Layer):
    """A number added to a tensor, ``x + value`` (``x - c`` is ``value = -c``), or with
    ``negate`` subtracted from it, ``value - x`` (convit's ``1. - sigmoid(gating)``): one
    FLOP per element, nothing saved for backward (the gradient is ``±g``). ``patched``: the
    call is ``x.add(c)`` / ``torch.add(x, c)``, which ptflops patches (not the operators).

    >>> Shift(1.0, negate=True).out_shape(((8, 3, 3),))
    (8, 3, 3)
    """

    value: float
    negate: bool = False
    patched: bool = False

    head_role: ClassVar[str | None] = "keep"

    count_fvcore = fvcore_unhandled("add / aten::sub / aten::rsub")
    count_ptflops_hook = ptflops_no_hook("a sum with a number (not a module)")
    count_ptflops_functional = counts(
        "input numel for x.add(c) / torch.add(x, c) (ptflops _elementwise_tensor_flops_hook, "
        "not divided by the batch); 0 for the + and - operators, Tensor.sub and rsub (not "
        "patched)",
        lambda s, i, o, b: b * prod(i[0]) if s.patched else 0,
        short="N·in (patched add), else 0",
    )
    count_thop = thop_no_hook("a sum with a number (not a module)")

    torch_modules: ClassVar[tuple[str, ...]] = ("archcalc.torch.tensor_math.Shift",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "Tensor.add",
        "Tensor.add_",
        "Tensor.__radd__",
        "torch.add",
        "Tensor.sub",
        "Tensor.sub_",
        "torch.sub",
        "torch.Tensor.__rsub__",
        "torch.rsub",
    )

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(1.0, negate=True), ((4, 9, 11),)

    def out_shape(self, ins: Shapes) -> Shape:
        return ins[0]

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if call.module is not None:
            m = call.module
            return cls(float(m.value), bool(m.negate), bool(m.patched))
        if len(call.inputs) != 1 or call.params():
            raise UnsupportedError("not a sum of one tensor and a number")
        a, b = call.arg(0, "input"), call.arg(1, "other")
        alpha = call.arg(2, "alpha", 1)
        name = call.op.rsplit(".", 1)[-1]
        # `c - x` runs torch.Tensor.__rsub__ (a Python function of torch.Tensor, traced as a
        # function call; `x - c` is the method Tensor.sub): both show as operator.sub
        rsub = "rsub" in name or (call.op == "operator.sub" and call.called_as == "function")
        c, x = (a, b) if getattr(a, "index", None) is None else (b, a)
        if (
            getattr(x, "index", None) is None
            or isinstance(c, bool)
            or not isinstance(c, (int, float))
        ):
            raise UnsupportedError("not a sum of one tensor and a number")
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool):
            raise UnsupportedError(f"alpha={alpha!r}")
        if rsub:  # torch.rsub(x, c, alpha) = c - alpha·x; `c - x` arrives as x.__rsub__(c)
            if alpha != 1:
                raise UnsupportedError(f"rsub with alpha={alpha!r}")
            return cls(float(c), negate=True)
        value = c * alpha if x is a else c  # x + alpha·c; c + alpha·x needs alpha 1
        if x is b and alpha != 1:
            raise UnsupportedError(f"a number plus alpha={alpha!r} times a tensor")
        if "sub" in name:
            value = -value
        if value == 0:
            return None
        return cls(float(value), patched=call.op in ("Tensor.add", "torch.add"))

    def to_torch(self, tb: Any) -> Any:
        return tb.tensor_math.Shift(self.value, self.negate, self.patched)
