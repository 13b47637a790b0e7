"""archcalc's own modules for compute ops on tensors of any rank (the kinds of
archcalc/kinds/tensor_math.py build these in their ``to_torch``). Each calls torch the way
the kind's ``op`` says, so that the counting tools see the call they would see in a model
(ptflops patches ``torch.matmul`` and ``F.softmax``, not ``@`` or ``Tensor.softmax``).

Axes are torch's (batch first): a kind's per-sample axis ``a >= 0`` is torch's ``a + 1``, a
negative one is the same in both."""

from __future__ import annotations

import string

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "Matmul",
    "Einsum",
    "TensorSoftmax",
    "Reduce",
    "Normalize",
    "ScaledDotProductAttention",
    "MaskedScaledDotProductAttention",
    "Div",
    "Pow",
    "ChannelScale",
    "Shift",
    "Unary",
    "Clamp",
    "LinearBiasInput",
    "Binary",
    "torch_dim",
]


def _const(t: Tensor, ref: Tensor) -> Tensor:
    """An operand of fewer axes than ``ref``: in archcalc's build a parameter or constant
    arrives broadcast over the batch (archcalc/torch/tensor_ops.py's sources); the model
    reads it once, without that axis (it would align the batch with another axis)."""
    return t[0] if t.dim() < ref.dim() else t


def torch_dim(axis: int) -> int:
    """Torch's dim of a per-sample axis (the batch axis is torch's 0)."""
    return axis + 1 if axis >= 0 else axis


class Matmul(nn.Module):
    """``a @ b`` (op ``"@"``), ``torch.matmul(a, b)`` or ``torch.bmm(a, b)``."""

    def __init__(self, op: str = "matmul", const_second: bool = False) -> None:
        super().__init__()
        self.op, self.const_second = op, const_second

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        b = _const(b, a)
        if self.op == "@":
            return a @ b
        if self.op == "bmm":
            return torch.bmm(a, b)
        return torch.matmul(a, b)


class Einsum(nn.Module):
    """``torch.einsum`` of a per-sample equation, a batch letter put in front of the output
    and of each batched operand (the second is a parameter or constant unless
    ``second_batched``)."""

    def __init__(self, equation: str, second_batched: bool = True, folded: bool = False) -> None:
        super().__init__()
        self.folded = folded  # (read back by the kind: the model's batch was folded)
        letter = next(c for c in string.ascii_letters if c not in equation)
        (a, b), out = equation.split("->")[0].split(","), equation.split("->")[1]
        b = letter + b if second_batched else b
        self.equation = f"{letter}{a},{b}->{letter}{out}"
        self.second_batched = second_batched

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        if not self.second_batched:
            b = b[0]  # a parameter or constant: broadcast over the batch by the build
        return torch.einsum(self.equation, a, b)


class TensorSoftmax(nn.Module):
    """``x.softmax(dim)`` (a tensor method: not ``F.softmax``, which ptflops patches)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return x.softmax(self.dim)


class Reduce(nn.Module):
    """``x.sum(dims)``, ``x.mean(dims)``, ``x.amax(dims)``, ``x.amin(dims)``,
    ``torch.linalg.vector_norm(x, dim=dims)``, the values of ``x.max(dim)`` / ``x.min(dim)``
    or ``x.argmax(dim)`` / ``x.argmin(dim)``."""

    def __init__(self, op: str, dims: tuple[int, ...], keepdim: bool) -> None:
        super().__init__()
        self.op, self.dims, self.keepdim = op, dims, keepdim

    def forward(self, x: Tensor) -> Tensor:
        if self.op == "norm":
            return torch.linalg.vector_norm(x, dim=self.dims, keepdim=self.keepdim)
        if self.op in ("max", "min"):  # the values of torch.max(x, dim)
            return getattr(x, self.op)(self.dims[0], keepdim=self.keepdim)[0]
        if self.op in ("argmax", "argmin"):
            return getattr(x, self.op)(self.dims[0], keepdim=self.keepdim)
        return getattr(x, self.op)(self.dims, keepdim=self.keepdim)


class Normalize(nn.Module):
    """``F.normalize(x, dim=dim)`` (p = 2)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.normalize(x, dim=self.dim)


class ScaledDotProductAttention(nn.Module):
    """``F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)``."""

    def __init__(self, is_causal: bool = False, folded: bool = False) -> None:
        super().__init__()
        self.is_causal, self.folded = is_causal, folded

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        if self.folded:  # the model's batch folded into axis 0: its rank, its kernel
            n = q.shape[0]
            q, k, v = (t.flatten(0, 1) for t in (q, k, v))
            out = F.scaled_dot_product_attention(q, k, v, is_causal=self.is_causal)
            return out.unflatten(0, (n, -1))
        return F.scaled_dot_product_attention(q, k, v, is_causal=self.is_causal)


