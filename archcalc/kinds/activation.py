"""Elementwise activations (and ``Identity``): one input, output of the same shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import UnsupportedError
from .._math import Num, prod
from ._base import (
    Extra,
    Layer,
    Shape,
    Shapes,
    TorchCall,
    register,
)
from ._rules import (
    Parameterless,
    counts,
    counts_zero,
    fvcore_ignored,
    fvcore_unhandled,
    numel,
    ptflops_no_hook,
    ptflops_no_patch,
    thop_no_hook,
)

# ---------------------------------------------------------------- elementwise activations

#: ptflops relu_flops_counter_hook (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU): output numel
_OUT_NUMEL_HOOK = counts(
    "output numel (ptflops relu_flops_counter_hook)", lambda s, i, o, b: b * numel(o), short="N·out"
)


@dataclass(frozen=True, slots=True)
class _Elementwise(Parameterless, Layer):
    #: FLOPs per element under archcalc's convention
    flops_per_element: ClassVar[int] = 0
    #: which tensor autograd saves: "in0" or "out"
    saves: ClassVar[str] = "in0"
    head_role: ClassVar[str | None] = "keep"

    @classmethod
    def example(cls) -> tuple[Layer, Shapes]:
        return cls(), ((4, 9, 11),)

    def out_shape(self, ins: Shapes) -> Shape:
        return ins[0]

    def flops(self, ins: Shapes, out: Shape) -> Num:
        return self.flops_per_element * prod(out)

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return (self.saves,)


@register
@dataclass(frozen=True, slots=True)
class Identity(_Elementwise):
    """Identity; a view of its input."""

    count_fvcore = counts_zero("nn.Identity runs no aten op")
    count_ptflops_hook = ptflops_no_hook("nn.Identity")
    count_ptflops_functional = counts_zero("nn.Identity calls no function")
    count_thop = thop_no_hook("nn.Identity")

    alias: ClassVar[bool] = True

    def saved(self, ins: Shapes, out: Shape, batch: Any) -> tuple[str | Extra, ...]:
        return ()

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Identity",)

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.Identity()


@register
@dataclass(frozen=True, slots=True)
class ReLU(_Elementwise):
    """max(x, 0): one comparison per element; autograd keeps the output."""

    count_fvcore = fvcore_ignored("relu")
    count_ptflops_hook = _OUT_NUMEL_HOOK
    count_ptflops_functional = counts(
        "output numel: nn.ReLU calls the patched F.relu (ptflops "
        "_numel_functional_flops_hook), so a ReLU counts twice",
        lambda s, i, o, b: b * numel(o),
        short="N·out",
    )
    count_thop = counts_zero("nn.ReLU is in thop's zero_ops")
    ptflops_hooked: ClassVar[bool] = True
    inplace_free: ClassVar[bool] = True
    thop_hooked: ClassVar[bool] = True

    flops_per_element: ClassVar[int] = 1
    saves: ClassVar[str] = "out"

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.ReLU",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.nn.functional.relu",
        "torch.nn.functional.relu_",
        "torch.relu",
        "torch.relu_",
        "Tensor.relu",
        "Tensor.relu_",
        "torch.clamp",
        "torch.clamp_",
        "torch.clip",
        "torch.clamp_min",
        "Tensor.clamp",
        "Tensor.clamp_",
        "Tensor.clip",
        "Tensor.clamp_min",
        "Tensor.clamp_min_",
    )
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        if "clamp" in call.op or "clip" in call.op:
            lo, hi = call.arg(1, "min"), call.arg(2, "max")
            if not (lo == 0 and hi is None):
                raise UnsupportedError(
                    f"clamp(min={lo!r}, max={hi!r}): only clamp(min=0) (ReLU) and clamp(0, 6)"
                    f" (ReLU6) have archcalc layers"
                )
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.ReLU()


@register
@dataclass(frozen=True, slots=True)
class ReLU6(_Elementwise):
    """min(max(x, 0), 6): two comparisons; autograd keeps the input (hardtanh)."""

    count_fvcore = fvcore_unhandled("hardtanh")
    count_ptflops_hook = _OUT_NUMEL_HOOK
    count_ptflops_functional = ptflops_no_patch("F.hardtanh (nn.ReLU6's forward)")
    count_thop = counts_zero("nn.ReLU6 is in thop's zero_ops")
    ptflops_hooked: ClassVar[bool] = True
    thop_hooked: ClassVar[bool] = True

    flops_per_element: ClassVar[int] = 2

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Hardtanh",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.nn.functional.relu6",
        "torch.nn.functional.hardtanh",
        "torch.nn.functional.hardtanh_",
        "torch.clamp",
        "torch.clamp_",
        "torch.clip",
        "Tensor.clamp",
        "Tensor.clamp_",
        "Tensor.clip",
    )
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        if m is not None:
            lo, hi = m.min_val, m.max_val
        elif "relu6" in call.op:
            lo, hi = 0.0, 6.0
        elif "hardtanh" in call.op:
            lo, hi = call.arg(1, "min_val", -1.0), call.arg(2, "max_val", 1.0)
        else:
            lo, hi = call.arg(1, "min"), call.arg(2, "max")
            if not (lo == 0 and hi == 6):
                raise UnsupportedError(
                    f"clamp(min={lo!r}, max={hi!r}): only clamp(min=0) (ReLU) and clamp(0, 6)"
                    f" (ReLU6) have archcalc layers"
                )
            return cls()
        if (lo, hi) != (0.0, 6.0):
            raise UnsupportedError(
                f"hardtanh({lo}, {hi}): only hardtanh(0, 6), i.e. ReLU6, has an archcalc layer"
            )
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.ReLU6()


@register
@dataclass(frozen=True, slots=True)
class LeakyReLU(_Elementwise):
    """x if x > 0 else a·x: a comparison and a multiply; autograd keeps the input."""

    count_fvcore = fvcore_unhandled("leaky_relu")
    count_ptflops_hook = _OUT_NUMEL_HOOK
    count_ptflops_functional = ptflops_no_patch("F.leaky_relu (nn.LeakyReLU's forward)")
    count_thop = counts_zero("thop count_relu -> calculate_relu_flops returns 0")
    ptflops_hooked: ClassVar[bool] = True
    thop_hooked: ClassVar[bool] = True
    inplace_free: ClassVar[bool] = True

    negative_slope: float = 0.01
    flops_per_element: ClassVar[int] = 2

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.LeakyReLU",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.nn.functional.leaky_relu",
        "torch.nn.functional.leaky_relu_",
    )
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        m = call.module
        slope = m.negative_slope if m is not None else call.arg(1, "negative_slope", 0.01)
        return cls(float(slope))

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.LeakyReLU(self.negative_slope)


@register
@dataclass(frozen=True, slots=True)
class SiLU(_Elementwise):
    """x·sigmoid(x): 5 FLOPs per element by convention; autograd keeps the input."""

    count_fvcore = fvcore_unhandled("silu")
    count_ptflops_hook = ptflops_no_hook("nn.SiLU")
    count_ptflops_functional = counts(
        "input numel: nn.SiLU calls the patched F.silu (ptflops _numel_functional_flops_hook)",
        lambda s, i, o, b: b * numel(i[0]),
        short="N·in",
    )
    count_thop = thop_no_hook("nn.SiLU")

    flops_per_element: ClassVar[int] = 5

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.SiLU",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.silu",)
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.SiLU()


@register
@dataclass(frozen=True, slots=True)
class GELU(_Elementwise):
    """Gaussian error linear unit: 5 FLOPs per element by convention; keeps the input."""

    count_fvcore = fvcore_unhandled("gelu")
    count_ptflops_hook = _OUT_NUMEL_HOOK
    count_ptflops_functional = counts(
        "output numel: nn.GELU calls the patched F.gelu (ptflops _numel_functional_flops_hook)",
        lambda s, i, o, b: b * numel(o),
        short="N·out",
    )
    count_thop = thop_no_hook("nn.GELU")
    ptflops_hooked: ClassVar[bool] = True

    flops_per_element: ClassVar[int] = 5

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.GELU",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.gelu",)
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.GELU()


@register
@dataclass(frozen=True, slots=True)
class Sigmoid(_Elementwise):
    """1 / (1 + exp(-x)): 4 FLOPs per element by convention; autograd keeps the output."""

    count_fvcore = fvcore_unhandled("sigmoid")
    count_ptflops_hook = ptflops_no_hook("nn.Sigmoid")
    count_ptflops_functional = ptflops_no_patch("torch.sigmoid (nn.Sigmoid's forward)")
    count_thop = thop_no_hook("nn.Sigmoid")

    flops_per_element: ClassVar[int] = 4
    saves: ClassVar[str] = "out"

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Sigmoid",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.sigmoid",
        "torch.sigmoid_",
        "torch.nn.functional.sigmoid",
        "Tensor.sigmoid",
        "Tensor.sigmoid_",
    )
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.Sigmoid()


@register
@dataclass(frozen=True, slots=True)
class Hardswish(_Elementwise):
    """x·relu6(x + 3)/6: 5 FLOPs per element by convention; autograd keeps the input."""

    count_fvcore = fvcore_unhandled("hardswish")
    count_ptflops_hook = ptflops_no_hook("nn.Hardswish")
    count_ptflops_functional = ptflops_no_patch("F.hardswish")
    count_thop = thop_no_hook("nn.Hardswish")

    flops_per_element: ClassVar[int] = 5

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Hardswish",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.hardswish",)
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.Hardswish()


@register
@dataclass(frozen=True, slots=True)
class Hardsigmoid(_Elementwise):
    """relu6(x + 3)/6: 4 FLOPs per element by convention; autograd keeps the input."""

    count_fvcore = fvcore_unhandled("hardsigmoid")
    count_ptflops_hook = ptflops_no_hook("nn.Hardsigmoid")
    count_ptflops_functional = ptflops_no_patch("F.hardsigmoid")
    count_thop = thop_no_hook("nn.Hardsigmoid")

    flops_per_element: ClassVar[int] = 4

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Hardsigmoid",)
    torch_functions: ClassVar[tuple[str, ...]] = ("torch.nn.functional.hardsigmoid",)
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.Hardsigmoid()


@register
@dataclass(frozen=True, slots=True)
class Tanh(_Elementwise):
    """tanh(x): 1 FLOP per element by convention (one library call); keeps the output."""

    count_fvcore = fvcore_unhandled("tanh")
    count_ptflops_hook = ptflops_no_hook("nn.Tanh")
    count_ptflops_functional = ptflops_no_patch("torch.tanh (nn.Tanh's forward)")
    count_thop = thop_no_hook("nn.Tanh")

    flops_per_element: ClassVar[int] = 1
    saves: ClassVar[str] = "out"

    torch_modules: ClassVar[tuple[str, ...]] = ("torch.nn.Tanh",)
    torch_functions: ClassVar[tuple[str, ...]] = (
        "torch.tanh",
        "torch.tanh_",
        "torch.nn.functional.tanh",
        "Tensor.tanh",
        "Tensor.tanh_",
    )
    probe_identity: ClassVar[bool] = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> Any:
        return cls()

    def to_torch(self, tb: Any) -> Any:
        return tb.nn.Tanh()
