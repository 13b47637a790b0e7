"""Fused elementwise ops of several operands: ``Addcmul`` (``torch.addcmul``, timm's
GlobalResponseNorm in ConvNeXt V2 and CSATv2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import ShapeError, UnsupportedError
from .._math import Num, prod
from ._base import Extra, Layer, Shape, Shapes, TorchCall, invalid, register
from ._operands import broadcast, elementwise_operands
from ._rules import Parameterless, fvcore_unhandled, ptflops_no_hook, ptflops_no_patch, thop_no_hook


@register
@dataclass(frozen=True, slots=True)
class Addcmul(Parameterless, Layer):
    """``torch.addcmul(input, tensor1, tensor2, value=v)``: ``input + v·tensor1·tensor2``,
    the three operands broadcast as torch broadcasts them (timm's GlobalResponseNorm:
    ``bias + weight·(x·x_n)``, the affine operands parameters viewed as ``(1, 1, 1, C)``).

    FLOPs: a product and a sum per output element, and one more product when ``v ≠ 1``.
    Training keeps ``tensor1`` and ``tensor2`` (each for the other's gradient).

    >>> Addcmul().out_shape(((4, 1, 1), (4, 1, 1), (4, 9, 11)))
    (4, 9, 11)
    """

    value: float = 1.0

    #: three operands, merged as Add and Mul merge theirs: each output unit's field is the
    #: union of its operands' (a broadcast gate adds global context)
    arity: ClassVar[int | None] = None

    count_fvcore = fvcore_unhandled("addcmul")
    count_ptflops_hook = ptflops_no_hook("archcalc.torch's Addcmul")
    count_ptflops_functional = ptflops_no_patch("torch.addcmul")
    count_thop = thop_no_hook("archcalc.torch's Addcmul")

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise invalid(self.kind, "value", self.value, "must be a number", wrong_type=True)

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((4, 1, 1), (4, 1, 1), (4, 9, 11))

    def out_shape(self, ins: Shapes) -> Shape:
        if len(ins) != 3:
            raise ShapeError(
                f"Addcmul takes three inputs (input, tensor1, tensor2), got {len(ins)}"
            )
        return broadcast(self.kind, ins)

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return prod(out) * (2 if self.value == 1 else 3)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ("in1", "in2")

    torch_modules: ClassVar[tuple[str, ...]] = ()
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.addcmul",
        "Tensor.addcmul",
        "Tensor.addcmul_",
    )

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if len(call.inputs) != 3:
            raise UnsupportedError("addcmul of fewer than three tensors")
        elementwise_operands(call, "addcmul")
        v = call.arg(3, "value", 1)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise UnsupportedError(f"addcmul with value={v!r}")
        return cls(float(v))

    def to_torch(self, tb: Any) -> Any:
        value = self.value

        class AddcmulModule(tb.nn.Module):  # type: ignore[name-defined,misc]
            def forward(self, a: Any, t1: Any, t2: Any) -> Any:
                return tb.torch.addcmul(a, t1, t2, value=value)

        return AddcmulModule()
