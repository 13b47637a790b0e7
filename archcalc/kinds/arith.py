"""Elementwise arithmetic beyond sums and products of tensors: ``Sub`` (``x - y``) and
``Scale`` (``x * c``, ``x / c`` for a number ``c``)."""

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
from ._rules import Parameterless, fvcore_unhandled, ptflops_no_hook, ptflops_no_patch, thop_no_hook
from .tensor_math import broadcast, elementwise_operands


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