class Div(nn.Module):
    """``a / b`` of two tensors (broadcasting)."""

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return _const(a, b) / _const(b, a)


class Pow(nn.Module):
    """``x ** exponent``."""

    def __init__(self, exponent: float) -> None:
        super().__init__()
        self.exponent = exponent

    def forward(self, x: Tensor) -> Tensor:
        return x**self.exponent


class ChannelScale(nn.Module):
    """A learned scale per channel, ``x * <param>``, the parameter named ``param`` (timm's
    ``LayerScale`` calls it ``gamma``) of shape ``(C,)`` (``channels_last``: the last axis,
    any rank) or ``(C, 1, 1)`` (the channels of a ``(N, C, H, W)`` map)."""

    def __init__(
        self,
        channels: int,
        channels_last: bool,
        param: str,
        init: float = 1e-6,
        patched: bool = False,
    ) -> None:
        super().__init__()
        shape = (channels,) if channels_last else (channels, 1, 1)
        self.param_name = param
        self.channels_last = channels_last
        self.patched = patched  # x.mul(w) with w of x's rank (timm's ConvNeXt), not x * w
        self.register_parameter(param, nn.Parameter(torch.full(shape, init)))

    def forward(self, x: Tensor) -> Tensor:
        w = getattr(self, self.param_name)
        if not self.patched:
            return x * w
        lead = (1,) * (x.dim() - (1 if self.channels_last else 3))
        return x.mul(w.reshape(*lead, *w.shape))


class Shift(nn.Module):
    """``x + value``, or ``value - x`` with ``negate``; ``patched``: as ``x.add(value)``."""

    def __init__(self, value: float, negate: bool = False, patched: bool = False) -> None:
        super().__init__()
        self.value, self.negate, self.patched = value, negate, patched

    def forward(self, x: Tensor) -> Tensor:
        if self.negate:
            return self.value - x
        return x.add(self.value) if self.patched else x + self.value


class MaskedScaledDotProductAttention(nn.Module):
    """``F.scaled_dot_product_attention(q, k, v, attn_mask=mask)``; ``mask_grad``: the mask
    is used as it comes (it requires grad when computed from parameters), else detached."""

    is_causal = False

    def __init__(self, mask_grad: bool = True, folded: bool = False) -> None:
        super().__init__()
        self.mask_grad, self.folded = mask_grad, folded

    def forward(self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor) -> Tensor:
        mask = _const(mask, q)
        if not self.mask_grad:
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask.detach())
        # a mask that requires grad runs CPU's math path; so does this build under no_grad
        from torch.nn.attention import SDPBackend, sdpa_kernel

        with sdpa_kernel(SDPBackend.MATH):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


class Unary(nn.Module):
    """``torch.<op>(x)`` (``exp``, ``log``, ``sqrt``, ``rsqrt``, ``sin``, ...)."""

    def __init__(self, op: str) -> None:
        super().__init__()
        self.op = op

    def forward(self, x: Tensor) -> Tensor:
        return getattr(torch, self.op)(x)


class Clamp(nn.Module):
    """``torch.clamp(x, min, max)``."""

    def __init__(
        self, min: float | None = None, max: float | None = None, tensor_bounds: int = 0
    ) -> None:
        super().__init__()
        self.min, self.max, self.tensor_bounds = min, max, tensor_bounds
        for i in range(tensor_bounds):  # 0-d buffers as bounds: -inf, then +inf
            self.register_buffer(f"bound{i}", torch.tensor(float("inf") * (2 * i - 1)))

    def forward(self, x: Tensor) -> Tensor:
        if self.tensor_bounds:
            bounds = [getattr(self, f"bound{i}") for i in range(self.tensor_bounds)]
            return torch.clamp(x, *bounds)
        return torch.clamp(x, self.min, self.max)


class LinearBiasInput(nn.Module):
    """``F.linear(x, self.weight, bias)`` with the bias a second input."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.normal_(self.weight, std=in_features**-0.5)

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        b = bias[0] if bias.dim() > 1 else bias  # a constant broadcast over the batch
        return F.linear(x, self.weight, b.reshape(-1))


class Binary(nn.Module):
    """``torch.add(a, b)`` or ``torch.mul(a, b)`` (the functions ptflops patches)."""

    def __init__(self, op: str) -> None:
        super().__init__()
        self.op = op
        self.patched = True  # (read back by the kind)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        a, b = _const(a, b), _const(b, a)
        return torch.add(a, b) if self.op == "add" else torch.mul(a, b)
